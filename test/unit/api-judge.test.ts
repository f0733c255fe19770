// judgeCapture (lib/api/judge.ts): certify's attribution and verdict on a capture file or an
// analysis, under a policy that is checked; and the judgement's metrics as the contract gives them.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyzeFile } from '../../lib/analysis/index.js';
import { judgeCapture, PolicyError, resolvePolicy, type OwnedSocket } from '../../lib/api/index.js';
import { HandsetCapture } from '../support/scenario.js';

// The lab capture of test/fixtures/lab/README.md: dig, openssl s_client and echo on every path.
const LAB = resolve(import.meta.dirname, '../fixtures/lab/sll2-mixed.pcap');
const LAB_OPTIONS = { nat64Prefixes: ['64:ff9b::/96'], clatAddresses: ['2001:db8:64::4'] };

const HS = '2001:db8:1::100';
const DNS = '2001:db8:1::53';

const codes = (j: { reasons: { code: string }[] }) => j.reasons.map((r) => r.code).sort();

function pcapOf(capture: HandsetCapture): string {
  const file = join(mkdtempSync(join(tmpdir(), 'v6lab-api-judge-')), 'app.pcap');
  writeFileSync(file, capture.pcap());
  return file;
}

/** An app that looks its server up and reaches it over native IPv6. */
const ipv6First = () =>
  new HandsetCapture()
    .dns(0, HS, DNS, 3000, 1, 'api.news.test', 'AAAA', ['2001:db8:2::10'])
    .dns(0, HS, DNS, 3001, 2, 'api.news.test', 'A', ['100.64.0.10'])
    .tcp(0.1, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 20000 });

