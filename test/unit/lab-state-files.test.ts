// The lab's own files (issue 13): state files read with the file and the field named when they
// are not what the lab writes; the handsets' commands installed where any uid can read them, and
// a command that cannot load or fails said in one line, never as Node's stack.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importedSpecifiers, installHandsetCode, moduleClosure } from '../../lib/lab/android/install.js';
import { initialHandsetState, readHandsetState, writeHandsetState } from '../../lib/lab/android/state.js';
import { COMMAND_PROGRAM, installToolbox } from '../../lib/lab/android/toolbox.js';
import { readRegistry } from '../../lib/lab/lab.js';
import { LabStateError } from '../../lib/lab/network/errors.js';
import { readState } from '../../lib/lab/network/index.js';
import { loadProfile } from '../../lib/lab/world.js';

const root = resolve(import.meta.dirname, '../..');
const profile = loadProfile(join(root, 'devices/lab/handsets/compliant.json'));
const scratch = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

function handsetDir(): string {
  const dir = scratch('v6lab-hs-');
  writeHandsetState(dir, initialHandsetState('emulator-5554', profile, [{ package: 'com.example.news', label: 'News', uid: 10100 }]));
  return dir;
}

/** Edits the JSON of `file` in place. */
function edit(file: string, change: (doc: Record<string, unknown>) => void): void {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(doc);
  writeFileSync(file, JSON.stringify(doc));
}

