// The lab's scenarios of the IETF app-testing draft (issue 16, docs/scenarios.md): world hosts
// whose IPv6 fails one way, zones that leave a record out, and the true IPv6-only APN, as the
// world file, the plan, the zone and the internet's nftables rules say them. Pure: no root.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataFileError } from '../../lib/config/schema.js';
import { apnTypeOf, LAB_APNS } from '../../lib/lab/lab.js';
import { rootZone, worldFailureRuleset } from '../../lib/lab/network/config.js';
import { LabPlanError } from '../../lib/lab/network/errors.js';
import { attachFamilies, validatePlan, worldAddresses } from '../../lib/lab/network/plan.js';
import { APN_TYPES, NAT64_APN_TYPES, type WorldHost } from '../../lib/lab/network/types.js';
import { loadApps, loadWorld } from '../../lib/lab/world.js';

const dir = mkdtempSync(join(tmpdir(), 'v6lab-scenarios-'));
let counter = 0;
function worldFile(hosts: unknown[]): string {
  const path = join(dir, `w${counter++}.json`);
  writeFileSync(path, JSON.stringify({ hosts }));
  return path;
}
const DNS = { ipv4: '100.64.0.53', ipv6: '2001:db8:1::53' };

describe('lab scenarios: world hosts that fail one way, and true IPv6-only', () => {
  const hosts: WorldHost[] = [
    { name: 'www.dual.test', ipv4: true, ipv6: true },
    { name: 'pmtud.test', ipv4: true, ipv6: 'pmtud-blackhole' },
    { name: 'late.test', ipv4: true, ipv6: 'late-failure' },
    { name: 'noaaaa.test', ipv4: true, ipv6: true, dns: 'no-aaaa' },
    { name: 'noa.test', ipv4: true, ipv6: true, dns: 'no-a' },
    { name: 'cdn.test', ipv4: true, ipv6: 'blackhole' },
  ];
  const addresses = worldAddresses('t1', hosts);
  const of = (name: string) => addresses.find((h) => h.name === name)!;

  it('loads the shipped scenario world and its apps (every failure kind and omission, each app on a world host)', () => {
    const shipped = resolve(import.meta.dirname, '../../devices/lab/scenarios');
    const world = loadWorld(join(shipped, 'world.json'));
    assert.deepEqual(new Set(world.hosts.map((h) => h.ipv6)), new Set([true, false, 'blackhole', 'pmtud-blackhole', 'late-failure']));
    assert.deepEqual(new Set(world.hosts.flatMap((h) => (h.dns ? [h.dns] : []))), new Set(['no-aaaa', 'no-a']));
    assert.ok(loadApps(join(shipped, 'apps'), world).length >= 4);
  });

  it('a world file names the file and field of a failure or omission it does not know, or one that cannot be', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ name: 'a.test', ipv4: true, ipv6: 'mtu' }, 'hosts[0].ipv6', /expected one of "blackhole", "pmtud-blackhole", "late-failure"/],
      [{ name: 'a.test', ipv4: true, ipv6: true, dns: 'no-mx' }, 'hosts[0].dns', /expected one of "no-aaaa", "no-a"/],
      [{ name: 'a.test', ipv4: true, ipv6: false, dns: 'no-aaaa' }, 'hosts[0].dns', /leaves out the AAAA record, but "a.test" has no IPv6/],
      [{ name: 'a.test', ipv4: false, ipv6: true, dns: 'no-aaaa' }, 'hosts[0].dns', /no record at all/],
      [{ name: 'a.test', ipv4: true, ipv6: false, dns: 'no-a' }, 'hosts[0].dns', /no record at all/],
    ];
    for (const [host, field, problem] of cases) {
      const file = worldFile([host]);
      assert.throws(
        () => loadWorld(file),
        (e: unknown) => e instanceof DataFileError && e.file === file && e.field === field && problem.test(e.problem),
        JSON.stringify(host),
      );
    }
    assert.equal(loadWorld(worldFile([{ name: 'a.test', ipv4: true, ipv6: 'late-failure', dns: 'no-a' }])).hosts[0]!.dns, 'no-a');
  });

  it('the plan refuses the same, naming the field', () => {
    const plan = (host: unknown) => ({ labId: 't1', stateDir: '/tmp/x', world: { hosts: [host as WorldHost] }, handsets: [] });
    assert.throws(
      () => validatePlan(plan({ name: 'a.test', ipv4: true, ipv6: 'mtu' })),
      (e: unknown) => e instanceof LabPlanError && /world\.hosts\[0\]\.ipv6/.test(e.message),
    );
    assert.throws(
      () => validatePlan(plan({ name: 'a.test', ipv4: true, ipv6: false, dns: 'no-aaaa' })),
      (e: unknown) => e instanceof LabPlanError && /world\.hosts\[0\]\.dns/.test(e.message),
    );
    validatePlan(plan({ name: 'a.test', ipv4: true, ipv6: 'pmtud-blackhole' }));
  });

  it('failing hosts keep their addresses and records; only a blackholed one is marked blackholed', () => {
    assert.deepEqual(
      [of('pmtud.test').ipv6Failure, of('late.test').ipv6Failure, of('www.dual.test').ipv6Failure, of('cdn.test').ipv6Failure],
      ['pmtud-blackhole', 'late-failure', undefined, undefined],
    );
    assert.equal(of('cdn.test').ipv6Blackholed, true);
    assert.equal(of('pmtud.test').ipv6Blackholed, false);
    assert.ok(of('late.test').ipv4 !== null && of('late.test').ipv6 !== null);
  });

  it('the zone leaves out the A of a no-a host and the AAAA of a no-aaaa host, and nothing else', () => {
    const zone = rootZone(addresses, DNS);
    const records = (name: string) =>
      zone
        .split('\n')
        .filter((l) => l.startsWith(`${name}. `))
        .map((l) => l.split(' ')[2]);
    assert.deepEqual(records('noaaaa.test'), ['A']);
    assert.deepEqual(records('noa.test'), ['AAAA']);
    assert.deepEqual(records('pmtud.test'), ['A', 'AAAA']);
    assert.deepEqual(records('late.test'), ['A', 'AAAA']);
    assert.deepEqual(records('www.dual.test'), ['A', 'AAAA']);
  });

  it("the internet drops a pmtud-blackhole host's IPv6 packets over 1280 bytes and every Packet Too Big sent to it; no rules without one", () => {
    const rules = worldFailureRuleset(addresses)!;
    const pmtud = of('pmtud.test').ipv6!;
    assert.match(rules, new RegExp(`ip6 saddr \\{ ${pmtud} \\} meta length > 1280 drop`));
    assert.match(rules, new RegExp(`icmpv6 type packet-too-big ip6 daddr \\{ ${pmtud} \\} drop`));
    assert.ok(!rules.includes(of('late.test').ipv6!), 'a late failure is the server, not the path');
    assert.equal(worldFailureRuleset(worldAddresses('t1', [{ name: 'a.test', ipv4: true, ipv6: true }])), null);
  });

  it('the ipv6-true APN offers IPv6 only and no NAT64, and its APN entries are named ipv6-true.*', () => {
    assert.ok(APN_TYPES.includes('ipv6-true'));
    assert.ok(!NAT64_APN_TYPES.includes('ipv6-true') && NAT64_APN_TYPES.includes('ipv6'));
    assert.deepEqual(attachFamilies('ipv6-true', 'IPV4V6'), { families: [6], error: null });
    assert.match(attachFamilies('ipv6-true', 'IP').error ?? '', /ESM cause #51/);
    assert.equal(apnTypeOf(LAB_APNS['ipv6-true']), 'ipv6-true');
    assert.equal(apnTypeOf('ipv6.v6lab.test'), 'ipv6');
  });
});