describe('judgeCapture (the programmatic API)', function () {
  this.timeout(20_000);

  it('passes an app that reaches its server over native IPv6, with its metrics and evidence', async () => {
    const file = pcapOf(ipv6First());
    const j = await judgeCapture({ file });
    assert.equal(j.verdict, 'pass', JSON.stringify(j.reasons));
    assert.deepEqual(j.app, { package: null, uid: null });
    assert.equal(j.metrics.nativeV6ByteShare, 1);
    assert.deepEqual(j.metrics.hostnames, ['api.news.test']);
    assert.deepEqual(j.metrics.paths, ['native-v6']);
    assert.deepEqual(j.metrics.ipv4Literals, []);
    assert.equal(j.metrics.attribution, 'window');
    assert.equal(j.evidence.pcap, file);
    assert.equal(j.evidence.analysis, null);
    assert.ok(j.evidence.window !== null && j.evidence.window.end > j.evidence.window.start);
    assert.deepEqual(j.policy, { minIpv6Share: 0.7, slowFallbackMs: 2000 });
  });

  it('fails an IPv4 literal, naming its address in the reason and the metrics', async () => {
    const j = await judgeCapture({ file: pcapOf(ipv6First().tcp(0.5, '10.0.0.2', 4001, '192.0.2.80', 80, { responseBytes: 500 })) });
    assert.equal(j.verdict, 'fail');
    assert.ok(codes(j).includes('IPV4_LITERAL'));
    assert.deepEqual(j.metrics.ipv4Literals, ['192.0.2.80']);
    assert.deepEqual(j.reasons.find((r) => r.code === 'IPV4_LITERAL')!.addresses, ['192.0.2.80']);
    assert.deepEqual(j.metrics.paths, ['native-v6', 'native-v4']);
  });

  it('judges a real lab capture by window over the whole of it: IPv4 tried first for api.cross.test fails', async () => {
    const j = await judgeCapture({ file: LAB }, { ...LAB_OPTIONS, appUid: 10123 });
    assert.equal(j.verdict, 'fail');
    assert.deepEqual(codes(j), ['IPV4_FIRST', 'IPV6_FAILED', 'LOW_IPV6_SHARE', 'NO_AAAA_QUERY', 'SERVER_NO_IPV6', 'SLOW_FALLBACK']);
    // A pcap has no socket owners: the uid given attributed nothing, and the judgement says so.
    assert.equal(j.app.uid, null);
    assert.equal(j.metrics.attribution, 'window');
    assert.deepEqual(j.metrics.hostnames, ['api.cross.test', 'nx.cross.test', 'v4only.cross.test', 'v6only.cross.test']);
  });

  it("with the device's sockets, attributes by uid: only the app's own connection is judged", async () => {
    const analysis = await analyzeFile(LAB, LAB_OPTIONS);
    const v6only = analysis.flows.find((f) => f.application === 'tls' && f.hostname === 'v6only.cross.test')!;
    // Every connection has an owner: the app's TLS to v6only.cross.test, everything else root's.
    const sockets: OwnedSocket[] = analysis.flows
      .filter((f) => f.application !== 'dns')
      .map((f) => ({
        transport: f.transport as 'tcp' | 'udp',
        local: { address: f.client, port: f.clientPort },
        remote: { address: f.server, port: f.serverPort },
        uid: f.id === v6only.id ? 10123 : 0,
      }));
    const j = await judgeCapture({ analysis }, { appUid: 10123, sockets, package: 'test.cross.v6only' });
    assert.deepEqual(j.app, { package: 'test.cross.v6only', uid: 10123 });
    assert.equal(j.metrics.attribution, 'uid');
    assert.equal(j.metrics.flows, 1);
    assert.equal(j.metrics.bytesByPath['native-v6'], v6only.bytes);
    assert.equal(j.metrics.nativeV6ByteShare, 1);
    // DNS has no uid (netd resolves): the name no other traffic used is still the app's.
    assert.deepEqual(codes(j), ['NO_AAAA_QUERY']);
    assert.deepEqual(j.reasons[0]!.hostnames, ['nx.cross.test']);
    assert.equal(j.evidence.pcap, null);
  });

  it('a window attributes only what began in it', async () => {
    const analysis = await analyzeFile(LAB, LAB_OPTIONS);
    const v6only = analysis.flows.find((f) => f.application === 'tls' && f.hostname === 'v6only.cross.test')!;
    const j = await judgeCapture({ analysis }, { window: { start: v6only.firstTs - 0.001, end: v6only.firstTs + 0.001 } });
    assert.equal(j.metrics.flows, 1);
    assert.equal(j.metrics.attribution, 'window');
    assert.deepEqual(j.evidence.window, { start: v6only.firstTs - 0.001, end: v6only.firstTs + 0.001 });
  });

  it('the policy decides LOW_IPV6_SHARE and SLOW_FALLBACK', async () => {
    const nat64 = pcapOf(
      new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'img.news.test', 'AAAA', ['64:ff9b::6440:14'])
        .tcp(0.1, HS, 4000, '64:ff9b::6440:14', 443, { responseBytes: 20000 }),
    );
    assert.ok(codes(await judgeCapture({ file: nat64 }, { nat64Prefixes: ['64:ff9b::/96'] })).includes('LOW_IPV6_SHARE'));
    const lenient = await judgeCapture({ file: nat64 }, { nat64Prefixes: ['64:ff9b::/96'], policy: { minIpv6Share: 0 } });
    assert.ok(!codes(lenient).includes('LOW_IPV6_SHARE'));
    assert.equal(lenient.policy.minIpv6Share, 0);

    const fallback = pcapOf(
      new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'cdn.news.test', 'AAAA', ['2001:db8:2::60'])
        .dns(0, '10.0.0.2', '10.0.0.1', 3001, 2, 'cdn.news.test', 'A', ['100.64.0.60'])
        .tcp(0.05, HS, 4000, '2001:db8:2::60', 443, { outcome: 'timeout' })
        .tcp(1.05, '10.0.0.2', 4001, '100.64.0.60', 443, { responseBytes: 100 }),
    );
    assert.ok(!codes(await judgeCapture({ file: fallback })).includes('SLOW_FALLBACK'));
    const strict = await judgeCapture({ file: fallback }, { policy: { slowFallbackMs: 250 } });
    assert.ok(codes(strict).includes('SLOW_FALLBACK'));
    assert.match(strict.reasons.find((r) => r.code === 'SLOW_FALLBACK')!.detail, /more than 250 ms/);
  });

  describe('policy validation', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ minIpv6Share: 1.5 }, 'minIpv6Share'],
      [{ minIpv6Share: -0.1 }, 'minIpv6Share'],
      [{ minIpv6Share: Number.NaN }, 'minIpv6Share'],
      [{ minIpv6Share: '0.7' }, 'minIpv6Share'],
      [{ slowFallbackMs: -1 }, 'slowFallbackMs'],
      [{ slowFallbackMs: 2.5 }, 'slowFallbackMs'],
      [{ slowFallbackMs: Number.POSITIVE_INFINITY }, 'slowFallbackMs'],
    ];
    for (const [policy, field] of bad) {
      it(`${Object.entries(policy).map(([k, v]) => `${k} ${typeof v === 'string' ? JSON.stringify(v) : v}`)} is a PolicyError naming ${field}, before any file is read`, async () => {
        await assert.rejects(
          // A file that does not exist: the policy is checked first.
          judgeCapture({ file: '/nonexistent/v6lab.pcap' }, { policy }),
          (e: unknown) => e instanceof PolicyError && e.field === field && e.message.startsWith(`policy.${field}: `),
        );
      });
    }

    it('the bounds themselves are a policy, and what is left out is certify’s default', () => {
      assert.deepEqual(resolvePolicy({ minIpv6Share: 0, slowFallbackMs: 0 }), { minIpv6Share: 0, slowFallbackMs: 0 });
      assert.deepEqual(resolvePolicy({ minIpv6Share: 1 }), { minIpv6Share: 1, slowFallbackMs: 2000 });
      assert.deepEqual(resolvePolicy(), { minIpv6Share: 0.7, slowFallbackMs: 2000 });
    });
  });
});
