// observeDevice's network facts from a phone's own dumpsys and ip output (a scripted phone
// answering in Android's format), certify() from code as an argv one value per element, and the
// policy carried by certify's command line and plan.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certify, observeDevice, PolicyError } from '../../lib/api/index.js';
import { certifyArgv } from '../../lib/api/certify.js';
import { readPlan, type CertifyPlan } from '../../lib/harness/plan.js';
import { v6lab } from '../support/cli.js';
import { ScriptedPhone, type ScriptedApn } from '../support/scripted-phone.js';

const SERIAL = 'scripted-7';
const IPV6_APN = 'ipv6.v6lab.test';
const DUAL_APN = 'ims.v6lab.test';
const APNS: ScriptedApn[] = [
  { id: '1', apn: IPV6_APN, protocol: 'IPV4V6', gives: 'ipv6-only' },
  { id: '2', apn: DUAL_APN, protocol: 'IPV4V6', gives: 'dual-stack' },
];

describe('observeDevice (the programmatic API)', () => {
  it('an IPv6-only APN: its interface, IPv6 address, DNS, NAT64 prefix and CLAT', async () => {
    const phone = new ScriptedPhone(SERIAL, APNS, IPV6_APN);
    const facts = await observeDevice(SERIAL, phone);
    assert.equal(facts.serial, SERIAL);
    assert.ok(!Number.isNaN(Date.parse(facts.observedAt)));
    const n = facts.defaultNetwork!;
    assert.deepEqual(
      { type: n.type, apn: n.apn, interfaceName: n.interfaceName, ipv4: n.ipv4Addresses, dns: n.dnsServers, nat64Prefix: n.nat64Prefix, netId: n.netId },
      { type: 'MOBILE', apn: IPV6_APN, interfaceName: 'rmnet_data0', ipv4: [], dns: ['2001:db8:739f::1'], nat64Prefix: '64:ff9b::/96', netId: 100 },
    );
    assert.deepEqual(n.ipv6Addresses, ['2001:db8:739f:0:4048:4fd2:1d6c:f911']);
    assert.equal(n.clat?.interface, 'v4-rmnet_data0');
    assert.equal(n.clat?.v4Address, '192.0.0.4');
    // Android 9 to 12's dumpsys prints no CLAT IPv6 address: null, never guessed.
    assert.equal(n.clat?.v6Address, null);
    assert.deepEqual(phone.sent, [
      ['dumpsys', 'connectivity'],
      ['ip', '-o', 'addr', 'show'],
    ]);
  });

  it('a dual-stack APN has its IPv4 address and no CLAT; Wi-Fi as the default network has no APN', async () => {
    const dual = (await observeDevice(SERIAL, new ScriptedPhone(SERIAL, APNS, DUAL_APN))).defaultNetwork!;
    assert.deepEqual([dual.ipv4Addresses, dual.clat, dual.nat64Prefix], [['10.0.0.2'], null, null]);
    const phone = new ScriptedPhone(SERIAL, APNS, DUAL_APN);
    phone.wifiDefault = true;
    const wifi = (await observeDevice(SERIAL, phone)).defaultNetwork!;
    assert.equal(wifi.type, 'WIFI');
    assert.equal(wifi.apn, null);
  });
});

describe('certify() from code', function () {
  this.timeout(30_000);

  it("builds certify's argv one value per element, paths absolute, a value never read as an option", () => {
    assert.deepEqual(
      certifyArgv({
        devices: ['emulator-5554', '--lab'],
        suites: ['apps'],
        dwellMs: 2000,
        out: 'runs/one',
        policy: { minIpv6Share: 0.8, slowFallbackMs: 500 },
        allowSkip: ['NOT_INSTALLED'],
        network: 'ipv6',
        appRuns: 3,
        lang: 'zh-CN',
        labName: '北京 3 号台',
        tester: '--tester',
        notes: 'a\nb',
      }),
      [
        '--json',
        '--devices=emulator-5554,--lab',
        '--suite=apps',
        `--out=${join(process.cwd(), 'runs/one')}`,
        '--dwell=2000',
        '--network=ipv6',
        '--allow-skip=NOT_INSTALLED',
        '--min-ipv6-share=0.8',
        '--slow-fallback-ms=500',
        '--app-runs=3',
        '--lang=zh-CN',
        '--lab-name=北京 3 号台',
        '--tester=--tester',
        '--notes=a\nb',
      ],
    );
  });

  it('a policy out of range is a PolicyError before anything starts', async () => {
    await assert.rejects(certify({ devices: ['emulator-5554'], policy: { slowFallbackMs: -1 } }), PolicyError);
  });

  it("bad input is certify's exit 2 with its message, and no results", async () => {
    const outcome = await certify({ devices: ['not a serial'] });
    assert.equal(outcome.exitCode, 2);
    assert.equal(outcome.resultsFile, null);
    assert.equal(outcome.results, null);
    assert.match(outcome.stderr, /--devices: "not a serial" is not an adb serial/);
  });
});

describe("certify's policy (command line and plan)", function () {
  this.timeout(30_000);

  it('--min-ipv6-share and --slow-fallback-ms out of range are exit 2 naming the option, before any device is asked', async () => {
    const share = await v6lab(['certify', '--devices', 'emulator-5554', '--min-ipv6-share', '70']);
    assert.equal(share.code, 2);
    assert.match(share.stderr, /--min-ipv6-share: "70" is not a share from 0 to 1/);
    const ms = await v6lab(['certify', '--devices', 'emulator-5554', '--slow-fallback-ms', '1.5']);
    assert.equal(ms.code, 2);
    assert.match(ms.stderr, /--slow-fallback-ms: "1\.5" is not a whole number of milliseconds/);
  });

  it("the plan carries each device's policy, checked when read; plans of earlier versions have none", () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-plan-policy-'));
    const device = {
      serial: SERIAL,
      profile: 'scripted',
      profileSource: 'test',
      virtual: false,
      appium: { url: 'http://127.0.0.1:4723', capabilities: {}, start: false },
      capture: ['device'],
      gatewayCapture: null,
      emulatorCapture: null,
      networks: { ipv6: { apn: IPV6_APN }, ipv4v6: null },
      apnSwitch: 'content',
      resolverProbeUrl: null,
      ipv4OnlyProbeUrl: null,
      backgroundHosts: [],
      catalogue: null,
    };
    const plan = (policy: unknown) => {
      const file = join(dir, `plan-${Math.random().toString(36).slice(2)}.json`);
      const value: Omit<CertifyPlan, 'devices'> & { devices: unknown[] } = {
        runDir: dir,
        suites: ['apps'],
        catalogue: 'none',
        dwellMs: 0,
        clearAppData: false,
        adbPort: 5037,
        devices: [policy === undefined ? device : { ...device, policy }],
      };
      writeFileSync(file, JSON.stringify(value));
      return file;
    };
    assert.deepEqual(readPlan(plan({ minIpv6Share: 0.8, slowFallbackMs: 500 })).devices[0]!.policy, { minIpv6Share: 0.8, slowFallbackMs: 500 });
    assert.equal(readPlan(plan(undefined)).devices[0]!.policy, undefined);
    assert.throws(() => readPlan(plan({ minIpv6Share: 2, slowFallbackMs: 500 })), /policy\.minIpv6Share: expected a number from 0 to 1/);
  });
});
