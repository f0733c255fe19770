/**
 * The DNS fast path (lib/analysis/dns.ts) against dns-packet, differentially: whatever message the
 * fast path takes, its result is exactly dns-packet's. Real responses (A, AAAA, CNAME chains,
 * SOA, EDNS options, HTTPS records) and seeded mutations of them (bytes flipped, cut short,
 * counts changed, pointers bent) are tried; the fast path must take most of the real ones.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { DnsView, dnsMessageOf, fastDecode, packetDecode } from '../../lib/analysis/dns.js';
import { prng } from '../support/mutate.js';

const require = createRequire(import.meta.url);
const dnsPacket = require('dns-packet') as typeof import('dns-packet');

function realMessages(): Buffer[] {
  const q = (name: string, type: string, extra: object = {}) =>
    dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name } as never], ...extra });
  const r = (name: string, type: string, answers: object[], extra: object = {}) =>
    dnsPacket.encode({
      type: 'response',
      id: 4242,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type, name } as never],
      answers: answers as never,
      ...extra,
    });
  const opt = (options: object[]) => ({ additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options }] });
  return [
    q('api.news.test', 'A'),
    q('API.News.Test', 'AAAA', opt([])),
    q('padded.example', 'AAAA', opt([{ code: 12, data: Buffer.alloc(40) }])),
    q('subnet.example', 'A', opt([{ code: 'CLIENT_SUBNET', family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '10.0.0.0' }])),
    q('svc.example', 'HTTPS'),
    q('ipv4only.arpa', 'AAAA'),
    r('api.news.test', 'A', [{ type: 'A', name: 'api.news.test', ttl: 60, data: '198.51.100.7' }]),
    r('api.news.test', 'AAAA', [{ type: 'AAAA', name: 'api.news.test', ttl: 60, data: '2001:db8::1:0:0:7' }], opt([])),
    r('ipv4only.arpa', 'AAAA', [
      { type: 'AAAA', name: 'ipv4only.arpa', ttl: 60, data: '64:ff9b::c000:aa' },
      { type: 'AAAA', name: 'ipv4only.arpa', ttl: 60, data: '64:ff9b::c000:ab' },
    ]),
    r('www.cdn.example', 'AAAA', [
      { type: 'CNAME', name: 'www.cdn.example', ttl: 60, data: 'edge.cdn.example' },
      { type: 'AAAA', name: 'edge.cdn.example', ttl: 60, data: '2001:db8:0:0:1::' },
    ]),
    r('none.example', 'AAAA', [], {
      authorities: [
        {
          type: 'SOA',
          name: 'example',
          ttl: 60,
          data: { mname: 'ns.example', rname: 'host.master.example', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 },
        },
      ],
    }),
    r('svc.example', 'HTTPS', [{ type: 'UNKNOWN_65', name: 'svc.example', ttl: 60, data: Buffer.from([0, 1, 0, 0, 1, 0, 3, 2, 104, 50]) } as never]),
    r('mx.example', 'MX', [{ type: 'MX', name: 'mx.example', ttl: 60, data: { preference: 10, exchange: 'mail.example' } }]),
    r('txt.example', 'TXT', [{ type: 'TXT', name: 'txt.example', ttl: 60, data: 'hello' }]),
    r('caf\u00e9.example', 'A', [{ type: 'A', name: 'caf\u00e9.example', ttl: 60, data: '192.0.2.1' }]),
    r('z.example', 'AAAA', [
      { type: 'AAAA', name: 'z.example', ttl: 60, data: '::' },
      { type: 'AAAA', name: 'z.example', ttl: 60, data: '1:0:0:2:0:0:0:3' },
    ]),
  ];
}

function mutate(base: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(base);
  switch (Math.floor(rnd() * 5)) {
    case 0:
      for (let i = 0; i < 1 + rnd() * 3; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      return b;
    case 1:
      return b.subarray(0, Math.floor(rnd() * b.length));
    case 2:
      b.writeUInt16BE(Math.floor(rnd() * 4), 4 + 2 * Math.floor(rnd() * 4));
      return b;
    case 3: {
      // a pointer bent to anywhere
      const at = 12 + Math.floor(rnd() * Math.max(1, b.length - 13));
      b[at] = 0xc0 | Math.floor(rnd() * 4);
      b[at + 1] = Math.floor(rnd() * 256);
      return b;
    }
    default:
      return Buffer.concat([b, Buffer.from([Math.floor(rnd() * 256), Math.floor(rnd() * 256)])]);
  }
}

/** The fast path's message, null when it leaves the message to dns-packet. */
function fast(m: Buffer) {
  const view = new DnsView();
  return fastDecode(m, view) ? dnsMessageOf(view) : null;
}

/** dns-packet's message, or its reason. */
function slow(m: Buffer) {
  const view = new DnsView();
  const reason = packetDecode(m, view);
  return reason ?? dnsMessageOf(view);
}

describe('DNS decoding: the fast path gives exactly what dns-packet gives', () => {
  it('on real messages, and takes the usual ones itself', () => {
    let taken = 0;
    for (const m of realMessages()) {
      const quick = fast(m);
      if (quick !== null) {
        taken++;
        assert.deepEqual(quick, slow(m), m.toString('hex'));
      }
    }
    // All but the MX, TXT, non-ASCII name and client-subnet ones.
    assert.equal(taken, realMessages().length - 4);
  });

  it('on 40,000 seeded mutations of them', () => {
    const rnd = prng(0x19d45);
    const bases = realMessages();
    let taken = 0;
    for (let i = 0; i < 40_000; i++) {
      const m = mutate(bases[i % bases.length]!, rnd);
      const quick = fast(m);
      if (quick === null) continue;
      taken++;
      assert.deepEqual(quick, slow(m), `case ${i}: ${m.toString('hex')}`);
    }
    assert.ok(taken > 5_000, `the fast path took ${taken} mutated messages`);
  });
});
