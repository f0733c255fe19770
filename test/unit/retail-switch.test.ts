// Retail phones without root (issue 15, item 4): a person asked to switch the APN on certify's
// terminal (the question travels from a worker over certify's socket), the APN selected in
// Settings through the UI, one network per run (--network), and --resume running again what a
// network not reached skipped. The phone is scripted; the terminal's clock is a fake one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { checksOf, type CheckId, type NetworkName } from '../../lib/checks/requirements.js';
import type { DeviceFacts } from '../../lib/device/facts.js';
import { CapturePlanner } from '../../lib/harness/captures.js';
import { Certification, type DeviceUi } from '../../lib/harness/certification.js';
import { DeviceState } from '../../lib/harness/device-state.js';
import type { CertifyPlan, DevicePlan } from '../../lib/harness/plan.js';
import {
  NO_TERMINAL,
  servePrompts,
  SocketPrompt,
  TerminalPrompt,
  workerPrompt,
  type SwitchPrompt,
  type SwitchRequest,
  type Timers,
} from '../../lib/harness/prompt.js';
import { APN_RADIO_ID, APN_SUMMARY_ID, selectApnInSettings, type ScreenElement, type SettingsScreens } from '../../lib/harness/settings-ui.js';
import type { CaptureWindow, WindowCapture } from '../../lib/harness/window.js';
import { analyzeFile } from '../../lib/analysis/index.js';
import { isFinished, readResults, ResultsWriter, type CheckResult } from '../../lib/report/results.js';
import { ScriptedPhone, type ScriptedApn } from '../support/scripted-phone.js';

const SERIAL = 'R58M123';
const IPV6_APN = 'ipv6.v6lab.test';
const DUAL_APN = 'ims.v6lab.test';
const APNS: ScriptedApn[] = [
  { id: '1', apn: IPV6_APN, protocol: 'IPV4V6', gives: 'ipv6-only' },
  { id: '2', apn: DUAL_APN, protocol: 'IPV4V6', gives: 'dual-stack' },
];
const RFC7050_CAPTURE = join(import.meta.dirname, '../fixtures/lab/sll2-mixed.pcap');

/** Capture windows that read a recorded capture (RFC 7050 discovery in it). */
class ScriptedCaptures extends CapturePlanner {
  override async openWindow(): Promise<CaptureWindow> {
    const window = {
      alive: true,
      peek: () => ({ flows: [], hostnames: [], nat64Prefixes: [] }),
      adopt: () => undefined,
      discard: async () => undefined,
      close: async (): Promise<WindowCapture> => ({
        analysis: await analyzeFile(RFC7050_CAPTURE, {}),
        sockets: [],
        bytes: 100,
        file: RFC7050_CAPTURE,
        method: 'device',
      }),
    };
    return window as unknown as CaptureWindow;
  }
}

const facts = {
  serial: SERIAL,
  model: 'Scripted',
  manufacturer: 'v6lab',
  android: '15',
  sdk: 35,
  buildType: 'user',
  root: null,
  tcpdump: null,
  pcapdroid: false,
  interfaces: [],
  defaultNetwork: null,
  problems: [],
} as unknown as DeviceFacts;

const ui: DeviceUi = {
  isAppInstalled: async () => true,
  activateApp: async () => undefined,
  terminateApp: async () => true,
  step: async () => undefined,
  openUrl: async () => undefined,
};

/** A prompt whose person does `act` (or nothing) and answers as told; it keeps every question. */
function scriptedPerson(act: (request: SwitchRequest) => void, answer: 'enter' | 'timeout' = 'enter'): SwitchPrompt & { asked: SwitchRequest[] } {
  const asked: SwitchRequest[] = [];
  return {
    asked,
    ask: async (request) => {
      asked.push(request);
      act(request);
      return answer === 'enter' ? { answered: true } : { answered: false, why: 'timeout', detail: 'nobody pressed Enter within 10 min' };
    },
  };
}

