/** One route: the numbers it answers and the settings it lays over the environment's. */
import type { GreetingSettings, IdentityPolicy, NamePolicy } from './settings';
import type { RecordMode } from '../recording/settings';

export interface Route {
  name: string;
  numbers: string[];
  prefixes: string[];
  agentNames?: string[];
  agentMetadata?: string;
  roomPrefix?: string;
  participantIdentity?: IdentityPolicy;
  participantName?: NamePolicy;
  /** Extra participant attributes (never `twilio.*` or `sip.*`). */
  attributes?: Record<string, string>;
  greeting?: Partial<GreetingSettings>;
  fallback?: { message?: string; number?: string };
  connectActionUrl?: string;
  outbound?: { allowedDestinations?: string[] };
  /** Named people an agent may transfer this route's calls to, on top of TRANSFER_TARGETS. */
  transferTargets?: Record<string, string>;
  /** Whether this route's calls are recorded (RECORD_CALLS). */
  record?: RecordMode;
  /** Spoken before a recorded call connects (RECORDING_NOTICE). */
  recordingNotice?: string;
  /** Where the call's summary is sent when it is over (SUMMARY_WEBHOOK_URL). */
  summaryWebhookUrl?: string;
}

export const DEFAULT_ROUTE: Route = { name: 'default', numbers: [], prefixes: [] };

export class RouteError extends Error {
  constructor(
    /** The route's name, or its position when it has none. */
    readonly route: string,
    readonly field: string,
    message: string,
  ) {
    super(`route ${route}: ${field} ${message}`);
    this.name = 'RouteError';
  }
}
