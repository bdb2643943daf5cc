/**
 * Stand-ins for a whole suite: started before its first test, emptied of
 * recorded requests before each, stopped after the last.
 */
import { LiveKitStandIn } from './livekit-stand-in';
import { ACCOUNT_SID, AUTH_TOKEN } from './runtime';
import { TwilioStandIn } from './twilio-stand-in';

interface StandIn {
  start(options?: { tls?: boolean }): Promise<unknown>;
  stop(): Promise<void>;
  reset(): void;
}

/** Any stand-in for the suite, started with the options given (`tls` for those the twilio helper reaches through a proxy). */
export function useStandIn<T extends StandIn>(stand: T, options: { tls?: boolean } = {}): T {
  beforeAll(async () => {
    await stand.start(options);
  });
  afterAll(() => stand.stop());
  beforeEach(() => stand.reset());
  return stand;
}

export function useLiveKit(): LiveKitStandIn {
  return useStandIn(new LiveKitStandIn());
}

export function useTwilioApi(options: { tls?: boolean } = {}): TwilioStandIn {
  return useStandIn(new TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN), options);
}
