// The lab network's pure parts (lib/lab/network): names, addresses, attach results, daemon
// configurations, parsers of /proc and iproute2 output, the state file. No root, no namespace.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { canonicalAddress } from '../../lib/net/address.js';
import { radvdConf, resolverUnboundConf, rootZone, worldTopLevelDomains } from '../../lib/lab/network/config.js';
import { LabPlanError } from '../../lib/lab/network/errors.js';
import { parseIpAddrJson, parseRouteJson } from '../../lib/lab/network/inspect.js';
import { asSystemUid, probeArgv, pushArgv } from '../../lib/lab/network/background.js';
import {
  attachFamilies,
  backgroundParts,
  handsetAddressing,
  handsetSettings,
  inPrefix64,
  interfaceSysctls,
  isLabNamespace,
  labHash16,
  validatePlan,
  worldAddresses,
} from '../../lib/lab/network/plan.js';
import { parseProcStat } from '../../lib/lab/network/process.js';
import { readState, StateRecorder } from '../../lib/lab/network/state.js';
import type { ApnType, LabPlan, LabState, PdpType } from '../../lib/lab/network/types.js';
import { ntpServerReply, requestedBytes } from '../../lib/lab/network/world-server.js';

const PLAN: LabPlan = {
  labId: 'ab1',
  stateDir: '/tmp/x',
  world: {
    hosts: [
      { name: 'api.news.test', ipv4: true, ipv6: true },
      { name: 'cdn.news.test', ipv4: true, ipv6: 'blackhole' },
    ],
  },
  handsets: [{ index: 0, apn: 'ipv6', pdpType: 'IPV4V6' }],
};

