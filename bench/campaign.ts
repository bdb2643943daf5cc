/**
 * `npm run bench:campaign`: a campaign of 10,000 rows at 50 requests a
 * second (BENCH_CAMPAIGN_ROWS, BENCH_CAMPAIGN_RATE) against the real
 * `outbound` handler behind a loopback HTTP server, the LiveKit and Twilio
 * stand-ins, and the real `status` handler fed each call's four status
 * callbacks as Twilio would send them. Numbers only, not a test:
 * tests/campaign asserts.
 *
 * The service and the stand-ins run in a worker thread (their own heap),
 * the campaign in the main thread on the real clock, so that the rate is
 * the one achieved on the wall clock and the heap measured is the
 * campaign's own. Half-way the campaign is killed (from then on nothing it
 * does reaches the service, Twilio or its journal, and the answers in flight
 * are lost) and run again from its journal; then a second campaign is
 * killed, the service's keys are wiped (as 10 minutes would), and it is run
 * again eleven minutes later by its clock, so Twilio's call list must settle
 * every lost outcome. Prints the achieved rate against the target,
 * duplicates across each resume, the heap, and what each call cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import twilio from 'twilio';
import { twilioCallLookup, TwilioCallsApi } from '../src/campaign/calls';
import { Clock, realClock } from '../src/campaign/clock';
import { JournalEvent, JournalFile, readJournal } from '../src/campaign/journal';
import type { CampaignRow } from '../src/campaign/rows';
import { CampaignRunner, Summary } from '../src/campaign/runner';
import { postSigned } from '../src/deploy/signed-post';
import { handler as statusHandler } from '../src/functions/status.protected';
import { CampaignTwilioStandIn, OutboundServer } from '../tests/support/campaign-stand-in';
import { liveKitEnv } from '../tests/support/fixtures';
import { LiveKitStandIn } from '../tests/support/livekit-stand-in';
import { ACCOUNT_SID, AUTH_TOKEN, invoke, localContext } from '../tests/support/runtime';
import { loopbackHttpClient } from '../tests/support/twilio-stand-in';

const ROWS = Number(process.env.BENCH_CAMPAIGN_ROWS ?? 10_000);
const RATE = Number(process.env.BENCH_CAMPAIGN_RATE ?? 50);
const EXPIRED_ROWS = Math.max(100, Math.round(ROWS / 10));
/** Each call rings and ends this long after it is created; polled this often. */
const CALL_MS = 1000;
const POLL_MS = 1500;
const CONCURRENCY = 400;
const COST_ROWS = 300;

type Request = { id: number; cmd: 'stats' | 'expire' | 'stop' | 'callbacks-on' | 'callbacks-off' };
interface Stats {
  calls: number;
  duplicates: number;
  outboundInvocations: number;
  statusInvocations: number;
  liveKitRequests: number;
  liveKitByMethod: Record<string, number>;
  syncWrites: number;
}

