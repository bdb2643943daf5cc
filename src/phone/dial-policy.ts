/**
 * Whether the service may dial a destination: a phone number, a `client:`
 * address, or a `sip:` address. The one check every number the service
 * dials goes through (outbound calls, and the targets agents transfer to).
 */
import { codePointLength, hasUnsafeCharacters } from '../util/sanitize';
import { addressKind, isE164 } from './address';
import { checkDestination, DestinationPolicy } from './destination';

export interface DialPolicy {
  destinations: DestinationPolicy;
  /** Whether `client:` and `sip:` addresses may be dialled at all. */
  allowAddresses: boolean;
  /** SIP domains `sip:` addresses may name: `pbx.example.com`, or `*.example.com` for its subdomains. */
  sipDomains: readonly string[];
}

export type DialVerdict =
  { ok: true; country: string } | { ok: false; code: 'invalid' | 'destination-not-allowed' | 'destination-blocked'; message: string };

const refuse = (code: 'invalid' | 'destination-not-allowed' | 'destination-blocked', message: string): DialVerdict => ({
  ok: false,
  code,
  message,
});

function checkNumber(number: string, policy: DialPolicy, what: string): DialVerdict {
  const verdict = checkDestination(number, policy.destinations);
  if (verdict.allowed) return { ok: true, country: verdict.country };
  if (verdict.reason === 'blocked') return refuse('destination-blocked', `${what} is in a blocked range`);
  if (verdict.reason === 'number-type') {
    return refuse(
      'destination-blocked',
      `${what} is a ${verdict.type.toLowerCase().replace(/_/g, ' ')} number, which this service does not call (OUTBOUND_ALLOWED_NUMBER_TYPES can allow ${verdict.type})`,
    );
  }
  const allowed = [...policy.destinations.countries, ...policy.destinations.prefixes].join(', ') || 'none';
  if (!verdict.country) {
    return refuse('destination-not-allowed', `${what} is not a number in service in any country (allowed destinations: ${allowed})`);
  }
  return refuse('destination-not-allowed', `${what} is in ${verdict.country}, outside the destinations this service may call (${allowed})`);
}

/** The host of a `sip:` address, and the number in its user part if it holds one. */
function parseSip(address: string): { user: string; host: string } | undefined {
  const match = /^sips?:([^@;?\s]+)@([A-Za-z0-9.-]+)(:\d{1,5})?([;?].*)?$/i.exec(address);
  return match ? { user: decodeURIComponent(match[1]!), host: match[2]!.toLowerCase() } : undefined;
}

function domainAllowed(host: string, domains: readonly string[]): boolean {
  return domains.some((d) => (d.startsWith('*.') ? host.endsWith(d.slice(1)) && host.length > d.length - 1 : host === d));
}

/**
 * A number in a SIP user part: `+` and digits, or 7 or more digits (with the
 * usual separators). Shorter ones are extensions on the far system.
 */
function sipUserNumber(user: string): string | undefined {
  const digits = user.replace(/[\s().-]/g, '');
  if (/^\+\d{7,15}$/.test(digits)) return digits;
  if (/^\d{7,15}$/.test(digits)) return `+${digits.replace(/^00/, '')}`;
  return undefined;
}

export function checkDialable(to: string, policy: DialPolicy, what = 'To'): DialVerdict {
  const kind = addressKind(to);
  if (kind === 'client' || kind === 'sip') {
    if (!policy.allowAddresses) return refuse('destination-not-allowed', `${what} may not be a client: or sip: address on this service`);
    if (codePointLength(to) > 256 || hasUnsafeCharacters(to) || /\s/.test(to)) return refuse('invalid', `${what} is not a valid address`);
    if (kind === 'client') return { ok: true, country: '' };
    const sip = parseSip(to);
    if (!sip) return refuse('invalid', `${what} is not a valid sip: address`);
    if (!domainAllowed(sip.host, policy.sipDomains)) {
      return refuse('destination-not-allowed', `${what} is on ${sip.host}, which is not in OUTBOUND_SIP_DOMAINS`);
    }
    const number = sipUserNumber(sip.user);
    return number ? checkNumber(number, policy, `${what}'s number`) : { ok: true, country: '' };
  }
  if (!isE164(to)) return refuse('invalid', `${what} must be an E.164 number such as +14155550100`);
  return checkNumber(to, policy, what);
}
