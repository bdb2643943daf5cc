/**
 * The RoomService calls the service makes after a connector session exists:
 * tell the participant its call SID, or remove it when the call never came.
 * Both are best effort with a short deadline; they report, never throw.
 */
import { DataPacket_Kind } from '@livekit/protocol';
import { RoomServiceClient } from 'livekit-server-sdk';
import type { LiveKitSettings } from '../config/settings';
import { withDeadline } from '../util/deadline';
import { classifyLiveKitFailure } from './connector';

export type RoomOutcome = 'done' | 'not-found' | 'failed';

export interface LiveKitRooms {
  /** The participant's attributes, or why they could not be had. */
  getAttributes(room: string, identity: string): Promise<Record<string, string> | Exclude<RoomOutcome, 'done'>>;
  setAttributes(room: string, identity: string, attributes: Record<string, string>): Promise<RoomOutcome>;
  removeParticipant(room: string, identity: string): Promise<RoomOutcome>;
  /** A reliable data message to everyone in the room. */
  sendData(room: string, topic: string, payload: string): Promise<RoomOutcome>;
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
    getAttributes: async (room, identity) => {
      let attributes: Record<string, string> = {};
      const outcome = await attempt(async () => {
        attributes = (await client.getParticipant(room, identity)).attributes;
      });
      return outcome === 'done' ? attributes : outcome;
    },
    sendData: (room, topic, payload) =>
      attempt(() => client.sendData(room, new TextEncoder().encode(payload), DataPacket_Kind.RELIABLE, { topic })),
    setAttributes: (room, identity, attributes) => attempt(() => client.updateParticipant(room, identity, { attributes })),
    removeParticipant: (room, identity) => attempt(() => client.removeParticipant(room, identity)),
  };
}
