/**
 * BASELINE FOR THE BENCHMARK ONLY, never deployed: the `incoming` webhook
 * written the way LiveKit's Twilio Connector guide shows it. Unbundled tsc
 * output that requires livekit-server-sdk, a ConnectorClient with default
 * options, TwiML from a string template, no signature check, no fallback.
 */
import { ConnectTwilioCallRequest_TwilioCallDirection } from '@livekit/protocol';
import type { Context, ServerlessFunctionSignature } from '@twilio-labs/serverless-runtime-types/types';
import { ConnectorClient } from 'livekit-server-sdk';

type Env = { LIVEKIT_URL: string; LIVEKIT_API_KEY: string; LIVEKIT_API_SECRET: string };

export const handler: ServerlessFunctionSignature<Env> = async (context: Context<Env>, event, callback) => {
  const connectorClient = new ConnectorClient(context.LIVEKIT_URL, context.LIVEKIT_API_KEY, context.LIVEKIT_API_SECRET);
  const params = event as unknown as Record<string, string>;
  const response = await connectorClient.connectTwilioCall({
    twilioCallDirection: ConnectTwilioCallRequest_TwilioCallDirection.INBOUND,
    roomName: `call-${params.CallSid}`,
    participantIdentity: params.From,
    participantName: params.From,
    agents: [{ agentName: 'support-agent' } as never],
  });
  const twiml = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
<Connect>
<Stream url="${response.connectUrl}" />
</Connect>
</Response>`;
  const reply = new Twilio.Response();
  reply.appendHeader('Content-Type', 'text/xml');
  reply.setBody(twiml);
  callback(null, reply);
};
