import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { parseRoutes } from '../../src/config/routes';
import { BindIo, BindOptions, EXIT, NumbersApi, runBind, runUndo } from '../../src/deploy/bind';
import { readBindArgs } from '../../src/deploy/bind-args';
import { describeTwilioError } from '../../src/deploy/bind-errors';
import { UndoRecord } from '../../src/deploy/bind-undo';
import { planFallbackAssets } from '../../src/deploy/fallback-assets';
import { useTwilioApi } from '../support/stand-ins';
import { ACCOUNT_SID, AUTH_TOKEN } from '../support/runtime';
import type { StandInNumber } from '../support/twilio-stand-in';
import { loopbackHttpClient } from '../support/twilio-stand-in';
import { ROOT } from '../support/twilio-run';
import { envText } from '../support/project-copy';

const twilioApi = useTwilioApi({ tls: true });

const ORIGIN = 'https://svc-1234-dev.twil.io';
const FLOW = 'FW' + 'ab'.repeat(16);
const APP = 'AP' + 'cd'.repeat(16);
const TRUNK = 'TK' + 'ef'.repeat(16);
/** routes.example.json: "support" answers +14155550100 exactly, "sales-uk" every +4420 number. */
const ROUTES_TEXT = readFileSync(path.join(ROOT, 'routes.example.json'), 'utf8');
const ROUTES = parseRoutes(ROUTES_TEXT);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bind-'));
});
const undoFile = () => path.join(dir, '.bind-undo.json');

/** The real twilio client, its requests answered by the stand-in. */
const client = (token = AUTH_TOKEN) => twilio(ACCOUNT_SID, token, { httpClient: twilioApi.httpClient(3000) }) as unknown as NumbersApi;

function io(answer = true) {
  const lines: string[] = [];
  const asked: string[] = [];
  const session: BindIo & { lines: string[]; asked: string[]; text: () => string } = {
    lines,
    asked,
    print: (line) => lines.push(line),
    ask: async (question) => {
      asked.push(question);
      return answer;
    },
    text: () => lines.join('\n'),
  };
  return session;
}

/** Options as the CLI makes them, with the undo record read afresh as each run does. */
const options = (change: Partial<BindOptions> = {}): BindOptions => ({
  accountSid: ACCOUNT_SID,
  numbers: [],
  routes: ROUTES,
  replaceForeign: false,
  yes: true,
  dryRun: false,
  undo: UndoRecord.read(undoFile()),
  destination: { origin: ORIGIN, fallback: { kind: 'asset' } },
  callerIds: '+14155550100,+442071234567',
  ...change,
});

const bind = (change: Partial<BindOptions> = {}, session = io()) => runBind(client(), options(change), session);
const undo = (change: Partial<BindOptions> = {}, session = io()) => runUndo(client(), options(change), session);

/** The support line, as a number Twilio just sold reads; and a London number the sales-uk route answers. */
const support = (more: Partial<StandInNumber> = {}): StandInNumber => ({
  phoneNumber: '+14155550100',
  voiceUrl: 'https://demo.twilio.com/welcome/voice/',
  ...more,
});
const london = (more: Partial<StandInNumber> = {}): StandInNumber => ({ phoneNumber: '+442071234567', voiceUrl: '', ...more });

