/** The one table of what an agent can do to its call: a name, and the action of that name. */
import type { CallAction } from './action';
import { addHuman } from './add-human';
import { cancelHuman } from './cancel-human';
import { hangup } from './hangup';
import { returnToFlow } from './return-to-flow';
import { transfer } from './transfer';

export const ACTIONS = {
  hangup,
  transfer,
  'return-to-flow': returnToFlow,
  'add-human': addHuman,
  'cancel-human': cancelHuman,
} as const satisfies Record<string, CallAction>;

export type ActionName = keyof typeof ACTIONS;

export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

/** The action of that name; own keys only, so `constructor` or `toString` is no action. */
export function actionNamed(name: string): CallAction | undefined {
  return Object.hasOwn(ACTIONS, name) ? (ACTIONS as Record<string, CallAction>)[name] : undefined;
}
