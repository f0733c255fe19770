// `certify --app-runs N` and page steps through the harness itself (issue 18): a scripted phone
// whose capture windows hold small recorded captures and whose clock the walk advances, so an
// app's check runs twice, each a fresh launch with its own evidence, its pages cut at the moments
// the walk met its page steps, and results.json carries both runs, the mean, and every run's pages.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile, type AnalyzeOptions } from '../../lib/analysis/index.js';
import type { DeviceFacts } from '../../lib/device/facts.js';
import { CapturePlanner } from '../../lib/harness/captures.js';
import type { FlowStep } from '../../lib/harness/catalogue.js';
import { Certification, type DeviceUi } from '../../lib/harness/certification.js';
import { DeviceState } from '../../lib/harness/device-state.js';
import { readPlan, writePlan, type CertifyPlan, type DevicePlan } from '../../lib/harness/plan.js';
import { certifyCommand } from '../../lib/cli/certify.js';
import { UsageError } from '../../lib/cli/errors.js';
import { DataFileError } from '../../lib/config/schema.js';
import type { CaptureWindow, WindowCapture } from '../../lib/harness/window.js';
import { readResults, ResultsWriter } from '../../lib/report/results.js';
import { HandsetCapture } from '../support/scenario.js';
import { ScriptedPhone } from '../support/scripted-phone.js';

const SERIAL = 'R58M124';
const DUAL_APN = 'ims.v6lab.test';
const HS = '2001:db8:1::100';
const DNS = '2001:db8:1::53';

/** Run 1 all over native IPv6; run 2 half through NAT64 (its Article page), so the mean is between. */
const windows = [
  new HandsetCapture()
    .dns(0.05, HS, DNS, 3000, 1, 'api.news.test', 'AAAA', ['2001:db8:2::10'])
    .tcp(0.1, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 20000 })
    .tcp(2.5, HS, 4001, '2001:db8:2::10', 443, { responseBytes: 20000 }),
  new HandsetCapture()
    .dns(0.05, HS, DNS, 3000, 1, 'api.news.test', 'AAAA', ['2001:db8:2::10'])
    .tcp(0.1, HS, 4000, '2001:db8:2::10', 443, { responseBytes: 20000 })
    .dns(2.4, HS, DNS, 3001, 2, 'img.news.test', 'AAAA', ['64:ff9b::6440:14'])
    .tcp(2.5, HS, 4001, '64:ff9b::6440:14', 443, { responseBytes: 20000 }),
];

/** Capture planning on a fake clock (seconds from each window's opening) whose windows read the recorded captures in turn. */
class ScriptedCaptures extends CapturePlanner {
  clock = 0;
  opened: string[] = [];

  override now(): number {
    return this.clock;
  }

  override async openWindow(name: string, network: 'ipv6' | 'ipv4v6' | null): Promise<CaptureWindow> {
    this.opened.push(name);
    let file = this.evidencePath(`${name}.pcap`, network);
    // The window opened after the last run (the next app's spare) records nothing.
    writeFileSync(file, (windows[this.opened.length - 1] ?? new HandsetCapture()).pcap());
    this.clock = 0;
    const analyze: AnalyzeOptions = { nat64Prefixes: ['64:ff9b::/96'], clatAddresses: [] };
    const window = {
      alive: true,
      // The next run takes the window opened as the last one stopped, under its own name.
      adopt: (to: string) => {
        renameSync(file, to);
        file = to;
      },
      discard: async () => undefined,
      close: async (): Promise<WindowCapture> => ({ analysis: await analyzeFile(file, analyze), sockets: [], bytes: 100, file, method: 'device' }),
    };
    return window as unknown as CaptureWindow;
  }
}

const facts = {
  serial: SERIAL,
  model: 'Scripted',
  android: '14',
  sdk: 34,
  root: 'adbd',
  tcpdump: '/system/bin/tcpdump',
  pcapdroid: false,
  interfaces: [],
  defaultNetwork: null,
  problems: [],
} as unknown as DeviceFacts;

/** A scripted phone's plan: the dual-stack APN only. */
const deviceOf = (): DevicePlan => ({
  serial: SERIAL,
  profile: 'scripted',
  profileSource: 'test',
  virtual: false,
  appium: { url: 'http://127.0.0.1:4723', capabilities: {}, start: false },
  capture: ['device'],
  gatewayCapture: null,
  emulatorCapture: null,
  networks: { ipv6: null, ipv4v6: { apn: DUAL_APN } },
  apnSwitch: 'content',
  resolverProbeUrl: null,
  ipv4OnlyProbeUrl: null,
  backgroundHosts: [],
  catalogue: null,
});

