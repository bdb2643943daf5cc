/** What a function knows of the service it runs in: its account, its auth token, where Twilio reaches it. */
import type { Env } from '../config/env-reader';
import { publicOrigin } from './public-url';

export interface ServiceFacts {
  accountSid: string;
  /** Keys the call bindings (./call-binding); '' when the service has none. */
  authToken: string;
  /** Where Twilio reaches this service, for the callbacks it is given (./public-url). */
  origin: string;
}

export function serviceFacts(env: Env): ServiceFacts {
  return {
    accountSid: typeof env.ACCOUNT_SID === 'string' ? env.ACCOUNT_SID : '',
    authToken: typeof env.AUTH_TOKEN === 'string' ? env.AUTH_TOKEN : '',
    origin: publicOrigin(env),
  };
}
