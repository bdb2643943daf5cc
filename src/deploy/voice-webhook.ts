/**
 * The parameters Twilio POSTs to a voice webhook when a call comes in, and
 * to a status callback as it progresses, built from a few facts about the
 * call. Used to try the service without a phone (npm run ring) and by the
 * tests. https://www.twilio.com/docs/voice/twiml#request-parameters
 */
import { countryOf } from '../phone/destination';

export interface InboundCallFacts {
  callSid: string;
  accountSid: string;
  from: string;
  to: string;
  /** CNAM, when the number has a caller name lookup. */
  callerName?: string;
}

/** The voice webhook of a ringing inbound call. */
export function voiceWebhook(call: InboundCallFacts, extra: Record<string, string> = {}): Record<string, string> {
  const fromCountry = countryOf(call.from);
  const toCountry = countryOf(call.to);
  const params: Record<string, string> = {
    AccountSid: call.accountSid,
    ApiVersion: '2010-04-01',
    CallSid: call.callSid,
    CallStatus: 'ringing',
    Called: call.to,
    CalledCountry: toCountry,
    Caller: call.from,
    CallerCountry: fromCountry,
    Direction: 'inbound',
    From: call.from,
    FromCountry: fromCountry,
    To: call.to,
    ToCountry: toCountry,
  };
  if (call.callerName) params.CallerName = call.callerName;
  return { ...params, ...extra };
}

/** A status callback for the same call: `in-progress`, `completed`, ... */
export function statusCallbackParams(
  call: InboundCallFacts,
  status: string,
  sequence: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...voiceWebhook(call),
    CallStatus: status,
    SequenceNumber: String(sequence),
    Timestamp: new Date().toUTCString(),
    CallbackSource: 'call-progress-events',
    ...extra,
  };
}
