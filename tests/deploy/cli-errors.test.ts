/**
 * What the command-line tools say when something is wrong, each with its
 * cause and the next step: the network failures, against real sockets
 * (nothing listening, a name that does not exist, a self-signed
 * certificate, a server that never answers); `npm run ring` against a
 * loopback service that connects the caller, gives the fallback or refuses
 * the signature; `npm start` stopped by its process id; and `npm run deploy`
 * on a clone without `npm ci`.
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { describeTwilioError } from '../../src/deploy/doctor-live';
import { classifyNetworkError, describeNetworkError } from '../../src/deploy/net-errors';
import { explainRefusedSignature, refusedSignature } from '../../src/deploy/signed-post';
import { copyProject, envText, runCommand } from '../support/project-copy';
import { ACCOUNT_SID, AUTH_TOKEN } from '../support/runtime';
import { freePort, ROOT } from '../support/twilio-run';

jest.setTimeout(60_000);

const closers: (() => unknown)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/** A server on a loopback port, closed after the suite. */
async function listen<T extends net.Server>(server: T): Promise<{ server: T; port: number }> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => sockets.add(s));
  server.on('secureConnection', (s: net.Socket) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** The error fetch throws for this URL. */
async function fetchError(url: string, init?: RequestInit): Promise<unknown> {
  try {
    const response = await fetch(url, init);
    await response.arrayBuffer();
  } catch (error) {
    return error;
  }
  throw new Error(`${url} answered`);
}

function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'self-signed-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=localhost'],
    { cwd: dir, stdio: 'pipe' },
  );
  return { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) };
}

