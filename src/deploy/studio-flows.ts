/**
 * `npm run studio`: the flows in studio/*.json, with the deployed service's
 * domain and SIDs filled in, validated by Studio (POST /v2/Flows/Validate)
 * and then created or updated through the Studio v2 Flows API.
 *
 * The files keep their placeholders so they stay importable by hand:
 * `https://YOUR-SERVICE-DOMAIN/<path>` in a widget's `url`, and for a Run
 * Function widget the `ZSxxx…`, `ZExxx…` and `ZHxxx…` of its `service_sid`,
 * `environment_sid` and `function_sid`. A flow is found again by its friendly
 * name, `<file> (<service>, <environment>)`, so a second run updates it
 * rather than creating another.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DeployedService, deployCommand, findDeployedService, NotDeployedError, ServerlessApi, ServiceTarget } from './studio-service';

export const DOMAIN_PLACEHOLDER = 'YOUR-SERVICE-DOMAIN';
const PLACEHOLDER_URL = `https://${DOMAIN_PLACEHOLDER}`;
/** `ZS`, `ZE` or `ZH` followed by 32 x: the files' stand-ins for real SIDs. */
const SID_PLACEHOLDER = /Z[SEH]x{32}/;

export type FlowStatus = 'draft' | 'published';

export interface FlowState {
  name: string;
  type: string;
  transitions: { event: string; next?: string }[];
  properties: Record<string, unknown>;
  [key: string]: unknown;
}

export interface FlowDefinition {
  description?: string;
  states: FlowState[];
  initial_state: string;
  [key: string]: unknown;
}

export interface FlowFile {
  /** As shown to the user, e.g. studio/inbound-to-livekit.json. */
  file: string;
  definition: FlowDefinition;
}

export interface FlowRecord {
  sid: string;
  friendlyName: string;
  revision: number;
  status: string;
}

interface FlowParams {
  friendlyName: string;
  status: FlowStatus;
  definition: FlowDefinition;
  commitMessage: string;
}

/** The parts of the twilio client's Studio v2 API used here. */
export interface StudioFlowsApi {
  studio: {
    v2: {
      flows: {
        (sid: string): { update(params: FlowParams): Promise<FlowRecord> };
        list(): Promise<FlowRecord[]>;
        create(params: FlowParams): Promise<FlowRecord>;
      };
      flowValidate: { update(params: FlowParams): Promise<{ valid: boolean }> };
    };
  };
}

export type StudioApi = StudioFlowsApi & ServerlessApi;

/** Studio refused a definition (or a request): the message carries its errors. */
export class FlowRefusedError extends Error {
  override name = 'FlowRefusedError';
}

/** Reads every *.json in `dir`, sorted, as flow definitions. */
export function readFlowFiles(dir: string, shownAs = dir): FlowFile[] {
  const names = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort();
  return names.map((name) => {
    const file = path.join(shownAs, name);
    let definition: unknown;
    try {
      definition = JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
    } catch (error) {
      throw new FlowRefusedError(`${file} is not JSON: ${(error as Error).message}`);
    }
    const d = definition as Partial<FlowDefinition> | null;
    if (!d || typeof d !== 'object' || !Array.isArray(d.states) || typeof d.initial_state !== 'string') {
      throw new FlowRefusedError(`${file} is not a Studio flow definition (no states and initial_state)`);
    }
    return { file, definition: d as FlowDefinition };
  });
}

/** The friendly name a file's flow gets, one per service and environment. */
export function flowName(file: string, service: DeployedService): string {
  return `${path.basename(file, '.json')} (${service.serviceName}, ${service.environmentLabel})`;
}

/** Where in a definition a value sits, for messages: states[1].properties.url */
function placeholdersIn(value: unknown, at: string, found: string[]): string[] {
  if (typeof value === 'string') {
    if (value.includes(DOMAIN_PLACEHOLDER) || SID_PLACEHOLDER.test(value)) found.push(at);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => placeholdersIn(v, `${at}[${i}]`, found));
  } else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) placeholdersIn(v, at ? `${at}.${key}` : key, found);
  }
  return found;
}

/**
 * The definition with the service filled in; the file's own object is left
 * as it was. Every widget `url` on the placeholder domain gets the service's
 * domain, and must name a deployed function; Run Function widgets also get
 * the service, environment and function SIDs. The description's hand-import
 * instruction (the sentence naming the placeholder) is dropped.
 */
