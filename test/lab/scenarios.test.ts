// The IETF app-testing draft's scenarios in the lab (issue 16, docs/scenarios.md): emulated
// Happy Eyeballs apps against a world host whose IPv6 path is a PMTUD blackhole and one whose
// IPv6 fails after the handshake get the verdict the rule names (IPV6_STALLED: a failed IPv6
// attempt, not IPv6 success), judged as the harness judges (device capture window, flows by
// socket owner, appVerdict); then the handset moves to the true IPv6-only APN through its APN
// table, runs no CLAT, and reaches the dual-stack and IPv6-only hosts but no IPv4-only one.
// One lab, one handset. Root and namespaces needed: skips with the reason elsewhere, fails in CI.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Flow } from '../../lib/analysis/index.js';
import { appVerdict } from '../../lib/checks/app-verdict.js';
import { attributeFlows, destinationKey } from '../../lib/checks/attribution.js';
import { AdbkitBackend, adbClient } from '../../lib/device/adb.js';
import { probeDevice } from '../../lib/device/facts.js';
import { parseDumpsysConnectivity, parseDumpsysPackage } from '../../lib/device/parse/index.js';
import { mobileNetwork } from '../../lib/harness/device-state.js';
import { CaptureWindow } from '../../lib/harness/window.js';
import type { AppLogEntry } from '../../lib/lab/android/app.js';
import { LAB_APNS } from '../../lib/lab/lab.js';
import { readState } from '../../lib/lab/network/state.js';
import { labStatus } from '../../lib/lab/network/status.js';
import { projectRoot } from '../support/cli.js';
import { appLogEntries, until } from '../support/app-log.js';
import { labSession } from '../support/lab-session.js';

