import { TokenVerifier } from 'livekit-server-sdk';
import type { LiveKitSettings } from '../../src/config/settings';
import { liveKitConnector } from '../../src/livekit/connector';
import { apiToken } from '../../src/livekit/token';
import { API_KEY, API_SECRET } from '../support/livekit-stand-in';
import { useLiveKit } from '../support/stand-ins';

const stand = useLiveKit();

const settings = (): LiveKitSettings => ({ url: stand.url, apiKey: API_KEY, apiSecret: API_SECRET, timeoutMs: 1000 });
const request = (room: string) => ({
  direction: 'inbound' as const,
  roomName: room,
  participantIdentity: 'p',
  participantName: '',
  participantMetadata: '',
  participantAttributes: {},
  agents: [],
  destinationCountry: '',
});

describe('LiveKit transport', () => {
  test('reuses one keep-alive connection and one token across calls', async () => {
    const connect = liveKitConnector(settings());
    const before = stand.connections;
    for (let i = 0; i < 20; i += 1) await connect(request(`room-${i}`));
    expect(stand.connections - before).toBe(1);
    const tokens = new Set(stand.requests.map((r) => r.token));
    expect(tokens.size).toBe(1);
  });

  test('a token is valid for ten minutes, reused for five, then replaced', async () => {
    const t0 = Date.now();
    const first = await apiToken(API_KEY, API_SECRET, { roomCreate: true }, t0);
    expect(await apiToken(API_KEY, API_SECRET, { roomCreate: true }, t0 + 299_000)).toBe(first);
    const claims = await new TokenVerifier(API_KEY, API_SECRET).verify(first);
    expect(claims.exp! - claims.nbf!).toBe(600);
    expect(claims.video?.roomCreate).toBe(true);
    // Tokens carry second resolution; a later second makes a distinct token.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await apiToken(API_KEY, API_SECRET, { roomCreate: true }, t0 + 301_000)).not.toBe(first);
  });

  test('different credentials or grants never share a token', async () => {
    const a = await apiToken(API_KEY, API_SECRET, { roomCreate: true });
    expect(await apiToken(API_KEY, 'another-secret-another-secret-another-secret', { roomCreate: true })).not.toBe(a);
    expect(await apiToken(API_KEY, API_SECRET, { roomAdmin: true, room: 'x' })).not.toBe(a);
  });

  test('a server that closed its idle connection does not fail the next call', async () => {
    const connect = liveKitConnector(settings());
    await connect(request('before'));
    await stand.dropIdleConnections();
    await expect(connect(request('after'))).resolves.toMatch(/^wss:\/\//);
  });

  test('a kept-alive connection already dead when the request is written: sent again on a new one', async () => {
    const connect = liveKitConnector(settings());
    await connect(request('first'));
    const before = stand.connections;
    // Reset before the client has seen it: its write fails, the server saw nothing.
    stand.resetConnectionsNow();
    await expect(connect(request('second'))).resolves.toMatch(/^wss:\/\//);
    expect(stand.connections - before).toBe(1);
    expect(stand.calls('Connector.ConnectTwilioCall').map((r) => (r.body as { roomName: string }).roomName)).toEqual(['first', 'second']);
  });

  test('a connection closed after the server read the request: never sent twice, the call fails', async () => {
    const connect = liveKitConnector(settings());
    await connect(request('first'));
    stand.dropNextReusedAfterServing = true;
    await expect(connect(request('second'))).rejects.toMatchObject({ name: 'LiveKitError', kind: 'unreachable' });
    expect(stand.dropNextReusedAfterServing).toBe(false);
    // One session for 'second', as the server made it; not two.
    expect(stand.calls('Connector.ConnectTwilioCall').map((r) => (r.body as { roomName: string }).roomName)).toEqual(['first', 'second']);
    expect(stand.rooms.get('second')?.size).toBe(1);
  });
});
