/**
 * The compiled `outbound` function in a real twilio-run process. Its Twilio
 * client is the one `context.getTwilioClient()` builds; the process reaches
 * "api.twilio.com" through HTTP_PROXY, answered by the Twilio stand-in over
 * TLS with a throwaway CA, so no code path is special-cased for tests.
 */
import type { ConnectTwilioCallRequest } from '@livekit/protocol';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import twilio from 'twilio';
import { AUTH_TOKEN } from '../support/runtime';
import { ROOT, useServiceWithApis } from '../support/twilio-run';

const { liveKit, twilioApi, server } = useServiceWithApis({ AGENT_NAMES: 'outbound-agent', OUTBOUND_CALLER_IDS: '+14155550100' });

describe('twilio-run serving dist/functions/outbound.protected', () => {
  test('a signed request places a call through the Twilio API and streams it into LiveKit', async () => {
    const reply = await server.post('/outbound', { To: '+14155550123', RoomName: 'run-1' }, { authToken: AUTH_TOKEN });
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.body);
    expect(twilioApi.calls).toHaveLength(1);
    expect(twilioApi.calls[0]!.params).toMatchObject({
      To: '+14155550123',
      From: '+14155550100',
      Url: liveKit.connectUrls.get('run-1')!.replace('wss:', 'https:'),
    });
    expect(body).toMatchObject({ roomName: 'run-1', status: 'queued', callSid: expect.stringMatching(/^CA[0-9a-f]{32}$/) });
    const request = liveKit.calls('Connector.ConnectTwilioCall')[0]!.body as ConnectTwilioCallRequest;
    expect(request.twilioCallDirection).toBe(1);
    expect(liveKit.rooms.get('run-1')!.get(body.participantIdentity)!.attributes['twilio.callSid']).toBe(body.callSid);
  });

  test('an unsigned request is refused and nothing is created', async () => {
    const reply = await server.post('/outbound', { To: '+14155550123' });
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body).error.code).toBe('signature-required');
    expect(twilioApi.calls).toHaveLength(0);
    expect(liveKit.requests).toHaveLength(0);
  });

  test('a JSON body with an object field is refused: the signature covered only the other fields', async () => {
    const url = `${server.baseUrl}/outbound`;
    // Signed as a form of the string fields; the object rides along unsigned.
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, { To: '+14155550124' });
    const reply = await server.postJson('/outbound', { To: '+14155550124', ParticipantAttributes: { tier: 'gold' } }, signature);
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.body).error).toMatchObject({ code: 'signature-invalid', field: 'ParticipantAttributes' });
    expect(liveKit.requests).toHaveLength(0);
    expect(twilioApi.calls).toHaveLength(0);
    // The same attributes as a JSON string are a form field like any other, and signed.
    const asString = { To: '+14155550124', ParticipantAttributes: JSON.stringify({ tier: 'gold' }) };
    const signed = await server.postJson('/outbound', asString, twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, asString));
    expect(signed.status).toBe(200);
  });

  test('npm run call signs the request as Twilio does and prints the result', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'call-env-'));
    const envFile = path.join(dir, '.env');
    writeFileSync(envFile, `AUTH_TOKEN=${AUTH_TOKEN}\n`);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        path.join(ROOT, 'scripts', 'run-ts.mjs'),
        'src/deploy/call-cli.ts',
        '--to',
        '+14155550124',
        '--room',
        'run-2',
        '--agent',
        'sales',
        '--param',
        'Timeout=20',
        '--url',
        `${server.baseUrl}/outbound`,
        '--env',
        envFile,
      ],
      { cwd: ROOT },
    );
    const printed = JSON.parse(stdout);
    expect(printed).toMatchObject({ roomName: 'run-2', status: 'queued' });
    expect(twilioApi.calls[0]!.params).toMatchObject({ To: '+14155550124', Timeout: '20' });
    const request = liveKit.calls('Connector.ConnectTwilioCall')[0]!.body as ConnectTwilioCallRequest;
    expect(request.agents.map((a) => a.agentName)).toEqual(['sales']);
  });

  test('npm run call with the wrong auth token is refused', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'call-env-'));
    const envFile = path.join(dir, '.env');
    writeFileSync(envFile, 'AUTH_TOKEN=not-the-token\n');
    const run = promisify(execFile)(
      process.execPath,
      [
        path.join(ROOT, 'scripts', 'run-ts.mjs'),
        'src/deploy/call-cli.ts',
        '--to',
        '+14155550124',
        '--url',
        `${server.baseUrl}/outbound`,
        '--env',
        envFile,
      ],
      {
        cwd: ROOT,
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'AUTH_TOKEN')),
      },
    );
    await expect(run).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining('signature-invalid') });
    expect(twilioApi.calls).toHaveLength(0);
  });

  test('status callbacks for a busy call reach the room through the status function', async () => {
    const placed = await server.post('/outbound', { To: '+14155550125', RoomName: 'run-busy' }, { authToken: AUTH_TOKEN });
    expect(placed.status).toBe(200);
    const { participantIdentity, callSid } = JSON.parse(placed.body);
    const statusUrl = String(twilioApi.calls[0]!.params.StatusCallback);
    expect(statusUrl.startsWith(`${server.baseUrl}/status?`)).toBe(true);
    const url = new URL(statusUrl);
    // twilio-run's event merges query and body; post the body, sign the URL with its query.
    const post = (params: Record<string, string>) => server.postTo(statusUrl, params, { authToken: AUTH_TOKEN });
    expect((await post({ CallSid: callSid, CallStatus: 'ringing' })).status).toBe(200);
    expect(liveKit.rooms.get('run-busy')!.get(participantIdentity)!.attributes['twilio.callStatus']).toBe('ringing');
    expect((await post({ CallSid: callSid, CallStatus: 'busy', SipResponseCode: '486' })).status).toBe(200);
    expect(liveKit.rooms.get('run-busy')!.has(participantIdentity)).toBe(false);
    const payloads = liveKit.dataMessages.filter((m) => m.room === 'run-busy').map((m) => JSON.parse(m.payload).detail);
    expect(payloads).toEqual(['ringing', 'busy']);
    expect(url.searchParams.get('room')).toBe('run-busy');
    const unsigned = await server.postTo(statusUrl, { CallSid: callSid, CallStatus: 'ringing' });
    expect(unsigned.status).toBe(401);
    // Local runs print nothing a user must learn to ignore (twilio-run warns on every read of SERVICE_SID).
    expect(server.output).not.toMatch(/WARNING|SERVICE_SID/);
  });
});