describe('bind: the exact updates', () => {
  test("each number gets /incoming, /status and its route's fallback asset, only the settings that differ", async () => {
    twilioApi.numbers = [support(), london()];
    const session = io();
    expect(await bind({}, session)).toBe(EXIT.ok);
    expect(twilioApi.numberUpdates).toEqual([
      {
        sid: 'PN' + '0'.repeat(32),
        phoneNumber: '+14155550100',
        params: {
          VoiceUrl: `${ORIGIN}/incoming`,
          StatusCallback: `${ORIGIN}/status`,
          VoiceFallbackUrl: `${ORIGIN}/fallback-support.xml`,
          VoiceFallbackMethod: 'GET',
        },
      },
      {
        sid: 'PN' + '0'.repeat(31) + '1',
        phoneNumber: '+442071234567',
        params: {
          VoiceUrl: `${ORIGIN}/incoming`,
          StatusCallback: `${ORIGIN}/status`,
          VoiceFallbackUrl: `${ORIGIN}/fallback-sales-uk.xml`,
          VoiceFallbackMethod: 'GET',
        },
      },
    ]);
    expect(twilioApi.numbers[0]).toMatchObject({
      voiceUrl: `${ORIGIN}/incoming`,
      statusCallback: `${ORIGIN}/status`,
      voiceFallbackUrl: `${ORIGIN}/fallback-support.xml`,
      voiceFallbackMethod: 'GET',
    });
    expect(session.text()).toContain('2 numbers: 2 to change');
    expect(session.text()).toContain('bound 2 numbers; to put back what they had: npm run bind -- --undo');
  });

  test('the plan shows now and after for all six settings', async () => {
    twilioApi.numbers = [support({ voiceMethod: 'GET' })];
    const session = io();
    await bind({ numbers: ['+14155550100'], dryRun: true }, session);
    const text = session.text();
    expect(text).toContain('+14155550100  PN' + '0'.repeat(32) + '  route "support": will change');
    expect(text).toMatch(/voice URL +https:\/\/demo\.twilio\.com\/welcome\/voice\/ +-> {2}https:\/\/svc-1234-dev\.twil\.io\/incoming/);
    expect(text).toMatch(/voice method +GET +-> {2}POST/);
    expect(text).toMatch(/status callback +\(not set\) +-> {2}https:\/\/svc-1234-dev\.twil\.io\/status/);
    expect(text).toMatch(/status method +POST +\(unchanged\)/);
    expect(text).toMatch(/fallback URL +\(not set\) +-> {2}https:\/\/svc-1234-dev\.twil\.io\/fallback-support\.xml/);
    expect(text).toMatch(/fallback method +POST +-> {2}GET/);
  });

  test('a number of the default route gets fallback.xml; --fallback-url and --no-fallback', async () => {
    twilioApi.numbers = [{ phoneNumber: '+14155550199', voiceUrl: '' }];
    await bind({ numbers: ['+14155550199'] });
    expect(twilioApi.numberUpdates[0]!.params.VoiceFallbackUrl).toBe(`${ORIGIN}/fallback.xml`);

    twilioApi.reset();
    twilioApi.numbers = [{ phoneNumber: '+14155550199', voiceUrl: '' }];
    await bind({
      numbers: ['+14155550199'],
      destination: { origin: ORIGIN, fallback: { kind: 'url', url: 'https://cdn.example.com/down.xml' } },
    });
    expect(twilioApi.numberUpdates[0]!.params).toMatchObject({
      VoiceFallbackUrl: 'https://cdn.example.com/down.xml',
      VoiceFallbackMethod: 'GET',
    });

    twilioApi.reset();
    twilioApi.numbers = [{ phoneNumber: '+14155550199', voiceUrl: '', voiceFallbackUrl: 'https://other.example.com/f' }];
    expect(
      await bind({
        numbers: ['+14155550199'],
        undo: UndoRecord.read(path.join(dir, 'other.json')),
        destination: { origin: ORIGIN, fallback: { kind: 'keep' } },
      }),
    ).toBe(EXIT.ok);
    expect(twilioApi.numberUpdates[0]!.params).toEqual({ VoiceUrl: `${ORIGIN}/incoming`, StatusCallback: `${ORIGIN}/status` });
  });

  test("a route whose fallback TwiML is the default's shares fallback.xml, as the build makes the assets", async () => {
    const routes = parseRoutes(
      JSON.stringify({ routes: [{ name: 'plain', numbers: ['+14155550120'] }, JSON.parse(ROUTES_TEXT).routes[0]] }),
    );
    const byRoute = planFallbackAssets({}, routes.routes).byRoute;
    twilioApi.numbers = [support(), { phoneNumber: '+14155550120', voiceUrl: '' }];
    await bind({ routes, callerIds: '', destination: { origin: ORIGIN, fallback: { kind: 'asset', byRoute } } });
    expect(twilioApi.numberUpdates.map((u) => [u.phoneNumber, u.params.VoiceFallbackUrl])).toEqual([
      ['+14155550120', `${ORIGIN}/fallback.xml`],
      ['+14155550100', `${ORIGIN}/fallback-support.xml`],
    ]);
  });

  test("--flow: the voice URL and the status callback are the flow's webhook", async () => {
    twilioApi.numbers = [support()];
    const session = io();
    const flow = { accountSid: ACCOUNT_SID, flowSid: FLOW };
    expect(await bind({ numbers: ['+14155550100'], destination: { origin: ORIGIN, fallback: { kind: 'asset' }, flow } }, session)).toBe(
      EXIT.ok,
    );
    const webhook = `https://webhooks.twilio.com/v1/Accounts/${ACCOUNT_SID}/Flows/${FLOW}`;
    expect(twilioApi.numberUpdates[0]!.params).toEqual({
      VoiceUrl: webhook,
      StatusCallback: webhook,
      VoiceFallbackUrl: `${ORIGIN}/fallback-support.xml`,
      VoiceFallbackMethod: 'GET',
    });
    expect(session.text()).toContain(`calls to 1 number to go to Studio flow ${FLOW}`);
    expect(session.text()).toContain('Status callbacks go to the flow too');
  });
});

