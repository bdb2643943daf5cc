/**
 * What went wrong talking to Twilio, said as cause and next step: the
 * twilio client's RestException (status, code, message, moreInfo), or the
 * network failure under it, named as every tool names one (./net-errors).
 */
import { classifyNetworkError, describeNetworkError } from './net-errors';

export function describeTwilioError(error: unknown): string {
  const e = (error ?? {}) as { status?: unknown; code?: unknown; message?: unknown; moreInfo?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (typeof e.status === 'number') {
    const code = typeof e.code === 'number' ? e.code : undefined;
    const said = `HTTP ${e.status}${code ? `, error ${code}` : ''}: ${message}`;
    if (code === 20003 || e.status === 401)
      return `Twilio refused ACCOUNT_SID/AUTH_TOKEN (${said}): check them in .env against the Console's Account Info`;
    if (code === 20429 || e.status === 429)
      return `Twilio is limiting this account's requests (${said}): wait a minute and run bind again; numbers already bound are skipped`;
    if (code === 21402) return `Twilio refused a URL (${said}): check --domain or --url, and --fallback-url`;
    if (code === 20404 || e.status === 404)
      return `Twilio no longer has this number on the account (${said}): run bind again to see the account's numbers`;
    if (e.status === 403)
      return `Twilio refused the request (${said}): these credentials may not manage phone numbers; use the account's own Auth Token`;
    if (e.status >= 500) return `Twilio failed to answer (${said}): run bind again in a minute; numbers already bound are skipped`;
    const more = typeof e.moreInfo === 'string' && e.moreInfo ? `; see ${e.moreInfo}` : '';
    return `Twilio refused the request (${said}${more})`;
  }
  const kind = classifyNetworkError(error).kind;
  const described = describeNetworkError(error, {
    url: 'https://api.twilio.com',
    what: 'Twilio',
    // The address is Twilio's own: the next step is this machine's network, not a setting.
    next: {
      dns: "check this machine's network connection and DNS",
      refused: 'check HTTPS_PROXY and any firewall between this machine and api.twilio.com',
    },
  });
  return kind === 'timeout' || kind === 'reset' ? `${described}; numbers already bound are skipped` : described;
}
