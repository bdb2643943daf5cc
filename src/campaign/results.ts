/**
 * The results CSV, written as the campaign goes: one line per row once it
 * is done (row, callSid, room, status, error, attempts). The journal is the
 * record; this file is rewritten from it when a run starts, so a crash
 * between the two never leaves a row missing or written twice.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { csvLine } from './csv';
import type { RowResult } from './runner';

export const RESULT_COLUMNS = ['row', 'callSid', 'room', 'status', 'error', 'attempts'] as const;

export function resultLine(r: RowResult): string {
  return csvLine([r.row, r.callSid, r.room, r.status, r.error, String(r.attempts)]);
}

export class ResultsFile {
  private readonly fd: number;

  /** Starts `file` afresh with the header and `done`. */
  constructor(
    readonly file: string,
    done: readonly RowResult[],
  ) {
    this.fd = openSync(file, 'w');
    writeSync(this.fd, csvLine([...RESULT_COLUMNS]) + done.map(resultLine).join(''));
  }

  write(result: RowResult): void {
    writeSync(this.fd, resultLine(result));
  }

  close(): void {
    closeSync(this.fd);
  }
}