describe('bind: changing nothing it should not', () => {
  test('a dry run shows the plan, sends no update and writes no undo record', async () => {
    twilioApi.numbers = [support()];
    const session = io();
    expect(await bind({ dryRun: true }, session)).toBe(EXIT.ok);
    expect(twilioApi.numberUpdates).toEqual([]);
    expect(session.asked).toEqual([]);
    expect(existsSync(undoFile())).toBe(false);
    expect(session.lines.at(-1)).toBe('dry run: nothing was changed');
  });

  test('idempotent: a second run finds every number already bound and sends nothing', async () => {
    twilioApi.numbers = [support(), london()];
    await bind();
    const sent = twilioApi.numberUpdates.length;
    const session = io();
    expect(await bind({}, session)).toBe(EXIT.ok);
    expect(twilioApi.numberUpdates).toHaveLength(sent);
    expect(session.text()).toContain('route "support": already bound');
    expect(session.text()).toContain('2 numbers: 2 already bound');
    expect(session.lines.at(-1)).toBe('nothing to change');
    expect(session.asked).toEqual([]);
  });

  test('without --yes it asks; declined, nothing is sent and the exit says so', async () => {
    twilioApi.numbers = [support()];
    const session = io(false);
    expect(await bind({ yes: false }, session)).toBe(EXIT.failed);
    expect(session.asked).toEqual(['Change 1 number as shown? [y/N] ']);
    expect(twilioApi.numberUpdates).toEqual([]);
    expect(session.lines.at(-1)).toBe('not applied: nothing was changed');
    const yes = io(true);
    expect(await bind({ yes: false }, yes)).toBe(EXIT.ok);
    expect(twilioApi.numberUpdates).toHaveLength(1);
  });

  test('numbers not on the account are reported and never bought', async () => {
    twilioApi.numbers = [support()];
    const session = io();
    // +442071234567 is a caller ID, not a number on this account: fine by itself.
    expect(await bind({}, session)).toBe(EXIT.ok);
    expect(session.text()).toContain(
      '+442071234567  not on this account: left alone; bind never buys numbers (a verified caller ID needs no binding)',
    );
    expect(session.text()).toContain('2 numbers: 1 to change, 1 not on this account');
    // Named on the command line, its absence is an error.
    const named = io();
    expect(await bind({ numbers: ['+14155550177'] }, named)).toBe(EXIT.refused);
    expect(named.text()).toContain('+14155550177  not on this account');
    expect(twilioApi.purchases).toEqual([]);
    expect(twilioApi.refused).toEqual([]);
    expect(twilioApi.numberUpdates.map((u) => u.phoneNumber)).toEqual(['+14155550100']);
  });

  test('no numbers anywhere: says where to name them, asks Twilio nothing', async () => {
    const session = io();
    expect(await bind({ routes: parseRoutes('{"routes":[]}'), callerIds: '' }, session)).toBe(EXIT.refused);
    expect(session.text()).toContain('no numbers to bind: name them with --number');
  });

  test('an account number a route answers by prefix is mentioned, not bound', async () => {
    twilioApi.numbers = [support(), london({ phoneNumber: '+442079460000' })];
    const session = io();
    await bind({ dryRun: true }, session);
    expect(session.text()).toContain('+442079460000 (route "sales-uk")');
    expect(session.text()).toContain('bind them with --number');
  });
});

