// `v6lab analyze CAPTURE --app-uid N` as a user runs it (the built command line): the app's
// verdict by certify's rules, exit 1 when it fails, 4 when nothing of the app's was seen, 0 otherwise,
// 2 for options that are wrong.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v6lab } from '../support/cli.js';
import { HandsetCapture } from '../support/scenario.js';

const HS = '2001:db8:1::100';
const DNS = '2001:db8:1::53';

describe('v6lab analyze --app-uid (the command line)', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-analyze-app-'));
  const ipv6First = () =>
    new HandsetCapture()
      .dns(0, HS, DNS, 3000, 1, 'api.news.test', 'AAAA', ['2001:db8:2::10'])
      .dns(0, HS, DNS, 3001, 2, 'api.news.test', 'A', ['100.64.0.10'])
      .tcp(0.1, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 20000 });
  const passing = join(dir, 'ipv6-first.pcap');
  writeFileSync(passing, ipv6First().pcap());
  const literal = join(dir, 'ipv4-literal.pcap');
  writeFileSync(literal, ipv6First().tcp(0.5, '10.0.0.2', 4001, '192.0.2.80', 80, { responseBytes: 500 }).pcap());

  it('exit 0 and PASS for an app that is IPv6 first, saying how its flows were attributed', async () => {
    const { code, stdout, stderr } = await v6lab(['analyze', passing, '--app-uid', '10123']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Verdict {4}PASS /m);
    // A pcap alone has no socket owners: the uid chose nothing, and the output says so.
    assert.match(stdout, /^App {8}uid 10123: flows attributed by time window over the whole capture: a capture alone has no socket owners/m);
  });

  it('exit 1 and FAIL for an IPv4 literal, naming the address', async () => {
    const { code, stdout } = await v6lab(['analyze', literal, '--app-uid', '10123']);
    assert.equal(code, 1);
    assert.match(stdout, /^Verdict {4}FAIL /m);
    assert.match(stdout, /^ {2}IPV4_LITERAL: connects to IPv4 address 192\.0\.2\.80 /m);
    assert.match(stdout, /^Literals {3}192\.0\.2\.80$/m);
  });

  it('exit 4 (incomplete, never a pass) when the capture holds nothing of the app: INCONCLUSIVE, NO_TRAFFIC', async () => {
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, new HandsetCapture().pcap());
    const { code, stdout, stderr } = await v6lab(['analyze', empty, '--app-uid', '10123']);
    assert.equal(code, 4, stderr);
    assert.match(stdout, /INCONCLUSIVE/);
    assert.match(stdout, /NO_TRAFFIC/);
  });

  it('--json carries the judgement beside the analysis, and the exit code is the verdict’s', async () => {
    const { code, stdout } = await v6lab(['analyze', literal, '--app-uid', '10123', '--json', '--min-ipv6-share', '0.5']);
    assert.equal(code, 1);
    const out = JSON.parse(stdout);
    assert.ok(Array.isArray(out.flows), 'the analysis is still there');
    assert.equal(out.judgement.verdict, 'fail');
    assert.deepEqual(out.judgement.metrics.ipv4Literals, ['192.0.2.80']);
    assert.deepEqual(out.judgement.app, { package: null, uid: null });
    assert.equal(out.judgement.metrics.attribution, 'window');
    assert.deepEqual(out.judgement.policy, { minIpv6Share: 0.5, slowFallbackMs: 2000 });
    assert.equal(out.judgement.evidence.pcap, literal);
  });

  it('the policy options decide: a strict share turns a pass into a warn (still exit 0)', async () => {
    const nat64 = join(dir, 'nat64.pcap');
    writeFileSync(
      nat64,
      new HandsetCapture()
        .dns(0, HS, DNS, 3000, 1, 'img.news.test', 'AAAA', ['64:ff9b::6440:14'])
        .dns(0, HS, DNS, 3001, 2, 'img.news.test', 'A', ['100.64.0.20'])
        .tcp(0.1, HS, 4000, '64:ff9b::6440:14', 443, { responseBytes: 20000 })
        .pcap(),
    );
    const lenient = await v6lab(['analyze', nat64, '--nat64-prefix', '64:ff9b::/96', '--app-uid', '1', '--min-ipv6-share', '0', '--json']);
    assert.deepEqual(
      JSON.parse(lenient.stdout).judgement.reasons.map((r: { code: string }) => r.code),
      ['SERVER_NO_IPV6'],
    );
    const strict = await v6lab(['analyze', nat64, '--nat64-prefix', '64:ff9b::/96', '--app-uid', '1']);
    assert.equal(strict.code, 0);
    assert.match(strict.stdout, /^Verdict {4}WARN /m);
    assert.match(strict.stdout, /LOW_IPV6_SHARE: native IPv6 carried 0\.0% of the app's bytes, below the policy's 70%/);
  });

  it('no judgement without --app-uid or --app: exit 0 whatever the capture holds', async () => {
    const { code, stdout } = await v6lab(['analyze', literal]);
    assert.equal(code, 0);
    assert.doesNotMatch(stdout, /^Verdict/m);
  });

  const bad: [string[], RegExp][] = [
    [['--app-uid', '10123', '--min-ipv6-share', '1.5'], /--min-ipv6-share: "1\.5" is not a share from 0 to 1/],
    [['--app-uid', '10123', '--min-ipv6-share', 'most'], /--min-ipv6-share: "most" is not a share/],
    [['--app-uid', '10123', '--slow-fallback-ms', '2.5'], /--slow-fallback-ms: "2\.5" is not a whole number of milliseconds/],
    [['--app-uid', 'x'], /--app-uid: "x" is not a whole number/],
    [['--min-ipv6-share', '0.5'], /--min-ipv6-share: judges an app: give --app-uid N or --app PKG --device SERIAL/],
    [['--app', 'com.example.news'], /--app: give --device SERIAL/],
    [['--device', 'emulator-5554'], /--device: only with --app PKG/],
    [['--app', 'com.example.news', '--device', 'emulator-5554', '--app-uid', '1'], /--app and --app-uid: give one/],
  ];
  for (const [args, message] of bad) {
    it(`exit 2 for ${args.join(' ')}, naming the option`, async () => {
      const { code, stderr } = await v6lab(['analyze', passing, ...args]);
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
    });
  }
});
