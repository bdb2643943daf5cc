/**
 * A loopback Twilio Serverless API (serverless.twilio.com and its upload host
 * serverless-upload.twilio.com), reached by a real `twilio-run deploy` through
 * HTTP_PROXY. It keeps services, environments, functions, assets, versions,
 * builds, variables and deployments, and refuses what Twilio's platform
 * refuses, with Twilio-shaped errors `{code, message, more_info, status}`:
 *
 * - Build with an `@twilio/runtime-handler` version not on Twilio's list:
 *   400, 20001 "Some dependencies could not be validated. No matching version
 *   found for …" (twilio-labs/serverless-toolkit #538, #564).
 * - Build with a runtime the platform does not offer: 400, 82007
 *   (https://www.twilio.com/docs/errors/82007).
 * - Variable Key over 128 characters or Value over 450 bytes: 400, 20001
 *   (Variable resource: https://www.twilio.com/docs/serverless/api/resource/variable).
 * - Function or Asset Version with a Path not starting with "/" or a
 *   Visibility other than public, protected, private: 400, 20001
 *   (Function Version resource).
 * - Basic auth with the account SID and auth token, or 401, 20003.
 *
 * The build does not run code, so nothing here knows about the 3 KB context
 * limit (82006): Twilio only reports that when a function is invoked.
 *
 * `npm run studio` reads it back through the real twilio client: the Services
 * (unique_name), a service's Environments (domain_suffix, domain_name, and
 * build_sid, the build its latest deployment made live) and its Functions
 * (friendly_name, which twilio-run sets to the function's path).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { RUNTIME_HANDLER_VERSIONS, RUNTIMES, VARIABLE_KEY_MAX_CHARS, VARIABLE_VALUE_MAX_BYTES } from '../../src/deploy/platform';
import { LoopbackServer } from './loopback-server';

export const SERVERLESS_HOSTS = ['serverless.twilio.com', 'serverless-upload.twilio.com'] as const;

type Visibility = 'public' | 'protected' | 'private';

export interface UploadedVersion {
  sid: string;
  kind: 'function' | 'asset';
  /** Function or asset resource SID. */
  resource: string;
  path: string;
  visibility: Visibility;
  content: string;
}

export interface Build {
  sid: string;
  dependencies: { name: string; version: string }[];
  runtime: string;
  functionVersions: string[];
  assetVersions: string[];
}

interface Environment {
  sid: string;
  uniqueName: string;
  domainSuffix: string | null;
  domainName: string;
  variables: Map<string, { sid: string; value: string }>;
  deployments: { sid: string; build: string }[];
}

interface Service {
  sid: string;
  uniqueName: string;
  environments: Environment[];
  resources: { sid: string; kind: 'function' | 'asset'; friendlyName: string }[];
  versions: UploadedVersion[];
  builds: Build[];
}

const sid = (prefix: string) => prefix + randomBytes(16).toString('hex');

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The parts of a multipart/form-data body, by name. */
function parseMultipart(body: Buffer, contentType: string): Map<string, string> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) throw new ApiError(400, 20001, 'Expected a multipart/form-data body');
  const delimiter = `--${boundary[1] ?? boundary[2]}`;
  const parts = new Map<string, string>();
  for (const part of body.toString('utf8').split(delimiter)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const name = /name="([^"]+)"/.exec(part.slice(0, split));
    if (name) parts.set(name[1]!, part.slice(split + 4).replace(/\r\n$/, ''));
  }
  return parts;
}

export class ServerlessStandIn extends LoopbackServer {
  readonly services: Service[] = [];
  /** Every request, in order: method and path. */
  readonly requests: { method: string; path: string }[] = [];
  readonly refused: { path: string; code: number; message: string }[] = [];
  constructor(
    readonly accountSid: string,
    readonly authToken: string,
  ) {
    super();
  }

  async start(): Promise<this> {
    this.proxyFor(SERVERLESS_HOSTS);
    await this.listen();
    return this;
  }

  reset(): void {
    this.services.length = 0;
    this.requests.length = 0;
    this.refused.length = 0;
  }

  service(uniqueName: string): Service | undefined {
    return this.services.find((s) => s.uniqueName === uniqueName);
  }

  /** The build an environment's latest deployment made live, with its versions. */
  live(service: Service, suffix: string): { build: Build; versions: UploadedVersion[]; variables: Record<string, string> } | undefined {
    const environment = service.environments.find((e) => (e.domainSuffix ?? '') === suffix);
    const deployment = environment?.deployments.at(-1);
    const build = service.builds.find((b) => b.sid === deployment?.build);
    if (!environment || !build) return undefined;
    const ids = new Set([...build.functionVersions, ...build.assetVersions]);
    const variables = Object.fromEntries([...environment.variables].map(([key, v]) => [key, v.value]));
    return { build, versions: service.versions.filter((v) => ids.has(v.sid)), variables };
  }

