/**
 * What LiveKit is asked for when a call comes in: the room, who the caller
 * is in it, what the agent is told. Pure: Twilio's webhook parameters and the
 * settings in, a ConnectTwilioCall request out.
 */
import { randomUUID } from 'node:crypto';
import { LIMITS } from '../config/rules';
import { compactAttributes } from '../livekit/attributes';
import type { ConnectRequest } from '../livekit/connector';
import { addressKind } from '../phone/address';
import type { RoutedInbound } from '../config/route-settings';
import { clean } from '../util/sanitize';

/** The voice webhook parameters this service reads, cleaned. */
export interface InboundCall {
  callSid: string;
  accountSid: string;
  from: string;
  to: string;
  callerName: string;
  fromCountry: string;
  toCountry: string;
  /**
   * Twilio's token for forwarding this call with the caller's own number
   * (calls.create CallToken): kept on the participant for a warm transfer
   * that shows the person who is calling.
   */
  callToken: string;
}

const SID = /^CA[0-9a-f]{32}$/i;

function param(params: Record<string, unknown>, name: string, max: number = LIMITS.attribute): string {
  return clean(params[name], max);
}

export function readInboundCall(params: Record<string, unknown>): InboundCall {
  const callSid = param(params, 'CallSid', 64);
  return {
    // A CallSid is the room's name: anything but Twilio's shape is not trusted with that.
    callSid: SID.test(callSid) ? callSid : '',
    accountSid: param(params, 'AccountSid', 64),
    from: param(params, 'From'),
    to: param(params, 'To'),
    callerName: param(params, 'CallerName', LIMITS.name),
    fromCountry: param(params, 'FromCountry', 8),
    toCountry: param(params, 'ToCountry', 8),
    // Cut short, a token is no token: one too long is left out rather than mangled.
    callToken: typeof params.CallToken === 'string' && params.CallToken.length <= 4096 ? param(params, 'CallToken', 4096) : '',
  };
}

export function inboundConnectRequest(call: InboundCall, settings: RoutedInbound, makeId: () => string = randomUUID): ConnectRequest {
  const callKey = call.callSid || `unknown-${makeId()}`;
  const roomName = clean(`${settings.roomPrefix}${callKey}`, LIMITS.roomName);
  const isPhone = addressKind(call.from) === 'phone';

  // The seed's identity is the caller's number. A withheld, client: or sip:
  // caller has none worth using, so the call itself names the participant.
  const participantIdentity = settings.identityPolicy === 'caller' && isPhone ? call.from : clean(`caller-${callKey}`, LIMITS.identity);

  let participantName = '';
  if (settings.namePolicy === 'number') participantName = isPhone ? call.from : 'Caller';
  else if (settings.namePolicy === 'caller-name') participantName = call.callerName || (isPhone ? call.from : 'Caller');

  const attributes = compactAttributes({
    ...settings.attributes,
    'twilio.route': settings.route,
    'twilio.callSid': call.callSid,
    'twilio.accountSid': call.accountSid,
    'twilio.direction': 'inbound',
    'twilio.from': call.from,
    'twilio.to': call.to,
    'twilio.phoneNumber': call.from,
    'twilio.callerName': call.callerName,
    'twilio.fromCountry': call.fromCountry,
    'twilio.toCountry': call.toCountry,
    'twilio.callToken': call.callToken,
  });

  const metadata =
    settings.agentMetadata ||
    JSON.stringify({ callSid: call.callSid || undefined, from: call.from || undefined, to: call.to || undefined, direction: 'inbound' });

  return {
    direction: 'inbound',
    roomName,
    participantIdentity,
    participantName,
    participantMetadata: '',
    participantAttributes: attributes,
    agents: settings.agentNames.map((agentName) => ({ agentName, metadata })),
    destinationCountry: '',
  };
}
