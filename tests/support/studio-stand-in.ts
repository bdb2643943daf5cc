/**
 * A loopback Twilio Studio v2 API (studio.twilio.com) for the Flows resource:
 * `GET /v2/Flows`, `POST /v2/Flows`, `GET|POST /v2/Flows/{Sid}` and
 * `POST /v2/Flows/Validate`, held to the contract in twilio/twilio-oai
 * spec/json/twilio_studio_v2.json (CreateFlow, ListFlow, FetchFlow,
 * UpdateFlow, UpdateFlowValidate) and answering like Studio, with errors
 * shaped `{code, message, more_info, status, details}`.
 *
 * What it cannot know is Studio's own widget rules: which properties each
 * widget type takes, and what Studio accepts in them. It checks only what the
 * flow-definition schema and error 81022 document for a whole flow; a test
 * that needs a widget refused sets `definitionErrors`, and tests check the
 * widgets against Twilio's documented fields themselves.
 *
 * Reached by the real `twilio` client through `hostRewritingHttpClient` (the
 * documented custom-client hook), or by a separate process through
 * `relayProxy`, which also reaches the Serverless stand-in.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { LoopbackServer } from './loopback-server';

export const STUDIO_HOST = 'studio.twilio.com';

/** A definition error as Studio reports it in `details.errors` (see ERRORS below). */
export interface DefinitionError {
  message: string;
  property_path: string;
}

export interface StoredFlow {
  sid: string;
  friendlyName: string;
  status: 'draft' | 'published';
  definition: unknown;
  revision: number;
  commitMessage: string | null;
  dateCreated: string;
  dateUpdated: string | null;
}

export interface StudioRequest {
  method: string;
  path: string;
  params: Record<string, string>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly details?: { errors: DefinitionError[] },
  ) {
    super(message);
  }
}

// twilio-oai: studio.v2.flow sid "^FW[0-9a-fA-F]{32}$".
const FLOW_SID = /^FW[0-9a-fA-F]{32}$/;
// twilio-oai: flow_enum_status and flow_validate_enum_status are [draft, published].
const STATUSES = ['draft', 'published'];
// twilio-oai: CreateFlowRequest and UpdateFlowValidateRequest take these four and
// require the first three; UpdateFlowRequest takes the same four and requires Status only.
const FLOW_PARAMS = ['FriendlyName', 'Status', 'Definition', 'CommitMessage'];
const REQUIRED_ON_CREATE = ['FriendlyName', 'Status', 'Definition'];
// twilio-oai ListFlow: PageSize (1 to 1000, default 50), Page, PageToken.
const LIST_PARAMS = ['PageSize', 'Page', 'PageToken'];

/**
 * What Studio refuses in a whole definition, from what Twilio documents:
 * - the Flow Definition Schema (https://www.twilio.com/docs/studio/rest-api/v2/schemas):
 *   `initial_state` a string of at least 1 character, `states` an array of 1
 *   to 1000 items, `flags` (when given) with a boolean `allow_concurrent_calls`;
 * - error 81022 "Flow definition validation failed" (https://www.twilio.com/docs/api/errors/81022):
 *   "Widget names are not unique", "Transition references a widget that
 *   doesn't exist"; "Check the error response details for an array of
 *   validation failures". Each failure is `{message, property_path}`, as the
 *   details Studio returns are read by zingdevlimited/studio-flow-actions
 *   (src/actions/validate/index.ts, `err.details.errors`). HTTP 400 is assumed:
 *   the error page gives no status.
 */