describe('a network failure names its cause, the host and the next step', () => {
  test('nothing listening: connection refused, the address, and that the server must run', async () => {
    const port = await freePort();
    const error = await fetchError(`http://localhost:${port}/incoming`);
    expect(classifyNetworkError(error)).toMatchObject({ kind: 'refused', code: 'ECONNREFUSED' });
    expect(describeNetworkError(error, { url: `http://localhost:${port}/incoming`, what: 'The service', setting: '--url' })).toBe(
      `The service could not be reached: connection refused (ECONNREFUSED): nothing is listening on localhost:${port} (127.0.0.1:${port}); check the address and port in --url, and that the server is running`.replace(
        '127.0.0.1',
        classifyNetworkError(error).peer.replace(`:${port}`, ''),
      ),
    );
  });

  test('a name that does not exist: DNS, with the name and where it came from', async () => {
    const error = await fetchError('https://livekit.example.invalid/twirp');
    expect(classifyNetworkError(error).kind).toMatch(/^dns/);
    expect(describeNetworkError(error, { url: 'https://livekit.example.invalid', what: 'LiveKit', setting: 'LIVEKIT_URL' })).toMatch(
      /^LiveKit could not be reached: DNS \((ENOTFOUND|EAI_AGAIN)\): (no address for|the lookup of) livekit\.example\.invalid.*; check (the host name in LIVEKIT_URL|this machine's network)/,
    );
  });

  test('a self-signed certificate: TLS, the host, the reason, and how to trust an inspecting proxy', async () => {
    const { port } = await listen(https.createServer(selfSignedCertificate(), (_, res) => res.end('hi')));
    const url = `https://127.0.0.1:${port}/`;
    const error = await fetchError(url);
    expect(describeNetworkError(error, { url, what: 'LiveKit', setting: 'LIVEKIT_URL' })).toBe(
      `LiveKit could not be reached: TLS (DEPTH_ZERO_SELF_SIGNED_CERT): the certificate of 127.0.0.1:${port} was not accepted: self-signed certificate; check the address in LIVEKIT_URL; if a proxy or antivirus on this network inspects https, trust its CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem`,
    );
  });

  test('https:// to a plain server: TLS, and that a plain server takes http://', async () => {
    const { port } = await listen(http.createServer((_, res) => res.end('hi')));
    const url = `https://127.0.0.1:${port}/`;
    const message = describeNetworkError(await fetchError(url), { url });
    expect(message).toMatch(new RegExp(`^could not reach ${url}: TLS \\(\\w+\\): 127\\.0\\.0\\.1:${port} does not answer https there`));
    expect(message).toContain('a plain local one takes http://');
  });

  test('a server that never answers: timeout, with the deadline', async () => {
    const { port } = await listen(net.createServer(() => undefined));
    const url = `http://127.0.0.1:${port}/`;
    const error = await fetchError(url, { signal: AbortSignal.timeout(300) });
    expect(describeNetworkError(error, { url, what: 'LiveKit', setting: 'LIVEKIT_URL', timeoutMs: 300 })).toBe(
      `LiveKit could not be reached: timeout: no answer from 127.0.0.1:${port} within 300 ms; the host may be down, or a firewall dropping the traffic; check the address in LIVEKIT_URL and try again`,
    );
  });

  test('a server that hangs up: connection reset', async () => {
    const { port } = await listen(net.createServer((socket) => socket.resetAndDestroy()));
    const url = `http://127.0.0.1:${port}/`;
    const message = describeNetworkError(await fetchError(url), { url });
    expect(message).toMatch(
      new RegExp(`^could not reach ${url}: connection reset \\((ECONNRESET|UND_ERR_SOCKET)\\): 127\\.0\\.0\\.1:${port}`),
    );
    expect(message).toContain('closed the connection before answering; try again');
  });

  describe('the Twilio helper (axios) through a proxy', () => {
    /** The error of fetching the account through `proxy`, and what the doctor says of it (with HTTP_PROXY still set). */
    const throughProxy = async (proxy: string, timeout: number) => {
      const saved = process.env.HTTP_PROXY;
      // The helper reads HTTP_PROXY for each request.
      process.env.HTTP_PROXY = proxy;
      try {
        await twilio(ACCOUNT_SID, AUTH_TOKEN, { timeout }).api.v2010.accounts(ACCOUNT_SID).fetch();
      } catch (error) {
        return describeTwilioError(error);
      } finally {
        if (saved === undefined) delete process.env.HTTP_PROXY;
        else process.env.HTTP_PROXY = saved;
      }
      throw new Error('Twilio answered');
    };

    test('a refused proxy is named as the proxy, on the way to api.twilio.com', async () => {
      const port = await freePort();
      expect(await throughProxy(`http://127.0.0.1:${port}`, 2000)).toBe(
        `Twilio could not be reached: connection refused (ECONNREFUSED): nothing is listening on 127.0.0.1:${port}, the proxy in HTTP_PROXY, on the way to api.twilio.com; check HTTPS_PROXY / HTTP_PROXY and any firewall between this machine and api.twilio.com`,
      );
    });

    test("a timeout says the client's deadline", async () => {
      const { port } = await listen(net.createServer(() => undefined));
      expect(await throughProxy(`http://127.0.0.1:${port}`, 300)).toMatch(
        /^Twilio could not be reached: timeout: no answer from api\.twilio\.com within 300 ms; /,
      );
    });
  });
});

describe('a refused signature is explained: it covers the URL', () => {
  test('401, and a 403 that says so, are refusals of the signature; a 403 of the dial policy is not', () => {
    expect(refusedSignature({ status: 401, body: '' })).toBe(true);
    expect(refusedSignature({ status: 403, body: 'Forbidden: this URL answers only requests signed by Twilio.' })).toBe(true);
    expect(refusedSignature({ status: 403, body: '{"error":{"code":"signature-invalid","message":"…"}}' })).toBe(true);
    expect(refusedSignature({ status: 403, body: '{"error":{"code":"destination-not-allowed"}}' })).toBe(false);
  });

  test('deployed: the account auth token and the exact address', () => {
    const lines = explainRefusedSignature(401, 'https://svc-1234-dev.twil.io/outbound', {}, '.env');
    expect(lines.join('\n')).toContain("AUTH_TOKEN in .env must be that account's auth token");
    expect(lines.join('\n')).toContain('https://<domain>/outbound');
  });
});

/** Runs one of the TypeScript tools asynchronously (the servers it calls live in this process). */
function runTool(entry: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'scripts', 'run-ts.mjs'), entry, ...args],
      { cwd: ROOT, env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('npm run ring: exit 0 only when the caller reaches LiveKit, else why', () => {
  interface Reply {
    status?: number;
    body: string;
    headers?: Record<string, string>;
  }
  let reply: Reply = { body: '' };
  let statusReply: Reply = { body: '{"outcome":"updated"}' };
  /** The URL the service checks signatures against (locally: PUBLIC_BASE_URL's when set). */
  let signedFor: (path: string) => string;
  let port = 0;
  const calls: string[] = [];

  beforeAll(async () => {
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const path = req.url ?? '/';
        calls.push(path);
        const params = Object.fromEntries(new URLSearchParams(body));
        const signature = String(req.headers['x-twilio-signature'] ?? '');
        if (!twilio.validateRequest(AUTH_TOKEN, signature, signedFor(path), params)) {
          res.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden: this URL answers only requests signed by Twilio.');
          return;
        }
        const answer = path === '/status' ? statusReply : reply;
        res.writeHead(answer.status ?? 200, { 'content-type': 'text/xml', ...answer.headers }).end(answer.body);
      });
    });
    port = (await listen(server)).port;
  });
  beforeEach(() => {
    signedFor = (p) => `http://127.0.0.1:${port}${p}`;
    statusReply = { body: '{"outcome":"updated"}' };
    calls.length = 0;
  });

  const envFile = (extra: Record<string, string> = {}) => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ring-env-')), '.env');
    writeFileSync(
      file,
      envText({
        ACCOUNT_SID,
        AUTH_TOKEN,
        LIVEKIT_URL: 'http://127.0.0.1:9',
        LIVEKIT_API_KEY: 'APIexamplekey',
        LIVEKIT_API_SECRET: 'example-secret-that-is-long-enough-0123456789',
        AGENT_NAMES: 'my-agent',
        ...extra,
      }),
    );
    return file;
  };
  const ring = (extra: string[] = [], env: Record<string, string> = {}, url = `http://127.0.0.1:${port}/incoming`) =>
    runTool('src/deploy/ring-cli.ts', [
      '--from',
      '+14155550123',
      '--to',
      '+14155550100',
      '--url',
      url,
      '--env',
      envFile(env),
      '--routes',
      path.join(os.tmpdir(), 'no-routes.json'),
      ...extra,
    ]);

  const STREAM =
    '<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://connector.livekit.test/stream/abc"/></Connect></Response>';
  const FALLBACK =
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, we can\'t connect your call right now. Please try again later.</Say><Hangup/></Response>';

  test('<Connect><Stream>, and every status callback taken: exit 0', async () => {
    reply = { body: STREAM };
    const result = await ring(['--status', 'in-progress,completed']);
    expect(result.output).toContain('LiveKit took the call');
    expect(result.output).toContain('status completed: HTTP 200');
    expect(result.status).toBe(0);
  });

  test('a status callback refused: exit 1', async () => {
    reply = { body: STREAM };
    statusReply = { status: 503, body: '{"outcome":"livekit-failed"}' };
    const result = await ring(['--status', 'completed']);
    expect(result.output).toContain('status completed: HTTP 503');
    expect(result.status).toBe(1);
  });

  test('the fallback, with the reason incoming gives locally: exit 1, the reason and the next step', async () => {
    reply = {
      body: FALLBACK,
      headers: { 'X-Connector-Reason': encodeURIComponent('livekit unreachable: LiveKit could not be reached') },
    };
    const result = await ring();
    expect(result.status).toBe(1);
    expect(result.output).toContain('The caller gets the fallback, not the agent.');
    expect(result.output).toContain('Reason (as incoming logged it): livekit unreachable: LiveKit could not be reached');
    expect(result.output).toContain('Next: npm run doctor -- --live says why LiveKit cannot be reached from this machine');
  });

  test('a configuration reason says to set it and restart npm start', async () => {
    reply = { body: FALLBACK, headers: { 'X-Connector-Reason': encodeURIComponent('configuration: LIVEKIT_URL is required') } };
    const result = await ring();
    expect(result.status).toBe(1);
    expect(result.output).toMatch(
      /Reason \(as incoming logged it\): configuration: LIVEKIT_URL is required\nNext: set what it names in .*\.env, then restart npm start/,
    );
  });

  test('the fallback without a reason (deployed): exit 1, and where the log is', async () => {
    reply = { body: FALLBACK };
    const result = await ring();
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/The reason is in the npm start terminal: the "fn":"incoming" line for CA[0-9a-f]{32}\./);
  });

  test('a Studio flow sent back with ConnectorResult=unavailable: exit 1, with the flow reason', async () => {
    const back = `https://webhooks.twilio.com/v1/Accounts/${ACCOUNT_SID}/Flows/FW${'0'.repeat(32)}?FlowEvent=return&amp;ConnectorResult=unavailable&amp;ConnectorReason=livekit-unreachable`;
    reply = { body: `<?xml version="1.0" encoding="UTF-8"?><Response><Redirect method="POST">${back}</Redirect></Response>` };
    const result = await ring();
    expect(result.status).toBe(1);
    expect(result.output).toContain(
      'The caller is sent back to the Studio flow with ConnectorResult=unavailable, ConnectorReason=livekit-unreachable, not to the agent.',
    );
  });

  test('403 with PUBLIC_BASE_URL set: the signature covers the URL, so ring the tunnel or unset it', async () => {
    reply = { body: STREAM };
    // As npm start does with PUBLIC_BASE_URL: signatures are checked against the tunnel's URL.
    signedFor = (p) => `https://abc123.ngrok-free.app${p}`;
    const result = await ring(['--status', 'completed'], { PUBLIC_BASE_URL: 'https://abc123.ngrok-free.app' });
    expect(result.status).toBe(1);
    expect(result.output).toContain('HTTP 403: the service refused the signature. A signature covers the exact URL it was made for');
    expect(result.output).toContain(
      "so npm start checks signatures against the tunnel's URL, https://abc123.ngrok-free.app/incoming, as Twilio calls it",
    );
    expect(result.output).toMatch(
      /Next: use the tunnel's URL instead \(--url https:\/\/abc123\.ngrok-free\.app\/incoming\), or remove PUBLIC_BASE_URL from .*\.env and restart npm start\./,
    );
    expect(result.output).toContain('The status callbacks were not sent');
    expect(calls).toEqual(['/incoming']);
  });

  test('403 without PUBLIC_BASE_URL: restart npm start if the .env changed', async () => {
    signedFor = (p) => `http://elsewhere.test${p}`;
    const result = await ring();
    expect(result.status).toBe(1);
    expect(result.output).toContain('npm start checks it with the AUTH_TOKEN and PUBLIC_BASE_URL of the .env it read when it started.');
  });

  test('nothing listening: exit 1, connection refused, and to start the service', async () => {
    const closed = await freePort();
    const result = await ring([], {}, `http://localhost:${closed}/incoming`);
    expect(result.status).toBe(1);
    expect(result.output).toContain(
      `could not reach http://localhost:${closed}/incoming: connection refused (ECONNREFUSED): nothing is listening on localhost:${closed} (127.0.0.1:${closed}); start the service with npm start (in another terminal), or point --url at where it runs`,
    );
    expect(result.output).not.toMatch(/\n\s+at /);
  });

  test('--url that is not a URL is a usage error: exit 2', async () => {
    const result = await ring([], {}, 'localhost:3000/incoming');
    expect(result.status).toBe(2);
    expect(result.output).toContain('--url localhost:3000/incoming is not an http(s) URL');
  });

  test('npm run call: a refused signature is explained the same way', async () => {
    signedFor = (p) => `https://abc123.ngrok-free.app${p}`;
    const result = await runTool('src/deploy/call-cli.ts', [
      '--to',
      '+14155550123',
      '--url',
      `http://127.0.0.1:${port}/outbound`,
      '--env',
      envFile({ PUBLIC_BASE_URL: 'https://abc123.ngrok-free.app' }),
    ]);
    expect(result.status).toBe(1);
    expect(result.output).toContain('--url https://abc123.ngrok-free.app/outbound');
  });
});

