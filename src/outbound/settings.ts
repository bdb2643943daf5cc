/**
 * Settings of the `outbound` function: who may be called, from which caller
 * IDs, and how the call is handed to LiveKit.
 */
import { LIMITS } from '../config/rules';
import {
  finish,
  GREETING_VARIABLES,
  GreetingSettings,
  parseActionUrl,
  Read,
  readAgentNames,
  readGreeting,
  readRoomPrefix,
} from '../config/settings';
import type { DialPolicy } from '../phone/dial-policy';
import { EMPTY_DESTINATIONS, readDialPolicy } from '../phone/dial-settings';
import { Env, EnvReader, memoizedRead } from '../config/env-reader';
import { isE164 } from '../phone/address';
import { clean } from '../util/sanitize';

export type OutboundTwimlMode = 'url' | 'inline';

export interface OutboundSettings extends DialPolicy {
  /** Caller IDs a request may use; the first is the default. */
  callerIds: string[];
  twimlMode: OutboundTwimlMode;
  roomPrefix: string;
  agentNames: string[];
  /** Spoken to the callee before connecting, in inline mode. */
  greeting: GreetingSettings;
  connectActionUrl: string;
  /** Deadline for each Twilio REST request, in milliseconds. */
  twilioTimeoutMs: number;
  /** Point the call's status (and async AMD) callbacks at this service's `status` function. */
  statusCallbacks: boolean;
}

function readCallerIds(reader: EnvReader): string[] {
  const callerIds = reader.list('OUTBOUND_CALLER_IDS');
  if (callerIds.length === 0) reader.problem('OUTBOUND_CALLER_IDS', 'is required: the E.164 numbers outbound calls may come from');
  for (const id of callerIds)
    if (!isE164(id)) reader.problem('OUTBOUND_CALLER_IDS', `has "${clean(id, 20)}", which is not an E.164 number`);
  return callerIds;
}

export const readOutboundSettings = memoizedRead(
  [
    ...readDialPolicy.variables,
    'OUTBOUND_ROOM_PREFIX',
    'OUTBOUND_TWIML_MODE',
    'AGENT_NAMES',
    ...GREETING_VARIABLES,
    'OUTBOUND_GREETING',
    'OUTBOUND_CONNECT_ACTION_URL',
    'TWILIO_TIMEOUT_MS',
    'OUTBOUND_STATUS_CALLBACKS',
  ],
  (env: Env): Read<OutboundSettings> => {
    const reader = new EnvReader(env);
    const callerIds = readCallerIds(reader);
    const dial = readDialPolicy(env);
    if (!dial.ok) for (const problem of dial.problems) reader.problem(problem.variable, problem.message);
    const roomPrefix = readRoomPrefix(reader, 'OUTBOUND_ROOM_PREFIX', 'call-out-');

    const voice = readGreeting(reader);
    return finish(reader, {
      callerIds,
      ...(dial.ok ? dial.value : { destinations: EMPTY_DESTINATIONS, allowAddresses: false, sipDomains: [] }),
      twimlMode: reader.oneOf<OutboundTwimlMode>('OUTBOUND_TWIML_MODE', ['url', 'inline'], 'url'),
      roomPrefix,
      agentNames: readAgentNames(reader),
      greeting: { ...voice, text: clean(reader.text('OUTBOUND_GREETING'), LIMITS.speech) },
      connectActionUrl: parseActionUrl(reader, 'OUTBOUND_CONNECT_ACTION_URL'),
      twilioTimeoutMs: reader.integer('TWILIO_TIMEOUT_MS', 3500, 500, 4500),
      statusCallbacks: reader.flag('OUTBOUND_STATUS_CALLBACKS', true),
    });
  },
);
