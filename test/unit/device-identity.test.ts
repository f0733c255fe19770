// Issue 15, item 5: which phone and which build, read as a real phone prints it. Every expected
// value below was read by hand from the getprop sample named (test/fixtures/android-real/getprop,
// sources in its README).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { adbServerAddress, AdbServerAddressError, describeAdbServer, type DeviceBackend, type RunResult } from '../../lib/device/adb.js';
import { DeviceCommandError } from '../../lib/device/errors.js';
import { probeDevice } from '../../lib/device/facts.js';
import { identityFromProperties, parseKernelRelease } from '../../lib/device/identity.js';
import { parseGetprop } from '../../lib/device/parse/index.js';
import { renderGetpropAll, systemProperties } from '../../lib/lab/android/render.js';
import { initialHandsetState } from '../../lib/lab/android/state.js';
import { loadProfile } from '../../lib/lab/world.js';
import { v6lab } from '../support/cli.js';

const getpropSample = (name: string): Buffer => readFileSync(resolve(import.meta.dirname, '../fixtures/android-real/getprop', name));
/** The Samsung sample was saved by PowerShell: UTF-16 LE with a BOM, CRLF (adb itself sends UTF-8). */
const utf16 = (bytes: Buffer): string => {
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xfe], 'the sample starts with a UTF-16 LE BOM');
  return bytes.subarray(2).toString('utf16le');
};

describe('device identity from real getprop', () => {
  it('POCO F6 (Android 15, LineageOS on a spoofed fingerprint), dual SIM Jio + Vi', () => {
    const id = identityFromProperties(parseGetprop(getpropSample('poco-f6-a15.txt').toString('utf8')));
    assert.deepEqual(id, {
      manufacturer: 'Xiaomi',
      model: '24069PC21I',
      android: '15',
      sdk: 35,
      // ro.build.fingerprint is the stock ROM's (Android 14, UKQ1...) while ro.build.id is the running
      // LineageOS build's: both are kept as the phone says them, neither is "corrected".
      fingerprint: 'POCO/peridot_global/peridot:14/UKQ1.240624.001/OS2.0.100.0.VNPMIXM:user/release-keys',
      buildId: 'BP1A.250405.007',
      displayId: 'lineage_peridot-userdebug 15 BP1A.250405.007 611 release-keys',
      incremental: '611',
      securityPatch: '2025-04-05',
      baseband: 'MPSS.DE.5.0.c8-GLB-449f1b10e5',
      sims: [
        { slot: 0, mcc: '405', mnc: '861', name: 'Jio' },
        { slot: 1, mcc: '404', mnc: '44', name: 'Vi India' },
      ],
      kernel: null,
    });
  });

  it('Galaxy S25+ (Android 16, UTF-16 CRLF sample), dual SIM Movistar + simyo', () => {
    const id = identityFromProperties(parseGetprop(utf16(getpropSample('samsung-s25plus-a16-utf16-crlf.txt'))));
    assert.deepEqual(id, {
      manufacturer: 'samsung',
      model: 'SM-S936B',
      android: '16',
      sdk: 36,
      fingerprint: 'samsung/pa2qxeea/pa2q:16/BP4A.251205.006/S936BXXUACZF1_OXMACZF1:user/release-keys',
      buildId: 'BP4A.251205.006',
      displayId: 'BP4A.251205.006.S936BXXUACZF1',
      incremental: 'S936BXXUACZF1',
      securityPatch: '2026-06-05',
      baseband: 'S936BXXUACZF1',
      sims: [
        { slot: 0, mcc: '214', mnc: '07', name: 'Movistar' },
        { slot: 1, mcc: '214', mnc: '03', name: 'simyo' },
      ],
      kernel: null,
    });
  });

  it('leaves what a device does not set null (never made up), and an empty SIM slot out', () => {
    const id = identityFromProperties({
      'ro.product.model': 'X',
      'ro.build.version.sdk': 'abc',
      'ro.build.fingerprint': '',
      'gsm.sim.operator.numeric': ',310260',
      'gsm.sim.operator.alpha': ',T-Mobile',
      'gsm.version.baseband': ',M1',
    });
    assert.equal(id.model, 'X');
    assert.equal(id.sdk, null);
    assert.equal(id.fingerprint, null);
    assert.equal(id.securityPatch, null);
    assert.equal(id.baseband, 'M1');
    assert.deepEqual(id.sims, [{ slot: 1, mcc: '310', mnc: '260', name: 'T-Mobile' }]);
    assert.deepEqual(identityFromProperties({ 'gsm.sim.operator.numeric': 'garbage' }).sims, [{ slot: 0, mcc: null, mnc: null, name: null }]);
    assert.deepEqual(identityFromProperties({}).sims, []);
  });

  it('reads the kernel release from uname -r; a cut or empty answer is none', () => {
    assert.equal(parseKernelRelease('6.6.30-android15-8-gdd9c02ccfe27-4k\n'), '6.6.30-android15-8-gdd9c02ccfe27-4k');
    assert.equal(parseKernelRelease('4.14.190-perf+\r\n'), '4.14.190-perf+');
    assert.equal(parseKernelRelease('6.6.30-andr'), null);
    assert.equal(parseKernelRelease('\n'), null);
    assert.equal(parseKernelRelease('uname: not found here\n'), null);
  });
});

