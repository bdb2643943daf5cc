/**
 * npm run campaign -- --csv calls.csv [--dry-run] [--url https://<service>/outbound] [--env FILE]
 *   [--campaign NAME] [--rate 1] [--concurrency 3] [--window 09:00-20:00] [--timezone ZONE]
 *   [--attempts 1] [--retry-delay 10m] [--opt-out FILE] [--country US] [--results FILE]
 *   [--routes FILE] [--poll 5s] [--cps 1] [--twilio-concurrency N] [--call-seconds 120]
 *   [--livekit-rps N] [--sync-shards N]
 *
 * Calls every row of a CSV through the `outbound` function, each request
 * signed with the auth token in .env as Twilio signs, with an
 * IdempotencyKey made from the campaign and the row. A journal next to the
 * results (FILE.journal.jsonl) makes the same command, run again after a
 * crash or Ctrl-C, go on where it stopped and call nobody twice
 * (src/campaign/runner). Runs on the operator's machine; never deployed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import twilio from 'twilio';
import type { Env } from '../config/env-reader';
import { loadRoutes } from '../config/routes';
import { countryOf } from '../phone/destination';
import { twilioCallLookup, TwilioCallsApi } from '../campaign/calls';
import { realClock } from '../campaign/clock';
import { CsvError } from '../campaign/csv';
import { dialChecker } from '../campaign/dial-check';
import { JournalEvent, JournalFile, readJournal } from '../campaign/journal';
import { lockJournal } from '../campaign/journal-lock';
import { IDEMPOTENCY_SHARDS } from '../outbound/idempotency-maps';
import { normalizeNumber, OptOutList, readOptOutList } from '../campaign/opt-out';
import { planCampaign } from '../campaign/plan';
import { Progress } from '../campaign/progress';
import { describePlan } from '../campaign/report';
import { ResultsFile } from '../campaign/results';
import { readCampaignTable, TableError, isTimeZone } from '../campaign/rows';
import { CampaignRunner, resultOf, RowResult } from '../campaign/runner';
import { parseWindow } from '../campaign/window';
import { runCli, UsageError } from './cli';
import { readEnvFile } from './env-file';
import { explainRefusedSignature, postSigned } from './signed-post';
import { describeNetworkError } from './net-errors';
import { ensureIdempotencyMaps, TwilioSync } from '../outbound/idempotency';

/** Why Sync would not make the maps: Twilio's own refusal, or the network's. */
const twilioSyncProblem = (error: unknown): string => {
  const e = error as { status?: unknown; code?: unknown } | null;
  return typeof e?.status === 'number' ? `HTTP ${e.status}, error ${String(e.code)}` : describeNetworkError(error);
};

const USAGE = `usage: npm run campaign -- --csv FILE [--dry-run] [--url URL] [--env FILE] [--campaign NAME]
  [--rate N] [--concurrency N] [--window HH:MM-HH:MM] [--timezone ZONE] [--attempts N] [--retry-delay 10m]
  [--opt-out FILE] [--country CC] [--results FILE] [--routes FILE] [--poll 5s]
  [--cps N] [--twilio-concurrency N] [--call-seconds N] [--livekit-rps N] [--sync-shards N]`;