/** Runs `error`-throwing `read`, and returns the LabStateError's message. */
function stateError(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    assert.ok(error instanceof LabStateError, `expected a LabStateError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected a LabStateError');
}

describe('lab state files: checked when read, file and field named', () => {
  it('handset.json reads back what the lab wrote', () => {
    const dir = handsetDir();
    const state = readHandsetState(dir);
    assert.equal(state.serial, 'emulator-5554');
    assert.equal(state.settings.global.private_dns_mode, 'opportunistic');
  });

  it('a handset.json field of the wrong kind is named with its file', () => {
    const dir = handsetDir();
    edit(join(dir, 'handset.json'), (doc) => {
      (doc.settings as { global: Record<string, unknown> }).global.private_dns_mode = 3;
    });
    const message = stateError(() => readHandsetState(dir));
    assert.match(message, new RegExp(`${join(dir, 'handset.json')}: settings\\.global\\.private_dns_mode: expected a string, got number`));
    assert.match(message, /v6lab lab down/);
  });

  it('a handset.json field the lab does not write, or one missing, is named', () => {
    const dir = handsetDir();
    edit(join(dir, 'handset.json'), (doc) => {
      doc.preferedApnId = 1;
    });
    assert.match(
      stateError(() => readHandsetState(dir)),
      /handset\.json: preferedApnId: unknown field/,
    );
    const other = handsetDir();
    edit(join(other, 'handset.json'), (doc) => void delete doc.apns);
    assert.match(
      stateError(() => readHandsetState(other)),
      /handset\.json: apns: missing/,
    );
  });

  it('handsets.json: none when absent, the entry and field when damaged', () => {
    const dir = scratch('v6lab-state-');
    assert.deepEqual(readRegistry(dir), []);
    writeFileSync(
      join(dir, 'handsets.json'),
      JSON.stringify([{ index: 0, serial: 'emulator-5554', adbPort: '5555', namespace: 'v6l-x-hs0', dir, profile: 'compliant' }]),
    );
    assert.match(
      stateError(() => readRegistry(dir)),
      /handsets\.json: \[0\]\.adbPort: expected a whole number/,
    );
    writeFileSync(join(dir, 'handsets.json'), '[{"index": 0,');
    assert.match(
      stateError(() => readRegistry(dir)),
      /handsets\.json: is not JSON/,
    );
  });

  it('lab.json: null when absent, the field when another version or damaged', async () => {
    const dir = scratch('v6lab-state-');
    assert.equal(await readState(dir), null);
    writeFileSync(join(dir, 'lab.json'), JSON.stringify({ version: 2 }));
    await assert.rejects(
      readState(dir),
      (error: Error) => error instanceof LabStateError && /lab\.json: version: expected one of 1, got 2/.test(error.message),
    );
    writeFileSync(join(dir, 'lab.json'), JSON.stringify({ version: 1, labId: 'ab12' }));
    await assert.rejects(readState(dir), (error: Error) => error instanceof LabStateError && /lab\.json: stateDir: missing/.test(error.message));
  });
});

describe("the handsets' commands: installed readable by any uid, failures in one line", () => {
  it("reads a module's imports: static, re-exported, dynamic; not types, builtins, or text that looks like one", () => {
    const source = [
      "import { a } from './a.js';",
      "export { b } from '../b.js';",
      "import type { C } from './c.js';",
      "import createDebug from 'debug';",
      "import { readFileSync } from 'node:fs';",
      "const { d } = await import('./d.js');",
      "if (arg === '--import' || arg === '--loader') out.push(arg);",
    ].join('\n');
    assert.deepEqual(importedSpecifiers(source), { relative: ['./a.js', '../b.js', './d.js'], packages: ['debug'] });
  });

  it("the command program's closure holds the toolbox, what it loads on demand, and the npm packages", () => {
    const { modules, packages } = moduleClosure(COMMAND_PROGRAM);
    const names = modules.map((m) => m.slice(m.indexOf('/lib/') + 1));
    for (const expected of [
      'lib/lab/android/command.ts',
      'lib/lab/android/toolbox.ts',
      'lib/lab/android/activity.ts',
      'lib/lab/android/ui.ts',
      'lib/lab/android/su.ts',
      'lib/config/schema.ts',
    ]) {
      assert.ok(names.includes(expected), `${expected} is not in ${names.join(', ')}`);
    }
    // ajv and its dependencies: a handset checks the app files it reads against their JSON Schema (lib/config/json-schema.ts).
    assert.deepEqual([...packages.keys()].sort(), ['ajv', 'debug', 'fast-deep-equal', 'fast-uri', 'json-schema-traverse', 'ms', 'require-from-string']);
  });

  it('installs with every directory 0755 and file 0644, whatever the umask, and the wrappers run the copy', () => {
    const code = join(scratch('v6lab-code-'), 'handset-code');
    const before = process.umask(0o077);
    let program: string;
    try {
      [program] = installHandsetCode(code) as [string];
    } finally {
      process.umask(before);
    }
    const walk = (path: string): void => {
      const mode = statSync(path).mode & 0o777;
      if (statSync(path).isDirectory()) {
        assert.equal(mode, 0o755, path);
        for (const entry of readdirSync(path)) walk(join(path, entry));
      } else assert.ok(mode === 0o644 || mode === 0o755, `${path}: ${mode.toString(8)}`);
    };
    walk(code);
    assert.ok(existsSync(join(code, 'node_modules/debug/package.json')));
    assert.deepEqual(JSON.parse(readFileSync(join(code, 'package.json'), 'utf8')), { type: 'module', private: true });
    const dir = handsetDir();
    installToolbox(join(dir, 'bin'), [process.execPath, '--import', 'tsx'], program);
    const out = spawnSync('sh', ['-c', 'getprop ro.product.model; settings get global private_dns_mode'], {
      env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, V6LAB_HANDSET_DIR: dir },
      encoding: 'utf8',
    });
    assert.equal(out.stdout, 'v6lab Reference\nopportunistic\n', out.stderr);
  });

  it('a module that cannot be loaded is one line naming it, exit 126; a damaged state one line naming file and field, exit 1', () => {
    const code = join(scratch('v6lab-code-'), 'handset-code');
    const [program] = installHandsetCode(code) as [string];
    const dir = handsetDir();
    installToolbox(join(dir, 'bin'), [process.execPath, '--import', 'tsx'], program);
    const run = (command: string) =>
      spawnSync('sh', ['-c', command], { env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, V6LAB_HANDSET_DIR: dir }, encoding: 'utf8' });
    // Root reads any file, so a module missing from the copy stands for one the shell user cannot read.
    const toolbox = program.replace(/command\.ts$/, 'toolbox.ts');
    const kept = readFileSync(toolbox);
    writeFileSync(toolbox, "import './no-such-module.js';\n");
    const missing = run('getprop ro.product.model');
    assert.equal(missing.status, 126, missing.stderr);
    assert.match(missing.stderr, /^getprop: cannot load the handset's commands: .*no-such-module/);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
    assert.doesNotMatch(missing.stderr, /Node\.js v/);
    writeFileSync(toolbox, kept);
    edit(join(dir, 'handset.json'), (doc) => {
      doc.props = [];
    });
    const damaged = run('getprop ro.product.model');
    assert.equal(damaged.status, 1, damaged.stderr);
    assert.match(damaged.stderr, /^getprop: lab state .*handset\.json: props: expected an object, got an array;/);
    assert.equal(damaged.stderr.trim().split('\n').length, 1, damaged.stderr);
  });
});
