#!/usr/bin/env node
// Reliability figures (issue 6), printed as counts: lab up/down cycles and up/kill -9/down
// cycles and what they leave behind; kill -9 of the certify harness at seeded moments and the
// --resume runs that finish the work; malformed inputs and the clear errors they get; analyzer
// fuzz cases and crashes; faults injected into certify runs (reboot, crash, cable pulls, adb
// and Appium servers killed, a full disk). Needs root (network namespaces) and a
// built dist/ (`npm run build`). Takes about 15 minutes.
//
//   node bench/faults.js [--cycles 20] [--kills 20] [--fuzz 100000] [--skip lab,kills,inputs,fuzz,reboot]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { arg, figureList, ROOT, skipped, sleep, V6LAB, v6labIn, workDir } from './support.js';

const CYCLES = Number(arg('cycles', 20));
const KILLS = Number(arg('kills', 20));
const FUZZ = Number(arg('fuzz', 100000));
const SKIP = skipped();

if (process.getuid?.() !== 0) {
  console.error('bench/faults.js needs root (network namespaces)');
  process.exit(3);
}

const { work, stateDir } = workDir('v6lab-faults-');
const { report, print } = figureList();
const v6lab = (args, env = {}) => v6labIn(stateDir, args, env);

/** What a lab can leave behind on the host: its namespaces, processes, /etc/netns entries, host routes and addresses. */
function leftovers(hostBefore) {
  const found = [];
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('v6l-'));
  if (namespaces.length > 0) found.push(`namespaces: ${namespaces.join(', ')}`);
  const netns = existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((n) => n.startsWith('v6l-')) : [];
  if (netns.length > 0) found.push(`/etc/netns: ${netns.join(', ')}`);
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (cmdline.includes(stateDir)) found.push(`process ${pid}: ${cmdline.replaceAll('\0', ' ').slice(0, 120)}`);
    } catch {
      // gone meanwhile
    }
  }
  if (hostNetwork() !== hostBefore) found.push("the host namespace's addresses or routes changed");
  return found;
}

const hostNetwork = () => ['addr', 'route', '-6 route'].map((a) => execFileSync('ip', a.split(' '), { encoding: 'utf8' })).join('\n');

async function labCycles() {
  const hostBefore = hostNetwork();
  let leaks = 0;
  let clean = 0;
  const started = Date.now();
  for (let i = 0; i < CYCLES; i++) {
    const up = v6lab(['lab', 'up', '--handsets', '2', '--no-background']);
    if (up.code !== 0) throw new Error(`lab up failed: ${up.stderr}`);
    v6lab(['lab', 'down']);
    const left = leftovers(hostBefore);
    if (left.length > 0) {
      leaks += left.length;
      console.log(`  cycle ${i}: ${left.join('; ')}`);
    } else clean++;
  }
  report(`lab up/down cycles (2 handsets), clean afterwards`, `${clean}/${CYCLES} (${((Date.now() - started) / CYCLES / 1000).toFixed(1)} s a cycle)`);
  // kill -9 of `lab up` at a moment along its way (0 to 1.5 s), then lab down. A `lab up` that
  // finished before its moment came is counted as such (the code got faster), not waited for:
  // its 'exit' has fired already, and awaiting it again would hang the bench.
  let killedClean = 0;
  let killed = 0;
  let finishedFirst = 0;
  for (let i = 0; i < CYCLES; i++) {
    const child = spawn(process.execPath, [V6LAB, 'lab', 'up', '--handsets', '2'], {
      cwd: ROOT,
      env: { ...process.env, V6LAB_STATE_DIR: stateDir },
      stdio: 'ignore',
    });
    // Listened for at once, so an exit before the kill is seen whenever it comes.
    const exited = new Promise((r) => child.once('exit', r));
    await sleep(Math.round((i / CYCLES) * 1500));
    if (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')) killed++;
    else finishedFirst++;
    await exited;
    v6lab(['lab', 'down']);
    const left = leftovers(hostBefore);
    if (left.length > 0) {
      leaks += left.length;
      console.log(`  kill cycle ${i}: ${left.join('; ')}`);
    } else killedClean++;
  }
  report('lab up / kill -9 / lab down cycles, clean afterwards', `${killedClean}/${CYCLES} (${killed} killed on the way, ${finishedFirst} up before the kill)`);
  report('leaks found (namespaces, processes, /etc/netns, host routes)', leaks);
}

async function startAdb(home) {
  mkdirSync(home, { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const r = spawnSync('adb', ['-P', String(port), 'start-server'], { env: { ...process.env, HOME: home, TMPDIR: home }, encoding: 'utf8' });
    if (r.status === 0) return { port, env: { ANDROID_ADB_SERVER_PORT: String(port), HOME: home } };
  }
  throw new Error('adb start-server failed three times');
}

async function kills() {
  const up = v6lab(['lab', 'up', '--apn', 'ipv6', '--profile', join(ROOT, 'devices/lab/handsets/compliant.json')]);
  if (up.code !== 0) throw new Error(`lab up failed: ${up.stderr}`);
  const adb = await startAdb(join(work, 'adb-home'));
  try {
    const out = join(work, 'kill-run');
    const catalogue = join(work, 'catalogue.json');
    writeFileSync(
      catalogue,
      JSON.stringify({
        name: 'three',
        apps: ['com.example.maps', 'com.example.news', 'com.example.chat'].map((p) => ({ package: p, label: p, dwellMs: 1500 })),
      }),
    );
    let seed = 20261126;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    let args = ['certify', '--devices', 'emulator-5554', '--suite', 'os,apps', '--apps', catalogue, '--out', out, '--quiet'];
    let whole = 0;
    let moments = 0;
    for (let k = 0; k < KILLS; k++) {
      const child = spawn(process.execPath, [V6LAB, ...args], {
        cwd: ROOT,
        env: { ...process.env, V6LAB_STATE_DIR: stateDir, ...adb.env },
        detached: true,
        stdio: 'ignore',
      });
      const exited = new Promise((r) => child.once('exit', r));
      await sleep(3000 + Math.floor(random() * 9000));
      if (child.exitCode !== null) break;
      process.kill(-child.pid, 'SIGKILL');
      await exited;
      moments++;
      try {
        const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
        if (Array.isArray(doc.results) && doc.run.finished === null) whole++;
      } catch {
        // not written yet, or broken: counted as not whole
        if (existsSync(join(out, 'results.json'))) console.log(`  kill ${k}: results.json unreadable`);
        else whole++;
      }
      if (existsSync(join(out, 'plan.json'))) args = ['certify', '--resume', out, '--quiet'];
    }
    const last = v6lab(args.includes('--resume') ? args : ['certify', '--resume', out, '--quiet'], adb.env);
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const keys = doc.results.map((r) => `${r.check}|${r.app}|${r.network}`);
    report('kill -9 moments of the harness (process group), results.json whole after each', `${whole}/${moments}`);
    report(
      'runs resumed to the end',
      `${moments} resumes, final exit ${last.code}, ${doc.results.length}/12 checks, ${keys.length - new Set(keys).size} run twice, ${doc.results.filter((r) => r.status === 'broken').length} broken`,
    );
  } finally {
    spawnSync('adb', ['-P', String(adb.port), 'kill-server'], { env: { ...process.env, HOME: join(work, 'adb-home') } });
    v6lab(['lab', 'down']);
  }
}

/** Runs mocha with the JSON reporter; its stats, and each test's title and whether it passed. */
function mochaRun(files, env = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/mocha/bin/mocha.js'), '--reporter', 'json', ...files], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true', ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 3_600_000,
  });
  const text = r.stdout.slice(r.stdout.indexOf('{'));
  const json = JSON.parse(text.slice(0, text.lastIndexOf('}') + 1));
  return {
    stats: json.stats,
    tests: json.tests.map((t) => ({ title: t.fullTitle, passed: Object.keys(t.err ?? {}).length === 0, error: t.err?.message?.slice(0, 500) })),
  };
}

