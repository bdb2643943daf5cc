/**
 * A campaign's rows: each CSV record after the header becomes the
 * parameters of one `outbound` request (its names exactly as the service
 * takes them), plus what only the campaign reads: the row's `id` and its
 * `TimeZone`. `attr.<name>` columns are folded into ParticipantAttributes.
 */
import { PARAMETERS } from '../outbound/request';
import { CsvRecord, parseCsv } from './csv';

export interface CampaignRow {
  /** The `id` column, or the row's number among the data rows (1-based). */
  id: string;
  /** 1-based line of the CSV the row starts on. */
  line: number;
  /** The `outbound` parameters, empty cells left out; never IdempotencyKey (the campaign sets it). */
  params: Record<string, string>;
  /** IANA time zone from the row's TimeZone column. */
  timeZone?: string;
}

export interface RowProblem {
  row: string;
  line: number;
  code: 'invalid-row';
  message: string;
}

export interface CampaignTable {
  rows: CampaignRow[];
  /** Rows that cannot be sent as they are: a bad TimeZone, ParticipantAttributes that is not a JSON object. */
  problems: RowProblem[];
  /** Columns the campaign does not read, reported once. */
  ignoredColumns: string[];
}

/** What the campaign reads besides the request's parameters. */
const OWN_COLUMNS = ['id', 'TimeZone'] as const;
/** Passed to `outbound` as they are. IdempotencyKey is the campaign's own: a column naming it is refused. */
const PASSED = PARAMETERS.filter((p) => p !== 'IdempotencyKey') as readonly string[];
const ATTRIBUTE_PREFIX = 'attr.';
/** A row id is written into the journal and results: one line, not huge. */
const MAX_ID = 128;

export class TableError extends Error {
  override name = 'TableError';
}

/** Whether `zone` is an IANA time zone this Node knows (Intl's own check). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function headerOf(record: CsvRecord): string[] {
  const names = record.fields.map((f) => f.trim());
  const known = new Map([...PASSED, ...OWN_COLUMNS, 'IdempotencyKey'].map((n) => [n.toLowerCase(), n]));
  const seen = new Set<string>();
  for (const name of names) {
    if (!name) throw new TableError('the header has an empty column name');
    if (seen.has(name)) throw new TableError(`the header names ${name} twice`);
    seen.add(name);
    if (name === 'IdempotencyKey')
      throw new TableError(
        "the CSV has an IdempotencyKey column: the campaign makes each row's key itself (from --campaign and the row), so remove it",
      );
    const expected = known.get(name.toLowerCase());
    if (expected && expected !== name)
      throw new TableError(`column ${name}: names are case-sensitive, as the service takes them; use ${expected}`);
    if (name.startsWith(ATTRIBUTE_PREFIX) && name.length === ATTRIBUTE_PREFIX.length)
      throw new TableError('column attr. needs a name after the dot');
  }
  if (!seen.has('To')) throw new TableError('the header has no To column: the number each row calls');
  return names;
}

/** Reads the table; throws {@link TableError} or CsvError for what makes the whole file unusable. */
export function readCampaignTable(text: string): CampaignTable {
  const records = parseCsv(text);
  const header = records[0];
  if (!header) throw new TableError('the CSV is empty: it needs a header row naming its columns (To, and optionally From, AgentName, ...)');
  const names = headerOf(header);
  const ignored = names.filter(
    (n) => !PASSED.includes(n) && !(OWN_COLUMNS as readonly string[]).includes(n) && !n.startsWith(ATTRIBUTE_PREFIX),
  );
  const rows: CampaignRow[] = [];
  const problems: RowProblem[] = [];
  const ids = new Set<string>();
  records.slice(1).forEach((record, index) => {
    if (record.fields.length !== names.length) {
      throw new TableError(`line ${record.line}: ${record.fields.length} fields where the header has ${names.length}`);
    }
    const cell = (name: string) => (record.fields[names.indexOf(name)] ?? '').trim();
    const id = names.includes('id') && cell('id') ? cell('id') : String(index + 1);
    if (id.length > MAX_ID || /[\r\n]/.test(id))
      throw new TableError(`line ${record.line}: id must be one line of at most ${MAX_ID} characters`);
    if (ids.has(id)) throw new TableError(`line ${record.line}: id ${id} is used by an earlier row: each row needs its own id`);
    ids.add(id);
    const params: Record<string, string> = {};
    for (const name of PASSED) if (names.includes(name) && cell(name)) params[name] = cell(name);
    const problem = (message: string) => problems.push({ row: id, line: record.line, code: 'invalid-row', message });
    const attributes = names.filter((n) => n.startsWith(ATTRIBUTE_PREFIX) && cell(n));
    if (attributes.length) {
      let merged: Record<string, unknown> = {};
      if (params.ParticipantAttributes) {
        try {
          const parsed = JSON.parse(params.ParticipantAttributes) as unknown;
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) merged = parsed as Record<string, unknown>;
          else problem('ParticipantAttributes must be a JSON object to be combined with attr. columns');
        } catch {
          problem('ParticipantAttributes is not valid JSON');
        }
      }
      for (const name of attributes) merged[name.slice(ATTRIBUTE_PREFIX.length)] = cell(name);
      params.ParticipantAttributes = JSON.stringify(merged);
    }
    const row: CampaignRow = { id, line: record.line, params };
    const zone = names.includes('TimeZone') ? cell('TimeZone') : '';
    if (zone) {
      if (isTimeZone(zone)) row.timeZone = zone;
      else problem(`TimeZone ${zone} is not an IANA time zone such as America/New_York`);
    }
    rows.push(row);
  });
  return { rows, problems, ignoredColumns: ignored };
}
