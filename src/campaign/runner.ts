/**
 * The campaign: each row an `outbound` request, at most `rate` a second and
 * `concurrency` calls live at once, inside the calling window of the row's
 * time zone, retried after busy and no-answer up to `attempts` calls, and
 * never a second call for one attempt, whatever stops it half-way.
 *
 * Everything that happens to a row is a journal event, written before it
 * is acted on, and one function (`apply`) turns events into the row's
 * state, both as they happen and when a later run replays the journal: the
 * run that resumes knows exactly what the one that stopped knew.
 *
 * How a lost outcome is settled, never by guessing:
 * - Within the key's 10 minutes (KEY_FRESH_MS from the first send with it,
 *   to the same service), the key is the arbiter: the request is sent again
 *   with the same IdempotencyKey, and `outbound` answers with the first
 *   call (replayed), `request-in-progress` (wait), `call-may-exist`, or, when
 *   the first never got as far as a call, places it now. One call either way.
 * - After that, or when the service itself says the call may exist, Twilio's
 *   call list is (./reconcile): found, the row follows that call; not found,
 *   the lost request placed nothing, and a new key is made.
 * - A service other than the one the key went to (another --url) never
 *   saw the key: its answer would prove nothing, so the call list decides.
 *
 * Dependencies (clock, the signed POST, Twilio's call API, the journal) are
 * injected: the tests and the bench run the same code.
 */
import type { Answer } from '../deploy/signed-post';
import { classifyAnswer, Verdict } from './answers';
import { CallLookup, FINAL_STATUSES } from './calls';
import type { Clock } from './clock';
import { TimedHeap } from './heap';
import { idempotencyKey } from './keys';
import type { JournalEvent, JournalSink } from './journal';
import { TokenBucket } from './rate';
import { findLostCall, KEY_FRESH_MS, RECONCILE_AFTER_MS } from './reconcile';
import type { CampaignRow } from './rows';
import { CallingWindow, isOpen, nextOpening } from './window';

export interface CampaignOptions {
  /** Makes the keys: the same campaign and row always send the same key. */
  campaign: string;
  /** The service's outbound URL: the one whose Sync holds the keys. */
  url: string;
  account: string;
  /** Requests a second. */
  rate: number;
  burst?: number;
  /** Calls live at once (requests in flight included). */
  concurrency: number;
  window?: CallingWindow;
  /** For rows without a TimeZone. */
  timeZone?: string;
  /** Calls placed per row at most: busy and no-answer are called again until then. */
  attempts: number;
  retryDelayMs: number;
  /** How often a live call's status is fetched. */
  pollMs: number;
}

export interface RowResult {
  row: string;
  callSid: string;
  room: string;
  status: string;
  error: string;
  attempts: number;
}

export type CampaignEvent =
  | { kind: 'placed'; row: string; callSid: string; attempt: number; replayed: boolean }
  | { kind: 'ended'; row: string; callSid: string; status: string; attempt: number; retryAt?: number }
  | { kind: 'final'; result: RowResult }
  | { kind: 'later'; row: string; code: string; message: string; dueAt: number; concurrency: boolean }
  | { kind: 'uncertain'; row: string; message: string; reconcileAt: number }
  | { kind: 'reconciled'; row: string; callSid: string | null }
  | { kind: 'limit'; concurrency: number; reason: string };

export interface RunnerDeps {
  clock: Clock;
  /** The signed POST to the service; throws when no answer came. */
  send(params: Record<string, string>): Promise<Answer>;
  calls: CallLookup;
  journal: JournalSink;
  /** A row is done: the results file's line. */
  onFinal?(result: RowResult): void;
  onEvent?(event: CampaignEvent): void;
  optedOut(to: string): boolean;
}

export interface Snapshot {
  total: number;
  done: number;
  live: number;
  sending: number;
  placed: number;
  waiting: number;
  concurrency: number;
}

export interface Summary {
  /** Rows by final status. */
  statuses: Record<string, number>;
  /** Calls the service placed in this run (replays of an earlier run's call not counted). */
  placed: number;
  /** Stopped before every row was done (Ctrl-C): the live calls are picked up by the next run. */
  stopped: boolean;
  live: number;
  /** What stopped the campaign for every row, if anything did. */
  aborted?: string;
}