function definitionErrors(definition: unknown): DefinitionError[] {
  const errors: DefinitionError[] = [];
  const d = definition as { initial_state?: unknown; states?: unknown; flags?: unknown } | null;
  if (!d || typeof d !== 'object' || Array.isArray(d)) return [{ message: 'Definition must be a JSON object', property_path: '#' }];
  if (typeof d.initial_state !== 'string' || d.initial_state.length < 1)
    errors.push({ message: 'initial_state must be a string of at least 1 character', property_path: '#/initial_state' });
  if (d.flags !== undefined) {
    const flags = d.flags as { allow_concurrent_calls?: unknown } | null;
    if (!flags || typeof flags.allow_concurrent_calls !== 'boolean')
      errors.push({ message: 'allow_concurrent_calls must be a boolean', property_path: '#/flags/allow_concurrent_calls' });
  }
  if (!Array.isArray(d.states) || d.states.length < 1 || d.states.length > 1000) {
    errors.push({ message: 'states must be an array of 1 to 1000 widgets', property_path: '#/states' });
    return errors;
  }
  const states = d.states as { name?: unknown; type?: unknown; transitions?: unknown }[];
  const names = new Set<string>();
  states.forEach((state, i) => {
    if (typeof state?.name !== 'string' || typeof state.type !== 'string') {
      errors.push({ message: 'a widget needs a name and a type', property_path: `#/states/${i}` });
      return;
    }
    if (names.has(state.name)) errors.push({ message: `widget name ${state.name} is not unique`, property_path: `#/states/${i}/name` });
    names.add(state.name);
  });
  states.forEach((state, i) => {
    const transitions = Array.isArray(state?.transitions) ? (state.transitions as { next?: unknown }[]) : [];
    transitions.forEach((t, j) => {
      if (typeof t?.next === 'string' && !names.has(t.next))
        errors.push({ message: `transition to ${t.next}, which is not a widget`, property_path: `#/states/${i}/transitions/${j}/next` });
    });
  });
  return errors;
}

export class StudioStandIn extends LoopbackServer {
  readonly flows: StoredFlow[] = [];
  /** Every request, in order, with its form or query. */
  readonly requests: StudioRequest[] = [];
  readonly refused: { path: string; code: number; message: string }[] = [];
  /**
   * A Studio widget rule this stand-in cannot know: while set, every
   * definition validated, created or updated is refused with these errors,
   * as Studio validates on all three.
   */
  definitionErrors: DefinitionError[] | undefined;

  constructor(
    readonly accountSid: string,
    readonly authToken: string,
  ) {
    super();
  }

  async start(options: { tls?: boolean } = {}): Promise<this> {
    if (options.tls) this.proxyFor([STUDIO_HOST]);
    await this.listen();
    return this;
  }

  reset(): void {
    this.flows.length = 0;
    this.requests.length = 0;
    this.refused.length = 0;
    this.definitionErrors = undefined;
  }

  /** A flow already on the account, as one made in the Console or by an earlier run. */
  seedFlow(friendlyName: string, definition: unknown = { initial_state: 'Trigger', states: [] }): StoredFlow {
    const flow: StoredFlow = {
      sid: 'FW' + randomBytes(16).toString('hex'),
      friendlyName,
      status: 'published',
      definition,
      revision: 1,
      commitMessage: null,
      dateCreated: new Date().toISOString(),
      dateUpdated: null,
    };
    this.flows.push(flow);
    return flow;
  }

