/**
 * `npm run bench`: our compiled `incoming` against the baseline written as
 * LiveKit's guide shows it, side by side, against the loopback LiveKit
 * stand-in. Prints tables of medians and ratios. Not a test: numbers only.
 */
import { spawn } from 'node:child_process';
import { Dirent, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRoutes } from '../src/config/routes';
import { LiveKitStandIn } from '../tests/support/livekit-stand-in';

// Runs from bench/.out/run/run.js once bundled.
const ROOT = path.resolve(__dirname, '..', '..', '..');
const WORKER = path.join(ROOT, 'bench', 'worker.cjs');
const IMPLS = {
  ours: path.join(ROOT, 'dist', 'functions', 'incoming.js'),
  baseline: path.join(ROOT, 'bench', '.out', 'baseline', 'incoming.js'),
} as const;
type Impl = keyof typeof IMPLS;

const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
const WARM_CALLS = Number(process.env.BENCH_WARM_CALLS ?? 5000);
const CONCURRENT_CALLS = Number(process.env.BENCH_CONCURRENT_CALLS ?? 500);

interface WorkerResult {
  twilioMs: number;
  loadMs: number;
  firstMs?: number;
  error?: string;
  streamUrl?: string;
  fallback?: boolean;
  latencies?: number[];
  urls?: (string | null)[];
  errors?: number;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}
const median = (v: number[]) => quantile(v, 0.5);
const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 2 : 1)} ms` : 'n/a');
const ratio = (baseline: number, ours: number) => `${(baseline / ours).toFixed(1)}x`;

function runWorker(impl: Impl, mode: string, url: string, count = 1): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, IMPLS[impl], mode, url, String(count)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as WorkerResult);
      } catch {
        reject(new Error(`worker ${impl} ${mode} exited ${code}: ${err.slice(0, 2000)}`));
      }
    });
  });
}

function table(headers: string[], rows: string[][]): string {
  const lines = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

function dirBytes(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }) as Dirent[]) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else total += statSync(full).size;
    }
  };
  walk(dir);
  return total;
}

/** Bytes of a package and its dependency closure as npm installed them here. */
function installBytes(names: string[]): number {
  const seen = new Set<string>();
  const queue = [...names];
  let total = 0;
  while (queue.length) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const dir = path.join(ROOT, 'node_modules', name);
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      total += dirBytes(dir);
      queue.push(...Object.keys(pkg.dependencies ?? {}));
    } catch {
      // optional or nested dependency not hoisted: not counted
    }
  }
  return total;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const stand = await new LiveKitStandIn().start();
  const out: string[] = [];
  const say = (s = '') => {
    out.push(s);
    console.log(s);
  };
  say(`# incoming: ours vs the documented way`);
  say();
  say(
    `Machine: ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`,
  );
  say();

  // Cold start: a fresh process per run, alternating so drift hits both alike.
  const cold: Record<Impl, WorkerResult[]> = { ours: [], baseline: [] };
  for (let i = 0; i < COLD_RUNS; i += 1) {
    for (const impl of ['ours', 'baseline'] as Impl[]) {
      stand.reset();
      const r = await runWorker(impl, 'cold', stand.url);
      if (r.error || !r.streamUrl) throw new Error(`${impl} cold run failed: ${r.error ?? 'no stream URL'}`);
      cold[impl].push(r);
    }
  }
  const coldRow = (label: string, pick: (r: WorkerResult) => number) => {
    const o = cold.ours.map(pick);
    const b = cold.baseline.map(pick);
    return [
      label,
      `${ms(median(o))} (${ms(Math.min(...o))}-${ms(Math.max(...o))})`,
      `${ms(median(b))} (${ms(Math.min(...b))}-${ms(Math.max(...b))})`,
      ratio(median(b), median(o)),
    ];
  };
  say(`## Cold start (${COLD_RUNS} fresh processes each; median, min-max)`);
  say();
  say(
    table(
      ['', 'ours', 'baseline', 'baseline / ours'],
      [
        coldRow('module load (twilio already loaded)', (r) => r.loadMs),
        coldRow('first request', (r) => r.firstMs!),
        coldRow('load + first request', (r) => r.loadMs + r.firstMs!),
      ],
    ),
  );
  say();

  // Warm: sequential invocations in one process, minus the stand-in's own time.
  say(`## Warm (${WARM_CALLS} sequential invocations in one process)`);
  say();
  const warmRows: string[][] = [];
  for (const impl of ['ours', 'baseline'] as Impl[]) {
    stand.reset();
    stand.serviceTimes.length = 0;
    const before = stand.connections;
    const r = await runWorker(impl, 'warm', stand.url, WARM_CALLS);
    const service = stand.serviceTimes.slice(-WARM_CALLS);
    const overhead = r.latencies!.map((l, i) => l - (service[i] ?? 0));
    // The second half shows the steady state, once V8 has compiled the hot path.
    const settled = overhead.slice(Math.floor(overhead.length / 2));
    warmRows.push([
      impl,
      ms(median(r.latencies!)),
      ms(median(overhead)),
      ms(quantile(overhead, 0.99)),
      ms(quantile(settled, 0.99)),
      ms(median(service)),
      String(stand.connections - before),
    ]);
  }
  say(
    table(
      ['', 'latency median', 'overhead median', 'overhead p99', 'overhead p99, second half', 'stand-in median', 'connections opened'],
      warmRows,
    ),
  );
  say();

  // Concurrency: all at once, each must get its own room and URL.
  say(`## Concurrency (${CONCURRENT_CALLS} invocations at once)`);
  say();
  const concRows: string[][] = [];
  for (const impl of ['ours', 'baseline'] as Impl[]) {
    stand.reset();
    const r = await runWorker(impl, 'concurrent', stand.url, CONCURRENT_CALLS);
    const issued = new Set(stand.connectUrls.values());
    const urls = r.urls!.filter((u): u is string => !!u);
    const distinct = new Set(urls).size;
    const allIssued = urls.every((u) => issued.has(u));
    // Room call-CA...n must have received the URL for request n: no cross-talk.
    const matched = r.urls!.filter((u, i) => u && stand.connectUrls.get(`call-CA${(i + 1).toString(16).padStart(32, '0')}`) === u).length;
    concRows.push([
      impl,
      `${urls.length}/${CONCURRENT_CALLS}`,
      String(distinct),
      `${matched}/${CONCURRENT_CALLS}${allIssued ? '' : ' (unknown URLs!)'}`,
      ms(median(r.latencies!)),
      ms(quantile(r.latencies!, 0.99)),
    ]);
  }
  say(table(['', 'answered with a stream', 'distinct URLs', 'URL matches its room', 'median', 'p99'], concRows));
  say();

  // A LiveKit that never answers.
  say(`## LiveKit never answers`);
  say();
  const hangRows: string[][] = [];
  for (const impl of ['ours', 'baseline'] as Impl[]) {
    stand.reset();
    stand.behaviour = { kind: 'hang' };
    const r = await runWorker(impl, 'hang', stand.url);
    const what = r.fallback ? 'spoken fallback TwiML (200)' : r.error ? `no TwiML: ${r.error.split('\n')[0]!.slice(0, 80)}` : 'TwiML';
    hangRows.push([impl, ms(r.firstMs!), what]);
  }
  say(table(['', 'time until the function answers', 'what Twilio gets'], hangRows));
  say();

  // Size: what each deploy carries.
  say(`## Bundle`);
  say();
  const oursFn = statSync(IMPLS.ours).size;
  const baseFn = statSync(IMPLS.baseline).size;
  const sdkInstall = installBytes(['livekit-server-sdk', '@livekit/protocol']);
  say(
    table(
      ['', 'compiled function', 'installed on Twilio besides the runtime'],
      [
        ['ours', kib(oursFn), '0 (livekit-server-sdk is inside the bundle)'],
        ['baseline', kib(baseFn), `${kib(sdkInstall)} (livekit-server-sdk, @livekit/protocol and their dependencies)`],
      ],
    ),
  );
  say();
  say(routeMatching());
  await stand.stop();
}