export function fillPlaceholders(flow: FlowFile, service: DeployedService): FlowDefinition {
  const definition = structuredClone(flow.definition);
  if (typeof definition.description === 'string') {
    definition.description = definition.description
      .split(/(?<=\.)\s+/)
      .filter((sentence) => !sentence.includes(DOMAIN_PLACEHOLDER))
      .join(' ');
  }
  for (const state of definition.states) {
    const url = state.properties?.url;
    if (typeof url !== 'string' || !url.startsWith(`${PLACEHOLDER_URL}/`)) continue;
    const rest = url.slice(PLACEHOLDER_URL.length);
    const functionPath = rest.split(/[?#]/)[0]!;
    const functionSid = service.functions.get(functionPath);
    if (!functionSid) {
      throw new NotDeployedError(
        `${flow.file}: widget ${state.name} calls ${functionPath}, which service ${service.serviceName} does not have: ` +
          `deploy the current build first with ${deployCommand(service.environmentSuffix)}`,
      );
    }
    state.properties.url = `https://${service.domainName}${rest}`;
    if (state.type === 'run-function') {
      state.properties.service_sid = service.serviceSid;
      state.properties.environment_sid = service.environmentSid;
      state.properties.function_sid = functionSid;
    }
  }
  const left = placeholdersIn(definition, '', []);
  if (left.length) {
    throw new FlowRefusedError(
      `${flow.file}: placeholders left at ${left.join(', ')}: only a widget's url on https://${DOMAIN_PLACEHOLDER}/… ` +
        '(and a Run Function widget calling one) is filled in',
    );
  }
  return definition;
}

export interface FlowPlan {
  file: string;
  friendlyName: string;
  /** The flow to update; undefined when one is created. */
  existing?: FlowRecord;
  params: FlowParams;
  /** Whether the flow answers calls to a number (its trigger's incomingCall leads somewhere). */
  inbound: boolean;
  /** Whether the flow is started through the REST API (incomingRequest leads somewhere). */
  restTriggered: boolean;
}

export interface FlowResult extends FlowPlan {
  action: 'created' | 'updated';
  sid: string;
  revision: number;
}

export interface StudioOptions {
  status?: FlowStatus;
  /** Look everything up, change nothing: not even validation is posted. */
  dryRun?: boolean;
}

export interface StudioRun {
  service: DeployedService;
  plans: FlowPlan[];
  /** Empty on a dry run. */
  results: FlowResult[];
}

function triggers(definition: FlowDefinition, event: string): boolean {
  const trigger = definition.states.find((s) => s.name === definition.initial_state);
  return Boolean(trigger?.transitions?.some((t) => t.event === event && t.next));
}

/**
 * A Twilio API's refusal as one message: its code and text, then each of
 * Studio's definition errors with where it is. Anything that is not an
 * answer from Twilio (a network failure) is left as it was.
 */
function refusal(who: string, what: string, error: unknown): unknown {
  const e = error as { status?: unknown; code?: number; message?: string; details?: { errors?: unknown[] } } | null;
  if (typeof e?.status !== 'number') return error;
  if (e.status === 401) return new FlowRefusedError(`Twilio refused ACCOUNT_SID and AUTH_TOKEN (${e.code ?? 20003}): check them in .env`);
  const details = (e.details?.errors ?? []).map((d) => {
    const item = d as { message?: unknown; property_path?: unknown };
    return `\n  ${typeof item.property_path === 'string' ? `${item.property_path}: ` : ''}${String(item.message ?? JSON.stringify(d))}`;
  });
  const code = e.code ? ` (${e.status} ${e.code})` : ` (HTTP ${e.status})`;
  return new FlowRefusedError(`${who} refused ${what}${code}: ${e.message ?? 'no message'}${details.join('')}`);
}

/** Fills in the flows and plans, from the account's flows, a create or an update for each. */
export async function planFlows(
  api: StudioApi,
  service: DeployedService,
  files: FlowFile[],
  options: StudioOptions = {},
): Promise<FlowPlan[]> {
  const flows = await api.studio.v2.flows.list().catch((error: unknown) => {
    throw refusal('Studio', 'the flow list', error);
  });
  const commitMessage = `npm run studio: ${service.serviceName} ${service.environmentLabel} at ${service.domainName}`;
  return files.map((file) => {
    const friendlyName = flowName(file.file, service);
    const same = flows.filter((f) => f.friendlyName === friendlyName);
    if (same.length > 1) {
      throw new FlowRefusedError(
        `${same.length} flows are named "${friendlyName}" (${same.map((f) => f.sid).join(', ')}): delete or rename all but one, then run again`,
      );
    }
    const definition = fillPlaceholders(file, service);
    return {
      file: file.file,
      friendlyName,
      existing: same[0],
      params: { friendlyName, status: options.status ?? 'published', definition, commitMessage },
      inbound: triggers(definition, 'incomingCall'),
      restTriggered: triggers(definition, 'incomingRequest'),
    };
  });
}

/**
 * Validates every flow first; only when Studio accepts them all are they
 * created or updated, so a refusal changes nothing.
 */
export async function deployStudioFlows(
  api: StudioApi,
  service: DeployedService,
  files: FlowFile[],
  options: StudioOptions = {},
): Promise<StudioRun> {
  const plans = await planFlows(api, service, files, options);
  if (options.dryRun) return { service, plans, results: [] };
  for (const plan of plans) {
    const answer = await api.studio.v2.flowValidate.update(plan.params).catch((error: unknown) => {
      throw refusal('Studio', plan.file, error);
    });
    if (!answer.valid) throw new FlowRefusedError(`Studio did not find ${plan.file} valid`);
  }
  const results: FlowResult[] = [];
  for (const plan of plans) {
    const flows = api.studio.v2.flows;
    const flow = await (plan.existing ? flows(plan.existing.sid).update(plan.params) : flows.create(plan.params)).catch(
      (error: unknown) => {
        throw refusal('Studio', plan.file, error);
      },
    );
    results.push({ ...plan, action: plan.existing ? 'updated' : 'created', sid: flow.sid, revision: flow.revision });
  }
  return { service, plans, results };
}

/** The whole of `npm run studio`: the deployed service, then its flows. */
export async function runStudio(api: StudioApi, target: ServiceTarget, files: FlowFile[], options: StudioOptions = {}): Promise<StudioRun> {
  const service = await findDeployedService(api, target).catch((error: unknown) => {
    if (error instanceof NotDeployedError) throw error;
    throw refusal('Twilio Serverless', 'the service lookup', error);
  });
  return deployStudioFlows(api, service, files, options);
}

const E164 = /^\+[1-9]\d{6,14}$/;

/** What a run did (or, on a dry run, would send), then how to use the flows. */
export function formatStudioRun(run: StudioRun, options: { number?: string; dryRun?: boolean } = {}): string {
  const { service } = run;
  const lines = [
    `service ${service.serviceName} (${service.serviceSid}), environment ${service.environmentLabel} (${service.environmentSid}): https://${service.domainName}`,
  ];
  if (options.dryRun) {
    for (const plan of run.plans) {
      const target = plan.existing
        ? `POST /v2/Flows/${plan.existing.sid} (update, now revision ${plan.existing.revision})`
        : 'POST /v2/Flows (create)';
      lines.push(
        '',
        `${plan.file}: would POST /v2/Flows/Validate, then ${target} with`,
        `  FriendlyName=${plan.params.friendlyName}`,
        `  Status=${plan.params.status}`,
        `  CommitMessage=${plan.params.commitMessage}`,
        `  Definition=${JSON.stringify(plan.params.definition, null, 2).replace(/\n/g, '\n  ')}`,
      );
    }
    lines.push('', 'dry run: nothing was sent');
    return lines.join('\n');
  }
  for (const result of run.results) {
    lines.push(
      `${result.action.padEnd(7)} ${result.sid}  "${result.friendlyName}" revision ${result.revision} (${result.params.status}), from ${result.file}`,
    );
  }
  const number = options.number && E164.test(options.number) ? options.number : '+1XXXXXXXXXX';
  for (const result of run.results.filter((r) => r.inbound)) {
    lines.push('', `Bind a number to ${result.file}'s flow:`, `  npm run bind -- --flow ${result.sid} --number ${number}`);
  }
  for (const result of run.results.filter((r) => r.restTriggered && !r.inbound)) {
    lines.push(
      '',
      `Start ${result.file}'s flow, which calls --to and puts the call in a LiveKit room:`,
      `  twilio api:studio:v2:flows:executions:create --flow-sid ${result.sid} --to +1XXXXXXXXXX --from ${number} --parameters '{"agent":"my-agent"}'`,
    );
  }
  return lines.join('\n');
}
