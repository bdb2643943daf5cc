/**
 * Call control for Node.js / TypeScript LiveKit agents: act on the phone call
 * in the agent's own room through this service's `call-control` function.
 * Copy this file into an agent project (ES module or CommonJS); it needs only
 * livekit-server-sdk, which mints the token with the API key and secret the
 * agent already has.
 *
 *   const control = new CallControl(); // reads nothing yet
 *   await control.transfer(room, 'billing', 'Connecting you to billing.');
 *
 * CALL_CONTROL_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are read when a
 * request is sent, not before, so loading .env after the imports works.
 * Each request carries a token valid for 60 seconds, for this room only,
 * whose sha256 claim covers this request's exact bytes. No TypeScript-only
 * runtime syntax (enums, parameter properties), so Node's type stripping can
 * run the file as it is.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AccessToken } from 'livekit-server-sdk';

export interface CallControlOptions {
  /** The deployed function, https://<service>-<digits>-<env>.twil.io/call-control. Default: CALL_CONTROL_URL. */
  url?: string;
  /** Default: LIVEKIT_API_KEY. */
  apiKey?: string;
  /** Default: LIVEKIT_API_SECRET. */
  apiSecret?: string;
  /** The whole wait for an answer, a retry included. Default 10 s (the function answers within 8). */
  timeoutMs?: number;
}

/** Answers after which the change may have happened all the same: a model told "nothing was done" would do it again. */
const MAY_HAVE_CHANGED = new Set(['twilio-timeout', 'twilio-error']);

/** What the function answered when it did not do the action, or why no answer came (status 0). */
export class CallControlError extends Error {
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The function's error code, or `timeout` / `unreachable` / `bad-answer`. */
  readonly code: string;
  /** The request member the refusal is about. */
  readonly field: string | undefined;
  /** For `target-unknown`: the target names configured for this call. */
  readonly targets: string[] | undefined;

  constructor(status: number, code: string, message: string, field?: string, targets?: string[]) {
    super(message);
    this.name = 'CallControlError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.targets = targets;
  }

  /** The refusal as a sentence for the model: what happened and what it can do instead. */
  get sentence(): string {
    if (this.code === 'timeout') return 'The phone system did not answer in time; the call may or may not have changed.';
    if (this.status === 0) return 'The phone system could not be reached; nothing was done.';
    if (this.status === 429) return 'The phone system is busy; nothing was done. Try again in a moment.';
    if (MAY_HAVE_CHANGED.has(this.code))
      return `The phone system did not confirm the change (${this.code}); the call may or may not have changed.`;
    if (this.status === 401 || this.status >= 500) return `The call could not be changed (${this.code}); nothing was done.`;
    const text = /[.!?]$/.test(this.message) ? this.message : `${this.message}.`;
    const unnamed = this.targets?.some((t) => !this.message.includes(t));
    return `Nothing was done: ${text}${unnamed ? ` The targets are: ${this.targets!.join(', ')}.` : ''}`;
  }
}

export type CallControlResult = Record<string, unknown> & { action: string; outcome: string };

/** A request member: a string, `fields` (an object of strings), or null/undefined for "not given". */
export type RequestValue = string | Readonly<Record<string, string | null | undefined>> | null | undefined;

const NAME = /^[\x21-\x7e]+$/; // printable ASCII: byte order and UTF-16 order agree
const LONE_SURROGATE = /\p{Cs}/u; // with the u flag a surrogate pair is one code point, so only lone halves match

