// v6lab/wdio without a device: the service's options checked with errors naming the field, the
// device serial read from the capabilities, browser.v6lab defined in `before` and opening the
// capture only when used, windows named after the test, the Allure attachments, and `after`
// closing the capture with a warning for a window left open. The capture is a fake AppCapture;
// the lab test (test/lab/appium.test.ts) runs the real one in a real wdio run.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { SevereServiceError } from 'webdriverio';
import type { AppCapture, AppJudgement, DeviceCaptureOptions, JudgePolicy, NetworkFacts } from '../../lib/api/types.js';
import { DataFileError } from '../../lib/config/schema.js';
import V6labService, {
  DeviceSerialError,
  deviceSerial,
  launcher,
  NoCaptureWindowError,
  parseServiceOptions,
  V6labLauncher,
  windowName,
  type OpenCapture,
} from '../../lib/wdio/service.js';

const SERIAL = 'emulator-5554';

function judgement(pkg: string | null): AppJudgement {
  return {
    app: { package: pkg, uid: 10071 },
    verdict: 'pass',
    reasons: [],
    metrics: {
      nativeV6ByteShare: 1,
      bytes: 12000,
      flows: 2,
      bytesByPath: { 'native-v6': 12000, nat64: 0, clat: 0, 'native-v4': 0 },
      hostnames: ['chat.test'],
      ipv4Literals: [],
      paths: ['native-v6'],
      attribution: 'uid',
    },
    evidence: { pcap: '/evidence/w.pcap', analysis: '/evidence/w.json', captureMethod: 'device', window: { start: 1, end: 2 } },
    policy: { minIpv6Share: 0.7, slowFallbackMs: 2000 },
  };
}

/** An AppCapture that records what it was asked. */
class FakeCapture implements AppCapture {
  readonly calls: string[] = [];
  constructor(readonly serial: string) {}
  async startCapture(pkg?: string, name?: string, policy?: JudgePolicy): Promise<void> {
    this.calls.push(`start ${pkg} ${name}${policy === undefined ? '' : ` ${JSON.stringify(policy)}`}`);
  }
  async stopCapture(): Promise<AppJudgement> {
    this.calls.push('stop');
    return judgement('com.example.chat');
  }
  async judgeApp(pkg: string, steps: () => Promise<void>, options?: { name?: string }): Promise<AppJudgement> {
    this.calls.push(`judge ${pkg} ${options?.name}`);
    await steps();
    return judgement(pkg);
  }
  async observeNetwork(): Promise<NetworkFacts> {
    this.calls.push('observe');
    return { serial: this.serial, defaultNetwork: null, observedAt: '2026-12-03T07:00:00Z' };
  }
  async close(): Promise<void> {
    this.calls.push('close');
  }
}

/** The service with a fake capture, and what it was opened with. */
function service(options: unknown = {}) {
  const opened: DeviceCaptureOptions[] = [];
  let capture: FakeCapture | null = null;
  const open: OpenCapture = async (o) => {
    opened.push(o);
    capture = new FakeCapture(o.serial);
    return capture;
  };
  class TestService extends V6labService {
    protected override openCapture = open;
  }
  return { svc: new TestService(options), opened, capture: () => capture };
}

const fakeBrowser = (requestedCapabilities: Record<string, unknown>, capabilities: Record<string, unknown> = {}) =>
  ({ requestedCapabilities, capabilities }) as unknown as WebdriverIO.Browser;

const test = (parent: string, title: string) => ({ parent, title }) as unknown as Parameters<V6labService['beforeTest']>[0];

