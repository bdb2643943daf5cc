/** The campaign's parts on their own: CSV, rows, window, opt-out, keys, answers, rate, journal, ceiling. */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { classifyAnswer } from '../../src/campaign/answers';
import { deriveCeiling } from '../../src/campaign/ceiling';
import { CsvError, csvLine, parseCsv } from '../../src/campaign/csv';
import { JournalFile, readJournal } from '../../src/campaign/journal';
import { idempotencyKey } from '../../src/campaign/keys';
import { normalizeNumber, readOptOutList } from '../../src/campaign/opt-out';
import { TokenBucket } from '../../src/campaign/rate';
import { readCampaignTable, TableError } from '../../src/campaign/rows';
import { isOpen, localMinutes, nextOpening, parseWindow } from '../../src/campaign/window';
import { tempDir } from '../support/campaign-harness';

describe('CSV (RFC 4180)', () => {
  const fields = (text: string) => parseCsv(text).map((r) => r.fields);

  test('quotes, commas, doubled quotes and line breaks inside quotes', () => {
    expect(fields('a,"b,c","say ""hi""","two\nlines"\r\n1,2,3,4\r\n')).toEqual([
      ['a', 'b,c', 'say "hi"', 'two\nlines'],
      ['1', '2', '3', '4'],
    ]);
  });

  test('CRLF, LF and CR line ends; a byte order mark; blank lines dropped; no newline at the end', () => {
    expect(fields('\ufeffTo,From\r\n+1,+2\n\n+3,+4\r+5,+6')).toEqual([
      ['To', 'From'],
      ['+1', '+2'],
      ['+3', '+4'],
      ['+5', '+6'],
    ]);
  });

  test('empty fields, quoted empty fields, and a line holding only ""', () => {
    expect(fields('a,,""\n""\n,\n')).toEqual([['a', '', ''], [''], ['', '']]);
  });

  test('each record knows the line it starts on, after fields that span lines', () => {
    expect(parseCsv('h\n"x\ny\nz"\nnext\n').map((r) => r.line)).toEqual([1, 2, 5]);
  });

  test('a quote left open, or text after a closing quote, names its line', () => {
    expect(() => parseCsv('a\n"never closed\n')).toThrow(new CsvError('a quoted field is never closed', 2));
    expect(() => parseCsv('a,"b"c\n')).toThrow(/line 1: text after a closing quote/);
  });

  test('written back, a field with a comma, quote or line break is quoted', () => {
    expect(csvLine(['plain', 'a,b', 'say "x"', 'two\nlines', ''])).toBe('plain,"a,b","say ""x""","two\nlines",\r\n');
    const record = ['a,b', '"', '\r\n', 'z'];
    expect(parseCsv(csvLine(record))[0]!.fields).toEqual(record);
  });
});