/** The service side: stand-ins, `outbound` over HTTP, and the status callbacks each call makes. */
async function serviceWorker(): Promise<void> {
  const liveKit = await new LiveKitStandIn().start();
  const twilioApi = await new CampaignTwilioStandIn(ACCOUNT_SID, AUTH_TOKEN).start();
  twilioApi.lifecycle = () => ({ status: 'completed', afterMs: CALL_MS });
  // LiveKit Cloud answers in tens of milliseconds, not the stand-in's one: so that requests are in flight when the campaign is killed.
  liveKit.jitter = { min: 20, max: 80 };
  const server = await new OutboundServer({ liveKit, twilioApi }).start();
  // The stand-ins keep every request; counted and dropped as they come, so the worker's heap stays small.
  const byMethod: Record<string, number> = {};
  let liveKitRequests = 0;
  let syncWrites = 0;
  let statusInvocations = 0;
  let seenCalls = 0;
  let callbacks = false;
  const drain = () => {
    for (const r of liveKit.requests) byMethod[r.method] = (byMethod[r.method] ?? 0) + 1;
    liveKitRequests += liveKit.requests.length;
    liveKit.requests.length = 0;
    liveKit.dataMessages.length = 0;
    syncWrites += twilioApi.sync.creates.length + twilioApi.sync.writes.length;
    twilioApi.sync.creates.length = 0;
    twilioApi.sync.writes.length = 0;
  };
  const origin = new URL(server.url).host;
  const callback = async (url: string, params: Record<string, string>) => {
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
    const context = localContext(
      liveKitEnv(liveKit, { OUTBOUND_CALLER_IDS: '+14155550100', AGENT_NAMES: 'outbound-agent', DOMAIN_NAME: origin }),
      '/status',
      3000,
      (o) => twilioApi.client(o?.timeout),
    );
    const event = {
      ...Object.fromEntries(new URL(url).searchParams),
      ...params,
      request: { headers: { 'x-twilio-signature': signature }, cookies: {} },
    };
    statusInvocations += 1;
    await invoke(statusHandler, context, event);
  };
  // Twilio's four callbacks for each call placed: initiated, ringing, answered (in-progress), completed.
  const feed = setInterval(() => {
    for (; seenCalls < twilioApi.calls.length; seenCalls += 1) {
      const call = twilioApi.calls[seenCalls]!;
      const url = String(call.params.StatusCallback ?? '');
      if (!url || !callbacks) continue;
      const base = { CallSid: call.sid, AccountSid: ACCOUNT_SID };
      const steps: [number, string][] = [
        [0, 'initiated'],
        [CALL_MS / 4, 'ringing'],
        [CALL_MS / 2, 'in-progress'],
        [CALL_MS, 'completed'],
      ];
      steps.forEach(([after, status], i) =>
        setTimeout(() => void callback(url, { ...base, CallStatus: status, SequenceNumber: String(i) }).catch(() => undefined), after),
      );
    }
    drain();
  }, 20);
  const quiet = () => undefined;
  console.log = quiet;
  console.error = quiet;
  parentPort!.postMessage({ ready: true, url: server.url, twilioOrigin: twilioApi.origin });
  parentPort!.on('message', async (message: Request) => {
    if (message.cmd === 'expire') twilioApi.sync.reset();
    if (message.cmd === 'callbacks-on') callbacks = true;
    if (message.cmd === 'callbacks-off') callbacks = false;
    if (message.cmd === 'stop') {
      clearInterval(feed);
      await server.stop();
      await liveKit.stop();
      await twilioApi.stop();
      parentPort!.postMessage({ id: message.id });
      return;
    }
    drain();
    const byTo = new Map<string, number>();
    for (const c of twilioApi.calls) byTo.set(String(c.params.To), (byTo.get(String(c.params.To)) ?? 0) + 1);
    const stats: Stats = {
      calls: twilioApi.calls.length,
      duplicates: [...byTo.values()].reduce((n, k) => n + k - 1, 0),
      outboundInvocations: server.invocations,
      statusInvocations,
      liveKitRequests,
      liveKitByMethod: { ...byMethod },
      syncWrites,
    };
    parentPort!.postMessage({ id: message.id, stats });
  });
}

/** A campaign run that can be killed: after `crashAt` sends, nothing more it does reaches anything. */
function campaignRun(
  rows: CampaignRow[],
  campaign: string,
  journalFile: string,
  service: { url: string; twilioOrigin: string },
  clock: Clock,
  crashAt?: number,
  rate = RATE,
) {
  const journal = new JournalFile(journalFile);
  const history = readJournal(journalFile);
  let dead = false;
  const never = <T>() => new Promise<T>(() => undefined);
  const sendTimes: number[] = [];
  const lookup = twilioCallLookup(
    twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: loopbackHttpClient(service.twilioOrigin, 10_000) }) as unknown as TwilioCallsApi,
  );
  const runner = new CampaignRunner(
    rows,
    {
      campaign,
      url: service.url,
      account: ACCOUNT_SID,
      rate,
      concurrency: CONCURRENCY,
      attempts: 1,
      retryDelayMs: 60_000,
      pollMs: POLL_MS,
    },
    {
      clock,
      journal: { append: (e: JournalEvent) => (dead ? undefined : journal.append(e)) },
      optedOut: () => false,
      calls: {
        fetchStatus: (sid) => (dead ? never() : lookup.fetchStatus(sid)),
        list: (filter) => (dead ? never() : lookup.list(filter)),
      },
      send: async (params) => {
        if (dead) return never();
        sendTimes.push(performance.now());
        if (crashAt !== undefined && sendTimes.length >= crashAt) dead = true;
        const answer = await postSigned(service.url, params, AUTH_TOKEN);
        return dead ? never() : answer;
      },
    },
    history,
  );
  const finished = runner.run();
  if (process.env.BENCH_DEBUG) {
    const t = setInterval(() => console.error(campaign, dead ? 'dead' : 'alive', JSON.stringify(runner.snapshot())), 2000);
    void finished.finally(() => clearInterval(t));
  }
  const done = new Promise<Summary | undefined>((resolve) => {
    void finished.then(resolve);
    const check = () => (dead ? setTimeout(() => resolve(undefined), 3000) : setTimeout(check, 10));
    check();
  }).finally(() => journal.close());
  return { done, sendTimes };
}

