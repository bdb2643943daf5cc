/**
 * Stand-ins for a whole suite: started before its first test, emptied of
 * recorded requests before each, stopped after the last.
 */
import { LiveKitStandIn } from './livekit-stand-in';
import { ACCOUNT_SID, AUTH_TOKEN } from './runtime';
import { TwilioStandIn } from './twilio-stand-in';

export function useLiveKit(): LiveKitStandIn {
  const stand = new LiveKitStandIn();
  beforeAll(async () => {
    await stand.start();
  });
  afterAll(() => stand.stop());
  beforeEach(() => stand.reset());
  return stand;
}

export function useTwilioApi(options: { tls?: boolean } = {}): TwilioStandIn {
  const stand = new TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN);
  beforeAll(async () => {
    await stand.start(options);
  });
  afterAll(() => stand.stop());
  beforeEach(() => stand.reset());
  return stand;
}
