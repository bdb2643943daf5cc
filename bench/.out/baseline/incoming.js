"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.handler = void 0;
/**
 * BASELINE FOR THE BENCHMARK ONLY, never deployed: the `incoming` webhook
 * written the way LiveKit's Twilio Connector guide shows it. Unbundled tsc
 * output that requires livekit-server-sdk, a ConnectorClient with default
 * options, TwiML from a string template, no signature check, no fallback.
 */
const protocol_1 = require("@livekit/protocol");
const livekit_server_sdk_1 = require("livekit-server-sdk");
const handler = async (context, event, callback) => {
    const connectorClient = new livekit_server_sdk_1.ConnectorClient(context.LIVEKIT_URL, context.LIVEKIT_API_KEY, context.LIVEKIT_API_SECRET);
    const params = event;
    const response = await connectorClient.connectTwilioCall({
        twilioCallDirection: protocol_1.ConnectTwilioCallRequest_TwilioCallDirection.INBOUND,
        roomName: `call-${params.CallSid}`,
        participantIdentity: params.From,
        participantName: params.From,
        agents: [{ agentName: 'support-agent' }],
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
exports.handler = handler;
