/**
 * What an agent asks for: one action on its own call, with the few values
 * that action takes. Every value is checked and bounded; a target is a name
 * from the configuration, never a number.
 */
import { bad, name, text } from '../api/parameters';
import { LIMITS } from '../config/rules';
import { TARGET_NAME, TARGET_NAME_RULE } from '../config/transfer-targets';
import { codePointLength, hasUnsafeCharacters } from '../util/sanitize';

export const ACTIONS = ['hangup', 'transfer', 'return-to-flow', 'add-human', 'cancel-human'] as const;
export type Action = (typeof ACTIONS)[number];

export interface ControlRequest {
  action: Action;
  /** transfer, add-human: a configured target's name. */
  target?: string;
  /** transfer: spoken to the caller first. */
  message?: string;
  /** return-to-flow: the flow's ConnectorResult. */
  result?: string;
  /** return-to-flow: values the agent collected, for the flow. */
  fields?: Record<string, string>;
}

export const MAX_FIELDS = 10;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
/** Query parameters of Studio's return URL a field may not replace. */
const RESERVED_FIELDS = new Set(['FlowEvent', 'ConnectorResult', 'ConnectorReason']);
const KNOWN = new Set(['action', 'target', 'message', 'result', 'fields']);

function readFields(raw: unknown): Record<string, string> | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw bad('fields', 'fields must be a JSON object of strings');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('fields', 'fields must be an object of strings');
  const entries = Object.entries(value);
  if (entries.length > MAX_FIELDS) throw bad('fields', `fields may hold at most ${MAX_FIELDS} entries`);
  const out: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (!FIELD_NAME.test(key) || RESERVED_FIELDS.has(key))
      throw bad(
        'fields',
        `fields.${key.slice(0, 32)} is not a usable name (letters, digits and _, starting with a letter; not ${[...RESERVED_FIELDS].join(', ')})`,
      );
    if (typeof item !== 'string' || codePointLength(item) > LIMITS.attribute || hasUnsafeCharacters(item)) {
      throw bad('fields', `fields.${key} must be a string of at most ${LIMITS.attribute} printable characters`);
    }
    out[key] = item;
  }
  return out;
}

export function readControlRequest(params: Record<string, unknown>): ControlRequest {
  for (const key of Object.keys(params))
    if (key !== 'request' && !KNOWN.has(key)) throw bad(key, `Unknown parameter ${key.slice(0, 32)} (known: ${[...KNOWN].join(', ')})`);
  const action = text(params, 'action', 32);
  if (action === undefined) throw bad('action', `action is required: one of ${ACTIONS.join(', ')}`, 'missing-parameter');
  if (!(ACTIONS as readonly string[]).includes(action)) throw bad('action', `action must be one of ${ACTIONS.join(', ')}`);
  const request: ControlRequest = { action: action as Action };

  const target = text(params, 'target', 32);
  if (target !== undefined && !TARGET_NAME.test(target)) throw bad('target', `target ${TARGET_NAME_RULE}`);
  if ((action === 'transfer' || action === 'add-human') && target === undefined)
    throw bad('target', `${action} needs a target: the name of a configured transfer target`, 'missing-parameter');
  if (target !== undefined) request.target = target;

  const message = text(params, 'message', LIMITS.speech);
  if (message !== undefined) request.message = message;
  const result = name(params, 'result', 64);
  if (result !== undefined) request.result = result;
  const fields = readFields(params.fields);
  if (fields) request.fields = fields;
  return request;
}