/**
 * The signed form of a request. The token's `sha256` claim is the base64
 * (standard, padded) SHA-256 of the UTF-8 bytes of this text:
 * - one JSON object; members whose value is null/undefined left out;
 * - values strings, or for `fields` an object of strings (nothing deeper);
 * - names ASCII, sorted in ascending byte order at every level;
 * - no whitespace outside strings: `{"action":"transfer","target":"billing"}`;
 * - strings as JSON.stringify writes them: `\"` `\\` `\b` `\f` `\n` `\r` `\t`,
 *   other U+0000-001F as `\u00xx` (lowercase hex), every other character as
 *   itself (non-ASCII, U+2028/2029, astral, DEL); a lone surrogate throws.
 * Python's json.dumps(body, sort_keys=True, separators=(",", ":"),
 * ensure_ascii=False) writes the same text (clients/python/call_control.py).
 */
export function canonicalJson(request: Readonly<Record<string, RequestValue>>): string {
  const encode = (value: unknown, path: string, nested: boolean): string => {
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) throw new TypeError(`${path} holds a lone surrogate`);
      return JSON.stringify(value);
    }
    if (!nested || value === null || typeof value !== 'object' || Array.isArray(value))
      throw new TypeError(`${path} must be a string${nested ? ' or an object of strings' : ''}`);
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((name) => record[name] !== null && record[name] !== undefined)
      .sort()
      .map((name) => {
        if (!NAME.test(name)) throw new TypeError(`${path}: member names must be printable ASCII`);
        return `${JSON.stringify(name)}:${encode(record[name], path ? `${path}.${name}` : name, !path)}`;
      });
    return `{${members.join(',')}}`;
  };
  return encode(request, '', true);
}

/** Retry-After in seconds (1 when missing or unreadable), at most 2 s, in ms. */
function retryAfterMs(header: string | null): number {
  const seconds = header === null || header.trim() === '' ? NaN : Number(header);
  return Math.min(Number.isFinite(seconds) && seconds >= 0 ? seconds : 1, 2) * 1000;
}

export interface WarmTransferOptions {
  /** Said to the person when they answer, before they join. */
  brief?: string | null | undefined;
  /** Ask them to press 1 first: a voicemail greeting "answers" too. */
  accept?: boolean | null | undefined;
  /** `caller`: show them the caller's number, where Twilio allows it (an incoming call's CallToken). */
  callerId?: 'service' | 'caller' | null | undefined;
  /** How long their phone may ring, brief not counted. Default 30 s. */
  answerTimeoutMs?: number;
  pollMs?: number;
}

export interface VoicemailOptions {
  /** Text spoken in the service's voice. */
  message?: string | null | undefined;
  /** Or an audio file among the service's assets that VOICEMAIL_AUDIO names, by file name (`voicemail.mp3`). */
  audio?: string | null | undefined;
}

export interface WarmTransferResult {
  outcome: 'joined' | 'not-answered' | 'gone' | 'declined' | 'failed';
  via?: string;
}

const RING_MS = 30_000;
/** About 14 characters a second, as text-to-speech speaks. */
const SPOKEN_MS_PER_CHARACTER = 70;
const ACCEPT_MS = 8_000;
/** /consult opening their session and the stream starting. */
const JOIN_MS = 5_000;

export class CallControl {
  private readonly options: CallControlOptions;

  /** Reads nothing: the environment is read when a request is sent. */
  constructor(options: CallControlOptions = {}) {
    this.options = options;
  }

  /** Ends the call (or, after addHuman, the `person`'s call, or `both`). A call that already ended is not an error. */
  hangup(room: string, leg?: 'caller' | 'person' | 'both' | null): Promise<CallControlResult> {
    return this.send(room, { action: 'hangup', leg });
  }

  /** Connects the caller to a configured target (by name), after an optional message. The stream into the room ends. */
  transfer(room: string, target: string, message?: string | null): Promise<CallControlResult> {
    return this.send(room, { action: 'transfer', target, message });
  }

  /** Returns a call that a Studio flow sent here to that flow, with a result and string fields for it. */
  returnToFlow(
    room: string,
    result?: string | null,
    fields?: Record<string, string | null | undefined> | null,
  ): Promise<CallControlResult> {
    return this.send(room, { action: 'return-to-flow', result, fields });
  }