describe("bind: settings that are not the service's", () => {
  test('a foreign voice URL is shown and refused without --replace-foreign, replaced with it', async () => {
    twilioApi.numbers = [support({ voiceUrl: 'https://ivr.example.com/voice' })];
    const refused = io();
    expect(await bind({ numbers: ['+14155550100'] }, refused)).toBe(EXIT.refused);
    expect(twilioApi.numberUpdates).toEqual([]);
    expect(refused.text()).toContain('route "support": REFUSED: left unchanged');
    expect(refused.text()).toContain(
      "! voice URL https://ivr.example.com/voice is not this service's: pass --replace-foreign to replace it",
    );

    const replaced = io();
    expect(await bind({ numbers: ['+14155550100'], replaceForeign: true }, replaced)).toBe(EXIT.ok);
    expect(replaced.text()).toContain(
      "! replacing voice URL https://ivr.example.com/voice, which is not this service's (--replace-foreign)",
    );
    expect(twilioApi.numberUpdates[0]!.params.VoiceUrl).toBe(`${ORIGIN}/incoming`);
  });

  test('a foreign status callback is refused, the other numbers still bound; replaced with the flag', async () => {
    twilioApi.numbers = [support({ statusCallback: 'https://crm.example.com/twilio/status' }), london()];
    const session = io();
    expect(await bind({}, session)).toBe(EXIT.refused);
    expect(session.text()).toContain("! status callback https://crm.example.com/twilio/status is not this service's");
    expect(twilioApi.numberUpdates.map((u) => u.phoneNumber)).toEqual(['+442071234567']);
    expect(twilioApi.numbers[0]!.statusCallback).toBe('https://crm.example.com/twilio/status');

    expect(await bind({ replaceForeign: true })).toBe(EXIT.ok);
    expect(twilioApi.numberUpdates.at(-1)!.params).toMatchObject({ StatusCallback: `${ORIGIN}/status` });
  });

  test("the service's own older URLs, Twilio's demo URL and a Studio flow bind set itself are not foreign", async () => {
    twilioApi.numbers = [support({ voiceUrl: `${ORIGIN}/old-incoming`, statusCallback: `${ORIGIN}/status?x=1` })];
    expect(await bind({ numbers: ['+14155550100'] })).toBe(EXIT.ok);
    const flow = { accountSid: ACCOUNT_SID, flowSid: FLOW };
    expect(await bind({ numbers: ['+14155550100'], destination: { origin: ORIGIN, fallback: { kind: 'asset' }, flow } })).toBe(EXIT.ok);
    // Back from the flow to /incoming: the flow URL is the one bind set, recorded in the undo file.
    expect(await bind({ numbers: ['+14155550100'] })).toBe(EXIT.ok);
    expect(twilioApi.numberUpdates).toHaveLength(3);
  });

  test('a TwiML App on the number is foreign: refused, or cleared with the flag (and undo puts it back)', async () => {
    twilioApi.numbers = [support({ voiceUrl: `${ORIGIN}/incoming`, voiceApplicationSid: APP })];
    const session = io();
    expect(await bind({ numbers: ['+14155550100'] }, session)).toBe(EXIT.refused);
    expect(session.text()).toContain(`! voice app ${APP} is not this service's`);
    expect(await bind({ numbers: ['+14155550100'], replaceForeign: true })).toBe(EXIT.ok);
    expect(twilioApi.numberUpdates[0]!.params).toMatchObject({ VoiceApplicationSid: '' });
    expect(twilioApi.numbers[0]!.voiceApplicationSid).toBe('');
    expect(await undo()).toBe(EXIT.ok);
    expect(twilioApi.numbers[0]!.voiceApplicationSid).toBe(APP);
  });

  test('a number on a SIP trunk is never changed, flag or not', async () => {
    twilioApi.numbers = [support({ trunkSid: TRUNK })];
    const session = io();
    expect(await bind({ numbers: ['+14155550100'], replaceForeign: true }, session)).toBe(EXIT.refused);
    expect(session.text()).toContain(`! not changed: it is on SIP trunk ${TRUNK}`);
    expect(twilioApi.numberUpdates).toEqual([]);
  });
});

