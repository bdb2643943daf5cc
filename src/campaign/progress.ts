/**
 * What the campaign shows while it runs. On a terminal: one line redrawn in
 * place with rows done of the total, the rate of calls placed (the last 30
 * seconds), the time left at that rate, and what is live; what needs a
 * person's eye (a refusal, a call that may exist) is printed above it.
 * Otherwise (a pipe, a log file): one line per call and per such event.
 */
import type { CampaignEvent, Snapshot } from './runner';

export interface Output {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

const WINDOW_MS = 30_000;
const CALL_ENDINGS = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '--';
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h ${String(m).padStart(2, '0')}m` : m ? `${m}m ${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export class Progress {
  private readonly placedAt: number[] = [];
  private drawn = false;
  private lastDraw = 0;

  constructor(
    private readonly out: Output,
    private readonly now: () => number,
    /** The configured rate, for the time left before any call was placed. */
    private readonly rate: number,
  ) {}

  private line(text: string): void {
    if (this.out.isTTY && this.drawn) this.out.write('\r\x1b[2K');
    this.out.write(`${text}\n`);
    this.drawn = false;
  }

  event(e: CampaignEvent): void {
    const at = new Date(this.now()).toISOString().slice(11, 19);
    switch (e.kind) {
      case 'placed':
        this.placedAt.push(this.now());
        if (!this.out.isTTY)
          this.line(`${at} row ${e.row}: placed ${e.callSid} (attempt ${e.attempt}${e.replayed ? ", the earlier request's call" : ''})`);
        return;
      case 'ended':
        if (!this.out.isTTY)
          this.line(
            `${at} row ${e.row}: ${e.callSid} ${e.status}${e.retryAt ? `, calling again at ${new Date(e.retryAt).toISOString().slice(0, 16).replace('T', ' ')}Z` : ''}`,
          );
        return;
      case 'final':
        // A call's ending has its own line (or the bar); a row done without one needs saying.
        if (e.result.callSid && CALL_ENDINGS.has(e.result.status)) return;
        this.line(`${at} row ${e.result.row}: ${e.result.status}${e.result.error ? ` (${e.result.error})` : ''}`);
        return;
      case 'later':
        if (e.concurrency || !this.out.isTTY)
          this.line(`${at} row ${e.row}: ${e.code}: ${e.message}; trying again in ${formatDuration(e.dueAt - this.now())}`);
        return;
      case 'uncertain':
        this.line(
          `${at} row ${e.row}: the call may exist (${e.message}); Twilio's call list settles it at ${new Date(e.reconcileAt).toISOString().slice(11, 19)}Z`,
        );
        return;
      case 'reconciled':
        this.line(
          `${at} row ${e.row}: Twilio's call list ${e.callSid ? `has its call, ${e.callSid}` : 'has no call for it: it will be placed'}`,
        );
        return;
      case 'limit':
        this.line(`${at} holding at most ${e.concurrency} calls at once from now on (${e.reason})`);
        return;
    }
  }

  /** Calls placed a second over the last 30 s. */
  currentRate(): number {
    const now = this.now();
    while (this.placedAt.length && this.placedAt[0]! < now - WINDOW_MS) this.placedAt.shift();
    if (this.placedAt.length < 2) return 0;
    const span = Math.max(1000, now - this.placedAt[0]!);
    return (this.placedAt.length / span) * 1000;
  }

  /** The terminal's line, redrawn at most 5 times a second. */
  draw(s: Snapshot, force = false): void {
    if (!this.out.isTTY) return;
    const now = this.now();
    if (!force && now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const rate = this.currentRate();
    const left = s.total - s.done;
    const eta = left === 0 ? 0 : ((left - s.live) / (rate || this.rate)) * 1000;
    const width = Math.max(10, Math.min(30, (this.out.columns ?? 80) - 70));
    const filled = s.total ? Math.round((s.done / s.total) * width) : width;
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const pct = s.total ? Math.floor((s.done / s.total) * 100) : 100;
    this.out.write(
      `\r\x1b[2K${bar} ${s.done}/${s.total} ${pct}% | ${rate.toFixed(1)} calls/s | ETA ${formatDuration(eta)} | live ${s.live}/${s.concurrency}`,
    );
    this.drawn = true;
  }

  finish(): void {
    if (this.out.isTTY && this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
