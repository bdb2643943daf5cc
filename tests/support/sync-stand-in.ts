/**
 * Twilio Sync Maps as the Twilio REST stand-in serves them
 * (sync.twilio.com/v1/Services/{Service}/Maps/...): maps by unique name,
 * items by key, with Twilio's refusals: 54200 map not found, 54201 item not
 * found, 54208 item already exists, 54209 key not 1 to 256 characters,
 * 54301 unique name taken (https://www.twilio.com/docs/api/errors/54208 ...).
 * ItemTtl is kept and honoured on read. Each item has a `revision`; an
 * update or delete with `If-Match` naming another revision is refused with
 * 54205 "Map Item revision mismatch" (https://www.twilio.com/docs/api/errors/54205;
 * HTTP 412, Precondition Failed).
 */

export interface SyncReply {
  status: number;
  body?: unknown;
  error?: { code: number; message: string };
}

interface Item {
  data: unknown;
  expires: number;
  revision: number;
}

/**
 * A passing fault for one Sync request. 54009 (HTTP 429) is Sync's rate
 * limit: 20 writes per second per object, all items of a Map counted
 * together (https://www.twilio.com/docs/api/errors/54009), refused before
 * anything is done. A 503 may come after the write was made: `applied`.
 */
export interface SyncFault {
  status: number;
  code: number;
  applied?: boolean;
}

export const SYNC_RATE_LIMITED: SyncFault = { status: 429, code: 54009 };

export type ItemOperation = 'create' | 'read' | 'update' | 'delete' | 'list' | 'other';

function operationOf(method: string, parts: string[]): ItemOperation {
  if (parts[2] !== 'Items') return 'other';
  if (parts.length === 3) return method === 'POST' ? 'create' : method === 'GET' ? 'list' : 'other';
  return method === 'GET' ? 'read' : method === 'DELETE' ? 'delete' : 'update';
}

/**
 * "The size of a serialized JSON payload stored in a Sync Document, List
 * Item, or Map Item cannot exceed 16KB": error 54006
 * (https://www.twilio.com/docs/api/errors/54006). The HTTP status is not
 * documented; 413 stands for it.
 */
const MAX_DATA_BYTES = 16 * 1024;
const tooLarge = (form: URLSearchParams) => Buffer.byteLength(form.get('Data') ?? '') > MAX_DATA_BYTES;

export class SyncMaps {
  readonly maps = new Map<string, Map<string, Item>>();
  /** When each map expires (its Ttl), by unique name. */
  readonly mapExpiry = new Map<string, number>();
  /** Every item create, in order: what claimed a key and what was refused. */
  readonly creates: { key: string; outcome: number }[] = [];
  /** Every item update and delete that was applied. */
  readonly writes: { method: string; key: string; data?: unknown }[] = [];
  hang = false;
  /** Milliseconds to wait, after applying a request, before answering it. */
  delayMs = 0;
  /** Faults for the next item requests of each kind, one used by each; `null` serves one as usual. */
  faults: Partial<Record<ItemOperation, (SyncFault | null)[]>> = {};

  reset(): void {
    this.maps.clear();
    this.mapExpiry.clear();
    this.creates.length = 0;
    this.writes.length = 0;
    this.hang = false;
    this.delayMs = 0;
    this.faults = {};
  }

  private expired(name: string): boolean {
    return (this.mapExpiry.get(name) ?? Infinity) <= Date.now();
  }

  /** A map's items' data, by key: what a call's journal holds. */
  items(name: string): Record<string, unknown> {
    return Object.fromEntries([...(this.maps.get(name) ?? new Map<string, Item>()).entries()].map(([k, v]) => [k, v.data]));
  }

  fail(operation: ItemOperation, fault: SyncFault | null, n = 1): void {
    this.faults[operation] = [...(this.faults[operation] ?? []), ...Array.from({ length: n }, () => fault)];
  }