/** Busy and no-answer are called again (while attempts are left); every other ending is final. */
const RETRIED = new Set(['busy', 'no-answer']);
/** Refusals that say "not now" are followed; past these counts the row is given up, with the last one's reason. */
const MAX_LATER = 10;
const MAX_CAPACITY_REFUSALS = 50;
const MAX_RECONCILES_AT_ONCE = 4;
const POLL_NOT_FOUND_LIMIT = 3;
/** No answer at all this many times running: the service is down or unreachable, for every row. */
const MAX_UNANSWERED_IN_A_ROW = 10;

type Phase = 'waiting' | 'queued' | 'sending' | 'reconciling' | 'live' | 'ended' | 'final';

interface RowRun {
  row: CampaignRow;
  to: string;
  zone: string;
  /** The attempt the next or current call is (1-based). */
  attempt: number;
  gen: number;
  /** Calls placed for the row. */
  placed: number;
  knownCalls: string[];
  /** A request whose outcome is not known yet: the key it carried, when that key was first sent, and to which service. */
  unresolved?: { key: string; since: number; url: string; mayExist: boolean; resends: number };
  phase: Phase;
  dueAt: number;
  callSid: string;
  room: string;
  endedStatus: string;
  polling: boolean;
  pollNotFound: number;
  later: number;
  capacityRefusals: number;
  lastError: string;
  final?: RowResult;
}

function backoffMs(resends: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(resends, 5));
}

export class CampaignRunner {
  private readonly runs = new Map<string, RowRun>();
  private readonly order: RowRun[] = [];
  private readonly timed = new TimedHeap<RowRun>();
  private readonly polls = new TimedHeap<RowRun>();
  private readonly zones = new Map<string, { items: RowRun[]; head: number; opensAt: number }>();
  private readonly reconcileQueue: RowRun[] = [];
  private reconciling = 0;
  private bucket: TokenBucket;
  private limit: number;
  private sending = 0;
  private live = 0;
  private done = 0;
  private placedThisRun = 0;
  private wake = new AbortController();
  private stopping = false;
  private abortReason: string | undefined;
  private queuedCounter = 0;
  private readonly queuedAt = new WeakMap<RowRun, number>();
  /** The service URL of the run whose events are being applied (replay walks through earlier runs' starts). */
  private journalUrl = '';
  private started = false;
  private closed = false;
  private unanswered = 0;

  constructor(
    rows: readonly CampaignRow[],
    private readonly options: CampaignOptions,
    private readonly deps: RunnerDeps,
    history: readonly JournalEvent[] = [],
  ) {
    this.bucket = new TokenBucket(options.rate, options.burst ?? 1, deps.clock.now());
    this.limit = options.concurrency;
    for (const row of rows) {
      const run: RowRun = {
        row,
        to: row.params.To ?? '',
        zone: options.window ? (row.timeZone ?? options.timeZone ?? '') : '',
        attempt: 1,
        gen: 0,
        placed: 0,
        knownCalls: [],
        phase: 'waiting',
        dueAt: 0,
        callSid: '',
        room: '',
        endedStatus: '',
        polling: false,
        pollNotFound: 0,
        later: 0,
        capacityRefusals: 0,
        lastError: '',
      };
      this.runs.set(row.id, run);
      this.order.push(run);
    }
    for (const event of history) {
      if (event.t === 'sending') {
        const run = this.runs.get(event.row);
        // The CSV was edited: row ids now name other people. Resuming would guess; refuse instead.
        if (run && run.to !== event.to) {
          throw new Error(
            `row ${event.row} called ${event.to} in the journal but is ${run.to || '(no To)'} in the CSV now: the CSV changed since the campaign started. Restore it, or start a new campaign (--campaign NAME)`,
          );
        }
      }
      this.apply(event);
    }
  }

  /** Results of rows the journal already holds as done. */
  finished(): RowResult[] {
    return this.order.filter((r) => r.final).map((r) => r.final!);
  }

  snapshot(): Snapshot {
    return {
      total: this.order.length,
      done: this.done,
      live: this.live,
      sending: this.sending,
      placed: this.placedThisRun,
      waiting: this.order.length - this.done - this.live - this.sending,
      concurrency: this.limit,
    };
  }

