/**
 * What `npm run bind` would do to each number: where its calls go now, where
 * they will go, and whether that change may be made. Pure functions of the
 * numbers as Twilio lists them, the routes and the flags; ./bind does the
 * talking.
 */
import type { RouteTable } from '../config/routes';
import { DEFAULT_ROUTE } from '../config/route';
import { DEFAULT_FALLBACK_ASSET, routeFallbackAsset } from './fallback-assets';

/** The six voice settings bind manages on a number, by the twilio client's names. */
export const FIELDS = [
  'voiceUrl',
  'voiceMethod',
  'statusCallback',
  'statusCallbackMethod',
  'voiceFallbackUrl',
  'voiceFallbackMethod',
] as const;
export type Field = (typeof FIELDS)[number];

/**
 * A number's voice configuration: the six settings ("" when unset) and the
 * TwiML App that, when set, answers its calls instead of every voice URL
 * (twilio-oai UpdateIncomingPhoneNumber: "If a voice_application_sid is
 * present, we ignore all of the voice urls").
 */
export type Voice = Record<Field | 'voiceApplicationSid', string>;

export const LABELS: Record<keyof Voice, string> = {
  voiceUrl: 'voice URL',
  voiceMethod: 'voice method',
  statusCallback: 'status callback',
  statusCallbackMethod: 'status method',
  voiceFallbackUrl: 'fallback URL',
  voiceFallbackMethod: 'fallback method',
  voiceApplicationSid: 'voice app',
};

/** The settings that are addresses calls are sent to, and so can belong to someone else. */
const URL_FIELDS = ['voiceUrl', 'statusCallback', 'voiceFallbackUrl'] as const;

/** A number as the twilio client lists it (IncomingPhoneNumbers). */
export interface AccountNumber {
  sid: string;
  phoneNumber: string;
  voiceUrl: string | null;
  voiceMethod: string | null;
  statusCallback: string | null;
  statusCallbackMethod: string | null;
  voiceFallbackUrl: string | null;
  voiceFallbackMethod: string | null;
  voiceApplicationSid?: string | null;
  trunkSid?: string | null;
}

export function readVoice(n: AccountNumber): Voice {
  return {
    voiceUrl: n.voiceUrl ?? '',
    voiceMethod: (n.voiceMethod ?? '').toUpperCase(),
    statusCallback: n.statusCallback ?? '',
    statusCallbackMethod: (n.statusCallbackMethod ?? '').toUpperCase(),
    voiceFallbackUrl: n.voiceFallbackUrl ?? '',
    voiceFallbackMethod: (n.voiceFallbackMethod ?? '').toUpperCase(),
    voiceApplicationSid: n.voiceApplicationSid ?? '',
  };
}

/** Where bind points numbers. */
export interface Destination {
  /** The service: `https://<service>.twil.io`, no path. */
  origin: string;
  /** A Studio flow that answers calls instead of `/incoming`. */
  flow?: { accountSid: string; flowSid: string };
  /**
   * The voice fallback: the service's static TwiML asset for the number's
   * route (`byRoute`: route name to asset file, as the build makes them), an
   * external URL, or left as it is.
   */
  fallback: { kind: 'asset'; byRoute?: Record<string, string> } | { kind: 'url'; url: string } | { kind: 'keep' };
}

/**
 * A Studio flow's webhook URL, which a number's "A call comes in" names to
 * start the flow: Studio's Trigger (Start) widget, "Webhook URL: The URL for
 * this Studio Flow. https://webhooks.twilio.com/v1/Accounts/{account_sid}/Flows/{flow_sid}"
 * (https://www.twilio.com/docs/studio/widget-library/trigger-start).
 */
export function flowWebhookUrl(accountSid: string, flowSid: string): string {
  return `https://webhooks.twilio.com/v1/Accounts/${accountSid}/Flows/${flowSid}`;
}

/**
 * The static TwiML the service deploys for a route's fallback: the build's
 * own choice when known (../deploy/fallback-assets: a route whose fallback
 * TwiML is the default's shares `fallback.xml`), else `fallback.xml` for the
 * default route and `fallback-<route>.xml` for a route.
 */
