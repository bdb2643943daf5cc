/** What call control works with: outbound's clients (it places calls too), and call updates. */
import type { OutboundDependencies, TwilioClient } from '../outbound/steps';
import { outboundDependencies } from '../outbound/steps';

/** The part of the twilio client that changes a live call. */
export interface TwilioCallUpdates {
  calls: (sid: string) => { update(params: Record<string, string>): Promise<{ sid: string; status: string }> };
}

export interface ControlDependencies extends Omit<OutboundDependencies, 'twilio'> {
  twilio: (timeoutMs: number) => TwilioClient & TwilioCallUpdates;
}

export function controlDependencies(twilio: ControlDependencies['twilio']): ControlDependencies {
  return { ...outboundDependencies(twilio), twilio };
}