describe('probeDevice: the identity', () => {
  /** A phone that answers getprop with the POCO sample and uname as told. */
  const phone = (uname: RunResult): DeviceBackend => {
    const answer = (argv: readonly string[]): RunResult => {
      if (argv[0] === 'getprop') return { output: getpropSample('poco-f6-a15.txt').toString('utf8'), exitCode: 0 };
      if (argv[0] === 'uname') return uname;
      return { output: `/system/bin/sh: ${argv[0]}: inaccessible or not found\n`, exitCode: 127 };
    };
    return {
      serial: 'R58M1234',
      run: async (argv) => answer(argv),
      runOk: async (argv) => {
        const r = answer(argv);
        if (r.exitCode !== 0) throw new DeviceCommandError('R58M1234', argv, r.exitCode, r.output, null);
        return r.output;
      },
      stream: () => Promise.reject(new Error('not used')),
      pull: () => Promise.reject(new Error('not used')),
      push: () => Promise.reject(new Error('not used')),
      ensureAvailable: async () => undefined,
      watchPresence: () => Promise.reject(new Error('not used')),
    };
  };

  it('asks `uname -r` for the kernel, and keeps the build facts with the rest', async () => {
    const facts = await probeDevice(phone({ output: '6.1.118-android14-11-g1234567\n', exitCode: 0 }));
    assert.equal(facts.identity.kernel, '6.1.118-android14-11-g1234567');
    assert.equal(facts.identity.buildId, 'BP1A.250405.007');
    assert.equal(facts.model, '24069PC21I');
    assert.equal(facts.sdk, 35);
  });

  it('a kernel it cannot read is null, and the problem says why', async () => {
    const facts = await probeDevice(phone({ output: '/system/bin/sh: uname: inaccessible or not found\n', exitCode: 127 }));
    assert.equal(facts.identity.kernel, null);
    assert.ok(
      facts.problems.some((p) => p.startsWith('uname -r:')),
      facts.problems.join('; '),
    );
  });
});