function fallbackAsset(route: string, byRoute: Record<string, string> = {}): string {
  return byRoute[route] ?? (route === DEFAULT_ROUTE.name ? DEFAULT_FALLBACK_ASSET : routeFallbackAsset(route));
}

/**
 * Where a number should point. With a flow, its status callback is the flow's
 * URL too: Studio ends an execution on the call's final status callback, and
 * "If your use case requires setting the Status Callback URL to your own
 * application, your application must respond to that callback with a 302"
 * back to the flow (Twilio, "Understanding and Avoiding Stuck Executions in
 * Twilio Studio", support.twilio.com/hc/en-us/articles/360019383714), which
 * `/status` does not do.
 */
export function targetVoice(current: Voice, route: string, destination: Destination): Voice {
  const flow = destination.flow && flowWebhookUrl(destination.flow.accountSid, destination.flow.flowSid);
  const fallback = destination.fallback;
  return {
    voiceUrl: flow ?? `${destination.origin}/incoming`,
    voiceMethod: 'POST',
    statusCallback: flow ?? `${destination.origin}/status`,
    statusCallbackMethod: 'POST',
    voiceFallbackUrl:
      fallback.kind === 'keep'
        ? current.voiceFallbackUrl
        : fallback.kind === 'url'
          ? fallback.url
          : `${destination.origin}/${fallbackAsset(route, fallback.byRoute)}`,
    voiceFallbackMethod: fallback.kind === 'keep' ? current.voiceFallbackMethod : 'GET',
    // An app would answer instead of every URL above: binding clears it.
    voiceApplicationSid: '',
  };
}

/** A setting that points somewhere bind does not own, and would be replaced. */
export interface Foreign {
  field: keyof Voice;
  value: string;
}

export type Verdict =
  /** Not a number on this account: reported, never bought. */
  | { kind: 'missing' }
  /** Already exactly as wanted: no request. */
  | { kind: 'same' }
  | { kind: 'change'; replacing: Foreign[] }
  | { kind: 'refused'; foreign: Foreign[]; blocked?: string };

export interface NumberPlan {
  number: string;
  /** Named by --number (a missing one is then an error), or found in the routes file and OUTBOUND_CALLER_IDS. */
  named: boolean;
  route: string;
  sid?: string;
  now?: Voice;
  after?: Voice;
  verdict: Verdict;
  notes: string[];
}

/** The settings to send: only those that change, by the twilio client's names. */
export function changes(now: Voice, after: Voice): Partial<Voice> {
  const out: Partial<Voice> = {};
  for (const key of [...FIELDS, 'voiceApplicationSid'] as const) {
    // Twilio has a method for every URL; one unknown (""), bind leaves alone.
    if (now[key] !== after[key] && !(after[key] === '' && key.endsWith('Method'))) out[key] = after[key];
  }
  return out;
}

/**
 * Whether a URL is the service's (same origin), or Twilio's own demo TwiML
 * (demo.twilio.com: what a number answers with before anyone configured it),
 * which bind may replace without asking.
 */
function replaceable(value: string, origin: string): boolean {
  try {
    const url = new URL(value);
    return url.origin === origin || url.hostname === 'demo.twilio.com';
  } catch {
    return false;
  }
}

/**
 * The settings of `now` that `after` would replace and that are not the
 * service's: a URL of another origin (that bind did not set itself, by the
 * undo record's `ours`), a TwiML App.
 */
export function foreignSettings(now: Voice, after: Voice, origin: string, ours: Partial<Voice> = {}): Foreign[] {
  const foreign: Foreign[] = [];
  for (const field of URL_FIELDS) {
    const value = now[field];
    if (!value || value === after[field] || value === ours[field] || replaceable(value, origin)) continue;
    foreign.push({ field, value });
  }
  if (
    now.voiceApplicationSid &&
    now.voiceApplicationSid !== after.voiceApplicationSid &&
    now.voiceApplicationSid !== ours.voiceApplicationSid
  )
    foreign.push({ field: 'voiceApplicationSid', value: now.voiceApplicationSid });
  return foreign;
}

/** A number on a SIP trunk takes its calls through the trunk, whatever its URLs say: bind never takes it off one. */
export function trunkBlock(n: AccountNumber): string | undefined {
  if (!n.trunkSid) return undefined;
  return `it is on SIP trunk ${n.trunkSid}, which takes its calls instead of any URL: remove it from the trunk first (Console: Elastic SIP Trunking > Trunks > Numbers)`;
}

