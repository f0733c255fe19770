/**
 * NameTable (lib/analysis/state.ts): names interned as bytes give back their text, are found by
 * bytes or text alike, and sort exactly as compareHostnames sorts their texts.
 */
import assert from 'node:assert/strict';
import { compareHostnames } from '../../lib/analysis/hostname-order.js';
import { NameTable } from '../../lib/analysis/state.js';
import { prng } from '../support/mutate.js';

/** Names built to hit every rule: digit runs with leading zeros, case, dots, dashes, non-ASCII. */
function names(count: number): string[] {
  const rnd = prng(42);
  const pieces = ['host', 'Host', 'h', '0', '00', '7', '007', '10', '2', '99', '.', '-', 'a', 'B', 'z', 'caf\u00e9', '\u4e2d', 'x1y', ''];
  const out = new Set<string>();
  while (out.size < count) {
    let name = '';
    for (let k = 0, n = 1 + Math.floor(rnd() * 5); k < n; k++) name += pieces[Math.floor(rnd() * pieces.length)];
    if (name !== '') out.add(name);
  }
  return [...out];
}

describe('NameTable: names as bytes', () => {
  it('gives back each text, finds it by text or bytes, and never adds it twice', () => {
    const table = new NameTable();
    const list = names(3000);
    const ids = list.map((n) => table.id(n));
    list.forEach((n, i) => {
      assert.equal(table.text(ids[i]!), n);
      assert.equal(table.find(n), ids[i]);
      assert.equal(table.id(n), ids[i]);
      const bytes = Buffer.from(n, 'utf8');
      assert.equal(table.findBytes(bytes, 0, bytes.length), ids[i]);
    });
    assert.equal(table.size, list.length);
    assert.equal(table.find('not.there'), -1);
  });

  it('orders names as compareHostnames orders their texts', () => {
    const table = new NameTable();
    const list = names(1500);
    const ids = list.map((n) => table.id(n));
    const byBytes = Int32Array.from(ids)
      .sort((a, b) => table.compare(a, b))
      .map((id) => id);
    const byText = [...list].sort(compareHostnames);
    assert.deepEqual(
      Array.from(byBytes, (id) => table.text(id)),
      byText,
    );
    for (let k = 0; k < 20_000; k++) {
      const a = ids[k % ids.length]!;
      const b = ids[(k * 7919) % ids.length]!;
      assert.equal(Math.sign(table.compare(a, b)), Math.sign(compareHostnames(table.text(a), table.text(b))), `${table.text(a)} / ${table.text(b)}`);
    }
  });
});
