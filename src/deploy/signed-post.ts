/**
 * A form POST signed as Twilio signs its requests (X-Twilio-Signature over
 * the URL and the sorted parameters), for the tools that call the service
 * the way Twilio would: npm run call, npm run ring.
 */
import twilio from 'twilio';

export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

export async function postSigned(url: string, params: Record<string, string>, authToken: string): Promise<Answer> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params),
        'user-agent': 'TwilioProxy/1.1',
      },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(20_000),
    });
  } catch (error) {
    const e = error as { cause?: { code?: string }; message?: string };
    // Not the user's arguments: one line and exit 1 (./cli).
    throw new Error(`could not reach ${url}: ${e.cause?.code ?? e.message} (is npm start running?)`, { cause: error });
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() };
}
