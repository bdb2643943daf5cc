/**
 * The RoomService calls the service makes after a connector session exists:
 * tell the participant its call SID, or remove it when the call never came.
 * Both are best effort with a short deadline; they report, never throw.
 */
import { RoomServiceClient } from 'livekit-server-sdk';
import type { LiveKitSettings } from './config';
import { withDeadline } from './deadline';
import { classifyLiveKitFailure } from './livekit-connector';

export type RoomOutcome = 'done' | 'not-found' | 'failed';

export interface LiveKitRooms {
  setAttributes(room: string, identity: string, attributes: Record<string, string>): Promise<RoomOutcome>;
  removeParticipant(room: string, identity: string): Promise<RoomOutcome>;
}

export function liveKitRooms(settings: LiveKitSettings, timeoutMs: number): LiveKitRooms {
  const client = new RoomServiceClient(settings.url, settings.apiKey, settings.apiSecret, {
    requestTimeout: timeoutMs / 1000,
    failover: false,
  });
  const attempt = async (work: () => Promise<unknown>): Promise<RoomOutcome> => {
    try {
      await withDeadline(work(), timeoutMs + 100, 'LiveKit');
      return 'done';
    } catch (error) {
      const failure = classifyLiveKitFailure(error, timeoutMs);
      return failure.status === 404 || failure.code === 'not_found' ? 'not-found' : 'failed';
    }
  };
  return {
    setAttributes: (room, identity, attributes) => attempt(() => client.updateParticipant(room, identity, { attributes })),
    removeParticipant: (room, identity) => attempt(() => client.removeParticipant(room, identity)),
  };
}