/** `90`, `90s`, `10m`, `2h`, `500ms`, in milliseconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${option} ${text}: give a duration such as 30s, 10m or 2h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
  return Number(match[1]) * unit;
}

function positive(text: string | undefined, option: string, fallback: number, integer = false): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${option} ${text}: give a ${integer ? 'whole ' : ''}number above 0`);
  }
  return n;
}

function readText(file: string, what: string): string {
  if (!existsSync(file)) throw new UsageError(`${what} ${file} does not exist`);
  return readFileSync(file, 'utf8');
}

/** Every row the journal holds as done, by row. */
function journalFinals(events: readonly JournalEvent[]): Map<string, RowResult> {
  const finals = new Map<string, RowResult>();
  for (const e of events) {
    if (e.t === 'final') finals.set(e.row, resultOf(e));
  }
  return finals;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      csv: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      url: { type: 'string', default: 'http://localhost:3000/outbound' },
      env: { type: 'string', default: '.env' },
      campaign: { type: 'string' },
      rate: { type: 'string' },
      concurrency: { type: 'string' },
      window: { type: 'string' },
      timezone: { type: 'string' },
      attempts: { type: 'string' },
      'retry-delay': { type: 'string', default: '10m' },
      'opt-out': { type: 'string' },
      country: { type: 'string' },
      results: { type: 'string' },
      routes: { type: 'string', default: path.join('src', 'assets', 'routes.private.json') },
      poll: { type: 'string', default: '5s' },
      cps: { type: 'string' },
      'twilio-concurrency': { type: 'string' },
      'call-seconds': { type: 'string' },
      'livekit-rps': { type: 'string' },
      'sync-shards': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.csv) throw new UsageError('--csv is required: the list to call, one row per call, with a To column');
  const csvFile = values.csv;
  const campaign = values.campaign ?? path.basename(csvFile).replace(/\.[^.]*$/, '');
  if (!/^[\w.:@+-]{1,64}$/.test(campaign)) {
    throw new UsageError(`--campaign ${campaign}: up to 64 of A-Z a-z 0-9 _ . : @ + - (it is part of every IdempotencyKey)`);
  }
  const rate = positive(values.rate, '--rate', 1);
  const concurrency = positive(values.concurrency, '--concurrency', 3, true);
  const attempts = positive(values.attempts, '--attempts', 1, true);
  const retryDelayMs = parseDuration(values['retry-delay'], '--retry-delay');
  const pollMs = Math.max(1000, parseDuration(values.poll, '--poll'));
  const window = values.window === undefined ? undefined : parseWindow(values.window);
  if (values.window !== undefined && !window) throw new UsageError(`--window ${values.window}: give local hours such as 09:00-20:00`);
  if (values.timezone !== undefined && !isTimeZone(values.timezone)) {
    throw new UsageError(`--timezone ${values.timezone} is not an IANA time zone such as America/New_York`);
  }

  let table;
  try {
    table = readCampaignTable(readText(csvFile, '--csv'));
  } catch (error) {
    if (error instanceof TableError || error instanceof CsvError) throw new UsageError(`${csvFile}: ${error.message}`);
    throw error;
  }

  const envFile = readEnvFile(values.env);
  if (!envFile)
    throw new UsageError(`${values.env} does not exist: the campaign checks each row with the settings the deploy uploads from it`);
  const env: Env = { ...envFile.values };
  const routes = loadRoutes(() => (existsSync(values.routes) ? readFileSync(values.routes, 'utf8') : undefined));
  const checker = dialChecker(env, routes);
  if ('problem' in checker) {
    console.error(`${values.env}: every call would be refused (500 configuration): ${checker.problem}`);
    return 1;
  }
  const country = (values.country ?? countryOf(checker.defaultFrom)) || undefined;

  const optOutFile = values['opt-out'];
  let optOut: OptOutList = { numbers: new Set(), unreadable: [] };
  let optOutChecked = 0;
  let optOutMtime = 0;
  if (optOutFile) {
    optOut = readOptOutList(readText(optOutFile, '--opt-out'), country);
    optOutMtime = statSync(optOutFile).mtimeMs;
  }
  /** The list as it is now: a number added to the file during the campaign is not called from then on. */
  const optedOut = (to: string) => {
    if (optOutFile && Date.now() - optOutChecked > 5000) {
      optOutChecked = Date.now();
      try {
        const mtime = statSync(optOutFile).mtimeMs;
        if (mtime !== optOutMtime) {
          optOut = readOptOutList(readFileSync(optOutFile, 'utf8'), country);
          optOutMtime = mtime;
        }
      } catch {
        // Unreadable for a moment (being saved): the list read last stands.
      }
    }
    return optOut.numbers.has(normalizeNumber(to, country) || to);
  };

  const plan = planCampaign(table, checker, { optOut: optOut.numbers, country, windowed: !!window, timeZone: values.timezone });
  const ceiling = {
    cps: positive(values.cps, '--cps', 1),
    twilioConcurrency:
      values['twilio-concurrency'] === undefined ? undefined : positive(values['twilio-concurrency'], '--twilio-concurrency', 1, true),
    campaignConcurrency: concurrency,
    callSeconds: positive(values['call-seconds'], '--call-seconds', 120),
    statusCallbacks: checker.statusCallbacks ? 4 : 0,
    liveKitRequestsPerSecond: values['livekit-rps'] === undefined ? undefined : positive(values['livekit-rps'], '--livekit-rps', 1),
    syncShards: positive(values['sync-shards'], '--sync-shards', IDEMPOTENCY_SHARDS, true),
  };
  const lines = describePlan(
    plan,
    table.rows.length,
    {
      campaign,
      url: values.url,
      rate,
      concurrency,
      window: window?.text,
      timeZone: values.timezone,
      attempts,
      retryDelayMs,
      optOut: { file: optOutFile, numbers: optOut.numbers.size, unreadable: optOut.unreadable },
      ignoredColumns: table.ignoredColumns,
    },
    ceiling,
  );
  if (values['dry-run']) {
    console.log(lines.join('\n'));
    console.log('\ndry run: nothing was sent');
    return 0;
  }

  const accountSid = envFile.values.ACCOUNT_SID || process.env.ACCOUNT_SID || '';
  const authToken = envFile.values.AUTH_TOKEN || process.env.AUTH_TOKEN || '';
  if (!/^AC[0-9a-f]{32}$/.test(accountSid) || !authToken) {
    throw new UsageError(
      `ACCOUNT_SID and AUTH_TOKEN must be set (looked in ${values.env} and the environment): they sign each request and read Twilio's call list`,
    );
  }
  try {
    const url = new URL(values.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UsageError(`--url ${values.url} is not an http(s) URL: give the whole address, such as https://<domain>/outbound`);
  }

  const resultsFile = values.results ?? path.join(path.dirname(csvFile), `${campaign}.results.csv`);
  // The results file is rewritten from the start: it must never be the list it reports on.
  if (path.resolve(resultsFile) === path.resolve(csvFile))
    throw new UsageError('--results names the CSV itself, which would be overwritten: give another file');
  const journalPath = resultsFile.replace(/(\.results)?\.csv$/i, '') + '.journal.jsonl';
  // Taken before the journal is read: a second run reading it now would take the first one's rows as its own.
  const lock = lockJournal(journalPath);
  if (!lock.ok) {
    const who = lock.holder ? `run ${lock.holder.pid} on ${lock.holder.host}, since ${lock.holder.since}` : 'a run that left no name in it';
    throw new UsageError(
      `${journalPath} is in use by another run of this campaign (${who}): let it finish or stop it with Ctrl-C, then run this again. ` +
        `Runs over other slices of a list each take their own --results. If no run is going on, remove ${journalPath}.lock`,
    );
  }
  process.on('exit', lock.release);
  const history = readJournal(journalPath);
  const earlier = history.find((e): e is Extract<JournalEvent, { t: 'start' }> => e.t === 'start');
  if (earlier && earlier.campaign !== campaign) {
    throw new UsageError(
      `${journalPath} is campaign ${earlier.campaign}'s journal, not ${campaign}'s: use --campaign ${earlier.campaign}, or other --results`,
    );
  }
  if (earlier && earlier.account !== accountSid) {
    throw new UsageError(`${journalPath} was written for account ${earlier.account}; ${values.env} is for ${accountSid}`);
  }

  const output = process.stdout;
  console.log(lines.join('\n'));
  console.log(history.length ? `\nresuming from ${journalPath}` : `\njournal: ${journalPath}`);
  console.log(`results: ${resultsFile}\n`);

  const client = twilio(accountSid, authToken, { autoRetry: true, maxRetries: 3 });
  // The IdempotencyKey maps are made now, one after the other, rather than by the first calls at the campaign's rate.
  try {
    const maps = await ensureIdempotencyMaps(client as unknown as TwilioSync);
    if (maps.created.length) console.log(`Sync: made the ${maps.created.length} IdempotencyKey maps the service spreads keys over`);
  } catch (error) {
    console.log(`Sync: the IdempotencyKey maps could not be made now (${twilioSyncProblem(error)}); the service makes them on first use`);
  }
  const progress = new Progress(output, Date.now, rate);
  const finals = journalFinals(history);
  const refused = new Map(plan.refusals.map((r) => [r.row, r]));
  const initial: RowResult[] = [];
  for (const row of table.rows) {
    const done = finals.get(row.id);
    const refusal = refused.get(row.id);
    if (done) initial.push(done);
    else if (refusal)
      initial.push({
        row: row.id,
        callSid: '',
        room: '',
        status: refusal.code === 'opted-out' ? 'opted-out' : 'refused',
        error: `${refusal.code}: ${refusal.message}`,
        attempts: 0,
      });
  }

  const journal = new JournalFile(journalPath);
  const runner = new CampaignRunner(
    plan.callable,
    {
      campaign,
      url: values.url,
      account: accountSid,
      rate,
      concurrency,
      window,
      timeZone: values.timezone,
      attempts,
      retryDelayMs,
      pollMs,
    },
    {
      clock: realClock,
      send: (params) => postSigned(values.url, params, authToken),
      calls: twilioCallLookup(client as unknown as TwilioCallsApi),
      journal,
      optedOut,
      onEvent: (e) => progress.event(e),
      onFinal: (r) => results.write(r),
    },
    history,
  );
  const results = new ResultsFile(resultsFile, initial);

  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts > 1) {
      console.error('\nstopped: the journal is up to date; run the same command to go on');
      process.exit(130);
    }
    progress.finish();
    console.error(
      '\nstopping: no new requests; waiting for the ones in flight (Ctrl-C again to leave at once). Live calls go on and are followed by the next run.',
    );
    runner.stop();
  });
  const timer = setInterval(() => progress.draw(runner.snapshot()), 200);
  let summary;
  try {
    summary = await runner.run();
  } finally {
    clearInterval(timer);
    progress.draw(runner.snapshot(), true);
    progress.finish();
    journal.close();
    results.close();
    lock.release();
  }
  const counts = Object.entries(summary.statuses)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  console.log(`${counts || 'no row done yet'}; ${summary.placed} calls placed in this run`);
  if (summary.aborted) {
    console.error(`stopped for every row: ${summary.aborted}`);
    if (/signature/.test(summary.aborted))
      for (const line of explainRefusedSignature(401, values.url, envFile.values, values.env)) console.error(line);
    return 1;
  }
  if (summary.stopped) {
    console.log(`stopped with ${summary.live} calls live: run the same command to go on`);
    return 130;
  }
  return 0;
}

runCli(USAGE, main);
