import { API_SECRET } from './livekit-stand-in';
import { AUTH_TOKEN } from './runtime';

/** Collects console output for the current test (spies reset by the suite's afterEach). */
export function captureConsole(into: string[]): void {
  into.length = 0;
  for (const method of ['log', 'error', 'warn'] as const) {
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void into.push(String(args[0])));
  }
}

/** Logs may never hold the LiveKit secret, the auth token, a JWT or a stream URL. */
export function expectNoSecrets(text: string): void {
  expect(text).not.toContain(API_SECRET);
  expect(text).not.toContain(AUTH_TOKEN);
  expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
  expect(text).not.toContain('connector.livekit.test/twilio/');
}