  /** Ctrl-C: no new request; the run ends once those in flight are answered. Live calls go on and are followed next time. */
  stop(): void {
    this.stopping = true;
    this.kick();
  }

  async run(): Promise<Summary> {
    if (this.started) throw new Error('a campaign runner runs once');
    this.started = true;
    const now = this.deps.clock.now();
    this.record({
      t: 'start',
      at: now,
      campaign: this.options.campaign,
      url: this.options.url,
      account: this.options.account,
      rows: this.order.length,
    });
    for (const run of this.order) this.resume(run, now);
    for (;;) {
      const at = this.deps.clock.now();
      if (this.abortReason || this.stopping) {
        if (this.sending === 0 && this.reconciling === 0) break;
      } else if (this.done === this.order.length) break;
      let wait = this.step(at);
      if (wait === 0) continue;
      if (!this.abortReason && !this.stopping) {
        const next = Math.min(this.timed.peek() ?? Infinity, this.polls.peek() ?? Infinity);
        wait = Math.min(wait, next - at);
        if (wait <= 0) continue;
      }
      await this.deps.clock.sleep(wait, this.wake.signal);
    }
    this.closed = true;
    const statuses: Record<string, number> = {};
    for (const run of this.order) if (run.final) statuses[run.final.status] = (statuses[run.final.status] ?? 0) + 1;
    return {
      statuses,
      placed: this.placedThisRun,
      stopped: this.done < this.order.length,
      live: this.live,
      ...(this.abortReason ? { aborted: this.abortReason } : {}),
    };
  }

  /** Where a row stands after the journal: what to do with it now. */
  private resume(run: RowRun, now: number): void {
    switch (run.phase) {
      case 'final':
        this.done += 1;
        return;
      case 'live':
        this.live += 1;
        this.polls.push(now, run);
        return;
      case 'ended':
        this.finishEnded(run, now);
        return;
      case 'sending':
        // Sent by a run that stopped before the answer: a lost outcome.
        run.phase = 'waiting';
        this.timed.push(now, run);
        return;
      default:
        this.timed.push(run.dueAt, run);
    }
  }

  private kick(): void {
    const previous = this.wake;
    this.wake = new AbortController();
    previous.abort();
  }

  private record(event: JournalEvent): void {
    // After run() returned (the journal may be closed): a late answer is the next run's to find out.
    if (this.closed) return;
    this.deps.journal.append(event);
    this.apply(event);
  }

  /** One event's effect on its row: the same whether it is happening or being replayed. */
  private apply(event: JournalEvent): void {
    if (event.t === 'start') {
      this.journalUrl = event.url;
      return;
    }
    const run = this.runs.get(event.row);
    if (!run) return; // a row no longer in the CSV: nothing to do with it
    switch (event.t) {
      case 'sending':
        run.phase = 'sending';
        run.attempt = event.attempt;
        run.gen = event.gen;
        if (run.unresolved?.key === event.key) run.unresolved.resends += 1;
        else run.unresolved = { key: event.key, since: event.at, url: this.journalUrl, mayExist: false, resends: 0 };
        return;
      case 'placed':
        run.unresolved = undefined;
        run.phase = 'live';
        run.callSid = event.callSid;
        run.room = event.room;
        run.placed = Math.max(run.placed, run.attempt);
        if (!run.knownCalls.includes(event.callSid)) run.knownCalls.push(event.callSid);
        return;
      case 'later':
        run.phase = 'waiting';
        run.dueAt = event.dueAt;
        run.lastError = `${event.code}: ${event.message}`;
        if (event.definite) run.unresolved = undefined;
        if (event.concurrency) run.capacityRefusals += 1;
        else run.later += 1;
        return;
      case 'unanswered':
        run.phase = 'waiting';
        run.dueAt = event.at + backoffMs(run.unresolved?.resends ?? 0);
        run.lastError = `${event.code}: ${event.message}`;
        return;
      case 'uncertain':
        run.phase = 'waiting';
        if (run.unresolved) {
          run.unresolved.mayExist = true;
          run.dueAt = run.unresolved.since + RECONCILE_AFTER_MS;
        }
        run.lastError = `${event.code}: ${event.message}`;
        return;
      case 'reconciled':
        if (event.callSid) {
          run.unresolved = undefined;
          run.phase = 'live';
          run.callSid = event.callSid;
          run.room = '';
          run.placed = Math.max(run.placed, run.attempt);
          if (!run.knownCalls.includes(event.callSid)) run.knownCalls.push(event.callSid);
        } else {
          run.unresolved = undefined;
          run.gen += 1;
          run.phase = 'waiting';
          run.dueAt = event.at;
        }
        return;
      case 'ended':
        run.phase = 'ended';
        run.endedStatus = event.status;
        if (RETRIED.has(event.status) && run.attempt < this.options.attempts) {
          run.attempt += 1;
          run.gen = 0;
          run.phase = 'waiting';
          run.dueAt = event.at + this.options.retryDelayMs;
        }
        return;
      case 'final':
        run.phase = 'final';
        run.final = resultOf(event);
        return;
    }
  }

