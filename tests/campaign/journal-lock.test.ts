/** One run per journal: the lock file beside it, taken, refused, released, and taken over from a run that died. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lockJournal } from '../../src/campaign/journal-lock';
import { tempDir } from '../support/campaign-harness';

const journalIn = (dir: string) => path.join(dir, 'c.journal.jsonl');

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

test('taken: a file beside the journal naming this run, readable by its owner only; released, it is gone', () => {
  const journal = journalIn(tempDir());
  const lock = lockJournal(journal, () => new Date('2026-12-01T09:00:00Z'));
  expect(lock.ok).toBe(true);
  expect(JSON.parse(readFileSync(`${journal}.lock`, 'utf8'))).toEqual({
    pid: process.pid,
    host: os.hostname(),
    since: '2026-12-01T09:00:00.000Z',
  });
  expect(statSync(`${journal}.lock`).mode & 0o777).toBe(0o600);
  if (lock.ok) lock.release();
  expect(existsSync(`${journal}.lock`)).toBe(false);
});

test('held by a live run: refused, naming it, and the lock left as it was', () => {
  const journal = journalIn(tempDir());
  const first = lockJournal(journal, () => new Date('2026-12-01T09:00:00Z'));
  const before = readFileSync(`${journal}.lock`, 'utf8');
  const second = lockJournal(journal);
  expect(second).toEqual({ ok: false, holder: { pid: process.pid, host: os.hostname(), since: '2026-12-01T09:00:00.000Z' } });
  expect(readFileSync(`${journal}.lock`, 'utf8')).toBe(before);
  if (first.ok) first.release();
  expect(lockJournal(journal).ok).toBe(true);
});

test('left by a run that died on this host: taken over', () => {
  const journal = journalIn(tempDir());
  const pid = deadPid();
  writeFileSync(`${journal}.lock`, JSON.stringify({ pid, host: os.hostname(), since: '2026-12-01T08:00:00.000Z' }));
  const lock = lockJournal(journal);
  expect(lock.ok).toBe(true);
  expect(JSON.parse(readFileSync(`${journal}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
});

test('held on another host, or naming nobody: never taken over (it cannot be checked)', () => {
  const journal = journalIn(tempDir());
  writeFileSync(`${journal}.lock`, JSON.stringify({ pid: deadPid(), host: 'other-host.example', since: '2026-12-01T08:00:00.000Z' }));
  expect(lockJournal(journal)).toMatchObject({ ok: false, holder: { host: 'other-host.example' } });
  writeFileSync(`${journal}.lock`, '{"pid":');
  expect(lockJournal(journal)).toEqual({ ok: false, holder: undefined });
});

test('a takeover under way (its guard file fresh) is left to that run; a guard left by a run that died is cleared', () => {
  const journal = journalIn(tempDir());
  writeFileSync(`${journal}.lock`, JSON.stringify({ pid: deadPid(), host: os.hostname(), since: '2026-12-01T08:00:00.000Z' }));
  writeFileSync(`${journal}.lock.takeover`, '');
  expect(lockJournal(journal).ok).toBe(false);
  expect(existsSync(`${journal}.lock.takeover`)).toBe(true);
  const old = new Date(Date.now() - 60_000);
  utimesSync(`${journal}.lock.takeover`, old, old);
  expect(lockJournal(journal).ok).toBe(false);
  expect(existsSync(`${journal}.lock.takeover`)).toBe(false);
  expect(lockJournal(journal).ok).toBe(true);
});

test('release removes only its own lock: one taken over meanwhile by another run stays', () => {
  const journal = journalIn(tempDir());
  const lock = lockJournal(journal);
  const other = JSON.stringify({ pid: process.pid + 1, host: os.hostname(), since: '2026-12-01T10:00:00.000Z' });
  writeFileSync(`${journal}.lock`, other);
  if (lock.ok) lock.release();
  expect(readFileSync(`${journal}.lock`, 'utf8')).toBe(other);
});