  /** Puts a service in place, as an earlier deploy from another clone would have. */
  seedService(uniqueName: string): Service {
    const service: Service = { sid: sid('ZS'), uniqueName, environments: [], resources: [], versions: [], builds: [] };
    this.services.push(service);
    return service;
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', `https://${req.headers.host ?? 'serverless.twilio.com'}`);
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname });
    try {
      const expected = 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64');
      if (req.headers.authorization !== expected) throw new ApiError(401, 20003, 'Authenticate');
      const body = Buffer.concat(chunks);
      const type = String(req.headers['content-type'] ?? '');
      const form = type.startsWith('multipart/form-data') ? parseMultipart(body, type) : new URLSearchParams(body.toString('utf8'));
      const reply = this.route(method, url, form instanceof URLSearchParams ? form : undefined, form instanceof Map ? form : undefined);
      res.writeHead(method === 'POST' && reply !== null ? 201 : reply === null ? 204 : 200, { 'content-type': 'application/json' });
      res.end(reply === null ? undefined : JSON.stringify(reply));
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(500, 20500, error instanceof Error ? error.message : 'internal');
      this.refused.push({ path: url.pathname, code: e.code, message: e.message });
      res.writeHead(e.status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ code: e.code, message: e.message, more_info: `https://www.twilio.com/docs/errors/${e.code}`, status: e.status }),
      );
    }
  }

  private page(key: string, items: unknown[]): unknown {
    return { [key]: items, meta: { key, next_page_url: null, page: 0, page_size: 50 } };
  }

  private route(method: string, url: URL, form: URLSearchParams | undefined, multipart: Map<string, string> | undefined): unknown {
    const parts = url.pathname
      .replace(/^\/v1\/?/, '')
      .split('/')
      .filter(Boolean);
    const notFound = () => new ApiError(404, 20404, `The requested resource ${url.pathname} was not found`);
    if (parts[0] !== 'Services') throw notFound();
    if (parts.length === 1) {
      if (method === 'GET')
        return this.page(
          'services',
          this.services.map((s) => ({ sid: s.sid, unique_name: s.uniqueName })),
        );
      const uniqueName = form?.get('UniqueName') ?? '';
      if (!/^[A-Za-z0-9-]{1,50}$/.test(uniqueName)) throw new ApiError(400, 20001, 'UniqueName must be 1 to 50 letters, digits or dashes');
      if (this.service(uniqueName)) throw new ApiError(409, 54301, `Unique name ${uniqueName} already in use`);
      const service = this.seedService(uniqueName);
      return { sid: service.sid, unique_name: uniqueName };
    }
    const service = this.services.find((s) => s.sid === parts[1]);
    if (!service) throw notFound();
    if (parts.length === 2) return { sid: service.sid, unique_name: service.uniqueName };
    switch (parts[2]) {
      case 'Environments':
        return this.environments(service, method, parts.slice(3), form, notFound);
      case 'Functions':
      case 'Assets':
        return this.resources(service, parts[2] === 'Functions' ? 'function' : 'asset', method, parts.slice(3), form, multipart, notFound);
      case 'Builds':
        return this.builds(service, method, parts.slice(3), form, notFound);
      default:
        throw notFound();
    }
  }

  private environments(
    service: Service,
    method: string,
    rest: string[],
    form: URLSearchParams | undefined,
    notFound: () => ApiError,
  ): unknown {
    // build_sid: "The SID of the build deployed in the environment", null until a deployment
    // (twilio-oai twilio_serverless_v1.json, serverless.v1.service.environment).
    const view = (e: Environment) => ({
      sid: e.sid,
      unique_name: e.uniqueName,
      domain_suffix: e.domainSuffix,
      domain_name: e.domainName,
      build_sid: e.deployments.at(-1)?.build ?? null,
    });
    if (rest.length === 0) {
      if (method === 'GET') return this.page('environments', service.environments.map(view));
      const suffix = form?.get('DomainSuffix') ?? null;
      const environment: Environment = {
        sid: sid('ZE'),
        uniqueName: form?.get('UniqueName') ?? '',
        domainSuffix: suffix,
        domainName: `${service.uniqueName}-1234${suffix ? `-${suffix}` : ''}.twil.io`,
        variables: new Map(),
        deployments: [],
      };
      service.environments.push(environment);
      return view(environment);
    }
    const environment = service.environments.find((e) => e.sid === rest[0]);
    if (!environment) throw notFound();
    if (rest.length === 1) return view(environment);
    if (rest[1] === 'Deployments' && method === 'POST') {
      const build = form?.get('BuildSid') ?? '';
      if (!service.builds.some((b) => b.sid === build)) throw new ApiError(400, 20001, 'BuildSid is not a build of this service');
      const deployment = { sid: sid('ZD'), build };
      environment.deployments.push(deployment);
      return { sid: deployment.sid, build_sid: build };
    }
    if (rest[1] !== 'Variables') throw notFound();
    const variables = [...environment.variables].map(([key, v]) => ({ sid: v.sid, key, value: v.value }));
    if (method === 'GET' && rest.length === 2) return this.page('variables', variables);
    if (method === 'DELETE') {
      const found = variables.find((v) => v.sid === rest[2]);
      if (!found) throw notFound();
      environment.variables.delete(found.key);
      return null;
    }
    const key = form?.get('Key') ?? '';
    const value = form?.get('Value') ?? '';
    if (!key || key.length > VARIABLE_KEY_MAX_CHARS)
      throw new ApiError(400, 20001, `Key must be 1 to ${VARIABLE_KEY_MAX_CHARS} characters`);
    if (Buffer.byteLength(value, 'utf8') > VARIABLE_VALUE_MAX_BYTES)
      throw new ApiError(400, 20001, `Value must be at most ${VARIABLE_VALUE_MAX_BYTES} bytes`);
    const existing = rest[2] ? variables.find((v) => v.sid === rest[2]) : undefined;
    if (rest[2] && !existing) throw notFound();
    if (!existing && environment.variables.has(key)) throw new ApiError(409, 54301, `Variable ${key} already exists`);
    if (existing && existing.key !== key) environment.variables.delete(existing.key);
    const variableSid = existing?.sid ?? sid('ZV');
    environment.variables.set(key, { sid: variableSid, value });
    return { sid: variableSid, key, value };
  }

  private resources(
    service: Service,
    kind: 'function' | 'asset',
    method: string,
    rest: string[],
    form: URLSearchParams | undefined,
    multipart: Map<string, string> | undefined,
    notFound: () => ApiError,
  ): unknown {
    const key = kind === 'function' ? 'functions' : 'assets';
    if (rest.length === 0) {
      const mine = service.resources.filter((r) => r.kind === kind);
      if (method === 'GET')
        return this.page(
          key,
          mine.map((r) => ({ sid: r.sid, friendly_name: r.friendlyName })),
        );
      const friendlyName = form?.get('FriendlyName') ?? '';
      if (!friendlyName || friendlyName.length > 255) throw new ApiError(400, 20001, 'FriendlyName must be 1 to 255 characters');
      const resource = { sid: sid('ZH'), kind, friendlyName };
      service.resources.push(resource);
      return { sid: resource.sid, friendly_name: friendlyName };
    }
    const resource = service.resources.find((r) => r.sid === rest[0] && r.kind === kind);
    if (!resource || rest[1] !== 'Versions' || method !== 'POST' || !multipart) throw notFound();
    const path = multipart.get('Path') ?? '';
    const visibility = multipart.get('Visibility') ?? '';
    const content = multipart.get('Content');
    if (!path.startsWith('/') || path.length > 255) throw new ApiError(400, 20001, 'Path must start with / and be at most 255 characters');
    if (!['public', 'protected', 'private'].includes(visibility))
      throw new ApiError(400, 20001, 'Visibility must be public, protected or private');
    if (content === undefined) throw new ApiError(400, 20001, 'Content is required');
    const version: UploadedVersion = { sid: sid('ZN'), kind, resource: resource.sid, path, visibility: visibility as Visibility, content };
    service.versions.push(version);
    return { sid: version.sid, path, visibility };
  }

  private builds(service: Service, method: string, rest: string[], form: URLSearchParams | undefined, notFound: () => ApiError): unknown {
    if (rest.length === 0 && method === 'POST' && form) {
      const runtime = form.get('Runtime') ?? 'node22';
      if (!RUNTIMES.includes(runtime)) throw new ApiError(400, 82007, `unsupported runtime: ${runtime}`);
      // serverless-api sends the list as a JSON string wrapped in quotes.
      const raw = (form.get('Dependencies') ?? '""').replace(/^"|"$/g, '');
      const dependencies = (raw ? JSON.parse(raw) : []) as { name: string; version: string }[];
      for (const dependency of dependencies) {
        if (dependency.name === '@twilio/runtime-handler' && !RUNTIME_HANDLER_VERSIONS.includes(dependency.version)) {
          throw new ApiError(
            400,
            20001,
            `Some dependencies could not be validated. No matching version found for @twilio/runtime-handler@${dependency.version}. You can find the valid versions at https://www.twilio.com/docs/serverless/functions-assets/handler`,
          );
        }
      }
      const functionVersions = form.getAll('FunctionVersions');
      const assetVersions = form.getAll('AssetVersions');
      const known = new Set(service.versions.map((v) => v.sid));
      for (const version of [...functionVersions, ...assetVersions]) {
        if (!known.has(version)) throw new ApiError(400, 20001, `Version ${version} is not a version of this service`);
      }
      const build: Build = { sid: sid('ZB'), dependencies, runtime, functionVersions, assetVersions };
      service.builds.push(build);
      return { sid: build.sid, status: 'building', runtime };
    }
    const build = service.builds.find((b) => b.sid === rest[0]);
    if (!build || method !== 'GET') throw notFound();
    if (rest[1] === 'Status') return { sid: build.sid, status: 'completed' };
    return { sid: build.sid, status: 'completed', runtime: build.runtime };
  }
}
