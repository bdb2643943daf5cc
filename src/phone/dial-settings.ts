/**
 * The dial policy from the environment: where the service may call, for
 * `outbound` and for the targets agents transfer to alike. By default a
 * deployment dials only the countries its own caller IDs are in.
 */
import { EnvReader, memoizedRead } from '../config/env-reader';
import type { Env } from '../config/env-reader';
import { finish, Read } from '../config/settings';
import { clean } from '../util/sanitize';
import { COUNTRY_CODE, E164_PREFIX, isE164 } from './address';
import { BLOCKED_PREFIXES, countryOf, DestinationPolicy, NUMBER_TYPES, NumberType } from './destination';
import type { DialPolicy } from './dial-policy';

/** Where calls may go: the allow-list (by default the caller IDs' countries) and the block-list. */
/** Nowhere: what a broken dial configuration allows. */
export const EMPTY_DESTINATIONS: DestinationPolicy = {
  countries: new Set(),
  prefixes: [],
  blocked: BLOCKED_PREFIXES,
  allowedTypes: new Set(),
};

function readDestinations(reader: EnvReader, callerIds: string[]): DestinationPolicy {
  const countries = new Set<string>();
  const prefixes: string[] = [];
  const allowed = reader.list('OUTBOUND_ALLOWED_DESTINATIONS');
  for (const entry of allowed) {
    const upper = entry.toUpperCase();
    if (COUNTRY_CODE.test(upper)) countries.add(upper);
    else if (E164_PREFIX.test(entry)) prefixes.push(entry);
    else reader.problem('OUTBOUND_ALLOWED_DESTINATIONS', `has "${clean(entry, 20)}": use ISO country codes (US) or E.164 prefixes (+1415)`);
  }
  // By default a deployment dials only the countries its own numbers are in.
  if (allowed.length === 0) for (const id of callerIds) if (countryOf(id)) countries.add(countryOf(id));

  const blocked = [...BLOCKED_PREFIXES];
  for (const entry of reader.list('OUTBOUND_BLOCKED_PREFIXES')) {
    if (E164_PREFIX.test(entry)) blocked.push(entry);
    else reader.problem('OUTBOUND_BLOCKED_PREFIXES', `has "${clean(entry, 20)}", which is not an E.164 prefix such as +1900`);
  }
  const allowedTypes = new Set<NumberType>();
  for (const entry of reader.list('OUTBOUND_ALLOWED_NUMBER_TYPES')) {
    const type = entry.toUpperCase().replace(/[\s-]/g, '_');
    if ((NUMBER_TYPES as readonly string[]).includes(type)) allowedTypes.add(type as NumberType);
    else reader.problem('OUTBOUND_ALLOWED_NUMBER_TYPES', `has "${clean(entry, 20)}": use ${NUMBER_TYPES.join(', ')}`);
  }
  return { countries, prefixes, blocked, allowedTypes };
}

/** SIP domains `sip:` destinations may name; `*.example.com` allows its subdomains. */
function readSipDomains(reader: EnvReader): string[] {
  const domains = reader.list('OUTBOUND_SIP_DOMAINS').map((d) => d.toLowerCase());
  for (const domain of domains) {
    if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(domain)) {
      reader.problem('OUTBOUND_SIP_DOMAINS', `has "${clean(domain, 40)}", which is not a domain such as pbx.example.com or *.example.com`);
    }
  }
  return domains;
}

export const readDialPolicy = memoizedRead(
  [
    'OUTBOUND_CALLER_IDS',
    'OUTBOUND_ALLOWED_DESTINATIONS',
    'OUTBOUND_BLOCKED_PREFIXES',
    'OUTBOUND_ALLOWED_NUMBER_TYPES',
    'OUTBOUND_ALLOW_ADDRESSES',
    'OUTBOUND_SIP_DOMAINS',
  ],
  (env: Env): Read<DialPolicy> => {
    const reader = new EnvReader(env);
    const callerIds = reader.list('OUTBOUND_CALLER_IDS').filter(isE164);
    return finish(reader, {
      destinations: readDestinations(reader, callerIds),
      allowAddresses: reader.flag('OUTBOUND_ALLOW_ADDRESSES', false),
      sipDomains: readSipDomains(reader),
    });
  },
);
