/**
 * `npm run bind`: points phone numbers at the deployed service (voice URL
 * `/incoming` POST, status callback `/status` POST, voice fallback the
 * service's static TwiML GET) or at a Studio flow, after showing what each
 * number points at now. Idempotent: a number already bound is not touched.
 * What it replaces goes into an undo record first, and `runUndo` puts it
 * back. It never buys a number and never replaces a setting that is not the
 * service's without being told to (`replaceForeign`).
 *
 * The twilio client and the confirmation are injected (./bind-cli wires the
 * real ones), so the tests drive this against the Twilio stand-in.
 */
import type { RouteTable } from '../config/routes';
import { describeTwilioError } from './bind-errors';
import {
  AccountNumber,
  changes,
  configuredNumbers,
  Destination,
  FIELDS,
  Foreign,
  LABELS,
  foreignSettings,
  formatPlan,
  NumberPlan,
  readVoice,
  summarize,
  targetVoice,
  trunkBlock,
  verdictFor,
  Voice,
} from './bind-plan';
import { UndoRecord } from './bind-undo';

/** The parts of the twilio client bind uses. */
export interface NumbersApi {
  incomingPhoneNumbers: {
    (sid: string): { update(params: Partial<Voice>): Promise<AccountNumber> };
    list(options: { pageSize: number }): Promise<AccountNumber[]>;
  };
}

export interface BindIo {
  print(line: string): void;
  /** Asks to go ahead; true to apply. */
  ask(question: string): Promise<boolean>;
  /** Fetches a fallback URL as Twilio would: the HTTP status it answered, or the network error code. */
  checkFallback?(url: string): Promise<{ status: number } | { error: string }>;
}

/** Exit codes: 0 done (or nothing to do), 1 a request failed or the change was declined, 3 some numbers were refused or missing. */
export const EXIT = { ok: 0, failed: 1, refused: 3 } as const;

interface CommonOptions {
  accountSid: string;
  /** The numbers named by --number; none means the configured ones (bind) or every recorded one (undo). */
  numbers: string[];
  routes: RouteTable;
  replaceForeign: boolean;
  yes: boolean;
  dryRun: boolean;
  undo: UndoRecord;
}

