/**
 * Participant attributes the service sets. `twilio.*` describe the call and
 * `sip.*` are LiveKit's own for phone participants: neither may come from a
 * request or a route, so that an agent can trust them.
 */

export function isReservedAttribute(key: string): boolean {
  return key.startsWith('twilio.') || key.startsWith('sip.');
}

/** Drops empty values: LiveKit attributes are strings, and "" would only mislead an agent. */
export function compactAttributes(attributes: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) if (value) out[key] = value;
  return out;
}
