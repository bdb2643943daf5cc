/**
 * Whether calls are recorded, read once where a request enters. Recording
 * is off unless the operator says otherwise: `always` records every call
 * from its start (inbound with `<Start><Recording>`, outbound with calls.create's
 * `Record`), after the notice when one is set; `on-request` lets the agent
 * start a recording mid-call (the Recordings API), having asked for consent
 * itself. Either way the agent may pause and resume. A route may set its own.
 */
import { Env, EnvReader, memoizedRead } from '../config/env-reader';
import { finish, Read } from '../config/settings';
import { LIMITS } from '../config/rules';
import type { Route } from '../config/route';
import { clean } from '../util/sanitize';

export type RecordMode = 'never' | 'always' | 'on-request';
export const RECORD_MODES: readonly RecordMode[] = ['never', 'always', 'on-request'];
export type RecordingChannels = 'dual' | 'mono';

export interface RecordingSettings {
  mode: RecordMode;
  /** Spoken to the caller before the call connects, when every call is recorded; empty for none. */
  notice: string;
  /** `dual`: each party on a channel of its own. */
  channels: RecordingChannels;
}

export const readRecordingSettings = memoizedRead(
  ['RECORD_CALLS', 'RECORDING_NOTICE', 'RECORDING_CHANNELS'],
  (env: Env): Read<RecordingSettings> => {
    const reader = new EnvReader(env);
    return finish(reader, {
      mode: reader.oneOf<RecordMode>('RECORD_CALLS', RECORD_MODES, 'never'),
      notice: clean(reader.text('RECORDING_NOTICE'), LIMITS.speech),
      channels: reader.oneOf<RecordingChannels>('RECORDING_CHANNELS', ['dual', 'mono'], 'dual'),
    });
  },
);

export function recordingForRoute(base: RecordingSettings, route: Route): RecordingSettings {
  return { ...base, mode: route.record ?? base.mode, notice: route.recordingNotice ?? base.notice };
}