  /** Answers `method path` (path after /v1/Services/{Service}/), or undefined to leave the request unanswered. */
  handle(method: string, parts: string[], form: URLSearchParams, ifMatch?: string): SyncReply | undefined {
    if (this.hang) return undefined;
    const fault = this.faults[operationOf(method, parts)]?.shift();
    const fail = (status: number, code: number, message: string): SyncReply => ({ status, error: { code, message } });
    if (fault && !fault.applied) return fail(fault.status, fault.code, 'Sync is refusing requests for now');
    const reply = this.apply(method, parts, form, ifMatch, fail);
    return fault ? fail(fault.status, fault.code, 'Service unavailable') : reply;
  }

  private apply(
    method: string,
    parts: string[],
    form: URLSearchParams,
    ifMatch: string | undefined,
    fail: (status: number, code: number, message: string) => SyncReply,
  ): SyncReply {
    if (parts[0] !== 'Maps') return fail(404, 20404, 'not found');
    if (parts.length === 1 && method === 'POST') {
      const name = form.get('UniqueName') ?? '';
      if (this.maps.has(name) && !this.expired(name)) return fail(409, 54301, 'Unique name already exists');
      this.maps.set(name, new Map());
      // Ttl: "How long, in seconds, before the Sync Map expires and is deleted" (Sync Map resource).
      this.mapExpiry.set(name, form.get('Ttl') ? Date.now() + Number(form.get('Ttl')) * 1000 : Infinity);
      return { status: 201, body: { unique_name: name } };
    }
    const mapName = decodeURIComponent(parts[1] ?? '');
    const map = this.expired(mapName) ? undefined : this.maps.get(mapName);
    if (!map) return fail(404, 54200, 'Map not found');
    if (parts[2] !== 'Items') return fail(404, 20404, 'not found');
    const view = (key: string, item: Item) => ({ key, data: item.data, revision: String(item.revision) });
    if (parts.length === 3 && method === 'GET') {
      const items = [...map.entries()].filter(([, item]) => item.expires > Date.now()).map(([key, item]) => view(key, item));
      return { status: 200, body: { items, meta: { key: 'items', next_page_url: null, page: 0, page_size: 50 } } };
    }
    if (parts.length === 3 && method === 'POST') {
      const key = form.get('Key') ?? '';
      if (key.length < 1 || key.length > 256) return fail(400, 54209, 'Invalid Map Item key');
      const existing = map.get(key);
      const taken = existing !== undefined && existing.expires > Date.now();
      this.creates.push({ key, outcome: taken ? 54208 : 201 });
      if (taken) return fail(409, 54208, 'Map Item already exists');
      if (tooLarge(form)) return fail(413, 54006, 'Request entity too large');
      const item = {
        data: JSON.parse(form.get('Data') ?? '{}'),
        expires: form.get('ItemTtl') ? Date.now() + Number(form.get('ItemTtl')) * 1000 : Infinity,
        revision: 0,
      };
      map.set(key, item);
      return { status: 201, body: view(key, item) };
    }
    const key = decodeURIComponent(parts[3] ?? '');
    const item = map.get(key);
    if (!item || item.expires <= Date.now()) return fail(404, 54201, 'Map Item not found');
    if (method === 'GET') return { status: 200, body: view(key, item) };
    if (ifMatch !== undefined && ifMatch !== String(item.revision)) return fail(412, 54205, 'Map Item revision mismatch');
    if (method === 'DELETE') {
      map.delete(key);
      this.writes.push({ method, key });
      return { status: 204 };
    }
    if (tooLarge(form)) return fail(413, 54006, 'Request entity too large');
    item.data = JSON.parse(form.get('Data') ?? '{}');
    item.revision += 1;
    if (form.get('ItemTtl')) item.expires = Date.now() + Number(form.get('ItemTtl')) * 1000;
    this.writes.push({ method, key, data: item.data });
    return { status: 200, body: view(key, item) };
  }
}