describe('rows', () => {
  test('outbound parameters as named, attr. columns folded into ParticipantAttributes, id and TimeZone read', () => {
    const table = readCampaignTable(
      'id,To,From,AgentName,AgentMetadata,RoomName,TimeZone,attr.crm.id,ParticipantAttributes,Notes\n' +
        'c-1,+14155550123,+14155550100,sales,"{""lead"":1}",room-1,America/New_York,42,"{""tier"":""gold""}",call after lunch\n' +
        ',+14155550124,,,,,,,,\n',
    );
    expect(table.problems).toEqual([]);
    expect(table.ignoredColumns).toEqual(['Notes']);
    expect(table.rows[0]).toEqual({
      id: 'c-1',
      line: 2,
      timeZone: 'America/New_York',
      params: {
        To: '+14155550123',
        From: '+14155550100',
        AgentName: 'sales',
        AgentMetadata: '{"lead":1}',
        RoomName: 'room-1',
        ParticipantAttributes: '{"tier":"gold","crm.id":"42"}',
      },
    });
    // No id: the row's number among the data rows.
    expect(table.rows[1]).toEqual({ id: '2', line: 3, params: { To: '+14155550124' } });
  });

  test("a bad TimeZone or attributes that are not an object are the row's problem, not the file's", () => {
    const table = readCampaignTable('To,TimeZone,ParticipantAttributes,attr.x\n+14155550123,Mars/Olympus,,1\n+14155550124,,[1],2\n');
    expect(table.problems.map((p) => [p.row, p.message])).toEqual([
      ['1', 'TimeZone Mars/Olympus is not an IANA time zone such as America/New_York'],
      ['2', 'ParticipantAttributes must be a JSON object to be combined with attr. columns'],
    ]);
  });

  test('what makes the whole file unusable is said once, naming the column or line', () => {
    expect(() => readCampaignTable('to,From\n')).toThrow('column to: names are case-sensitive, as the service takes them; use To');
    expect(() => readCampaignTable('From\n+1\n')).toThrow(/no To column/);
    expect(() => readCampaignTable('To,IdempotencyKey\n')).toThrow(/makes each row's key itself/);
    expect(() => readCampaignTable('id,To\na,+1\na,+2\n')).toThrow('line 3: id a is used by an earlier row: each row needs its own id');
    expect(() => readCampaignTable('To,From\n+1\n')).toThrow('line 2: 1 fields where the header has 2');
    expect(() => readCampaignTable('')).toThrow(TableError);
  });
});

describe('calling window', () => {
  const w = parseWindow('09:00-20:00')!;

  test('parsed from HH:MM-HH:MM; nonsense refused', () => {
    expect(w).toMatchObject({ start: 540, end: 1200 });
    for (const bad of ['9-20', '09:00', '25:00-26:00', '09:00-09:00', '09:00-10:00-11:00']) expect(parseWindow(bad)).toBeUndefined();
  });

  test('open by the wall clock of the zone, daylight saving included', () => {
    // 13:30 UTC on 9 March 2026 is 09:30 in New York (EDT, since 8 March) and 08:30 the week before (EST).
    expect(isOpen(Date.UTC(2026, 2, 9, 13, 30), 'America/New_York', w)).toBe(true);
    expect(isOpen(Date.UTC(2026, 2, 2, 13, 30), 'America/New_York', w)).toBe(false);
    expect(localMinutes(Date.UTC(2026, 2, 9, 13, 30), 'America/New_York')).toBe(9 * 60 + 30);
  });

  test('the next opening is the first minute the zone shows the start, across a change of offset', () => {
    // Saturday 7 March 2026, 21:00 in New York (EST): the next 09:00 is on Sunday, already EDT (13:00 UTC).
    expect(nextOpening(Date.UTC(2026, 2, 8, 2, 0), 'America/New_York', w)).toBe(Date.UTC(2026, 2, 8, 13, 0));
    expect(nextOpening(Date.UTC(2026, 0, 5, 15, 0), 'America/New_York', w)).toBe(Date.UTC(2026, 0, 5, 15, 0));
    const night = parseWindow('22:00-06:00')!;
    expect(isOpen(Date.UTC(2026, 0, 5, 23, 30), 'Europe/London', night)).toBe(true);
    expect(nextOpening(Date.UTC(2026, 0, 5, 12, 0), 'Europe/London', night)).toBe(Date.UTC(2026, 0, 5, 22, 0));
  });
});

describe('opt-out list', () => {
  test('one number a line or a To column, brought to E.164; what is no number is listed, not dropped', () => {
    const lines = readOptOutList('(415) 555-0123\n+44 20 7183 8750\n# a comment\nnot a number\nclient:Alice\n', 'US');
    expect([...lines.numbers]).toEqual(['+14155550123', '+442071838750', 'client:alice']);
    expect(lines.unreadable).toEqual([{ line: 4, text: 'not a number' }]);
    const csv = readOptOutList('Name,To\nA,+1 415-555-0124\nB,\n');
    expect([...csv.numbers]).toEqual(['+14155550124']);
    expect(normalizeNumber('415.555.0125', 'US')).toBe('+14155550125');
  });
});

test('keys: the same campaign and row always give the same key; attempts and generations differ; the service accepts them', () => {
  const key = idempotencyKey('spring sale!', 'row 7', 1, 0);
  expect(key).toBe(idempotencyKey('spring sale!', 'row 7', 1, 0));
  expect(key).not.toBe(idempotencyKey('spring sale!', 'row 8', 1, 0));
  expect(key).not.toBe(idempotencyKey('spring sale', 'row 7', 1, 0));
  expect(idempotencyKey('x', 'r', 2, 0)).toMatch(/\.a2\.g0$/);
  expect(idempotencyKey('x'.repeat(64), 'r'.repeat(128), 99, 99)).toMatch(/^[A-Za-z0-9_.:@+-]{1,128}$/);
});

describe('answers', () => {
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    classifyAnswer({ status, contentType: 'application/json', body: typeof body === 'string' ? body : JSON.stringify(body), headers });
  const error = (code: string, extra: Record<string, unknown> = {}) => ({ error: { code, message: code, ...extra } });

  test.each([
    [200, { callSid: 'CA1', roomName: 'r', status: 'queued', replayed: true }, {}, 'placed'],
    [409, error('request-in-progress'), { 'retry-after': '7' }, 'later'],
    [409, error('call-may-exist', { callMayExist: true }), {}, 'uncertain'],
    [504, error('twilio-timeout', { callMayExist: true }), {}, 'uncertain'],
    [429, error('twilio-rate-limited', { twilioCode: 20429 }), { 'retry-after': '1' }, 'later'],
    [503, error('idempotency-unavailable'), {}, 'later'],
    [502, error('twilio-error', { twilioCode: 10004 }), {}, 'later'],
    [403, error('destination-not-allowed'), {}, 'refused'],
    [403, error('signature-invalid'), {}, 'abort'],
    [401, 'Unauthorized', {}, 'abort'],
    [500, error('configuration'), {}, 'abort'],
    [502, '<html>Bad gateway</html>', {}, 'unanswered'],
  ])('HTTP %i %j is %s', (status, body, headers, kind) => {
    expect(answer(status, body, headers).kind).toBe(kind);
  });

  test('request-in-progress leaves the key unsettled; 429 and 503 say nothing was placed; Retry-After is followed', () => {
    expect(answer(409, error('request-in-progress'), { 'retry-after': '7' })).toMatchObject({ definite: false, afterMs: 7000 });
    expect(answer(429, error('livekit-rate-limited'), { 'retry-after': '3' })).toMatchObject({ definite: true, afterMs: 3000 });
    expect(answer(502, error('twilio-error', { twilioCode: 10004 }))).toMatchObject({ concurrency: true, code: 'twilio-10004' });
    expect(answer(502, error('twilio-error', { twilioCode: 22005 }))).toMatchObject({ concurrency: false, code: 'twilio-22005' });
  });

  test("an answer from before the key's claim settles nothing about an earlier request with the same key", () => {
    // Sync could not check the key: an earlier request with it may have placed the call; the call list must say.
    expect(answer(503, error('idempotency-unavailable'), { 'retry-after': '1' })).toMatchObject({ kind: 'later', definite: false });
    expect(answer(429, error('twilio-rate-limited'))).toMatchObject({ kind: 'later', definite: true });
    expect(answer(503, '<html>Service Unavailable</html>').kind).toBe('unanswered');
  });
});

test('the token bucket spaces requests at the rate, from the time that really passed', () => {
  const bucket = new TokenBucket(50, 1, 0);
  expect(bucket.take(0)).toBe(0);
  expect(bucket.take(0)).toBe(20);
  expect(bucket.take(21)).toBe(0);
  // Woken a millisecond late: the next one comes a millisecond sooner.
  expect(bucket.take(21)).toBe(19);
  let sent = 0;
  for (let t = 21; t <= 10_021; t += 1) if (bucket.take(t) === 0) sent += 1;
  expect(sent).toBe(500);
});

test('the journal survives a line torn by a crash: it is dropped, and the next line starts clean', () => {
  const file = path.join(tempDir(), 'j.jsonl');
  const journal = new JournalFile(file);
  journal.append({ t: 'final', at: 1, row: 'a', status: 'completed', attempts: 1 });
  journal.close();
  appendFileSync(file, '{"t":"sending","at":2,"row":"b"');
  expect(readJournal(file)).toHaveLength(1);
  const again = new JournalFile(file);
  again.append({ t: 'final', at: 3, row: 'b', status: 'busy', attempts: 1 });
  again.close();
  expect(readJournal(file).map((e) => e.t === 'final' && e.row)).toEqual(['a', 'b']);
  writeFileSync(file, 'garbage\n{"t":"final","at":1,"row":"a","status":"x","attempts":0}\n');
  expect(() => readJournal(file)).toThrow(/line 1 is not a journal event/);
});

describe('the ceiling', () => {
  const base = { cps: 1, campaignConcurrency: 3, callSeconds: 120, statusCallbacks: 4, syncShards: 1 };

  test("the defaults: 3 calls of 2 minutes at a time bound it, far below the account's 1 CPS", () => {
    const { callsPerSecond, bound, limits } = deriveCeiling(base);
    expect(callsPerSecond).toBe(0.025);
    expect(bound).toBe('this campaign (--concurrency)');
    expect(limits.find((l) => l.name.startsWith('Twilio calls per second'))!.callsPerSecond).toBe(1);
    expect(limits.find((l) => l.name.startsWith('Twilio Sync'))!.callsPerSecond).toBeCloseTo(6.67, 2);
    expect(limits.find((l) => l.name.startsWith('Twilio Functions'))).toMatchObject({ confirmed: false });
    expect(limits.find((l) => l.name.startsWith('LiveKit'))).toMatchObject({ callsPerSecond: Infinity, confirmed: false });
  });

  test('each limit in its own terms: an Individual profile holds 3 calls; 16 Sync maps hold about 106 keyed calls a second', () => {
    const raised = { ...base, cps: 100, campaignConcurrency: 1000, callSeconds: 60 };
    expect(deriveCeiling({ ...raised, twilioConcurrency: 3 })).toMatchObject({ callsPerSecond: 0.05, bound: 'Twilio concurrent calls' });
    expect(deriveCeiling({ ...raised, syncShards: 16 }).callsPerSecond).toBeCloseTo(30 / 2.7, 5);
    expect(
      deriveCeiling({ ...raised, syncShards: 16, statusCallbacks: 0 }).limits.find((l) => l.name.startsWith('Twilio Sync'))!.callsPerSecond,
    ).toBeCloseTo(106.67, 2);
    expect(deriveCeiling({ ...raised, liveKitRequestsPerSecond: 90 })).toMatchObject({
      callsPerSecond: 5,
      bound: 'LiveKit Cloud API requests',
    });
  });
});
