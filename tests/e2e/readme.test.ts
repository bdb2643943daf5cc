/**
 * The documentation's commands, run as written. Every `npm` and `cp` line of
 * the shell blocks in README.md and in docs/*.md is extracted; in a fresh
 * copy of the project `.env` is made as the README's "Try it in five
 * minutes" says (`cp .env.example .env`, then the README's own values),
 * `npm start` serves it on port 3000, and each command runs against it.
 * LiveKit and Twilio are the stand-ins, built with the README's credentials;
 * only LIVEKIT_URL points at the LiveKit stand-in instead of the cloud.
 * The links between the pages are checked too: each names a file that
 * exists and, after `#`, a heading (or `<a id>`) that page has.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LiveKitStandIn } from '../support/livekit-stand-in';
import { copyProject, runCommand } from '../support/project-copy';
import { ROOT } from '../support/twilio-run';
import { TwilioStandIn } from '../support/twilio-stand-in';

jest.setTimeout(120_000);

/** README.md and every page under docs/, by path from the project root. */
const PAGES = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];
const text = (page: string) => readFileSync(path.join(ROOT, page), 'utf8');
const blocksOf = (markdown: string, lang: string) =>
  [...markdown.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
/** Each command once, however many pages show it. */
const commands = [
  ...new Set(
    PAGES.flatMap((page) => blocksOf(text(page), 'sh'))
      .flatMap((block) => block.split('\n'))
      .map((line) => line.trim())
      .filter((line) => /^(npm|cp) /.test(line)),
  ),
];
const blocks = (lang: string) => blocksOf(text('README.md'), lang);

/** The README's `.env` values, as a reader would copy them. */
const readmeEnv = Object.fromEntries(
  blocks('dotenv')
    .flatMap((block) => block.split('\n'))
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);

/** What each command needs that this machine has not: those are set up by the harness or left out, with the reason. */
const HANDLED: Record<string, string> = {
  'npm ci': 'the copy links the installed node_modules',
  'npm test': 'this suite is part of it',
  'npm start': 'the harness runs it, in the background, before the other commands',
};

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
const withoutCode = (markdown: string) => markdown.replace(/```[\s\S]*?```/g, '');

/** The anchors a page has: its headings' (a repeated one numbered, as GitHub does) and its `<a id>`s. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of withoutCode(markdown).matchAll(/^#{1,6} +(.+?)\s*$/gm)) {
    const base = slug(heading!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n ? `${base}-${n}` : base);
  }
  for (const [, id] of withoutCode(markdown).matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(id!);
  return anchors;
}

/** Every link of every page that stays in the project: `file`, `file#anchor` or `#anchor`. */
const links = PAGES.flatMap((page) =>
  [...withoutCode(text(page)).matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z]+:/i.test(target))
    .map((target) => ({ page, target })),
);

const liveKit = new LiveKitStandIn(readmeEnv.LIVEKIT_API_KEY, readmeEnv.LIVEKIT_API_SECRET);
const twilioApi = new TwilioStandIn(readmeEnv.ACCOUNT_SID!, readmeEnv.AUTH_TOKEN!);
let dir = '';
let stopServer: () => void = () => undefined;