/** The phone's Settings screen as the UI shows it: one row per APN, the preferred one checked; a tap selects as Settings does. */
function scriptedSettings(phone: ScriptedPhone, options: { radios?: boolean; tapTakes?: boolean } = {}): SettingsScreens & { taps: string[] } {
  const taps: string[] = [];
  const rows = () => phone.apns.map((a, i) => ({ a, top: 400 + i * 200 }));
  return {
    taps,
    elementsById: async (id): Promise<ScreenElement[]> => {
      if (id === APN_SUMMARY_ID) return rows().map(({ a, top }) => ({ ref: `s${a.id}`, text: a.apn, checked: false, top: top + 110, bottom: top + 170 }));
      if (id === APN_RADIO_ID && options.radios !== false)
        return rows().map(({ a, top }) => ({ ref: `r${a.id}`, text: '', checked: phone.preferredId === a.id, top: top + 60, bottom: top + 140 }));
      return [];
    },
    tap: async (ref) => {
      taps.push(ref);
      if (options.tapTakes === false) return;
      // Settings writes preferapn; the modem re-attaches (ScriptedPhone follows the preference).
      await phone.run(['content', 'insert', '--uri', 'content://telephony/carriers/preferapn', '--bind', `apn_id:i:${ref.slice(1)}`]);
    },
    back: async () => undefined,
  };
}

function setUp(
  options: {
    apnSwitch?: DevicePlan['apnSwitch'];
    onApn?: string;
    network?: NetworkName | null;
    prompt?: SwitchPrompt;
    screens?: SettingsScreens;
    runDir?: string;
  } = {},
) {
  const runDir = options.runDir ?? mkdtempSync(join(tmpdir(), 'v6lab-retail-'));
  const device: DevicePlan = {
    serial: SERIAL,
    profile: 'retail',
    profileSource: 'test',
    virtual: false,
    appium: { url: 'http://127.0.0.1:4723', capabilities: {}, start: false },
    capture: ['gateway'],
    gatewayCapture: ['true'],
    emulatorCapture: null,
    networks: { ipv6: { apn: IPV6_APN }, ipv4v6: { apn: DUAL_APN } },
    apnSwitch: options.apnSwitch ?? 'manual',
    resolverProbeUrl: null,
    ipv4OnlyProbeUrl: null,
    backgroundHosts: [],
    catalogue: null,
  };
  const plan: CertifyPlan = {
    runDir,
    suites: ['os', 'apn'],
    catalogue: 'none',
    dwellMs: 0,
    clearAppData: false,
    adbPort: 5037,
    network: options.network ?? null,
    switchTimeoutMs: 60_000,
    devices: [device],
  };
  if (options.runDir === undefined)
    ResultsWriter.start(runDir, '0.0.0', [{ serial: SERIAL, model: 'Scripted', android: '15', virtual: false, profile: 'retail' }]);
  const phone = new ScriptedPhone(SERIAL, APNS, options.onApn ?? DUAL_APN);
  // A retail phone: the shell may not touch the APN table, and there is no root.
  phone.apnTableReadable = false;
  const dir = join(runDir, 'devices', SERIAL);
  const state = new DeviceState(phone, null, dir);
  const captures = new ScriptedCaptures(phone, device, facts, dir, runDir);
  const cert = new Certification({
    plan,
    device,
    backend: phone,
    facts,
    state,
    dir,
    captures,
    attachTimeoutMs: 300,
    returnMs: 0,
    ...(options.prompt ? { prompt: options.prompt } : {}),
    ...(options.screens ? { screens: options.screens } : {}),
  });
  return { cert, phone, runDir };
}

/** Every os and apn check, as the specs run them (the resume check included: a finished one is not run again). */
async function runAll(cert: Certification): Promise<CheckResult[]> {
  await cert.observeFactory();
  const results: CheckResult[] = [];
  for (const check of [...checksOf('os'), ...checksOf('apn')]) {
    if (cert.done(check.id, null, check.network)) continue;
    results.push(await cert.check(check.id, ui));
  }
  return results;
}

const byId = (results: readonly CheckResult[], id: CheckId) => results.find((r) => r.check === id)!;

/** A terminal made of two streams that say they are TTYs. */
function fakeTerminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true });
  const output = Object.assign(new PassThrough(), { isTTY: true });
  let printed = '';
  output.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  return { input, output, printed: () => printed };
}

/** Timers a test fires by hand: no test waits on a clock. */
function fakeTimers(): Timers & { fire(): void; pending: number } {
  const callbacks = new Map<number, () => void>();
  let next = 1;
  return {
    setTimeout: (callback) => {
      callbacks.set(next, callback);
      return next++;
    },
    clearTimeout: (handle) => callbacks.delete(handle as number),
    fire: () => {
      for (const [id, callback] of [...callbacks]) {
        callbacks.delete(id);
        callback();
      }
    },
    get pending() {
      return callbacks.size;
    },
  };
}

