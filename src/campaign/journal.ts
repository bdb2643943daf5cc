/**
 * The campaign's journal: an append-only JSON Lines file, one event a line,
 * each written and fsync'd before the campaign acts on it. `sending` is on
 * disk before its request leaves, so after a crash or Ctrl-C every request
 * that may have reached the service is known, with the key it carried and
 * when; what came back is the next line, when it came back at all.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';

export type JournalEvent =
  /** A run started against `url` (the service whose Sync holds the keys) for `account`. */
  | { t: 'start'; at: number; campaign: string; url: string; account: string; rows: number }
  /** A request is about to be sent with this key, for this attempt (a call placed) and key generation. */
  | { t: 'sending'; at: number; row: string; to: string; key: string; attempt: number; gen: number }
  /** The service placed (or replayed) the call. */
  | { t: 'placed'; at: number; row: string; key: string; callSid: string; room: string; replayed?: boolean }
  /**
   * Nothing is being placed now; send again at `dueAt`. `definite`: the
   * service said nothing was placed (the key is free); otherwise an earlier
   * request with the key may still be running (409 request-in-progress).
   */
  | {
      t: 'later';
      at: number;
      row: string;
      key: string;
      dueAt: number;
      code: string;
      message: string;
      definite: boolean;
      concurrency?: boolean;
    }
  /** No usable answer (network failure, a crash page): the key, resent while it lasts, settles it. */
  | { t: 'unanswered'; at: number; row: string; key: string; code: string; message: string }
  /** The service says the call may exist (Twilio timed out or answered 5xx): Twilio's call list settles it. */
  | { t: 'uncertain'; at: number; row: string; key: string; code: string; message: string }
  /** Twilio's call list was read for the key's lost outcome: the call found, or none (nothing was placed). */
  | { t: 'reconciled'; at: number; row: string; key: string; callSid: string | null; listed: number }
  /** A placed call reached a final status. */
  | { t: 'ended'; at: number; row: string; callSid: string; status: string }
  /** The row is done. */
  | { t: 'final'; at: number; row: string; status: string; callSid?: string; room?: string; error?: string; attempts: number };

export interface JournalSink {
  append(event: JournalEvent): void;
}

/** Reads a journal; a last line cut short by a crash is dropped (its request was never sent). */
export function readJournal(file: string): JournalEvent[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const events: JournalEvent[] = [];
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    try {
      events.push(JSON.parse(line) as JournalEvent);
    } catch {
      // Only the last line can be torn: fsync made every earlier one whole.
      if (index < lines.length - 1) throw new Error(`${file}: line ${index + 1} is not a journal event; the journal is damaged`);
    }
  });
  return events;
}

/** Appends events to `file`, one fsync'd line each. */
export class JournalFile implements JournalSink {
  private fd: number;

  constructor(readonly file: string) {
    // It holds the numbers called: readable by its owner only.
    this.fd = openSync(file, 'a+', 0o600);
    // A line torn by a crash would run into the next one: cut it off first.
    const text = readFileSync(file, 'utf8');
    if (text && !text.endsWith('\n')) {
      ftruncateSync(this.fd, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
    }
  }

  append(event: JournalEvent): void {
    writeSync(this.fd, `${JSON.stringify(event)}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
