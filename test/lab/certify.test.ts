// `v6lab certify` end to end (issue 4, "Shown to work"): the lab's compliant and non-compliant
// handsets certified in one run through WebdriverIO, two Appium servers and the real adb server;
// every emulated app gets the verdict its modes predict; the devices are left as they were found;
// a handset rebooted mid-run breaks only the check in flight; bad input exits 2, a missing
// device 3. Root and namespaces needed: skips with the reason elsewhere, fails in CI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { remote } from 'webdriverio';
import { checksOfRequirement, REQUIREMENTS, requirementAnchor } from '../../lib/checks/requirements.js';
import { externalLoads } from '../../lib/report/allure.js';
import type { RunResults } from '../../lib/report/results.js';
import { startAdbServer, type AdbCli } from '../support/adb-cli.js';
import { projectRoot, v6lab } from '../support/cli.js';
import { inCi, onPath, requireLab } from '../support/lab-env.js';

const COMPLIANT = 'emulator-5554';
const NONCOMPLIANT = 'emulator-5556';

/** What each emulated app's modes predict, on either network (devices/lab/README.md). */
const PREDICTED: Record<string, { verdict: string; reason: string | null }> = {
  'com.example.cdn': { verdict: 'warn', reason: 'IPV6_FAILED' }, // IPv6 blackholed, Happy Eyeballs falls back
  'com.example.chat': { verdict: 'pass', reason: null },
  'com.example.game': { verdict: 'fail', reason: 'IPV4_LITERAL' },
  'com.example.legacy': { verdict: 'fail', reason: 'NO_AAAA_QUERY' },
  'com.example.maps': { verdict: 'pass', reason: null },
  'com.example.news': { verdict: 'warn', reason: 'SERVER_NO_IPV6' }, // an IPv4-only image host
  'com.example.shop': { verdict: 'fail', reason: 'IPV4_FIRST' },
  'com.example.video': { verdict: 'pass', reason: null },
};

const OS_APN_CHECKS = [
  'os.apn-protocol',
  'os.apn-roaming-protocol',
  'os.ipv6-enabled',
  'os.privacy-addresses',
  'os.dual-stack-attach',
  'os.resolver-prefers-ipv6',
  'apn.ipv6-only-attach',
  'apn.clat',
  'apn.nat64-prefix',
  'apn.ipv4-via-clat',
];

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A WebdriverIO session on the Debian chromium, headless, kept off the network. */
function headlessChromium() {
  return remote({
    logLevel: 'warn',
    capabilities: {
      browserName: 'chrome',
      'goog:chromeOptions': {
        binary: '/usr/bin/chromium',
        args: [
          '--headless=new',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--window-size=1280,2000',
        ],
      },
      'wdio:chromedriverOptions': { binary: '/usr/bin/chromedriver' },
    },
  });
}

