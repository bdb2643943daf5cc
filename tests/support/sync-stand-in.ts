/**
 * Twilio Sync Maps as the Twilio REST stand-in serves them
 * (sync.twilio.com/v1/Services/{Service}/Maps/...): maps by unique name,
 * items by key, with Twilio's refusals: 54200 map not found, 54201 item not
 * found, 54208 item already exists, 54209 key not 1 to 256 characters,
 * 54301 unique name taken (https://www.twilio.com/docs/api/errors/54208 ...).
 * ItemTtl is kept and honoured on read.
 */

export interface SyncReply {
  status: number;
  body?: unknown;
  error?: { code: number; message: string };
}

interface Item {
  data: unknown;
  expires: number;
}

export class SyncMaps {
  readonly maps = new Map<string, Map<string, Item>>();
  /** Every item create, in order: what claimed a key and what was refused. */
  readonly creates: { key: string; outcome: number }[] = [];
  hang = false;

  reset(): void {
    this.maps.clear();
    this.creates.length = 0;
    this.hang = false;
  }

  /** Answers `method path` (path after /v1/Services/{Service}/), or undefined to leave the request unanswered. */
  handle(method: string, parts: string[], form: URLSearchParams): SyncReply | undefined {
    if (this.hang) return undefined;
    const fail = (status: number, code: number, message: string): SyncReply => ({ status, error: { code, message } });
    if (parts[0] !== 'Maps') return fail(404, 20404, 'not found');
    if (parts.length === 1 && method === 'POST') {
      const name = form.get('UniqueName') ?? '';
      if (this.maps.has(name)) return fail(409, 54301, 'Unique name already exists');
      this.maps.set(name, new Map());
      return { status: 201, body: { unique_name: name } };
    }
    const map = this.maps.get(decodeURIComponent(parts[1] ?? ''));
    if (!map) return fail(404, 54200, 'Map not found');
    if (parts[2] !== 'Items') return fail(404, 20404, 'not found');
    if (parts.length === 3 && method === 'POST') {
      const key = form.get('Key') ?? '';
      if (key.length < 1 || key.length > 256) return fail(400, 54209, 'Invalid Map Item key');
      const existing = map.get(key);
      const taken = existing !== undefined && existing.expires > Date.now();
      this.creates.push({ key, outcome: taken ? 54208 : 201 });
      if (taken) return fail(409, 54208, 'Map Item already exists');
      map.set(key, {
        data: JSON.parse(form.get('Data') ?? '{}'),
        expires: Date.now() + Number(form.get('ItemTtl') ?? 0) * 1000 || Infinity,
      });
      return { status: 201, body: { key, data: map.get(key)!.data } };
    }
    const key = decodeURIComponent(parts[3] ?? '');
    const item = map.get(key);
    if (!item || item.expires <= Date.now()) return fail(404, 54201, 'Map Item not found');
    if (method === 'GET') return { status: 200, body: { key, data: item.data } };
    if (method === 'DELETE') {
      map.delete(key);
      return { status: 204 };
    }
    item.data = JSON.parse(form.get('Data') ?? '{}');
    if (form.get('ItemTtl')) item.expires = Date.now() + Number(form.get('ItemTtl')) * 1000;
    return { status: 200, body: { key, data: item.data } };
  }
}
