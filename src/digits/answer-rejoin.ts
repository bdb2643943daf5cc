/**
 * `/rejoin`: Twilio comes back here once the keys press-keys asked for are
 * played. The call's stream is opened again into the same room, as the same
 * participant, with the same attributes (its binding too, so the agent can
 * still control the call), read from the journal where press-keys kept
 * them. The session is opened the way `incoming` opens one, INBOUND, whose
 * participant joins when Twilio's stream starts: by then the old one has
 * left with the old stream, so nobody is evicted. Whatever fails, the caller
 * hears the route's fallback instead of Twilio's application error.
 */
import type { Env } from '../config/env-reader';
import { LiveKitSettings, readFallbackSettings, readLiveKitSettings } from '../config/settings';
import { fallbackForRoute } from '../config/route-settings';
import { DEFAULT_ROUTE } from '../config/route';
import { LoadedRoutes, routeNamed } from '../config/routes';
import { callJournal, JournalFor } from '../journal/call-journal';
import { ConnectTwilioCall, LiveKitError } from '../livekit/connector';
import { HttpReply, xmlReply } from '../twilio/reply';
import { checkLocalSignature, localAuthProblems } from '../twilio/request-auth';
import { connectTwiml, fallbackTwiml } from '../twilio/twiml';
import type { LogFields } from '../util/log';
import { clean } from '../util/sanitize';
import { openStash, REJOIN_QUERY, RejoinStash } from './rejoin-stash';
import { flowReturnUrl, returnWith } from '../twilio/studio';
import { redirectTwiml } from '../twilio/twiml';
import { serviceFacts } from '../twilio/service';

export interface RejoinDependencies {
  connector: (settings: LiveKitSettings) => ConnectTwilioCall;
  journal: JournalFor;
  log: (fields: LogFields, level: 'info' | 'error') => void;
  routes: () => LoadedRoutes;
}

const SID = /^CA[0-9a-f]{32}$/;
const STASH_KEY = /^rejoin-(\d{1,15})$/;
const JOURNAL_MS = 2000;

export async function answerRejoin(env: Env, event: Record<string, unknown>, deps: RejoinDependencies): Promise<HttpReply> {
  const started = Date.now();
  const callSid = clean(event.CallSid, 64);
  const room = clean(event.room, 128);
  const identity = clean(event.identity, 128);
  const key = clean(event.stash, 32);
  const line: LogFields = { fn: 'rejoin', callSid, room };
  let route = DEFAULT_ROUTE;
  const known: { stash?: RejoinStash } = {};
  const finish = (reply: HttpReply, fields: LogFields, level: 'info' | 'error' = 'info'): HttpReply => {
    deps.log({ ...line, ...fields, ms: Date.now() - started }, level);
    return reply;
  };
  // As incoming does: a call a Studio flow sent here goes back to it with the reason, any other hears the fallback.
  const fallback = (outcome: string, reason: string) => {
    const flowSid = known.stash?.attributes['twilio.flowSid'];
    const accountSid = known.stash?.attributes['twilio.accountSid'];
    const twiml =
      flowSid && accountSid
        ? redirectTwiml(returnWith(flowReturnUrl(accountSid, flowSid), 'unavailable', 'rejoin'))
        : fallbackTwiml(fallbackForRoute(readFallbackSettings(env), route));
    return finish(xmlReply(twiml), { outcome, reason }, 'error');
  };

  const liveKit = readLiveKitSettings(env);
  if (localAuthProblems(env).length || !liveKit.ok) return fallback('error', 'configuration: LiveKit settings or AUTH_TOKEN');
  const refused = checkLocalSignature(env, event, REJOIN_QUERY);
  if (refused) return finish(refused.reply, { outcome: 'rejected', reason: refused.reason }, 'error');
  const stashed = STASH_KEY.exec(key);
  if (!SID.test(callSid) || !room || !identity || !stashed) return fallback('ignored', 'not a rejoin this service asked for');
  // From the keys' update to now: the gap the agent sees, less the stream's own start.
  line.sinceMs = started - Number(stashed[1]);

  const found = await callJournal(deps.journal, callSid).get(key, JOURNAL_MS);
  if (found === 'failed') return fallback('sync-failed', 'the call journal could not be read');
  if (found === 'none') return fallback('no-stash', 'nothing kept for this rejoin');
  const opened = openStash(serviceFacts(env).authToken, found.data);
  if (!opened) return fallback('unsealed', 'what the journal holds is not sealed by this service');
  // The URL (signed by Twilio) and the journal (sealed by press-keys) must tell of the same call.
  if (opened.room !== room || opened.identity !== identity || opened.attributes['twilio.callSid'] !== callSid)
    return fallback('mismatch', 'the journal does not hold this call');
  known.stash = opened;
  route = routeNamed(deps.routes(), opened.attributes['twilio.route']) ?? DEFAULT_ROUTE;

  try {
    const streamUrl = await deps.connector(liveKit.value)({
      direction: 'inbound',
      roomName: room,
      participantIdentity: identity,
      participantName: opened.name,
      participantMetadata: opened.metadata,
      participantAttributes: opened.attributes,
      // The room has its agent: dispatch is at a room's creation, not per join.
      agents: [],
      destinationCountry: '',
    });
    return finish(xmlReply(connectTwiml({ streamUrl, ...(opened.action ? { actionUrl: opened.action } : {}) })), { outcome: 'connected' });
  } catch (error) {
    const reason = error instanceof LiveKitError ? `livekit ${error.kind}: ${error.message}` : 'internal error';
    return fallback('fallback', reason);
  }
}