/** Matching cost with 1,000 routes: 500 exact numbers and 500 prefixes of varied length. */
function routeMatching(): string {
  const routes = Array.from({ length: 1000 }, (_, i) =>
    i % 2 === 0
      ? { name: `exact-${i}`, numbers: [`+1415${String(5_000_000 + i).padStart(7, '0')}`] }
      : { name: `prefix-${i}`, prefixes: [`+${44 + (i % 7)}${String(i).padStart(3 + (i % 4), '0')}`] },
  );
  const text = JSON.stringify({ routes });
  const parseStart = performance.now();
  const routeTable = parseRoutes(text);
  const parseMs = performance.now() - parseStart;
  const numbers = Array.from({ length: 10_000 }, (_, i) =>
    i % 3 === 0
      ? `+1415${String(5_000_000 + (i % 1000)).padStart(7, '0')}`
      : i % 3 === 1
        ? `+${44 + (i % 7)}${String(i % 1000).padStart(6, '0')}1234`
        : `+3361234${String(i).padStart(4, '0')}`,
  );
  const perMatch: number[] = [];
  let sink = 0;
  for (let round = 0; round < 30; round += 1) {
    const start = performance.now();
    for (const number of numbers) sink += routeTable.match(number).name.length;
    perMatch.push(((performance.now() - start) * 1000) / numbers.length);
  }
  const us = (v: number) => `${v.toFixed(3)} µs`;
  return (
    [
      '## Route matching (1,000 routes: 500 exact numbers, 500 prefixes)',
      '',
      table(
        ['', 'value'],
        [
          ['load and validate the file (once per cold start)', ms(parseMs)],
          ['one match, median of 30 rounds of 10,000', us(median(perMatch))],
          ['one match, slowest round', us(Math.max(...perMatch))],
        ],
      ),
    ].join('\n') + (sink > 0 ? '' : ' ')
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