export function verdictFor(now: Voice, after: Voice, foreign: Foreign[], replaceForeign: boolean, blocked?: string): Verdict {
  if (blocked) return { kind: 'refused', foreign, blocked };
  if (Object.keys(changes(now, after)).length === 0) return { kind: 'same' };
  if (foreign.length > 0 && !replaceForeign) return { kind: 'refused', foreign };
  return { kind: 'change', replacing: foreign };
}

/** Numbers bind looks after without --number: the routes' own numbers, then the caller IDs, each once. */
export function configuredNumbers(routes: RouteTable, callerIds: string): string[] {
  const out = new Set<string>();
  for (const route of routes.routes) for (const number of route.numbers) out.add(number);
  for (const id of callerIds.split(',')) if (id.trim()) out.add(id.trim());
  return [...out];
}

const show = (value: string) => value || '(not set)';

/** The plan as plain text: per number a header, now and after for each setting, and what stands in the way. */
export function formatPlan(plans: NumberPlan[], mode: 'bind' | 'undo'): string[] {
  // The arrows line up after the longest current value.
  const width = Math.max(12, ...plans.flatMap((p) => (p.now ? Object.values(p.now).map((v) => show(v).length) : [])));
  const lines: string[] = [];
  for (const p of plans) {
    const route = p.route === 'default' ? 'default route' : `route "${p.route}"`;
    const head = `${p.number}  ${p.sid ?? ''}${p.sid ? '  ' : ''}${route}`;
    const v = p.verdict;
    if (v.kind === 'missing') {
      lines.push(
        mode === 'bind'
          ? `${p.number}  not on this account: left alone; bind never buys numbers${p.named ? '' : ' (a verified caller ID needs no binding)'}`
          : `${p.number}  not on this account any more: left alone`,
      );
    } else {
      const status =
        v.kind === 'same'
          ? mode === 'bind'
            ? 'already bound'
            : 'already restored'
          : v.kind === 'change'
            ? mode === 'bind'
              ? 'will change'
              : 'will restore'
            : 'REFUSED: left unchanged';
      lines.push(`${head}: ${status}`);
      for (const key of [...FIELDS, 'voiceApplicationSid'] as const) {
        const now = p.now![key];
        const after = p.after![key];
        if (key === 'voiceApplicationSid' && !now && !after) continue;
        const label = LABELS[key].padEnd(16);
        lines.push(
          now === after || (after === '' && key.endsWith('Method'))
            ? `  ${label}${show(now).padEnd(width)}      (unchanged)`
            : `  ${label}${show(now).padEnd(width)}  ->  ${show(after)}`,
        );
      }
    }
    if (v.kind === 'change')
      for (const f of v.replacing)
        lines.push(`  ! replacing ${LABELS[f.field]} ${f.value}, which is not this service's (--replace-foreign)`);
    if (v.kind === 'refused') {
      if (v.blocked) lines.push(`  ! not changed: ${v.blocked}`);
      for (const f of v.foreign)
        lines.push(
          mode === 'bind'
            ? `  ! ${LABELS[f.field]} ${f.value} is not this service's: pass --replace-foreign to replace it${f.field === 'voiceFallbackUrl' ? ' (or --no-fallback to keep it)' : ''}`
            : `  ! ${LABELS[f.field]} was changed to ${f.value} after bind set it: pass --replace-foreign to restore over it`,
        );
    }
    for (const note of p.notes) lines.push(`  note: ${note}`);
    lines.push('');
  }
  return lines;
}

/** "3 numbers: 1 to change, 1 already bound, 1 not on this account". */
export function summarize(plans: NumberPlan[], mode: 'bind' | 'undo'): string {
  const count = (kind: Verdict['kind']) => plans.filter((p) => p.verdict.kind === kind).length;
  const parts = [
    [count('change'), mode === 'bind' ? 'to change' : 'to restore'],
    [count('same'), mode === 'bind' ? 'already bound' : 'already restored'],
    [count('refused'), 'refused'],
    [count('missing'), 'not on this account'],
  ]
    .filter(([n]) => n)
    .map(([n, what]) => `${n} ${what}`);
  return `${plans.length} number${plans.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
