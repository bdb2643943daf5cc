/**
 * CSV as RFC 4180 writes it (https://www.rfc-editor.org/rfc/rfc4180):
 * records separated by CRLF (LF and a lone CR accepted too), fields by
 * commas, a field in double quotes may hold commas, line breaks and quotes
 * (doubled). A UTF-8 byte order mark, as spreadsheets save it, is dropped.
 * No dependency: the campaign reads its list and writes its results here.
 */

export class CsvError extends Error {
  override name = 'CsvError';
  constructor(
    message: string,
    /** 1-based line where the problem starts. */
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** A record's fields and the 1-based line it starts on. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/** Every record of `text`, blank lines dropped. Throws {@link CsvError} on a quote left open or text after a closing quote. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  // Whether the current record has anything in it: a line with nothing on it is no record.
  let started = false;
  let state: 'start' | 'plain' | 'quoted' | 'closed' = 'start';
  let quoteLine = 1;
  const endField = () => {
    fields.push(field);
    field = '';
    state = 'start';
  };
  const endRecord = () => {
    if (started) {
      endField();
      records.push({ fields, line: recordLine });
    }
    fields = [];
    field = '';
    started = false;
    state = 'start';
  };
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i += 1) {
    const c = text[i]!;
    const lineBreak = c === '\n' || c === '\r';
    if (state === 'quoted') {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 1;
        } else state = 'closed';
        continue;
      }
      if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line += 1;
      field += c;
      continue;
    }
    if (lineBreak) {
      endRecord();
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      line += 1;
      recordLine = line;
      continue;
    }
    started = true;
    if (c === ',') {
      endField();
      continue;
    }
    if (state === 'closed') throw new CsvError('text after a closing quote: a quote inside a quoted field is written twice ("")', line);
    if (c === '"' && state === 'start') {
      state = 'quoted';
      quoteLine = line;
      continue;
    }
    state = 'plain';
    field += c;
  }
  if (state === 'quoted') throw new CsvError('a quoted field is never closed', quoteLine);
  endRecord();
  return records;
}

/** One field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One record, CRLF-terminated. */
export function csvLine(values: readonly string[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
