// v6lab/expect: the matchers on AppJudgements built by hand, through expect-webdriverio's own
// `expect` outside a wdio run (the same singleton a wdio worker's global `expect` is). Each
// matcher passes, fails with a message naming the app, reasons, hostnames and addresses, works
// with `.not`, and fails both ways on a value that is not a judgement or on a window without traffic.
import assert from 'node:assert/strict';
import { expect } from 'expect-webdriverio';
import type { AppJudgement } from '../../lib/api/types.js';
import { notAJudgement, registerV6labMatchers, v6labMatchers } from '../../lib/wdio/expect.js';

const NO_BYTES = { 'native-v6': 0, nat64: 0, clat: 0, 'native-v4': 0 };

function judgement(over: {
  app?: string;
  verdict: AppJudgement['verdict'];
  reasons?: AppJudgement['reasons'];
  metrics?: Partial<AppJudgement['metrics']>;
}): AppJudgement {
  const bytesByPath = { ...NO_BYTES, ...over.metrics?.bytesByPath };
  const bytes = Object.values(bytesByPath).reduce((a, b) => a + b, 0);
  return {
    app: { package: over.app ?? 'com.example.app', uid: 10071 },
    verdict: over.verdict,
    reasons: over.reasons ?? [],
    metrics: {
      nativeV6ByteShare: bytes === 0 ? null : bytesByPath['native-v6'] / bytes,
      bytes,
      flows: bytes === 0 ? 0 : 2,
      hostnames: [],
      ipv4Literals: [],
      paths: [],
      attribution: 'uid',
      ...over.metrics,
      bytesByPath,
    },
    evidence: { pcap: '/evidence/window-1.pcap', analysis: '/evidence/window-1.json', captureMethod: 'device', window: { start: 1, end: 2 } },
    policy: { minIpv6Share: 0.7, slowFallbackMs: 2000 },
  };
}

const chat = judgement({
  app: 'com.example.chat',
  verdict: 'pass',
  metrics: { bytesByPath: { ...NO_BYTES, 'native-v6': 12000 }, hostnames: ['chat.test', 'push.test'] },
});
const news = judgement({
  app: 'com.example.news',
  verdict: 'warn',
  reasons: [{ code: 'SERVER_NO_IPV6', detail: 'img.news.test has no AAAA record', hostnames: ['img.news.test'], addresses: ['198.51.100.9'] }],
  metrics: { bytesByPath: { ...NO_BYTES, 'native-v6': 9000, clat: 3000 }, hostnames: ['api.news.test', 'img.news.test'] },
});
const game = judgement({
  app: 'com.example.game',
  verdict: 'fail',
  reasons: [{ code: 'IPV4_LITERAL', detail: 'connected to 192.0.2.80 without looking it up', hostnames: ['game.test'], addresses: ['192.0.2.80'] }],
  metrics: { bytesByPath: { ...NO_BYTES, 'native-v6': 15000, 'native-v4': 15000 }, hostnames: ['game.test', 'maps.test'], ipv4Literals: ['192.0.2.80'] },
});
const silent = judgement({
  app: 'com.example.idle',
  verdict: 'inconclusive',
  reasons: [{ code: 'NO_TRAFFIC', detail: 'no flow of the app in the window', hostnames: [], addresses: [] }],
});

/** The message expect threw, or a failed assertion when it did not throw. */
function failure(assertion: () => void): string {
  try {
    assertion();
  } catch (error) {
    return (error as Error).message;
  }
  return assert.fail('the assertion passed');
}

