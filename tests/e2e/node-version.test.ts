/**
 * The e2e suites run twice: on the machine's Node (npm test) and on the Node
 * Twilio runs (scripts/test-node22.mjs sets EXPECTED_NODE). Each run must be
 * on the Node it claims, or one of them silently tests the other's.
 */
test('the suites run on the Node this run is for', () => {
  const expected = process.env.EXPECTED_NODE;
  if (expected) expect(process.version).toBe(expected);
  // Started by npm: the Node that runs npm, not one linked into node_modules/.bin.
  else expect(process.execPath).toBe(process.env.npm_node_execpath ?? process.execPath);
  expect(process.version).toMatch(/^v(20|22|24)\./);
});