describe('virtual handsets print their identity as real phones do', () => {
  const root = resolve(import.meta.dirname, '../..');
  const profile = loadProfile(join(root, 'devices/lab/handsets/compliant.json'));
  const identityOf = (p: typeof profile) =>
    identityFromProperties(parseGetprop(renderGetpropAll(systemProperties(initialHandsetState('emulator-5554', p, [])))));

  it('has every identity field, in the real samples’ shapes, derived from the profile', () => {
    const id = identityOf(profile);
    assert.equal(id.manufacturer, profile.manufacturer);
    assert.equal(id.model, profile.model);
    assert.equal(id.android, '14');
    // brand/product/device:release/ID/incremental:type/tags
    assert.match(id.fingerprint ?? '', /^v6lab\/v6ref\/v6ref:14\/UV6L\.231005\.001\/eng\.v6lab\.20231005\.000000:userdebug\/test-keys$/);
    assert.match(id.buildId ?? '', /^[A-Z][A-Z0-9]{3}\.\d{6}\.\d{3}$/);
    assert.equal(id.displayId, `v6ref-userdebug 14 ${id.buildId} ${id.incremental} test-keys`);
    assert.match(id.securityPatch ?? '', /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(id.baseband);
    // the SIM is the first APN's operator (compliant.json: mcc 460, mnc 99)
    assert.deepEqual(id.sims, [{ slot: 0, mcc: '460', mnc: '99', name: profile.apns[0]!.name }]);
  });

  it('a user build is release-keys with its build id as display id; a profile’s properties override, the fingerprint following', () => {
    const id = identityOf({
      ...profile,
      android: '15',
      sdk: 35,
      buildType: 'user',
      properties: { ...profile.properties, 'ro.build.version.release': '15', 'ro.build.id': 'AP3A.241105.008', 'gsm.sim.operator.numeric': '310260' },
    });
    assert.equal(id.buildId, 'AP3A.241105.008');
    assert.equal(id.displayId, 'AP3A.241105.008');
    assert.match(id.fingerprint ?? '', /^v6lab\/v6ref\/v6ref:15\/AP3A\.241105\.008\/[^:]+:user\/release-keys$/);
    assert.deepEqual(
      id.sims.map((s) => [s.mcc, s.mnc]),
      [['310', '260']],
    );
  });
});

describe('the adb server address from the environment, as adb reads it', () => {
  it('defaults to port 5037 on this machine', () => {
    assert.deepEqual(adbServerAddress({}), { host: '127.0.0.1', port: 5037, source: 'default' });
    assert.deepEqual(adbServerAddress({ ANDROID_ADB_SERVER_PORT: '', ADB_SERVER_SOCKET: '' }), { host: '127.0.0.1', port: 5037, source: 'default' });
  });

  it('takes host and port from ANDROID_ADB_SERVER_ADDRESS and ANDROID_ADB_SERVER_PORT, each on its own', () => {
    assert.deepEqual(adbServerAddress({ ANDROID_ADB_SERVER_PORT: '5038' }), { host: '127.0.0.1', port: 5038, source: 'ANDROID_ADB_SERVER_PORT' });
    assert.deepEqual(adbServerAddress({ ANDROID_ADB_SERVER_ADDRESS: '192.0.2.10' }), { host: '192.0.2.10', port: 5037, source: 'ANDROID_ADB_SERVER_ADDRESS' });
    assert.deepEqual(adbServerAddress({ ANDROID_ADB_SERVER_ADDRESS: 'adb.example', ANDROID_ADB_SERVER_PORT: '15037' }), {
      host: 'adb.example',
      port: 15037,
      source: 'ANDROID_ADB_SERVER_ADDRESS, ANDROID_ADB_SERVER_PORT',
    });
  });

  it('prefers ADB_SERVER_SOCKET (tcp:PORT, tcp:HOST:PORT, tcp:[IPv6]:PORT) over the other two', () => {
    const others = { ANDROID_ADB_SERVER_ADDRESS: '198.51.100.1', ANDROID_ADB_SERVER_PORT: '1111' };
    assert.deepEqual(adbServerAddress({ ...others, ADB_SERVER_SOCKET: 'tcp:192.0.2.10:5039' }), {
      host: '192.0.2.10',
      port: 5039,
      source: 'ADB_SERVER_SOCKET',
    });
    assert.deepEqual(adbServerAddress({ ADB_SERVER_SOCKET: 'tcp:5040' }), { host: '127.0.0.1', port: 5040, source: 'ADB_SERVER_SOCKET' });
    assert.deepEqual(adbServerAddress({ ADB_SERVER_SOCKET: 'tcp:[2001:db8::1]:5037' }), { host: '2001:db8::1', port: 5037, source: 'ADB_SERVER_SOCKET' });
    assert.deepEqual(adbServerAddress({ ADB_SERVER_SOCKET: 'tcp:host.docker.internal:5037' }).host, 'host.docker.internal');
  });

  it('refuses a malformed value, naming the variable and the value', () => {
    const refused = (env: Record<string, string>, variable: string, problem: RegExp) =>
      assert.throws(
        () => adbServerAddress(env),
        (e: unknown) => e instanceof AdbServerAddressError && e.variable === variable && problem.test(e.message) && e.message.startsWith(`${variable}=`),
      );
    refused({ ANDROID_ADB_SERVER_PORT: 'abc' }, 'ANDROID_ADB_SERVER_PORT', /from 1 to 65535/);
    refused({ ANDROID_ADB_SERVER_PORT: '70000' }, 'ANDROID_ADB_SERVER_PORT', /from 1 to 65535/);
    refused({ ANDROID_ADB_SERVER_PORT: '0' }, 'ANDROID_ADB_SERVER_PORT', /from 1 to 65535/);
    refused({ ANDROID_ADB_SERVER_PORT: '-5' }, 'ANDROID_ADB_SERVER_PORT', /from 1 to 65535/);
    refused({ ANDROID_ADB_SERVER_ADDRESS: 'a host' }, 'ANDROID_ADB_SERVER_ADDRESS', /host name or an IP address/);
    refused({ ADB_SERVER_SOCKET: 'localabstract:adb' }, 'ADB_SERVER_SOCKET', /not a TCP socket.*tcp:HOST:PORT/);
    refused({ ADB_SERVER_SOCKET: 'tcp:example.org' }, 'ADB_SERVER_SOCKET', /missing port/);
    refused({ ADB_SERVER_SOCKET: 'tcp:example.org:99999' }, 'ADB_SERVER_SOCKET', /from 1 to 65535/);
    refused({ ADB_SERVER_SOCKET: 'tcp:2001:db8::1:5037' }, 'ADB_SERVER_SOCKET', /not a host and a port/);
  });

  it('`v6lab devices` stops at a malformed one: exit 2, one line naming the variable and its value', async function () {
    this.timeout(60_000);
    const bad = await v6lab(['devices'], { ADB_SERVER_SOCKET: 'tcp:adb.example' });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^v6lab: ADB_SERVER_SOCKET="tcp:adb\.example": missing port \(expected tcp:PORT or tcp:HOST:PORT/);
    const port = await v6lab(['devices'], { ANDROID_ADB_SERVER_PORT: 'adb' });
    assert.equal(port.code, 2, port.stderr);
    assert.match(port.stderr, /^v6lab: ANDROID_ADB_SERVER_PORT="adb": the port must be a number from 1 to 65535\n$/);
  });

  it('names a server elsewhere by host and port, this machine’s by port', () => {
    assert.equal(describeAdbServer({ host: '127.0.0.1', port: 5037 }), 'port 5037');
    assert.equal(describeAdbServer({ host: '192.0.2.10', port: 5039 }), '192.0.2.10:5039');
    assert.equal(describeAdbServer({ host: '2001:db8::1', port: 5037 }), '[2001:db8::1]:5037');
  });
});
