// The v6lab Appium plugin (issue 17): its settings, the arguments of `v6lab: ...` execute calls,
// the session's device, and one capture window per session that ending the session closes. The
// programmatic API is a fake here; test/lab/appium.test.ts drives the real one through a real
// Appium server over plain HTTP.
import assert from 'node:assert/strict';
import type { ExternalDriver } from '@appium/types';
import type { AppCapture, AppJudgement, DeviceCaptureOptions, NetworkFacts } from '../../lib/api/types.js';
import { DataFileError } from '../../lib/config/schema.js';
import { parseExecuteArgs, parsePluginSettings, sessionDevice } from '../../lib/plugin/options.js';
import { type PluginDeviceApi, V6labPlugin } from '../../lib/plugin/plugin.js';

const SERIAL = 'emulator-5554';

const judgement = (pkg: string | null): AppJudgement => ({
  app: { package: pkg, uid: 10123 },
  verdict: 'pass',
  reasons: [],
  metrics: {
    nativeV6ByteShare: 1,
    bytes: 1000,
    flows: 1,
    bytesByPath: {} as AppJudgement['metrics']['bytesByPath'],
    hostnames: ['api.example.test'],
    ipv4Literals: [],
    paths: [],
    attribution: 'uid',
  },
  evidence: { pcap: '/tmp/e/w.pcap', analysis: '/tmp/e/w.json', captureMethod: 'device', window: { start: 1, end: 2 } },
  policy: { minIpv6Share: 0.7, slowFallbackMs: 2000 },
});

/** A fake API that records what the plugin asked of it. */
function fakeApi(failStart = false) {
  const log: string[] = [];
  const opened: DeviceCaptureOptions[] = [];
  let pkgStarted: string | null = null;
  const api: PluginDeviceApi = {
    async openAppCapture(options) {
      opened.push(options);
      log.push(`open ${options.serial}`);
      const capture: AppCapture = {
        serial: options.serial,
        async startCapture(pkg, name, policy) {
          log.push(`start ${pkg ?? '-'} ${name ?? '-'}${policy === undefined ? '' : ` ${JSON.stringify(policy)}`}`);
          if (failStart) throw new Error('no tcpdump on the device');
          pkgStarted = pkg ?? null;
        },
        async stopCapture() {
          log.push('stop');
          return judgement(pkgStarted);
        },
        judgeApp: () => Promise.reject(new Error('not used')),
        observeNetwork: () => Promise.reject(new Error('not used')),
        async close() {
          log.push('close');
        },
      };
      return capture;
    },
    async observeDevice(serial, adb) {
      log.push(`observe ${serial} ${JSON.stringify(adb ?? null)}`);
      return { serial, defaultNetwork: null, observedAt: '2026-12-03T07:00:00.000Z' } satisfies NetworkFacts;
    },
  };
  return { api, log, opened };
}

const driverWith = (opts: Record<string, unknown>) => ({ opts }) as unknown as ExternalDriver;
const driver = driverWith({ udid: SERIAL, adbPort: 5038 });
const toDriver = async () => 'the driver answered';

/** The W3C error code a rejection carries (`invalid argument`, `unknown error`). */
async function w3cError(promise: Promise<unknown>): Promise<{ error: string; message: string }> {
  try {
    await promise;
  } catch (e) {
    return { error: (e as { error: string }).error, message: (e as Error).message };
  }
  assert.fail('expected a rejection');
}