describe('bind --undo', () => {
  const original = (): StandInNumber =>
    support({
      voiceUrl: 'https://ivr.example.com/voice',
      voiceMethod: 'GET',
      statusCallback: 'https://crm.example.com/status',
      statusCallbackMethod: 'GET',
      voiceFallbackUrl: 'https://ivr.example.com/down',
      voiceFallbackMethod: 'POST',
    });

  test('restores exactly what bind replaced, then forgets it', async () => {
    twilioApi.numbers = [original(), london()];
    const before = structuredClone(twilioApi.numbers);
    expect(await bind({ replaceForeign: true })).toBe(EXIT.ok);
    expect(JSON.parse(readFileSync(undoFile(), 'utf8')).accounts[ACCOUNT_SID]['+14155550100'].before).toEqual({
      voiceUrl: 'https://ivr.example.com/voice',
      voiceMethod: 'GET',
      statusCallback: 'https://crm.example.com/status',
      statusCallbackMethod: 'GET',
      voiceFallbackUrl: 'https://ivr.example.com/down',
      voiceFallbackMethod: 'POST',
      voiceApplicationSid: '',
    });
    const bound = twilioApi.numberUpdates.length;

    const session = io();
    expect(await undo({}, session)).toBe(EXIT.ok);
    expect(session.text()).toContain('route "support": will restore');
    expect(session.text()).toMatch(/voice URL +https:\/\/svc-1234-dev\.twil\.io\/incoming +-> {2}https:\/\/ivr\.example\.com\/voice/);
    expect(twilioApi.numberUpdates.slice(bound).map((u) => u.params)).toEqual([
      {
        VoiceUrl: 'https://ivr.example.com/voice',
        VoiceMethod: 'GET',
        StatusCallback: 'https://crm.example.com/status',
        StatusCallbackMethod: 'GET',
        VoiceFallbackUrl: 'https://ivr.example.com/down',
        VoiceFallbackMethod: 'POST',
      },
      // Unset before: cleared again, methods back to POST.
      { VoiceUrl: '', StatusCallback: '', VoiceFallbackUrl: '', VoiceFallbackMethod: 'POST' },
    ]);
    const restored = (n: StandInNumber) => ({
      voiceUrl: n.voiceUrl,
      voiceMethod: n.voiceMethod ?? 'POST',
      statusCallback: n.statusCallback ?? '',
      statusCallbackMethod: n.statusCallbackMethod ?? 'POST',
      voiceFallbackUrl: n.voiceFallbackUrl ?? '',
      voiceFallbackMethod: n.voiceFallbackMethod ?? 'POST',
    });
    expect(twilioApi.numbers.map(restored)).toEqual(before.map(restored));
    expect(existsSync(undoFile())).toBe(false);
    const again = io();
    expect(await undo({}, again)).toBe(EXIT.ok);
    expect(again.text()).toContain('nothing to undo');
  });

  test('binding twice keeps the first original: undo goes back to before the first bind', async () => {
    twilioApi.numbers = [original()];
    await bind({ numbers: ['+14155550100'], replaceForeign: true });
    const flow = { accountSid: ACCOUNT_SID, flowSid: FLOW };
    await bind({ numbers: ['+14155550100'], destination: { origin: ORIGIN, fallback: { kind: 'asset' }, flow } });
    expect(twilioApi.numbers[0]!.voiceUrl).toContain('/Flows/');
    expect(await undo()).toBe(EXIT.ok);
    expect(twilioApi.numbers[0]).toMatchObject({
      voiceUrl: 'https://ivr.example.com/voice',
      statusCallback: 'https://crm.example.com/status',
    });
  });

  test('a dry run of undo sends nothing; without --yes it asks', async () => {
    twilioApi.numbers = [original()];
    await bind({ numbers: ['+14155550100'], replaceForeign: true });
    const bound = twilioApi.numberUpdates.length;
    const dry = io();
    expect(await undo({ dryRun: true }, dry)).toBe(EXIT.ok);
    expect(dry.lines.at(-1)).toBe('dry run: nothing was changed');
    const declined = io(false);
    expect(await undo({ yes: false }, declined)).toBe(EXIT.failed);
    expect(declined.asked).toEqual(['Restore 1 number as shown? [y/N] ']);
    expect(twilioApi.numberUpdates).toHaveLength(bound);
    expect(existsSync(undoFile())).toBe(true);
  });

  test('a number changed since bind is not undone over, unless told', async () => {
    twilioApi.numbers = [original()];
    await bind({ numbers: ['+14155550100'], replaceForeign: true });
    twilioApi.numbers[0]!.voiceUrl = 'https://someone-else.example.com/voice';
    const session = io();
    expect(await undo({}, session)).toBe(EXIT.refused);
    expect(session.text()).toContain('! voice URL was changed to https://someone-else.example.com/voice after bind set it');
    expect(await undo({ replaceForeign: true })).toBe(EXIT.ok);
    expect(twilioApi.numbers[0]!.voiceUrl).toBe('https://ivr.example.com/voice');
  });

  test('undo with --number restores only that one', async () => {
    twilioApi.numbers = [support(), london()];
    await bind();
    expect(await undo({ numbers: ['+442071234567'] })).toBe(EXIT.ok);
    expect(twilioApi.numbers[1]!.voiceUrl).toBe('');
    expect(twilioApi.numbers[0]!.voiceUrl).toBe(`${ORIGIN}/incoming`);
    expect(Object.keys(JSON.parse(readFileSync(undoFile(), 'utf8')).accounts[ACCOUNT_SID])).toEqual(['+14155550100']);
    const unknown = io();
    expect(await undo({ numbers: ['+14155550123'] }, unknown)).toBe(EXIT.refused);
    expect(unknown.text()).toContain('+14155550123: bind has not changed it');
  });

  test('a broken undo file stops bind before anything is sent', () => {
    writeFileSync(undoFile(), '{"version":1,');
    expect(() => UndoRecord.read(undoFile())).toThrow(/\.bind-undo\.json is not valid JSON .*bind will not overwrite it/);
  });
});

