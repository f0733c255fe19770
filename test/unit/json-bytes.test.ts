/**
 * JsonBytes (lib/analysis/json-bytes.ts) writes what printableJson writes: numbers as
 * JSON.stringify does (the capture-time fast path is exact or steps aside), addresses as
 * formatAddress does, strings escaped the same. Seeded cases, the same on every run.
 */
import assert from 'node:assert/strict';
import { JsonBytes } from '../../lib/analysis/json-bytes.js';
import { formatAddress } from '../../lib/net/address.js';
import { printableJson } from '../../lib/net/printable.js';
import { prng } from '../support/mutate.js';

// One writer for every case (a writer's buffer is 64 KiB), its buffers handed back once read.
let parts: Buffer[] = [];
const writer = new JsonBytes((bytes, release) => {
  parts.push(Buffer.from(bytes));
  release();
});

function written(write: (o: JsonBytes) => void): string {
  parts = [];
  write(writer);
  writer.end();
  return Buffer.concat(parts).toString('utf8');
}

describe('JsonBytes: the bytes printableJson would write', () => {
  it('capture times with micro- and nanosecond fractions, whole numbers, and numbers of every other kind', () => {
    const rnd = prng(19);
    const cases = [
      0,
      1,
      9,
      10,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 53,
      -1,
      -0.5,
      0.1,
      1e21,
      1e-7,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      1073741824,
      2147483647.999999,
      1793610000.5,
    ];
    for (let i = 0; i < 40_000; i++) {
      const s = 1073741824 + Math.floor(rnd() * 1073741823);
      cases.push(s + (Math.floor(rnd() * 1e6) * 1000) / 1e9, s + Math.floor(rnd() * 1e9) / 1e9, s + Math.floor(rnd() * 1000) / 1e3);
    }
    for (const x of cases)
      assert.equal(
        written((o) => o.number(x)),
        JSON.stringify(x) ?? 'null',
        String(x),
      );
  });

  it('addresses as formatAddress prints them, zero runs of every length and place', () => {
    const rnd = prng(7);
    for (let i = 0; i < 10_000; i++) {
      const bytes = Uint8Array.from({ length: 16 }, () => (rnd() < 0.6 ? 0 : Math.floor(rnd() * 256)));
      for (const family of [4, 6] as const)
        assert.equal(
          written((o) => o.address(bytes, 0, family)),
          formatAddress(bytes, 0, family),
        );
    }
  });

  it('strings, plain and hostile, and whole values', () => {
    for (const text of [
      'api.news.test',
      '',
      'a"b',
      'back\\slash',
      'caf\u00e9',
      '\u001b[31m',
      '\u202eevil',
      '\u2028',
      '\u009b',
      '中文.example',
      'x'.repeat(100_000),
    ]) {
      assert.equal(
        written((o) => o.string(text)),
        printableJson(text),
      );
    }
    assert.equal(
      written((o) => o.string(null)),
      'null',
    );
    const value = { a: [1, 'b', null], c: { d: '\u001b' } };
    assert.equal(
      written((o) => o.value(value)),
      printableJson(value),
    );
  });
});
