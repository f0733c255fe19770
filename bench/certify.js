#!/usr/bin/env node
// The run a user waits for (issue 7), on the virtual lab, printed as figures and ratios:
// - start-up of `v6lab --help` and of `v6lab analyze` on a tiny capture, against a bare `node -e 0`
//   run in the same process;
// - lab bring-up and teardown of 1 and of 4 handsets;
// - a full `certify` (os, apn and apps suites, both networks) of 1, 2 and 4 handsets with the same
//   catalogue of 30 emulated apps and 5 s dwell: wall time, the share of it that is the apps'
//   dwell, the harness overhead per app check (its time minus its dwell), the 4-to-1 wall ratio,
//   and the peak RSS of the harness's process tree (certify, the WebdriverIO launcher and
//   workers, the Appium servers; the lab's own processes are not the harness).
// Needs root (network namespaces) and a built dist/ (`npm run build`). About 25 minutes.
//
//   node bench/certify.js [--apps 30] [--dwell 5000] [--handsets 1,2,4] [--suites os,apn,apps] [--skip startup,lab,certify]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { arg, figureList, ROOT, skipped, V6LAB, v6labIn, workDir } from './support.js';

const APPS = Number(arg('apps', 30));
const DWELL_MS = Number(arg('dwell', 5000));
const HANDSETS = String(arg('handsets', '1,2,4')).split(',').map(Number);
const SUITES = String(arg('suites', 'os,apn,apps'));
const SKIP = skipped();
const TINY_CAPTURE = join(ROOT, 'test', 'fixtures', 'lab', 'sll2-mixed.pcap');

if (process.getuid?.() !== 0 && !(SKIP.has('lab') && SKIP.has('certify'))) {
  console.error('bench/certify.js needs root (network namespaces); `--skip lab,certify` runs the start-up figures alone');
  process.exit(3);
}

const { work, stateDir } = workDir('v6lab-bench-certify-');
const { report, print } = figureList();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

const v6lab = (args, env = {}) => v6labIn(stateDir, args, env, 3_600_000);

/** Median wall ms of `argv` over `rounds` runs. */
function timed(argv, rounds) {
  const runs = [];
  for (let i = 0; i < rounds; i++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
    runs.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(runs);
}

function startup() {
  const rounds = 11;
  const bare = timed([process.execPath, '-e', '0'], rounds);
  const help = timed([process.execPath, V6LAB, '--help'], rounds);
  const analyze = timed([process.execPath, V6LAB, 'analyze', TINY_CAPTURE], rounds);
  report('start-up: `node -e 0` (the floor)', `${bare.toFixed(0)} ms`);
  report('start-up: `v6lab --help` (target < 300 ms)', `${help.toFixed(0)} ms (${(help / bare).toFixed(2)}x bare node)`);
  report(
    `start-up: \`v6lab analyze\` of a ${(readFileSync(TINY_CAPTURE).length / 1024).toFixed(0)} KiB capture (target < 300 ms)`,
    `${analyze.toFixed(0)} ms (${(analyze / bare).toFixed(2)}x bare node)`,
  );
}

function labTimes() {
  for (const n of [1, 4]) {
    const ups = [];
    const downs = [];
    for (let i = 0; i < 3; i++) {
      const up = v6lab(['lab', 'up', '--handsets', String(n)]);
      if (up.code !== 0) throw new Error(`lab up --handsets ${n}: ${up.stderr}`);
      ups.push(up.ms);
      const down = v6lab(['lab', 'down']);
      if (down.code !== 0) throw new Error(`lab down: ${down.stderr}`);
      downs.push(down.ms);
    }
    report(`lab up, ${n} handset${n > 1 ? 's' : ''} (median of 3; target ${n === 1 ? '3' : '10'} s)`, seconds(median(ups)));
    report(`lab down, ${n} handset${n > 1 ? 's' : ''} (median of 3)`, seconds(median(downs)));
  }
}

/** 30 emulated apps: the lab's apps under new package names, round robin, and their catalogue. */
function makeApps() {
  const source = join(ROOT, 'devices', 'lab', 'apps');
  const models = readdirSync(source)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(source, f), 'utf8')));
  const dir = join(work, 'apps');
  mkdirSync(dir, { recursive: true });
  const apps = [];
  for (let i = 0; i < APPS; i++) {
    const model = models[i % models.length];
    const pkg = `com.bench.app${String(i + 1).padStart(2, '0')}`;
    writeFileSync(join(dir, `${pkg}.json`), JSON.stringify({ ...model, package: pkg, label: `Bench ${i + 1} (${model.label})` }));
    apps.push({ package: pkg, label: `Bench ${i + 1}`, dwellMs: DWELL_MS });
  }
  const catalogue = join(work, 'catalogue.json');
  writeFileSync(catalogue, JSON.stringify({ name: `bench ${APPS} apps`, apps }));
  return { dir, catalogue };
}

/** Every process under `pid` (its children, theirs, ...), and `pid` itself. */
function tree(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  const all = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift();
    all.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return all;
}

const rssKiB = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