const question: SwitchRequest = { serial: SERIAL, network: 'ipv6', apn: IPV6_APN, timeoutMs: 600_000 };

describe('apnSwitch manual: asking a person on the terminal', () => {
  it('says which device, APN and network, and goes on when Enter is pressed', async () => {
    const terminal = fakeTerminal();
    const timers = fakeTimers();
    const prompt = new TerminalPrompt(terminal, timers);
    const answer = prompt.ask(question);
    await new Promise((r) => setImmediate(r));
    assert.match(terminal.printed(), /switch R58M123 to APN ipv6\.v6lab\.test \(the IPv6-only network; .*\), then press Enter \(10 min before it is skipped\)/);
    terminal.input.write('\n');
    assert.deepEqual(await answer, { answered: true });
    assert.equal(timers.pending, 0, 'the deadline is cleared once answered');
  });

  it('skips at the deadline, saying nobody pressed Enter, and asks one question at a time', async () => {
    const terminal = fakeTerminal();
    const timers = fakeTimers();
    const prompt = new TerminalPrompt(terminal, timers);
    const first = prompt.ask(question);
    const second = prompt.ask({ ...question, network: 'ipv4v6', apn: DUAL_APN });
    await new Promise((r) => setImmediate(r));
    assert.doesNotMatch(terminal.printed(), /ims\.v6lab\.test/, 'the second question waits for the first');
    timers.fire();
    const answer = await first;
    assert.equal(answer.answered, false);
    assert.equal(answer.answered === false && answer.why, 'timeout');
    assert.match(answer.answered === false ? answer.detail : '', /nobody pressed Enter within 10 min/);
    await new Promise((r) => setImmediate(r));
    assert.match(terminal.printed(), /to APN ims\.v6lab\.test \(the dual-stack network/);
    terminal.input.write('\r');
    assert.deepEqual(await second, { answered: true });
  });

  it("carries a worker's question to certify's terminal over the socket, and back", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-prompt-test-'));
    const person = scriptedPerson(() => undefined);
    const served = await servePrompts(join(dir, 'prompt.sock'), person);
    try {
      assert.deepEqual(await new SocketPrompt(join(dir, 'prompt.sock')).ask(question), { answered: true });
      assert.deepEqual(person.asked, [question]);
      // A malformed question is answered "no", never taken for a switch.
      const reply = await new Promise<string>((done) => {
        const socket = connect(join(dir, 'prompt.sock'), () => socket.write('{"serial":"a b","network":"ipv6","apn":"x","timeoutMs":1}\n'));
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('close', () => done(text));
      });
      assert.equal(JSON.parse(reply).answered, false);
      assert.equal(person.asked.length, 1);
    } finally {
      await served.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a question withdrawn (its worker went away) ends unanswered: nobody waits on Enter for it', async () => {
    const terminal = fakeTerminal();
    const timers = fakeTimers();
    const prompt = new TerminalPrompt(terminal, timers);
    const withdrawn = new AbortController();
    const answer = prompt.ask(question, withdrawn.signal);
    await new Promise((r) => setImmediate(r));
    withdrawn.abort();
    const got = await answer;
    assert.equal(got.answered === false && got.why, 'closed');
    assert.equal(timers.pending, 0);
  });

  it('a worker with no socket named (no terminal) answers at once that nobody can be asked', async () => {
    const prompt = workerPrompt({});
    assert.equal(prompt, NO_TERMINAL);
    const answer = await prompt.ask(question);
    assert.equal(answer.answered === false && answer.why, 'no-terminal');
  });

  it('a person switching when asked: the checks are judged on the network, switched while the harness watched', async () => {
    let phone!: ScriptedPhone;
    const person = scriptedPerson((request) => {
      phone.attachedApn = request.apn;
    });
    const set = setUp({ prompt: person });
    phone = set.phone;
    const results = await runAll(set.cert);
    // On the dual-stack APN already: asked only for the IPv6-only one.
    assert.deepEqual(
      person.asked.map((q) => [q.network, q.apn, q.timeoutMs]),
      [['ipv6', IPV6_APN, 60_000]],
    );
    assert.equal(byId(results, 'os.dual-stack-attach').status, 'passed');
    assert.equal(byId(results, 'apn.ipv6-only-attach').status, 'passed');
    assert.equal(byId(results, 'apn.clat').status, 'passed');
    // The switch came while the capture across it ran: RFC 7050 discovery was seen.
    assert.equal(byId(results, 'apn.nat64-prefix').status, 'passed');
  });

  it('nobody at the terminal: each network not reached is skipped NETWORK_UNAVAILABLE with what happened, none passes', async () => {
    const set = setUp({ prompt: scriptedPerson(() => undefined, 'timeout'), onApn: DUAL_APN });
    const results = await runAll(set.cert);
    for (const r of results.filter((x) => x.network === 'ipv6')) {
      assert.equal(r.status, 'skipped', r.check);
      assert.equal(r.reasons[0]!.code, 'NETWORK_UNAVAILABLE');
      assert.match(r.reasons[0]!.detail, /not on APN ipv6\.v6lab\.test .*nobody pressed Enter/);
    }
  });

  it('no terminal at all: skipped at once, saying to run on a terminal, use --network or settings-ui', async () => {
    const set = setUp({ onApn: DUAL_APN });
    const result = await set.cert.check('apn.clat', ui);
    assert.equal(result.status, 'skipped');
    assert.match(result.reasons[0]!.detail, /no terminal .*on a terminal.*--network.*settings-ui/);
  });

  it('Enter pressed but the phone not switched: skipped, saying the network names another APN', async () => {
    const set = setUp({ prompt: scriptedPerson(() => undefined), onApn: DUAL_APN });
    const result = await set.cert.check('apn.clat', ui);
    assert.equal(result.status, 'skipped');
    assert.match(result.reasons[0]!.detail, /Enter was pressed, but the mobile network did not name APN ipv6\.v6lab\.test .*names APN ims\.v6lab\.test/);
  });
});

describe('apnSwitch settings-ui: the APN selected in Settings through the UI', () => {
  it('taps the radio button of the row whose summary is the APN, sees it checked, and the device attaches', async () => {
    let screens!: ReturnType<typeof scriptedSettings>;
    const set = setUp({
      apnSwitch: 'settings-ui',
      onApn: DUAL_APN,
      screens: { elementsById: (id) => screens.elementsById(id), tap: (r) => screens.tap(r), back: () => screens.back() },
    });
    screens = scriptedSettings(set.phone);
    const results = await runAll(set.cert);
    assert.deepEqual(screens.taps, ['r1'], 'the dual-stack row was already checked; the IPv6-only one tapped once');
    assert.ok(set.phone.sent.some((argv) => argv.join(' ') === 'am start -W -a android.settings.APN_SETTINGS'));
    assert.equal(byId(results, 'apn.ipv6-only-attach').status, 'passed');
    assert.equal(byId(results, 'apn.nat64-prefix').status, 'passed');
    const evidence = readResults(set.runDir).results.find((r) => r.check === 'apn.clat')!;
    assert.equal(evidence.status, 'passed');
  });

  it('says what stood in the way: no row for the APN, no radio button, a tap that did not take', async () => {
    const phone = new ScriptedPhone(SERIAL, APNS, DUAL_APN);
    const noRow = await selectApnInSettings(phone, scriptedSettings(phone), 'cmnet', { sleep: async () => undefined });
    assert.deepEqual(noRow.selected, false);
    assert.match(noRow.selected === false ? noRow.detail : '', /no row for APN cmnet \(it shows ipv6\.v6lab\.test, ims\.v6lab\.test\)/);
    const noRadio = await selectApnInSettings(phone, scriptedSettings(phone, { radios: false }), IPV6_APN, { sleep: async () => undefined });
    assert.match(noRadio.selected === false ? noRadio.detail : '', /has no radio button/);
    const notTaken = await selectApnInSettings(phone, scriptedSettings(phone, { tapTakes: false }), IPV6_APN, { screenMs: 0, sleep: async () => undefined });
    assert.match(notTaken.selected === false ? notTaken.detail : '', /did not show as checked/);
  });

  it('no Appium session to select with: skipped NETWORK_UNAVAILABLE, never passed', async () => {
    const set = setUp({ apnSwitch: 'settings-ui', onApn: DUAL_APN });
    const result = await set.cert.check('apn.clat', ui);
    assert.equal(result.status, 'skipped');
    assert.match(result.reasons[0]!.detail, /no Appium session to select it in Settings/);
  });
});

describe('--network and --resume: one network per run, the other added later', () => {
  it("--network ipv6: the dual-stack network's checks are skipped NETWORK_UNAVAILABLE as not part of this run; --resume --network ipv4v6 adds them", async () => {
    let phone!: ScriptedPhone;
    const person = scriptedPerson((request) => {
      phone.attachedApn = request.apn;
    });
    const first = setUp({ network: 'ipv6', prompt: person, onApn: IPV6_APN });
    phone = first.phone;
    const results = await runAll(first.cert);
    assert.equal(person.asked.length, 0, 'the phone was on the IPv6-only APN: nobody asked');
    // os.ipv6-enabled is the factory's; the roaming protocol is judged from the factory's table (judgeOs).
    for (const r of results.filter((x) => x.network === 'ipv4v6' && x.check !== 'os.ipv6-enabled' && x.check !== 'os.apn-roaming-protocol')) {
      assert.equal(r.status, 'skipped', r.check);
      assert.equal(r.reasons[0]!.code, 'NETWORK_UNAVAILABLE');
      assert.match(r.reasons[0]!.detail, /not part of this run \(--network ipv6\).*--resume RUN_DIR --network ipv4v6/);
    }
    assert.equal(byId(results, 'apn.clat').status, 'passed');
    assert.equal(byId(results, 'os.ipv6-enabled').status, 'passed', 'a factory check needs no network');

    // The resume: only what the network not reached skipped is run again, each replaced in place.
    const second = setUp({ network: 'ipv4v6', prompt: person, onApn: IPV6_APN, runDir: first.runDir });
    phone = second.phone;
    const again = await runAll(second.cert);
    assert.deepEqual(
      again.map((r) => r.check),
      ['os.apn-protocol', 'os.privacy-addresses', 'os.dual-stack-attach', 'os.resolver-prefers-ipv6'],
    );
    assert.deepEqual(
      person.asked.map((q) => q.apn),
      [DUAL_APN],
    );
    const doc = readResults(first.runDir);
    const keys = doc.results.map((r) => `${r.check}|${r.network}`);
    assert.equal(new Set(keys).size, keys.length, 'each check once');
    assert.equal(doc.results.find((r) => r.check === 'os.dual-stack-attach')!.status, 'passed');
    assert.equal(doc.results.find((r) => r.check === 'apn.clat')!.status, 'passed');
  });

  it('isFinished: broken and network-unavailable skips are run again; every other result stands', () => {
    const result = (status: CheckResult['status'], code: string) => ({ status, reasons: [{ code, detail: '' }] });
    assert.equal(isFinished(result('broken', 'CAPTURE_FAILED')), false);
    assert.equal(isFinished(result('skipped', 'NETWORK_UNAVAILABLE')), false);
    assert.equal(isFinished(result('skipped', 'NOT_INSTALLED')), true);
    assert.equal(isFinished(result('failed', 'ATTACH_FAILED')), true);
    assert.equal(isFinished(result('passed', 'OK')), true);
  });

  it('profiles and plans take settings-ui (the lab gives it to a handset with no root and a closed APN table)', async () => {
    const { loadDeviceProfile } = await import('../../lib/device/profile.js');
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-profile-'));
    const file = join(dir, 'p.json');
    (await import('node:fs')).writeFileSync(
      file,
      JSON.stringify({ name: 'retail', serial: SERIAL, networks: { ipv6: { apn: IPV6_APN } }, apnSwitch: 'settings-ui' }),
    );
    assert.equal(loadDeviceProfile(file).apnSwitch, 'settings-ui');
    const { loadProfile } = await import('../../lib/lab/world.js');
    const retail = loadProfile(resolve(import.meta.dirname, '../../devices/lab/handsets/retail.json'));
    assert.deepEqual([retail.buildType, retail.rooted, retail.tcpdump, retail.apnTableReadable, retail.android], ['user', false, false, false, '15']);
  });
});

describe('certify options for retail phones', () => {
  it('--network and --switch-timeout are checked before anything starts (exit 2, naming the option)', async () => {
    const { certifyCommand } = await import('../../lib/cli/certify.js');
    const out = new PassThrough();
    await assert.rejects(certifyCommand({ devices: SERIAL, network: 'ipv4' }, out), {
      name: 'UsageError',
      message: /--network: "ipv4" is not one of ipv6, ipv4v6/,
    });
    await assert.rejects(certifyCommand({ devices: SERIAL, switchTimeout: '0' }, out), {
      name: 'UsageError',
      message: /--switch-timeout: "0" is not a whole number of seconds/,
    });
  });
});
