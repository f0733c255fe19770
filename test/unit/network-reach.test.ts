// The harness on a scripted phone: every way a network can be out of reach (missing from the
// profile, a manual switch not done, an attach refused, an attach that never comes, Wi-Fi as the
// default network) and every way evidence can go missing (the attach capture not opening or
// failing, a probe's capture failing, an attach nobody watched): no check passes in any of them,
// and a check is judged only on what was observed on the network it names.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile, type AnalyzeOptions } from '../../lib/analysis/index.js';
import { checksOf, type CheckId, type NetworkName } from '../../lib/checks/requirements.js';
import type { DeviceFacts } from '../../lib/device/facts.js';
import { CapturePlanner } from '../../lib/harness/captures.js';
import { Certification, type DeviceUi } from '../../lib/harness/certification.js';
import { DeviceState } from '../../lib/harness/device-state.js';
import type { CertifyPlan, DevicePlan } from '../../lib/harness/plan.js';
import { CaptureError, type CaptureWindow, type WindowCapture } from '../../lib/harness/window.js';
import { readResults, ResultsWriter, type CheckResult } from '../../lib/report/results.js';
import { ScriptedPhone, type ScriptedApn } from '../support/scripted-phone.js';

const SERIAL = 'R58M123';
const IPV6_APN = 'ipv6.v6lab.test';
const DUAL_APN = 'ims.v6lab.test';
const APNS: ScriptedApn[] = [
  { id: '1', apn: IPV6_APN, protocol: 'IPV4V6', gives: 'ipv6-only' },
  { id: '2', apn: DUAL_APN, protocol: 'IPV4V6', gives: 'dual-stack' },
];
const RFC7050_CAPTURE = join(import.meta.dirname, '../fixtures/lab/sll2-mixed.pcap');

type CaptureFault = 'none' | 'attach-capture-does-not-open' | 'attach-capture-fails' | 'every-capture-fails';

/** Capture planning whose windows read a recorded capture (RFC 7050 discovery in it), or fail as told. */
class ScriptedCaptures extends CapturePlanner {
  fault: CaptureFault = 'none';

  override async openWindow(name: string, _network: NetworkName | null, analyze?: AnalyzeOptions): Promise<CaptureWindow> {
    const attach = name === 'ipv6-attach';
    if (this.fault === 'every-capture-fails' || (attach && this.fault === 'attach-capture-does-not-open'))
      throw new CaptureError(SERIAL, 'device', 'no capture header within 15000 ms');
    const failOnClose = attach && this.fault === 'attach-capture-fails';
    const window = {
      alive: true,
      peek: () => ({ flows: [], hostnames: [], nat64Prefixes: [] }),
      adopt: () => undefined,
      discard: async () => undefined,
      close: async (): Promise<WindowCapture> => {
        if (failOnClose) throw new CaptureError(SERIAL, 'device', 'the capture stream ended before the window closed, after 24 bytes');
        return { analysis: await analyzeFile(RFC7050_CAPTURE, analyze ?? {}), sockets: [], bytes: 100, file: RFC7050_CAPTURE, method: 'device' };
      },
    };
    return window as unknown as CaptureWindow;
  }
}

const facts: DeviceFacts = {
  serial: SERIAL,
  model: 'Scripted',
  manufacturer: 'v6lab',
  android: '14',
  sdk: 34,
  buildType: 'user',
  identity: {
    manufacturer: 'v6lab',
    model: 'Scripted',
    android: '14',
    sdk: 34,
    fingerprint: null,
    buildId: null,
    displayId: null,
    incremental: null,
    securityPatch: null,
    baseband: null,
    sims: [],
    kernel: null,
  },
  root: 'adbd',
  tcpdump: '/system/bin/tcpdump',
  pcapdroid: false,
  interfaces: [],
  defaultNetwork: null,
  problems: [],
};

const ui: DeviceUi = {
  isAppInstalled: async () => true,
  activateApp: async () => undefined,
  terminateApp: async () => true,
  step: async () => undefined,
  openUrl: async () => undefined,
};