beforeAll(async () => {
  await liveKit.start();
  await twilioApi.start({ tls: true });
  // The README's number, as a new Twilio number reads back: Twilio's demo URL, nothing else set.
  twilioApi.numbers.push({ phoneNumber: readmeEnv.OUTBOUND_CALLER_IDS!, voiceUrl: 'https://demo.twilio.com/welcome/voice/' });
  dir = copyProject();
  // `cp .env.example .env` is the README's first step, run here; the values go in after it.
  const copy = await runCommand('sh', ['-c', 'cp .env.example .env'], dir);
  expect(copy.status).toBe(0);
  let env = readFileSync(path.join(dir, '.env'), 'utf8');
  for (const [key, value] of Object.entries({ ...readmeEnv, LIVEKIT_URL: liveKit.url })) {
    env = env.replace(new RegExp(`^${key}=.*$`, 'm'), `${key}=${value}`);
  }
  // twilio-run gives functions .env as their whole environment: the route to the Twilio stand-in goes there.
  env += Object.entries(twilioApi.proxyEnv())
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
  writeFileSync(path.join(dir, '.env'), env);

  const server = spawn('npm', ['start'], {
    cwd: dir,
    env: { ...process.env, CI: 'true', FORCE_COLOR: '0' },
    stdio: 'ignore',
    detached: true,
  });
  stopServer = () => {
    if (server.pid) process.kill(-server.pid, 'SIGTERM');
  };
  for (let i = 0; i < 150; i += 1) {
    const up = await fetch('http://localhost:3000/__ready__').then(
      () => true,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('npm start did not serve http://localhost:3000');
});

afterAll(async () => {
  stopServer();
  await liveKit.stop();
  await twilioApi.stop();
});

describe('the commands of the README and docs/, as written', () => {
  test('the pages have the commands this suite expects to run', () => {
    expect(commands).toEqual(
      expect.arrayContaining([
        'cp .env.example .env',
        'npm run doctor',
        'npm start',
        'npm run ring -- --from +14155550123 --to +14155550100 --status in-progress,completed',
        'npm run call -- --to +14155550123',
        'npm run bind -- --domain livekit-twilio-connector-1234-dev.twil.io --dry-run',
        'npm run bind -- --domain livekit-twilio-connector-1234-dev.twil.io --yes',
      ]),
    );
    expect(Object.keys(readmeEnv)).toEqual(
      expect.arrayContaining([
        'ACCOUNT_SID',
        'AUTH_TOKEN',
        'LIVEKIT_URL',
        'LIVEKIT_API_KEY',
        'LIVEKIT_API_SECRET',
        'AGENT_NAMES',
        'OUTBOUND_CALLER_IDS',
      ]),
    );
  });

  test('every command the suite handles itself is still on a page', () => {
    expect(Object.keys(HANDLED).filter((c) => !commands.includes(c))).toEqual([]);
  });

  test('every link between the pages lands on a file, and on a heading that page has', () => {
    expect(links.length).toBeGreaterThan(20);
    const broken = links.filter(({ page, target }) => {
      const [file, anchor] = target.split('#');
      const resolved = file ? path.normalize(path.join(path.dirname(page), file)) : page;
      if (!existsSync(path.join(ROOT, resolved))) return true;
      return anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(text(resolved)).has(anchor);
    });
    expect(broken).toEqual([]);
  });

  const runnable = commands.filter((c) => !(c in HANDLED) && c !== 'cp .env.example .env');
  test.each(runnable)('%s', async (command) => {
    const result = await runCommand('sh', ['-c', command], dir, twilioApi.proxyEnv());
    if (result.status !== 0) throw new Error(`${command} exited ${result.status}:\n${result.output}`);
    if (command.startsWith('npm run ring')) {
      expect(result.output).toMatch(/<Connect><Stream url="wss:\/\/connector\.livekit\.test\//);
      expect(result.output).toMatch(/room: +call-CA[0-9a-f]{32}/);
      expect(result.output).toContain('agents:     my-agent');
      expect(result.output).toContain('status in-progress: HTTP 200');
      expect(result.output).toContain('status completed: HTTP 200');
    }
    if (command.startsWith('npm run call')) expect(result.output).toMatch(/"callSid": "CA[0-9a-f]{32}"/);
    if (command.startsWith('npm run doctor')) expect(result.output).toMatch(/all \d+ checks passed/);
    if (command.startsWith('npm run bind') && command.endsWith('--yes')) {
      // The README's number now answers at the service: voice URL, status callback, fallback.
      expect(twilioApi.numberUpdates.map((u) => u.params)).toEqual([
        {
          VoiceUrl: 'https://livekit-twilio-connector-1234-dev.twil.io/incoming',
          StatusCallback: 'https://livekit-twilio-connector-1234-dev.twil.io/status',
          VoiceFallbackUrl: 'https://livekit-twilio-connector-1234-dev.twil.io/fallback.xml',
          VoiceFallbackMethod: 'GET',
        },
      ]);
    }
    if (command.startsWith('npm run bind') && command.endsWith('--dry-run')) {
      expect(result.output).toContain(`${readmeEnv.OUTBOUND_CALLER_IDS}`);
      expect(result.output).toMatch(
        /voice URL +https:\/\/demo\.twilio\.com\/welcome\/voice\/ +-> +https:\/\/livekit-twilio-connector-1234-dev\.twil\.io\/incoming/,
      );
      expect(result.output).toContain('dry run: nothing was changed');
      expect(twilioApi.numberUpdates).toEqual([]);
    }
  });
});
