/**
 * A campaign run against the real `outbound` handler and the stand-ins, on
 * a virtual clock, with its journal in a temporary folder: what the
 * campaign suites share. `crashAfter` stops it the way a killed process
 * stops: from that send on, nothing more reaches the service, Twilio or
 * the journal, and whatever was in flight never comes back.
 * `loseAnswer` lets chosen requests reach the service while their answers
 * never come back (a connection cut, or the process killed as they were
 * being answered).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Answer } from '../../src/deploy/signed-post';
import { twilioCallLookup, TwilioCallsApi } from '../../src/campaign/calls';
import { JournalEvent, JournalFile, JournalSink, readJournal } from '../../src/campaign/journal';
import type { CampaignRow } from '../../src/campaign/rows';
import { CampaignEvent, CampaignOptions, CampaignRunner, RowResult, Summary } from '../../src/campaign/runner';
import { ACCOUNT_SID } from './runtime';
import { CampaignTwilioStandIn, campaignTwilioClient, inProcessOutbound, Stands } from './campaign-stand-in';
import { VirtualClock } from './virtual-clock';

/** Monday 5 January 2026, 17:00 UTC: noon in New York, 17:00 in London. */
export const MONDAY_NOON_NEW_YORK = Date.UTC(2026, 0, 5, 17, 0);

export function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'campaign-'));
}

/** Rows calling distinct US numbers +1415555<1000+i>. */
export function usRows(n: number, extra: (i: number) => Partial<CampaignRow> = () => ({})): CampaignRow[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `r${i + 1}`,
    line: i + 2,
    params: { To: `+1415555${String(1000 + i)}`, AgentName: 'outbound-agent' },
    ...extra(i),
  }));
}

export interface Sent {
  at: number;
  row: string;
  to: string;
  key: string;
  /** Calls live plus requests in flight when it was sent (itself included). */
  busy: number;
}

export interface HarnessOptions extends Partial<CampaignOptions> {
  clock?: VirtualClock;
  env?: Record<string, string>;
  /** These sends (1-based) reach the service; their answers never come back. */
  loseAnswer?: number[];
  /** The run dies as it makes this send (1-based): its `sending` is on disk, the request never leaves. */
  crashBefore?: number;
  onEvent?: (event: CampaignEvent) => void;
  optedOut?: (to: string) => boolean;
  send?: (params: Record<string, string>) => Promise<Answer>;
}

export class Harness {
  readonly clock: VirtualClock;
  readonly sent: Sent[] = [];
  readonly results: RowResult[] = [];
  readonly runner: CampaignRunner;
  readonly journalFile: string;
  dead = false;
  private readonly journal: JournalFile;
  /** Requests still being served, answered or not: a crash waits for them, as the service would finish them. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    readonly stands: Stands & { twilioApi: CampaignTwilioStandIn },
    readonly rows: CampaignRow[],
    readonly dir: string,
    options: HarnessOptions = {},
  ) {
    this.clock = options.clock ?? new VirtualClock(MONDAY_NOON_NEW_YORK);
    stands.twilioApi.now = this.clock.now;
    this.journalFile = path.join(dir, 'campaign.journal.jsonl');
    const history = readJournal(this.journalFile);
    this.journal = new JournalFile(this.journalFile);
    const sink: JournalSink = { append: (e) => (this.dead ? undefined : this.journal.append(e)) };
    const service = options.send ?? inProcessOutbound(stands, options.env);
    const lookup = twilioCallLookup(campaignTwilioClient(stands.twilioApi) as unknown as TwilioCallsApi);
    const never = <T>() => new Promise<T>(() => undefined);
    let sends = 0;
    this.runner = new CampaignRunner(
      rows,
      {
        campaign: 'test',
        url: 'http://localhost:3000/outbound',
        account: ACCOUNT_SID,
        rate: 10,
        concurrency: 3,
        attempts: 1,
        retryDelayMs: 10 * 60_000,
        pollMs: 5000,
        ...options,
      },
      {
        clock: this.clock,
        journal: sink,
        optedOut: options.optedOut ?? (() => false),
        onFinal: (r) => this.results.push(r),
        calls: {
          fetchStatus: (sid) => (this.dead ? never() : this.clock.hold(lookup.fetchStatus(sid))),
          list: (filter) => (this.dead ? never() : this.clock.hold(lookup.list(filter))),
        },
        onEvent: options.onEvent,
        send: async (params) => {
          if (this.dead) return never();
          sends += 1;
          if (options.crashBefore === sends) {
            this.dead = true;
            return never();
          }
          const snapshot = this.runner.snapshot();
          this.sent.push({
            at: this.clock.now(),
            row: rowOf(rows, params.To!),
            to: params.To!,
            key: params.IdempotencyKey!,
            busy: snapshot.live + snapshot.sending,
          });
          const served = this.clock.hold(service(params));
          this.inFlight.add(served);
          void served.finally(() => this.inFlight.delete(served));
          if (options.loseAnswer?.includes(sends)) {
            await served;
            return never();
          }
          return served;
        },
      },
      history,
    );
  }

  /** Runs to the end, or until the crash (then resolves with undefined once the run is dead and idle). */
  async run(): Promise<Summary | undefined> {
    let finished = false;
    const running = this.runner.run().finally(() => (finished = true));
    const crashed = new Promise<undefined>((resolve) => {
      const check = () => {
        if (this.dead) void Promise.allSettled([...this.inFlight]).then(() => resolve(undefined));
        else if (!finished) setTimeout(check, 5);
      };
      check();
    });
    const outcome = await Promise.race([running, crashed]);
    if (outcome) this.journal.close();
    return outcome;
  }

  events(): JournalEvent[] {
    return readJournal(this.journalFile);
  }
}

function rowOf(rows: CampaignRow[], to: string): string {
  return rows.find((r) => r.params.To === to)?.id ?? '?';
}
