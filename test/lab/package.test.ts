// The package as a user gets it (issue 17): `npm pack` of the built checkout, unpacked into an
// empty project's node_modules beside the packages a user's install would bring (here: this
// checkout's node_modules, linked, so no registry is needed), then a consumer file that imports
// `v6lab`, `v6lab/wdio` and `v6lab/expect` type-checks and the three load. No root, no
// namespace; in test/lab because it packs dist/, which `npm test` builds first.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

const CONSUMER = `import { analyzeFile, judgeCapture, resolvePolicy, type AppJudgement, type NetworkFacts } from 'v6lab';
import V6labService, { launcher } from 'v6lab/wdio';
import 'v6lab/expect';

export const services = [[V6labService, { evidenceDir: 'evidence', policy: { minIpv6Share: 0.8 } }]] as const;
export const once = launcher;
export async function judge(file: string): Promise<AppJudgement> {
  const analysis = await analyzeFile(file);
  return judgeCapture({ analysis }, { package: 'com.example.shop', policy: resolvePolicy({ slowFallbackMs: 1500 }) });
}
export type Facts = NetworkFacts;
export async function inATest(): Promise<void> {
  const judgement = await browser.v6lab.judgeApp('com.example.shop', async () => {});
  await expect(judgement).toBeIpv6First();
  await expect(judgement).toHaveIpv6Share(0.7);
}
`;

describe('the npm package: packed, installed in an empty project, imported with types', function () {
  this.timeout(120_000);
  let project = '';
  let files: string[] = [];

  before(function () {
    assert.ok(existsSync(join(root, 'dist/api/index.js')), 'dist/ is not built: run `npm run build` first (npm test does)');
    const work = mkdtempSync(join(tmpdir(), 'v6lab-package-'));
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as { filename: string; files: { path: string }[] }[];
    files = packed[0]!.files.map((f) => f.path);
    project = join(work, 'consumer');
    const modules = join(project, 'node_modules');
    mkdirSync(join(modules, 'v6lab'), { recursive: true });
    execFileSync('tar', ['-xzf', join(work, packed[0]!.filename), '-C', join(modules, 'v6lab'), '--strip-components=1']);
    // What npm would install beside it (its dependencies and peers): this checkout's, linked.
    for (const name of readdirSync(join(root, 'node_modules'))) {
      if (name !== 'v6lab' && !name.startsWith('.')) symlinkSync(join(root, 'node_modules', name), join(modules, name));
    }
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' })}\n`);
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
    const compilerOptions = {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node', '@wdio/globals/types'],
    };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
  });

  it('holds the licence, the schemas, the docs of the contracts, the plugin and the built entry points, and no tests', () => {
    for (const file of [
      'LICENSE',
      'package.json',
      'docs/contracts.md',
      'schemas/device-profile.schema.json',
      'plugins/v6lab/package.json',
      'dist/api/index.js',
      'dist/api/index.d.ts',
      'dist/wdio/service.js',
      'dist/wdio/service.d.ts',
      'dist/wdio/expect.js',
      'dist/wdio/expect.d.ts',
    ]) {
      assert.ok(files.includes(file), `${file} is not in the package`);
    }
    assert.equal(
      files.some((f) => f.startsWith('test/')),
      false,
    );
    assert.match(readFileSync(join(project, 'node_modules/v6lab/LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/);
  });

  it('a consumer using the API, the service and the matchers type-checks, and a misspelt matcher does not', () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8' });
    writeFileSync(join(project, 'consumer.ts'), CONSUMER.replace('toBeIpv6First', 'toBeIpv6Frist'));
    assert.throws(
      () => execFileSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
      (e: unknown) => /toBeIpv6Frist/.test(String((e as { stdout?: string }).stdout)),
    );
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
  });

  it('v6lab, v6lab/wdio and v6lab/expect load by their names, and dist/ is not reachable past exports', () => {
    const script = `
      const api = await import('v6lab');
      const wdio = await import('v6lab/wdio');
      const expect = await import('v6lab/expect');
      let deep = 'reachable';
      try { await import('v6lab/dist/checks/app-verdict.js'); } catch (e) { deep = e.code; }
      console.log(JSON.stringify({ api: Object.keys(api).sort(), wdio: typeof wdio.default, launcher: typeof wdio.launcher, expect: Object.keys(expect).sort(), deep }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' })) as {
      api: string[];
      wdio: string;
      launcher: string;
      expect: string[];
      deep: string;
    };
    for (const name of ['analyzeFile', 'judgeCapture', 'openAppCapture', 'observeDevice', 'certify', 'resolvePolicy'])
      assert.ok(out.api.includes(name), `v6lab exports no ${name}`);
    assert.equal(out.wdio, 'function');
    assert.equal(out.launcher, 'function');
    assert.ok(out.expect.length > 0);
    assert.equal(out.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});