describe('an app checked over repeated runs, with pages, through the harness (--app-runs)', () => {
  it('launches the app afresh for each run, keeps each run apart in results.json, and cuts each run into its pages', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'v6lab-app-runs-'));
    const device = deviceOf();
    const plan: CertifyPlan = { runDir, suites: ['apps'], catalogue: 'none', dwellMs: 0, clearAppData: false, adbPort: 5037, appRuns: 2, devices: [device] };
    ResultsWriter.start(runDir, '0.0.0', [{ serial: SERIAL, model: 'Scripted', android: '14', virtual: false, profile: 'scripted' }]);
    const phone = new ScriptedPhone(SERIAL, [{ id: '2', apn: DUAL_APN, protocol: 'IPV4V6', gives: 'dual-stack' }], DUAL_APN);
    const dir = join(runDir, 'devices', SERIAL);
    const captures = new ScriptedCaptures(phone, device, facts, dir, runDir);
    const cert = new Certification({
      plan,
      device,
      backend: phone,
      facts,
      state: new DeviceState(phone, 'adbd', dir),
      dir,
      captures,
      attachTimeoutMs: 300,
      returnMs: 0,
    });
    const walked: string[] = [];
    const ui: DeviceUi = {
      isAppInstalled: async () => true,
      activateApp: async (pkg) => {
        walked.push(`launch ${pkg}`);
      },
      terminateApp: async () => true,
      step: async (step: FlowStep) => {
        assert.ok(!('page' in step), 'a page step never reaches the UI');
        walked.push(JSON.stringify(step));
        if ('wait' in step) captures.clock += step.wait / 1000;
      },
      openUrl: async () => undefined,
    };
    const flow: FlowStep[] = [{ page: 'Home' }, { wait: 2000 }, { page: 'Article' }, { tap: '~article' }, { wait: 1000 }];
    const result = await cert.app(ui, { package: 'com.example.news', label: 'News', dwellMs: 0, flow }, 'ipv4v6');

    // Run 2 took the window opened as run 1 stopped (the spare), as the next app would.
    assert.deepEqual(captures.opened.slice(0, 2), ['com.example.news.run1', '.next-window']);
    // A fresh launch each run: stopped before its window, then launched.
    assert.equal(walked.filter((w) => w.startsWith('launch')).length, 2);
    assert.equal(phone.sent.filter((argv) => argv.join(' ') === 'am force-stop com.example.news').length, 2);
    assert.equal(result.runs?.length, 2, JSON.stringify(result));
    const [one, two] = result.runs!;
    assert.deepEqual([one!.run, one!.verdict, one!.ipv6Share], [1, 'pass', 1]);
    assert.equal(two!.verdict, 'warn', 'run 2 alone is low, and its host has no IPv6');
    assert.ok(two!.ipv6Share! > 0.4 && two!.ipv6Share! < 0.6, String(two!.ipv6Share));
    assert.ok(one!.evidence.every((f) => f.includes('com.example.news.run1')) && two!.evidence.every((f) => f.includes('com.example.news.run2')));
    assert.deepEqual(result.evidence, [...one!.evidence, ...two!.evidence]);
    // The mean is judged: (1 + ~0.5) / 2 is above 0.7, so no LOW_IPV6_SHARE; run 2's SERVER_NO_IPV6 still warns.
    assert.equal(result.metrics.ipv6ShareMean, (1 + two!.ipv6Share!) / 2);
    assert.equal(result.metrics.appRuns, 2);
    assert.deepEqual(
      result.reasons.map((r) => r.code),
      ['SERVER_NO_IPV6'],
    );
    assert.equal(result.verdict, 'warn');
    // Each run's pages, cut where the walk met the page steps (Article from 2 s).
    assert.deepEqual(
      result.pages!.map((p) => [p.run, p.page, p.ipv6Share]),
      [
        [1, 'Home', 1],
        [1, 'Article', 1],
        [2, 'Home', 1],
        [2, 'Article', 0],
      ],
    );
    assert.deepEqual(
      result.pages![3]!.ipv4Hosts.map((h) => [h.host, h.path, h.share]),
      [['img.news.test', 'nat64', 1]],
    );
    // results.json holds it as written, and reads back valid.
    const stored = readResults(runDir).results.find((r) => r.app === 'com.example.news')!;
    assert.deepEqual(stored.runs, result.runs);
    assert.deepEqual(stored.pages, result.pages);
  });
});

describe('certify --app-runs', () => {
  for (const text of ['0', '21', '1.5', 'two', '-1', '']) {
    it(`refuses ${JSON.stringify(text)} before anything starts, naming the option`, async () => {
      await assert.rejects(
        certifyCommand({ devices: SERIAL, appRuns: text, out: join(tmpdir(), 'v6lab-never') }, process.stdout),
        (e: unknown) => e instanceof UsageError && /^--app-runs: .* is not a whole number of runs \(1 to 20\)/.test(e.message),
      );
    });
  }

  it('is recorded in plan.json, which a worker (and --resume) reads back; a plan of an earlier version has none (1 run)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-plan-'));
    const base = { runDir: dir, suites: ['apps'], catalogue: 'c.json', dwellMs: 0, clearAppData: false, adbPort: 5037, devices: [] as DevicePlan[] };
    const device = deviceOf();
    writePlan({ ...base, suites: ['apps'], appRuns: 3, devices: [device] });
    assert.equal(readPlan(join(dir, 'plan.json')).appRuns, 3);
    writePlan({ ...base, suites: ['apps'], devices: [device] });
    assert.equal(readPlan(join(dir, 'plan.json')).appRuns, undefined);
    writeFileSync(join(dir, 'plan.json'), JSON.stringify({ ...base, appRuns: 0, devices: [device] }));
    assert.throws(
      () => readPlan(join(dir, 'plan.json')),
      (e: unknown) => e instanceof DataFileError && e.field === 'appRuns',
    );
  });
});