  /**
   * Calls a configured target for a warm transfer. They hear `brief` (and,
   * with `accept`, "press 1 to take this call"), then wait in `<room>-consult`,
   * where no agent is. `callerId: 'caller'` shows them the caller's number
   * where Twilio allows it. Their progress: humanStatus, or the caller
   * participant's `twilio.human.*` attributes and the `twilio.human` topic.
   */
  addHuman(room: string, target: string, options: WarmTransferOptions = {}): Promise<CallControlResult> {
    const accept = options.accept === undefined || options.accept === null ? undefined : String(options.accept);
    return this.send(room, { action: 'add-human', target, brief: options.brief, accept, callerId: options.callerId });
  }

  /** Where the person is: `outcome` dialing, ringing, answered, accepted, joined, gone, declined, failed; `ready` to be joined. */
  humanStatus(room: string): Promise<CallControlResult & { ready?: boolean }> {
    return this.send(room, { action: 'human-status' });
  }

  /** Brings the person (ready) into this room; `via` says how: `move` or `conference`. */
  joinHuman(room: string): Promise<CallControlResult & { via?: string }> {
    return this.send(room, { action: 'join-human' });
  }

  /** Hangs up the person addHuman called, before or after the join. */
  cancelHuman(room: string): Promise<CallControlResult> {
    return this.send(room, { action: 'cancel-human' });
  }

  /**
   * Starts Twilio recording the call, where the service lets agents
   * (RECORD_CALLS on-request or always; `403 recording-off` otherwise,
   * `409 already-recording`). Ask the caller's consent first: the service
   * cannot speak to them without breaking the stream.
   */
  startRecording(room: string): Promise<CallControlResult & { recordingSid?: string }> {
    return this.send(room, { action: 'start-recording' });
  }

  /**
   * Pauses the call's recording: the gap is kept as `silence` (the default) or `skip`ped. Only Twilio's
   * recording pauses; the agent still hears everything. `409 not-recording` when nothing is recorded.
   */
  pauseRecording(room: string, behavior?: 'silence' | 'skip' | null): Promise<CallControlResult & { recordingSid?: string }> {
    return this.send(room, { action: 'pause-recording', behavior });
  }

  /** Resumes the paused recording. `409 not-recording` when nothing is recorded. */
  resumeRecording(room: string): Promise<CallControlResult & { recordingSid?: string }> {
    return this.send(room, { action: 'resume-recording' });
  }

  /**
   * Leaves a voicemail, then hangs up: exactly one of `message` (text, spoken in the service's voice) or
   * `audio` (a file VOICEMAIL_AUDIO names). The stream into the room ends at once. Best after the beep
   * (`twilio.answeredBy` = `machine_end_beep`, with MachineDetection=DetectMessageEnd).
   */
  leaveVoicemail(room: string, options: VoicemailOptions = {}): Promise<CallControlResult> {
    return this.send(room, { action: 'leave-voicemail', message: options.message, audio: options.audio });
  }

  /**
   * Presses keys on the call, for a phone menu at the far end: up to 32 of 0-9, A-D, # and *, with `w`
   * for half a second's pause and `W` for a second. The call's stream ENDS and comes back as the same
   * participant (same identity, same room) about `expectedMs` plus a moment later; before it ends, the
   * participant's `twilio.rejoin` attribute is `digits` and a message goes out on the `twilio.rejoin`
   * topic. An agent session must outlive that: `inputOptions: { closeOnDisconnect: false }`.
   */
  pressKeys(room: string, digits: string): Promise<CallControlResult & { expectedMs?: number }> {
    return this.send(room, { action: 'press-keys', digits });
  }