describe('v6lab/expect: matchers on app judgements', () => {
  it('registers on import: the matchers are on expect-webdriverio’s expect before registerV6labMatchers is called', () => {
    const matchers = expect(chat) as unknown as Record<string, unknown>;
    for (const name of Object.keys(v6labMatchers)) assert.equal(typeof matchers[name], 'function', name);
    registerV6labMatchers();
    expect(chat).toBeIpv6First();
  });

  describe('toBeIpv6First', () => {
    it('passes on pass, and on warn without a fail reason', () => {
      expect(chat).toBeIpv6First();
      expect(news).toBeIpv6First();
    });

    it('fails on fail, naming the app, the reason code, its hostname and address', () => {
      const message = failure(() => expect(game).toBeIpv6First());
      assert.match(message, /expected com\.example\.game to be IPv6 first, but its verdict is fail \(IPV4_LITERAL\)/);
      assert.match(message, /IPV4_LITERAL: connected to 192\.0\.2\.80 without looking it up \(hostnames game\.test; addresses 192\.0\.2\.80\)/);
      assert.match(message, /evidence: \/evidence\/window-1\.pcap/);
    });

    it('fails on a warn that carries a fail reason', () => {
      const odd = { ...news, reasons: [...news.reasons, { code: 'IPV4_FIRST' as const, detail: 'asked A first', hostnames: ['shop.test'], addresses: [] }] };
      assert.match(
        failure(() => expect(odd).toBeIpv6First()),
        /verdict is warn \(IPV4_FIRST\)/,
      );
    });

    it('.not passes on fail and fails on pass, naming the verdict', () => {
      expect(game).not.toBeIpv6First();
      const message = failure(() => expect(chat).not.toBeIpv6First());
      assert.match(message, /expected com\.example\.chat not to be IPv6 first, but its verdict is pass/);
      assert.match(message, /hostnames: chat\.test, push\.test/);
    });
  });

  describe('toHaveNoIpv4Literals', () => {
    it('passes without literals (a warn too)', () => {
      expect(chat).toHaveNoIpv4Literals();
      expect(news).toHaveNoIpv4Literals();
    });

    it('fails naming the literal address and the hostname the app meant', () => {
      const message = failure(() => expect(game).toHaveNoIpv4Literals());
      assert.match(message, /expected com\.example\.game to connect to no IPv4 literals, found 192\.0\.2\.80 \(IPV4_LITERAL; hostnames game\.test\)/);
    });

    it('.not passes with a literal and fails without one', () => {
      expect(game).not.toHaveNoIpv4Literals();
      assert.match(
        failure(() => expect(chat).not.toHaveNoIpv4Literals()),
        /expected com\.example\.chat to connect to an IPv4 literal, found none/,
      );
    });
  });

  describe('toHaveIpv6Share', () => {
    it('passes at or above the share', () => {
      expect(chat).toHaveIpv6Share(1);
      expect(news).toHaveIpv6Share(0.75);
    });

    it('fails below it, naming both shares, the bytes of each path and the reasons', () => {
      const message = failure(() => expect(game).toHaveIpv6Share(0.7));
      assert.match(message, /expected com\.example\.game to have a native IPv6 share of at least 70% of its 30000 bytes, got 50%/);
      assert.match(message, /paths: native-v6 15000 B, native-v4 15000 B/);
      assert.match(message, /IPV4_LITERAL/);
    });

    it('.not passes below the share and fails at it', () => {
      expect(game).not.toHaveIpv6Share(0.7);
      assert.match(
        failure(() => expect(news).not.toHaveIpv6Share(0.75)),
        /share below 75% of its 12000 bytes, got 75%/,
      );
    });

    it('refuses a share outside 0..1 in both directions', () => {
      assert.throws(() => expect(chat).toHaveIpv6Share(70), /min is a share from 0 to 1 \(0\.7 for 70%\), got 70/);
      assert.throws(() => expect(chat).not.toHaveIpv6Share(70), /min is a share from 0 to 1/);
    });
  });

  describe('toUsePath', () => {
    it('passes when some bytes took the path', () => {
      expect(news).toUsePath('clat');
      expect(news).toUsePath('native-v6');
    });

    it('fails naming the paths the bytes took instead', () => {
      const message = failure(() => expect(chat).toUsePath('nat64'));
      assert.match(message, /expected some of com\.example\.chat's bytes to take the nat64 path, but they took native-v6 12000 B/);
    });

    it('.not passes on an unused path and fails on a used one, with its bytes', () => {
      expect(chat).not.toUsePath('native-v4');
      assert.match(
        failure(() => expect(game).not.toUsePath('native-v4')),
        /expected none of com\.example\.game's bytes to take the native-v4 path, but 15000 of 30000 did/,
      );
    });

    it('refuses a path that is not one of the four', () => {
      // @ts-expect-error: the type of the argument is checked too
      assert.throws(() => expect(chat).toUsePath('ipv6'), /path is one of native-v6, nat64, clat, native-v4, got "ipv6"/);
    });
  });

  describe('no verdict without its evidence', () => {
    it('an inconclusive judgement (NO_TRAFFIC) fails every matcher, with .not and without', () => {
      const checks: [string, () => void][] = [
        ['toBeIpv6First', () => expect(silent).toBeIpv6First()],
        ['not.toBeIpv6First', () => expect(silent).not.toBeIpv6First()],
        ['toHaveNoIpv4Literals', () => expect(silent).toHaveNoIpv4Literals()],
        ['not.toHaveNoIpv4Literals', () => expect(silent).not.toHaveNoIpv4Literals()],
        ['toHaveIpv6Share', () => expect(silent).toHaveIpv6Share(0)],
        ['not.toHaveIpv6Share', () => expect(silent).not.toHaveIpv6Share(1)],
        ['toUsePath', () => expect(silent).toUsePath('native-v6')],
        ['not.toUsePath', () => expect(silent).not.toUsePath('native-v4')],
      ];
      for (const [name, check] of checks) {
        assert.match(failure(check), /no evidence either way: com\.example\.idle sent nothing in the capture window \(NO_TRAFFIC\)/, name);
      }
    });

    it("ends an inconclusive judgement's message with the app's own log, when the capture read one", () => {
      const tail = Array.from({ length: 12 }, (_, i) => `12-04 04:09:56.740  4425  4425 W RealProgram: line ${i + 1}`);
      const logged = { ...silent, appLog: { run: null, command: ['logcat', '-d', '--uid=10105'], file: '/ev/idle.logcat.txt', lines: 30, tail, error: null } };
      const said = failure(() => expect(logged).toBeIpv6First());
      assert.match(
        said,
        /NO_TRAFFIC[\s\S]*\n {2}the app's log \(logcat -d --uid=10105\), last 10 of 30 lines, whole in \/ev\/idle\.logcat\.txt:\n {4}.* line 3\n/,
      );
      assert.match(said, /line 12$/);
      assert.doesNotMatch(said, /line 2\n/);
      const unread = { ...silent, appLog: { run: null, command: ['logcat', '-d'], file: null, lines: 0, tail: [], error: 'logcat: unknown option --uid' } };
      assert.match(
        failure(() => expect(unread).toBeIpv6First()),
        /the app's log \(logcat -d\) could not be read: logcat: unknown option --uid$/,
      );
      assert.doesNotMatch(
        failure(() => expect(silent).toBeIpv6First()),
        /the app's log/,
      );
    });

    it('a judgement on a capture analysed in part (CAPTURE_INCOMPLETE) fails every matcher both ways, and says so', () => {
      const partial = judgement({
        app: 'com.example.busy',
        verdict: 'inconclusive',
        reasons: [{ code: 'CAPTURE_INCOMPLETE', detail: 'the analysis of the capture reached its memory bound', hostnames: [], addresses: [] }],
        metrics: { bytesByPath: { ...NO_BYTES, 'native-v6': 12000 }, hostnames: ['chat.test'] },
      });
      for (const check of [() => expect(partial).toBeIpv6First(), () => expect(partial).not.toBeIpv6First(), () => expect(partial).toUsePath('native-v6')]) {
        assert.match(failure(check), /no evidence either way: the capture of com\.example\.busy was analysed in part \(CAPTURE_INCOMPLETE/);
      }
    });

    it('a judgement on a capture that lost packets (CAPTURE_DROPPED) fails every matcher both ways, even beside a failure, and says so', () => {
      const lossy = judgement({
        app: 'com.example.busy',
        verdict: 'inconclusive',
        reasons: [
          { code: 'CAPTURE_DROPPED', detail: 'the capture lost 4 packets in the kernel', hostnames: [], addresses: [] },
          { code: 'IPV4_LITERAL', detail: 'connects to IPv4 address 198.51.100.7', hostnames: [], addresses: ['198.51.100.7'] },
        ],
        metrics: { bytesByPath: { ...NO_BYTES, clat: 900 }, hostnames: [] },
      });
      for (const check of [() => expect(lossy).toHaveNoIpv4Literals(), () => expect(lossy).not.toHaveNoIpv4Literals(), () => expect(lossy).toBeIpv6First()]) {
        assert.match(failure(check), /no evidence either way: the capture lost 4 packets in the kernel \(CAPTURE_DROPPED\)/);
      }
    });

    it('a value that is not a judgement fails both ways and says what it got', () => {
      assert.match(
        failure(() => expect(undefined).toBeIpv6First()),
        /toBeIpv6First: expected a v6lab judgement .*, got undefined/,
      );
      assert.match(
        failure(() => expect({ verdict: 'pass' }).not.toBeIpv6First()),
        /expected a v6lab judgement .*, got an object without app/,
      );
      const pending = Promise.resolve(chat);
      assert.match(
        failure(() => expect(pending as unknown).toHaveNoIpv4Literals()),
        /got a Promise: await browser\.v6lab\.judgeApp/,
      );
      assert.match(
        failure(() => expect('pass').not.toUsePath('clat')),
        /got string/,
      );
    });

    it('notAJudgement names the first field that is wrong', () => {
      assert.equal(notAJudgement(chat), null);
      assert.match(notAJudgement({ ...chat, verdict: 'ok' }) ?? '', /verdict is "ok"/);
      assert.match(notAJudgement({ ...chat, reasons: [{ code: 'X' }] }) ?? '', /reasons\[0\] is not a reason/);
      assert.match(notAJudgement({ ...chat, metrics: { ...chat.metrics, bytesByPath: undefined } }) ?? '', /metrics\.bytesByPath/);
      assert.match(notAJudgement({ ...chat, metrics: { ...chat.metrics, nativeV6ByteShare: '1' } }) ?? '', /nativeV6ByteShare/);
    });
  });
});