describe('bind: what Twilio says, as cause and next step', () => {
  test('20003: the credentials', async () => {
    twilioApi.numbers = [support()];
    const session = io();
    expect(await runBind(client('0'.repeat(32)), options(), session)).toBe(EXIT.failed);
    expect(session.text()).toContain(
      "could not list the account's phone numbers: Twilio refused ACCOUNT_SID/AUTH_TOKEN (HTTP 401, error 20003: Authenticate): check them in .env",
    );
  });

  test('a refused update stops the run, saying why and what was done', async () => {
    twilioApi.numbers = [support(), london()];
    twilioApi.numberFaults = [{ status: 429, code: 20429, message: 'Too Many Requests' }];
    const session = io();
    expect(await bind({}, session)).toBe(EXIT.failed);
    expect(session.text()).toContain(
      "+14155550100: not changed: Twilio is limiting this account's requests (HTTP 429, error 20429: Too Many Requests): wait a minute",
    );
    expect(session.text()).toContain('stopped: 0 of 2 numbers changed; the rest were not tried');
    expect(twilioApi.numberUpdates).toEqual([]);
  });

  test('21402: a URL Twilio will not call', async () => {
    twilioApi.numbers = [support()];
    const session = io();
    expect(
      await bind({ numbers: ['+14155550100'], destination: { origin: 'https://bad-.example.com', fallback: { kind: 'keep' } } }, session),
    ).toBe(EXIT.failed);
    expect(session.text()).toContain(
      'Twilio refused a URL (HTTP 400, error 21402: VoiceUrl is not a valid URL: https://bad-.example.com/incoming)',
    );
  });

  test('nothing listening: the connection refused', async () => {
    const closed = twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: loopbackHttpClient('http://127.0.0.1:9', 2000) }) as unknown as NumbersApi;
    const session = io();
    expect(await runBind(closed, options(), session)).toBe(EXIT.failed);
    expect(session.text()).toContain(
      "could not list the account's phone numbers: Twilio could not be reached: connection refused (ECONNREFUSED): nothing is listening on api.twilio.com",
    );
    expect(session.text()).toContain('check HTTPS_PROXY and any firewall');
  });

  test.each([
    [
      { code: 'ECONNABORTED', message: 'timeout of 10000ms exceeded' },
      'timeout: no answer from api.twilio.com within 10 s',
      'numbers already bound are skipped',
    ],
    [
      { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND api.twilio.com', hostname: 'api.twilio.com' },
      'DNS (ENOTFOUND): no address for api.twilio.com',
      "check this machine's network connection and DNS",
    ],
    [
      { status: 500, code: 20500, message: 'Internal Server Error' },
      'Twilio failed to answer (HTTP 500, error 20500: Internal Server Error)',
      'run bind again in a minute',
    ],
  ])('%j is named with its cause and next step', (error, cause, next) => {
    expect(describeTwilioError(error)).toContain(cause);
    expect(describeTwilioError(error)).toContain(next);
  });

  test('a fallback asset that is not deployed is noted in the plan', async () => {
    twilioApi.numbers = [support()];
    const session = io();
    const checked: string[] = [];
    session.checkFallback = async (url) => {
      checked.push(url);
      return url.endsWith('fallback-support.xml') ? { status: 404 } : { status: 200 };
    };
    twilioApi.numbers = [support(), london()];
    await runBind(client(), options({ dryRun: true }), session);
    expect(checked).toEqual([`${ORIGIN}/fallback-support.xml`, `${ORIGIN}/fallback-sales-uk.xml`]);
    expect(session.text()).toContain(
      `note: fallback ${ORIGIN}/fallback-support.xml answers HTTP 404: deploy the service with its fallback assets (npm run deploy)`,
    );
    expect(session.text()).not.toContain('fallback-sales-uk.xml answers');
  });
});