  private finalize(run: RowRun, status: string, error: string, now: number): void {
    if (run.phase === 'live') this.live -= 1;
    this.record({
      t: 'final',
      at: now,
      row: run.row.id,
      status,
      ...(run.callSid ? { callSid: run.callSid } : {}),
      ...(run.room ? { room: run.room } : {}),
      ...(error ? { error } : {}),
      attempts: run.placed,
    });
    this.done += 1;
    this.deps.onFinal?.(run.final!);
    this.deps.onEvent?.({ kind: 'final', result: run.final! });
  }

  /** A call that ended (now or in an earlier run) and is not called again: its status is the row's. */
  private finishEnded(run: RowRun, now: number): void {
    const note = run.capacityRefusals ? `after ${run.capacityRefusals} capacity refusals by Twilio` : '';
    this.finalize(run, run.endedStatus, note, now);
  }

  private fresh(run: RowRun, now: number): boolean {
    const u = run.unresolved;
    return !!u && !u.mayExist && u.url === this.options.url && now - u.since < KEY_FRESH_MS;
  }

  /** Moves due rows on, starts due polls and reconciles, sends one request if it may; 0 when it did something. */
  private step(now: number): number {
    if (this.stopping || this.abortReason) return Infinity;
    for (let run = this.polls.popDue(now); run; run = this.polls.popDue(now)) this.poll(run);
    for (let run = this.timed.popDue(now); run; run = this.timed.popDue(now)) this.route(run, now);
    while (this.reconciling < MAX_RECONCILES_AT_ONCE && this.reconcileQueue.length) this.reconcile(this.reconcileQueue.shift()!);
    if (this.sending + this.live >= this.limit) return Infinity;
    const zone = this.openZone(now);
    if (!zone.queue) return zone.opensIn;
    const queue = zone.queue;
    const run = queue.items[queue.head]!;
    const take = () => {
      queue.head += 1;
      if (queue.head > 1024 && queue.head * 2 > queue.items.length) {
        queue.items.splice(0, queue.head);
        queue.head = 0;
      }
    };
    if (this.deps.optedOut(run.to)) {
      take();
      run.phase = 'waiting';
      this.finalize(run, 'opted-out', 'on the opt-out list', now);
      return 0;
    }
    // Time passed in the queue (a closed window): a key too old to settle its own request is settled by the call list.
    if (run.unresolved && !this.fresh(run, now)) {
      take();
      run.phase = 'waiting';
      this.route(run, now);
      return 0;
    }
    const tokenWait = this.bucket.take(now);
    if (tokenWait > 0) return tokenWait;
    take();
    this.dispatch(run, now);
    return 0;
  }

  /** A row whose time has come: to the calling queue of its zone, or to be settled first. */
  private route(run: RowRun, now: number): void {
    if (run.phase === 'final' || run.phase === 'live' || run.phase === 'sending' || run.phase === 'reconciling') return;
    if (run.unresolved && !this.fresh(run, now)) {
      const at = run.unresolved.since + RECONCILE_AFTER_MS;
      if (now < at) {
        run.dueAt = at;
        this.timed.push(at, run);
      } else {
        run.phase = 'reconciling';
        this.reconcileQueue.push(run);
      }
      return;
    }
    run.phase = 'queued';
    let queue = this.zones.get(run.zone);
    if (!queue) {
      queue = { items: [], head: 0, opensAt: 0 };
      this.zones.set(run.zone, queue);
    }
    queue.items.push(run);
    this.queuedAt.set(run, (this.queuedCounter += 1));
  }

