// Issue 15, items 2 and 3, over real adb: a VoLTE handset of Android 15 with a saved Wi-Fi network
// (devices/lab/handsets/android15.json) as a real phone on a bench is: Wi-Fi joined and the default
// network, an IMS network beside the internet one, every default route in a per-network table.
// `svc wifi` turns Wi-Fi off and on; certify moves the handset to mobile data for the APN checks,
// judges the internet network (never IMS), and puts Wi-Fi back. Root and namespaces needed: skips
// with the reason elsewhere, fails in CI (CI=true).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultNetwork, mobileInternetNetwork, parseDumpsysConnectivity } from '../../lib/device/parse/connectivity.js';
import { labHandsetProfile } from '../../lib/lab/record.js';
import type { RunResults } from '../../lib/report/results.js';
import { projectRoot, v6lab } from '../support/cli.js';
import { labSession } from '../support/lab-session.js';

const SERIAL = 'emulator-5554';

describe('lab: a VoLTE handset on Wi-Fi, as a phone on a bench is (issue 15)', function () {
  this.timeout(300_000);
  const lab = labSession('the Wi-Fi and IMS lab tests', ['android15']);
  const shell = async (command: string) => {
    const r = await lab.cli.run(['-s', SERIAL, 'shell', command]);
    return { code: r.code, out: r.stdout.toString() };
  };
  const connectivity = async () => parseDumpsysConnectivity((await shell('dumpsys connectivity')).out);
  /** Polls until `ok` holds for the device's dumpsys connectivity (Wi-Fi joins in a second or two). */
  const until = async (what: string, ok: (d: Awaited<ReturnType<typeof connectivity>>) => boolean) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const d = await connectivity();
      if (ok(d)) return d;
      if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(d.networks.map((n) => [n.netId, n.type, n.extra]))} default ${d.defaultNetId}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  it('Wi-Fi is joined and the default network; the IMS network is listed beside the internet one', async () => {
    const d = await until('Wi-Fi the default', (x) => defaultNetwork(x)?.type === 'WIFI');
    assert.deepEqual(
      d.networks.map((n) => [n.type, n.extra]),
      [
        ['MOBILE', 'ims'],
        ['MOBILE', 'ipv6.v6lab.test'],
        ['WIFI', null],
      ],
    );
    const choice = mobileInternetNetwork(d);
    assert.equal(choice.network?.extra, 'ipv6.v6lab.test', choice.reason);
    assert.equal(choice.basis, 'internet-capability');
    assert.match(choice.reason, /ims/);
    // The IMS network has no INTERNET capability and its own interface.
    assert.ok(!d.networks[0]!.capabilities.includes('INTERNET'));
    assert.equal(d.networks[0]!.linkProperties?.interfaceName, 'rmnet_data1');
    assert.equal((await shell('cmd wifi status')).out, 'Wifi is enabled\nWifi is connected to "v6lab-home"\n');
  });

  it('keeps every default route in a per-network table, none in main', async () => {
    for (const family of ['-4', '-6']) {
      assert.equal((await shell(`ip ${family} route show default`)).out.trim(), '', `main table (${family})`);
      const all = (await shell(`ip ${family} route show table all default`)).out;
      assert.match(all, /dev wlan0 table 10\d\d/);
    }
    assert.match((await shell('ip -6 route show table all default')).out, /dev rmnet_data0 table 10\d\d proto ra/);
    assert.match((await shell('ip -6 route show table all default')).out, /dev rmnet_data1 table 10\d\d proto static/);
    assert.match((await shell('ip rule')).out, /lookup 10\d\d/);
  });

  it('svc wifi disable makes mobile data the default network; enable brings Wi-Fi back as the default', async () => {
    assert.equal((await shell('svc wifi disable')).code, 0);
    const off = await until('mobile data the default', (x) => defaultNetwork(x)?.extra === 'ipv6.v6lab.test');
    assert.ok(!off.networks.some((n) => n.type === 'WIFI'));
    assert.equal((await shell('cmd wifi status')).out, 'Wifi is disabled\n');
    assert.equal((await shell('ip -4 addr show dev wlan0')).out.trim(), '');
    assert.equal((await shell('settings get global wifi_on')).out, '0\n');
    assert.equal((await shell('svc wifi enable')).code, 0);
    await until('Wi-Fi the default again', (x) => defaultNetwork(x)?.type === 'WIFI');
  });

  it('certify moves the handset to mobile data for the APN checks, judges the internet network, and puts Wi-Fi back', async () => {
    const out = join(lab.work, 'run');
    const run = await v6lab(['certify', '--devices', SERIAL, '--suite', 'os,apn', '--out', out], lab.env, 240_000);
    assert.ok(run.code === 0 || run.code === 1, `certify: ${run.stderr.slice(-3000)}`);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    const status = (check: string) => results.results.filter((r) => r.check === check).map((r) => [r.status, r.reasons.map((x) => x.code)]);
    for (const check of ['apn.ipv6-only-attach', 'apn.clat', 'apn.nat64-prefix', 'os.dual-stack-attach']) {
      assert.deepEqual(status(check), [['passed', []]], `${check}: ${JSON.stringify(results.results.filter((r) => r.check === check))}`);
    }
    // Every network observation was taken with mobile data the default network (observedOn in each check's evidence).
    const defaults: string[] = [];
    for (const r of results.results.filter((x) => x.check.startsWith('apn.'))) {
      for (const file of r.evidence.filter((e) => e.endsWith('.json'))) {
        const text = readFileSync(join(out, file), 'utf8');
        for (const m of text.matchAll(/"defaultNetwork":\s*\{\s*"netId":\s*\d+,\s*"type":\s*"(\w+)"/g)) defaults.push(m[1]!);
      }
    }
    assert.ok(defaults.length > 0, 'no observation recorded its default network');
    assert.deepEqual([...new Set(defaults)], ['MOBILE']);
    // As found: Wi-Fi on and the default network again.
    assert.equal((await shell('settings get global wifi_on')).out, '1\n');
    await until('Wi-Fi the default after the run', (x) => defaultNetwork(x)?.type === 'WIFI');
  });

  it('a profile naming the Wi-Fi network as its dual-stack network: joined, judged on wlan0; the IPv6-only APN on mobile data, its unseen attach said', async () => {
    const record = await labHandsetProfile(lab.stateDir, SERIAL);
    assert.ok(record, 'the lab knows its handset');
    const profile = join(lab.work, 'wifi-profile.json');
    writeFileSync(
      profile,
      JSON.stringify({
        name: 'wifi-dual-stack',
        serial: SERIAL,
        appium: { capabilities: record.appiumCapabilities },
        capture: record.capture,
        gatewayCapture: record.gatewayCapture,
        networks: { ipv6: record.networks.ipv6, ipv4v6: { wifi: 'v6lab-home' } },
        ...(record.resolverProbeUrl ? { resolverProbeUrl: record.resolverProbeUrl } : {}),
        ...(record.ipv4OnlyProbeUrl ? { ipv4OnlyProbeUrl: record.ipv4OnlyProbeUrl } : {}),
        backgroundHosts: record.backgroundHosts,
      }),
    );
    // The last run put the handset back on the IPv6-only APN: once it is there, this run never
    // moves mobile data off it (its dual-stack network is Wi-Fi), so no attach is seen.
    await until('back on the IPv6-only APN', (x) => mobileInternetNetwork(x).network?.extra === 'ipv6.v6lab.test');
    const out = join(lab.work, 'wifi-run');
    const run = await v6lab(['certify', '--profile', profile, '--suite', 'os,apn', '--out', out], lab.env, 240_000);
    // INCOMPLETE (exit 4): RFC 7050 discovery happened at an attach before the run, unseen.
    assert.equal(run.code, 4, `certify exit ${run.code}: ${run.stderr.slice(-3000)} ${run.stdout.slice(-3000)}`);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    const dual = results.results.find((r) => r.check === 'os.dual-stack-attach')!;
    assert.equal(dual.status, 'passed', JSON.stringify(dual.reasons));
    const decision = JSON.parse(readFileSync(join(out, dual.evidence.find((e) => e.endsWith('.json'))!), 'utf8')) as {
      evidence: { ipv4: string[]; observedOn: { via: string; apn: string; defaultNetwork: { type: string } } };
    };
    // Judged on Wi-Fi: its DHCP address, not mobile data's (an IPv6-only attach has no IPv4 at all).
    assert.deepEqual(decision.evidence.ipv4, ['192.168.1.2']);
    assert.deepEqual(
      [decision.evidence.observedOn.via, decision.evidence.observedOn.apn, decision.evidence.observedOn.defaultNetwork.type],
      ['wifi', 'v6lab-home', 'WIFI'],
    );
    for (const check of ['apn.ipv6-only-attach', 'apn.clat', 'apn.ipv4-via-clat']) {
      const r = results.results.find((x) => x.check === check)!;
      assert.equal(r.status, 'passed', `${check}: ${JSON.stringify(r.reasons)}`);
    }
    const nat64 = results.results.find((x) => x.check === 'apn.nat64-prefix')!;
    assert.deepEqual([nat64.status, nat64.reasons.map((x) => x.code)], ['skipped', ['EVIDENCE_MISSING']]);
    assert.equal((await shell('settings get global wifi_on')).out, '1\n');
    await until('Wi-Fi the default after the run', (x) => defaultNetwork(x)?.type === 'WIFI');
  });

  // Issue 16: a v6lab gateway's network for a device cabled to it. The gateway runs in a namespace
  // standing in for the host (`nsenter --net`, never the real host's interfaces); its device link
  // is a veth whose far end appears in the handset as eth0, as a USB Ethernet adapter appears in a
  // phone. The handset provisions it as Android's EthernetTracker does (the default network, above
  // Wi-Fi; PREF64 from the RA; a CLAT), and certify judges that network from the gateway's capture.
  it('a handset cabled to v6lab gateway: Ethernet the default with its CLAT; certify judges the gateway network; unplugged, Wi-Fi is the default again', async () => {
    const host = 'v6et-host';
    const link = 'v6etlink';
    const gatewayDir = join(lab.work, 'gateway');
    const run = (argv: string[], timeout = 60_000) =>
      new Promise<{ code: number; out: string }>((resolve) =>
        execFile(argv[0]!, argv.slice(1), { timeout, encoding: 'utf8' }, (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: `${stdout}${stderr}` }),
        ),
      );
    const gateway = (args: string[]) =>
      run(['nsenter', `--net=/run/netns/${host}`, '--', process.execPath, join(projectRoot, 'bin/v6lab.js'), 'gateway', ...args, '--state-dir', gatewayDir]);
    const labState = JSON.parse(readFileSync(join(lab.stateDir, 'lab.json'), 'utf8')) as { handsets: { namespace: string }[] };
    const handsetNs = labState.handsets[0]!.namespace;
    await run(['ip', 'netns', 'del', host]);
    assert.equal((await run(['ip', 'netns', 'add', host])).code, 0);
    // The handset's root makes Ethernet links of its own first (a veth pair, both ends inside it):
    // lower ifindexes than the cable's, so a supervisor that took any eth* would take them and never
    // the cable below. Only a link the host moved in is a cable (ethernet.ts, cablesAmong).
    const forged = await shell('su -c "ip link add eth1 type veth peer name eth2 && ip link set eth1 up && ip link set eth2 up"');
    assert.equal(forged.code, 0, forged.out);
    try {
      const veth = await run(['ip', '-n', host, 'link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', handsetNs]);
      assert.equal(veth.code, 0, veth.out);
      const up = await gateway(['up', '--device-link', link, '--mode', 'ipv6-only', '--pref64', '--id', 'etest']);
      assert.equal(up.code, 0, `gateway up: ${up.out}`);
      const joined = await until('Ethernet the default', (x) => defaultNetwork(x)?.type?.toUpperCase() === 'ETHERNET');
      const ethernet = defaultNetwork(joined)!;
      // As AOSP's EthernetNetworkFactory: the MAC as extra; IPv6 only, PREF64's prefix, a CLAT on eth0.
      assert.match(ethernet.extra ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      assert.equal(ethernet.linkProperties?.interfaceName, 'eth0');
      assert.equal(ethernet.linkProperties?.nat64Prefix, '64:ff9b::/96');
      const addresses = ethernet.linkProperties?.linkAddresses.map((a) => a.address) ?? [];
      assert.ok(addresses.length > 0 && addresses.every((a) => a.includes(':')), JSON.stringify(addresses));
      assert.equal(ethernet.linkProperties?.stacked?.[0]?.interfaceName, 'v4-eth0');
      // The handset-made links were never provisioned: no address, no table, no Ethernet network of theirs.
      assert.equal(joined.networks.filter((n) => n.type?.toUpperCase() === 'ETHERNET').length, 1);
      assert.equal((await shell('ip -4 addr show dev eth1; ip -6 addr show dev eth1 scope global')).out.trim(), '');
      assert.doesNotMatch((await shell('ip rule; ip -6 rule')).out, /oif eth[12]\b/);
      assert.match((await shell('ip -6 route show table all default')).out, /dev eth0 table 10\d\d proto ra/);
      // The lab's own health check sees the Ethernet network and its CLAT as provisioned.
      const labStatus = await v6lab(['lab', 'status', '--json'], { V6LAB_STATE_DIR: lab.stateDir });
      const health = JSON.parse(labStatus.stdout) as { healthy: boolean; handsets: { problems: string[] }[] };
      assert.equal(health.healthy, true, JSON.stringify(health.handsets.map((h) => h.problems)));
      // IPv4 reaches the world through the handset's CLAT and the gateway's NAT64.
      const status = JSON.parse((await gateway(['status', '--json'])).out) as { dnsServers: string[] };
      const v4only = (await run(['ip', 'netns', 'exec', handsetNs, 'dig', '+short', 'A', 'img.news.test', `@${status.dnsServers[0]}`])).out.trim();
      assert.match(v4only, /^\d+\.\d+\.\d+\.\d+$/);
      const profile = join(lab.work, 'gateway-profile.json');
      const record = await labHandsetProfile(lab.stateDir, SERIAL);
      assert.ok(record);
      writeFileSync(
        profile,
        JSON.stringify({
          name: 'on-the-gateway',
          serial: SERIAL,
          appium: { capabilities: record.appiumCapabilities },
          capture: record.capture,
          gatewayCapture: { gateway: gatewayDir },
          networks: { ipv6: { gateway: gatewayDir }, ipv4v6: record.networks.ipv4v6 },
          // The gateway's world has addresses of its own: an IPv4-only host's, from its DNS.
          ipv4OnlyProbeUrl: `http://${v4only}/`,
          backgroundHosts: record.backgroundHosts,
        }),
      );
      const out = join(lab.work, 'gateway-run');
      const certify = await v6lab(['certify', '--profile', profile, '--suite', 'apn', '--out', out], lab.env, 240_000);
      assert.ok([0, 1, 4].includes(certify.code), `certify exit ${certify.code}: ${certify.stderr.slice(-3000)}`);
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
      const observedOn: string[][] = [];
      for (const check of ['apn.ipv6-only-attach', 'apn.clat', 'apn.ipv4-via-clat']) {
        const r = results.results.find((x) => x.check === check && x.network === 'ipv6');
        assert.equal(r?.status, 'passed', `${check}: ${JSON.stringify(r)}`);
        for (const file of r.evidence.filter((e) => e.endsWith('.json'))) {
          const decision = JSON.parse(readFileSync(join(out, file), 'utf8')) as {
            evidence?: { observedOn?: { via: string; defaultNetwork: { type: string } } };
          };
          const on = decision.evidence?.observedOn;
          if (on) observedOn.push([check, on.via, on.defaultNetwork.type.toUpperCase()]);
        }
      }
      // Judged on what was observed with the gateway's network the default: Ethernet, reached via the gateway.
      assert.ok(observedOn.length > 0, 'no decision recorded where it was observed');
      for (const [check, via, type] of observedOn) assert.deepEqual([via, type], ['gateway', 'ETHERNET'], check);
      // The discovery happened when the cable went in, before the run: said, never passed.
      const nat64 = results.results.find((x) => x.check === 'apn.nat64-prefix' && x.network === 'ipv6');
      assert.deepEqual([nat64?.status, nat64?.reasons.map((x) => x.code)], ['skipped', ['EVIDENCE_MISSING']]);
      // Unplugged (the gateway gives its link back): Ethernet goes, Wi-Fi is the default again.
      const down = await gateway(['down']);
      assert.equal(down.code, 0, down.out);
      const after = await until('Wi-Fi the default once unplugged', (x) => defaultNetwork(x)?.type === 'WIFI');
      assert.ok(!after.networks.some((n) => n.type?.toUpperCase() === 'ETHERNET'));
      // Cabled to a dual-stack gateway: DHCPv4 and SLAAC on eth0, no CLAT, Ethernet the default again.
      const dual = await gateway(['up', '--device-link', link, '--mode', 'dual-stack', '--id', 'etest']);
      assert.equal(dual.code, 0, `gateway up: ${dual.out}`);
      const both = defaultNetwork(await until('Ethernet the default (dual-stack)', (x) => defaultNetwork(x)?.type?.toUpperCase() === 'ETHERNET'))!;
      const families = new Set(both.linkProperties?.linkAddresses.map((a) => (a.address.includes(':') ? 6 : 4)));
      assert.deepEqual([...families].sort(), [4, 6], JSON.stringify(both.linkProperties?.linkAddresses));
      assert.equal(both.linkProperties?.stacked.length, 0, 'no CLAT on a network with IPv4');
      assert.equal((await gateway(['down'])).code, 0);
      await until('Wi-Fi the default once unplugged again', (x) => defaultNetwork(x)?.type === 'WIFI');
    } finally {
      await gateway(['down']);
      await run(['ip', 'netns', 'del', host]);
      await shell('su -c "ip link del eth1"');
    }
  });
});
