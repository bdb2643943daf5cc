/**
 * The campaign against the real `outbound` handler in process, the
 * LiveKit and Twilio stand-ins, and a virtual clock: pace, windows,
 * retries, opt-outs, and never a second call across a crash.
 */
import { CampaignTwilioStandIn } from '../support/campaign-stand-in';
import { Harness, tempDir, usRows } from '../support/campaign-harness';
import { useLiveKit, useStandIn } from '../support/stand-ins';
import { ACCOUNT_SID, AUTH_TOKEN } from '../support/runtime';
import { VirtualClock } from '../support/virtual-clock';
import { localMinutes, parseWindow } from '../../src/campaign/window';
import { RECONCILE_AFTER_MS } from '../../src/campaign/reconcile';

const liveKit = useLiveKit();
const twilioApi = useStandIn(new CampaignTwilioStandIn(ACCOUNT_SID, AUTH_TOKEN));
const stands = { liveKit, twilioApi };

beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

/** Every number the stand-in was asked to call more than once. */
function calledTwice(): string[] {
  const counts = new Map<string, number>();
  for (const call of twilioApi.calls) counts.set(String(call.params.To), (counts.get(String(call.params.To)) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([to]) => to);
}

const completesAfter = (ms: number) => () => ({ status: 'completed', afterMs: ms });

test('rate and concurrency are honoured', async () => {
  twilioApi.lifecycle = completesAfter(20_000);
  const h = new Harness(stands, usRows(24), tempDir(), { rate: 2, concurrency: 4 });
  const summary = await h.run();
  expect(summary?.statuses).toEqual({ completed: 24 });
  expect(twilioApi.calls).toHaveLength(24);
  expect(calledTwice()).toEqual([]);
  const gaps = h.sent.slice(1).map((s, i) => s.at - h.sent[i]!.at);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(500);
  expect(Math.max(...h.sent.map((s) => s.busy))).toBeLessThanOrEqual(4);
  // Held by the concurrency, not the rate: 4 calls of 20 s each at a time.
  expect(h.sent[4]!.at - h.sent[0]!.at).toBeGreaterThanOrEqual(20_000);
  expect(h.results.every((r) => r.attempts === 1 && r.callSid.startsWith('CA') && r.room.startsWith('call-out-'))).toBe(true);
});

test('busy and no-answer are called again after the delay, up to the attempt cap; failed is not', async () => {
  const rows = usRows(3);
  const [busy, noAnswer, failed] = rows.map((r) => r.params.To!);
  twilioApi.lifecycle = (to, earlier) =>
    to === busy
      ? { status: 'busy', afterMs: 8000 }
      : to === noAnswer
        ? { status: earlier === 0 ? 'no-answer' : 'completed', afterMs: 30_000 }
        : { status: 'failed', afterMs: 2000 };
  const h = new Harness(stands, rows, tempDir(), { attempts: 3, retryDelayMs: 15 * 60_000 });
  await h.run();
  expect(twilioApi.callsTo(busy!)).toHaveLength(3);
  expect(twilioApi.callsTo(noAnswer!)).toHaveLength(2);
  expect(twilioApi.callsTo(failed!)).toHaveLength(1);
  const byRow = Object.fromEntries(h.results.map((r) => [r.row, r]));
  expect(byRow.r1).toMatchObject({ status: 'busy', attempts: 3 });
  expect(byRow.r2).toMatchObject({ status: 'completed', attempts: 2 });
  expect(byRow.r3).toMatchObject({ status: 'failed', attempts: 1 });
  // Each attempt has its own key, and waits the delay after the call before it ended.
  const busySends = h.sent.filter((s) => s.to === busy);
  expect(new Set(busySends.map((s) => s.key)).size).toBe(3);
  for (let i = 1; i < busySends.length; i += 1) expect(busySends[i]!.at - busySends[i - 1]!.at).toBeGreaterThanOrEqual(15 * 60_000 + 8000);
});

test('an opted-out number is never called: not even a retry, when it opts out during the campaign', async () => {
  const rows = usRows(3);
  const optingOut = rows[1]!.params.To!;
  twilioApi.lifecycle = () => ({ status: 'busy', afterMs: 5000 });
  const dir = tempDir();
  let said = false;
  // Row 2's callee says "don't call me" on the first call: the number is on the list from then on.
  const h: Harness = new Harness(stands, rows, dir, {
    attempts: 3,
    retryDelayMs: 60_000,
    onEvent: (e) => {
      if (e.kind === 'ended' && e.row === 'r2') said = true;
    },
    optedOut: (to) => said && to === optingOut,
  });
  await h.run();
  expect(twilioApi.callsTo(optingOut)).toHaveLength(1);
  expect(h.results.find((r) => r.row === 'r2')).toMatchObject({ status: 'opted-out', attempts: 1 });
  expect(twilioApi.callsTo(rows[0]!.params.To!)).toHaveLength(3);
});

test("calls start only inside the window of each row's time zone", async () => {
  const window = parseWindow('09:00-17:00')!;
  const rows = [
    ...usRows(4, () => ({ timeZone: 'America/New_York' })),
    ...usRows(4, (i) => ({ id: `uk${i + 1}`, timeZone: 'Europe/London', params: { To: `+4420718387${String(10 + i)}` } })),
    ...usRows(4, (i) => ({ id: `la${i + 1}`, params: { To: `+1213555${String(2000 + i)}` } })),
  ];
  twilioApi.lifecycle = completesAfter(60_000);
  // 06:00 in New York, 11:00 in London: London may be called now, New York in three hours; LA (the default zone) at 09:00 Pacific.
  const clock = new VirtualClock(Date.UTC(2026, 0, 5, 11, 0));
  const h = new Harness(stands, rows, tempDir(), {
    clock,
    window,
    timeZone: 'America/Los_Angeles',
    rate: 1,
    concurrency: 2,
    env: { OUTBOUND_ALLOWED_DESTINATIONS: 'US,GB' },
  });
  const summary = await h.run();
  expect(summary?.statuses).toEqual({ completed: 12 });
  for (const s of h.sent) {
    const zone = s.to.startsWith('+44') ? 'Europe/London' : s.to.startsWith('+1213') ? 'America/Los_Angeles' : 'America/New_York';
    const minutes = localMinutes(s.at, zone);
    expect(minutes).toBeGreaterThanOrEqual(9 * 60);
    expect(minutes).toBeLessThan(17 * 60);
  }
  expect(h.sent[0]!.to.startsWith('+44')).toBe(true);
  expect(Math.min(...h.sent.filter((s) => s.to.startsWith('+1415')).map((s) => s.at))).toBe(Date.UTC(2026, 0, 5, 14, 0));
});

test('killed mid-way and run again: nobody is called twice, and it goes on where it stopped', async () => {
  const rows = usRows(30);
  const dir = tempDir();
  twilioApi.lifecycle = completesAfter(30_000);
  // The 12th request reaches the service and its answer is lost; the 13th is on disk as sending, never sent.
  const first = new Harness(stands, rows, dir, { rate: 5, concurrency: 20, loseAnswer: [12], crashBefore: 13 });
  expect(await first.run()).toBeUndefined();
  const placedBefore = twilioApi.calls.length;
  expect(placedBefore).toBe(12);
  const lost = first.sent[11]!;
  expect(lost.row).toBe('r12');
  expect(first.events().filter((e) => e.t === 'placed')).toHaveLength(11);

  const second = new Harness(stands, rows, dir, { rate: 5, concurrency: 20, clock: new VirtualClock(first.clock.now() + 5000) });
  const summary = await second.run();
  expect(summary?.statuses).toEqual({ completed: 30 });
  expect(calledTwice()).toEqual([]);
  expect(twilioApi.calls).toHaveLength(30);
  // The lost answer was asked for again with the same key, and the service gave the first call back.
  const resent = second.sent.find((s) => s.row === lost.row)!;
  expect(resent.key).toBe(lost.key);
  expect(second.events().some((e) => e.t === 'placed' && e.row === lost.row && e.replayed)).toBe(true);
  // Every row is in the results exactly once across both runs' journal.
  const finals = second.events().filter((e) => e.t === 'final');
  expect(new Set(finals.map((e) => e.t === 'final' && e.row)).size).toBe(30);
});

test("run again after the keys expired: Twilio's call list settles each lost outcome", async () => {
  const rows = usRows(20);
  const dir = tempDir();
  twilioApi.lifecycle = completesAfter(30_000);
  const first = new Harness(stands, rows, dir, { rate: 5, concurrency: 20, loseAnswer: [9], crashBefore: 10 });
  await first.run();
  expect(twilioApi.calls).toHaveLength(9);
  const answerLost = first.sent[8]!.row;
  expect(answerLost).toBe('r9');
  expect(first.events().filter((e) => e.t === 'placed')).toHaveLength(8);
  // An hour later: the service's keys are gone (10 minutes), so only the call list can tell.
  twilioApi.sync.reset();
  const later = new VirtualClock(first.clock.now() + 60 * 60_000);
  const second = new Harness(stands, rows, dir, { rate: 5, concurrency: 20, clock: later });
  const summary = await second.run();
  expect(summary?.statuses).toEqual({ completed: 20 });
  expect(calledTwice()).toEqual([]);
  expect(twilioApi.calls).toHaveLength(20);
  const reconciled = second.events().filter((e) => e.t === 'reconciled');
  expect(reconciled.map((e) => e.t === 'reconciled' && [e.row, e.callSid === null ? 'none' : 'found'])).toEqual(
    expect.arrayContaining([
      [answerLost, 'found'],
      ['r10', 'none'],
    ]),
  );
  // The call found is followed, not placed again; the row that never left is placed under a new key.
  expect(second.sent.some((s) => s.row === answerLost)).toBe(false);
  const r10 = second.sent.filter((s) => s.row === 'r10');
  expect(r10).toHaveLength(1);
  expect(r10[0]!.key).toMatch(/\.a1\.g1$/);
  expect(twilioApi.listQueries.some((q) => q.To === rows[8]!.params.To && q.Status === 'queued')).toBe(true);
});

test('Twilio times out: the service says the call may exist, and the call list, ten minutes on, finds it', async () => {
  twilioApi.lifecycle = completesAfter(30_000);
  twilioApi.behaviour = { kind: 'hang' };
  const h = new Harness(stands, usRows(1), tempDir(), { env: { TWILIO_TIMEOUT_MS: '500' } });
  const started = h.clock.now();
  const summary = await h.run();
  expect(summary?.statuses).toEqual({ completed: 1 });
  expect(twilioApi.calls).toHaveLength(1);
  const events = h.events();
  const uncertain = events.find((e) => e.t === 'uncertain');
  expect(uncertain).toMatchObject({ code: 'twilio-timeout' });
  const reconciled = events.find((e) => e.t === 'reconciled');
  expect(reconciled).toMatchObject({ callSid: twilioApi.calls[0]!.sid });
  expect(reconciled!.at - started).toBeGreaterThanOrEqual(RECONCILE_AFTER_MS);
});

test('Twilio refusing for concurrency is reported per row, retried, and lowers the calls held at once', async () => {
  const rows = usRows(4);
  twilioApi.lifecycle = completesAfter(60_000);
  twilioApi.createFaults = [
    { status: 400, code: 10004, message: 'Call concurrency limit exceeded' },
    { status: 400, code: 10004, message: 'Call concurrency limit exceeded' },
  ];
  const events: string[] = [];
  const h = new Harness(stands, rows, tempDir(), { concurrency: 4, rate: 10, onEvent: (e) => events.push(e.kind) });
  const summary = await h.run();
  expect(summary?.statuses).toEqual({ completed: 4 });
  expect(calledTwice()).toEqual([]);
  const later = h.events().filter((e) => e.t === 'later');
  expect(later).toHaveLength(2);
  expect(later.every((e) => e.t === 'later' && e.code === 'twilio-10004' && e.concurrency)).toBe(true);
  expect(events).toContain('limit');
  expect(h.results.filter((r) => /capacity refusals/.test(r.error))).toHaveLength(2);
});

test('a refusal by the service is final and says why; nothing is placed for it', async () => {
  const rows = usRows(2);
  rows[1]!.params.To = '+19005550100';
  twilioApi.lifecycle = completesAfter(1000);
  const h = new Harness(stands, rows, tempDir());
  await h.run();
  expect(twilioApi.calls).toHaveLength(1);
  expect(h.results.find((r) => r.row === 'r2')).toMatchObject({ status: 'refused', attempts: 0 });
  expect(h.results.find((r) => r.row === 'r2')!.error).toMatch(/destination-blocked: .*premium rate/);
});

test('a CSV edited between runs (row ids naming other people) is refused rather than guessed', async () => {
  const dir = tempDir();
  twilioApi.lifecycle = completesAfter(1000);
  const first = new Harness(stands, usRows(3), dir, { crashBefore: 3 });
  await first.run();
  const edited = usRows(3);
  edited[0]!.params.To = '+14155559999';
  expect(() => new Harness(stands, edited, dir)).toThrow(/row r1 called \+14155551000 in the journal but is \+14155559999/);
});
