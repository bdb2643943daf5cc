/**
 * How the Twilio call of an outbound session is told where to go: its TwiML
 * source and, unless the request chose its own, this service's `status`
 * function for status and answering-machine callbacks.
 */
import { statusCallbackUrl } from '../status/room-status';
import { connectTwiml } from '../twilio/twiml';
import type { CallOptions, OutboundRequest } from './request';
import type { OutboundSettings } from './settings';
import type { Prepared } from './steps';
import { recordingCallbackUrl } from '../recording/callbacks';

/**
 * The call's options with this service's `status` function as the status
 * callback (all four events) and, when machine detection is asked for, as the
 * asynchronous AMD callback: unless the request chose its own.
 */
export function withStatusCallbacks(request: OutboundRequest, origin: string, route: string): CallOptions {
  const url = statusCallbackUrl(origin, request.roomName, request.participantIdentity, route);
  const call: CallOptions = { ...request.call };
  if (!call.statusCallback) {
    call.statusCallback = url;
    call.statusCallbackEvent = ['initiated', 'ringing', 'answered', 'completed'];
    call.statusCallbackMethod = 'POST';
  }
  // Asynchronous AMD: LiveKit's TwiML is not kept waiting, and the result comes here.
  if (call.machineDetection && call.asyncAmd !== false && !call.asyncAmdStatusCallback) {
    call.asyncAmd = true;
    call.asyncAmdStatusCallback = url;
    call.asyncAmdStatusCallbackMethod = 'POST';
  }
  return call;
}

/** LiveKit's `wss://` connect URL in the `https://` form Twilio fetches TwiML from (the seed's way). */
export function twimlUrlFor(connectUrl: string): string {
  return connectUrl.replace(/^wss:/, 'https:');
}

/**
 * Records the call from its start when the route says so, or the request
 * asked (Record): calls.create's recording parameters, reporting to this
 * service's `recording-status`. Whether it is recorded.
 */
export function withRecording(call: CallOptions, { recording, request, service, settings }: Prepared): boolean {
  if (recording.mode !== 'always' && call.record !== true) return false;
  delete call.record;
  call.recording = {
    callbackUrl: recordingCallbackUrl(service.origin, request.roomName, request.participantIdentity, settings.route),
    channels: recording.channels,
  };
  return true;
}

/** Where Twilio gets the call's TwiML: LiveKit's URL, or the document inline (with the recording notice, when there is one). */
export function placementFor(
  connectUrl: string,
  settings: Pick<OutboundSettings, 'twimlMode' | 'greeting' | 'connectActionUrl'>,
  notice = '',
): { url: string } | { twiml: string } {
  if (settings.twimlMode === 'inline') {
    return {
      twiml: connectTwiml({ streamUrl: connectUrl, greeting: settings.greeting, actionUrl: settings.connectActionUrl, notice }),
    };
  }
  return { url: twimlUrlFor(connectUrl) };
}
