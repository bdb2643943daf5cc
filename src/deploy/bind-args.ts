/**
 * The command line of `npm run bind`, checked whole before anything is read
 * or sent: every mistake is a UsageError naming the flag and what it wants.
 */
import { parseArgs } from 'node:util';
import { isE164 } from '../phone/address';
import type { Destination } from './bind-plan';
import { UsageError } from './cli';

export const USAGE = [
  'usage: npm run bind -- --domain <service>.twil.io | --url https://<host> [--number +1... ...] [--flow FW...]',
  '                       [--fallback-url URL | --no-fallback] [--replace-foreign] [--dry-run] [--yes]',
  '                       [--env FILE] [--routes FILE] [--undo-file FILE]',
  '       npm run bind -- --undo [--number +1... ...] [--replace-foreign] [--dry-run] [--yes] [--env FILE] [--undo-file FILE]',
].join('\n');

export interface BindArgs {
  help: boolean;
  /** Bind, or put back what the undo file recorded. */
  undo: boolean;
  /** `https://<host>`; "" with --undo. */
  origin: string;
  flowSid?: string;
  fallback: Destination['fallback'];
  numbers: string[];
  replaceForeign: boolean;
  yes: boolean;
  dryRun: boolean;
  env: string;
  routes: string;
  undoFile: string;
}

/** A DNS name of at least two labels, as a twil.io domain (or a tunnel's) is. */
const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;
const EXAMPLE = 'livekit-twilio-connector-1234-dev.twil.io';

/** The service's origin from --domain or --url: https, a host, no path. */
export function serviceOrigin(domain: string | undefined, url: string | undefined): string {
  if (domain !== undefined && url !== undefined) throw new UsageError('give --domain or --url, not both');
  if (domain !== undefined) {
    if (!HOST.test(domain))
      throw new UsageError(`--domain ${domain} is not a host name: give the service's domain, such as ${EXAMPLE} (or --url https://...)`);
    return `https://${domain.toLowerCase()}`;
  }
  if (url === undefined) throw new UsageError(`--domain or --url is required: where the service is deployed, such as --domain ${EXAMPLE}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url ${url} is not a URL: give the service's address, such as https://${EXAMPLE}`);
  }
  if (parsed.protocol !== 'https:')
    throw new UsageError(
      `--url ${url} must start with https://: Twilio Functions (and any tunnel Twilio should call) are served over https`,
    );
  if (parsed.username || parsed.password || parsed.search || parsed.hash || parsed.pathname !== '/')
    throw new UsageError(
      `--url ${url} must be the service's address alone, such as ${parsed.origin}: bind adds /incoming, /status and the fallback itself`,
    );
  return parsed.origin;
}

function fallbackOf(url: string | undefined, none: boolean): Destination['fallback'] {
  if (url !== undefined && none) throw new UsageError('give --fallback-url or --no-fallback, not both');
  if (none) return { kind: 'keep' };
  if (url === undefined) return { kind: 'asset' };
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || !parsed.hostname)
    throw new UsageError(`--fallback-url ${url} is not an http(s) URL Twilio can fetch, such as https://example.com/fallback.xml`);
  return { kind: 'url', url };
}

export function readBindArgs(args: string[]): BindArgs {
  const { values } = parseArgs({
    args,
    options: {
      domain: { type: 'string' },
      url: { type: 'string' },
      number: { type: 'string', multiple: true, default: [] },
      flow: { type: 'string' },
      'fallback-url': { type: 'string' },
      'no-fallback': { type: 'boolean', default: false },
      'replace-foreign': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      yes: { type: 'boolean', short: 'y', default: false },
      undo: { type: 'boolean', default: false },
      env: { type: 'string', default: '.env' },
      routes: { type: 'string', default: 'src/assets/routes.private.json' },
      'undo-file': { type: 'string', default: '.bind-undo.json' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const common = {
    help: values.help,
    undo: values.undo,
    numbers: [...new Set(values.number)],
    replaceForeign: values['replace-foreign'],
    yes: values.yes,
    dryRun: values['dry-run'],
    env: values.env,
    routes: values.routes,
    undoFile: values['undo-file'],
  };
  if (values.help) return { ...common, origin: '', fallback: { kind: 'keep' } };
  for (const number of values.number)
    if (!isE164(number)) throw new UsageError(`--number ${number} is not an E.164 number such as +14155550100`);
  if (values.undo) {
    if (
      values.domain !== undefined ||
      values.url !== undefined ||
      values.flow !== undefined ||
      values['fallback-url'] !== undefined ||
      values['no-fallback']
    )
      throw new UsageError(
        '--undo puts back what the undo file recorded: it takes only --number, --replace-foreign, --dry-run, --yes, --env, --undo-file',
      );
    return { ...common, origin: '', fallback: { kind: 'keep' } };
  }
  if (values.flow !== undefined && !/^FW[0-9a-f]{32}$/i.test(values.flow))
    throw new UsageError(
      `--flow ${values.flow} is not a Studio flow SID: FW followed by 32 hex digits (Studio > your flow > Flow Configuration)`,
    );
  return {
    ...common,
    origin: serviceOrigin(values.domain, values.url),
    flowSid: values.flow,
    fallback: fallbackOf(values['fallback-url'], values['no-fallback']),
  };
}