function rowsFor(n: number, prefix: string, first: number): CampaignRow[] {
  return Array.from({ length: n }, (_, i) => {
    const number = first + i;
    return { id: `${prefix}${i + 1}`, line: i + 2, params: { To: `+1${String(number)}`, AgentName: 'outbound-agent' } };
  });
}

function achieved(times: number[]): number {
  return times.length < 2 ? 0 : ((times.length - 1) / (times.at(-1)! - times[0]!)) * 1000;
}

async function main(): Promise<void> {
  v8.setFlagsFromString('--expose_gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed / 2 ** 20;
  };
  const worker = new Worker(__filename, { workerData: { role: 'service' } });
  const debug = process.env.BENCH_DEBUG ? (...a: unknown[]) => console.error(new Date().toISOString(), ...a) : () => undefined;
  worker.on('error', (e) => console.error('worker error', e));
  const service = await new Promise<{ url: string; twilioOrigin: string }>((resolve) =>
    worker.once('message', (m: { url: string; twilioOrigin: string }) => resolve(m)),
  );
  let ids = 0;
  const ask = (cmd: Request['cmd']) =>
    new Promise<Stats>((resolve) => {
      const id = (ids += 1);
      const listen = (m: { id?: number; stats: Stats }) => {
        if (m.id !== id) return;
        worker.off('message', listen);
        resolve(m.stats);
      };
      worker.on('message', listen);
      worker.postMessage({ id, cmd });
    });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-campaign-'));

  // 0. What a call costs, with Twilio's four status callbacks fed to the status handler: a small campaign at 10/s.
  await ask('callbacks-on');
  const costRows = rowsFor(COST_ROWS, 'c', 2_125_550_000);
  const cost = campaignRun(costRows, 'cost', path.join(dir, 'cost.journal.jsonl'), service, realClock, undefined, 10);
  await cost.done;
  await new Promise((resolve) => setTimeout(resolve, CALL_MS + 500));
  const costStats = await ask('stats');
  await ask('callbacks-off');

  // 1. 10,000 rows, killed half-way, run again from the journal.
  const rows = rowsFor(ROWS, 'r', 4_155_551_000);
  const journalA = path.join(dir, 'a.journal.jsonl');
  const heapBefore = heap();
  const killedAt = Math.floor(ROWS / 2);
  debug('service up', service);
  const first = campaignRun(rows, 'bench', journalA, service, realClock, killedAt);
  await first.done;
  debug('first done', first.sendTimes.length);
  const afterKill = await ask('stats');
  const heapAfterKill = heap();
  const resumed = campaignRun(rows, 'bench', journalA, service, realClock);
  const summary = await resumed.done;
  debug('resumed done', resumed.sendTimes.length, summary);
  const afterResume = await ask('stats');
  const heapAfter = heap();
  const eventsA = readJournal(journalA);

  // 2. Another campaign killed, its keys wiped (10 minutes), run again 11 minutes later by its clock.
  const rowsB = rowsFor(EXPIRED_ROWS, 'x', 6_465_550_000);
  const journalB = path.join(dir, 'b.journal.jsonl');
  const second = campaignRun(rowsB, 'expired', journalB, service, realClock, Math.floor(EXPIRED_ROWS / 2));
  await second.done;
  await ask('expire');
  const later: Clock = { now: () => Date.now() + 11 * 60_000, sleep: realClock.sleep };
  const afterExpiry = campaignRun(rowsB, 'expired', journalB, service, later);
  const summaryB = await afterExpiry.done;
  const end = await ask('stats');
  const eventsB = readJournal(journalB);
  await ask('stop');
  await worker.terminate();

  const lost = (events: JournalEvent[]) => {
    // Rows whose last event before the second run's start was `sending`: outcomes the kill lost.
    const starts = events.map((e, i) => (e.t === 'start' ? i : -1)).filter((i) => i >= 0);
    const last = new Map<string, string>();
    for (const e of events.slice(0, starts[1] ?? events.length)) if ('row' in e) last.set(e.row, e.t);
    return [...last.values()].filter((t) => t === 'sending').length;
  };
  const reconciled = eventsB.filter((e) => e.t === 'reconciled');
  const replayed = eventsA.filter((e) => e.t === 'placed' && e.replayed).length;
  const calls = end.calls;
  const rateA = achieved(first.sendTimes);
  const rateB = achieved(resumed.sendTimes);
  const all = [...first.sendTimes, ...resumed.sendTimes];
  const span = first.sendTimes.at(-1)! - first.sendTimes[0]! + (resumed.sendTimes.at(-1)! - resumed.sendTimes[0]!);
  const overall = ((all.length - 2) / span) * 1000;
  const pct = (r: number) => `${(((r - RATE) / RATE) * 100).toFixed(2)}%`;
  const out = [
    `campaign bench: ${ROWS} rows at ${RATE} requests/s, calls of ${CALL_MS} ms, polled every ${POLL_MS} ms, up to ${CONCURRENCY} at once; Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}`,
    '',
    '| | value |',
    '| --- | --- |',
    `| achieved rate, first run (${first.sendTimes.length} requests until killed) | ${rateA.toFixed(2)}/s (${pct(rateA)}) |`,
    `| achieved rate, resumed run (${resumed.sendTimes.length} requests) | ${rateB.toFixed(2)}/s (${pct(rateB)}) |`,
    `| achieved rate, both runs | ${overall.toFixed(2)}/s (${pct(overall)}) |`,
    `| killed at request ${killedAt}: outcomes lost | ${lost(eventsA)} (answers in flight) |`,
    `| calls placed / rows | ${afterResume.calls - costStats.calls} / ${ROWS} |`,
    `| duplicates across the kill and resume | ${afterResume.duplicates - costStats.duplicates} |`,
    `| lost outcomes settled by the key (replayed) | ${replayed} |`,
    `| rows done (resumed run's summary) | ${JSON.stringify(summary?.statuses ?? {})} |`,
    `| keys expired: ${EXPIRED_ROWS} rows killed half-way, outcomes lost | ${lost(eventsB)} |`,
    `| keys expired: settled by the call list (found / none) | ${reconciled.filter((e) => e.t === 'reconciled' && e.callSid).length} / ${reconciled.filter((e) => e.t === 'reconciled' && !e.callSid).length} |`,
    `| duplicates across the resume after keys expired | ${end.duplicates - afterResume.duplicates} |`,
    `| rows done after expiry | ${JSON.stringify(summaryB?.statuses ?? {})} |`,
    `| heap (campaign's thread, after GC): start, after kill, end | ${heapBefore.toFixed(1)} MiB, ${heapAfterKill.toFixed(1)} MiB, ${heapAfter.toFixed(1)} MiB |`,
    `| outbound invocations per call placed (${COST_ROWS}-row campaign, no kill) | ${(costStats.outboundInvocations / costStats.calls).toFixed(3)} |`,
    `| outbound invocations per call, across the kill (resends of lost answers included) | ${((end.outboundInvocations - costStats.outboundInvocations) / (calls - costStats.calls)).toFixed(3)} |`,
    `| status callback invocations per call | ${(costStats.statusInvocations / costStats.calls).toFixed(2)} |`,
    `| LiveKit requests per call (outbound + 4 status callbacks) | ${(costStats.liveKitRequests / costStats.calls).toFixed(2)} |`,
    `| LiveKit requests per call, by method | ${Object.entries(costStats.liveKitByMethod)
      .map(([m, n]) => `${m} ${(n / costStats.calls).toFixed(2)}`)
      .join(', ')} |`,
    `| Sync writes per call (IdempotencyKey) | ${(costStats.syncWrites / costStats.calls).toFixed(2)} |`,
    `| calls placed before the kill | ${afterKill.calls - costStats.calls} |`,
  ];
  console.log(out.join('\n'));
  rmSync(dir, { recursive: true, force: true });
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else if ((workerData as { role?: string } | null)?.role === 'service') {
  void serviceWorker();
}