describe('appium plugin: settings, arguments and the session device', () => {
  it('reads the settings Appium hands it, paths made absolute against its working directory', () => {
    const settings = parsePluginSettings(
      { captureMethods: ['gateway', 'device'], gateway: 'gw-state', evidenceDir: 'evidence', minIpv6Share: 0.5, slowFallbackMs: undefined },
      '/srv/appium',
    );
    assert.deepEqual(settings, {
      methods: ['gateway', 'device'],
      gatewayCapture: { gateway: '/srv/appium/gw-state' },
      evidenceDir: '/srv/appium/evidence',
      policy: { minIpv6Share: 0.5 },
    });
    assert.deepEqual(parsePluginSettings({}, '/'), { policy: {} });
  });

  it('refuses a setting it does not know, a capture method that does not exist, and two gateway captures, naming the setting', () => {
    assert.throws(
      () => parsePluginSettings({ evidenceDirectory: 'x' }, '/'),
      (e: DataFileError) => e instanceof DataFileError && e.field === 'evidenceDirectory',
    );
    assert.throws(() => parsePluginSettings({ captureMethods: ['wifi'] }, '/'), /captureMethods\[0\]: expected one of "device", "gateway"/);
    assert.throws(() => parsePluginSettings({ minIpv6Share: 70 }, '/'), /minIpv6Share: expected a number from 0 to 1/);
    assert.throws(
      () => parsePluginSettings({ gateway: '/run/gw', gatewayCapture: ['tcpdump', '-w', '-'] }, '/'),
      /gateway: give gateway .* or gatewayCapture .*, not both/,
    );
  });

  it('checks each call: a misspelt key is an error (not a whole-device judgement), and so are a bad package and two arguments', () => {
    assert.deepEqual(parseExecuteArgs('v6lab: startCapture', [{ package: 'com.example.news', name: 'login-1' }]), {
      package: 'com.example.news',
      name: 'login-1',
    });
    assert.deepEqual(parseExecuteArgs('v6lab: startCapture', []), {});
    assert.throws(
      () => parseExecuteArgs('v6lab: startCapture', [{ pakage: 'com.example.news' }]),
      /pakage: unknown field \(known: package, name, minIpv6Share, slowFallbackMs\)/,
    );
    assert.throws(() => parseExecuteArgs('v6lab: startCapture', [{ package: 'news; rm -rf /' }]), /package: expected an Android package name/);
    assert.throws(() => parseExecuteArgs('v6lab: startCapture', [{ name: '../../etc' }]), /name: expected a name of letters/);
    assert.throws(() => parseExecuteArgs('v6lab: stopCapture', [{}, {}]), /expected none or one object, got 2 arguments/);
    assert.throws(
      () => parseExecuteArgs('v6lab: stopCapture', [{ minIpv6Share: 0.5 }]),
      /^DataFileError: arguments: minIpv6Share: unknown field: this method takes no arguments$/,
    );
    assert.throws(() => parseExecuteArgs('v6lab: observeNetwork', ['emulator-5554']), /arguments: expected an object, got "emulator-5554"/);
    assert.deepEqual(parseExecuteArgs('v6lab: observeNetwork', [{}]), {});
  });

  it("takes the device from the session: appium:udid, and the adb server's port and host when the driver was given them", () => {
    assert.deepEqual(sessionDevice({ udid: SERIAL }), { serial: SERIAL });
    assert.deepEqual(sessionDevice({ udid: SERIAL, adbPort: 5038, remoteAdbHost: 'adb-host' }), { serial: SERIAL, adb: { port: 5038, host: 'adb-host' } });
    assert.throws(() => sessionDevice({}), /appium:udid: missing: the v6lab plugin captures the device named by appium:udid/);
    assert.throws(() => sessionDevice({ udid: SERIAL, adbPort: '5038' }), /appium:adbPort: expected a whole number/);
  });
});