  /** Requests that changed or checked something: method and path. */
  posts(): string[] {
    return this.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', `https://${STUDIO_HOST}`);
    const method = req.method ?? 'GET';
    try {
      const form = new URLSearchParams(method === 'GET' ? url.search : Buffer.concat(chunks).toString('utf8'));
      const params: Record<string, string> = {};
      for (const [key, value] of form) {
        // A form parameter named twice is not something the client sends for these scalar fields.
        if (key in params) throw new ApiError(400, 20001, `Parameter ${key} was given more than once`);
        params[key] = value;
      }
      this.requests.push({ method, path: url.pathname, params });
      // Security scheme accountSid_authToken: HTTP Basic (twilio-oai components.securitySchemes);
      // 20003 "Authenticate" (https://www.twilio.com/docs/api/errors/20003).
      const expected = 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64');
      if (req.headers.authorization !== expected) throw new ApiError(401, 20003, 'Authenticate');
      // Every write in the spec is requestBody application/x-www-form-urlencoded.
      if (method === 'POST' && !String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
        throw new ApiError(400, 20001, 'Expected an application/x-www-form-urlencoded body');
      const [status, body] = this.route(method, url.pathname, params);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(500, 20500, error instanceof Error ? error.message : 'internal');
      this.refused.push({ path: url.pathname, code: e.code, message: e.message });
      res.writeHead(e.status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          code: e.code,
          message: e.message,
          more_info: `https://www.twilio.com/docs/errors/${e.code}`,
          status: e.status,
          ...(e.details ? { details: e.details } : {}),
        }),
      );
    }
  }

  private route(method: string, pathname: string, params: Record<string, string>): [number, unknown] {
    const notFound = () => new ApiError(404, 20404, `The requested resource ${pathname} was not found`);
    const parts = pathname.split('/').filter(Boolean);
    if (parts[0] !== 'v2' || parts[1] !== 'Flows' || parts.length > 3) throw notFound();
    if (parts.length === 2) {
      if (method === 'GET') return [200, this.list(params)];
      if (method !== 'POST') throw notFound();
      // CreateFlow answers 201 (twilio-oai responses).
      const { form, definition } = this.flowForm(params, REQUIRED_ON_CREATE);
      const flow = this.seedFlow(form.FriendlyName!, definition);
      flow.status = form.Status as StoredFlow['status'];
      flow.commitMessage = form.CommitMessage ?? null;
      return [201, this.view(flow)];
    }
    const sid = parts[2]!;
    if (sid === 'Validate') {
      if (method !== 'POST') throw notFound();
      // UpdateFlowValidate answers 200 with studio.v2.flow_validate {valid} (twilio-oai); the Flow
      // Validate page: 'returns {"valid":true} ... otherwise ... an error response'
      // (https://www.twilio.com/docs/studio/rest-api/v2/flow-validate).
      this.flowForm(params, REQUIRED_ON_CREATE);
      return [200, { valid: true }];
    }
    if (!FLOW_SID.test(sid)) throw notFound();
    const flow = this.flows.find((f) => f.sid === sid);
    if (!flow) throw notFound();
    if (method === 'GET') return [200, this.view(flow, true)];
    if (method !== 'POST') throw notFound();
    // UpdateFlow answers 200; a new Definition is a new revision ("The latest revision number of the
    // Flow's definition", studio.v2.flow revision).
    const { form, definition } = this.flowForm(params, ['Status']);
    flow.status = form.Status as StoredFlow['status'];
    if (form.FriendlyName !== undefined) flow.friendlyName = form.FriendlyName;
    if (definition !== undefined) {
      flow.definition = definition;
      flow.revision += 1;
    }
    if (form.CommitMessage !== undefined) flow.commitMessage = form.CommitMessage;
    flow.dateUpdated = new Date().toISOString();
    return [200, this.view(flow, true)];
  }

  /** The form of CreateFlow, UpdateFlow or UpdateFlowValidate, checked; Definition parsed and judged. */
  private flowForm(params: Record<string, string>, required: string[]): { form: Record<string, string | undefined>; definition?: unknown } {
    // Stricter than Twilio is known to be: an unknown parameter is refused rather than ignored, so a
    // misspelt one cannot pass unnoticed.
    for (const key of Object.keys(params)) if (!FLOW_PARAMS.includes(key)) throw new ApiError(400, 20001, `Unknown parameter ${key}`);
    // Studio's wording for a missing parameter, as reported in twilio/twilio-go#250:
    // "ApiError 20001: Missing required parameter To in the post body".
    for (const key of required)
      if (params[key] === undefined || params[key] === '')
        throw new ApiError(400, 20001, `Missing required parameter ${key} in the post body`);
    if (params.Status !== undefined && !STATUSES.includes(params.Status))
      throw new ApiError(400, 20001, `Status must be one of ${STATUSES.join(', ')}`);
    if (params.FriendlyName !== undefined && params.FriendlyName.trim() === '')
      throw new ApiError(400, 20001, 'FriendlyName must not be blank');
    let definition: unknown;
    if (params.Definition !== undefined) {
      // "Definition: JSON representation of flow definition" (twilio-oai); the client sends it as a JSON string.
      try {
        definition = JSON.parse(params.Definition);
      } catch {
        throw this.invalid([{ message: 'Definition is not JSON', property_path: '#' }]);
      }
      const errors = [...definitionErrors(definition), ...(this.definitionErrors ?? [])];
      if (errors.length) throw this.invalid(errors);
    }
    return { form: params, definition };
  }

  private invalid(errors: DefinitionError[]): ApiError {
    return new ApiError(400, 81022, 'Flow definition validation failed', { errors });
  }

  /** ListFlow: a page of flows with meta, definitions null ("Flow definitions are null in the Flows List Resource"). */
  private list(params: Record<string, string>): unknown {
    for (const key of Object.keys(params)) if (!LIST_PARAMS.includes(key)) throw new ApiError(400, 20001, `Unknown parameter ${key}`);
    const pageSize = params.PageSize === undefined ? 50 : Number(params.PageSize);
    const page = params.Page === undefined ? 0 : Number(params.Page);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new ApiError(400, 20001, 'PageSize must be 1 to 1000');
    if (!Number.isInteger(page) || page < 0) throw new ApiError(400, 20001, 'Page must be 0 or more');
    const pageUrl = (p: number) => `https://${STUDIO_HOST}/v2/Flows?PageSize=${pageSize}&Page=${p}${p ? `&PageToken=PT${p}` : ''}`;
    const more = (page + 1) * pageSize < this.flows.length;
    return {
      flows: this.flows.slice(page * pageSize, (page + 1) * pageSize).map((f) => this.view(f)),
      meta: {
        key: 'flows',
        page,
        page_size: pageSize,
        url: pageUrl(page),
        first_page_url: pageUrl(0),
        previous_page_url: page ? pageUrl(page - 1) : null,
        next_page_url: more ? pageUrl(page + 1) : null,
      },
    };
  }

  /** studio.v2.flow, as twilio-oai lists its properties. */
  private view(flow: StoredFlow, withDefinition = false): unknown {
    const url = `https://${STUDIO_HOST}/v2/Flows/${flow.sid}`;
    return {
      sid: flow.sid,
      account_sid: this.accountSid,
      author_sid: null,
      friendly_name: flow.friendlyName,
      definition: withDefinition ? flow.definition : null,
      status: flow.status,
      revision: flow.revision,
      commit_message: flow.commitMessage,
      valid: true,
      errors: [],
      warnings: [],
      date_created: flow.dateCreated,
      date_updated: flow.dateUpdated,
      webhook_url: `https://webhooks.twilio.com/v1/Accounts/${this.accountSid}/Flows/${flow.sid}`,
      url,
      links: { test_users: `${url}/TestUsers`, revisions: `${url}/Revisions`, executions: `${url}/Executions` },
    };
  }
}