describe('the stand-in holds updates to what Twilio accepts', () => {
  const post = (sid: string, body: string) =>
    fetch(`${twilioApi.origin}/2010-04-01/Accounts/${ACCOUNT_SID}/IncomingPhoneNumbers/${sid}.json`, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body,
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: number; message?: string } }));
  const PN = 'PN' + '0'.repeat(32);

  test('unknown and unmodelled parameters, bad URLs and methods are refused; buying is refused', async () => {
    twilioApi.numbers = [support()];
    expect((await post(PN, 'VoiceUri=https://x.example.com')).body).toMatchObject({ code: 20001, message: 'Unknown parameter VoiceUri' });
    expect((await post(PN, 'SmsUrl=https://x.example.com')).body).toMatchObject({ code: 20001 });
    expect((await post(PN, 'StatusCallback=ftp://x.example.com')).body).toMatchObject({ code: 21402 });
    expect((await post(PN, 'VoiceMethod=PUT')).body).toMatchObject({ code: 20001 });
    expect((await post('PN' + 'f'.repeat(32), 'VoiceUrl=https://x.example.com/')).status).toBe(404);
    expect(twilioApi.numberUpdates).toEqual([]);
    const bought = await fetch(`${twilioApi.origin}/2010-04-01/Accounts/${ACCOUNT_SID}/IncomingPhoneNumbers.json`, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'PhoneNumber=%2B14155550177',
    });
    expect(bought.status).toBe(400);
    expect(twilioApi.purchases).toEqual([
      { path: expect.stringContaining('IncomingPhoneNumbers.json'), params: { PhoneNumber: '+14155550177' } },
    ]);
  });
});

