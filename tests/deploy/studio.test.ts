/**
 * `npm run studio`: the flows in studio/*.json created, then updated, through
 * the real twilio client against loopback Studio v2 and Serverless APIs, with
 * the deployed service's domain and SIDs filled in and Studio's validation
 * first. The Studio stand-in cannot know Studio's widget rules, so the
 * widgets it received are checked here against Twilio's documented fields.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { functionPaths } from '../../src/deploy/deploy-target';
import {
  DOMAIN_PLACEHOLDER,
  FlowDefinition,
  FlowFile,
  FlowRefusedError,
  formatStudioRun,
  readFlowFiles,
  runStudio,
  StudioApi,
} from '../../src/deploy/studio-flows';
import { findDeployedService, NotDeployedError } from '../../src/deploy/studio-service';
import { ACCOUNT_SID, AUTH_TOKEN } from '../support/runtime';
import { SERVERLESS_HOSTS, ServerlessStandIn } from '../support/serverless-stand-in';
import { hostRewritingHttpClient, relayProxy, STUDIO_HOST, StudioStandIn } from '../support/studio-stand-in';
import { ROOT } from '../support/twilio-run';
import { envText } from '../support/project-copy';
import { useStandIn } from '../support/stand-ins';

const serverless = useStandIn(new ServerlessStandIn(ACCOUNT_SID, AUTH_TOKEN));
const studio = useStandIn(new StudioStandIn(ACCOUNT_SID, AUTH_TOKEN), { tls: true });

const SERVICE = JSON.parse(readFileSync(path.join(ROOT, '.twilioserviceconfig'), 'utf8')).serviceName as string;
const FILES = readFlowFiles(path.join(ROOT, 'studio'), 'studio');
/** The paths a deploy of the current sources makes. */
const PATHS = functionPaths(path.join(ROOT, 'src', 'functions'));

function twilioClient(token = AUTH_TOKEN) {
  const httpClient = hostRewritingHttpClient({
    [STUDIO_HOST]: studio.origin,
    [SERVERLESS_HOSTS[0]]: serverless.origin,
  });
  return twilio(ACCOUNT_SID, token, { httpClient });
}
const api = (token = AUTH_TOKEN) => twilioClient(token) as unknown as StudioApi;

/** The service as `npm run deploy` leaves it: an environment with a live build and a Function per path. */
async function deployService(options: { suffix?: string; paths?: string[]; live?: boolean; uniqueName?: string } = {}) {
  const { suffix = 'dev', paths = PATHS, live = true, uniqueName = SERVICE } = options;
  const client = twilioClient().serverless.v1;
  const existing = serverless.service(uniqueName);
  const service = existing ? { sid: existing.sid } : await client.services.create({ uniqueName, friendlyName: uniqueName });
  const environment = await client.services(service.sid).environments.create({
    uniqueName: suffix ? `${suffix}-environment` : 'production',
    ...(suffix ? { domainSuffix: suffix } : {}),
  });
  const functions: Record<string, string> = {};
  for (const p of paths) functions[p] = (await client.services(service.sid).functions.create({ friendlyName: p })).sid;
  if (live) {
    // The deployment itself needs uploads the helper library does not make: put it in place.
    const stored = serverless.service(uniqueName)!;
    const build = { sid: 'ZB' + 'b'.repeat(32), dependencies: [], runtime: 'node22', functionVersions: [], assetVersions: [] };
    stored.builds.push(build);
    stored.environments.find((e) => e.sid === environment.sid)!.deployments.push({ sid: 'ZD' + 'd'.repeat(32), build: build.sid });
  }
  serverless.requests.length = 0;
  return { serviceSid: service.sid, environmentSid: environment.sid, domain: environment.domainName, functions };
}

const target = { service: SERVICE, environment: 'dev' };
const byFile = (file: string) => FILES.find((f) => f.file === file)!;
const definitionOf = (sid: string) => studio.flows.find((f) => f.sid === sid)!.definition as FlowDefinition;
const stateOf = (definition: FlowDefinition, name: string) => definition.states.find((s) => s.name === name)!;

