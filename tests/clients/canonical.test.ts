/**
 * The signed form, byte for byte: the Node client's canonicalJson, the Python
 * client's canonical_json and the server's canonicalJson write the same
 * bytes for the same request, and those bytes are the ones the definition
 * gives (clients/node/call-control.ts, canonicalJson), built here by hand.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { canonicalJson as nodeCanonical, RequestValue } from '../../clients/node/call-control';
import { canonicalJson as serverCanonical } from '../../src/call-control/canonical';
import { runCommand } from '../support/project-copy';
import { ROOT } from '../support/twilio-run';

type Request = Record<string, RequestValue>;

const CONTROLS = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f';

const REQUESTS: Request[] = [
  { action: 'transfer', target: 'billing', message: 'Un momento 😀 — "quoted" \\ back\\slash / not escaped </script>' },
  { action: 'transfer', target: 'billing', message: CONTROLS },
  { action: 'transfer', target: 'billing', message: 'line\u2028separator\u2029paragraph' },
  { action: 'transfer', target: 'billing', message: '𝄞 🇺🇸 👩‍👩‍👧 \u{10FFFF}' },
  { action: 'transfer', target: 'desk', message: 'Ünïcödé ñ ß 日本語 عربى Ελληνικά' },
  {
    action: 'return-to-flow',
    result: 'resolved',
    fields: { zeta: 'z', Alpha: 'Ä', orderId: 'A-17 "x"\n', a_1: '_', a1: '1', aB: 'B', note: '😀\u2028\u0000' },
  },
  { action: 'hangup' },
];

/** The Python client's canonical_json for each request, as UTF-8 bytes (base64 both ways: argv cannot carry U+0000). */
async function pythonCanonical(requests: Request[]): Promise<Buffer[]> {
  const script = `
import base64, json, sys
sys.path.insert(0, sys.argv[1])
from call_control import canonical_json
requests = json.loads(base64.b64decode(sys.argv[2]).decode("utf-8"))
print(json.dumps([base64.b64encode(canonical_json(r).encode("utf-8")).decode("ascii") for r in requests]))
`;
  const arg = Buffer.from(JSON.stringify(requests), 'utf8').toString('base64');
  const ran = await runCommand('python3', ['-B', '-c', script, path.join(ROOT, 'clients', 'python'), arg], ROOT);
  expect(ran.status).toBe(0);
  return (JSON.parse(ran.output) as string[]).map((b) => Buffer.from(b, 'base64'));
}

const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64');

describe('the signed form of a call-control request', () => {
  test('Node client, Python client and server write the same bytes', async () => {
    const python = await pythonCanonical(REQUESTS);
    REQUESTS.forEach((request, i) => {
      const node = Buffer.from(nodeCanonical(request), 'utf8');
      expect(node.equals(Buffer.from(serverCanonical(request), 'utf8'))).toBe(true);
      expect(python[i]!.toString('hex')).toBe(node.toString('hex'));
    });
  });

  test('the bytes and digest the definition gives, built by hand', async () => {
    const request = { target: 'billing', message: 'Ok "A\\B"/\n\t\u0001\u001f\u007f\u2028😀é', action: 'transfer' };
    // Members sorted; `"` `\` `\n` `\t` escaped, U+0001/U+001F as \u00xx, `/` DEL U+2028 😀 é as themselves (UTF-8).
    const expected = Buffer.concat([
      Buffer.from('{"action":"transfer","message":"Ok \\"A\\\\B\\"/\\n\\t\\u0001\\u001f', 'ascii'),
      Buffer.from([0x7f, 0xe2, 0x80, 0xa8, 0xf0, 0x9f, 0x98, 0x80, 0xc3, 0xa9]),
      Buffer.from('","target":"billing"}', 'ascii'),
    ]);
    expect(digest(expected)).toBe('8es73g9/FAPO53P9IwXtYOedbzRe+P4vCtc+EGHDgaw=');
    expect(Buffer.from(nodeCanonical(request), 'utf8').equals(expected)).toBe(true);
    expect(Buffer.from(serverCanonical(request), 'utf8').equals(expected)).toBe(true);
    expect((await pythonCanonical([request]))[0]!.equals(expected)).toBe(true);
  });

  test('null means not given: the clients leave it out, at every level', async () => {
    const request = { action: 'return-to-flow', result: null, fields: { orderId: 'A-17', intent: null } };
    const given = '{"action":"return-to-flow","fields":{"orderId":"A-17"}}';
    expect(nodeCanonical(request)).toBe(given);
    expect(serverCanonical({ action: 'return-to-flow', fields: { orderId: 'A-17' } })).toBe(given);
    expect((await pythonCanonical([request]))[0]!.toString('utf8')).toBe(given);
  });

  test('what the form cannot hold is refused before sending: lone surrogates, numbers, arrays, deeper objects', async () => {
    const bad = [
      { action: 'transfer', target: 'billing', message: 'half \ud83d of an emoji' },
      { action: 'transfer', target: 'billing', message: 5 },
      { action: 'return-to-flow', fields: ['a'] },
      { action: 'return-to-flow', fields: { deep: { er: 'x' } } },
    ] as unknown as Request[];
    for (const request of bad) expect(() => nodeCanonical(request)).toThrow(TypeError);
    const script = `
import json, sys
sys.path.insert(0, sys.argv[1])
from call_control import canonical_json
refused = []
for r in [{"message": "half \\ud83d of an emoji"}, {"message": 5}, {"fields": ["a"]}, {"fields": {"deep": {"er": "x"}}}]:
    try:
        canonical_json(r)
    except (TypeError, ValueError) as error:
        refused.append(type(error).__name__)
print(json.dumps(refused))
`;
    const ran = await runCommand('python3', ['-B', '-c', script, path.join(ROOT, 'clients', 'python')], ROOT);
    expect(JSON.parse(ran.output)).toEqual(['ValueError', 'TypeError', 'TypeError', 'TypeError']);
  });
});
