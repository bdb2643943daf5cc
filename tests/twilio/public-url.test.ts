/**
 * The URL signatures are checked against: the tunnel's when testing with a
 * real phone locally, never anything but DOMAIN_NAME once deployed.
 */
import twilio from 'twilio';
import { handler } from '../../src/functions/incoming';
import { isDeployed, publicOrigin } from '../../src/twilio/public-url';
import { inboundWebhook, liveKitEnv } from '../support/fixtures';
import { AUTH_TOKEN, invoke, localContext } from '../support/runtime';
import { useLiveKit } from '../support/stand-ins';

const liveKit = useLiveKit();
beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

const TUNNEL = 'https://quiet-lake-1234.trycloudflare.com';

describe('publicOrigin', () => {
  test('local: the dev server, or the tunnel PUBLIC_BASE_URL names', () => {
    expect(publicOrigin({ DOMAIN_NAME: 'localhost:3000' })).toBe('http://localhost:3000');
    expect(publicOrigin({ DOMAIN_NAME: 'localhost:3000', PUBLIC_BASE_URL: `${TUNNEL}/` })).toBe(TUNNEL);
  });

  test.each(['http://quiet-lake.example.com', `${TUNNEL}/incoming`, `${TUNNEL}?x=1`, 'not a url'])(
    'a PUBLIC_BASE_URL that is not an https origin (%s) is not used',
    (value) => {
      expect(publicOrigin({ DOMAIN_NAME: 'localhost:3000', PUBLIC_BASE_URL: value })).toBe('http://localhost:3000');
    },
  );

  test('deployed: DOMAIN_NAME only, whatever PUBLIC_BASE_URL says', () => {
    expect(
      publicOrigin({
        SERVICE_SID: 'ZS' + '0'.repeat(32),
        DOMAIN_NAME: 'svc-1234-dev.twil.io',
        PUBLIC_BASE_URL: 'https://attacker.example.com',
      }),
    ).toBe('https://svc-1234-dev.twil.io');
  });

  test("twilio-run's SERVICE_SID getter (which warns) is never read", () => {
    const context: Record<string, unknown> = { DOMAIN_NAME: 'localhost:3000' };
    Object.defineProperty(context, 'SERVICE_SID', {
      get: () => {
        throw new Error('read');
      },
    });
    expect(isDeployed(context)).toBe(false);
  });
});

describe('incoming checks the signature against that URL', () => {
  const sign = (url: string, params: Record<string, string>) => twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
  const call = async (context: Record<string, unknown>, signedFor: string) => {
    const params = inboundWebhook(1);
    const event = { ...params, request: { headers: { 'x-twilio-signature': sign(signedFor, params) }, cookies: {} } };
    return (await invoke(handler, context, event)).status;
  };

  test('locally behind a tunnel: a request Twilio signed for the tunnel URL is answered; one signed for localhost is not', async () => {
    const context = localContext(liveKitEnv(liveKit, { PUBLIC_BASE_URL: TUNNEL }), '/incoming');
    expect(await call(context, `${TUNNEL}/incoming`)).toBe(200);
    expect(await call(context, 'http://localhost:3000/incoming')).toBe(403);
  });

  test('deployed: a request signed for the URL in PUBLIC_BASE_URL is refused', async () => {
    const context = {
      ...localContext(liveKitEnv(liveKit, { PUBLIC_BASE_URL: TUNNEL }), '/incoming'),
      SERVICE_SID: 'ZS' + '1'.repeat(32),
      DOMAIN_NAME: 'svc-1234-dev.twil.io',
    };
    expect(await call(context, `${TUNNEL}/incoming`)).toBe(403);
    expect(await call(context, 'https://svc-1234-dev.twil.io/incoming')).toBe(200);
  });
});