describe('npm run studio: create, then update', () => {
  test('creates both flows with the deployed domain and SIDs filled in, everything else as in the files', async () => {
    const deployed = await deployService();
    const run = await runStudio(api(), target, FILES);

    expect(run.results.map((r) => [r.file, r.action, r.friendlyName])).toEqual([
      ['studio/inbound-to-livekit.json', 'created', `inbound-to-livekit (${SERVICE}, dev)`],
      ['studio/outbound-via-rest.json', 'created', `outbound-via-rest (${SERVICE}, dev)`],
    ]);
    expect(studio.flows).toHaveLength(2);
    const [inbound, outbound] = run.results.map((r) => definitionOf(r.sid));

    expect(stateOf(inbound!, 'connect_to_agent').properties.url).toBe(`https://${deployed.domain}/incoming?FlowSid={{flow.flow_sid}}`);
    expect(stateOf(outbound!, 'place_call').properties).toMatchObject({
      service_sid: deployed.serviceSid,
      environment_sid: deployed.environmentSid,
      function_sid: deployed.functions['/outbound'],
      url: `https://${deployed.domain}/outbound`,
    });
    // Nothing else changed: the file with those values put back, the hand-import sentence aside.
    for (const [result, sent] of [run.results[0]!, run.results[1]!].map((r) => [r, definitionOf(r.sid)] as const)) {
      const expected = structuredClone(byFile(result.file).definition);
      for (const state of expected.states) {
        const got = stateOf(sent, state.name).properties;
        for (const key of ['url', 'service_sid', 'environment_sid', 'function_sid'])
          if (key in state.properties) state.properties[key] = got[key];
      }
      expected.description = sent.description;
      expect(sent).toEqual(expected);
      expect(sent.description).not.toContain(DOMAIN_PLACEHOLDER);
      expect(sent.description?.length).toBeGreaterThan(20);
    }
    expect(studio.flows.every((f) => f.status === 'published' && f.revision === 1)).toBe(true);
    expect(studio.flows[0]!.commitMessage).toBe(`npm run studio: ${SERVICE} dev at ${deployed.domain}`);
  });

  test('a second run updates the same two flows (no third), and a redeploy elsewhere reaches them', async () => {
    await deployService();
    const first = await runStudio(api(), target, FILES);
    studio.requests.length = 0;

    const second = await runStudio(api(), target, FILES);
    expect(second.results.map((r) => r.action)).toEqual(['updated', 'updated']);
    expect(second.results.map((r) => r.sid)).toEqual(first.results.map((r) => r.sid));
    expect(studio.flows).toHaveLength(2);
    expect(studio.flows.map((f) => f.revision)).toEqual([2, 2]);
    expect(studio.posts()).toEqual([
      'POST /v2/Flows/Validate',
      'POST /v2/Flows/Validate',
      `POST /v2/Flows/${first.results[0]!.sid}`,
      `POST /v2/Flows/${first.results[1]!.sid}`,
    ]);

    // The service deleted and deployed afresh: new SIDs and domain, the same flows updated.
    serverless.reset();
    const again = await deployService();
    const third = await runStudio(api(), target, FILES);
    expect(third.results.map((r) => r.sid)).toEqual(first.results.map((r) => r.sid));
    expect(stateOf(definitionOf(third.results[1]!.sid), 'place_call').properties).toMatchObject({
      service_sid: again.serviceSid,
      function_sid: again.functions['/outbound'],
    });
  });

  test('finds its flow past the first page of the list, and leaves flows of other names alone', async () => {
    await deployService();
    for (let i = 0; i < 60; i++) studio.seedFlow(`someone else's flow ${i}`);
    const mine = studio.seedFlow(`outbound-via-rest (${SERVICE}, dev)`);
    await runStudio(api(), target, FILES);

    expect(studio.requests.filter((r) => r.method === 'GET').map((r) => r.params.Page ?? '0')).toEqual(['0', '1']);
    expect(mine.revision).toBe(2);
    expect(studio.flows).toHaveLength(62);
    expect(studio.flows.filter((f) => f.revision > 1).map((f) => f.friendlyName)).toEqual([mine.friendlyName]);
  });

  test('flows per environment: production gets its own two, named for it', async () => {
    await deployService();
    const prod = await deployService({ suffix: '' });
    await runStudio(api(), target, FILES);
    const run = await runStudio(api(), { service: SERVICE, environment: '' }, FILES);
    expect(studio.flows).toHaveLength(4);
    expect(run.results.map((r) => r.friendlyName)).toEqual([
      `inbound-to-livekit (${SERVICE}, production)`,
      `outbound-via-rest (${SERVICE}, production)`,
    ]);
    expect(stateOf(definitionOf(run.results[1]!.sid), 'place_call').properties.environment_sid).toBe(prod.environmentSid);
  });

  test('--draft creates the flows as drafts', async () => {
    await deployService();
    await runStudio(api(), target, FILES, { status: 'draft' });
    expect(studio.flows.map((f) => f.status)).toEqual(['draft', 'draft']);
  });
});

