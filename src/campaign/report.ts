/** The dry run's text: what would be called, what is refused and why, and how fast this account can go. */
import { deriveCeiling, CeilingInputs } from './ceiling';
import type { Plan } from './plan';
import { formatDuration } from './progress';

export interface PlanSettings {
  campaign: string;
  url: string;
  rate: number;
  concurrency: number;
  window?: string;
  timeZone?: string;
  attempts: number;
  retryDelayMs: number;
  optOut: { file?: string; numbers: number; unreadable: { line: number; text: string }[] };
  ignoredColumns: string[];
}

const rateText = (n: number) => (n === Infinity ? 'no bound' : `${n.toFixed(n >= 10 ? 1 : n >= 1 ? 2 : 3)} calls/s`);

export function describePlan(plan: Plan, total: number, settings: PlanSettings, ceiling: CeilingInputs): string[] {
  const lines: string[] = [];
  lines.push(`campaign ${settings.campaign}: ${total} rows, ${plan.callable.length} to call, ${plan.refusals.length} refused`);
  lines.push(`service: ${settings.url}`);
  const routes = Object.entries(plan.routes)
    .map(([route, n]) => `${route} ${n}`)
    .join(', ');
  if (routes) lines.push(`routes: ${routes}`);
  lines.push(
    `pace: ${settings.rate} requests/s, at most ${settings.concurrency} calls at once, up to ${settings.attempts} call(s) a row` +
      (settings.attempts > 1 ? ` (busy and no-answer called again after ${formatDuration(settings.retryDelayMs)})` : ''),
  );
  lines.push(
    settings.window
      ? `calling window: ${settings.window} in each row's TimeZone${settings.timeZone ? ` (else ${settings.timeZone})` : ''}`
      : 'calling window: none (--window HH:MM-HH:MM sets one; calls may start at any hour)',
  );
  lines.push(
    settings.optOut.file
      ? `opt-out list: ${settings.optOut.file}, ${settings.optOut.numbers} numbers`
      : 'opt-out list: none (--opt-out FILE)',
  );
  for (const bad of settings.optOut.unreadable.slice(0, 10))
    lines.push(`  opt-out line ${bad.line}: "${bad.text}" is not a number; it matches nothing`);
  if (settings.optOut.unreadable.length > 10)
    lines.push(`  ... and ${settings.optOut.unreadable.length - 10} more unreadable opt-out lines`);
  if (settings.ignoredColumns.length) lines.push(`columns not used: ${settings.ignoredColumns.join(', ')}`);
  if (plan.refusals.length) {
    lines.push('', `refused (${plan.refusals.length}), never called:`);
    const byCode: Record<string, number> = {};
    for (const r of plan.refusals) {
      byCode[r.code] = (byCode[r.code] ?? 0) + 1;
      lines.push(`  row ${r.row} (line ${r.line}) ${r.to || '(no To)'}: ${r.code}: ${r.message}`);
    }
    lines.push(
      `  by reason: ${Object.entries(byCode)
        .map(([code, n]) => `${code} ${n}`)
        .join(', ')}`,
    );
  }
  const { limits, callsPerSecond, bound } = deriveCeiling(ceiling);
  lines.push('', `calls per second this account can place through this service: ${rateText(callsPerSecond)}, set by ${bound}`);
  for (const limit of limits) {
    lines.push(`  ${limit.confirmed ? ' ' : '?'} ${limit.name}: ${rateText(limit.callsPerSecond)} (${limit.how})`);
    lines.push(`      source: ${limit.source}`);
  }
  lines.push('  (? marks an assumption or an unpublished figure)');
  if (settings.rate > ceiling.cps) {
    lines.push(
      `warning: --rate ${settings.rate} is above the account's ${ceiling.cps} CPS: Twilio queues the calls beyond it (22005 past 24 hours), and a queued call may ring outside the window`,
    );
  }
  if (ceiling.twilioConcurrency !== undefined && ceiling.twilioConcurrency < settings.concurrency) {
    lines.push(
      `warning: --concurrency ${settings.concurrency} is above the ${ceiling.twilioConcurrency} calls the account holds at once: Twilio refuses the rest (10004), each refusal is reported on its row, and the campaign then holds no more calls than are live`,
    );
  }
  const seconds = plan.callable.length / Math.min(settings.rate, callsPerSecond);
  lines.push(
    `at ${rateText(Math.min(settings.rate, callsPerSecond))}, the first call of every row takes about ${formatDuration(seconds * 1000)}`,
  );
  return lines;
}