const SERIAL = 'emulator-5554';
const SCENARIOS = join(projectRoot, 'devices/lab/scenarios');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('lab: the app-testing draft scenarios (PMTUD blackhole, late failure, true IPv6-only)', function () {
  this.timeout(60_000);
  const lab = labSession('the scenario lab tests', ['compliant'], 1, {
    upArgs: () => ['--world', join(SCENARIOS, 'world.json'), '--apps', join(SCENARIOS, 'apps'), '--no-background'],
  });
  let backend: AdbkitBackend;

  const logOf = (pkg: string): AppLogEntry[] => appLogEntries(join(lab.stateDir, 'handsets/hs0'), pkg);

  const describeFlows = (flows: readonly Flow[]) =>
    JSON.stringify(flows.map((f) => [f.family, f.server, f.serverPort, f.path, f.established, f.clientPayloadBytes, f.serverBytesAcked]));

  /**
   * One app's window as the harness opens it (tcpdump on the handset, its sockets polled): the app
   * launched, left until its connection is up and a little longer (a stall is what is judged, so
   * nothing waits for its 30 s request deadline), force-stopped; its flows attributed by uid.
   */
  async function judge(pkg: string) {
    const facts = await probeDevice(backend);
    const network = mobileNetwork(parseDumpsysConnectivity(await backend.runOk(['dumpsys', 'connectivity'])));
    const nat64Prefix = network?.linkProperties?.nat64Prefix;
    const uid = parseDumpsysPackage(await backend.runOk(['dumpsys', 'package', pkg]), pkg)!.userId!;
    const window = await CaptureWindow.open({
      device: backend,
      facts,
      method: 'device',
      gatewayCapture: null,
      file: join(lab.work, `${pkg}.pcap`),
      analyze: { nat64Prefixes: nat64Prefix ? [nat64Prefix] : [] },
    });
    await sleep(300);
    const start = Date.now() / 1000;
    await backend.runOk(['am', 'start', '-W', '-n', `${pkg}/.MainActivity`]);
    await until(`${pkg} to connect`, () => logOf(pkg).find((e) => e.event === 'attempt' && e.outcome === 'connected') ?? null);
    await sleep(1500);
    await backend.runOk(['am', 'force-stop', pkg]);
    const end = Date.now() / 1000;
    const capture = await window.close();
    const baseline = new Set(capture.analysis.flows.filter((f) => f.firstTs < start).map(destinationKey));
    const attribution = attributeFlows({ analysis: capture.analysis, sockets: capture.sockets, appUid: uid, window: { start, end }, baseline });
    const flows = capture.analysis.flows.filter((f) => attribution.flows.has(f.id) && f.application !== 'dns');
    return { verdict: appVerdict(capture.analysis, attribution.flows), flows };
  }

  before(() => {
    backend = new AdbkitBackend(adbClient(lab.cli.serverPort), SERIAL);
  });

  it('pmtud-blackhole: the IPv6 handshake completes, the large TLS flight never arrives: IPV6_STALLED and SLOW_FALLBACK (warn), not IPv6 success', async () => {
    const { verdict, flows } = await judge('com.example.scenario.pmtud');
    const v6 = flows.filter((f) => f.family === 6 && f.serverPort === 443);
    assert.ok(v6.length > 0 && v6.every((f) => f.established === true && f.clientPayloadBytes > 0 && f.serverBytesAcked === 0), describeFlows(flows));
    assert.equal(verdict.verdict, 'warn', JSON.stringify(verdict.reasons));
    assert.deepEqual(verdict.reasons.map((r) => r.code).sort(), ['IPV6_STALLED', 'SLOW_FALLBACK']);
  });

  it('late-failure: the IPv6 handshake completes, the server never answers the ClientHello: IPV6_STALLED and SLOW_FALLBACK (warn)', async () => {
    const { verdict, flows } = await judge('com.example.scenario.late');
    const v6 = flows.filter((f) => f.family === 6 && f.serverPort === 443);
    assert.ok(v6.length > 0 && v6.every((f) => f.established === true && f.serverBytesAcked === 0), describeFlows(flows));
    assert.match(verdict.reasons.find((r) => r.code === 'IPV6_STALLED')?.detail ?? '', /late\.test .*completed the handshake/);
    assert.equal(verdict.verdict, 'warn', JSON.stringify(verdict.reasons));
  });

  it('both failing hosts answer over IPv4 (through the CLAT): only their IPv6 fails', async () => {
    const pkg = 'com.example.scenario.ipv4';
    await backend.runOk(['am', 'start', '-n', `${pkg}/.MainActivity`]);
    const loaded = await until(`${pkg} to load`, () => logOf(pkg).find((e) => e.event === 'loaded') ?? null);
    assert.equal(loaded.ok, true, JSON.stringify(logOf(pkg).filter((e) => e.event === 'request')));
    await backend.runOk(['am', 'force-stop', pkg]);
  });

  it('true IPv6-only (the ipv6-true APN picked in the APN table): no DNS64, no CLAT; Happy Eyeballs reaches dual-stack and IPv6-only hosts, not IPv4-only ones', async () => {
    const root = (command: string) => backend.runOk(['su', '-c', command]);
    const apn = LAB_APNS['ipv6-true'];
    await root(
      `content insert --uri content://telephony/carriers --bind name:s:true-v6 --bind apn:s:${apn} --bind type:s:default,supl --bind protocol:s:IPV6 --bind roaming_protocol:s:IPV6 --bind mcc:s:460 --bind mnc:s:99 --bind numeric:s:46099`,
    );
    const id = new RegExp(`^Row: \\d+ _id=(\\d+),.* apn=${apn.replace(/\./g, '\\.')},`, 'm').exec(
      await root('content query --uri content://telephony/carriers'),
    )?.[1];
    assert.ok(id, 'the ipv6-true APN was added');
    await root(`content insert --uri content://telephony/carriers/preferapn --bind apn_id:i:${id}`);
    await until(
      'the handset on the ipv6-true APN',
      async () => ((await backend.runOk(['dumpsys', 'connectivity'])).includes(`extra: ${apn}`) ? true : null),
      20_000,
    );
    const attached = (await readState(lab.stateDir))!.handsets[0]!;
    assert.deepEqual([attached.apn, attached.families, attached.dns64, attached.clat], ['ipv6-true', [6], false, null]);
    const network = mobileNetwork(parseDumpsysConnectivity(await backend.runOk(['dumpsys', 'connectivity'])));
    assert.equal(network?.clat ?? null, null, 'no CLAT without a NAT64 prefix to find');
    const status = (await labStatus(lab.stateDir)).handsets[0]!;
    assert.deepEqual([status.healthy, status.problems], [true, []], 'no CLAT is right here, not a problem');

    const pkg = 'com.example.scenario.reach';
    await backend.runOk(['am', 'start', '-n', `${pkg}/.MainActivity`]);
    await until(`${pkg} to load`, () => logOf(pkg).find((e) => e.event === 'loaded') ?? null, 20_000);
    const outcomes = Object.fromEntries(logOf(pkg).flatMap((e) => (e.event === 'request' ? [[e.host as string, [e.ok, e.family]]] : [])));
    assert.deepEqual(outcomes, {
      'www.dual.test': [true, 6],
      'v6only.test': [true, 6],
      'noa.test': [true, 6],
      // No AAAA and no DNS64 to make one: nothing to reach these over IPv6, and no IPv4 at all.
      'v4only.test': [false, null],
      'noaaaa.test': [false, null],
    });
  });
});