describe('appium plugin: one capture window per session', () => {
  it('opens one capture of the session device with the server settings; each window takes its call policy; stopCapture returns the judgement', async () => {
    const { api, log, opened } = fakeApi();
    const plugin = new V6labPlugin('v6lab', { evidenceDir: '/srv/evidence', minIpv6Share: 0.5, slowFallbackMs: 1000 }, null, api);
    const started = await plugin.execute(toDriver, driver, 'v6lab: startCapture', [{ package: 'com.example.news', slowFallbackMs: 3000 }]);
    assert.deepEqual(started, { serial: SERIAL, package: 'com.example.news', name: null });
    assert.deepEqual(opened, [{ serial: SERIAL, adb: { port: 5038 }, evidenceDir: '/srv/evidence', policy: { minIpv6Share: 0.5, slowFallbackMs: 1000 } }]);
    const judged = (await plugin.execute(toDriver, driver, 'v6lab: stopCapture', [])) as AppJudgement;
    assert.equal(judged.app.package, 'com.example.news');
    // The second window reuses the session's capture (the device's own servers learnt across windows).
    await plugin.execute(toDriver, driver, 'v6lab: startCapture', [{ name: 'second' }]);
    await plugin.execute(toDriver, driver, 'v6lab: stopCapture', [{}]);
    assert.deepEqual(log, [`open ${SERIAL}`, 'start com.example.news - {"slowFallbackMs":3000}', 'stop', 'start - second', 'stop']);
  });

  it('refuses a second start while a window is open, and a stop with none open', async () => {
    const { api } = fakeApi();
    const plugin = new V6labPlugin('v6lab', {}, null, api);
    assert.match((await w3cError(plugin.execute(toDriver, driver, 'v6lab: stopCapture', []))).message, /no capture window is open in this session/);
    await plugin.execute(toDriver, driver, 'v6lab: startCapture', [{ package: 'com.example.news' }]);
    const again = await w3cError(plugin.execute(toDriver, driver, 'v6lab: startCapture', []));
    assert.match(again.message, /already open on emulator-5554 \(package com\.example\.news\): call "v6lab: stopCapture" first/);
    await plugin.execute(toDriver, driver, 'v6lab: stopCapture', []);
  });

  it('answers a misspelt argument, a bad setting and a session without udid with W3C invalid argument, before any device work', async () => {
    const { api, log } = fakeApi();
    const typo = await w3cError(new V6labPlugin('v6lab', {}, null, api).execute(toDriver, driver, 'v6lab: startCapture', [{ pakage: 'com.example.news' }]));
    assert.equal(typo.error, 'invalid argument');
    assert.match(typo.message, /v6lab: startCapture.*pakage: unknown field/);
    const setting = await w3cError(new V6labPlugin('v6lab', { captureMethods: ['wifi'] }, null, api).execute(toDriver, driver, 'v6lab: observeNetwork', []));
    assert.equal(setting.error, 'invalid argument');
    assert.match(setting.message, /--plugin-v6lab-.*captureMethods\[0\]/);
    const noUdid = await w3cError(new V6labPlugin('v6lab', {}, null, api).execute(toDriver, driverWith({}), 'v6lab: startCapture', []));
    assert.equal(noUdid.error, 'invalid argument');
    assert.match(noUdid.message, /appium:udid: missing/);
    assert.deepEqual(log, []);
  });

  it('a start that fails says which device and leaves no window behind; the session still closes its capture', async () => {
    const { api, log } = fakeApi(true);
    const plugin = new V6labPlugin('v6lab', {}, null, api);
    const failed = await w3cError(plugin.execute(toDriver, driver, 'v6lab: startCapture', []));
    assert.equal(failed.error, 'unknown error');
    assert.match(failed.message, /v6lab: startCapture on emulator-5554: no tcpdump on the device/);
    assert.match((await w3cError(plugin.execute(toDriver, driver, 'v6lab: stopCapture', []))).message, /no capture window is open/);
    await plugin.deleteSession(toDriver, driver);
    assert.deepEqual(log, [`open ${SERIAL}`, 'start - -', 'close']);
  });

  it('an open that fails is tried again by the next start', async () => {
    const { api, log } = fakeApi();
    let refusals = 1;
    const flaky: PluginDeviceApi = {
      ...api,
      openAppCapture: (options) => (refusals-- > 0 ? Promise.reject(new Error('emulator-5554 is offline')) : api.openAppCapture(options)),
    };
    const plugin = new V6labPlugin('v6lab', {}, null, flaky);
    assert.match((await w3cError(plugin.execute(toDriver, driver, 'v6lab: startCapture', []))).message, /on emulator-5554: emulator-5554 is offline/);
    await plugin.execute(toDriver, driver, 'v6lab: startCapture', []);
    assert.deepEqual(log, [`open ${SERIAL}`, 'start - -']);
  });

  it('ending the session, deleted or dead, closes its capture, a window open or not; the driver still ends it', async () => {
    const { api, log } = fakeApi();
    const plugin = new V6labPlugin('v6lab', {}, null, api);
    await plugin.execute(toDriver, driver, 'v6lab: startCapture', []);
    assert.equal(await plugin.deleteSession(toDriver, driver), 'the driver answered');
    assert.deepEqual(log, [`open ${SERIAL}`, 'start - -', 'close']);
    await plugin.execute(toDriver, driver, 'v6lab: startCapture', []);
    await plugin.execute(toDriver, driver, 'v6lab: stopCapture', []);
    await plugin.onUnexpectedShutdown(driver, new Error('adb went away'));
    assert.equal(log.filter((l) => l === 'close').length, 2);
    await plugin.onUnexpectedShutdown(driver, 'twice'); // nothing open: nothing to close
    assert.equal(log.filter((l) => l === 'close').length, 2);
    assert.equal(await plugin.deleteSession(toDriver, driver), 'the driver answered');
  });

  it("observes the session device's network on its adb server, and passes any other script on to the driver", async () => {
    const { api, log } = fakeApi();
    const plugin = new V6labPlugin('v6lab', {}, null, api);
    assert.equal(((await plugin.execute(toDriver, driver, 'v6lab: observeNetwork', [])) as NetworkFacts).serial, SERIAL);
    assert.deepEqual(log, [`observe ${SERIAL} {"port":5038}`]);
    assert.equal(await plugin.execute(toDriver, driver, 'mobile: shell', [{ command: 'getprop' }]), 'the driver answered');
  });
});
