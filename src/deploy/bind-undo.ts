/**
 * The undo record of `npm run bind`: for each number it changed, the voice
 * settings it found there first (`before`) and the ones it set last
 * (`after`). Binding again keeps the first `before`, so `--undo` always goes
 * back to what the number had before bind ever touched it; `after` tells undo
 * whether someone changed the number since.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { FIELDS, Voice } from './bind-plan';

export interface UndoEntry {
  sid: string;
  before: Voice;
  after: Voice;
  /** When bind first changed the number (ISO 8601). */
  firstBound: string;
}

interface UndoData {
  $comment: string;
  version: 1;
  /** Account SID -> E.164 number -> entry. */
  accounts: Record<string, Record<string, UndoEntry>>;
}

const COMMENT = 'Written by npm run bind: what it replaced on each number. npm run bind -- --undo restores it. Keep it out of git.';
const KEYS = [...FIELDS, 'voiceApplicationSid'] as const;

function isVoice(value: unknown): value is Voice {
  return typeof value === 'object' && value !== null && KEYS.every((k) => typeof (value as Record<string, unknown>)[k] === 'string');
}

function isEntry(value: unknown): value is UndoEntry {
  const e = value as UndoEntry | null;
  return typeof e === 'object' && e !== null && typeof e.sid === 'string' && isVoice(e.before) && isVoice(e.after);
}

export class UndoRecord {
  private constructor(
    readonly file: string,
    private readonly data: UndoData,
  ) {}

  /** Reads the record; an absent file is an empty record. Throws, naming the file, when it cannot be trusted. */
  static read(file: string): UndoRecord {
    const empty: UndoData = { $comment: COMMENT, version: 1, accounts: {} };
    if (!existsSync(file)) return new UndoRecord(file, empty);
    const broken = (why: string) =>
      new Error(`${file} ${why}: it holds the settings bind replaced, so bind will not overwrite it; repair it or move it away`);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw broken(`is not valid JSON (${error instanceof Error ? error.message : 'parse error'})`);
    }
    const d = data as Partial<UndoData> | null;
    if (typeof d !== 'object' || d === null || d.version !== 1 || typeof d.accounts !== 'object' || d.accounts === null)
      throw broken('is not an undo record of this version');
    for (const numbers of Object.values(d.accounts))
      for (const [number, entry] of Object.entries(numbers)) if (!isEntry(entry)) throw broken(`has an entry for ${number} it cannot read`);
    return new UndoRecord(file, { ...empty, accounts: d.accounts });
  }

  entries(accountSid: string): Record<string, UndoEntry> {
    return this.data.accounts[accountSid] ?? {};
  }

  get(accountSid: string, number: string): UndoEntry | undefined {
    return this.data.accounts[accountSid]?.[number];
  }

  /** Notes that bind sets `after` on a number that has `now`: the first `before` is kept. */
  record(accountSid: string, number: string, sid: string, now: Voice, after: Voice): void {
    const numbers = (this.data.accounts[accountSid] ??= {});
    const earlier = numbers[number];
    numbers[number] = {
      sid,
      before: earlier?.before ?? now,
      after,
      firstBound: earlier?.firstBound ?? new Date().toISOString(),
    };
  }

  remove(accountSid: string, number: string): void {
    const numbers = this.data.accounts[accountSid];
    if (!numbers) return;
    delete numbers[number];
    if (Object.keys(numbers).length === 0) delete this.data.accounts[accountSid];
  }

  /** Writes the record whole (through a temporary file, so a crash never leaves half of it); removes the file once empty. */
  save(): void {
    if (Object.keys(this.data.accounts).length === 0) {
      rmSync(this.file, { force: true });
      return;
    }
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.data, null, 2) + '\n', { mode: 0o600 });
    renameSync(temporary, this.file);
  }
}