export interface BindOptions extends CommonOptions {
  destination: Destination;
  /** OUTBOUND_CALLER_IDS, as in .env. */
  callerIds: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

async function listNumbers(client: NumbersApi, io: BindIo): Promise<AccountNumber[] | undefined> {
  try {
    return await client.incomingPhoneNumbers.list({ pageSize: 1000 });
  } catch (error) {
    io.print(`could not list the account's phone numbers: ${describeTwilioError(error)}`);
    return undefined;
  }
}

/** Whether anything was refused, or a number named on the command line was not there. */
function anyRefused(plans: NumberPlan[]): boolean {
  return plans.some((p) => p.verdict.kind === 'refused' || (p.verdict.kind === 'missing' && p.named));
}

/** Asks, unless --yes; false when declined (said so). */
async function confirmed(options: CommonOptions, io: BindIo, question: string): Promise<boolean> {
  if (options.yes) return true;
  if (await io.ask(question)) return true;
  io.print('not applied: nothing was changed');
  return false;
}

/**
 * Sends the changes of each plan (only the settings that differ), with
 * `before(plan)` run ahead of each request and `done(plan)` after each
 * accepted one. Stops at the first failure (reported), since the next would
 * most likely fail the same way; an update Twilio accepted but reads back
 * otherwise counts as one.
 */
async function apply(
  client: NumbersApi,
  plans: NumberPlan[],
  io: BindIo,
  before: (p: NumberPlan) => void,
  done: (p: NumberPlan) => void,
): Promise<{ changed: number; failed: boolean }> {
  let changed = 0;
  for (const p of plans) {
    const sent = changes(p.now!, p.after!);
    before(p);
    let result: AccountNumber;
    try {
      result = await client.incomingPhoneNumbers(p.sid!).update(sent);
    } catch (error) {
      io.print(`${p.number}: not changed: ${describeTwilioError(error)}`);
      const undo = changed ? '; npm run bind -- --undo puts back the ones changed' : '';
      io.print(`stopped: ${changed} of ${plural(plans.length, 'number')} changed; the rest were not tried${undo}`);
      return { changed, failed: true };
    }
    const got = readVoice(result);
    const wrong = (Object.keys(sent) as (keyof Voice)[]).filter((key) => got[key] !== sent[key]);
    if (wrong.length) {
      io.print(
        `${p.number}: Twilio accepted the change but reads back ${wrong.map((k) => `${LABELS[k]} "${got[k]}"`).join(', ')}: check the number in the Console`,
      );
      return { changed, failed: true };
    }
    changed += 1;
    done(p);
    io.print(`${p.number}: changed ${(Object.keys(sent) as (keyof Voice)[]).map((k) => LABELS[k]).join(', ')}`);
  }
  return { changed, failed: false };
}

export async function runBind(client: NumbersApi, options: BindOptions, io: BindIo): Promise<number> {
  const { accountSid, destination, routes, undo } = options;
  const named = options.numbers.length > 0;
  const wanted = named ? options.numbers : configuredNumbers(routes, options.callerIds);
  if (wanted.length === 0) {
    io.print('no numbers to bind: name them with --number +1..., or list them in the routes file or OUTBOUND_CALLER_IDS');
    return EXIT.refused;
  }
  const owned = await listNumbers(client, io);
  if (!owned) return EXIT.failed;
  const byNumber = new Map(owned.map((n) => [n.phoneNumber, n]));

  const plans: NumberPlan[] = wanted.map((number) => {
    const route = routes.match(number).name;
    const found = byNumber.get(number);
    if (!found) return { number, named, route, verdict: { kind: 'missing' }, notes: [] };
    const now = readVoice(found);
    const after = targetVoice(now, route, destination);
    const foreign = foreignSettings(now, after, destination.origin, undo.get(accountSid, number)?.after);
    const verdict = verdictFor(now, after, foreign, options.replaceForeign, trunkBlock(found));
    return { number, named, route, sid: found.sid, now, after, verdict, notes: [] };
  });
  await checkFallbacks(plans, destination, io);

  const answeredBy = destination.flow ? `Studio flow ${destination.flow.flowSid}` : `${destination.origin}/incoming`;
  io.print(`Account ${accountSid}: calls to ${plural(wanted.length, 'number')} to go to ${answeredBy}`);
  if (destination.flow)
    io.print(
      'Status callbacks go to the flow too, so Studio can end each execution when its call ends (/status is not called for these calls).',
    );
  io.print('');
  for (const line of formatPlan(plans, 'bind')) io.print(line);
  if (!named) for (const line of prefixHints(owned, wanted, routes)) io.print(line);
  io.print(summarize(plans, 'bind'));

  const refused = anyRefused(plans) ? EXIT.refused : EXIT.ok;
  const toChange = plans.filter((p) => p.verdict.kind === 'change');
  if (options.dryRun) {
    io.print('dry run: nothing was changed');
    return refused;
  }
  if (toChange.length === 0) {
    io.print('nothing to change');
    return refused;
  }
  if (!(await confirmed(options, io, `Change ${plural(toChange.length, 'number')} as shown? [y/N] `))) return EXIT.failed;
  const result = await apply(
    client,
    toChange,
    io,
    (p) => {
      // Recorded before the request: a change Twilio made is never left without its undo.
      undo.record(accountSid, p.number, p.sid!, p.now!, p.after!);
      undo.save();
    },
    () => undefined,
  );
  if (result.failed) return EXIT.failed;
  io.print(`bound ${plural(result.changed, 'number')}; to put back what they had: npm run bind -- --undo`);
  return refused;
}

/** Adds a note to each plan whose fallback URL does not answer, checked once per URL. */
async function checkFallbacks(plans: NumberPlan[], destination: Destination, io: BindIo): Promise<void> {
  if (!io.checkFallback || destination.fallback.kind === 'keep') return;
  const urls = new Set(plans.flatMap((p) => (p.after?.voiceFallbackUrl ? [p.after.voiceFallbackUrl] : [])));
  const asset = destination.fallback.kind === 'asset';
  for (const url of urls) {
    const answer = await io.checkFallback(url);
    let problem: string;
    if ('status' in answer) {
      if (answer.status === 200) continue;
      problem =
        answer.status === 404 && asset
          ? 'answers HTTP 404: deploy the service with its fallback assets (npm run deploy), or pass --fallback-url URL or --no-fallback'
          : `answers HTTP ${answer.status}, so callers would hear Twilio's application error: check ${asset ? 'the deployed assets' : '--fallback-url'}`;
    } else {
      problem =
        answer.error === 'ENOTFOUND'
          ? `does not resolve (ENOTFOUND): check ${asset ? '--domain or --url' : '--fallback-url'}`
          : `could not be fetched (${answer.error}): check it answers before calls need it`;
    }
    for (const p of plans) if (p.after?.voiceFallbackUrl === url) p.notes.push(`fallback ${url} ${problem}`);
  }
}

/** Account numbers a route answers by prefix that bind was not asked about: worth a line, not a change. */
function prefixHints(owned: AccountNumber[], wanted: string[], routes: RouteTable): string[] {
  const hints = owned
    .filter((n) => !wanted.includes(n.phoneNumber) && routes.match(n.phoneNumber).name !== 'default')
    .map((n) => `${n.phoneNumber} (route "${routes.match(n.phoneNumber).name}")`);
  if (hints.length === 0) return [];
  return [`also on this account and answered by a route's prefix, left alone: ${hints.join(', ')}; bind them with --number`, ''];
}

/** Restores what the undo record says each number had before bind changed it. */
export async function runUndo(client: NumbersApi, options: CommonOptions, io: BindIo): Promise<number> {
  const { accountSid, undo } = options;
  const entries = undo.entries(accountSid);
  const named = options.numbers.length > 0;
  const unknown = options.numbers.filter((n) => !entries[n]);
  for (const number of unknown) io.print(`${number}: bind has not changed it (nothing recorded in ${undo.file})`);
  const wanted = named ? options.numbers.filter((n) => entries[n]) : Object.keys(entries);
  if (wanted.length === 0) {
    if (!named) io.print(`nothing to undo: ${undo.file} records no numbers for account ${accountSid}`);
    return unknown.length ? EXIT.refused : EXIT.ok;
  }
  const owned = await listNumbers(client, io);
  if (!owned) return EXIT.failed;
  const bySid = new Map(owned.map((n) => [n.sid, n]));

  const plans: NumberPlan[] = wanted.map((number) => {
    const entry = entries[number]!;
    const route = options.routes.match(number).name;
    const found = bySid.get(entry.sid);
    if (!found) return { number, named, route, verdict: { kind: 'missing' }, notes: ['its undo record is kept'] };
    const now = readVoice(found);
    // Changed since bind set it: neither what bind set nor what it replaced.
    const changedSince: Foreign[] = ([...FIELDS, 'voiceApplicationSid'] as const)
      .filter((key) => now[key] !== entry.after[key] && now[key] !== entry.before[key])
      .map((field) => ({ field, value: now[field] || '(not set)' }));
    const verdict = verdictFor(now, entry.before, changedSince, options.replaceForeign, trunkBlock(found));
    return { number, named, route, sid: found.sid, now, after: entry.before, verdict, notes: [] };
  });

  io.print(`Account ${accountSid}: putting back what ${plural(wanted.length, 'number')} had before bind (from ${undo.file})`);
  io.print('');
  for (const line of formatPlan(plans, 'undo')) io.print(line);
  io.print(summarize(plans, 'undo'));
  const refused = anyRefused(plans) || unknown.length ? EXIT.refused : EXIT.ok;
  if (options.dryRun) {
    io.print('dry run: nothing was changed');
    return refused;
  }
  // Already as they were: nothing to send, nothing left to undo.
  const restored = plans.filter((p) => p.verdict.kind === 'same');
  for (const p of restored) undo.remove(accountSid, p.number);
  if (restored.length) undo.save();
  const toChange = plans.filter((p) => p.verdict.kind === 'change');
  if (toChange.length === 0) {
    io.print('nothing to change');
    return refused;
  }
  if (!(await confirmed(options, io, `Restore ${plural(toChange.length, 'number')} as shown? [y/N] `))) return EXIT.failed;
  const result = await apply(
    client,
    toChange,
    io,
    () => undefined,
    (p) => {
      undo.remove(accountSid, p.number);
      undo.save();
    },
  );
  if (result.failed) return EXIT.failed;
  io.print(`restored ${plural(result.changed, 'number')}`);
  return refused;
}