describe('npm run studio: Studio validates first', () => {
  test('every flow is validated, with what create will send, before anything is created', async () => {
    await deployService();
    await runStudio(api(), target, FILES);
    expect(studio.posts()).toEqual(['POST /v2/Flows/Validate', 'POST /v2/Flows/Validate', 'POST /v2/Flows', 'POST /v2/Flows']);
    const validated = studio.requests.filter((r) => r.path === '/v2/Flows/Validate').map((r) => r.params);
    const created = studio.requests.filter((r) => r.method === 'POST' && r.path === '/v2/Flows').map((r) => r.params);
    expect(validated).toEqual(created);
    expect(Object.keys(created[0]!).sort()).toEqual(['CommitMessage', 'Definition', 'FriendlyName', 'Status']);
  });

  test('a refusal stops it: nothing created or updated, and the error names the file, where, and what Studio said', async () => {
    await deployService();
    const existing = studio.seedFlow(`inbound-to-livekit (${SERVICE}, dev)`);
    studio.definitionErrors = [
      { message: 'function_sid is not a Function of service_sid', property_path: '#/states/1/properties/function_sid' },
    ];

    const error = await runStudio(api(), target, FILES).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      'Studio refused studio/inbound-to-livekit.json (400 81022): Flow definition validation failed\n' +
        '  #/states/1/properties/function_sid: function_sid is not a Function of service_sid',
    );
    expect(studio.posts()).toEqual(['POST /v2/Flows/Validate']);
    expect(existing.revision).toBe(1);
    expect(studio.flows).toHaveLength(1);
  });

  test('the second flow refused: the first is not written either', async () => {
    await deployService();
    const broken: FlowFile = structuredClone(byFile('studio/outbound-via-rest.json'));
    broken.definition.states[2]!.transitions[0]!.next = 'no_such_widget';
    const error = await runStudio(api(), target, [byFile('studio/inbound-to-livekit.json'), broken]).catch((e: Error) => e);
    expect((error as Error).message).toContain('Studio refused studio/outbound-via-rest.json (400 81022)');
    expect((error as Error).message).toContain('#/states/2/transitions/0/next: transition to no_such_widget, which is not a widget');
    expect(studio.posts()).toEqual(['POST /v2/Flows/Validate', 'POST /v2/Flows/Validate']);
    expect(studio.flows).toHaveLength(0);
  });

  test('Studio out of reach: the network error is passed on as it is, for the command line to name', async () => {
    await deployService();
    const httpClient = hostRewritingHttpClient({ [STUDIO_HOST]: 'http://127.0.0.1:1', [SERVERLESS_HOSTS[0]]: serverless.origin });
    const unreachable = twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient }) as unknown as StudioApi;
    const error = await runStudio(unreachable, target, FILES).catch((e: Error) => e);
    expect(error).not.toBeInstanceOf(FlowRefusedError);
    expect((error as { code?: string }).code).toBe('ECONNREFUSED');
  });

  test('wrong credentials: one line saying so, nothing sent to Studio', async () => {
    const error = await runStudio(api('0'.repeat(32)), target, FILES).catch((e: Error) => e);
    expect((error as Error).message).toBe('Twilio refused ACCOUNT_SID and AUTH_TOKEN (20003): check them in .env');
    expect(studio.requests).toHaveLength(0);
  });
});

