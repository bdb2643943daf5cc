/**
 * The doctor's checks of the settings themselves, each read with the same
 * reader the functions use, so a PASS means the service reads it the same way.
 */
import { describeProblems, Env } from '../config/env-reader';
import { LIMITS } from '../config/rules';
import { parseRoutes, RouteTable } from '../config/routes';
import { readFallbackSettings, readInboundSettings, readLiveKitSettings, readSignatureSettings } from '../config/settings';
import { readOutboundSettings } from '../outbound/settings';
import { isE164 } from '../phone/address';
import { countryOf } from '../phone/destination';
import { tunnelOrigin } from '../twilio/public-url';
import { checkDialable } from '../phone/dial-policy';
import { readDialPolicy } from '../phone/dial-settings';
import { readTransferTargets } from '../config/transfer-targets';
import { hasUnsafeCharacters } from '../util/sanitize';
import { Check, fail, pass, text } from './check';
import { configSourceProblems } from './config-sources';
import type { Preflight } from './preflight';
import { recordingCheck, summaryCheck, voicemailAudioCheck } from './doctor-call-features';

function liveKitSettings(env: Env): Check {
  const liveKit = readLiveKitSettings(env);
  return liveKit.ok
    ? pass('LiveKit settings', `${liveKit.value.url}, key ${liveKit.value.apiKey}, ${liveKit.value.timeoutMs} ms deadline`)
    : fail('LiveKit settings', describeProblems(liveKit.problems));
}

function twilioCredentials(env: Env): Check {
  const accountSid = text(env, 'ACCOUNT_SID');
  const token = text(env, 'AUTH_TOKEN');
  return /^AC[0-9a-f]{32}$/.test(accountSid) && /^[0-9a-f]{32}$/.test(token)
    ? pass('Twilio credentials', `account ${accountSid}, auth token set`)
    : fail('Twilio credentials', 'ACCOUNT_SID must be AC followed by 32 hex digits and AUTH_TOKEN 32 hex digits');
}

function signatureChecking(env: Env): Check {
  const signature = readSignatureSettings(env);
  if (signature.ok && signature.value.required) return pass('Signature checking', 'incoming checks X-Twilio-Signature');
  return fail(
    'Signature checking',
    signature.ok
      ? 'TWILIO_SIGNATURE_VALIDATION is false: anyone who finds the URL can open LiveKit sessions'
      : describeProblems(signature.problems),
  );
}

function incomingSettings(env: Env): Check {
  const inbound = readInboundSettings(env);
  return inbound.ok
    ? pass(
        'Incoming settings',
        inbound.value.agentNames.length ? `agents: ${inbound.value.agentNames.join(', ')}` : 'no agent names: no explicit dispatch',
      )
    : fail('Incoming settings', describeProblems(inbound.problems));
}

function greetingAndFallback(env: Env): Check {
  const problems: string[] = [];
  for (const name of ['GREETING', 'FALLBACK_MESSAGE', 'OUTBOUND_GREETING']) {
    const value = text(env, name);
    if (hasUnsafeCharacters(value)) problems.push(`${name} has control characters`);
    if (value.length > LIMITS.speech) problems.push(`${name} is longer than ${LIMITS.speech} characters`);
  }
  const fallbackNumber = text(env, 'FALLBACK_NUMBER');
  if (fallbackNumber && !isE164(fallbackNumber)) problems.push('FALLBACK_NUMBER is not an E.164 number (it would be ignored)');
  if (problems.length) return fail('Greeting and fallback', problems.join('; '));
  const fallback = readFallbackSettings(env);
  return pass(
    'Greeting and fallback',
    `fallback: "${fallback.message}"${fallback.number ? `, then ${fallback.number}` : ', then hang up'}`,
  );
}

function outboundSettings(env: Env): Check {
  if (!text(env, 'OUTBOUND_CALLER_IDS')) return pass('Outbound settings', 'OUTBOUND_CALLER_IDS not set: outbound will refuse every call');
  const outbound = readOutboundSettings(env);
  if (!outbound.ok) return fail('Outbound settings', describeProblems(outbound.problems));
  const { callerIds, destinations } = outbound.value;
  const problems = callerIds
    .filter((id) => !countryOf(id))
    .map((id) => `OUTBOUND_CALLER_IDS has ${id}, which is a number in no country: use your Twilio number or a verified caller ID`);
  const allowed = [...destinations.countries, ...destinations.prefixes];
  if (allowed.length === 0) {
    problems.push(
      'outbound may call nowhere: set OUTBOUND_ALLOWED_DESTINATIONS (for example US), or use caller IDs in the countries you call',
    );
  }
  if (problems.length) return fail('Outbound settings', problems.join('; '));
  return pass('Outbound settings', `caller IDs ${callerIds.join(', ')}; destinations ${allowed.join(', ')}`);
}

