/**
 * Signs a webhook as the Standard Webhooks spec says, so that its libraries
 * (and a few lines of any language) verify it: HMAC-SHA256, keyed with the
 * secret's decoded bytes, over `{id}.{timestamp}.{body}`, sent base64 as
 * `webhook-signature: v1,<signature>`, with `webhook-id` and
 * `webhook-timestamp` (Unix seconds) beside it. The receiver rejects a
 * timestamp far from its clock (replay) and counts each id once.
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
import { createHmac } from 'node:crypto';

export function webhookSignature(key: Buffer, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export function webhookHeaders(key: Buffer, id: string, timestamp: number, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': webhookSignature(key, id, timestamp, body),
  };
}
