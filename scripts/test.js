#!/usr/bin/env node
// `npm test`'s test run: the unit tests and the lab tests as two mocha processes side by side.
// The lab tests run one after another (they share the lab's fixed adb ports and namespaces); the
// unit tests need neither, so they run beside them instead of before them, which takes their
// minutes off the whole. The lab's output streams as it comes; the unit tests' is printed whole
// when they end, so the two never interleave line by line. The last line is the sum of both
// reporters' closing lines (`N passed, N failed[, N skipped]`), which CI reads; the exit code is
// non-zero when either run failed or ended without its closing line.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mocha = join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
const SUMMARY = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/m;

/** Runs mocha on `glob`; `onOutput` gets its stdout and stderr as they come. */
function run(name, glob, onOutput) {
  const child = spawn(process.execPath, [mocha, glob], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let output = '';
  const take = (chunk) => {
    const text = chunk.toString();
    // The closing line is near the end: keep the last 64 KiB to find it.
    output = (output + text).slice(-65536);
    onOutput(text);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ name, code, signal, output })));
  return { child, done };
}

let unitText = '';
const lab = run('lab', 'test/lab/**/*.test.ts', (text) => process.stdout.write(text));
const unit = run('unit', 'test/unit/**/*.test.ts', (text) => {
  unitText += text;
});
// Both children go with this process, by their PIDs.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const { child } of [lab, unit]) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, signal);
    process.exit(130);
  });
}

const unitResult = await unit.done;
process.stdout.write(`\n----- unit tests (run beside the lab tests) -----\n${unitText}----- end of the unit tests -----\n\n`);
const labResult = await lab.done;

let passed = 0;
let failed = 0;
let skipped = 0;
let broken = false;
for (const result of [unitResult, labResult]) {
  const lines = [...result.output.matchAll(new RegExp(SUMMARY.source, 'gm'))];
  const last = lines.at(-1);
  if (last === undefined) {
    broken = true;
    process.stdout.write(`${result.name} tests ended without their closing line (exit ${result.code ?? result.signal})\n`);
    continue;
  }
  passed += Number(last[1]);
  failed += Number(last[2]);
  skipped += Number(last[3] ?? 0);
  process.stdout.write(`${result.name}: ${last[0]}\n`);
  if (result.code !== 0) broken = true;
}
// A run that ended without its closing line, or crashed, counts as one failure more.
if (broken && failed === 0) failed = 1;
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed > 0 || broken ? 1 : 0);
