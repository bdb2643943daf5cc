/**
 * What every call-control action is: the parameters it takes, whether it
 * still applies once the call is over, and the work. Each action lives in a
 * file of its own; ./index holds the one table of them.
 */
import type { Stop } from '../../outbound/steps';
import { errorReply, jsonReply } from '../../twilio/reply';
import type { Budget } from '../../util/budget';
import type { ControlDependencies } from '../dependencies';
import type { RoomCall } from '../find-call';
import type { ControlRequest, Parameter } from '../request';
import type { ControlSettings } from '../settings';

/** What the action did: the reply and the log line's outcome. */
export type Done = Stop;

/** Everything an action works with: the room, its call, and the service's settings and clients. */
export interface ActionContext {
  settings: ControlSettings;
  room: string;
  /** The caller's leg; once the caller is gone, a person's leg left in the room. */
  call: RoomCall;
  /** Every bound leg in the room: the caller's, and a person's after a join. */
  legs: RoomCall[];
  deps: ControlDependencies;
  budget: Budget;
}

export interface CallAction {
  /** The parameters it accepts; any other is refused, naming it. */
  takes: readonly Parameter[];
  /** Those it cannot do without. */
  needs?: readonly Parameter[];
  /** Whether it still applies to a call that is over (hang up, cancel). */
  afterHangup?: boolean;
  /** It only reads: not kept among the call's actions for its summary. */
  readOnly?: boolean;
  run(context: ActionContext, request: ControlRequest): Promise<Done>;
}

export const ok = (body: Record<string, unknown>, outcome: string): Done => ({ reply: jsonReply(200, body), fields: { outcome } });

export const refuse = (status: number, code: string, message: string, extra: { field?: string; targets?: string[] } = {}): Done => ({
  reply: errorReply(status, { code, message, ...extra }),
  fields: { outcome: 'refused', reason: code },
});
