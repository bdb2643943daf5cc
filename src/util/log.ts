/**
 * One log line per request, as JSON. Fields are chosen by the callers and
 * never include secrets; as a second line of defence every string is passed
 * through {@link redact}, because error messages can quote what they got.
 */

export type LogFields = Record<string, string | number | boolean | undefined>;

const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const STREAM_URL = /\b(wss?|https?):\/\/[^\s"'<>]+/gi;

/** Removes JWTs and reduces URLs to their origin. */
export function redact(text: string): string {
  return text.replace(JWT, '[jwt]').replace(STREAM_URL, (match) => {
    try {
      const url = new URL(match);
      return url.pathname === '/' && !url.search ? match : `${url.protocol}//${url.host}/[redacted]`;
    } catch {
      return '[url]';
    }
  });
}

export function formatLogLine(fields: LogFields): string {
  const clean: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === '') continue;
    clean[key] = typeof value === 'string' ? redact(value) : value;
  }
  return JSON.stringify(clean);
}

/** Writes one line: errors to stderr (Twilio shows them as errors), the rest to stdout. */
export function logLine(fields: LogFields, level: 'info' | 'error' = 'info'): void {
  const line = formatLogLine(fields);
  if (level === 'error') console.error(line);
  else console.log(line);
}