describe("certify: the lab's handsets through WebdriverIO and Appium (issue 4)", function () {
  this.timeout(600_000);
  const work = mkdtempSync(join(tmpdir(), 'v6lab-certify-'));
  chmodSync(work, 0o755);
  const stateDir = join(work, 'state');
  let cli: AdbCli;
  let env: Record<string, string>;

  const shell = async (serial: string, args: string[]) => (await cli.run(['-s', serial, 'shell', ...args])).stdout.toString().trim();
  /** The device's state as certify must leave it: the APN table (as root), the preferred APN, Private DNS. */
  const deviceState = async (serial: string) => ({
    apns: await shell(serial, ['su', '-c', 'content query --uri content://telephony/carriers']),
    preferred: await shell(serial, ['su', '-c', 'content query --uri content://telephony/carriers/preferapn']),
    privateDns: await shell(serial, ['settings', 'get', 'global', 'private_dns_mode']),
  });

  before(async function () {
    await requireLab(
      this,
      'the certify tests',
      ['ip', 'tayga', 'radvd', 'unbound', 'tcpdump', 'adb', 'setpriv', 'dnsmasq', 'busybox'],
      'iproute2 tayga radvd unbound tcpdump adb util-linux dnsmasq-base busybox',
    );
    const up = await v6lab(
      [
        'lab',
        'up',
        '--handsets',
        '2',
        '--apn',
        'ipv6',
        '--profile',
        join(projectRoot, 'devices/lab/handsets/compliant.json'),
        '--profile',
        join(projectRoot, 'devices/lab/handsets/noncompliant.json'),
      ],
      { V6LAB_STATE_DIR: stateDir },
    );
    assert.equal(up.code, 0, `lab up: ${up.stderr}`);
    mkdirSync(join(work, 'adb-home'));
    cli = await startAdbServer(join(work, 'adb-home'));
    env = cli.harnessEnv({ V6LAB_STATE_DIR: stateDir });
    const deadline = Date.now() + 15_000;
    for (;;) {
      const devices = (await cli.run(['devices'])).stdout.toString();
      if (devices.includes(`${COMPLIANT}\tdevice`) && devices.includes(`${NONCOMPLIANT}\tdevice`)) break;
      if (Date.now() > deadline) throw new Error(`the adb server did not find the handsets: ${devices}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  after(async function () {
    await cli?.run(['kill-server']).catch(() => undefined);
    if (process.getuid?.() === 0) await v6lab(['lab', 'down'], { V6LAB_STATE_DIR: stateDir });
  });

  describe('a full run of both handsets, every suite, both networks', () => {
    const out = join(work, 'run');
    let results: RunResults;
    let found: Record<string, Awaited<ReturnType<typeof deviceState>>>;
    let run: Awaited<ReturnType<typeof v6lab>>;

    it('exits 1 because the non-compliant handset fails, and writes a finished results.json', async () => {
      // Private DNS as a user may have it: certify turns it off and must put it back.
      await shell(COMPLIANT, ['settings', 'put', 'global', 'private_dns_mode', 'opportunistic']);
      found = { [COMPLIANT]: await deviceState(COMPLIANT), [NONCOMPLIANT]: await deviceState(NONCOMPLIANT) };
      run = await v6lab(['certify', '--devices', `${COMPLIANT},${NONCOMPLIANT}`, '--out', out], env, 540_000);
      assert.equal(run.code, 1, `certify: ${run.stderr.slice(-3000)}`);
      results = readJson<RunResults>(join(out, 'results.json'));
      assert.notEqual(results.run.finished, null);
      assert.deepEqual(
        results.devices.map((d) => [d.serial, d.virtual, d.profile]),
        [
          [COMPLIANT, true, 'compliant'],
          [NONCOMPLIANT, true, 'noncompliant'],
        ],
      );
      // Which build each ran, as the probe read it (compliant.json: Android 14, SIM 460/99).
      const identity = results.devices.find((d) => d.serial === COMPLIANT)?.identity;
      assert.match(identity?.fingerprint ?? '', /^v6lab\/v6ref\/v6ref:14\//, JSON.stringify(identity));
      assert.deepEqual(
        identity?.sims.map((sim) => `${sim.mcc}${sim.mnc}`),
        ['46099'],
      );
      assert.match(run.stdout, new RegExp(`${COMPLIANT}\\tv6lab Reference\\tFAIL`), 'the compliant handset fails only through apps that fail');
    });

    it('the compliant handset passes every OS and APN check; the non-compliant one fails each it could be judged on', () => {
      // With APN protocol IP the non-compliant handset never attaches to the IPv6-only APN: its
      // attach check fails, and what needs that network is skipped, never judged on another one.
      const unreachable = ['apn.clat', 'apn.nat64-prefix', 'apn.ipv4-via-clat'];
      for (const check of OS_APN_CHECKS) {
        const mine = results.results.filter((r) => r.check === check);
        assert.equal(mine.find((r) => r.device === COMPLIANT)?.status, 'passed', `${check} on the compliant handset: ${JSON.stringify(mine)}`);
        assert.equal(
          mine.find((r) => r.device === NONCOMPLIANT)?.status,
          unreachable.includes(check) ? 'skipped' : 'failed',
          `${check} on the non-compliant handset: ${JSON.stringify(mine)}`,
        );
        for (const r of mine) assert.ok(r.requirement.length > 0 && r.evidence.length > 0, `${check} names its requirement and evidence`);
      }
      const noncompliant = (check: string) => results.results.find((r) => r.device === NONCOMPLIANT && r.check === check)!.reasons.map((r) => r.code);
      assert.deepEqual(noncompliant('os.apn-protocol'), ['APN_PROTOCOL_NOT_IPV4V6']);
      assert.deepEqual(noncompliant('apn.clat'), ['NETWORK_UNAVAILABLE']);
      assert.ok(noncompliant('apn.ipv6-only-attach').includes('ATTACH_FAILED'));
    });

    it('every emulated app gets the verdict its modes predict, on both networks', () => {
      for (const network of ['ipv6', 'ipv4v6'] as const) {
        for (const [app, predicted] of Object.entries(PREDICTED)) {
          const r = results.results.find((x) => x.device === COMPLIANT && x.app === app && x.network === network);
          assert.ok(r, `${app} on ${network} has a result`);
          assert.equal(r.verdict, predicted.verdict, `${app} on ${network}: ${JSON.stringify(r.reasons)}`);
          assert.equal(r.status, predicted.verdict === 'fail' ? 'failed' : 'passed');
          if (predicted.reason !== null)
            assert.ok(
              r.reasons.some((x) => x.code === predicted.reason),
              `${app} on ${network}: ${predicted.reason} in ${JSON.stringify(r.reasons)}`,
            );
          assert.equal(r.metrics.attribution, 'uid');
        }
      }
      // On the IPv6-only APN the non-compliant handset (APN protocol IP) has no network: its apps are skipped, not failed.
      assert.ok(
        results.results
          .filter((r) => r.device === NONCOMPLIANT && r.network === 'ipv6' && r.app !== null)
          .every((r) => r.status === 'skipped' && r.reasons[0]!.code === 'NETWORK_UNAVAILABLE'),
      );
    });

    it("never blames the handset's background traffic (probe, NTP, push) on an app", () => {
      let checked = 0;
      for (const r of results.results.filter((x) => x.app !== null && x.status !== 'skipped')) {
        const evidence = readJson<{ analysis: { flows: { id: number; hostname: string | null; serverPort: number }[] }; attribution: { flows: number[] } }>(
          join(out, r.evidence.find((e) => e.endsWith('.analysis.json'))!),
        );
        const mine = evidence.analysis.flows.filter((f) => evidence.attribution.flows.includes(f.id));
        const blamed = mine.filter(
          (f) => f.hostname === 'connectivity.test' || f.hostname === 'time.test' || (f.hostname === 'push.test' && f.serverPort === 443),
        );
        assert.deepEqual(blamed, [], `${r.device} ${r.app} ${r.network}`);
        checked++;
      }
      assert.ok(checked >= 24);
    });

    it('keeps the evidence: pcaps, analyses, Allure results with requirement labels', () => {
      const r = results.results.find((x) => x.device === COMPLIANT && x.app === 'com.example.news' && x.network === 'ipv6')!;
      for (const file of r.evidence) assert.ok(existsSync(join(out, file)), file);
      assert.ok(r.evidence.some((e) => e.endsWith('.pcap')));
      const allure = readdirSync(join(out, 'allure-results'))
        .filter((f) => f.endsWith('-result.json'))
        .map((f) => readJson<{ name: string; labels: { name: string; value: string }[] }>(join(out, 'allure-results', f)));
      const clat = allure.find((a) => a.name === 'apn.clat' && a.labels.some((l) => l.name === 'device' && l.value === COMPLIANT));
      assert.ok(clat, 'apn.clat is an Allure test');
      assert.ok(clat.labels.some((l) => l.name === 'requirement' && l.value === 'RFC6877-4_2'));
    });

    it('ran each handset behind its own Appium server, and stopped both', async () => {
      const plan = readJson<{ devices: { serial: string; appium: { url: string } }[] }>(join(out, 'plan.json'));
      const urls = plan.devices.map((d) => d.appium.url);
      assert.equal(new Set(urls).size, 2, urls.join(' '));
      for (const url of urls) assert.equal(await listening(Number(new URL(url).port)), false, `${url} is stopped`);
    });

    it('writes the certification report and JUnit; `v6lab report` adds the Allure HTML, which loads nothing from the network', async () => {
      assert.match(run.stdout, /report: .*index\.html/);
      assert.ok(existsSync(join(out, 'index.html')) && existsSync(join(out, 'junit.xml')));
      // The report names the build each handset ran.
      assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /<dt>fingerprint<\/dt><dd><code>v6lab\/v6ref\/v6ref:14\//);
      const report = await v6lab(['report', out], env, 180_000);
      assert.equal(report.code, 0, report.stderr);
      const allure = join(out, 'allure-report', 'index.html');
      assert.ok(report.stdout.includes(allure));
      assert.deepEqual(externalLoads(readFileSync(allure, 'utf8')), []);
    });

    it('in headless Chromium, the report shows both handsets, the failing checks with their reasons, the app matrix and the charts', async function () {
      if (!(await onPath('chromium')) || !(await onPath('chromedriver'))) {
        if (inCi) throw new Error('chromium and chromedriver are missing (Debian: chromium chromium-driver)');
        this.skip();
      }
      const browser = await headlessChromium();
      try {
        await browser.url(pathToFileURL(join(out, 'index.html')).href);
        const cards = await browser.$$('.card').map((c) => c.getText());
        assert.equal(cards.length, 2);
        assert.match(cards[0]!, /v6lab Reference[\s\S]*fail/);
        assert.match(cards[1]!, /v6lab Legacy[\s\S]*fail[\s\S]*0 passed, 15 failed/);
        const apnRow = await browser.$(`#device-${NONCOMPLIANT} tr[data-check="os.apn-protocol"]`).getText();
        assert.match(apnRow, /fail[\s\S]*APN_PROTOCOL_NOT_IPV4V6 the default APN internet\.v6lab\.test has protocol IP;/);
        const cell = (app: string, network: string) =>
          browser.$(`#app-matrix td[data-app="${app}"][data-device="${COMPLIANT}"][data-network="${network}"]`).getText();
        assert.match(await cell('com.example.game', 'ipv6'), /fail/);
        assert.match(await cell('com.example.maps', 'ipv4v6'), /pass/);
        assert.match(await cell('com.example.cdn', 'ipv6'), /warn/);
        const news = await browser.$(`[id="app-${COMPLIANT}-ipv6-com.example.news"]`);
        await news.$('summary').click();
        await news.scrollIntoView();
        assert.match(await news.getText(), /SERVER_NO_IPV6 img\.news\.test has no AAAA record/);
        const bar = await news.$('[data-chart="paths"] svg');
        assert.ok(await bar.isDisplayed());
        assert.ok((await bar.getSize()).width > 100, 'the bar is drawn');
        assert.ok((await news.$$('[data-chart="paths"] svg rect').length) >= 2, 'native IPv6 and NAT64 bytes');
        assert.ok((await news.$$('[data-chart="timeline"] svg circle').length) >= 2, 'a first IPv6 attempt per hostname');
        // On a phone's screen nothing but the wide tables scrolls sideways (they scroll in their own box).
        await browser.setWindowSize(390, 844);
        const overflow = Number(await browser.execute('return document.documentElement.scrollWidth - document.documentElement.clientWidth'));
        assert.ok(overflow <= 0, `the page is ${overflow} px wider than a 390 px screen`);
        await browser.setWindowSize(1280, 2000);
        // Printable: Chromium prints it to a PDF.
        const pdf = join(out, 'report.pdf');
        await browser.savePDF(pdf);
        assert.equal(readFileSync(pdf).subarray(0, 5).toString('latin1'), '%PDF-');
        const shot = join(projectRoot, 'reports', 'ci-artifacts', 'report.png');
        mkdirSync(join(projectRoot, 'reports', 'ci-artifacts'), { recursive: true });
        await browser.saveScreenshot(shot);
        console.log(`    screenshot of the report: ${shot}`);
      } finally {
        await browser.deleteSession();
      }
    });

    it('in Chinese, in headless Chromium: every requirement has its anchor and its checks, and no English verdict or reason text is shown', async function () {
      if (!(await onPath('chromium')) || !(await onPath('chromedriver'))) {
        if (inCi) throw new Error('chromium and chromedriver are missing (Debian: chromium chromium-driver)');
        this.skip();
      }
      const zh = await v6lab(['report', out, '--lang', 'zh-CN', '--no-allure'], env, 60_000);
      assert.equal(zh.code, 0, zh.stderr);
      const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
      const browser = await headlessChromium();
      try {
        await browser.url(pathToFileURL(join(out, 'index.html')).href);
        assert.equal(await browser.execute('return document.documentElement.lang'), 'zh-CN');
        // The traceability matrix: each requirement its own anchor, listing the checks that prove it (or why none does).
        for (const id of Object.keys(REQUIREMENTS)) {
          const row = await browser.$(`[id="${requirementAnchor(id)}"]`);
          assert.ok(await row.isExisting(), `no anchor for requirement ${id}`);
          const text = await row.getText();
          for (const check of checksOfRequirement(id)) assert.ok(text.includes(check.id), `requirement ${id} does not list ${check.id}: ${text}`);
        }
        // What a reader sees, less what is marked English on purpose (lang="en": an error's own words), codes,
        // identifiers and the evidence files shown verbatim (<pre>: JSON as the run recorded it, data not prose).
        const visible = String(
          await browser.execute(
            "const body = document.body.cloneNode(true); for (const e of body.querySelectorAll('[lang=\"en\"], code, pre, style, script')) e.remove(); return body.textContent ?? '';",
          ),
        )
          .replace(/\S*\/\S*/g, ' ')
          .replace(/\b[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+\b/g, ' ');
        const verdictWord = /\b(pass|passed|fail|failed|warn|warning|inconclusive|skipped|broken|not run)\b/i.exec(visible);
        assert.equal(
          verdictWord,
          null,
          `an English verdict on the Chinese page: ${verdictWord?.[0]} in ...${visible.slice(Math.max(0, (verdictWord?.index ?? 0) - 80), (verdictWord?.index ?? 0) + 80)}...`,
        );
        const details = new Set(doc.results.flatMap((r) => r.reasons.filter((x) => (x.messages?.length ?? 0) > 0).map((x) => x.detail)));
        assert.ok(details.size >= 5, `the run's reasons carry messages (${details.size})`);
        for (const detail of details) assert.ok(!visible.includes(detail), `an English reason on the Chinese page: ${detail}`);
        assert.match(visible, /不通过/);
      } finally {
        await browser.deleteSession();
        // The English page back, as certify wrote it, for the tests after this one.
        await v6lab(['report', out, '--lang', 'en', '--no-allure'], env, 60_000);
      }
    });

    it('leaves both handsets as it found them: APN table, preferred APN, Private DNS', async () => {
      for (const serial of [COMPLIANT, NONCOMPLIANT]) assert.deepEqual(await deviceState(serial), found[serial], serial);
      assert.equal(found[COMPLIANT]!.privateDns, 'opportunistic');
    });
  });

  describe('a handset rebooted mid-run', () => {
    const out = join(work, 'reboot');

    it('breaks the check in flight with the reason, the other handset finishes, and the state comes back', async () => {
      const catalogue = join(work, 'two.json');
      // Two lab apps (the first judged, the second in flight when the reboot comes), and WeChat,
      // which a lab handset does not have: skipped, not failed.
      writeFileSync(
        catalogue,
        JSON.stringify({
          name: 'two',
          apps: ['com.example.maps', 'com.example.news', 'com.tencent.mm'].map((p) => ({ package: p, label: p, dwellMs: 1500 })),
        }),
      );
      const asFound = await deviceState(COMPLIANT);
      const running = v6lab(['certify', '--devices', `${COMPLIANT},${NONCOMPLIANT}`, '--suite', 'apps', '--apps', catalogue, '--out', out], env, 300_000);
      // The compliant handset's first app is done: reboot it while the next one runs.
      const deadline = Date.now() + 120_000;
      for (;;) {
        const doc = existsSync(join(out, 'results.json')) ? readJson<RunResults>(join(out, 'results.json')) : null;
        if (doc?.results.some((r) => r.device === COMPLIANT)) break;
        if (Date.now() > deadline) throw new Error('no result from the compliant handset in 120 s');
        await new Promise((r) => setTimeout(r, 200));
      }
      // The Appium servers the run started listen on loopback only.
      const plan = readJson<{ devices: { appium: { url: string } }[] }>(join(out, 'plan.json'));
      const listeners = execFileSync('ss', ['-ltnH'], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[3] ?? '');
      for (const url of plan.devices.map((d) => d.appium.url)) {
        const port = new URL(url).port;
        const bound = listeners.filter((a) => a.endsWith(`:${port}`));
        assert.ok(bound.length > 0 && bound.every((a) => a === `127.0.0.1:${port}`), `Appium on ${port}: ${bound.join(' ')}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await cli.run(['-s', COMPLIANT, 'reboot'])).code, 0);
      const run = await running;
      assert.equal(run.code, 1, run.stderr.slice(-2000));
      const results = readJson<RunResults>(join(out, 'results.json'));
      // The check in flight broke naming the reboot: broken, or run again once the handset was back
      // with its broken attempt kept.
      const mine = results.results.filter((r) => r.device === COMPLIANT);
      const attempts = mine.flatMap((r) => [...(r.brokenAttempts ?? []), ...(r.status === 'broken' ? [r] : [])]);
      assert.ok(attempts.length >= 1, JSON.stringify(mine));
      assert.ok(
        attempts.every(
          (r) =>
            ['DEVICE_DISCONNECTED', 'CAPTURE_FAILED', 'APPIUM_ERROR'].includes(r.reasons[0]!.code) &&
            /offline|not found|dropped|ended|closed/i.test(r.reasons[0]!.detail),
        ),
        JSON.stringify(attempts),
      );
      // It came back within seconds: the checks after the one in flight ran, on both networks.
      const after = mine.filter((r) => r.status !== 'broken');
      assert.ok(
        after.some((r) => r.network === 'ipv4v6'),
        JSON.stringify(results.results.filter((r) => r.device === COMPLIANT)),
      );
      // The other handset finished: every app on both networks has a result, none broken.
      const other = results.results.filter((r) => r.device === NONCOMPLIANT);
      assert.equal(other.length, 6);
      assert.ok(
        other.every((r) => r.status !== 'broken'),
        JSON.stringify(other),
      );
      const wechat = results.results.find((r) => r.device === NONCOMPLIANT && r.app === 'com.tencent.mm' && r.network === 'ipv4v6')!;
      assert.deepEqual([wechat.status, wechat.reasons[0]!.code], ['skipped', 'NOT_INSTALLED']);
      // Back after the reboot, the handset was put back as found.
      assert.deepEqual(await deviceState(COMPLIANT), asFound);
    });
  });

  describe('two real runs merged (v6lab report --merge)', () => {
    it("one fleet report: the full run's checks, the apps of the later rebooted run where both checked them, evidence that resolves, Allure from both", async () => {
      const full = readJson<RunResults>(join(work, 'run', 'results.json'));
      const later = readJson<RunResults>(join(work, 'reboot', 'results.json'));
      const merged = join(work, 'fleet');
      const r = await v6lab(['report', merged, '--merge', join(work, 'run'), join(work, 'reboot')], env, 180_000);
      assert.equal(r.code, 0, r.stderr);
      const doc = readJson<RunResults>(join(merged, 'results.json'));
      assert.deepEqual(
        doc.run.merged!.map((m) => m.id),
        [full.run.id, later.run.id],
      );
      const key = (x: { device: string; check: string; app: string | null; network: string }) => `${x.device}|${x.check}|${x.app}|${x.network}`;
      const laterKeys = new Set(later.results.map(key));
      assert.equal(doc.results.length, new Set([...full.results, ...later.results].map(key)).size);
      for (const x of doc.results) assert.equal(x.run, laterKeys.has(key(x)) ? later.run.id : full.run.id, key(x));
      for (const file of doc.results.flatMap((x) => x.evidence)) assert.ok(existsSync(join(merged, file)), `${file} resolves from the merge`);
      const html = readFileSync(join(merged, 'index.html'), 'utf8');
      assert.match(html, /A merge of 2 runs/);
      assert.deepEqual(externalLoads(readFileSync(join(merged, 'allure-report', 'index.html'), 'utf8')), []);
    });
  });

  // A profile that names only the dual-stack network while the phone is on it (issue 13): no apn
  // check passes on that observation, each skipped NETWORK_UNAVAILABLE. Proven on a scripted phone
  // by test/unit/network-reach.test.ts ("a manual switch not done"), with the same harness code;
  // `apnSwitch: manual` on a lab handset end to end by test/lab/retail.test.ts; an incomplete run
  // exiting 4 by test/lab/wifi-ims.test.ts and faults.test.ts; one junit testcase per result by
  // test/unit/report.test.ts. Its own lab run here (21 s of CI) proved nothing more.

  describe('bad input and missing devices', () => {
    it('exits 3 with one line for a profile whose device is not connected, and 2 naming the field of a malformed one; writes nothing', async () => {
      const missing = join(work, 'missing.json');
      writeFileSync(missing, JSON.stringify({ name: 'missing', serial: 'nosuch-7', networks: { ipv6: { apn: 'ipv6.test' } } }));
      const out = join(work, 'never');
      const absent = await v6lab(['certify', '--profile', missing, '--out', out], { ...env, V6LAB_DEVICE_WAIT_MS: '1000' });
      assert.equal(absent.code, 3, absent.stderr);
      assert.equal(absent.stderr.trim().split('\n').length, 1, absent.stderr);
      assert.match(absent.stderr, /missing\.json: device nosuch-7 is not connected/);
      // A longer wait says what it waits for, with the time left, before it gives up.
      const waited = await v6lab(['certify', '--devices', 'NOPE', '--out', out], { ...env, V6LAB_DEVICE_WAIT_MS: '2500' });
      assert.equal(waited.code, 3, waited.stderr);
      assert.match(waited.stderr, /^waiting for device NOPE \(--devices\): adb does not list it: plug it in, or bring the lab up; 2 s left$/m);
      assert.match(waited.stderr.trim().split('\n').pop()!, /--devices: device NOPE is not connected/);
      const malformed = join(work, 'malformed.json');
      writeFileSync(malformed, JSON.stringify({ name: 'Bad Name', serial: COMPLIANT, networks: { ipv6: { apn: 'ipv6.test' } } }));
      const bad = await v6lab(['certify', '--profile', malformed, '--out', out], env);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /malformed\.json: name: expected a short lower-case name/);
      const suite = await v6lab(['certify', '--devices', COMPLIANT, '--suite', 'os,wifi', '--out', out], env);
      assert.equal(suite.code, 2);
      assert.match(suite.stderr, /--suite: "wifi" is not one of os, apn, apps/);
      assert.equal(existsSync(out), false, 'nothing written');
    });
  });
});
