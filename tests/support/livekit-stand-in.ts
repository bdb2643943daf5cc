/**
 * A loopback LiveKit API that holds callers to the real contract: the Bearer
 * JWT is verified with livekit-server-sdk's TokenVerifier and must carry the
 * grant the method needs, bodies must be JSON that the protocol's `fromJson`
 * accepts with unknown fields rejected, and errors come back as Twirp JSON.
 */
import {
  ListParticipantsRequest,
  ListParticipantsResponse,
  ListRoomsRequest,
  ListRoomsResponse,
  MoveParticipantRequest,
  MoveParticipantResponse,
  Room,
  ConnectTwilioCallRequest,
  ConnectTwilioCallRequest_TwilioCallDirection,
  ConnectTwilioCallResponse,
  ParticipantInfo,
  RemoveParticipantResponse,
  RoomParticipantIdentity,
  SendDataRequest,
  SendDataResponse,
  TrackInfo,
  TrackSource,
  TrackType,
  UpdateParticipantRequest,
} from '@livekit/protocol';
import { ClaimGrants, TokenVerifier } from 'livekit-server-sdk';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { LoopbackServer } from './loopback-server';

const newSid = () => `PA_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

export const API_KEY = 'APIstandinkey';
export const API_SECRET = 'stand-in-secret-that-is-long-enough-for-hs256-0123456789';

export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'status'; status: number; code: string; msg: string }
  | { kind: 'raw'; status: number; contentType: string; body: string }
  | { kind: 'connect-url'; url: string };

/**
 * A passing fault, answered once for one request. Twirp's spec maps
 * `resource_exhausted` to 429 and `unavailable` to 503 (twitchtv/twirp
 * docs/spec_v7.md; livekit/psrpc errors.go ToHTTP). The connector's "cannot
 * accept new calls" is resource_exhausted, answered before anything is done.
 * psrpc answers `unavailable` both before and after a request was handed on,
 * so `applied` serves the request in full and then answers the fault.
 * livekit-server sends no Retry-After (no such header in livekit/livekit or
 * livekit/psrpc); a proxy in front of it may, hence `retryAfter`.
 */
export interface Fault {
  status: 429 | 500 | 502 | 503 | 504;
  code: string;
  msg?: string;
  /** Served in full before the fault is answered. */
  applied?: boolean;
  retryAfter?: string;
}

export const RESOURCE_EXHAUSTED: Fault = { status: 429, code: 'resource_exhausted', msg: 'connector cannot accept new calls' };
export const UNAVAILABLE: Fault = { status: 503, code: 'unavailable', msg: 'service unavailable' };

export interface Recorded {
  method: string;
  token: string;
  claims: ClaimGrants;
  body: unknown;
}

interface Participant {
  identity: string;
  name?: string;
  /** A new one on every join, a move included. */
  sid: string;
  attributes: Record<string, string>;
  metadata: string;
  /** Published tracks: a connector participant publishes the caller's audio once Twilio's stream connects. */
  tracks: TrackInfo[];
}

export class LiveKitStandIn extends LoopbackServer {
  readonly requests: Recorded[] = [];
  /** Requests refused before reaching a method (bad JWT, bad body). */
  readonly refused: { path: string; reason: string }[] = [];
  /** Participants by room, as ConnectTwilioCall and RoomService left them. */
  readonly rooms = new Map<string, Map<string, Participant>>();
  readonly dataMessages: { room: string; topic: string; payload: string }[] = [];
  /** Issued connect URLs, by room. */
  readonly connectUrls = new Map<string, string>();
  behaviour: Behaviour = { kind: 'ok' };
  /** Per-method overrides, e.g. make only RemoveParticipant fail. */
  methodBehaviour: Partial<Record<string, Behaviour>> = {};
  /** Per-method passing faults, one used up by each request to that method before it is served as usual. */
  faults: Partial<Record<string, Fault[]>> = {};
  /** Participants a later session of the same identity made LiveKit drop (DuplicateIdentity), as room/identity. */
  readonly evicted: string[] = [];
  connections = 0;
  /** Read and serve the next request on a reused connection, then close it unanswered: the answer is lost. */
  dropNextReusedAfterServing = false;
  private readonly served = new WeakMap<object, number>();
  /** Milliseconds from each request's arrival to its answer (the stand-in's own cost). */
  readonly serviceTimes: number[] = [];
  private readonly verifier: TokenVerifier;

  /** The API key and secret it accepts tokens from; the suites' own by default. */
  constructor(apiKey = API_KEY, apiSecret = API_SECRET) {
    super();
    this.verifier = new TokenVerifier(apiKey, apiSecret);
  }

  protected override listener(req: http.IncomingMessage, res: http.ServerResponse): void {
    const count = (this.served.get(req.socket) ?? 0) + 1;
    this.served.set(req.socket, count);
    if (this.dropNextReusedAfterServing && count > 1) {
      this.dropNextReusedAfterServing = false;
      // Served in full (the session exists), but the answer never leaves.
      res.write = () => true;
      res.end = (() => (req.socket.destroy(), res)) as unknown as typeof res.end;
    }
    const arrived = performance.now();
    res.on('finish', () => this.serviceTimes.push(performance.now() - arrived));
    void this.handle(req, res);
  }

  protected override track(socket: Socket): void {
    this.connections += 1;
    super.track(socket);
  }

  async start(): Promise<this> {
    await this.listen();
    return this;
  }

  get url(): string {
    return this.origin;
  }

  reset(): void {
    this.requests.length = 0;
    this.refused.length = 0;
    this.rooms.clear();
    this.dataMessages.length = 0;
    this.connectUrls.clear();
    this.behaviour = { kind: 'ok' };
    this.methodBehaviour = {};
    this.faults = {};
    this.evicted.length = 0;
    this.moveSupport = 'cloud';
    this.jitter = undefined;
  }

  calls(method: string): Recorded[] {
    return this.requests.filter((r) => r.method === method);
  }

  /** Random latency, in milliseconds, before a request is applied and again before it is answered. */
  jitter: { min: number; max: number } | undefined;

  private async wait(): Promise<void> {
    if (!this.jitter) return;
    const { min, max } = this.jitter;
    await new Promise((r) => setTimeout(r, min + Math.random() * (max - min)));
  }

  /** Puts a participant in a room, as a connector session that already exists. */
  addParticipant(room: string, identity: string, streaming = false): void {
    const participants = this.rooms.get(room) ?? new Map<string, Participant>();
    participants.set(identity, { identity, sid: newSid(), attributes: {}, metadata: '', tracks: [] });
    this.rooms.set(room, participants);
    if (streaming) this.startStream(room, identity);
  }

  /** Twilio's stream for this participant connected: it now publishes the caller's audio. */
  startStream(room: string, identity: string): void {
    const participant = this.rooms.get(room)?.get(identity);
    if (!participant) throw new Error(`no participant ${identity} in ${room}`);
    participant.tracks.push(
      new TrackInfo({ sid: `TR_${randomUUID().slice(0, 8)}`, type: TrackType.AUDIO, source: TrackSource.MICROPHONE }),
    );
  }

  /** Twilio's stream ended (the call's TwiML was replaced, or it hung up): the connector participant leaves the room. */
  endStream(room: string, identity: string): void {
    if (!this.rooms.get(room)?.delete(identity)) throw new Error(`no participant ${identity} in ${room}`);
  }

  private infoFields(participant: Participant) {
    const { identity, name = '', sid, attributes, metadata, tracks } = participant;
    return { identity, name, sid, attributes, metadata, tracks };
  }

  /**
   * MoveParticipant is LiveKit Cloud only: open-source livekit-server answers
   * "not implemented" (pkg/service/roommanager.go), which its RPC layer
   * sends as Twirp `unknown` with HTTP 500. 'cloud' moves as the RPC's
   * comment says (livekit/protocol livekit_room.proto): removed from the
   * room and joined to the destination, identity kept; a join is a new SID.
   */
  moveSupport: 'cloud' | 'open-source' = 'cloud';

  private info(participant: Participant): unknown {
    return new ParticipantInfo(this.infoFields(participant)).toJson();
  }

  /**
   * Resets every open connection at once (TCP RST), without waiting: a client
   * that sends on one before it has noticed finds it dead as it writes.
   */
  resetConnectionsNow(): void {
    for (const socket of this.sockets) socket.resetAndDestroy();
  }

  /** Closes every open connection, as a server does with idle keep-alive sockets. */
  async dropIdleConnections(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((r) => setTimeout(r, 20));
  }

  /** Answers the next `n` requests to `method` with `fault`. */
  failNext(method: string, fault: Fault, n = 1): void {
    this.faults[method] = [...(this.faults[method] ?? []), ...Array.from({ length: n }, () => fault)];
  }

  private twirpError(res: http.ServerResponse, status: number, code: string, msg: string, retryAfter?: string): void {
    res.writeHead(status, { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) });
    res.end(JSON.stringify({ code, msg }));
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = req.url ?? '';
    const match = /^\/twirp\/livekit\.(Connector|RoomService)\/(\w+)$/.exec(path);
    if (req.method !== 'POST' || !match) {
      this.refused.push({ path, reason: 'not found' });
      return this.twirpError(res, 404, 'bad_route', `no handler for ${req.method} ${path}`);
    }
    const method = `${match[1]}.${match[2]}`;
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) {
      this.refused.push({ path, reason: 'no bearer token' });
      return this.twirpError(res, 401, 'unauthenticated', 'authorization header missing');
    }
    let claims: ClaimGrants;
    const token = auth.slice('Bearer '.length);
    try {
      claims = await this.verifier.verify(token);
    } catch {
      this.refused.push({ path, reason: 'invalid token' });
      return this.twirpError(res, 401, 'unauthenticated', 'invalid token');
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      this.refused.push({ path, reason: 'content-type' });
      return this.twirpError(res, 415, 'malformed', 'expected application/json');
    }
    let json: unknown;
    try {
      json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      this.refused.push({ path, reason: 'body not JSON' });
      return this.twirpError(res, 400, 'malformed', 'body is not JSON');
    }

    const fault = this.faults[method]?.shift();
    if (fault) {
      try {
        this.dispatch(method, json, claims, token, { kind: 'ok' }, fault.applied === true);
      } catch {
        // refused on its merits: the fault is answered all the same
      }
      return this.twirpError(res, fault.status, fault.code, fault.msg ?? fault.code, fault.retryAfter);
    }
    const behaviour = this.methodBehaviour[method] ?? this.behaviour;
    if (behaviour.kind === 'delay') await new Promise((r) => setTimeout(r, behaviour.ms));
    // A request waits before it is applied and again before it is answered,
    // so requests that overlap are applied and answered in any order.
    await this.wait();
    // Only a serving behaviour changes the stand-in's rooms; the others record the request and misbehave.
    const serve = behaviour.kind === 'ok' || behaviour.kind === 'delay' || behaviour.kind === 'connect-url';
    try {
      const reply = this.dispatch(method, json, claims, token, behaviour, serve);
      if (behaviour.kind === 'hang') return; // never answers; the socket stays open
      if (behaviour.kind === 'status') return this.twirpError(res, behaviour.status, behaviour.code, behaviour.msg);
      if (behaviour.kind === 'raw') {
        res.writeHead(behaviour.status, { 'content-type': behaviour.contentType });
        return void res.end(behaviour.body);
      }
      await this.wait();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    } catch (error) {
      const e = error as { status?: number; code?: string; message: string };
      this.refused.push({ path, reason: e.message });
      this.twirpError(res, e.status ?? 400, e.code ?? 'invalid_argument', e.message);
    }
  }

  private dispatch(method: string, json: unknown, claims: ClaimGrants, token: string, behaviour: Behaviour, serve: boolean): unknown {
    const fail = (status: number, code: string, message: string) => Object.assign(new Error(message), { status, code });
    const roomAdmin = (room: string) => {
      if (!claims.video?.roomAdmin || claims.video.room !== room)
        throw fail(403, 'permission_denied', 'roomAdmin grant for this room required');
    };
    switch (method) {
      case 'Connector.ConnectTwilioCall': {
        if (!claims.video?.roomCreate) throw fail(403, 'permission_denied', 'roomCreate grant required');
        const request = ConnectTwilioCallRequest.fromJson(json as never, { ignoreUnknownFields: false });
        if (!request.roomName) throw fail(400, 'invalid_argument', 'room_name is required');
        this.requests.push({ method, token, claims, body: request });
        if (!serve) return undefined;
        const url = behaviour.kind === 'connect-url' ? behaviour.url : `wss://connector.livekit.test/twilio/${randomUUID()}`;
        this.connectUrls.set(request.roomName, url);
        const room = this.rooms.get(request.roomName) ?? new Map<string, Participant>();
        const identity = request.participantIdentity || `twilio-${randomUUID().slice(0, 8)}`;
        // A participant joining with an identity already in the room disconnects the older one
        // (DuplicateIdentity). An OUTBOUND session joins its hidden participant at once; an INBOUND one
        // when Twilio's stream starts, which this stand-in folds into the request: an INBOUND session
        // opened while a participant of its identity still streams evicts it once its own stream
        // starts, so it is counted too (a session made while the old one lives is the mistake).
        const existing = room.get(identity);
        const inbound = request.twilioCallDirection === ConnectTwilioCallRequest_TwilioCallDirection.INBOUND;
        if (existing && (!inbound || existing.tracks.length > 0)) this.evicted.push(`${request.roomName}/${identity}`);
        room.set(identity, {
          identity,
          name: request.participantName,
          sid: newSid(),
          attributes: { ...request.participantAttributes },
          metadata: request.participantMetadata,
          tracks: [],
        });
        this.rooms.set(request.roomName, room);
        return new ConnectTwilioCallResponse({ connectUrl: url }).toJson();
      }
      case 'RoomService.UpdateParticipant': {
        const request = UpdateParticipantRequest.fromJson(json as never, { ignoreUnknownFields: false });
        roomAdmin(request.room);
        this.requests.push({ method, token, claims, body: request });
        if (!serve) return undefined;
        const participant = this.rooms.get(request.room)?.get(request.identity);
        if (!participant) throw fail(404, 'not_found', 'participant not found');
        Object.assign(participant.attributes, request.attributes);
        for (const [key, value] of Object.entries(request.attributes)) if (value === '') delete participant.attributes[key];
        if (request.metadata) participant.metadata = request.metadata;
        return this.info(participant);
      }
      case 'RoomService.GetParticipant': {
        const request = RoomParticipantIdentity.fromJson(json as never, { ignoreUnknownFields: false });
        roomAdmin(request.room);
        this.requests.push({ method, token, claims, body: request });
        if (!serve) return undefined;
        const participant = this.rooms.get(request.room)?.get(request.identity);
        if (!participant) throw fail(404, 'not_found', 'participant not found');
        return this.info(participant);
      }
      case 'RoomService.ListRooms': {
        if (!claims.video?.roomList) throw fail(403, 'permission_denied', 'roomList grant required');
        const request = ListRoomsRequest.fromJson(json as never, { ignoreUnknownFields: false });
        this.requests.push({ method, token, claims, body: request });
        if (!serve) return undefined;
        return new ListRoomsResponse({ rooms: [...this.rooms.keys()].map((name) => new Room({ name })) }).toJson();
      }
      case 'RoomService.ListParticipants': {
        const request = ListParticipantsRequest.fromJson(json as never, { ignoreUnknownFields: false });
        roomAdmin(request.room);
        this.requests.push({ method, token, claims, body: request });
        if (!serve) return undefined;
        const room = this.rooms.get(request.room);
        if (!room) throw fail(404, 'not_found', 'room not found');
        return new ListParticipantsResponse({
          participants: [...room.values()].map((p) => new ParticipantInfo(this.infoFields(p))),
        }).toJson();
      }
      case 'RoomService.RemoveParticipant': {
        const request = RoomParticipantIdentity.fromJson(json as never, { ignoreUnknownFields: false });
        roomAdmin(request.room);
        this.requests.push({ method, token, claims, body: request });
        if (!serve) return undefined;
        const room = this.rooms.get(request.room);
        if (!room?.delete(request.identity)) throw fail(404, 'not_found', 'participant not found');
        return new RemoveParticipantResponse().toJson();
      }
      case 'RoomService.MoveParticipant': {
        const request = MoveParticipantRequest.fromJson(json as never, { ignoreUnknownFields: false });
        // The grant LiveKit checks (pkg/service/auth.go EnsureDestRoomPermission): roomAdmin, room = the
        // source, destinationRoom = the destination, and the two rooms differ.
        if (
          !claims.video?.roomAdmin ||
          claims.video.room !== request.room ||
          claims.video.destinationRoom !== request.destinationRoom ||
          request.room === request.destinationRoom
        )
          throw fail(403, 'permission_denied', 'roomAdmin for the room and destinationRoom for the destination required');
        this.requests.push({ method, token, claims, body: request });
        if (!serve) return undefined;
        if (this.moveSupport === 'open-source') throw fail(500, 'unknown', 'not implemented');
        const from = this.rooms.get(request.room);
        const participant = from?.get(request.identity);
        if (!from || !participant) throw fail(404, 'not_found', 'participant not found');
        const to = this.rooms.get(request.destinationRoom) ?? new Map<string, Participant>();
        if (to.has(request.identity)) this.evicted.push(`${request.destinationRoom}/${request.identity}`);
        from.delete(request.identity);
        to.set(request.identity, { ...participant, sid: newSid() });
        this.rooms.set(request.destinationRoom, to);
        return new MoveParticipantResponse().toJson();
      }
      case 'RoomService.SendData': {
        const request = SendDataRequest.fromJson(json as never, { ignoreUnknownFields: false });
        roomAdmin(request.room);
        this.requests.push({ method, token, claims, body: request });
        if (!serve) return undefined;
        if (!this.rooms.has(request.room)) throw fail(404, 'not_found', 'room not found');
        this.dataMessages.push({ room: request.room, topic: request.topic ?? '', payload: Buffer.from(request.data).toString('utf8') });
        return new SendDataResponse().toJson();
      }
      default:
        throw fail(404, 'bad_route', `no method ${method}`);
    }
  }
}
