/**
 * What the campaign asks Twilio directly, with the account's credentials
 * from .env: a placed call's status (until it is final), and the account's
 * call list, which settles a request whose outcome was lost once its key
 * can no longer (../campaign/reconcile).
 */

export interface ListedCall {
  sid: string;
  to: string;
  from: string;
  status: string;
  direction: string;
  dateCreated: Date | null;
}

export interface CallLookup {
  /** The call's status, or 'not-found'. Throws on any other failure. */
  fetchStatus(callSid: string): Promise<string | 'not-found'>;
  /** Calls to `to`: started after `startedAfter`, or with `status`. */
  list(filter: { to: string; startedAfter?: Date; status?: string; limit: number }): Promise<ListedCall[]>;
}

/** Final call statuses (Call resource `status`). */
export const FINAL_STATUSES = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

/** The parts of the twilio client used here. */
export interface TwilioCallsApi {
  calls: {
    (sid: string): { fetch(): Promise<{ status: string }> };
    list(
      options: Record<string, unknown>,
    ): Promise<{ sid: string; to: string; from: string; status: string; direction: string; dateCreated: Date | null }[]>;
  };
}

export function twilioCallLookup(client: TwilioCallsApi): CallLookup {
  return {
    async fetchStatus(callSid) {
      try {
        return (await client.calls(callSid).fetch()).status;
      } catch (error) {
        if ((error as { status?: number }).status === 404) return 'not-found';
        throw error;
      }
    },
    async list({ to, startedAfter, status, limit }) {
      const options: Record<string, unknown> = { to, limit, pageSize: Math.min(limit, 1000) };
      if (startedAfter) options.startTimeAfter = startedAfter;
      if (status) options.status = status;
      const calls = await client.calls.list(options);
      return calls.map((c) => ({
        sid: c.sid,
        to: c.to,
        from: c.from,
        status: c.status,
        direction: c.direction,
        dateCreated: c.dateCreated ?? null,
      }));
    },
  };
}