function setUp(options: { networks?: Partial<DevicePlan['networks']>; apnSwitch?: 'content' | 'manual'; onApn?: string; apns?: ScriptedApn[] } = {}) {
  const runDir = mkdtempSync(join(tmpdir(), 'v6lab-reach-'));
  const device: DevicePlan = {
    serial: SERIAL,
    profile: 'scripted',
    profileSource: 'test',
    virtual: false,
    appium: { url: 'http://127.0.0.1:4723', capabilities: {}, start: false },
    capture: ['device'],
    gatewayCapture: null,
    emulatorCapture: null,
    networks: { ipv6: { apn: IPV6_APN }, ipv4v6: { apn: DUAL_APN }, ...options.networks },
    apnSwitch: options.apnSwitch ?? 'content',
    resolverProbeUrl: 'http://dual.v6lab.test/',
    ipv4OnlyProbeUrl: 'http://192.0.2.80/',
    backgroundHosts: [],
    catalogue: null,
  };
  const plan: CertifyPlan = { runDir, suites: ['os', 'apn', 'apps'], catalogue: 'none', dwellMs: 0, clearAppData: false, adbPort: 5037, devices: [device] };
  ResultsWriter.start(runDir, '0.0.0', [{ serial: SERIAL, model: 'Scripted', android: '14', virtual: false, profile: 'scripted' }]);
  const phone = new ScriptedPhone(SERIAL, options.apns ?? APNS, options.onApn ?? DUAL_APN);
  const dir = join(runDir, 'devices', SERIAL);
  const state = new DeviceState(phone, 'adbd', dir);
  const captures = new ScriptedCaptures(phone, device, facts, dir, runDir);
  const cert = new Certification({ plan, device, backend: phone, facts, state, dir, captures, attachTimeoutMs: 300, returnMs: 0 });
  return { cert, phone, captures, runDir, state };
}

/** Every os and apn check, then one app on each network, as the specs run them. */
async function runAll(cert: Certification): Promise<CheckResult[]> {
  await cert.observeFactory();
  const results: CheckResult[] = [];
  for (const check of [...checksOf('os'), ...checksOf('apn')]) results.push(await cert.check(check.id, ui));
  for (const network of ['ipv6', 'ipv4v6'] as const)
    results.push(await cert.app(ui, { package: 'com.example.news', label: 'News', flow: [], dwellMs: 0 } as never, network));
  return results;
}

const on = (results: CheckResult[], network: NetworkName) => results.filter((r) => r.network === network);
const byId = (results: CheckResult[], id: CheckId, network?: NetworkName) =>
  results.find((r) => r.check === id && (network === undefined || r.network === network))!;