  /**
   * The whole warm transfer: call the target, wait for them to answer (and
   * press 1, with `accept`) within the deadline, which counts the brief, then
   * join them to the caller. Not answered in time: their call is cancelled and
   * the caller is still with the agent. After `joined`, the agent may leave;
   * the call goes on (do not delete the room when the agent's session closes).
   */
  async warmTransfer(room: string, target: string, options: WarmTransferOptions = {}): Promise<WarmTransferResult> {
    const pollMs = options.pollMs ?? 500;
    let deadline = Date.now() + (options.answerTimeoutMs ?? RING_MS);
    let joined = false;
    await this.addHuman(room, target, options);
    try {
      for (;;) {
        const status = await this.humanStatus(room);
        if (status.ready) {
          const join = await this.joinHuman(room);
          joined = true;
          return { outcome: 'joined', via: String(join.via) };
        }
        if (['gone', 'declined', 'failed'].includes(status.outcome)) return { outcome: status.outcome as WarmTransferResult['outcome'] };
        // Answered: the key, the brief and the stream's start still take their time.
        if (status.outcome === 'answered' || status.outcome === 'accepted')
          deadline = Math.max(deadline, Date.now() + (options.brief?.length ?? 0) * SPOKEN_MS_PER_CHARACTER + ACCEPT_MS + JOIN_MS);
        if (Date.now() + pollMs > deadline) return { outcome: 'not-answered' };
        await sleep(pollMs);
      }
    } finally {
      // Every way out but the join lets the person go: nobody waits in the consult room for an agent that left.
      if (!joined) await this.cancelHuman(room).catch(() => undefined);
    }
  }

  private async send(room: string, request: Record<string, RequestValue>): Promise<CallControlResult> {
    const url = this.options.url || process.env.CALL_CONTROL_URL;
    const apiKey = this.options.apiKey || process.env.LIVEKIT_API_KEY;
    const apiSecret = this.options.apiSecret || process.env.LIVEKIT_API_SECRET;
    if (!url || !apiKey || !apiSecret)
      throw new Error(
        'CallControl needs CALL_CONTROL_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET (or the url, apiKey and apiSecret options)',
      );
    if (!room) throw new Error('CallControl needs the room: the agent is not in one yet');
    const body = canonicalJson(request);
    const sha256 = createHash('sha256').update(body, 'utf8').digest('base64');
    const deadline = Date.now() + (this.options.timeoutMs ?? 10_000);

    for (let attempt = 1; ; attempt++) {
      const token = new AccessToken(apiKey, apiSecret, { ttl: 60 });
      token.addGrant({ roomAdmin: true, room });
      token.sha256 = sha256;
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${await token.toJwt()}` },
          body,
          signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
        });
        text = await response.text();
      } catch (error) {
        // By name, not instanceof: fetch's DOMException may come from another realm (jest's, for one).
        const name = (error as { name?: unknown } | null)?.name;
        const timedOut = name === 'TimeoutError' || name === 'AbortError';
        throw timedOut
          ? new CallControlError(0, 'timeout', 'No answer in time; the call may have changed')
          : new CallControlError(
              0,
              'unreachable',
              `call-control could not be reached: ${String((error as { cause?: unknown } | null)?.cause ?? error)}`,
            );
      }
      let json: { error?: { code?: string; message?: string; field?: string; targets?: unknown } } | undefined;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (response.ok && json) return json as CallControlResult;
      // 429: nothing was done, so one retry after Retry-After (at most 2 s) is safe, if it fits in the time left.
      const wait = retryAfterMs(response.headers.get('retry-after'));
      if (response.status === 429 && attempt === 1 && Date.now() + wait < deadline) {
        await sleep(wait);
        continue;
      }
      const error = json?.error ?? {};
      const targets = Array.isArray(error.targets) ? error.targets.filter((t): t is string => typeof t === 'string') : undefined;
      throw new CallControlError(
        response.status,
        error.code ?? (response.ok ? 'bad-answer' : 'http-error'),
        error.message ?? `HTTP ${response.status}`,
        error.field,
        targets,
      );
    }
  }
}
