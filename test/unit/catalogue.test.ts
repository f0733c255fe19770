import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataFileError } from '../../lib/config/schema.js';
import { loadCatalogue } from '../../lib/harness/catalogue.js';
import { labCatalogue } from '../../lib/lab/record.js';
import { loadApps, loadWorld } from '../../lib/lab/world.js';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'v6lab-catalogue-'));
let n = 0;
const file = (content: unknown) => {
  const path = join(dir, `c${n++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const good = {
  name: 'c',
  apps: [
    {
      package: 'com.tencent.mm',
      label: 'WeChat',
      dwellMs: 10000,
      flow: [{ tap: '~Discover' }, { wait: 3000 }, { back: true }, { swipe: 'up' }, { type: '~search', text: 'ipv6' }],
    },
  ],
};

describe('app catalogues (CONTRACTS section 6)', () => {
  it('loads the example of the contract, with every kind of step', () => {
    const catalogue = loadCatalogue(file(good));
    assert.equal(catalogue.apps[0]!.dwellMs, 10000);
    assert.deepEqual(
      catalogue.apps[0]!.flow.map((s) => Object.keys(s)[0]),
      ['tap', 'wait', 'back', 'swipe', 'type'],
    );
  });

  it('ships the China top-10 and top-30 and a global top-10, by Android package, each listed once', () => {
    const top10 = loadCatalogue(join(root, 'devices/catalogues/china-top10.json'));
    const top30 = loadCatalogue(join(root, 'devices/catalogues/china-top30.json'));
    const global = loadCatalogue(join(root, 'devices/catalogues/global-top10.json'));
    assert.equal(top10.apps.length, 10);
    assert.equal(top30.apps.length, 30);
    assert.equal(global.apps.length, 10);
    assert.ok(top10.apps.some((a) => a.package === 'com.tencent.mm'));
    for (const app of top10.apps)
      assert.ok(
        top30.apps.some((a) => a.package === app.package),
        `${app.package} in the top 30`,
      );
  });

  it("a lab handset's catalogue lists every app it has, in the catalogue format, tapping links the app has", () => {
    const apps = loadApps(join(root, 'devices/lab/apps'), loadWorld(join(root, 'devices/lab/world.json')));
    const path = file(labCatalogue(Object.fromEntries(apps.map((a) => [a.package, a.file]))));
    const catalogue = loadCatalogue(path);
    assert.deepEqual(
      catalogue.apps.map((a) => a.package),
      apps.map((a) => a.package).sort(),
    );
    assert.equal(readdirSync(join(root, 'devices/lab/apps')).length, catalogue.apps.length);
    for (const entry of catalogue.apps) {
      const app = apps.find((a) => a.package === entry.package)!;
      const links = Object.values(app.pages).flatMap((p) => p.links ?? []);
      for (const step of entry.flow) if ('tap' in step) assert.ok(links.includes(step.tap.slice(1)), `${entry.package}: ${step.tap} is a link`);
    }
    assert.ok(catalogue.apps.find((a) => a.package === 'com.example.news')!.flow.some((s) => 'tap' in s && s.tap === '~article'));
  });

  const bad: [string, unknown, string, RegExp][] = [
    ['an empty file', '', '', /is empty/],
    ['no apps', { name: 'c', apps: [] }, 'apps', /at least 1/],
    ['a package that is not one', { name: 'c', apps: [{ package: 'wechat; reboot', label: 'x' }] }, 'apps[0].package', /Android package name/],
    ['a package listed twice', { name: 'c', apps: [good.apps[0], good.apps[0]] }, 'apps[1].package', /listed twice/],
    ['an unknown step', { name: 'c', apps: [{ package: 'a.b', label: 'x', flow: [{ pinch: 1 }] }] }, 'apps[0].flow[0]', /unknown step/],
    ['a selector that is not one', { name: 'c', apps: [{ package: 'a.b', label: 'x', flow: [{ tap: 'Discover' }] }] }, 'apps[0].flow[0].tap', /selector/],
    ['a swipe nowhere', { name: 'c', apps: [{ package: 'a.b', label: 'x', flow: [{ swipe: 'sideways' }] }] }, 'apps[0].flow[0].swipe', /one of/],
    ['typing with no text', { name: 'c', apps: [{ package: 'a.b', label: 'x', flow: [{ type: '~q' }] }] }, 'apps[0].flow[0].text', /missing/],
    ['a negative dwell', { name: 'c', apps: [{ package: 'a.b', label: 'x', dwellMs: -1 }] }, 'apps[0].dwellMs', /whole number/],
    ['back: false', { name: 'c', apps: [{ package: 'a.b', label: 'x', flow: [{ back: false }] }] }, 'apps[0].flow[0].back', /expected true/],
    ['an unknown field', { name: 'c', apps: [{ package: 'a.b', label: 'x', dwell: 3 }] }, 'apps[0].dwell', /unknown field/],
  ];
  for (const [name, content, field, problem] of bad) {
    it(`rejects ${name}, naming the field`, () => {
      const path = file(content);
      assert.throws(
        () => loadCatalogue(path),
        (e: unknown) => e instanceof DataFileError && e.file === path && e.field === field && problem.test(e.problem),
      );
    });
  }
});
