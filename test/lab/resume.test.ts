// kill -9 of the harness at seeded moments (issue 6): the whole certify process group (certify,
// WebdriverIO, its workers, Appium) killed while results arrive; each time results.json is the
// last complete version, and `certify --resume DIR` goes on without running again what finished,
// until every check has exactly one result and the device is back as it was found. Root and
// namespaces needed: skips with the reason elsewhere, fails in CI. bench/faults.js runs the same
// with 20 moments. The run gives each app two windows (--app-runs 2, which plan.json keeps across
// the resumes) and News's flow marks its pages, so results.json shows both runs and their pages.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResults } from '../../lib/report/results.js';
import { projectRoot, v6lab } from '../support/cli.js';
import { labSession } from '../support/lab-session.js';
import { prng } from '../support/mutate.js';

const SERIAL = 'emulator-5554';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `v6lab ...args` in its own process group; kill() is kill -9 of the group. */
function startHarness(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [join(projectRoot, 'bin/v6lab.js'), ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    detached: true,
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { exited, kill: () => process.kill(-child.pid!, 'SIGKILL') };
}

describe('kill -9 of the harness, then --resume (issue 6)', function () {
  this.timeout(600_000);
  const lab = labSession('the kill -9 test', ['compliant']);

  it('three seeded kills while results arrive: results.json stays whole, --resume finishes the rest once, the device comes back as found', async () => {
    const { cli, env, work } = lab;
    const out = join(work, 'run');
    const catalogue = join(work, 'two.json');
    // News's pages as a vendor marks them: Home from launch (its loads begin at once), Article as
    // its link is tapped, its loads in the dwell.
    const newsFlow = [{ page: 'Home' }, { wait: 500 }, { page: 'Article' }, { tap: '~article' }];
    writeFileSync(
      catalogue,
      JSON.stringify({
        name: 'two',
        apps: ['com.example.maps', 'com.example.news'].map((p) => ({
          package: p,
          label: p,
          dwellMs: 1500,
          ...(p === 'com.example.news' ? { flow: newsFlow } : {}),
        })),
      }),
    );
    const shell = async (args: string[]) => (await cli.run(['-s', SERIAL, 'shell', ...args])).stdout.toString();
    const asFound = [
      await shell(['su', '-c', 'content query --uri content://telephony/carriers']),
      await shell(['settings', 'get', 'global', 'private_dns_mode']),
    ];
    const random = prng(20261126);
    const expected = 6 + 4;
    let args = ['certify', '--devices', SERIAL, '--suite', 'os,apps', '--apps', catalogue, '--app-runs', '2', '--out', out, '--quiet'];
    const seen: number[] = [];
    for (let kill = 0; kill < 3; kill++) {
      const harness = startHarness(args, env);
      // A moment: once this many more results are in, and a seeded delay after.
      const target = (seen.at(-1) ?? 0) + 1 + Math.floor(random() * 2);
      for (;;) {
        const doc = existsSync(join(out, 'results.json')) ? (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults) : null;
        if ((doc?.results.length ?? 0) >= target) break;
        await sleep(100);
      }
      await sleep(Math.floor(random() * 1500));
      harness.kill();
      await harness.exited;
      // The last complete version: valid, and every result whole.
      const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
      assert.equal(doc.run.finished, null);
      assert.ok(doc.results.every((r) => typeof r.status === 'string' && Array.isArray(r.reasons)));
      seen.push(doc.results.length);
      args = ['certify', '--resume', out, '--quiet'];
    }
    const last = await v6lab(args, env, 300_000);
    assert.ok(last.code === 0 || last.code === 1, last.stderr);
    const doc = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    assert.notEqual(doc.run.finished, null);
    const keys = doc.results.map((r) => `${r.check}|${r.app ?? ''}|${r.network}`);
    assert.equal(new Set(keys).size, keys.length, 'no check recorded twice');
    assert.equal(doc.results.length, expected, JSON.stringify(doc.results.map((r) => [r.check, r.app, r.network, r.status])));
    assert.ok(
      doc.results.every((r) => r.status !== 'broken'),
      JSON.stringify(doc.results.filter((r) => r.status === 'broken')),
    );
    assert.ok(seen[0]! < seen[2]!, `the kills came as results arrived: ${seen.join(', ')}`);
    // --app-runs 2 outlived the kills: plan.json kept it, and every app has two runs, each its own evidence.
    assert.equal((JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as { appRuns?: number }).appRuns, 2);
    const apps = doc.results.filter((r) => r.check === 'apps.ipv6-first');
    assert.equal(apps.length, 4);
    for (const r of apps) {
      const where = `${r.app} [${r.network}]: ${JSON.stringify({ runs: r.runs, metrics: r.metrics })}`;
      assert.deepEqual(
        r.runs?.map((x) => x.run),
        [1, 2],
        where,
      );
      assert.ok(
        r.runs!.every((x) => x.evidence.length > 0 && x.evidence.every((f) => f.includes(`.run${x.run}.`) && existsSync(join(out, f)))),
        where,
      );
      assert.equal(r.metrics.appRuns, 2, where);
      const shares = r.runs!.map((x) => x.ipv6Share);
      assert.ok(
        shares.every((x) => x !== null),
        where,
      );
      assert.equal(r.metrics.ipv6ShareMean, (shares[0]! + shares[1]!) / 2, where);
    }
    // News's pages, from each run: Home (from launch) reached its IPv4-only image host (NAT64 on the
    // IPv6-only APN, native IPv4 on the dual-stack one), ranked first; Article, tapped after, did not.
    for (const network of ['ipv6', 'ipv4v6'] as const) {
      const news = apps.find((r) => r.app === 'com.example.news' && r.network === network)!;
      const where = `news [${network}]: ${JSON.stringify(news.pages)}`;
      assert.deepEqual(
        news.pages?.map((p) => [p.run, p.page]),
        [
          [1, 'Home'],
          [1, 'Article'],
          [2, 'Home'],
          [2, 'Article'],
        ],
        where,
      );
      for (const page of news.pages!) {
        const img = page.ipv4Hosts.filter((h) => h.host === 'img.news.test');
        if (page.page === 'Home') {
          assert.deepEqual([page.ipv4Hosts[0]?.host, page.ipv4Hosts[0]?.path], ['img.news.test', network === 'ipv6' ? 'nat64' : 'native-v4'], where);
          assert.ok(img[0]!.share > 0 && img[0]!.share < 1 && page.ipv6Share! > 0, where);
        } else assert.deepEqual(img, [], where);
      }
      assert.equal(apps.find((r) => r.app === 'com.example.maps' && r.network === network)!.pages, undefined, 'maps marks no pages');
    }
    // Back as found: the APN rows the harness added are gone, Private DNS as it was.
    assert.deepEqual(
      [await shell(['su', '-c', 'content query --uri content://telephony/carriers']), await shell(['settings', 'get', 'global', 'private_dns_mode'])],
      asFound,
    );
  });
});