describe('the harness judges a check only on the network it names', () => {
  it('passes every check on a phone that reaches both networks and captures its attach (the control case)', async () => {
    const { cert } = setUp();
    const results = await runAll(cert);
    const notPassed = results.filter(
      (r) => r.status !== 'passed' && r.check !== 'os.resolver-prefers-ipv6' && r.check !== 'apn.ipv4-via-clat' && r.check !== 'apps.ipv6-first',
    );
    assert.deepEqual(
      notPassed.map((r) => `${r.check}: ${r.reasons.map((x) => x.code).join(',')}`),
      [],
    );
    assert.equal(byId(results, 'apn.nat64-prefix').status, 'passed');
  });

  it('a network missing from the profile: its checks are skipped NETWORK_UNAVAILABLE, none passes', async () => {
    const { cert } = setUp({ networks: { ipv6: null } });
    const results = await runAll(cert);
    for (const r of on(results, 'ipv6')) {
      assert.equal(r.status, 'skipped', `${r.check} ${r.status}`);
      assert.equal(r.reasons[0]!.code, 'NETWORK_UNAVAILABLE');
      assert.match(r.reasons[0]!.detail, /names no IPv6-only network \(networks\.ipv6: an APN or a Wi-Fi network\)/);
    }
    assert.equal(byId(results, 'os.dual-stack-attach').status, 'passed');
  });

  it('a manual switch not done (the profile names only the dual-stack APN the phone is on): no apn check passes on the dual-stack observation', async () => {
    const { cert, phone } = setUp({ apnSwitch: 'manual' });
    const results = await runAll(cert);
    assert.equal(phone.attachedApn, DUAL_APN);
    for (const r of on(results, 'ipv6')) {
      assert.equal(r.status, 'skipped', `${r.check} ${r.status}`);
      assert.equal(r.reasons[0]!.code, 'NETWORK_UNAVAILABLE');
      assert.match(r.reasons[0]!.detail, /not on APN ipv6\.v6lab\.test .* switched by hand/);
    }
    assert.equal(byId(results, 'apn.clat').status, 'skipped');
  });

  it('an attach refused by the network: the attach check fails, the rest of that network is skipped', async () => {
    const { cert } = setUp({ apns: [{ ...APNS[0]!, protocol: 'IP', gives: null }, APNS[1]!] });
    const results = await runAll(cert);
    const attach = byId(results, 'apn.ipv6-only-attach');
    assert.equal(attach.status, 'failed');
    assert.equal(attach.reasons[0]!.code, 'ATTACH_FAILED');
    for (const r of on(results, 'ipv6').filter((x) => x.check !== 'apn.ipv6-only-attach')) {
      assert.equal(r.status, 'skipped', `${r.check} ${r.status}`);
      assert.equal(r.reasons[0]!.code, 'NETWORK_UNAVAILABLE');
    }
  });

  it('an attach that never comes (the phone stays on its APN): the stale dual-stack observation is never judged as the IPv6-only one', async () => {
    const { cert, phone } = setUp();
    await cert.observeFactory();
    assert.equal((await cert.check('os.dual-stack-attach', ui)).status, 'passed');
    phone.followsPreferred = false;
    const clat = await cert.check('apn.clat', ui);
    const nat64 = await cert.check('apn.nat64-prefix', ui);
    const attach = await cert.check('apn.ipv6-only-attach', ui);
    assert.equal(clat.status, 'skipped');
    assert.equal(nat64.status, 'skipped');
    assert.equal(attach.status, 'failed');
    assert.equal(attach.reasons[0]!.code, 'ATTACH_FAILED');
  });

  it('Wi-Fi as the default network: the harness turns it off for the APN checks, judges them on mobile data, and turns it back on', async () => {
    const { cert, phone, state } = setUp();
    phone.wifiDefault = true;
    // As a run starts (Certification.forWorker): the state as found, Wi-Fi on among it.
    assert.equal((await state.takeFound()).wifiOn, true);
    const results = await runAll(cert);
    for (const r of results) assert.notEqual(r.status, 'skipped', `${r.check} [${r.network}]: ${JSON.stringify(r.reasons)}`);
    assert.ok(phone.sent.some((argv) => argv.join(' ') === 'svc wifi disable'));
    await cert.close();
    assert.equal(phone.wifiDefault, true, 'Wi-Fi back on and the default network after the run');
  });

  it('a Wi-Fi network of the profile: joined with cmd wifi connect-network, judged on wlan0; the APN network after it on mobile data', async () => {
    const { cert, phone, state, runDir } = setUp({ networks: { ipv4v6: { wifi: 'v6lab-wifi' } } });
    await state.takeFound();
    const results = await runAll(cert);
    const dual = byId(results, 'os.dual-stack-attach');
    assert.equal(dual.status, 'passed', JSON.stringify(dual.reasons));
    const decision = JSON.parse(readFileSync(join(runDir, dual.evidence[0]!), 'utf8')) as {
      evidence: { ipv6: string[]; ipv4: string[]; observedOn: { via: string; apn: string; defaultNetwork: { type: string } } };
    };
    // wlan0's addresses, none of mobile data's (which stays attached beside it)
    assert.deepEqual([decision.evidence.ipv6, decision.evidence.ipv4], [['2001:db8:1::2'], ['192.168.1.2']]);
    assert.deepEqual(
      [decision.evidence.observedOn.via, decision.evidence.observedOn.apn, decision.evidence.observedOn.defaultNetwork.type],
      ['wifi', 'v6lab-wifi', 'WIFI'],
    );
    assert.ok(phone.sent.some((argv) => argv.join(' ') === 'cmd wifi connect-network v6lab-wifi open'));
    // The IPv6-only APN is judged on mobile data: Wi-Fi goes off for it.
    assert.equal(byId(results, 'apn.ipv6-only-attach').status, 'passed', JSON.stringify(byId(results, 'apn.ipv6-only-attach').reasons));
    assert.ok(phone.sent.some((argv) => argv.join(' ') === 'svc wifi disable'));
  });

  it('a Wi-Fi network of the profile out of range: its checks are skipped saying so, none judged on mobile data', async () => {
    const { cert } = setUp({ networks: { ipv4v6: { wifi: 'not-here' } } });
    const results = await runAll(cert);
    for (const r of on(results, 'ipv4v6').filter(
      (x) => x.check !== 'os.ipv6-enabled' && x.check !== 'os.apn-protocol' && x.check !== 'os.apn-roaming-protocol',
    )) {
      assert.equal(r.status, 'skipped', `${r.check}: ${r.status}`);
      assert.match(r.reasons[0]!.detail, /Wi-Fi "not-here" did not become the default network/);
    }
  });

  /** A v6lab gateway's record as `gateway up` writes it (only what the harness reads matters). */
  function gatewayDir(mode: string, ipv6Prefix: string | null, ipv4Subnet: string | null): string {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-gw-'));
    writeFileSync(
      join(dir, 'gateway.json'),
      JSON.stringify({
        version: 1,
        labId: 'gw',
        mode,
        namespace: 'v6l-gw-gw0',
        deviceLink: { name: 'enx00e04c680001', mac: '00:e0:4c:68:00:01' },
        lanIpv6Prefix: ipv6Prefix,
        lanIpv4Subnet: ipv4Subnet,
      }),
    );
    return dir;
  }

  it('a v6lab gateway network of the profile: a phone cabled to it is judged on eth1 (Ethernet, its default network), by an address of the gateway', async () => {
    const dir = gatewayDir('dual-stack', '2001:db8:e::/64', '10.0.0.0/24');
    const { cert, phone, state, runDir } = setUp({ networks: { ipv4v6: { gateway: dir } } });
    phone.ethernet = { ipv6: '2001:db8:e:0:ce0:9cff:feb1:7b0f', ipv4: '10.0.0.142' };
    await state.takeFound();
    const results = await runAll(cert);
    const dual = byId(results, 'os.dual-stack-attach');
    assert.equal(dual.status, 'passed', JSON.stringify(dual.reasons));
    const decision = JSON.parse(readFileSync(join(runDir, dual.evidence[0]!), 'utf8')) as {
      evidence: { ipv6: string[]; ipv4: string[]; observedOn: { via: string; apn: string; how: string; defaultNetwork: { type: string } } };
    };
    // eth1's addresses, none of mobile data's
    assert.deepEqual([decision.evidence.ipv6, decision.evidence.ipv4], [['2001:db8:e:0:ce0:9cff:feb1:7b0f'], ['10.0.0.142']]);
    assert.deepEqual(
      [decision.evidence.observedOn.via, decision.evidence.observedOn.apn, decision.evidence.observedOn.defaultNetwork.type],
      ['gateway', dir, 'Ethernet'],
    );
    // Nothing was switched for it: no APN edit, no Wi-Fi command.
    assert.ok(!phone.sent.some((argv) => argv[0] === 'svc' || argv[0] === 'cmd'), 'the harness moved nothing for the gateway network');
  });

  for (const [name, ethernet, gateway, reason] of [
    [
      'a phone not cabled to the gateway',
      null,
      ['dual-stack', '2001:db8:e::/64', '10.0.0.0/24'],
      /default network is MOBILE.*connect it to the gateway's link/,
    ],
    [
      'a phone on another Ethernet network',
      { ipv6: '2001:db8:99::5', ipv4: '192.168.7.5' },
      ['dual-stack', '2001:db8:e::/64', '10.0.0.0/24'],
      /holds no address of the v6lab gateway/,
    ],
    ['a gateway that is not up', { ipv6: '2001:db8:e::5', ipv4: null }, null, /no v6lab gateway is up in/],
  ] as const) {
    it(`a v6lab gateway network and ${name}: its checks are skipped saying so, none judged elsewhere`, async () => {
      const dir = gateway === null ? mkdtempSync(join(tmpdir(), 'v6lab-gw-none-')) : gatewayDir(...gateway);
      const { cert, phone } = setUp({ networks: { ipv4v6: { gateway: dir } } });
      phone.ethernet = ethernet === null ? null : { ...ethernet };
      const results = await runAll(cert);
      const judged = on(results, 'ipv4v6').filter(
        (x) => x.check !== 'os.ipv6-enabled' && x.check !== 'os.apn-protocol' && x.check !== 'os.apn-roaming-protocol',
      );
      assert.ok(judged.length > 0);
      for (const r of judged) {
        assert.equal(r.status, 'skipped', `${r.check}: ${r.status}`);
        assert.match(r.reasons[0]!.detail, reason);
      }
    });
  }

  it('Wi-Fi the default network and not to be turned off: no check of either APN passes, and the reason says to turn Wi-Fi off', async () => {
    const { cert, phone } = setUp();
    phone.wifiDefault = true;
    phone.wifiSwitchable = false;
    const results = await runAll(cert);
    for (const r of results.filter((x) => x.check !== 'os.apn-protocol' && x.check !== 'os.apn-roaming-protocol' && x.check !== 'os.ipv6-enabled')) {
      assert.equal(r.status, 'skipped', `${r.check} [${r.network}] ${r.status}`);
      assert.match(r.reasons[0]!.detail, /Wi-Fi is the default network and `svc wifi disable` failed .*turn Wi-Fi off/);
    }
  });

  it('an APN table the shell cannot read: the protocol is inferred only from a dual-stack network reached', async () => {
    const { cert, phone } = setUp({ networks: { ipv4v6: null } });
    phone.apnTableReadable = false;
    await cert.observeFactory();
    const protocol = await cert.check('os.apn-protocol', ui);
    assert.equal(protocol.status, 'skipped');
    assert.equal(protocol.reasons[0]!.code, 'NETWORK_UNAVAILABLE');
  });

  it('records where each observation was taken: network, APN, default network, time and how', async () => {
    const { cert, runDir } = setUp();
    await cert.observeFactory();
    const result = await cert.check('apn.clat', ui);
    const evidence = JSON.parse((await import('node:fs')).readFileSync(join(runDir, result.evidence[0]!), 'utf8')) as {
      evidence: { observedOn: Record<string, unknown> };
    };
    assert.deepEqual(Object.keys(evidence.evidence.observedOn).sort(), ['apn', 'defaultNetwork', 'how', 'network', 'switched', 'takenAt', 'via']);
    assert.equal(evidence.evidence.observedOn.apn, IPV6_APN);
    assert.equal(evidence.evidence.observedOn.network, 'ipv6');
    assert.equal(evidence.evidence.observedOn.how, 'content');
  });
});