describe('lab network plan (no root)', function () {
  it('gives each attach the PDN type intersected with what the APN offers', function () {
    const table: [ApnType, PdpType, (4 | 6)[]][] = [
      ['ipv6', 'IPV6', [6]],
      ['ipv6', 'IPV4V6', [6]],
      ['ipv6', 'IP', []],
      ['ipv4v6', 'IPV6', [6]],
      ['ipv4v6', 'IPV4V6', [6, 4]],
      ['ipv4v6', 'IP', [4]],
      ['ipv4', 'IPV6', []],
      ['ipv4', 'IPV4V6', [4]],
      ['ipv4', 'IP', [4]],
    ];
    for (const [apn, pdp, families] of table) {
      const result = attachFamilies(apn, pdp);
      assert.deepEqual(result.families, families, `${pdp} on ${apn}`);
      assert.equal(result.error === null, families.length > 0, `${pdp} on ${apn}: ${result.error}`);
    }
    assert.match(attachFamilies('ipv4', 'IPV6').error!, /ESM cause #50/);
  });

  it('rejects a plan naming the bad field', function () {
    const bad = (change: Partial<LabPlan>, field: string): void =>
      assert.throws(
        () => validatePlan({ ...PLAN, ...change }),
        (e: unknown) => e instanceof LabPlanError && e.field === field,
      );
    bad({ labId: 'Ab' }, 'labId');
    bad({ labId: 'abcdefg' }, 'labId');
    bad({ handsets: [{ index: 200, apn: 'ipv6', pdpType: 'IPV6' }] }, 'handsets[0].index');
    bad(
      {
        handsets: [
          { index: 1, apn: 'ipv6', pdpType: 'IPV6' },
          { index: 1, apn: 'ipv4', pdpType: 'IP' },
        ],
      },
      'handsets[1].index',
    );
    bad({ handsets: [{ index: 1, apn: 'ipv5' as ApnType, pdpType: 'IPV6' }] }, 'handsets[0].apn');
    bad({ world: { hosts: [{ name: 'a b.test', ipv4: true, ipv6: true }] } }, 'world.hosts[0].name');
    bad({ world: { hosts: [{ name: 'ipv4only.arpa', ipv4: true, ipv6: true }] } }, 'world.hosts[0].name');
    assert.doesNotThrow(() => validatePlan(PLAN));
  });

  it("names only this lab's namespaces as its own", function () {
    for (const name of ['v6l-ab1-inet', 'v6l-ab1-gw0', 'v6l-ab1-hs12', 'v6l-ab1-ap199']) assert.ok(isLabNamespace('ab1', name), name);
    for (const name of ['v6l-ab12-hs0', 'v6l-ab1-hs0x', 'v6l-ab1-', 'v6x-ab1-hs0', 'v6l-ab1-gw']) assert.ok(!isLabNamespace('ab1', name), name);
  });

  it('gives each handset its own /64, CLAT address and NAT64 pool, derived from the lab id', function () {
    const a = handsetAddressing('ab1', 0);
    const b = handsetAddressing('ab1', 3);
    assert.equal(labHash16('ab1'), labHash16('ab1'));
    assert.notEqual(labHash16('ab1'), labHash16('ab2'));
    assert.notEqual(a.apnPrefix, b.apnPrefix);
    assert.match(b.apnPrefix, /^2001:db8:[0-9a-f]+:300::\/64$/);
    assert.ok(inPrefix64(a.clatIpv6, a.apnPrefix));
    assert.ok(inPrefix64(a.gatewayApnIpv6, a.apnPrefix));
    assert.ok(!inPrefix64(b.clatIpv6, a.apnPrefix));
    // Not an EUI-64 identifier (..ff:fe..), which the handset's SLAAC address is.
    assert.doesNotMatch(a.clatIpv6, /ff:fe/);
    assert.equal(canonicalAddress(a.clatIpv6), a.clatIpv6);
    assert.deepEqual([b.handsetIpv4, b.nat64Pool], ['10.3.0.2', '100.127.3.0/24']);
  });

  it('puts the world in 100.64/10 (reachable through tayga) and keeps the blackholed AAAA published', function () {
    const hosts = worldAddresses('ab1', PLAN.world.hosts);
    assert.deepEqual(
      hosts.map((h) => h.ipv4),
      ['100.64.1.1', '100.64.1.2'],
    );
    assert.equal(hosts[1]?.ipv6Blackholed, true);
    assert.ok(hosts[1]?.ipv6);
    const zone = rootZone(hosts, { ipv4: '100.64.0.53', ipv6: '2001:db8::53' });
    assert.match(zone, /^ipv4only\.arpa\. IN A 192\.0\.0\.170$/m);
    assert.match(zone, /^ipv4only\.arpa\. IN A 192\.0\.0\.171$/m);
    assert.match(zone, new RegExp(`^cdn\\.news\\.test\\. IN AAAA ${hosts[1]!.ipv6}$`, 'm'));
    assert.deepEqual(worldTopLevelDomains(hosts), ['test', 'v6lab']);
  });

  it('configures radvd as lab.md measured (RA every 3 s at least, router lifetime 1800 s, RDNSS) and DNS64 only when asked', function () {
    const conf = radvdConf({ interface: 'apn0', prefix: '2001:db8:1::/64', rdnss: '2001:db8:1::1' });
    assert.match(conf, /MinRtrAdvInterval 3;/);
    assert.match(conf, /AdvDefaultLifetime 1800;/);
    assert.match(conf, /RDNSS 2001:db8:1::1 /);
    const dns64 = resolverUnboundConf('/d', ['2001:db8:1::1'], ['test'], ['100.64.0.53'], { nat64Prefix: '64:ff9b::/96' });
    assert.match(dns64, /module-config: "dns64 iterator"/);
    assert.match(dns64, /dns64-prefix: 64:ff9b::\/96/);
    assert.match(dns64, /local-zone: "test\." nodefault/);
    assert.doesNotMatch(resolverUnboundConf('/d', ['10.0.0.1'], ['test'], ['100.64.0.53'], null), /dns64/);
  });

  it('reads the state, process group and start time of /proc/PID/stat after the last parenthesis', function () {
    const line = '4242 (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615';
    assert.deepEqual(parseProcStat(line), { state: 'S', startTime: '987654', processGroup: 4242 });
    assert.equal(parseProcStat('garbage'), null);
  });

  it('parses iproute2 JSON addresses (temporary flag) and routes (mtu metric)', function () {
    const addrs = parseIpAddrJson(
      '[{"ifindex":2,"ifname":"rmnet_data0","addr_info":[{"family":"inet6","local":"2001:db8:1:0:d877::5","prefixlen":64,"scope":"global","temporary":true,"dynamic":true},' +
        '{"family":"inet6","local":"2001:db8:1:0:58fa:29ff:feb8:bf2d","prefixlen":64,"scope":"global","dynamic":true,"mngtmpaddr":true},{"bogus":1}]}]',
    );
    assert.deepEqual(
      addrs.get('rmnet_data0')?.map((a) => [a.address, a.temporary]),
      [
        ['2001:db8:1:0:d877::5', true],
        ['2001:db8:1:0:58fa:29ff:feb8:bf2d', false],
      ],
    );
    const routes = parseRouteJson('[{"dst":"default","dev":"v4-rmnet_data0","scope":"link","prefsrc":"192.0.0.4","flags":[],"metrics":[{"mtu":1472}]}]');
    assert.deepEqual(routes, [{ dst: 'default', gateway: null, dev: 'v4-rmnet_data0', protocol: null, mtu: 1472 }]);
  });

  it('answers /bytes/N paths only', function () {
    assert.equal(requestedBytes('/bytes/20000'), 20000);
    assert.equal(requestedBytes('/bytes/0?x=1'), 0);
    assert.equal(requestedBytes('/bytes/-1'), null);
    assert.equal(requestedBytes('/bytes/99999999999'), null);
    assert.equal(requestedBytes('/'), null);
  });

  it("turns a handset's settings into per-interface sysctls, missing settings on", function () {
    assert.deepEqual(handsetSettings(undefined), { mobileIpv6: true, mobilePrivacy: true, wifiIpv6: true, wifiPrivacy: true, clat: true });
    assert.deepEqual(handsetSettings({ wifiIpv6: false, clat: false }), {
      mobileIpv6: true,
      mobilePrivacy: true,
      wifiIpv6: false,
      wifiPrivacy: true,
      clat: false,
    });
    assert.deepEqual(interfaceSysctls('rmnet_data0', true, true), ['net.ipv6.conf.rmnet_data0.disable_ipv6=0', 'net.ipv6.conf.rmnet_data0.use_tempaddr=2']);
    assert.deepEqual(interfaceSysctls('wlan0', false, false), ['net.ipv6.conf.wlan0.disable_ipv6=1', 'net.ipv6.conf.wlan0.use_tempaddr=0']);
    const handsets = (settings: unknown): LabPlan => ({
      ...PLAN,
      handsets: [{ index: 0, apn: 'ipv6', pdpType: 'IPV6', settings } as LabPlan['handsets'][number]],
    });
    assert.doesNotThrow(() => validatePlan(handsets({ clat: false })));
    assert.throws(
      () => validatePlan(handsets({ clat: 'no' })),
      (e: LabPlanError) => e.field === 'handsets[0].settings.clat',
    );
    assert.throws(
      () => validatePlan(handsets({ ipv7: true })),
      (e: LabPlanError) => e.field === 'handsets[0].settings.ipv7',
    );
    assert.throws(
      () => validatePlan({ ...PLAN, backgroundTraffic: 'yes' as unknown as boolean }),
      (e: LabPlanError) => e.field === 'backgroundTraffic',
    );
  });

  it("takes the background traffic's hosts from the world, skipping a part whose host it lacks, under system uids", function () {
    const parts = backgroundParts([{ name: 'connectivity.test' }, { name: 'api.news.test' }, { name: 'push.test' }]);
    assert.deepEqual(parts, {
      probe: { host: 'connectivity.test', uid: 1000, intervalMs: 10_000 },
      ntp: { host: null, uid: 1001, intervalMs: 30_000 },
      push: { host: 'push.test', uid: 1002, intervalMs: 15_000 },
    });
    for (const part of Object.values(parts)) assert.ok(part.uid < 10_000, "below Android's first app uid");
    assert.deepEqual(asSystemUid(1001, ['perl', '-e', '1']), [
      'setpriv',
      '--reuid=1001',
      '--regid=1001',
      '--clear-groups',
      '--pdeathsig=KILL',
      '--',
      'perl',
      '-e',
      '1',
    ]);
    // HTTP and HTTPS to the host by name (getaddrinfo), the CA from the inherited fd 3.
    const probe = probeArgv('connectivity.test', true);
    assert.deepEqual(
      probe.filter((a) => a.includes('://')),
      ['http://connectivity.test/generate_204', 'https://connectivity.test/generate_204'],
    );
    assert.equal(probe[probe.indexOf('--cacert') + 1], '/dev/fd/3');
    assert.deepEqual(
      probeArgv('connectivity.test', false).filter((a) => a.includes('://')),
      ['http://connectivity.test/generate_204'],
    );
    assert.equal(pushArgv('push.test').at(-1), 'https://push.test/push');
  });

  it('answers an NTP client query as a stratum 1 server, echoing its transmit timestamp', function () {
    const query = Buffer.alloc(48);
    query.writeUInt8(0x23, 0); // LI 0, version 4, mode 3
    query.writeUInt8(6, 2);
    query.writeUInt32BE(0xe9000000, 40);
    query.writeUInt32BE(0x12345678, 44);
    const now = Date.UTC(2026, 0, 2, 3, 4, 5, 500);
    const reply = ntpServerReply(query, now)!;
    assert.equal(reply.length, 48);
    assert.equal(reply.readUInt8(0), 0x24, 'LI 0, version 4, mode 4');
    assert.deepEqual([reply.readUInt8(1), reply.readUInt8(2), reply.readInt8(3)], [1, 6, -20]);
    assert.equal(reply.toString('ascii', 12, 16), 'LOCL');
    assert.deepEqual([reply.readUInt32BE(24), reply.readUInt32BE(28)], [0xe9000000, 0x12345678]);
    assert.equal(reply.readUInt32BE(40), Math.floor(now / 1000) + 2_208_988_800);
    assert.equal(reply.readUInt32BE(44), 2 ** 31, 'half a second');
    // Version 3 is answered in version 3; a server packet, a short one or version 0 are not answered.
    const v3 = Buffer.from(query);
    v3.writeUInt8(0x1b, 0);
    assert.equal(ntpServerReply(v3, now)?.readUInt8(0), 0x1c);
    const server = Buffer.from(query);
    server.writeUInt8(0x24, 0);
    assert.equal(ntpServerReply(server, now), null);
    assert.equal(ntpServerReply(query.subarray(0, 47), now), null);
    assert.equal(ntpServerReply(Buffer.alloc(48, 0x03), now), null);
  });

  it('writes the state file atomically, and a shared writer keeps what another wrote meanwhile', async function () {
    const dir = await mkdtemp(path.join(tmpdir(), 'v6lab-state-test-'));
    try {
      const state = {
        version: 1,
        labId: 'ab1',
        stateDir: dir,
        runDir: path.join(dir, 'run'),
        phase: 'starting',
        startedAt: '',
        upMs: null,
        backgroundTraffic: true,
        namespaces: [],
        netnsDirs: [],
        processes: [],
        world: { dnsServers: [], caCertFile: '', hosts: [] },
        handsets: [],
      } satisfies LabState;
      const owner = new StateRecorder(structuredClone(state), 'owner');
      await Promise.all([1, 2, 3].map((n) => owner.update((s) => void s.netnsDirs.push(`/etc/netns/${n}`))));
      assert.deepEqual((await readState(dir))?.netnsDirs, ['/etc/netns/1', '/etc/netns/2', '/etc/netns/3']);
      assert.deepEqual((await readdir(dir)).sort(), ['lab.json'], 'no temporary file left');
      const shared = new StateRecorder(structuredClone(state), 'shared');
      await owner.update((s) => void (s.phase = 'up'));
      await shared.update((s) => void s.netnsDirs.push('/etc/netns/4'));
      const final = await readState(dir);
      assert.equal(final?.phase, 'up');
      assert.equal(final?.netnsDirs.length, 4);
      // The supervisor re-attaches several handsets at once, one shared recorder each: no
      // read-change-write of one may land between another's read and write.
      const recorders = [0, 1, 2, 3].map(() => new StateRecorder(structuredClone(state), 'shared'));
      await Promise.all(
        recorders.flatMap((recorder, index) => [0, 1, 2].map((step) => recorder.update((s) => void s.netnsDirs.push(`/etc/netns/hs${index}-${step}`)))),
      );
      const together = (await readState(dir))?.netnsDirs ?? [];
      assert.equal(together.length, 4 + 12, `every handset's changes kept: ${together.join(' ')}`);
      for (const index of [0, 1, 2, 3]) {
        assert.deepEqual(
          together.filter((d) => d.includes(`hs${index}-`)),
          [0, 1, 2].map((step) => `/etc/netns/hs${index}-${step}`),
        );
      }
      await writeFile(path.join(dir, 'lab.json'), '{"version": 1, "labId": "ab1", "trunc');
      await assert.rejects(readState(dir), /is not JSON/);
      assert.match(await readFile(path.join(dir, 'lab.json'), 'utf8'), /trunc/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
