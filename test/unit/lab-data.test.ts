import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataFileError } from '../../lib/config/schema.js';
import { findAppProgram } from '../../lib/lab/app-programs.js';
import { loadApp, loadApps, loadProfile, loadWorld, requestedPdp } from '../../lib/lab/world.js';

const shipped = resolve(import.meta.dirname, '../../devices/lab');
const dir = mkdtempSync(join(tmpdir(), 'v6lab-data-'));
let counter = 0;
function file(content: unknown, raw = false): string {
  const path = join(dir, `f${counter++}.json`);
  writeFileSync(path, raw ? String(content) : JSON.stringify(content));
  return path;
}

/** The error must be a DataFileError naming this file and field. */
function rejects(load: () => unknown, path: string, field: string, problem: RegExp): void {
  assert.throws(load, (e: unknown) => {
    assert.ok(e instanceof DataFileError, `a DataFileError, got ${String(e)}`);
    assert.equal(e.file, path);
    assert.equal(e.field, field);
    assert.match(e.problem, problem);
    assert.equal(e.message.split('\n').length, 1);
    return true;
  });
}

const goodApp = {
  package: 'com.example.x',
  label: 'X',
  start: 'home',
  pages: { home: { requests: [{ host: 'a.test', transport: 'tcp', port: 443, mode: 'system', bytes: 10 }], links: ['more'] }, more: { requests: [] } },
};
const goodProfile = {
  name: 'p',
  manufacturer: 'm',
  model: 'M',
  device: 'd',
  android: '14',
  sdk: 34,
  buildType: 'user',
  apns: [{ name: 'n', apn: 'ipv6.test', protocol: 'IPV4V6' }],
  ipv6: { mobile: { enabled: true, privacyAddresses: true }, wifi: { enabled: true, privacyAddresses: true }, clat: true },
};

