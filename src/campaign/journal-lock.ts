/**
 * One run at a time per journal. Two runs reading the same journal would
 * each take the rows the other has not yet written as theirs: the
 * IdempotencyKey stops a second call only while the service keeps the key
 * (10 minutes), so the second run is refused instead. The lock is a file
 * beside the journal, made with O_EXCL, naming the run that holds it; one
 * left by a run that died (its process gone) is taken over by one run only,
 * under a second O_EXCL file, and each run removes only its own. The check
 * trusts process ids on one host: containers sharing a folder and a host
 * name would need locks of their own. Runs on disjoint
 * slices of a list give each its own --results, so each its own journal.
 */
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';

export interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

export type LockResult = { ok: true; release: () => void } | { ok: false; holder: LockHolder | undefined };

function holderOf(file: string): LockHolder | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.since === 'string')
      return { pid: value.pid, host: value.host, since: value.since };
  } catch {
    // Unreadable or half written: nobody can be shown as holding it.
  }
  return undefined;
}

/** Whether the process is there; EPERM means it is, owned by someone else. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const GUARD_STALE_MS = 10_000;

/** Takes over a lock its dead holder left, unless another run is doing so: under a guard file, and only if it still names that holder. */
function takeOver(file: string, dead: LockHolder): boolean {
  const guard = `${file}.takeover`;
  let fd: number;
  try {
    fd = openSync(guard, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A guard is held for an instant; one older than this was left by a run that died taking over.
    const stat = statSync(guard, { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > GUARD_STALE_MS) rmSync(guard, { force: true });
    return false;
  }
  try {
    const now = holderOf(file);
    if (!now || now.pid !== dead.pid || now.since !== dead.since || now.host !== dead.host) return false;
    rmSync(file, { force: true });
    return true;
  } finally {
    closeSync(fd);
    rmSync(guard, { force: true });
  }
}

/**
 * Takes the lock for `journal`, or says who holds it. A holder on another
 * host (a shared folder) cannot be checked, so it is never taken over.
 */
export function lockJournal(journal: string, now = () => new Date()): LockResult {
  const file = `${journal}.lock`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = holderOf(file);
      const dead = holder !== undefined && holder.host === os.hostname() && !alive(holder.pid);
      if (dead && takeOver(file, holder)) continue;
      return { ok: false, holder: holderOf(file) ?? holder };
    }
    const mine: LockHolder = { pid: process.pid, host: os.hostname(), since: now().toISOString() };
    writeSync(fd, JSON.stringify(mine));
    closeSync(fd);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        // Only our own: a lock taken over from us (we were thought dead) is the other run's.
        const held = holderOf(file);
        if (held && held.pid === mine.pid && held.since === mine.since && held.host === mine.host) rmSync(file, { force: true });
      },
    };
  }
  // Taken by another run between our removal and our create.
  return { ok: false, holder: holderOf(file) };
}
