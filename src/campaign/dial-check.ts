/**
 * Each row checked exactly as `outbound` would check it, with the
 * service's own code and the configuration the deploy uploads (.env, the
 * routes file): the configuration (readOutboundConfig), the route of the
 * caller ID, the route's destinations laid over the environment's
 * (outboundForRoute), then every parameter, the destination's country,
 * number type and blocked ranges, and the caller ID (readOutboundRequest),
 * and the recording notice that url mode cannot play. This is the order of
 * `prepare` in src/outbound/place-call.ts, which is not exported; what it
 * decides is decided here by the same functions.
 */
import { RequestError } from '../api/parameters';
import type { Env } from '../config/env-reader';
import { outboundForRoute } from '../config/route-settings';
import type { LoadedRoutes } from '../config/routes';
import { readOutboundConfig } from '../outbound/config';
import { readOutboundRequest } from '../outbound/request';
import { recordingForRoute } from '../recording/settings';

export type DialCheck = { ok: true; route: string; from: string } | { ok: false; code: string; message: string; field?: string };

export interface DialChecker {
  check(params: Record<string, string>): DialCheck;
  /** The caller ID a row without From is placed from. */
  defaultFrom: string;
  /** Whether the service points calls' status callbacks at itself (4 callbacks a call). */
  statusCallbacks: boolean;
}

/** A checker for `env`, or what makes every call fail (the service would answer 500 configuration). */
export function dialChecker(env: Env, routes: LoadedRoutes): DialChecker | { problem: string } {
  const config = readOutboundConfig(env);
  if ('reply' in config) return { problem: String(config.fields.reason ?? 'the configuration is broken') };
  // A broken routes file stops every outbound call (the service will not guess wider destinations).
  if (routes.error) return { problem: `the routes file: ${routes.error}` };
  const { outbound } = config;
  return {
    defaultFrom: outbound.callerIds[0]!,
    statusCallbacks: outbound.statusCallbacks,
    check(params) {
      const requestedFrom = params.From?.trim() || outbound.callerIds[0]!;
      const route = routes.table.match(requestedFrom);
      const settings = outboundForRoute(outbound, route);
      try {
        const request = readOutboundRequest(params, settings, () => '00000000-0000-4000-8000-000000000000');
        const recording = recordingForRoute(config.recording, route);
        if ((recording.mode === 'always' || request.call.record === true) && recording.notice && settings.twimlMode === 'url') {
          return {
            ok: false,
            code: 'configuration',
            message:
              'the call would be recorded with RECORDING_NOTICE set in url mode, where the notice cannot be played (see docs/recording.md)',
          };
        }
        return { ok: true, route: settings.route, from: request.from };
      } catch (error) {
        if (!(error instanceof RequestError)) throw error;
        return { ok: false, code: error.error.code, message: error.error.message, field: error.error.field };
      }
    },
  };
}