async function certifyRun(n, apps) {
  // Every handset the compliant one, so each attaches to both APNs and runs every app twice.
  const up = v6lab(['lab', 'up', '--handsets', String(n), '--apps', apps.dir, '--profile', join(ROOT, 'devices', 'lab', 'handsets', 'compliant.json')]);
  if (up.code !== 0) throw new Error(`lab up --handsets ${n}: ${up.stderr}`);
  const serials = up.stdout
    .trim()
    .split('\n')
    .map((l) => l.split('\t')[0]);
  const home = join(work, `adb-${n}`);
  mkdirSync(home, { recursive: true });
  const port = 20000 + Math.floor(Math.random() * 20000);
  const adbEnv = { ANDROID_ADB_SERVER_PORT: String(port), HOME: home };
  spawnSync('adb', ['-P', String(port), 'start-server'], { env: { ...process.env, ...adbEnv }, stdio: 'ignore' });
  const out = join(work, `run-${n}`);
  try {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [V6LAB, 'certify', '--devices', serials.join(','), '--suite', SUITES, '--apps', apps.catalogue, '--dwell', String(DWELL_MS), '--out', out, '--quiet'],
      {
        cwd: ROOT,
        env: { ...process.env, V6LAB_STATE_DIR: stateDir, ...adbEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr = (stderr + c).slice(-4000);
    });
    child.stdout.resume();
    let peakKiB = 0;
    const sampler = setInterval(() => {
      peakKiB = Math.max(
        peakKiB,
        tree(child.pid).reduce((sum, p) => sum + rssKiB(p), 0),
      );
    }, 100);
    const code = await new Promise((r) => child.once('exit', r));
    clearInterval(sampler);
    const wallMs = Date.now() - started;
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const appChecks = doc.results.filter((r) => r.check === 'apps.ipv6-first' && typeof r.metrics.checkMs === 'number');
    const expected = n * APPS * 2;
    if (appChecks.length !== expected) {
      const untimed = doc.results.filter((r) => r.check === 'apps.ipv6-first' && typeof r.metrics.checkMs !== 'number');
      const why = [...new Set(untimed.map((r) => `${r.device} ${r.network} ${r.status} ${r.reasons[0]?.code}: ${r.reasons[0]?.detail}`))];
      console.log(`  ${n} handset(s): ${appChecks.length} of ${expected} app checks have a time (exit ${code}): ${why.slice(0, 4).join(' | ')}`);
    }
    const overheads = appChecks.map((r) => r.metrics.checkMs - r.metrics.dwellMs);
    const dwellMs = appChecks.reduce((sum, r) => sum + r.metrics.dwellMs, 0) / n;
    const appCheckMs = appChecks.reduce((sum, r) => sum + r.metrics.checkMs, 0) / n;
    const broken = doc.results.filter((r) => r.status === 'broken').length;
    const evidenceBytes =
      doc.results.flatMap((r) => r.evidence).reduce((sum, e) => sum + (statSync(join(out, e), { throwIfNoEntry: false })?.size ?? 0), 0) / n;
    return { n, code, wallMs, dwellMs, appCheckMs, overheads, peakKiB, results: doc.results.length, broken, evidenceBytes };
  } finally {
    spawnSync('adb', ['-P', String(port), 'kill-server'], { env: { ...process.env, ...adbEnv }, stdio: 'ignore' });
    v6lab(['lab', 'down']);
  }
}

async function certifyRuns() {
  const apps = makeApps();
  const runs = [];
  for (const n of HANDSETS) {
    const run = await certifyRun(n, apps);
    runs.push(run);
    const sorted = [...run.overheads].sort((a, b) => a - b);
    const p90 = sorted[Math.floor(sorted.length * 0.9)] ?? NaN;
    report(
      `certify ${n} handset${n > 1 ? 's' : ''} (${SUITES}; ${APPS} apps x 2 networks, ${DWELL_MS / 1000} s dwell): wall`,
      `${seconds(run.wallMs)}, exit ${run.code}, ${run.results} results, ${run.broken} broken`,
    );
    report(
      `  harness overhead per app check (check time minus dwell; target < 1.5 s)`,
      `median ${(median(run.overheads) / 1000).toFixed(2)} s, p90 ${(p90 / 1000).toFixed(2)} s, over ${run.overheads.length} checks`,
    );
    report(`  outside the app checks (start-up, os and apn suites, APN switches, between checks, restore, report)`, seconds(run.wallMs - run.appCheckMs));
    report(
      `  dwell share of the wall time (one handset's dwell; target >= 80%)`,
      `${((run.dwellMs / run.wallMs) * 100).toFixed(1)}% (${seconds(run.dwellMs)} of ${seconds(run.wallMs)})`,
    );
    report(`  peak RSS of the harness process tree`, `${(run.peakKiB / 1024).toFixed(0)} MiB`);
    report(`  evidence written per handset (pcaps and analyses)`, `${(run.evidenceBytes / 2 ** 20).toFixed(1)} MiB`);
  }
  const one = runs.find((r) => r.n === 1);
  for (const run of runs.filter((r) => r.n > 1 && one))
    report(`wall ratio, ${run.n} handsets / 1 (target <= 1.5x for 4)`, `${(run.wallMs / one.wallMs).toFixed(2)}x`);
}

console.log(
  `bench/certify.js on ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim()}`,
);
try {
  if (!SKIP.has('startup')) startup();
  if (!SKIP.has('lab')) labTimes();
  if (!SKIP.has('certify')) await certifyRuns();
} finally {
  v6lab(['lab', 'down']);
  rmSync(work, { recursive: true, force: true });
}
print();