describe('npm start and npm run deploy', () => {
  const live: ChildProcess[] = [];
  afterEach(() => {
    // Whatever a failed test left: each process group this suite started.
    for (const child of live.splice(0))
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
  });

  const serving = async (port: number) =>
    fetch(`http://localhost:${port}/__ready__`).then(
      async (res) => (await res.arrayBuffer(), true),
      () => false,
    );
  const until = async (what: () => Promise<boolean>, ms: number) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await what()) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };

  describe('stopped by its process id, twilio-run stops serving', () => {
    let dir = '';
    let env = '';
    beforeAll(() => {
      dir = copyProject();
      // The build the suite's setup made, copied after the sources (so newer): each start only starts.
      cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
      env = path.join(dir, 'loopback.env');
      writeFileSync(
        env,
        envText({
          ACCOUNT_SID,
          AUTH_TOKEN,
          LIVEKIT_URL: 'http://127.0.0.1:9',
          LIVEKIT_API_KEY: 'APIexamplekey',
          LIVEKIT_API_SECRET: 'example-secret-that-is-long-enough-0123456789',
        }),
      );
    });

    const start = async (command: string, args: string[]) => {
      const port = await freePort();
      const child = spawn(command, [...args, '--port', String(port), '--env', env], {
        cwd: dir,
        env: { ...process.env, CI: 'true', FORCE_COLOR: '0' },
        stdio: 'ignore',
        // Its own process group, so that cleanup can end everything it started; the test signals only the pid.
        detached: true,
      });
      live.push(child);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      if (!(await until(() => serving(port), 30_000))) throw new Error(`${command} ${args.join(' ')} did not serve port ${port}`);
      return { child, port, exited };
    };

    test.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
      '%s to scripts/start.mjs: the port closes and it exits by that signal',
      async (signal) => {
        const { child, port, exited } = await start(process.execPath, ['scripts/start.mjs']);
        process.kill(child.pid!, signal);
        expect(await until(async () => !(await serving(port)), 5000)).toBe(true);
        expect(await exited).toEqual({ code: null, signal });
      },
    );

    test('SIGTERM to npm start (whose shell does not pass it on): the port closes', async () => {
      const { child, port } = await start('npm', ['start', '--']);
      process.kill(child.pid!, 'SIGTERM');
      expect(await until(async () => !(await serving(port)), 5000)).toBe(true);
    });
  });

  describe('on a clone without npm ci: one line saying to run it, exit 1, no stack trace', () => {
    const withoutModules = () => {
      const dir = copyProject({ env: envText({ ACCOUNT_SID, AUTH_TOKEN }) });
      unlinkSync(path.join(dir, 'node_modules'));
      return dir;
    };
    const noStack = (output: string) => {
      expect(output).not.toContain('ERR_MODULE_NOT_FOUND');
      expect(output).not.toMatch(/\n\s+at /);
    };

    test.each(['deploy', 'start'])('node scripts/%s.mjs, even with NODE_PATH at installed modules', async (script) => {
      const dir = withoutModules();
      const result = await runCommand(process.execPath, [`scripts/${script}.mjs`], dir, {
        NODE_PATH: path.join(ROOT, 'node_modules'),
      });
      expect(result.status).toBe(1);
      expect(result.output).toContain(
        `npm ${script === 'start' ? 'start' : 'run deploy'}: the project's dependencies are not installed: twilio-run, esbuild, twilio, livekit-server-sdk.`,
      );
      expect(result.output).toContain(`Run npm ci first (in ${dir}), then try again.`);
      noStack(result.output);
    });

    test.each(['doctor', 'ring', 'bind', 'campaign'])('npm run %s (a TypeScript tool, bundled by esbuild)', async (script) => {
      const dir = withoutModules();
      const result = await runCommand('npm', ['run', '--silent', script], dir);
      expect(result.status).toBe(1);
      expect(result.output).toContain(
        `npm run ${script}: the project's dependencies are not installed: esbuild, twilio, livekit-server-sdk.`,
      );
      expect(result.output).toContain(`Run npm ci first (in ${dir}), then try again.`);
      noStack(result.output);
    });

    test('npm run deploy', async () => {
      const dir = withoutModules();
      const result = await runCommand('npm', ['run', '--silent', 'deploy'], dir);
      expect(result.status).toBe(1);
      expect(result.output).toContain('Run npm ci first');
      noStack(result.output);
    });

    test('node_modules from another version of the lock: out of date, by name', async () => {
      const dir = withoutModules();
      const fake = path.join(dir, 'node_modules', 'twilio-run');
      mkdirSync(path.join(fake, 'bin'), { recursive: true });
      writeFileSync(path.join(fake, 'package.json'), JSON.stringify({ name: 'twilio-run', version: '4.0.0', main: 'bin/twilio-run.js' }));
      writeFileSync(path.join(fake, 'bin', 'twilio-run.js'), '');
      const pinned = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).devDependencies['twilio-run'];
      const result = await runCommand(process.execPath, ['scripts/deploy.mjs'], dir);
      expect(result.status).toBe(1);
      expect(result.output).toContain(
        `the project's dependencies are not installed: esbuild, twilio, livekit-server-sdk; out of date: twilio-run 4.0.0 (package.json pins ${pinned}).`,
      );
    });
  });
});
