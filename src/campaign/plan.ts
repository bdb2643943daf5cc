/**
 * Which rows the campaign may call, decided before any call: the dry run
 * prints this, and a real run calls only the rows it lets through. A row is
 * refused when it cannot be read, is on the opt-out list, repeats an earlier
 * row's number, has no time zone for the calling window, or would be
 * refused by the service's own dial policy (./dial-check).
 */
import type { DialChecker } from './dial-check';
import { normalizeNumber } from './opt-out';
import type { CampaignRow, CampaignTable } from './rows';

export interface Refusal {
  row: string;
  line: number;
  to: string;
  /** `opted-out`, `duplicate`, `no-time-zone`, `invalid-row`, or the service's own code (destination-not-allowed, ...). */
  code: string;
  message: string;
}

export interface Plan {
  callable: CampaignRow[];
  refusals: Refusal[];
  /** Callable rows by route. */
  routes: Record<string, number>;
}

export interface PlanOptions {
  optOut: ReadonlySet<string>;
  /** National numbers in the opt-out list and the CSV are read in this country. */
  country?: string;
  /** A window is set: every row needs a time zone. */
  windowed: boolean;
  timeZone?: string;
}

export function planCampaign(table: CampaignTable, checker: DialChecker, options: PlanOptions): Plan {
  const problems = new Map(table.problems.map((p) => [p.row, p]));
  const seen = new Map<string, string>();
  const refusals: Refusal[] = [];
  const callable: CampaignRow[] = [];
  const routes: Record<string, number> = {};
  for (const row of table.rows) {
    const to = row.params.To ?? '';
    const refuse = (code: string, message: string) => refusals.push({ row: row.id, line: row.line, to, code, message });
    const problem = problems.get(row.id);
    if (problem) {
      refuse(problem.code, problem.message);
      continue;
    }
    const number = normalizeNumber(to, options.country) || to;
    if (options.optOut.has(number)) {
      refuse('opted-out', 'on the opt-out list: never called');
      continue;
    }
    const earlier = seen.get(number);
    if (earlier !== undefined) {
      refuse('duplicate', `the same number as row ${earlier}: called once, for that row`);
      continue;
    }
    seen.set(number, row.id);
    if (options.windowed && !row.timeZone && !options.timeZone) {
      refuse('no-time-zone', 'no TimeZone in the row and no --timezone, so the calling window cannot be applied');
      continue;
    }
    const verdict = checker.check(row.params);
    if (!verdict.ok) {
      refuse(verdict.code, verdict.message);
      continue;
    }
    routes[verdict.route] = (routes[verdict.route] ?? 0) + 1;
    callable.push(row);
  }
  return { callable, refusals, routes };
}
