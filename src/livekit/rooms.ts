/**
 * The RoomService calls the service makes after a connector session exists:
 * tell the participant its call SID, or remove it when the call never came.
 * Each has a short deadline, resends included; they report, never throw.
 */
import { DataPacket_Kind } from '@livekit/protocol';
import { RoomServiceClient } from 'livekit-server-sdk';
import type { LiveKitSettings } from '../config/settings';
import { Resend, retryWithin } from '../util/retry';
import { classifyLiveKitFailure } from './connector';

export type RoomOutcome = 'done' | 'not-found' | 'failed';

export interface ParticipantState {
  attributes: Record<string, string>;
  /** Whether it publishes a track: for a connector participant, whether its stream ever started. */
  publishing: boolean;
  name?: string;
  metadata?: string;
}

export interface LiveKitRooms {
  /** The participant's attributes and whether it publishes media, or why they could not be had. */
  getParticipant(room: string, identity: string): Promise<ParticipantState | Exclude<RoomOutcome, 'done'>>;
  /** Everyone in the room, or why they could not be had. */
  listParticipants(room: string): Promise<(ParticipantState & { identity: string })[] | Exclude<RoomOutcome, 'done'>>;
  setAttributes(room: string, identity: string, attributes: Record<string, string>): Promise<RoomOutcome>;
  removeParticipant(room: string, identity: string): Promise<RoomOutcome>;
  /** A reliable data message to everyone in the room. */
  sendData(room: string, topic: string, payload: string): Promise<RoomOutcome>;
  /**
   * MoveParticipant (LiveKit Cloud only): the participant leaves `room` and
   * joins `destination`, identity kept. `unsupported` where the server does
   * not implement it: open-source livekit-server answers "not implemented"
   * (pkg/service/roommanager.go), which reaches the client as HTTP 500/501.
   */
  moveParticipant(room: string, identity: string, destination: string): Promise<RoomOutcome | 'unsupported'>;
}

/** Attempts of one RoomService request in all: on Cloud a participant that left may answer 503 for good. */
const ROOM_ATTEMPTS = 3;
const MIN_ATTEMPT_MS = 100;

/**
 * Whether a failed RoomService request may be sent again. A 429 was not
 * processed; a request that never connected was not sent. A 503 may have
 * been processed, so only a request that does the same when done twice is
 * resent on one: reads, attribute writes (they merge the same values) and
 * removals ("not found" the second time is fine). A data message is not:
 * it would reach the room twice.
 */
export function resendRoomCall(error: unknown, repeatable: boolean): Resend {
  const failure = classifyLiveKitFailure(error, 0);
  if (failure.kind === 'rate-limited') return { afterMs: failure.retryAfterMs };
  if (failure.kind === 'unreachable' && failure.notSent) return {};
  if (failure.kind === 'unavailable' && repeatable) return { afterMs: failure.retryAfterMs };
  return false;
}

export function liveKitRooms(settings: LiveKitSettings, timeoutMs: number): LiveKitRooms {
  const client = new RoomServiceClient(settings.url, settings.apiKey, settings.apiSecret, {
    requestTimeout: timeoutMs / 1000,
    failover: false,
  });
  const run = async (work: () => Promise<unknown>, repeatable: boolean): Promise<RoomOutcome | 'unsupported'> => {
    try {
      // The client's own timeout is the whole budget's; each attempt's deadline holds it to what is left.
      const within = { attempts: ROOM_ATTEMPTS, minAttemptMs: MIN_ATTEMPT_MS, what: 'LiveKit' };
      await retryWithin(
        timeoutMs,
        within,
        () => work(),
        (e) => resendRoomCall(e, repeatable),
      );
      return 'done';
    } catch (error) {
      const failure = classifyLiveKitFailure(error, timeoutMs);
      if (failure.status === 404 || failure.code === 'not_found') return 'not-found';
      const said = String((error as { message?: unknown } | null)?.message ?? '');
      return failure.code === 'unimplemented' || /not implemented/i.test(said) ? 'unsupported' : 'failed';
    }
  };
  const attempt = async (work: () => Promise<unknown>, repeatable = true): Promise<RoomOutcome> => {
    const outcome = await run(work, repeatable);
    return outcome === 'unsupported' ? 'failed' : outcome;
  };
  return {
    getParticipant: async (room, identity) => {
      let state: ParticipantState = { attributes: {}, publishing: false };
      const outcome = await attempt(async () => {
        const info = await client.getParticipant(room, identity);
        state = { attributes: info.attributes, publishing: info.tracks.length > 0 };
      });
      return outcome === 'done' ? state : outcome;
    },
    listParticipants: async (room) => {
      let participants: (ParticipantState & { identity: string })[] = [];
      const outcome = await attempt(async () => {
        participants = (await client.listParticipants(room)).map((info) => ({
          identity: info.identity,
          attributes: info.attributes,
          publishing: info.tracks.length > 0,
          name: info.name,
          metadata: info.metadata,
        }));
      });
      return outcome === 'done' ? participants : outcome;
    },
    sendData: (room, topic, payload) =>
      attempt(() => client.sendData(room, new TextEncoder().encode(payload), DataPacket_Kind.RELIABLE, { topic }), false),
    setAttributes: (room, identity, attributes) => attempt(() => client.updateParticipant(room, identity, { attributes })),
    removeParticipant: (room, identity) => attempt(() => client.removeParticipant(room, identity)),
    // Not repeatable: a move that went through finds nobody to move the second time.
    moveParticipant: (room, identity, destination) => run(() => client.moveParticipant(room, identity, destination), false),
  };
}
