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

export interface ParticipantState {
  attributes: Record<string, string>;
  /** Whether it publishes a track: for a connector participant, whether its stream ever started. */
  publishing: boolean;
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
        }));
      });
      return outcome === 'done' ? participants : outcome;
    },
    sendData: (room, topic, payload) =>
      attempt(() => client.sendData(room, new TextEncoder().encode(payload), DataPacket_Kind.RELIABLE, { topic })),
    setAttributes: (room, identity, attributes) => attempt(() => client.updateParticipant(room, identity, { attributes })),
    removeParticipant: (room, identity) => attempt(() => client.removeParticipant(room, identity)),
  };
}