describe('v6lab/wdio: the WebdriverIO service', () => {
  describe('options', () => {
    it('takes capture methods, evidence directory, policy and adb server', () => {
      const options = {
        capture: { methods: ['device', 'gateway'], gatewayCapture: { gateway: '/run/v6lab/gw' } },
        evidenceDir: 'reports/v6lab',
        policy: { minIpv6Share: 0.8, slowFallbackMs: 1500 },
        adb: { host: '127.0.0.1', port: 5038 },
      };
      assert.deepEqual(parseServiceOptions(options), options);
      assert.deepEqual(parseServiceOptions(undefined), {});
    });

    it('refuses a typo, a share given in percent and an unknown capture method, naming the field', () => {
      assert.throws(
        () => parseServiceOptions({ evidencedir: 'x' }),
        (e: unknown) => e instanceof DataFileError && /V6labService options: evidencedir: unknown field/.test(e.message),
      );
      assert.throws(() => parseServiceOptions({ policy: { minIpv6Share: 70 } }), /policy\.minIpv6Share: expected a number from 0 to 1, got 70/);
      assert.throws(
        () => parseServiceOptions({ capture: { methods: ['tcpdump'] } }),
        /capture\.methods\[0\]: expected one of "device", "gateway", "emulator", "pcapdroid"/,
      );
    });

    it('bad options stop the run once, in the launcher (SevereServiceError); good ones do not', () => {
      assert.equal(launcher, V6labLauncher);
      assert.throws(
        () => new launcher({ policy: { minIpv6Share: 2 } }).onPrepare(),
        (e: unknown) => e instanceof SevereServiceError && /policy\.minIpv6Share/.test(e.message),
      );
      assert.throws(() => new V6labService({ adb: { port: 0 } }).onPrepare(), SevereServiceError);
      new V6labService({ evidenceDir: 'reports/v6lab' }).onPrepare();
    });
  });

  describe('the device serial', () => {
    it('is appium:udid, or udid in appium:options, or in W3C alwaysMatch, else the udid the session reports', () => {
      assert.equal(deviceSerial({ 'appium:udid': SERIAL }), SERIAL);
      assert.equal(deviceSerial({ 'appium:options': { udid: '192.168.1.5:5555' } }), '192.168.1.5:5555');
      assert.equal(deviceSerial({ alwaysMatch: { 'appium:udid': SERIAL } }), SERIAL);
      assert.equal(deviceSerial({ platformName: 'Android' }, { 'appium:udid': 'R58M123' }), 'R58M123');
    });

    it('is an error naming the capability when there is none or it is no serial', () => {
      assert.throws(
        () => deviceSerial({ platformName: 'Android' }, {}),
        (e: unknown) => e instanceof DeviceSerialError && e.capability === 'appium:udid' && /set the capability appium:udid/.test(e.message),
      );
      assert.throws(() => deviceSerial({ 'appium:udid': 'a b; rm -rf /' }), /appium:udid is "a b; rm -rf \/", not an adb serial/);
    });

    it('names a capture window after the test, in characters safe for a file name', () => {
      assert.equal(windowName('checkout pays over IPv6 (shop) com.example.shop'), 'checkout-pays-over-IPv6-shop-com.example.shop');
      assert.equal(windowName('../../etc'), 'etc');
      assert.equal(windowName('***'), 'wdio');
    });
  });

  describe('browser.v6lab', () => {
    it('is defined in before and opens the capture only when first used, with the options and the adb server of appium:adbPort', async () => {
      const { svc, opened, capture } = service({ evidenceDir: 'reports/v6lab', policy: { minIpv6Share: 0.8 }, capture: { methods: ['device'] } });
      const browser = fakeBrowser({ 'appium:udid': SERIAL, 'appium:adbPort': 5038 });
      await svc.before({}, [], browser);
      assert.equal(browser.v6lab.serial, SERIAL);
      assert.equal(opened.length, 0, 'nothing opened before use');
      await browser.v6lab.observeNetwork();
      await browser.v6lab.observeNetwork();
      assert.deepEqual(opened, [{ methods: ['device'], serial: SERIAL, adb: { port: 5038 }, evidenceDir: 'reports/v6lab', policy: { minIpv6Share: 0.8 } }]);
      assert.deepEqual(capture()?.calls, ['observe', 'observe']);
      await svc.after();
      assert.deepEqual(capture()?.calls.at(-1), 'close');
    });

    it('judgeApp runs the steps in a window named after the test and the package', async () => {
      const { svc, capture } = service();
      const browser = fakeBrowser({ 'appium:udid': SERIAL });
      await svc.before({}, [], browser);
      svc.beforeTest(test('checkout', 'pays over IPv6'));
      let ran = false;
      const result = await browser.v6lab.judgeApp('com.example.shop', async () => {
        ran = true;
      });
      assert.equal(ran, true);
      assert.equal(result.app.package, 'com.example.shop');
      assert.deepEqual(capture()?.calls, ['judge com.example.shop checkout-pays-over-IPv6-com.example.shop']);
      await assert.rejects(
        browser.v6lab.judgeApp('', async () => undefined),
        /pkg is an installed package/,
      );
    });

    it('startCapture and stopCapture span hooks; stopCapture without a window is an error naming the serial', async () => {
      const { svc, capture } = service();
      const browser = fakeBrowser({ 'appium:udid': SERIAL });
      await svc.before({}, [], browser);
      await assert.rejects(
        browser.v6lab.stopCapture(),
        (e: unknown) => e instanceof NoCaptureWindowError && /no capture window is open on emulator-5554/.test(e.message),
      );
      svc.beforeTest(test('login', 'keeps the session'));
      await browser.v6lab.startCapture('com.example.chat', { policy: { minIpv6Share: 0.9 } });
      svc.afterTest();
      const result = await browser.v6lab.stopCapture();
      assert.equal(result.verdict, 'pass');
      assert.deepEqual(capture()?.calls, ['start com.example.chat login-keeps-the-session-com.example.chat {"minIpv6Share":0.9}', 'stop']);
      await assert.rejects(browser.v6lab.stopCapture(), NoCaptureWindowError);
    });

    it('after: a window left open is stopped by close, its evidence discarded, and a warning says so', async () => {
      const { svc, capture } = service();
      const browser = fakeBrowser({ 'appium:udid': SERIAL });
      await svc.before({}, [], browser);
      await browser.v6lab.startCapture(undefined, { name: 'spanning' });
      const warned = once(process, 'warning') as Promise<[Error & { code?: string }]>;
      await svc.after();
      const [warning] = await warned;
      assert.equal(warning.code, 'V6LAB_WINDOW_DISCARDED');
      assert.match(warning.message, /window "spanning" on emulator-5554 was still open .* evidence discarded/);
      assert.deepEqual(capture()?.calls, ['start undefined spanning', 'close']);
      await svc.after();
      assert.equal(capture()?.calls.filter((c) => c === 'close').length, 1, 'closed once');
    });

    it('without a device serial, every call fails naming the capability; nothing is opened', async () => {
      const { svc, opened } = service();
      const browser = fakeBrowser({ platformName: 'Android' });
      await svc.before({}, [], browser);
      await assert.rejects(
        browser.v6lab.judgeApp('com.example.chat', async () => undefined),
        (e: unknown) => e instanceof DeviceSerialError && /appium:udid/.test(e.message),
      );
      await assert.rejects(browser.v6lab.observeNetwork(), DeviceSerialError);
      assert.throws(() => browser.v6lab.serial, DeviceSerialError);
      assert.equal(opened.length, 0);
      await svc.after();
    });
  });

  describe('Allure', () => {
    const key = 'allureTestRuntime';
    afterEach(() => {
      delete (globalThis as Record<string, unknown>)[key];
    });

    it('with an Allure runtime registered, a judgement is attached as JSON and its pcap from its path', async () => {
      const attached: { kind: string; name: string; content: string; contentType: string }[] = [];
      const runtime = {
        attachment: async (name: string, content: string, options: { contentType: string }) => {
          attached.push({ kind: 'content', name, content, contentType: options.contentType });
        },
        attachmentFromPath: async (name: string, path: string, options: { contentType: string }) => {
          attached.push({ kind: 'path', name, content: path, contentType: options.contentType });
        },
      };
      (globalThis as Record<string, unknown>)[key] = () => runtime;
      const { svc } = service();
      const browser = fakeBrowser({ 'appium:udid': SERIAL });
      await svc.before({}, [], browser);
      await browser.v6lab.judgeApp('com.example.chat', async () => undefined);
      assert.deepEqual(
        attached.map(({ kind, name, contentType }) => [kind, name, contentType]),
        [
          ['content', 'v6lab judgement com.example.chat', 'application/json'],
          ['path', 'v6lab capture com.example.chat.pcap', 'application/vnd.tcpdump.pcap'],
        ],
      );
      assert.equal((JSON.parse(attached[0]!.content) as AppJudgement).verdict, 'pass');
      assert.equal(attached[1]!.content, '/evidence/w.pcap');
    });

    it('without one, nothing is attached and the judgement is returned', async () => {
      const { svc } = service();
      const browser = fakeBrowser({ 'appium:udid': SERIAL });
      await svc.before({}, [], browser);
      assert.equal((await browser.v6lab.judgeApp('com.example.chat', async () => undefined)).verdict, 'pass');
    });
  });
});
