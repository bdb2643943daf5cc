/**
 * How many calls a second one Twilio account can place through this
 * service: each limit turned into calls per second, and the lowest wins.
 * Every figure carries where it comes from; the ones no documentation
 * confirms are marked as assumptions, and the dry run prints them all.
 */

export interface CeilingInputs {
  /** The account's calls per second (Twilio's default 1). */
  cps: number;
  /** Calls the account may hold at once; undefined: unlimited (an approved Business profile). */
  twilioConcurrency?: number;
  /** This campaign's --concurrency. */
  campaignConcurrency: number;
  /** How long a call lasts, ringing included, in seconds. */
  callSeconds: number;
  /** Status callbacks a call makes (4 with the service's own, 0 with OUTBOUND_STATUS_CALLBACKS=false). */
  statusCallbacks: number;
  /** The LiveKit project's API requests a second, when known. */
  liveKitRequestsPerSecond?: number;
  /** Sync maps the IdempotencyKey claims are spread over. */
  syncShards: number;
}

export interface Limit {
  name: string;
  /** Calls a second it allows; Infinity when it sets no bound. */
  callsPerSecond: number;
  /** How the number is worked out. */
  how: string;
  source: string;
  /** False for what no documentation confirms (an assumption, or a figure not published). */
  confirmed: boolean;
}

/** An account can execute up to this many Functions at once: only in an older revision of the Functions API doc. */
export const FUNCTIONS_CONCURRENCY = 30;
/** Assumed seconds of one `outbound` invocation (LiveKit's session, Twilio's create, three Sync writes, the tag) and one status callback. */
export const OUTBOUND_SECONDS = 1.5;
export const STATUS_SECONDS = 0.3;
/**
 * LiveKit API requests per answered call with the default status callbacks,
 * as tests/status/livekit-requests.test.ts counts them: ConnectTwilioCall 1,
 * UpdateParticipant 5, GetParticipant 8, SendData 4 (an unanswered call
 * makes 13). Passing faults add resends; a call without the service's status
 * callbacks makes 2 (the session and its tag).
 */
export const LIVEKIT_REQUESTS_PER_CALL = 18;
/** Sync writes an IdempotencyKey costs per call (claim, fence, outcome), on the key's own shard. */
export const SYNC_WRITES_PER_CALL = 3;
/** "up to 20/s per object", a Map's items counted together (https://www.twilio.com/docs/sync/limits). */
export const SYNC_WRITES_PER_SECOND = 20;

export function deriveCeiling(inputs: CeilingInputs): { limits: Limit[]; callsPerSecond: number; bound: string } {
  const invocationSeconds = OUTBOUND_SECONDS + inputs.statusCallbacks * STATUS_SECONDS;
  const liveKitPerCall = inputs.statusCallbacks ? LIVEKIT_REQUESTS_PER_CALL : 2;
  const limits: Limit[] = [
    {
      name: 'Twilio calls per second (CPS)',
      callsPerSecond: inputs.cps,
      how: `--cps ${inputs.cps}: Twilio places API calls at the account's CPS and queues the rest, refusing with 22005 past 24 hours of queue`,
      source: 'https://www.twilio.com/docs/glossary/cps (1 CPS by default); https://www.twilio.com/docs/api/errors/22005',
      confirmed: true,
    },
    {
      name: 'Twilio concurrent calls',
      callsPerSecond: inputs.twilioConcurrency === undefined ? Infinity : inputs.twilioConcurrency / inputs.callSeconds,
      how:
        inputs.twilioConcurrency === undefined
          ? 'no --twilio-concurrency: unlimited with an approved Business profile (trial 5, no profile 2, Individual profile 3)'
          : `${inputs.twilioConcurrency} calls at once / ${inputs.callSeconds} s a call (Little's law); refusals are Twilio error 10004`,
      source: 'https://support.twilio.com/hc/en-us/articles/223180028 ; https://www.twilio.com/docs/api/errors/10004',
      confirmed: true,
    },
    {
      name: 'this campaign (--concurrency)',
      callsPerSecond: inputs.campaignConcurrency / inputs.callSeconds,
      how: `${inputs.campaignConcurrency} live calls / ${inputs.callSeconds} s a call`,
      source: 'this command',
      confirmed: true,
    },
    {
      name: 'Twilio Functions executing at once',
      callsPerSecond: FUNCTIONS_CONCURRENCY / invocationSeconds,
      how: `${FUNCTIONS_CONCURRENCY} at once / (1 outbound x ${OUTBOUND_SECONDS} s + ${inputs.statusCallbacks} status callbacks x ${STATUS_SECONDS} s) per call; both durations assumed`,
      source:
        'assumption: "An account can execute up to 30 functions concurrently" appears only in an older revision of the Functions API doc',
      confirmed: false,
    },
    {
      name: 'LiveKit Cloud API requests',
      callsPerSecond: inputs.liveKitRequestsPerSecond === undefined ? Infinity : inputs.liveKitRequestsPerSecond / liveKitPerCall,
      how:
        inputs.liveKitRequestsPerSecond === undefined
          ? `not bounded here: the per-project rate is not published (pass --livekit-rps); ${liveKitPerCall} requests a call`
          : `${inputs.liveKitRequestsPerSecond} requests/s / ${liveKitPerCall} a call`,
      source:
        'unconfirmed: https://docs.livekit.io/deploy/admin/quotas-and-limits/ says rate limits apply per project, without a figure for the server API',
      confirmed: inputs.liveKitRequestsPerSecond !== undefined,
    },
    {
      name: 'Twilio Sync writes (IdempotencyKey)',
      callsPerSecond: (SYNC_WRITES_PER_SECOND * inputs.syncShards) / SYNC_WRITES_PER_CALL,
      how: `${SYNC_WRITES_PER_SECOND} writes/s per Map x ${inputs.syncShards} map(s) / ${SYNC_WRITES_PER_CALL} writes a call (54009 past it, 10 s burst)`,
      source: 'https://www.twilio.com/docs/sync/limits ; https://www.twilio.com/docs/api/errors/54009',
      confirmed: true,
    },
  ];
  const lowest = limits.reduce((a, b) => (b.callsPerSecond < a.callsPerSecond ? b : a));
  return { limits, callsPerSecond: lowest.callsPerSecond, bound: lowest.name };
}
