/**
 * The fallback TwiML the service deploys as public assets, for a number's
 * Voice Fallback URL ("Primary handler fails"): Twilio requests it at once
 * when it cannot get or run TwiML from `/incoming` (an HTTP error, a timeout,
 * TwiML it cannot parse). Built with the functions' own code
 * (`fallbackForRoute` + `fallbackTwiml`), so the asset speaks exactly what
 * `/incoming` would have spoken for the route, and dials the same number.
 *
 * - `fallback.xml`: the default route (the environment's FALLBACK_* and
 *   GREETING_VOICE / GREETING_LANGUAGE).
 * - `fallback-<route>.xml`: one per route whose fallback TwiML differs from
 *   the default's; a route whose TwiML is the same uses `fallback.xml`.
 *
 * The deploy tools upload an `.xml` asset with the content type of its
 * extension (`application/xml`: @twilio-labs/serverless-api's getContentType,
 * mime-types), which Twilio reads as TwiML. Assets are static files: bind the
 * fallback with method GET.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Env } from '../config/env-reader';
import { DEFAULT_ROUTE, Route } from '../config/route';
import { fallbackForRoute } from '../config/route-settings';
import { readFallbackSettings } from '../config/settings';
import { isE164 } from '../phone/address';
import { fallbackTwiml } from '../twilio/twiml';

export const DEFAULT_FALLBACK_ASSET = 'fallback.xml';

/** The asset a route of its own would get: `fallback-<route>.xml`. */
export const routeFallbackAsset = (route: string): string => `fallback-${route}.xml`;

/** Every name the build may generate: `fallback.xml` and `fallback-<route>.xml`. */
export const FALLBACK_ASSET_NAME = /^fallback(-[A-Za-z0-9._-]+)?\.xml$/;

export interface FallbackAsset {
  /** File name in the assets folder, which is also the path: `https://<domain>/<file>`. */
  file: string;
  /** The routes it answers for; "default" for the numbers no route claims. */
  routes: string[];
  twiml: string;
}

export interface FallbackPlan {
  /** `fallback.xml` first, then the routes' own, in the routes file's order. */
  assets: FallbackAsset[];
  /** Route name ("default" included) to the file its numbers' fallback URL names. */
  byRoute: Record<string, string>;
  /** Why a file could not be made as needed (the build stops on any). */
  problems: string[];
}

/** The fallback TwiML per route, as `/incoming` would answer it, and the files that carry it. */
export function planFallbackAssets(env: Env, routes: readonly Route[] = []): FallbackPlan {
  const base = readFallbackSettings(env);
  const defaultTwiml = fallbackTwiml(fallbackForRoute(base, DEFAULT_ROUTE));
  const assets: FallbackAsset[] = [{ file: DEFAULT_FALLBACK_ASSET, routes: [DEFAULT_ROUTE.name], twiml: defaultTwiml }];
  const byRoute: Record<string, string> = { [DEFAULT_ROUTE.name]: DEFAULT_FALLBACK_ASSET };
  const problems: string[] = [];
  const taken = new Map<string, string>();
  for (const route of routes) {
    const twiml = fallbackTwiml(fallbackForRoute(base, route));
    if (twiml === defaultTwiml) {
      assets[0]!.routes.push(route.name);
      byRoute[route.name] = DEFAULT_FALLBACK_ASSET;
      continue;
    }
    const file = routeFallbackAsset(route.name);
    // The deploy tools make `x.private.xml` private and `x.protected.xml` protected, whatever the folder.
    if (/\.(private|protected)$/.test(route.name)) {
      problems.push(
        `route "${route.name}": its fallback asset ${file} would be deployed as ${/private$/.test(route.name) ? 'private' : 'protected'} (the deploy tools read the visibility from the file name), so Twilio could not fetch it: rename the route`,
      );
      continue;
    }
    const other = taken.get(file.toLowerCase());
    if (other) {
      problems.push(
        `routes "${other}" and "${route.name}" differ only in case: their fallback assets would be one file on a case-insensitive disk`,
      );
      continue;
    }
    taken.set(file.toLowerCase(), route.name);
    assets.push({ file, routes: [route.name], twiml });
    byRoute[route.name] = file;
  }
  return { assets, byRoute, problems };
}

/** What a fallback asset tells Twilio to do, read back from its TwiML. */
export interface ReadFallback {
  message: string;
  voice?: string;
  language?: string;
  /** The number `<Dial>`ed after the message; undefined: `<Hangup/>`. */
  dial?: string;
}

interface XmlNode {
  [name: string]: XmlNode[] | Record<string, string> | string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
});

const elementName = (node: XmlNode) => Object.keys(node).find((k) => k !== ':@' && k !== '#text');
const textOf = (children: XmlNode[]) =>
  children
    .filter((c) => '#text' in c)
    .map((c) => String(c['#text']))
    .join('');

/**
 * Reads a fallback asset strictly: well-formed XML whose `<Response>` holds
 * one `<Say>` with the message, then `<Dial>` to an E.164 number or
 * `<Hangup/>`, and nothing else. Throws, saying what is wrong.
 */
export function readFallbackTwiml(xml: string): ReadFallback {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
  const top = (parser.parse(xml) as XmlNode[]).filter((node) => {
    const name = elementName(node);
    return name !== undefined && name !== '?xml';
  });
  if (top.length !== 1 || elementName(top[0]!) !== 'Response') throw new Error('its root element is not <Response>');
  const verbs = (top[0]!.Response as XmlNode[]).filter((node) => elementName(node) !== undefined);
  const [say, end, ...rest] = verbs;
  if (!say || elementName(say) !== 'Say') throw new Error('it does not start with <Say>');
  const attributes = (say[':@'] as Record<string, string> | undefined) ?? {};
  const message = textOf(say.Say as XmlNode[]).trim();
  if (!message) throw new Error('its <Say> is empty');
  const result: ReadFallback = { message };
  if (attributes.voice) result.voice = attributes.voice;
  if (attributes.language) result.language = attributes.language;
  const endName = end ? elementName(end) : undefined;
  if (endName === 'Dial') {
    const number = textOf(end!.Dial as XmlNode[]).trim();
    if (!isE164(number)) throw new Error(`its <Dial> holds "${number}", not an E.164 number`);
    result.dial = number;
  } else if (endName !== 'Hangup') {
    throw new Error('<Say> is not followed by <Dial> or <Hangup/>');
  }
  if (rest.length) throw new Error(`it has more after <${endName}> (<${elementName(rest[0]!)}>)`);
  return result;
}

/**
 * The problems of a built assets folder against the plan: each planned file
 * present, well-formed fallback TwiML, and the very TwiML the settings give
 * (a file built from other settings would speak another message).
 */
export function builtFallbackProblems(
  plan: FallbackPlan,
  built: Readonly<Record<string, string>>,
  folder: string,
  settings: string,
): string[] {
  const problems: string[] = [];
  for (const asset of plan.assets) {
    const where = `${folder}/${asset.file}`;
    const text = built[asset.file];
    const serves = asset.routes.length === 1 ? `route ${asset.routes[0]}` : `routes ${asset.routes.join(', ')}`;
    if (text === undefined) {
      problems.push(`${where} is missing: the Voice Fallback URL of the numbers on ${serves} would answer 404 (run \`npm run build\`)`);
      continue;
    }
    try {
      readFallbackTwiml(text);
    } catch (error) {
      problems.push(`${where} is not fallback TwiML Twilio can run: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (text !== asset.twiml) problems.push(`${where} is not what ${settings} and the routes file give for ${serves}: rebuild`);
  }
  return problems;
}