describe('the command line', () => {
  test.each([
    [[], '--domain or --url is required'],
    [['--domain', 'https://svc.twil.io'], '--domain https://svc.twil.io is not a host name'],
    [['--url', 'http://svc.twil.io'], 'must start with https://'],
    [['--url', 'https://svc.twil.io/incoming'], "must be the service's address alone, such as https://svc.twil.io"],
    [['--domain', 'svc.twil.io', '--url', 'https://svc.twil.io'], 'give --domain or --url, not both'],
    [['--domain', 'svc.twil.io', '--number', '4155550100'], '--number 4155550100 is not an E.164 number'],
    [['--domain', 'svc.twil.io', '--flow', 'FW123'], '--flow FW123 is not a Studio flow SID'],
    [['--domain', 'svc.twil.io', '--fallback-url', 'x', '--no-fallback'], 'give --fallback-url or --no-fallback, not both'],
    [['--domain', 'svc.twil.io', '--fallback-url', 'fallback.xml'], '--fallback-url fallback.xml is not an http(s) URL'],
    [['--undo', '--flow', FLOW], '--undo puts back what the undo file recorded'],
  ])('%j: %s', (args, message) => {
    expect(() => readBindArgs(args)).toThrow(message);
  });

  test('good arguments', () => {
    expect(readBindArgs(['--url', 'https://abc123.ngrok-free.app/', '--number', '+14155550100', '--number', '+14155550100'])).toMatchObject(
      {
        origin: 'https://abc123.ngrok-free.app',
        numbers: ['+14155550100'],
        fallback: { kind: 'asset' },
      },
    );
    expect(readBindArgs(['--undo'])).toMatchObject({ undo: true, origin: '' });
  });

  // Asynchronous: the stand-in lives in this process and must keep answering.
  const run = (args: string[], env: Record<string, string> | null = { ACCOUNT_SID, AUTH_TOKEN, OUTBOUND_CALLER_IDS: '+14155550100' }) => {
    const file = path.join(dir, '.env');
    if (env) writeFileSync(file, envText(env));
    const routes = path.join(dir, 'routes.json');
    writeFileSync(routes, ROUTES_TEXT);
    const argv = [
      path.join(ROOT, 'scripts', 'run-ts.mjs'),
      'src/deploy/bind-cli.ts',
      '--env',
      file,
      '--routes',
      routes,
      '--undo-file',
      undoFile(),
      ...args,
    ];
    return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...twilioApi.proxyEnv() } }, (error, stdout, stderr) => {
        resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  };

  test('a bad flag: one line, the usage, exit 2', async () => {
    const result = await run(['--domian', 'svc.twil.io']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Unknown option '--domian'");
    expect(result.stderr).toContain('usage: npm run bind -- --domain <service>.twil.io');
  });

  test('no .env: says to copy .env.example', async () => {
    const result = await run(['--domain', 'svc-1234-dev.twil.io'], null);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      '.env not found (copy .env.example to .env and fill in ACCOUNT_SID and AUTH_TOKEN, or pass --env FILE)',
    );
  });

  test('20003 through the real client: names the credentials', async () => {
    const result = await run(['--domain', 'svc-1234-dev.twil.io', '--no-fallback'], { ACCOUNT_SID, AUTH_TOKEN: 'e'.repeat(32) });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('Twilio refused ACCOUNT_SID/AUTH_TOKEN (HTTP 401, error 20003: Authenticate): check them in .env');
  });

  test('a dry run, then a real run with --yes, then --undo', async () => {
    twilioApi.numbers = [support()];
    const dry = await run(['--domain', 'svc-1234-dev.twil.io', '--dry-run', '--no-fallback']);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('route "support": will change');
    expect(twilioApi.numberUpdates).toEqual([]);

    const unconfirmed = await run(['--domain', 'svc-1234-dev.twil.io', '--no-fallback']);
    expect(unconfirmed.status).toBe(1);
    expect(unconfirmed.stdout).toContain('not a terminal, so nobody can confirm: run again with --yes');
    expect(twilioApi.numberUpdates).toEqual([]);

    const real = await run(['--domain', 'svc-1234-dev.twil.io', '--no-fallback', '--yes']);
    expect(real.status).toBe(0);
    expect(real.stdout).toContain('+14155550100: changed voice URL, status callback');
    expect(twilioApi.numberUpdates.map((u) => u.params)).toEqual([
      { VoiceUrl: 'https://svc-1234-dev.twil.io/incoming', StatusCallback: 'https://svc-1234-dev.twil.io/status' },
    ]);

    const back = await run(['--undo', '--yes']);
    expect(back.status).toBe(0);
    expect(back.stdout).toContain('restored 1 number');
    expect(twilioApi.numbers[0]!.voiceUrl).toBe('https://demo.twilio.com/welcome/voice/');
  });
});