/**
 * A real twilio RequestClient that sends each named host's requests to a
 * loopback origin instead (the helper's documented `httpClient` option),
 * e.g. `{ 'studio.twilio.com': studio.origin, 'serverless.twilio.com': serverless.origin }`.
 */
export function hostRewritingHttpClient(routes: Record<string, string>, timeoutMs?: number): InstanceType<typeof twilio.RequestClient> {
  class RewritingClient extends twilio.RequestClient {
    override request<TData>(opts: Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0]) {
      const host = /^https:\/\/([^/]+)/.exec(opts.uri)?.[1] ?? '';
      const origin = routes[host];
      const rewritten = origin ? { ...opts, uri: origin + opts.uri.slice(`https://${host}`.length) } : opts;
      return super.request<TData>(rewritten as typeof opts & { data?: TData });
    }
  }
  return new RewritingClient({ timeout: timeoutMs, keepAlive: true });
}

/**
 * One HTTPS proxy for a child process in front of several stand-ins: a
 * `CONNECT host:443` is relayed to the stand-in serving that host, which
 * answers it and terminates TLS itself. `env` gives HTTP_PROXY and a CA file
 * holding every stand-in's CA.
 */
export async function relayProxy(
  routes: Record<string, { port: number; caFile: string }>,
): Promise<{ env: Record<string, string>; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    const target = routes[(req.url ?? '').replace(/:443$/, '')];
    if (!target) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(target.port, '127.0.0.1', () => {
      upstream.write(`CONNECT ${req.url} HTTP/1.1\r\nHost: ${req.url}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close);
    client.on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relay-proxy-'));
  const caFile = path.join(dir, 'ca.pem');
  const cas = [...new Set(Object.values(routes).map((r) => r.caFile))];
  writeFileSync(caFile, cas.map((f) => readFileSync(f, 'utf8')).join('\n'));
  const port = (server.address() as net.AddressInfo).port;
  return {
    env: { HTTP_PROXY: `http://127.0.0.1:${port}`, NODE_EXTRA_CA_CERTS: caFile },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
