// The capture methods give the same verdicts for the same app run (issue 4): tcpdump on the
// handset streamed over adb, tcpdump at the carrier's gateway (the way a carrier captures an
// unrooted phone), and a pcap file a capture keeps growing on the host, followed (the emulator's
// `-tcpdump FILE`; here the gateway's tcpdump writes that file, as no emulator runs here). The
// windows are open around one launch of each app; flows are attributed from the same socket
// polls and judged by the same code. Root and namespaces needed: skips with the reason
// elsewhere, fails in CI.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { appVerdict } from '../../lib/checks/app-verdict.js';
import { attributeFlows, destinationKey } from '../../lib/checks/attribution.js';
import { AdbkitBackend, adbClient } from '../../lib/device/adb.js';
import { probeDevice } from '../../lib/device/facts.js';
import { parseDumpsysConnectivity, parseDumpsysPackage } from '../../lib/device/parse/index.js';
import { mobileNetwork } from '../../lib/harness/device-state.js';
import { CaptureWindow, type WindowCapture } from '../../lib/harness/window.js';
import { labHandsetProfile } from '../../lib/lab/record.js';
import { labSession } from '../support/lab-session.js';

const SERIAL = 'emulator-5554';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('capture methods: on the handset, at the gateway and from a growing file agree (issue 4)', function () {
  this.timeout(180_000);
  const lab = labSession('the capture method tests', ['compliant']);

  it('news (warn), game (fail), maps (pass) and cdn (warn): the same verdict and reasons from either capture', async () => {
    const backend = new AdbkitBackend(adbClient(lab.cli.serverPort), SERIAL);
    const facts = await probeDevice(backend);
    const record = (await labHandsetProfile(lab.stateDir, SERIAL))!;
    const network = mobileNetwork(parseDumpsysConnectivity(await backend.runOk(['dumpsys', 'connectivity'])));
    const analyze = { nat64Prefixes: [network!.linkProperties!.nat64Prefix!], clatAddresses: [network!.clat!.v6!] };
    const verdicts: Record<string, Record<string, string>> = {};
    // A capture running all along into a host file, as an emulator started with -tcpdump writes.
    const emulatorFile = join(lab.work, 'emulator.pcap');
    const out = openSync(emulatorFile, 'w');
    const writer = spawn(record.gatewayCapture[0]!, record.gatewayCapture.slice(1), { stdio: ['ignore', out, 'ignore'] });
    closeSync(out);
    try {
      for (let waited = 0; statSync(emulatorFile).size < 24; waited += 50) {
        assert.ok(waited < 10_000, 'the file capture did not start');
        await sleep(50);
      }
      for (const pkg of ['com.example.news', 'com.example.game', 'com.example.maps', 'com.example.cdn']) {
        const uid = parseDumpsysPackage(await backend.runOk(['dumpsys', 'package', pkg]), pkg)!.userId!;
        const device = await CaptureWindow.open({
          device: backend,
          facts,
          method: 'device',
          gatewayCapture: null,
          file: join(lab.work, `${pkg}.device.pcap`),
          analyze,
        });
        const gateway = await CaptureWindow.open({
          device: backend,
          facts,
          method: 'gateway',
          gatewayCapture: record.gatewayCapture,
          file: join(lab.work, `${pkg}.gateway.pcap`),
          analyze,
        });
        const emulator = await CaptureWindow.open({
          device: backend,
          facts,
          method: 'emulator',
          gatewayCapture: null,
          emulatorCapture: emulatorFile,
          file: join(lab.work, `${pkg}.emulator.pcap`),
          analyze,
        });
        await sleep(500);
        const start = Date.now() / 1000;
        await backend.runOk(['am', 'start', '-W', '-n', `${pkg}/.MainActivity`]);
        await sleep(2500);
        await backend.runOk(['am', 'force-stop', pkg]);
        const end = Date.now() / 1000;
        const judged = (capture: WindowCapture) => {
          // As the harness judges: flows begun before launch, and the handset's background hosts (NTP, probe, push), are not the app's.
          const baseline = new Set(
            capture.analysis.flows.filter((f) => f.firstTs < start || (f.hostname !== null && record.backgroundHosts.includes(f.hostname))).map(destinationKey),
          );
          const attribution = attributeFlows({ analysis: capture.analysis, sockets: capture.sockets, appUid: uid, window: { start, end }, baseline });
          const verdict = appVerdict(capture.analysis, attribution.flows);
          return `${verdict.verdict} ${verdict.reasons
            .map((r) => r.code)
            .sort()
            .join(',')} (${attribution.summary})`;
        };
        const fromDevice = await device.close();
        const fromGateway = await gateway.close();
        const fromFile = await emulator.close();
        assert.ok(fromGateway.analysis.capture.packets > 0 && fromDevice.analysis.capture.packets > 0 && fromFile.analysis.capture.packets > 0);
        // Each tcpdump said, as it stopped, how many packets the kernel dropped (SIGINT on the
        // device, SIGTERM at the gateway); a file followed has no such count.
        assert.deepEqual(
          [fromDevice.analysis.capture.droppedByKernel, fromGateway.analysis.capture.droppedByKernel, fromFile.analysis.capture.droppedByKernel],
          [0, 0, null],
        );
        verdicts[pkg] = { device: judged(fromDevice), gateway: judged(fromGateway), emulator: judged(fromFile) };
      }
    } finally {
      writer.kill('SIGTERM');
    }
    for (const [pkg, v] of Object.entries(verdicts)) {
      assert.equal(v.gateway, v.device, `${pkg}: ${JSON.stringify(v)}`);
      assert.equal(v.emulator, v.device, `${pkg}: ${JSON.stringify(v)}`);
    }
    assert.match(verdicts['com.example.news']!.device!, /^warn .*SERVER_NO_IPV6/);
    assert.match(verdicts['com.example.game']!.device!, /^fail .*IPV4_LITERAL/);
    assert.match(verdicts['com.example.maps']!.device!, /^pass {2}\(uid\)/);
    assert.match(verdicts['com.example.cdn']!.device!, /^warn .*IPV6_FAILED/);
  });
});