describe('lab data files', () => {
  it('loads the shipped world, apps and handset profiles', () => {
    const world = loadWorld(join(shipped, 'world.json'));
    assert.ok(world.hosts.some((h) => h.ipv6 === 'blackhole'));
    assert.ok(world.hosts.some((h) => h.ipv4 && h.ipv6 === false));
    assert.ok(world.hosts.some((h) => !h.ipv4 && h.ipv6 === true));
    const apps = loadApps(join(shipped, 'apps'), world);
    const modes = new Set(apps.flatMap((a) => Object.values(a.pages).flatMap((p) => p.requests.flatMap((r) => ('mode' in r ? [r.mode] : [])))));
    assert.deepEqual([...modes].sort(), ['happy-eyeballs', 'ipv4-first', 'ipv4-literal', 'ipv4-only', 'ipv6-only', 'system']);
    const compliant = loadProfile(join(shipped, 'handsets/compliant.json'));
    const noncompliant = loadProfile(join(shipped, 'handsets/noncompliant.json'));
    assert.equal(requestedPdp(compliant), 'IPV4V6');
    assert.equal(requestedPdp(noncompliant), 'IP', "an APN entry without protocol is Android's default IP");
    assert.equal(noncompliant.ipv6.clat, false);
  });

  describe('bad input: each gives one line naming the file and the field', () => {
    const cases: [string, () => [() => unknown, string, string, RegExp]][] = [
      [
        'an empty file',
        () => {
          const f = file('', true);
          return [() => loadWorld(f), f, '', /is empty/];
        },
      ],
      [
        'invalid JSON',
        () => {
          const f = file('{"hosts": [', true);
          return [() => loadWorld(f), f, '', /not valid JSON/];
        },
      ],
      [
        'a missing file',
        () => {
          const f = join(dir, 'nope.json');
          return [() => loadWorld(f), f, '', /no such file/];
        },
      ],
      [
        'a huge file',
        () => {
          const f = file(' '.repeat(5 * 1024 * 1024), true);
          return [() => loadWorld(f), f, '', /at most/];
        },
      ],
      [
        'world: hosts not an array',
        () => {
          const f = file({ hosts: {} });
          return [() => loadWorld(f), f, 'hosts', /expected an array/];
        },
      ],
      [
        'world: no hosts',
        () => {
          const f = file({ hosts: [] });
          return [() => loadWorld(f), f, 'hosts', /at least 1/];
        },
      ],
      [
        'world: a bad host name',
        () => {
          const f = file({ hosts: [{ name: 'Bad Name!', ipv4: true, ipv6: true }] });
          return [() => loadWorld(f), f, 'hosts[0].name', /host name/];
        },
      ],
      [
        'world: ipv6 of the wrong type',
        () => {
          const f = file({ hosts: [{ name: 'a.test', ipv4: true, ipv6: 'yes' }] });
          return [() => loadWorld(f), f, 'hosts[0].ipv6', /"blackhole"/];
        },
      ],
      [
        'world: an unknown key',
        () => {
          const f = file({ hosts: [{ name: 'a.test', ipv4: true, ipv6: true, ipv7: true }] });
          return [() => loadWorld(f), f, 'hosts[0].ipv7', /unknown field/];
        },
      ],
      [
        'world: a duplicate host',
        () => {
          const f = file({
            hosts: [
              { name: 'a.test', ipv4: true, ipv6: true },
              { name: 'a.test', ipv4: true, ipv6: false },
            ],
          });
          return [() => loadWorld(f), f, 'hosts[1].name', /already hosts\[0\]/];
        },
      ],
      [
        'world: an unreachable host',
        () => {
          const f = file({ hosts: [{ name: 'a.test', ipv4: false, ipv6: false }] });
          return [() => loadWorld(f), f, 'hosts[0]', /neither IPv4 nor IPv6/];
        },
      ],
      [
        'world: a missing field',
        () => {
          const f = file({ hosts: [{ name: 'a.test', ipv6: true }] });
          return [() => loadWorld(f), f, 'hosts[0].ipv4', /missing/];
        },
      ],
      [
        'app: a bad package name',
        () => {
          const f = file({ ...goodApp, package: 'news' });
          return [() => loadApp(f), f, 'package', /package name/];
        },
      ],
      [
        'app: an unknown mode',
        () => {
          const f = file({ ...goodApp, pages: { home: { requests: [{ ...goodApp.pages.home.requests[0], mode: 'ipv6-please' }] } } });
          return [() => loadApp(f), f, 'pages.home.requests[0].mode', /one of/];
        },
      ],
      [
        'app: a port out of range',
        () => {
          const f = file({ ...goodApp, pages: { home: { requests: [{ ...goodApp.pages.home.requests[0], port: 70000 }] } } });
          return [() => loadApp(f), f, 'pages.home.requests[0].port', /1 to 65535/];
        },
      ],
      [
        'app: bytes as a string',
        () => {
          const f = file({ ...goodApp, pages: { home: { requests: [{ ...goodApp.pages.home.requests[0], bytes: '10' }] } } });
          return [() => loadApp(f), f, 'pages.home.requests[0].bytes', /whole number/];
        },
      ],
      [
        'app: a start page that does not exist',
        () => {
          const f = file({ ...goodApp, start: 'nowhere' });
          return [() => loadApp(f), f, 'start', /not in pages/];
        },
      ],
      [
        'app: a link to nowhere',
        () => {
          const f = file({ ...goodApp, pages: { home: { requests: [], links: ['gone'] } } });
          return [() => loadApp(f), f, 'pages.home.links[0]', /not in pages/];
        },
      ],
      [
        'profile: a wrong build type',
        () => {
          const f = file({ ...goodProfile, buildType: 'debug' });
          return [() => loadProfile(f), f, 'buildType', /one of "user", "userdebug", "eng"/];
        },
      ],
      [
        'profile: an unknown APN protocol',
        () => {
          const f = file({ ...goodProfile, apns: [{ name: 'n', apn: 'a', protocol: 'IPV6V4' }] });
          return [() => loadProfile(f), f, 'apns[0].protocol', /one of "IP", "IPV6", "IPV4V6"/];
        },
      ],
      [
        'profile: two preferred APNs',
        () => {
          const f = file({
            ...goodProfile,
            apns: [
              { name: 'a', apn: 'a', preferred: true },
              { name: 'b', apn: 'b', preferred: true },
            ],
          });
          return [() => loadProfile(f), f, 'apns', /2 entries are preferred/];
        },
      ],
      [
        'profile: no APNs',
        () => {
          const f = file({ ...goodProfile, apns: [] });
          return [() => loadProfile(f), f, 'apns', /at least 1/];
        },
      ],
      [
        'profile: sdk as text',
        () => {
          const f = file({ ...goodProfile, sdk: '34' });
          return [() => loadProfile(f), f, 'sdk', /whole number/];
        },
      ],
      [
        'profile: a missing ipv6 block',
        () => {
          const { ipv6: _, ...rest } = goodProfile;
          const f = file(rest);
          return [() => loadProfile(f), f, 'ipv6', /missing/];
        },
      ],
      [
        'profile: an array instead of an object',
        () => {
          const f = file([goodProfile]);
          return [() => loadProfile(f), f, '', /expected an object, got an array/];
        },
      ],
    ];
    for (const [name, make] of cases) {
      it(name, () => {
        const [load, path, field, problem] = make();
        rejects(load, path, field, problem);
      });
    }

    it('apps: a page may run a real program instead of a request; its own errors name file and field', () => {
      const world = { hosts: [{ name: 'a.test', ipv4: true, ipv6: true as const }] };
      const withRun = (step: unknown) => file({ ...goodApp, pages: { home: { requests: [goodApp.pages.home.requests[0], step] } } });
      const good = loadApp(withRun({ run: ['curl', '-sS', 'http://a.test/'], repeat: 2 }));
      assert.deepEqual(good.pages.home!.requests[1], { run: ['curl', '-sS', 'http://a.test/'], timeoutMs: 20_000, repeat: 2 });
      const appsDir = join(dir, 'apps-run');
      mkdirSync(appsDir);
      // A run names no host of the world: nothing to look up.
      writeFileSync(join(appsDir, 'a.json'), JSON.stringify({ ...goodApp, pages: { home: { requests: [{ run: ['true'], timeoutMs: 1000 }] } } }));
      assert.equal(loadApps(appsDir, world).length, 1);
      const bad: [unknown, string, RegExp][] = [
        [{ run: [] }, 'pages.home.requests[1].run', /at least 1/],
        [{ run: ['curl', ''] }, 'pages.home.requests[1].run[1]', /empty string/],
        [{ run: ['cu\u0000rl'] }, 'pages.home.requests[1].run[0]', /without NUL/],
        [{ run: 'curl http://a.test/' }, 'pages.home.requests[1].run', /expected an array/],
        [{ run: ['curl'], timeoutMs: 50 }, 'pages.home.requests[1].timeoutMs', /100 to 600000/],
        [{ run: ['curl'], host: 'a.test' }, 'pages.home.requests[1].host', /unknown field/],
      ];
      for (const [step, field, problem] of bad) {
        const f = withRun(step);
        rejects(() => loadApp(f), f, field, problem);
      }
    });

    it("a real program: found on the apps' PATH or absolute, in what a handset sees of the host, and run by anyone", () => {
      assert.ok('path' in findAppProgram('sh'), JSON.stringify(findAppProgram('sh')));
      assert.match((findAppProgram('no-such-program-v6lab') as { problem: string }).problem, /not found on PATH \(\/usr\/local\/bin:\/usr\/bin:\/bin\)/);
      assert.match((findAppProgram('bin/sh') as { problem: string }).problem, /a relative path/);
      assert.match((findAppProgram('/usr/bin/no-such-program-v6lab') as { problem: string }).problem, /no such file/);
      const trees = mkdtempSync(join(tmpdir(), 'v6lab-programs-'));
      chmodSync(trees, 0o755);
      assert.match((findAppProgram(join(trees, 'x')) as { problem: string }).problem, /no such file/);
      const program = join(trees, 'client');
      writeFileSync(program, '#!/bin/sh\n');
      assert.match((findAppProgram(program) as { problem: string }).problem, /outside what a handset sees of the host \(\/usr, \/bin/);
      const inTrees = { trees: [trees] };
      chmodSync(program, 0o700);
      assert.match((findAppProgram(program, inTrees) as { problem: string }).problem, /mode 0700\) is not readable and executable by the app's uid/);
      chmodSync(program, 0o755);
      assert.deepEqual(findAppProgram(program, inTrees), { path: program });
      assert.deepEqual(findAppProgram('client', { ...inTrees, path: `/nowhere:${trees}` }), { path: program });
      const hidden = join(trees, 'private');
      mkdirSync(hidden, { mode: 0o750 });
      chmodSync(hidden, 0o750);
      writeFileSync(join(hidden, 'client'), '#!/bin/sh\n', { mode: 0o755 });
      assert.match(
        (findAppProgram(join(hidden, 'client'), inTrees) as { problem: string }).problem,
        /its directory .*private \(mode 0750\) may be searched by its owner and group only/,
      );
      assert.match((findAppProgram(trees, inTrees) as { problem: string }).problem, /is not a file/);
    });

    it('apps: a duplicate package across files, and a host missing from the world', () => {
      const world = { hosts: [{ name: 'a.test', ipv4: true, ipv6: true as const }] };
      const appsDir = join(dir, 'apps-dup');
      mkdirSync(appsDir);
      writeFileSync(join(appsDir, 'a.json'), JSON.stringify(goodApp));
      writeFileSync(join(appsDir, 'b.json'), JSON.stringify(goodApp));
      rejects(() => loadApps(appsDir, world), join(appsDir, 'b.json'), 'package', /also the package of .*a\.json/);
      const missingDir = join(dir, 'apps-host');
      mkdirSync(missingDir);
      writeFileSync(
        join(missingDir, 'a.json'),
        JSON.stringify({ ...goodApp, pages: { home: { requests: [{ ...goodApp.pages.home.requests[0], host: 'b.test' }] } } }),
      );
      rejects(() => loadApps(missingDir, world), join(missingDir, 'a.json'), 'pages.home.requests[0].host', /not a host of the world/);
      rejects(() => loadApps(join(dir, 'none'), world), join(dir, 'none'), '', /no such directory/);
    });
  });
});
