/**
 * Each row's IdempotencyKey, made from the campaign and the row so that
 * the same command, run again, sends the same keys: `outbound` places one
 * call per key for 10 minutes and answers a resend with the first call.
 * A new key is made only when a new call is meant (the next attempt after
 * busy or no-answer) or when Twilio's call list has shown that the old key
 * placed nothing (generation). Up to 128 of `A-Z a-z 0-9 _ . : @ + -`, as
 * the service takes them.
 */
import { createHash } from 'node:crypto';

export function idempotencyKey(campaign: string, row: string, attempt: number, gen: number): string {
  const slug = campaign.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 32) || 'campaign';
  const digest = createHash('sha256').update(`${campaign}\u0000${row}`).digest('hex').slice(0, 24);
  return `cmp.${slug}.${digest}.a${attempt}.g${gen}`;
}