/** PUBLIC_BASE_URL, when set: the tunnel a real phone reaches `npm start` through. */
function localTunnel(env: Env): Check | undefined {
  const value = text(env, 'PUBLIC_BASE_URL');
  if (!value) return undefined;
  const origin = tunnelOrigin(value);
  return origin
    ? pass('Local tunnel', `signatures are checked against ${origin} when running locally (deployed, it is ignored)`)
    : fail(
        'Local tunnel',
        'PUBLIC_BASE_URL must be the https:// origin of your tunnel, with no path, such as https://abc123.ngrok-free.app',
      );
}

/** Every transfer target, in the environment and in the routes, as the dial policy will judge it when an agent uses it. */
function transferTargets(env: Env, routes: RouteTable | undefined): Check {
  const targets = readTransferTargets(env);
  if (!targets.ok) return fail('Transfer targets', describeProblems(targets.problems));
  const all = [
    ...Object.entries(targets.value).map(([name, address]) => ({ name, address, where: 'TRANSFER_TARGETS' })),
    ...(routes?.routes ?? []).flatMap((r) =>
      Object.entries(r.transferTargets ?? {}).map(([name, address]) => ({ name, address, where: `route ${r.name}` })),
    ),
  ];
  if (all.length === 0) return pass('Transfer targets', 'none: agents can hang up and return calls to Studio, not transfer');
  const policy = readDialPolicy(env);
  if (!policy.ok) return fail('Transfer targets', describeProblems(policy.problems));
  const refused = all
    .map((t) => ({ ...t, verdict: checkDialable(t.address, policy.value, `${t.where} ${t.name}`) }))
    .filter((t) => !t.verdict.ok)
    .map((t) => (t.verdict.ok ? '' : t.verdict.message));
  if (refused.length) return fail('Transfer targets', refused.join('; '));
  return pass('Transfer targets', all.map((t) => `${t.name} (${t.where})`).join(', '));
}

function routesFile(routesText: string | undefined): { check: Check; routes?: RouteTable } {
  if (routesText === undefined) return { check: pass('Routes', 'no routes file: every number takes the default route') };
  try {
    const routes = parseRoutes(routesText);
    return { check: pass('Routes', `${routes.routes.length} routes: ${routes.routes.map((r) => r.name).join(', ')}`), routes };
  } catch (error) {
    return { check: fail('Routes', error instanceof Error ? error.message : 'routes file could not be parsed') };
  }
}

function deployPreflight(deploy: Preflight): Check {
  const { problems, context, variables } = deploy;
  if (problems.length) return fail('Deploy preflight', problems.join('; '));
  return pass(
    'Deploy preflight',
    `${Object.keys(variables).length} variables; context ${context.bytes} of ${context.limit} bytes (${context.limit - context.bytes} free)`,
  );
}

/**
 * A settings file the deploy tools read before `.twilioserverlessrc.js`
 * (./config-sources): shown only when there is one, since then no deploy
 * runs the build or the preflight that the other checks stand for.
 */
function deployConfigSources(deploy: Preflight | undefined): Check | undefined {
  const problems = deploy?.configSources ? configSourceProblems(deploy.configSources) : [];
  return problems.length ? fail('Deploy settings file', problems.join('; ')) : undefined;
}

export function settingsChecks(
  env: Env,
  routesText: string | undefined,
  deploy: Preflight | undefined,
  assetNames?: readonly string[],
): { checks: Check[]; routes?: RouteTable } {
  const routes = routesFile(routesText);
  const checks = [
    liveKitSettings(env),
    twilioCredentials(env),
    signatureChecking(env),
    incomingSettings(env),
    greetingAndFallback(env),
    outboundSettings(env),
    routes.check,
    transferTargets(env, routes.routes),
    recordingCheck(env, routes.routes),
    summaryCheck(env, routes.routes),
  ];
  const audio = voicemailAudioCheck(env, assetNames);
  if (audio) checks.push(audio);
  const tunnel = localTunnel(env);
  if (tunnel) checks.push(tunnel);
  if (deploy) checks.push(deployPreflight(deploy));
  const sources = deployConfigSources(deploy);
  if (sources) checks.push(sources);
  return { checks, routes: routes.routes };
}
