/**
 * What the service will dial, read from the environment as `outbound` reads
 * it: number types from libphonenumber's metadata, the explicit block-list,
 * and SIP addresses against the SIP domain allow-list.
 */
import { checkDialable, DialPolicy } from '../../src/phone/dial-policy';
import { readOutboundSettings } from '../../src/outbound/settings';

function policy(env: Record<string, string> = {}): DialPolicy {
  const read = readOutboundSettings({ OUTBOUND_CALLER_IDS: '+14155550100', OUTBOUND_ALLOWED_DESTINATIONS: 'US,GB,DE,FR,AU', ...env });
  if (!read.ok) throw new Error(JSON.stringify(read.problems));
  return read.value;
}

// Numbers the metadata classes as each type (valid numbers in their ranges).
const NUMBERS = {
  US: { FIXED_LINE_OR_MOBILE: '+14155550123', TOLL_FREE: '+18005551212', PREMIUM_RATE: '+19006299170', PERSONAL_NUMBER: '+15883096135' },
  GB: {
    FIXED_LINE: '+442079460000',
    MOBILE: '+447169328750',
    PREMIUM_RATE: '+449843621126',
    PERSONAL_NUMBER: '+447047469647',
    PAGER: '+447666020630',
    UAN: '+445548487414',
  },
  DE: {
    MOBILE: '+4916013797919',
    PREMIUM_RATE: '+499001741368',
    SHARED_COST: '+491371234567',
    PERSONAL_NUMBER: '+4970096003065',
    PAGER: '+491683927',
  },
  FR: {
    FIXED_LINE: '+33184884000',
    MOBILE: '+33657243550',
    PREMIUM_RATE: '+33832624896',
    SHARED_COST: '+33884840304',
    UAN: '+33809428733',
  },
  AU: { MOBILE: '+61456591749', PREMIUM_RATE: '+611901184812', SHARED_COST: '+611300123456', PAGER: '+6116353192' },
} as const;

const COSTLY = new Set(['PREMIUM_RATE', 'SHARED_COST', 'PERSONAL_NUMBER', 'PAGER', 'UAN']);
const table = Object.entries(NUMBERS).flatMap(([country, byType]) =>
  Object.entries(byType).map(([type, number]) => [country, type, number] as const),
);

describe('number types, by default', () => {
  test.each(table)('%s %s (%s): refused when costly, dialled otherwise', (country, type, number) => {
    const verdict = checkDialable(number, policy());
    if (COSTLY.has(type)) {
      expect(verdict).toMatchObject({ ok: false, code: 'destination-blocked' });
      expect(verdict.ok ? '' : verdict.message).toContain(`OUTBOUND_ALLOWED_NUMBER_TYPES can allow ${type}`);
    } else {
      expect(verdict).toEqual({ ok: true, country });
    }
  });
});

describe('number types allowed by name', () => {
  test.each([
    ['SHARED_COST', NUMBERS.DE.SHARED_COST, NUMBERS.DE.PREMIUM_RATE],
    ['PAGER', NUMBERS.GB.PAGER, NUMBERS.GB.PERSONAL_NUMBER],
    ['personal-number', NUMBERS.GB.PERSONAL_NUMBER, NUMBERS.GB.PAGER],
    ['premium_rate', NUMBERS.AU.PREMIUM_RATE, NUMBERS.AU.SHARED_COST],
  ])('OUTBOUND_ALLOWED_NUMBER_TYPES=%s allows that type and no other', (types, allowed, stillRefused) => {
    const configured = policy({ OUTBOUND_ALLOWED_NUMBER_TYPES: types });
    expect(checkDialable(allowed, configured)).toMatchObject({ ok: true });
    expect(checkDialable(stillRefused, configured)).toMatchObject({ ok: false, code: 'destination-blocked' });
  });

  test('an unknown type name is a configuration problem naming the variable', () => {
    const read = readOutboundSettings({ OUTBOUND_CALLER_IDS: '+14155550100', OUTBOUND_ALLOWED_NUMBER_TYPES: 'EXPENSIVE' });
    expect(read.ok ? [] : read.problems.map((p) => p.variable)).toEqual(['OUTBOUND_ALLOWED_NUMBER_TYPES']);
  });
});

describe('ranges the metadata cannot price, and numbers that exist nowhere', () => {
  test.each(['+870773111632', '+881612345678', '+88213400012', '+883510012345'])(
    '%s (satellite or international network) is blocked even when its prefix is allowed',
    (number) => {
      expect(checkDialable(number, policy({ OUTBOUND_ALLOWED_DESTINATIONS: '+8' }))).toMatchObject({
        ok: false,
        code: 'destination-blocked',
      });
    },
  );

  test('a number in no country says so, with what is allowed', () => {
    const verdict = checkDialable('+15551230000', policy({ OUTBOUND_ALLOWED_DESTINATIONS: '' }));
    expect(verdict).toEqual({
      ok: false,
      code: 'destination-not-allowed',
      message: 'To is not a number in service in any country (allowed destinations: US)',
    });
  });

  test('a number in another country names the country', () => {
    expect(checkDialable('+33184884000', policy({ OUTBOUND_ALLOWED_DESTINATIONS: 'US' }))).toMatchObject({
      ok: false,
      message: 'To is in FR, outside the destinations this service may call (US)',
    });
  });
});

describe('SIP addresses', () => {
  const sip = policy({ OUTBOUND_ALLOW_ADDRESSES: 'true', OUTBOUND_SIP_DOMAINS: 'pbx.example.com,*.sip.example.net' });

  test.each([
    ['sip:1001@pbx.example.com', true],
    ['sip:alice@pbx.example.com;transport=tls', true],
    ['sip:reception@office.sip.example.net', true],
    ['sip:+14155550123@pbx.example.com', true],
    ['sip:1001@evil.example.org', false],
    ['sip:1001@pbx.example.com.evil.org', false],
    ['sip:1001@sip.example.net', false],
    ['sip:+19006299170@pbx.example.com', false],
    ['sip:19006299170@pbx.example.com', false],
    ['sip:+870773111632@pbx.example.com', false],
    ['sip:+33184884000@pbx.example.com', true],
  ])('%s: allowed %s', (address, allowed) => {
    expect(checkDialable(address, sip).ok).toBe(allowed);
  });

  test('with OUTBOUND_ALLOW_ADDRESSES but no SIP domains, no sip: address is dialled; client: still is', () => {
    const clientsOnly = policy({ OUTBOUND_ALLOW_ADDRESSES: 'true' });
    expect(checkDialable('sip:+19005550123@anyhost', clientsOnly)).toMatchObject({ ok: false, code: 'destination-not-allowed' });
    expect(checkDialable('client:support-desk', clientsOnly)).toEqual({ ok: true, country: '' });
  });

  test('addresses stay off without OUTBOUND_ALLOW_ADDRESSES', () => {
    expect(checkDialable('sip:1001@pbx.example.com', policy({ OUTBOUND_SIP_DOMAINS: 'pbx.example.com' })).ok).toBe(false);
  });
});