/**
 * Twilio's documented widget fields. The widget pages give each field's
 * meaning, requirement and range; the JSON names are those of Studio's widget
 * schemas (https://www.twilio.com/docs/studio/rest-api/v2/schemas), as flows
 * exported from Studio carry them and as zingdevlimited/studio-flow-actions
 * (src/lib/helpers/studio-schemas.ts) validates a Run Function widget before
 * deploying it; `offset` (the widget's place on the canvas) is in every
 * sample of https://www.twilio.com/docs/studio/rest-api/v2/flow-definition.
 */
const DOCUMENTED: Record<
  string,
  { source: string; required: string[]; fields: Record<string, (v: unknown) => boolean>; events: string[] }
> = {
  // https://www.twilio.com/docs/studio/widget-library/run-function: "The Run Function widget only
  // requires one piece of information ...: the URL of the Function"; the Service and the Environment
  // the Function is in, then the Function; optional "Function Parameters ... key/value pairs";
  // transitions Success ("A successful return (HTTP 20X)") and Fail.
  'run-function': {
    source: 'https://www.twilio.com/docs/studio/widget-library/run-function',
    required: ['url'],
    fields: {
      url: (v) => typeof v === 'string' && /^https:\/\//.test(v),
      service_sid: (v) => typeof v === 'string' && /^ZS[0-9a-f]{32}$/.test(v),
      environment_sid: (v) => typeof v === 'string' && /^ZE[0-9a-f]{32}$/.test(v),
      function_sid: (v) => typeof v === 'string' && /^ZH[0-9a-f]{32}$/.test(v),
      parameters: (v) =>
        Array.isArray(v) && v.every((p) => typeof p?.key === 'string' && typeof p?.value === 'string' && Object.keys(p).length === 2),
      offset: (v) => typeof (v as { x?: unknown })?.x === 'number' && typeof (v as { y?: unknown })?.y === 'number',
    },
    events: ['success', 'fail'],
  },
  // https://www.twilio.com/docs/studio/widget-library/twiml-redirect: required URL ("URL where the
  // call or message will be redirected"); optional Method ("HTTP method to be used in the redirect",
  // default POST; <Redirect> takes GET or POST) and Timeout ("Possible values in seconds: 0 to 14400",
  // default 14400); transitions Return (return), Timeout (timeout) and Fail ("handlers for return,
  // timed, and failed").
  'add-twiml-redirect': {
    source: 'https://www.twilio.com/docs/studio/widget-library/twiml-redirect',
    required: ['url'],
    fields: {
      url: (v) => typeof v === 'string' && /^https:\/\//.test(v),
      method: (v) => v === 'GET' || v === 'POST',
      timeout: (v) => (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) && Number(v) >= 0 && Number(v) <= 14400,
      offset: (v) => typeof (v as { x?: unknown })?.x === 'number' && typeof (v as { y?: unknown })?.y === 'number',
    },
    events: ['return', 'timeout', 'fail'],
  },
};

/** What is wrong with a widget by its documented fields; [] when nothing. */
function undocumented(state: FlowDefinition['states'][number]): string[] {
  const doc = DOCUMENTED[state.type]!;
  const problems: string[] = [];
  for (const key of doc.required) if (!(key in state.properties)) problems.push(`${state.name}: no ${key} (${doc.source})`);
  for (const [key, value] of Object.entries(state.properties)) {
    const check = doc.fields[key];
    if (!check) problems.push(`${state.name}: ${key} is not a documented field (${doc.source})`);
    else if (!check(value)) problems.push(`${state.name}: ${key} = ${JSON.stringify(value)} is not what ${doc.source} allows`);
  }
  for (const t of state.transitions) if (!doc.events.includes(t.event)) problems.push(`${state.name}: event ${t.event} (${doc.source})`);
  return problems;
}

