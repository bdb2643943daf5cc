/**
 * The calling window: the local hours, in the callee's time zone, during
 * which a call may be started (`--window 09:00-20:00`). libphonenumber knows
 * no time zones, so the zone is the row's TimeZone column or the campaign's
 * `--timezone`; Intl (ICU's tz data, as Node ships it) turns an instant
 * into that zone's wall clock, daylight saving included.
 */

export interface CallingWindow {
  /** Minutes after local midnight the window opens. */
  start: number;
  /** Minutes after local midnight it closes (exclusive); less than `start` for a window across midnight. */
  end: number;
  /** As given, for messages. */
  text: string;
}

const TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** `HH:MM-HH:MM`; undefined when malformed. */
export function parseWindow(text: string): CallingWindow | undefined {
  const [from, to, extra] = text.split('-').map((s) => s.trim());
  if (!from || !to || extra !== undefined) return undefined;
  const a = TIME.exec(from);
  const b = TIME.exec(to);
  if (!a || !b) return undefined;
  const start = Number(a[1]) * 60 + Number(a[2]);
  const end = Number(b[1]) * 60 + Number(b[2]);
  if (start === end) return undefined;
  return { start, end, text };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes after local midnight (fractional) at `at` in `zone`. */
export function localMinutes(at: number, zone: string): number {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(zone, format);
  }
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of format.formatToParts(new Date(at))) {
    if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
    else if (part.type === 'second') second = Number(part.value);
  }
  return hour * 60 + minute + second / 60 + (at % 1000) / 60_000;
}

function inside(minutes: number, window: CallingWindow): boolean {
  return window.start < window.end ? minutes >= window.start && minutes < window.end : minutes >= window.start || minutes < window.end;
}

export function isOpen(at: number, zone: string, window: CallingWindow): boolean {
  return inside(localMinutes(at, zone), window);
}

/**
 * When the window is next open in `zone`, from `at`: `at` itself while it
 * is open. Found by stepping a minute at a time across the wall clock, so
 * that a daylight-saving change on the way is met as it happens (at most a
 * day of steps, only while a window is closed).
 */
export function nextOpening(at: number, zone: string, window: CallingWindow): number {
  const now = localMinutes(at, zone);
  if (inside(now, window)) return at;
  // Jump close to the opening, then step to the exact minute the zone's clock shows it.
  const ahead = (window.start - now + 24 * 60) % (24 * 60);
  let t = at + Math.max(0, ahead - 90) * 60_000;
  t -= Math.round((localMinutes(t, zone) % 1) * 60_000);
  for (let steps = 0; steps < 26 * 60; steps += 1) {
    if (inside(localMinutes(t, zone), window)) return t;
    t += 60_000;
  }
  return t;
}