describe('the harness never passes a check whose evidence is missing', () => {
  for (const fault of ['attach-capture-does-not-open', 'attach-capture-fails'] as const) {
    it(`apn.nat64-prefix when the capture across the attach ${fault === 'attach-capture-fails' ? 'fails before it closes' : 'does not open'}: broken EVIDENCE_MISSING, naming it`, async () => {
      const { cert, captures } = setUp();
      captures.fault = fault;
      await cert.observeFactory();
      await cert.check('os.dual-stack-attach', ui);
      const result = await cert.check('apn.nat64-prefix', ui);
      assert.equal(result.status, 'broken');
      assert.equal(result.reasons[0]!.code, 'EVIDENCE_MISSING');
      assert.match(result.reasons[0]!.detail, /no capture across the IPv6-only attach.*(did not open|failed before it closed)/);
    });
  }

  it('apn.nat64-prefix when the phone was already on the IPv6-only APN: skipped EVIDENCE_MISSING, not passed on LinkProperties', async () => {
    const { cert } = setUp({ onApn: IPV6_APN });
    const result = await cert.check('apn.nat64-prefix', ui);
    assert.equal(result.status, 'skipped');
    assert.equal(result.reasons[0]!.code, 'EVIDENCE_MISSING');
    assert.match(result.reasons[0]!.detail, /already on APN ipv6\.v6lab\.test/);
  });

  it('probes and apps whose capture fails are broken CAPTURE_FAILED, never passed', async () => {
    const { cert, captures } = setUp();
    captures.fault = 'every-capture-fails';
    const results = await runAll(cert);
    for (const id of ['os.resolver-prefers-ipv6', 'apn.ipv4-via-clat', 'apps.ipv6-first'] as const) {
      for (const r of results.filter((x) => x.check === id)) {
        assert.equal(r.status, 'broken', `${id} [${r.network}]`);
        assert.equal(r.reasons[0]!.code, 'CAPTURE_FAILED');
      }
    }
    assert.notEqual(byId(results, 'apn.nat64-prefix').status, 'passed');
    assert.equal(readResults(cert.plan.runDir).results.filter((r) => r.status === 'passed' && r.evidence.length === 0).length, 0);
  });
});
