/**
 * A real `twilio-run start` process serving the compiled dist, found through
 * the project's own configuration, and a client that calls it the way Twilio
 * does (form POST, X-Twilio-Signature over the URL and parameters).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { inboundWebhook, liveKitEnv } from './fixtures';
import { ACCOUNT_SID, AUTH_TOKEN, callSid } from './runtime';
import { useLiveKit, useTwilioApi } from './stand-ins';

export const ROOT = path.resolve(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface TwilioRunOptions {
  env: Record<string, string>;
  /** Extra environment for the process itself (not the Function's context). */
  processEnv?: Record<string, string>;
  /** Serve assets from this folder instead of the configured dist/assets. */
  assetsFolder?: string;
  /**
   * Keep the functions loaded between requests (`--no-fork-process`), as
   * Twilio's runtime keeps a warm container. By default twilio-run runs each
   * request in a process of its own.
   */
  keepLoaded?: boolean;
}

export class TwilioRun {
  output = '';
  private child?: ChildProcess;
  port = 0;

  /** Options, or a function giving them when the process starts (after the stand-ins have ports). */
  constructor(private readonly makeOptions: TwilioRunOptions | (() => TwilioRunOptions)) {}

  private get options(): TwilioRunOptions {
    return typeof this.makeOptions === 'function' ? this.makeOptions() : this.makeOptions;
  }

  get baseUrl(): string {
    return `http://localhost:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'twilio-run-env-'));
    const envFile = path.join(dir, '.env');
    writeFileSync(
      envFile,
      Object.entries(this.options.env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
    );
    this.child = spawn(
      process.execPath,
      [
        require.resolve('twilio-run/bin/twilio-run.js'),
        'start',
        '--port',
        String(this.port),
        '--env',
        envFile,
        // twilio-run joins the folder to the project root, so it must be relative.
        ...(this.options.assetsFolder ? ['--assets-folder', path.relative(ROOT, this.options.assetsFolder)] : []),
        ...(this.options.keepLoaded ? ['--no-fork-process'] : []),
      ],
      {
        cwd: ROOT,
        env: { ...process.env, CI: 'true', FORCE_COLOR: '0', ...this.options.processEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`twilio-run exited early:\n${this.output}`);
      try {
        const res = await fetch(`${this.baseUrl}/__not_a_function__`);
        await res.arrayBuffer();
        return this;
      } catch {
        await new Promise((r) => setTimeout(r, 150));
      }
    }
    throw new Error(`twilio-run did not start:\n${this.output}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  }

  /** POSTs a form as Twilio does; `sign` with the auth token, or leave unsigned. */
  post(fnPath: string, params: Record<string, string>, sign?: { authToken: string }) {
    return this.postTo(`${this.baseUrl}${fnPath}`, params, sign);
  }

  /** POSTs a JSON body with the given X-Twilio-Signature. */
  async postJson(fnPath: string, body: unknown, signature: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`${this.baseUrl}${fnPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-twilio-signature': signature },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.text() };
  }

  /** POSTs to a full URL (a query string included, as in a callback URL), signed over that URL. */
  async postTo(
    url: string,
    params: Record<string, string>,
    sign?: { authToken: string },
  ): Promise<{ status: number; contentType: string; body: string; ms: number; retryAfter: string | null }> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'TwilioProxy/1.1' };
    if (sign) headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(sign.authToken, url, params);
    const started = Date.now();
    const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
    const body = await res.text();
    const contentType = res.headers.get('content-type') ?? '';
    return { status: res.status, contentType, body, ms: Date.now() - started, retryAfter: res.headers.get('retry-after') };
  }
}

/** A twilio-run process for the whole suite: started after the stand-ins declared before it, stopped after the last test. */
export function useTwilioRun(options: () => TwilioRunOptions): TwilioRun {
  const server = new TwilioRun(options);
  beforeAll(() => server.start(), 40_000);
  afterAll(() => server.stop());
  return server;
}

/**
 * The LiveKit and Twilio REST stand-ins, and a twilio-run process whose
 * functions reach both: LiveKit by URL, "api.twilio.com" through HTTP_PROXY.
 * twilio-run runs functions with .env as the whole environment, so the proxy
 * and the CA go there, as they would for a real proxy.
 */
export function useServiceWithApis(env: Record<string, string>, options: { keepLoaded?: boolean } = {}) {
  const liveKit = useLiveKit();
  const twilioApi = useTwilioApi({ tls: true });
  const server = useTwilioRun(() => ({
    env: { ACCOUNT_SID, AUTH_TOKEN, ...liveKitEnv(liveKit, env), ...twilioApi.proxyEnv() },
    keepLoaded: options.keepLoaded,
    // Kept loaded, the functions run in twilio-run's own process, which reads the CA when it starts.
    processEnv: options.keepLoaded ? twilioApi.proxyEnv() : undefined,
  }));
  /** Call `n` connected through incoming (sent by a Studio flow when `flowSid`), live at Twilio; its room. */
  const liveCall = async (n: number, options: { flowSid?: string; streaming?: boolean } = {}): Promise<string> => {
    const url = `${server.baseUrl}/incoming${options.flowSid ? `?FlowSid=${options.flowSid}` : ''}`;
    const reply = await server.postTo(url, inboundWebhook(n), { authToken: AUTH_TOKEN });
    expect(reply.body).toContain('<Stream');
    twilioApi.setCallStatus(callSid(n), 'in-progress');
    // The caller's participant is the calling number (the default identity policy); its stream runs.
    if (options.streaming) liveKit.startStream(`call-${callSid(n)}`, inboundWebhook(n).From!);
    return `call-${callSid(n)}`;
  };
  return { liveKit, twilioApi, server, liveCall };
}