  /** The zone whose longest-waiting row may be called now, or how long until one opens. */
  private openZone(now: number): { queue?: { items: RowRun[]; head: number; opensAt: number }; opensIn: number } {
    let best: { items: RowRun[]; head: number; opensAt: number } | undefined;
    let bestOrder = Infinity;
    let opensAt = Infinity;
    for (const [zone, queue] of this.zones) {
      if (queue.head >= queue.items.length) continue;
      const window = this.options.window;
      if (window && zone) {
        if (queue.opensAt > now) {
          opensAt = Math.min(opensAt, queue.opensAt);
          continue;
        }
        if (!isOpen(now, zone, window)) {
          queue.opensAt = nextOpening(now, zone, window);
          opensAt = Math.min(opensAt, queue.opensAt);
          continue;
        }
      }
      const order = this.queuedAt.get(queue.items[queue.head]!) ?? 0;
      if (order < bestOrder) {
        best = queue;
        bestOrder = order;
      }
    }
    return best ? { queue: best, opensIn: 0 } : { opensIn: opensAt - now };
  }

  private dispatch(run: RowRun, now: number): void {
    const key = run.unresolved?.key ?? idempotencyKey(this.options.campaign, run.row.id, run.attempt, run.gen);
    this.record({ t: 'sending', at: now, row: run.row.id, to: run.to, key, attempt: run.attempt, gen: run.gen });
    this.sending += 1;
    void this.deps
      .send({ ...run.row.params, IdempotencyKey: key })
      .then(
        (answer) => classifyAnswer(answer),
        (error: unknown): Verdict => ({
          kind: 'unanswered',
          code: 'no-answer',
          message: error instanceof Error ? error.message : String(error),
        }),
      )
      .then((verdict) => {
        this.sending -= 1;
        if (this.closed) return;
        this.unanswered = verdict.kind === 'unanswered' ? this.unanswered + 1 : 0;
        if (this.unanswered >= MAX_UNANSWERED_IN_A_ROW)
          this.abortReason ??= `the service did not answer ${this.unanswered} requests in a row (${verdict.kind === 'unanswered' ? verdict.message : ''})`;
        this.answered(run, key, verdict);
        this.kick();
      });
  }

  private answered(run: RowRun, key: string, verdict: Verdict): void {
    const now = this.deps.clock.now();
    const row = run.row.id;
    switch (verdict.kind) {
      case 'placed':
        this.record({
          t: 'placed',
          at: now,
          row,
          key,
          callSid: verdict.callSid,
          room: verdict.room,
          ...(verdict.replayed ? { replayed: true } : {}),
        });
        this.live += 1;
        if (!verdict.replayed) this.placedThisRun += 1;
        this.polls.push(now + this.options.pollMs, run);
        this.deps.onEvent?.({ kind: 'placed', row, callSid: verdict.callSid, attempt: run.attempt, replayed: verdict.replayed });
        return;
      case 'later': {
        if ((verdict.concurrency ? run.capacityRefusals + 1 > MAX_CAPACITY_REFUSALS : run.later + 1 > MAX_LATER) && verdict.definite) {
          run.phase = 'waiting';
          const tries = verdict.concurrency ? MAX_CAPACITY_REFUSALS : MAX_LATER;
          this.finalize(run, 'refused', `${verdict.code}: ${verdict.message} (given up after ${tries} tries)`, now);
          return;
        }
        let dueAt = now + verdict.afterMs;
        if (verdict.concurrency) {
          // Twilio holds fewer calls than --concurrency: hold no more than are live now.
          const lowered = Math.max(1, this.live);
          if (lowered < this.limit) {
            this.limit = lowered;
            this.deps.onEvent?.({ kind: 'limit', concurrency: lowered, reason: verdict.message });
          }
          dueAt = now + Math.max(verdict.afterMs, 1000);
        }
        this.record({
          t: 'later',
          at: now,
          row,
          key,
          dueAt,
          code: verdict.code,
          message: verdict.message,
          definite: verdict.definite,
          ...(verdict.concurrency ? { concurrency: true } : {}),
        });
        this.timed.push(dueAt, run);
        this.deps.onEvent?.({
          kind: 'later',
          row,
          code: verdict.code,
          message: verdict.message,
          dueAt,
          concurrency: !!verdict.concurrency,
        });
        return;
      }
      case 'unanswered':
        this.record({ t: 'unanswered', at: now, row, key, code: verdict.code, message: verdict.message });
        this.timed.push(run.dueAt, run);
        return;
      case 'uncertain':
        this.record({ t: 'uncertain', at: now, row, key, code: verdict.code, message: verdict.message });
        this.timed.push(run.dueAt, run);
        this.deps.onEvent?.({ kind: 'uncertain', row, message: verdict.message, reconcileAt: run.dueAt });
        return;
      case 'refused':
        run.phase = 'waiting';
        this.finalize(run, 'refused', `${verdict.code}: ${verdict.message}`, now);
        return;
      case 'abort':
        // Wrong for every row: this request placed nothing, and the row stays as it was for the next run; an
        // earlier request's lost outcome stays unresolved (not definite), for the call list to settle.
        this.record({ t: 'later', at: now, row, key, dueAt: now, code: verdict.code, message: verdict.message, definite: false });
        this.abortReason ??= verdict.message;
        return;
    }
  }