describe("npm run studio: the widgets against Twilio's documented fields", () => {
  test('the Run Function and TwiML Redirect widgets Studio received have only documented fields, with documented values', async () => {
    const deployed = await deployService();
    await runStudio(api(), target, FILES);
    const sent = studio.requests.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.params.Definition!) as FlowDefinition);
    expect(sent).toHaveLength(4);
    const widgets = sent.flatMap((d) => d.states).filter((s) => s.type in DOCUMENTED);
    expect(widgets.map((w) => w.type).sort()).toEqual(['add-twiml-redirect', 'add-twiml-redirect', 'run-function', 'run-function']);
    expect(widgets.flatMap(undocumented)).toEqual([]);
    for (const w of widgets) expect(new URL(w.properties.url as string).host).toBe(deployed.domain);
  });

  test('the check itself catches a field the documentation does not have, and an out-of-range timeout', () => {
    const redirect = structuredClone(stateOf(byFile('studio/inbound-to-livekit.json').definition, 'connect_to_agent'));
    redirect.properties.timeout = '14401';
    redirect.properties.function_sid = 'ZH' + '0'.repeat(32);
    expect(undocumented(redirect)).toEqual([
      `connect_to_agent: timeout = "14401" is not what ${DOCUMENTED['add-twiml-redirect']!.source} allows`,
      `connect_to_agent: function_sid is not a documented field (${DOCUMENTED['add-twiml-redirect']!.source})`,
    ]);
  });

  test('the files stay importable by hand: placeholders kept, untouched by a run', async () => {
    const before = JSON.stringify(FILES);
    await deployService();
    await runStudio(api(), target, FILES);
    expect(JSON.stringify(FILES)).toBe(before);
    const outbound = readFileSync(path.join(ROOT, 'studio', 'outbound-via-rest.json'), 'utf8');
    expect(outbound).toContain(`https://${DOMAIN_PLACEHOLDER}/outbound`);
    expect(outbound).toMatch(/"service_sid": "ZSx{32}"/);
    expect(readFileSync(path.join(ROOT, 'studio', 'inbound-to-livekit.json'), 'utf8')).toContain(`https://${DOMAIN_PLACEHOLDER}/incoming`);
  });
});

