/**
 * The URL Twilio calls this service at, which is what its signatures cover.
 * Deployed, that is `https://{DOMAIN_NAME}`, set by Twilio. Locally
 * twilio-run serves `http://localhost:PORT`, but a real phone reaches it
 * through a tunnel (ngrok, cloudflared), so Twilio signs the tunnel's URL:
 * PUBLIC_BASE_URL names it. It is honoured only when not deployed, so nothing
 * a request or a variable says can change what a deployed function checks.
 */
import type { Env } from '../config/env-reader';

/**
 * Deployed: Twilio sets SERVICE_SID as a plain value. twilio-run defines it
 * as a getter that prints a warning on every read, so the property is
 * inspected, never read.
 */
export function isDeployed(env: Env): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(env, 'SERVICE_SID');
  return descriptor !== undefined && 'value' in descriptor && typeof descriptor.value === 'string' && descriptor.value.length > 0;
}

const LOCAL = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/** A tunnel's origin as PUBLIC_BASE_URL gives it (https, no path), or undefined. */
export function tunnelOrigin(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.trim()) return undefined;
  try {
    const url = new URL(value.trim());
    if (url.protocol !== 'https:' || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username)
      return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

/** The origin Twilio calls: https://{DOMAIN_NAME}, http for the local dev server, or locally the tunnel. */
export function publicOrigin(env: Env): string {
  if (!isDeployed(env)) {
    const tunnel = tunnelOrigin(env.PUBLIC_BASE_URL);
    if (tunnel) return tunnel;
  }
  const domain = String(env.DOMAIN_NAME ?? '');
  return `${LOCAL.test(domain) ? 'http' : 'https'}://${domain}`;
}

/** The URL Twilio calls a function at. */
export function functionUrlOf(env: Env): string {
  return `${publicOrigin(env)}${String(env.PATH ?? '')}`;
}