  private poll(run: RowRun): void {
    if (run.phase !== 'live' || run.polling) return;
    run.polling = true;
    const callSid = run.callSid;
    void this.deps.calls.fetchStatus(callSid).then(
      (status) => {
        run.polling = false;
        if (this.closed) return;
        const now = this.deps.clock.now();
        if (run.phase !== 'live' || run.callSid !== callSid) return;
        if (status === 'not-found') {
          run.pollNotFound += 1;
          if (run.pollNotFound < POLL_NOT_FOUND_LIMIT) this.polls.push(now + this.options.pollMs, run);
          else this.ended(run, 'unknown', now);
        } else if (FINAL_STATUSES.has(status)) this.ended(run, status, now);
        else this.polls.push(now + this.options.pollMs, run);
        this.kick();
      },
      () => {
        run.polling = false;
        this.polls.push(this.deps.clock.now() + Math.max(this.options.pollMs, 5000), run);
        this.kick();
      },
    );
  }

  private ended(run: RowRun, status: string, now: number): void {
    const callSid = run.callSid;
    this.record({ t: 'ended', at: now, row: run.row.id, callSid, status });
    if (run.phase === 'waiting') {
      // Called again after the delay (../campaign: attempts): a new call, under a new key.
      this.live -= 1;
      this.timed.push(run.dueAt, run);
      this.deps.onEvent?.({ kind: 'ended', row: run.row.id, callSid, status, attempt: run.attempt - 1, retryAt: run.dueAt });
      return;
    }
    this.deps.onEvent?.({ kind: 'ended', row: run.row.id, callSid, status, attempt: run.attempt });
    this.live -= 1;
    run.phase = 'ended';
    this.finishEnded(run, now);
  }

  private reconcile(run: RowRun): void {
    const unresolved = run.unresolved;
    if (!unresolved) {
      run.phase = 'waiting';
      this.timed.push(this.deps.clock.now(), run);
      return;
    }
    this.reconciling += 1;
    void findLostCall(this.deps.calls, { to: run.to, since: unresolved.since, known: run.knownCalls }).then(
      ({ callSid, listed }) => {
        this.reconciling -= 1;
        if (this.closed) return;
        const now = this.deps.clock.now();
        this.record({ t: 'reconciled', at: now, row: run.row.id, key: unresolved.key, callSid, listed });
        this.deps.onEvent?.({ kind: 'reconciled', row: run.row.id, callSid });
        if (callSid) {
          this.live += 1;
          this.polls.push(now, run);
        } else this.timed.push(now, run);
        this.kick();
      },
      () => {
        this.reconciling -= 1;
        run.phase = 'waiting';
        this.timed.push(this.deps.clock.now() + 30_000, run);
        this.kick();
      },
    );
  }
}

/** A row's result, as its journal's `final` event says it. */
export function resultOf(event: Extract<JournalEvent, { t: 'final' }>): RowResult {
  return {
    row: event.row,
    callSid: event.callSid ?? '',
    room: event.room ?? '',
    status: event.status,
    error: event.error ?? '',
    attempts: event.attempts,
  };
}
