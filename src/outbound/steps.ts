/**
 * What the steps of an outbound request share: their dependencies, the time
 * each may take, and the two things a step can return besides going on.
 */
import type { RoutedOutbound } from '../config/route-settings';
import type { LoadedRoutes } from '../config/routes';
import { routesFromAssets } from '../config/routes-asset';
import type { LiveKitSettings } from '../config/settings';
import { ConnectTwilioCall, liveKitConnector } from '../livekit/connector';
import { LiveKitRooms, liveKitRooms } from '../livekit/rooms';
import type { HttpReply } from '../twilio/reply';
import type { ServiceFacts } from '../twilio/service';
import { LogFields, logLine } from '../util/log';
import type { TwilioSync } from './idempotency';
import type { JournalSync } from '../journal/call-journal';
import type { RecordingSettings } from '../recording/settings';
import type { OutboundRequest } from './request';
import type { TwilioCalls } from '../twilio/calls';

/** The whole request; Studio's Run Function gives 10 s. */
export const TOTAL_BUDGET_MS = 7500;
export const LIVEKIT_BUDGET_MS = 3000;
export const ROOM_BUDGET_MS = 1000;
export const SYNC_BUDGET_MS = 1500;

export interface OutboundDependencies {
  connector: (settings: LiveKitSettings) => ConnectTwilioCall;
  rooms: (settings: LiveKitSettings, timeoutMs: number) => LiveKitRooms;
  /** A Twilio client whose requests give up after `timeoutMs`. */
  twilio: (timeoutMs: number) => TwilioClient;
  log: (fields: LogFields, level: 'info' | 'error') => void;
  now: () => number;
  routes: () => LoadedRoutes;
}

export function outboundDependencies(twilio: OutboundDependencies['twilio']): OutboundDependencies {
  return { connector: liveKitConnector, rooms: liveKitRooms, twilio, log: logLine, now: Date.now, routes: routesFromAssets };
}

/** The parts of the twilio client outbound uses. */
export type TwilioClient = TwilioCalls & TwilioSync & JournalSync;

/** A step's answer when it ends the request: the reply and what the log line says of it. */
export interface Stop {
  reply: HttpReply;
  fields: LogFields;
}

/** Settings, route and request, all checked before anything is created anywhere. */
export interface Prepared {
  liveKit: LiveKitSettings;
  service: ServiceFacts;
  settings: RoutedOutbound;
  request: OutboundRequest;
  /** Whether and how the call is recorded (the route's setting over the environment's). */
  recording: RecordingSettings;
  /** Whether the call's facts are kept for its summary. */
  summarised: boolean;
}