const mochaJson = (files, env = {}) => mochaRun(files, env).stats;

function inputs() {
  const stats = mochaJson(['test/unit/bad-input.test.ts']);
  report('malformed inputs tried / clear errors (exit 2, one line naming file and field, nothing written)', `${stats.tests - 1} / ${stats.passes - 1}`);
}

function fuzz() {
  const started = Date.now();
  const stats = mochaJson(['test/unit/fuzz.test.ts'], { FUZZ_CASES: String(FUZZ) });
  report('analyzer fuzz cases / crashes or hangs', `${FUZZ} / ${stats.failures} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

function reboot() {
  // Each test passes only if every fault it injects was survived: the check in flight broken
  // with the fault named, the rest done, nothing half-written, the devices restored.
  const faultsPerTest = [
    [/rebooted mid-run/, 1, 'reboot mid-run'],
    [/each fault breaks the check in flight/, 4, 'app crash, cable pulled mid-capture, adb server killed, Appium server killed'],
    [/a command or a pull cut by a cable pull/, 2, 'cable pulled mid-command and mid-pull'],
    [/a disk that fills during a capture/, 1, 'run directory disk full mid-capture'],
  ];
  const runs = [...mochaRun(['test/lab/certify.test.ts', '--grep', 'rebooted mid-run']).tests, ...mochaRun(['test/lab/faults.test.ts']).tests];
  let injected = 0;
  let survived = 0;
  for (const [title, faults] of faultsPerTest) {
    const test = runs.find((t) => title.test(t.title));
    injected += faults;
    if (test?.passed) survived += faults;
    else console.log(`  not survived: ${test?.title ?? `no test matching ${title}`}${test?.error ? `: ${test.error}` : ''}`);
  }
  report(`faults injected / survived (${faultsPerTest.map((f) => f[2]).join('; ')})`, `${injected} / ${survived}`);
}

console.log(`bench/faults.js on ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`);
try {
  if (!SKIP.has('inputs')) inputs();
  if (!SKIP.has('lab')) await labCycles();
  if (!SKIP.has('kills')) await kills();
  if (!SKIP.has('reboot')) reboot();
  if (!SKIP.has('fuzz')) fuzz();
  print();
} finally {
  // Whatever stopped the bench, no lab of its own is left up (lab down is safe with none up).
  v6lab(['lab', 'down']);
  rmSync(work, { recursive: true, force: true });
}