describe('npm run studio: --dry-run', () => {
  test('sends nothing: reads only, and prints the forms it would post', async () => {
    const deployed = await deployService();
    const existing = studio.seedFlow(`outbound-via-rest (${SERVICE}, dev)`);
    const run = await runStudio(api(), target, FILES, { dryRun: true });

    expect(studio.posts()).toEqual([]);
    expect(serverless.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(existing.revision).toBe(1);
    expect(studio.flows).toHaveLength(1);
    const text = formatStudioRun(run, { dryRun: true });
    expect(text).toContain('studio/inbound-to-livekit.json: would POST /v2/Flows/Validate, then POST /v2/Flows (create) with');
    expect(text).toContain(`studio/outbound-via-rest.json: would POST /v2/Flows/Validate, then POST /v2/Flows/${existing.sid} (update`);
    expect(text).toContain(`"url": "https://${deployed.domain}/outbound"`);
    expect(text).toContain(`"function_sid": "${deployed.functions['/outbound']}"`);
    expect(text).toMatch(/dry run: nothing was sent$/);
  });
});

describe('npm run studio: not deployed yet', () => {
  test.each([
    ['no service', async () => undefined, `no Functions service "${SERVICE}" on this account: deploy it first with npm run deploy`],
    [
      'no dev environment',
      () => deployService({ suffix: 'stage' }),
      `service ${SERVICE} has no "dev" environment (it has: stage): deploy to it first with npm run deploy`,
    ],
    [
      'an environment with nothing deployed',
      () => deployService({ live: false }),
      `the dev environment of ${SERVICE} has nothing deployed yet: run npm run deploy first`,
    ],
    [
      'no /outbound function',
      () => deployService({ paths: PATHS.filter((p) => p !== '/outbound') }),
      `studio/outbound-via-rest.json: widget place_call calls /outbound, which service ${SERVICE} does not have: deploy the current build first with npm run deploy`,
    ],
  ])('%s: an error naming the next step, and nothing sent to Studio', async (_, setup, message) => {
    await setup();
    const error = await runStudio(api(), target, FILES).catch((e: Error) => e);
    expect(error).toBeInstanceOf(NotDeployedError);
    expect((error as Error).message).toContain(message);
    expect(studio.posts()).toEqual([]);
  });

  test('production and other environments name their own deploy command', async () => {
    await deployService();
    await expect(findDeployedService(api(), { service: SERVICE, environment: '' })).rejects.toThrow(
      `service ${SERVICE} has no "production" environment (it has: dev): deploy to it first with npm run deploy -- --production`,
    );
    await expect(findDeployedService(api(), { service: SERVICE, environment: 'stage' })).rejects.toThrow(
      'deploy to it first with npm run deploy -- --environment stage',
    );
  });

  test('two flows already share the name: it says which, and writes nothing', async () => {
    await deployService();
    const a = studio.seedFlow(`inbound-to-livekit (${SERVICE}, dev)`);
    const b = studio.seedFlow(`inbound-to-livekit (${SERVICE}, dev)`);
    await expect(runStudio(api(), target, FILES)).rejects.toThrow(
      `2 flows are named "inbound-to-livekit (${SERVICE}, dev)" (${a.sid}, ${b.sid})`,
    );
    expect(studio.posts()).toEqual([]);
  });
});

describe('npm run studio: the command', () => {
  let relay: Awaited<ReturnType<typeof relayProxy>>;
  beforeAll(async () => {
    relay = await relayProxy({
      [STUDIO_HOST]: { port: studio.port, caFile: studio.proxyEnv().NODE_EXTRA_CA_CERTS! },
      [SERVERLESS_HOSTS[0]]: { port: serverless.port, caFile: serverless.proxyEnv().NODE_EXTRA_CA_CERTS! },
    });
  });
  afterAll(() => relay.stop());

  const run = (env: Record<string, string> | undefined, args: string[] = []) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'studio-env-'));
    const file = path.join(dir, '.env');
    if (env) writeFileSync(file, envText(env));
    const argv = [path.join(ROOT, 'scripts', 'run-ts.mjs'), 'src/deploy/studio-cli.ts', '--env', file, ...args];
    return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...relay.env } }, (error, stdout, stderr) => {
        resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  };
  const env = { ACCOUNT_SID, AUTH_TOKEN, OUTBOUND_CALLER_IDS: '+14155550100,+14155550101' };

  test('prints each flow SID and the command that binds a number to the inbound flow; a second run updates', async () => {
    await deployService();
    const first = await run(env);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const inbound = studio.flows.find((f) => f.friendlyName.startsWith('inbound'))!;
    const outbound = studio.flows.find((f) => f.friendlyName.startsWith('outbound'))!;
    expect(first.stdout).toContain(`created ${inbound.sid}  "inbound-to-livekit (${SERVICE}, dev)" revision 1 (published)`);
    expect(first.stdout).toContain(`created ${outbound.sid}  "outbound-via-rest (${SERVICE}, dev)" revision 1 (published)`);
    expect(first.stdout).toContain(`npm run bind -- --flow ${inbound.sid} --number +14155550100`);
    expect(first.stdout).toContain(`--flow-sid ${outbound.sid}`);

    const second = await run(env, ['--number', '+14155550199']);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain(`updated ${inbound.sid}`);
    expect(second.stdout).toContain(`npm run bind -- --flow ${inbound.sid} --number +14155550199`);
    expect(studio.flows).toHaveLength(2);
  });

  test('--dry-run posts nothing; a missing .env is a usage error; not deployed exits 1 with one line', async () => {
    await deployService();
    const dry = await run(env, ['--dry-run']);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('dry run: nothing was sent');
    expect(studio.posts()).toEqual([]);

    const noEnv = await run(undefined);
    expect(noEnv.status).toBe(2);
    expect(noEnv.stderr).toContain('not found (copy .env.example to .env, or pass --env FILE)');
    expect(noEnv.stderr).toContain('usage: npm run studio');

    const notDeployed = await run(env, ['--environment', 'stage']);
    expect(notDeployed.status).toBe(1);
    expect(notDeployed.stderr.trim()).toBe(
      `service ${SERVICE} has no "stage" environment (it has: dev): deploy to it first with npm run deploy -- --environment stage, or pass --environment SUFFIX (--production for none)`,
    );
  });
});
