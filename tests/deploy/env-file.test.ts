import { parseEnvText, uploadedVariables } from '../../src/deploy/env-file';
import { contextSize, formatPreflight, preflight } from '../../src/deploy/preflight';

const target = {
  dependencies: { '@twilio/runtime-handler': '2.0.1', twilio: '5.13.1' },
  runtime: 'node22',
  serviceName: 'svc',
  environment: 'dev',
  functionPaths: ['/incoming', '/outbound'],
};

describe('.env as the deploy reads it', () => {
  test('values as dotenv 6 gives them: comments kept, one quote stripped at each end, trimmed', () => {
    const file = parseEnvText(
      ['A=plain', 'B=with # comment', 'C="quoted # not a comment"', 'D=\'x"', 'E= spaced ', 'export F=1', 'G='].join('\n'),
    );
    expect(file.values).toEqual({ A: 'plain', B: 'with # comment', C: 'quoted # not a comment', D: 'x', E: 'spaced', G: '' });
    expect(file.misread.map((m) => m.variable)).toEqual(['B', 'D']);
    expect(file.skippedLines).toEqual([6]);
  });

  test('a value with # inside quotes, or # with no space before it, is not a comment', () => {
    expect(parseEnvText('GREETING="Press # to repeat"\nURL=https://x.test/#frag\n').misread).toEqual([]);
  });

  test('the deploy uploads neither empty values nor the account credentials', () => {
    expect(uploadedVariables({ ACCOUNT_SID: 'AC1', AUTH_TOKEN: 't', A: '', B: 'b' })).toEqual({ B: 'b' });
  });
});

describe('preflight', () => {
  test('a clean .env passes and reports the context size and headroom', () => {
    const result = preflight(parseEnvText('ACCOUNT_SID=AC1\nAUTH_TOKEN=t\nLIVEKIT_URL=wss://x.livekit.cloud\n'), target);
    expect(result.problems).toEqual([]);
    expect(formatPreflight(result)).toMatch(/^preflight: 1 variables to upload; context (\d+) of 3072 bytes \((\d+) free\)$/m);
  });

  test('counts the platform fields: account, service and environment SIDs, domain and the longest path', () => {
    const size = contextSize({}, target);
    const expected = JSON.stringify({
      ACCOUNT_SID: 'AC' + '0'.repeat(32),
      AUTH_TOKEN: '0'.repeat(32),
      SERVICE_SID: 'ZS' + '0'.repeat(32),
      ENVIRONMENT_SID: 'ZE' + '0'.repeat(32),
      DOMAIN_NAME: 'svc-0000-dev.twil.io',
      PATH: '/outbound',
    });
    expect(size.bytes).toBe(expected.length);
  });

  test('every problem at once, each named', () => {
    const long = 'k'.repeat(129);
    const result = preflight(parseEnvText(`${long}=1\nGREETING=${'é'.repeat(300)}\nAGENT_NAMES=a # b\n`), {
      ...target,
      dependencies: { '@twilio/runtime-handler': '2.1.0' },
      runtime: 'node18',
      functionPaths: [],
    });
    expect(result.problems).toEqual([
      expect.stringContaining('runtime "node18"'),
      expect.stringContaining('@twilio/runtime-handler 2.1.0'),
      expect.stringContaining('the build holds no functions'),
      expect.stringContaining('AGENT_NAMES has an inline'),
      expect.stringContaining(`${long} is 129 characters long`),
      'GREETING is 600 bytes; Twilio stores at most 450 bytes in a Variable (150 over)',
    ]);
  });

  test('blank values are listed with the command that removes one from Twilio', () => {
    const text = formatPreflight(preflight(parseEnvText('GREETING=\nAGENT_NAMES=a\n'), target));
    expect(text).toContain('twilio serverless:env:unset --key NAME`): GREETING');
  });
});
