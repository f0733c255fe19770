import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataFileError } from '../../lib/config/schema.js';
import { loadDeviceProfile } from '../../lib/device/profile.js';

const dir = mkdtempSync(join(tmpdir(), 'v6lab-profile-'));
let n = 0;
const file = (content: unknown) => {
  const path = join(dir, `p${n++}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
};
const good = { name: 'p', serial: 'emulator-5554', appium: { url: 'http://127.0.0.1:4723' }, networks: { ipv6: { apn: 'ipv6.test' } } };

describe('device profiles (devices/*.json)', () => {
  it('loads the shipped example and fills the defaults', () => {
    const example = loadDeviceProfile(resolve(import.meta.dirname, '../../devices/example-phone.json'));
    assert.equal(example.appium.capabilities['appium:automationName'], 'UiAutomator2');
    assert.deepEqual(example.capture, ['device', 'gateway']);
    assert.equal(example.gatewayCapture?.[0], 'ssh');
    const minimal = loadDeviceProfile(file(good));
    assert.deepEqual(minimal.capture, ['device', 'gateway']);
    assert.equal(minimal.apnSwitch, 'content');
    assert.deepEqual(minimal.networks, { ipv6: { apn: 'ipv6.test' }, ipv4v6: null });
    // An emulator's -tcpdump file is found relative to the profile, like its catalogue.
    const emulator = loadDeviceProfile(file({ ...good, capture: ['emulator', 'pcapdroid'], emulatorCapture: 'avd/pixel7.pcap' }));
    assert.deepEqual(emulator.capture, ['emulator', 'pcapdroid']);
    assert.equal(emulator.emulatorCapture, join(dir, 'avd/pixel7.pcap'));
    // A v6lab gateway on this host: its capture without a tcpdump command written by hand.
    const gateway = loadDeviceProfile(file({ ...good, capture: ['gateway'], gatewayCapture: { gateway: 'gw-state' } }));
    assert.deepEqual(gateway.gatewayCapture?.slice(2), ['gateway', 'capture', '--state-dir', join(dir, 'gw-state')]);
    assert.equal(gateway.gatewayCapture?.[0], process.execPath);
    assert.match(gateway.gatewayCapture?.[1] ?? '', /bin\/v6lab\.js$/);
    // A network a person connects the device to: a gateway's directory, found relative to the profile too.
    const wired = loadDeviceProfile(file({ ...good, networks: { ipv6: { gateway: 'gw-state' }, ipv4v6: { wifi: 'home' } } }));
    assert.deepEqual(wired.networks, { ipv6: { gateway: join(dir, 'gw-state') }, ipv4v6: { wifi: 'home' } });
  });

  it('reads a policy and leaves what it does not set undefined, for the command line and the judge to fill', () => {
    assert.deepEqual(loadDeviceProfile(file(good)).policy, {});
    assert.deepEqual(loadDeviceProfile(file({ ...good, policy: {} })).policy, {});
    const share = loadDeviceProfile(file({ ...good, policy: { minIpv6Share: 0.9 } })).policy;
    assert.deepEqual(share, { minIpv6Share: 0.9 });
    assert.equal('slowFallbackMs' in share, false);
    assert.deepEqual(loadDeviceProfile(file({ ...good, policy: { minIpv6Share: 0, slowFallbackMs: 0 } })).policy, { minIpv6Share: 0, slowFallbackMs: 0 });
    assert.deepEqual(loadDeviceProfile(file({ ...good, policy: { minIpv6Share: 1, slowFallbackMs: 2000 } })).policy, { minIpv6Share: 1, slowFallbackMs: 2000 });
  });

  const bad: [string, unknown, string, RegExp][] = [
    ['no serial or model', { ...good, serial: undefined }, 'serial', /give the adb serial, or a model/],
    ['a serial with shell syntax', { ...good, serial: 'x; rm -rf /' }, 'serial', /adb serial/],
    ['no network', { ...good, networks: {} }, 'networks', /names no network/],
    ['an Appium URL that is not one', { ...good, appium: { url: 'localhost:4723' } }, 'appium.url', /http\(s\) URL/],
    [
      'a capability that is an object',
      { ...good, appium: { url: 'http://h:1', capabilities: { 'appium:x': { a: 1 } } } },
      'appium.capabilities.appium:x',
      /capability value/,
    ],
    ['an unknown capture method', { ...good, capture: ['wireshark'] }, 'capture[0]', /one of "device", "gateway", "emulator", "pcapdroid"/],
    ['a typo in a field', { ...good, apnSwich: 'manual' }, 'apnSwich', /unknown field/],
    ['a profile that says it is virtual', { ...good, virtual: true }, 'virtual', /unknown field/],
    ['gateway capture without its command', { ...good, capture: ['gateway'] }, 'gatewayCapture', /needs the host command/],
    ['a gateway command that is a shell string', { ...good, gatewayCapture: 'ssh gw tcpdump' }, 'gatewayCapture', /expected an array/],
    ['a gateway capture that names no gateway directory', { ...good, gatewayCapture: { gateway: '' } }, 'gatewayCapture.gateway', /state directory/],
    ['a gateway capture of an unknown shape', { ...good, gatewayCapture: { host: 'gw' } }, 'gatewayCapture.host', /unknown field \(known: gateway\)/],
    ['emulator capture without its file', { ...good, capture: ['emulator'] }, 'emulatorCapture', /start it with -tcpdump FILE/],
    [
      'an emulator file that is a list',
      { ...good, capture: ['emulator'], emulatorCapture: ['/tmp/a.pcap'] },
      'emulatorCapture',
      /expected the file the emulator's -tcpdump writes.*got an array/,
    ],
    ['a background host that is not a name', { ...good, backgroundHosts: ['time.android.com; reboot'] }, 'backgroundHosts[0]', /a hostname/],
    ['an IPv6 share given as a percentage', { ...good, policy: { minIpv6Share: 70 } }, 'policy.minIpv6Share', /a number from 0 to 1, got 70/],
    ['an IPv6 share given as text', { ...good, policy: { minIpv6Share: '0.7' } }, 'policy.minIpv6Share', /a number from 0 to 1/],
    ['a negative fallback delay', { ...good, policy: { slowFallbackMs: -1 } }, 'policy.slowFallbackMs', /whole number from 0 to 600000, got -1/],
    ['a fallback delay with a fraction', { ...good, policy: { slowFallbackMs: 2.5 } }, 'policy.slowFallbackMs', /whole number/],
    ['a typo in the policy', { ...good, policy: { minIPv6Share: 0.5 } }, 'policy.minIPv6Share', /unknown field \(known: minIpv6Share, slowFallbackMs\)/],
    ['a policy that is a number', { ...good, policy: 0.7 }, 'policy', /expected an object, got 0.7/],
  ];
  for (const [name, content, field, problem] of bad) {
    it(`rejects ${name}, naming the field`, () => {
      const path = file(content);
      assert.throws(
        () => loadDeviceProfile(path),
        (e: unknown) => e instanceof DataFileError && e.file === path && e.field === field && problem.test(e.problem),
      );
    });
  }
});
