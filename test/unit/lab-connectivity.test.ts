/**
 * The virtual handset's `dumpsys connectivity` per Android version (lib/lab/android/connectivity.ts),
 * read back by the harness's own parser: the shapes a real phone of each version prints (Android 9
 * and 10's long NetworkInfo form, 11+'s short one, 13's Nat464Xlat block, 14+'s CLAT tracker),
 * a VoLTE phone's IMS network listed first, and Wi-Fi as the default network.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'mocha';
import { type LinkFacts, type NetworkFacts, renderNat464XlatBlock, renderNetworkAgentInfo } from '../../lib/lab/android/connectivity.js';
import { clatOf, defaultNetwork, detailsOfNetwork, mobileInternetNetwork, parseDumpsysConnectivity } from '../../lib/device/parse/connectivity.js';
import { judgedNetwork } from '../../lib/checks/os.js';

const V6 = '2001:db8:5:100:1c2d:3e4f:5a6b:7c8d';
const CLAT_V6 = '2001:db8:5:100:aaaa:bbbb:cccc:dddd';
const PREFIX = '64:ff9b::/96';

const mobileLink = (): LinkFacts => ({
  interfaceName: 'rmnet_data0',
  addresses: [`${V6}/64`],
  dns: ['2001:db8:5:100::1'],
  mtu: 1500,
  routes: ['2001:db8:5:100::/64 -> :: rmnet_data0 mtu 0', '::/0 -> fe80::1 rmnet_data0 mtu 0'],
  nat64Prefix: PREFIX,
  stacked: {
    interfaceName: 'v4-rmnet_data0',
    addresses: ['192.0.0.4/32'],
    dns: [],
    mtu: 0,
    routes: ['0.0.0.0/0 -> 192.0.0.4 v4-rmnet_data0 mtu 0'],
    nat64Prefix: null,
    stacked: null,
  },
});

const ims: NetworkFacts = {
  netId: 100,
  type: 'MOBILE',
  extra: 'ims',
  ims: true,
  clat: null,
  link: {
    interfaceName: 'rmnet_data1',
    addresses: ['2001:db8:5:11a::2/64'],
    dns: [],
    pcscf: ['2001:db8:5:11a::5060'],
    mtu: 1500,
    routes: [],
    nat64Prefix: null,
    stacked: null,
  },
};
const internet: NetworkFacts = {
  netId: 101,
  type: 'MOBILE',
  extra: 'ipv6.v6lab.test',
  ims: false,
  clat: { baseInterface: 'rmnet_data0', interface: 'v4-rmnet_data0' },
  link: mobileLink(),
};
const wifi: NetworkFacts = {
  netId: 102,
  type: 'WIFI',
  extra: 'v6lab-home',
  ims: false,
  clat: null,
  link: {
    interfaceName: 'wlan0',
    addresses: ['2001:db8:5:101::9/64', '192.168.1.2/24'],
    dns: ['100.64.0.53'],
    mtu: 1500,
    routes: ['0.0.0.0/0 -> 192.168.1.1 wlan0 mtu 0'],
    nat64Prefix: null,
    stacked: null,
  },
};

function dump(sdk: number, defaultNetId: number): string {
  const clat = { baseInterface: 'rmnet_data0', baseIndex: 12, interface: 'v4-rmnet_data0', index: 13, v6Address: CLAT_V6, nat64Prefix: PREFIX, pid: 4321 };
  const lines = [`Active default network: ${defaultNetId}`, '', 'Current Networks:'];
  const at = new Date('2026-12-02T10:00:00Z');
  for (const [n, block] of [
    [ims, renderNat464XlatBlock(sdk, null)],
    [internet, renderNat464XlatBlock(sdk, clat)],
    [wifi, []],
  ] as const) {
    lines.push(`  ${renderNetworkAgentInfo(n, sdk, at)}`);
    for (const line of block) lines.push(`    ${line}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('virtual handset: dumpsys connectivity per Android version, read by the harness parser', () => {
  for (const sdk of [28, 29, 30, 31, 32, 33, 34, 35, 36]) {
    it(`SDK ${sdk}: IMS passed over for the internet network, Wi-Fi the default, the CLAT found`, () => {
      const parsed = parseDumpsysConnectivity(dump(sdk, 102));
      assert.deepEqual(
        parsed.networks.map((n) => [n.netId, n.type, n.extra]),
        [
          [100, 'MOBILE', 'ims'],
          [101, 'MOBILE', 'ipv6.v6lab.test'],
          // Wi-Fi's extra: the quoted SSID on 9 and 10, empty from 11 (the emulator sample's `extra: `)
          [102, 'WIFI', sdk <= 29 ? '"v6lab-home"' : null],
        ],
      );
      const choice = mobileInternetNetwork(parsed);
      assert.equal(choice.network?.netId, 101, choice.reason);
      assert.equal(choice.basis, 'internet-capability');
      assert.equal(defaultNetwork(parsed)?.type, 'WIFI');
      assert.ok(!parsed.networks[0]!.capabilities.includes('INTERNET'));
      assert.ok(parsed.networks[0]!.capabilities.includes('IMS'));
      const clat = clatOf(parsed, choice.network!);
      assert.ok(clat !== null, 'no CLAT read');
      // From the tracker (14+), the forwarding rules (13) or clat{}/the stacked link (9-12).
      // Its own IPv6 address from the forwarding rules (13) or the tracker (14+); never guessed before.
      assert.equal(clat.v6Address?.value ?? null, sdk >= 33 ? CLAT_V6 : null);
      assert.equal(clat.v4Interface?.value, 'v4-rmnet_data0');
      assert.equal(clat.nat64Prefix?.value, PREFIX);
      const details = detailsOfNetwork(parsed, choice.network!);
      if (sdk >= 33) assert.equal(details?.nat464xlat?.started, true);
      else assert.equal(details?.nat464xlat ?? null, null);
      if (sdk >= 34) assert.equal(choice.network!.clat?.v6, CLAT_V6);
      else assert.equal(choice.network!.clat, null);
      // the IMS network's LinkProperties keep its P-CSCF apart from its resolvers
      assert.deepEqual(parsed.networks[0]!.linkProperties?.dnsAddresses ?? ['unread'], []);
    });
  }

  it("Android 14+ NAI lines have the real Pixel Fold sample's fields in its order", () => {
    const real = readFileSync('test/fixtures/android-real/dumpsys-connectivity/pixelfold-two-mobile-nai-lines.txt', 'utf8').split('\n')[1]!;
    const ours = renderNetworkAgentInfo(internet, 35, new Date('2026-12-02T10:00:00Z'));
    const keys = (line: string) =>
      [...line.matchAll(/(?:^|\s)(network\{|handle\{|ni\{|created=|Score\(Policies|lp\{|nc\{|factorySerialNumber=)/g)].map((m) => m[1]);
    assert.deepEqual(keys(ours), keys(real.trim()));
  });

  it('Android 13 and 14+ say a network without a CLAT has none started, each in its own words', () => {
    assert.deepEqual(renderNat464XlatBlock(33, null), ['Nat464Xlat:', '  <not start>']);
    assert.deepEqual(renderNat464XlatBlock(34, null), ['Nat464Xlat:', '  <not started>']);
    assert.deepEqual(renderNat464XlatBlock(32, null), []);
  });

  // Ethernet as AOSP's EthernetNetworkFactory makes its agent (legacy type name "Ethernet", the MAC
  // as extra, EthernetNetworkSpecifier from Android 12), with the CLAT a v6lab gateway's IPv6-only
  // link gets: the harness judges the Ethernet network, its CLAT and its NAT64 prefix.
  const ethernet: NetworkFacts = {
    netId: 103,
    type: 'ETHERNET',
    extra: '02:5a:11:22:33:44',
    ims: false,
    clat: { baseInterface: 'eth0', interface: 'v4-eth0' },
    link: {
      interfaceName: 'eth0',
      addresses: ['2001:db8:77:0:1c2d:3e4f:5a6b:7c8d/64'],
      dns: ['2001:db8:77::1'],
      mtu: 1500,
      routes: ['2001:db8:77::/64 -> :: eth0 mtu 0', '::/0 -> fe80::1 eth0 mtu 0'],
      nat64Prefix: PREFIX,
      stacked: {
        interfaceName: 'v4-eth0',
        addresses: ['192.0.0.5/32'],
        dns: [],
        mtu: 0,
        routes: ['0.0.0.0/0 -> 192.0.0.4 v4-eth0 mtu 0'],
        nat64Prefix: null,
        stacked: null,
      },
    },
  };
  for (const sdk of [28, 30, 31, 33, 34, 36]) {
    it(`SDK ${sdk}: an Ethernet network is read as Ethernet, the default, with its CLAT and NAT64 prefix`, () => {
      const clat = {
        baseInterface: 'eth0',
        baseIndex: 7,
        interface: 'v4-eth0',
        index: 9,
        v6Address: '2001:db8:77::c1',
        nat64Prefix: PREFIX,
        pid: 99,
        v4Address: '192.0.0.5',
        ethernet: true,
      };
      const block = renderNat464XlatBlock(sdk, clat);
      const text = [
        'Active default network: 103',
        '',
        'Current Networks:',
        `  ${renderNetworkAgentInfo(ethernet, sdk, new Date('2026-12-02T10:00:00Z'))}`,
        ...block.map((l) => `    ${l}`),
        '',
      ].join('\n');
      const parsed = parseDumpsysConnectivity(text);
      assert.equal(parsed.networks[0]?.type?.toUpperCase(), 'ETHERNET');
      assert.equal(defaultNetwork(parsed)?.netId, 103);
      const judged = judgedNetwork({ connectivity: parsed, judgedNetwork: 'ethernet' });
      assert.equal(judged.network?.netId, 103, judged.reason);
      assert.equal(judged.network?.linkProperties?.interfaceName, 'eth0');
      assert.equal(judged.network?.linkProperties?.nat64Prefix, PREFIX);
      assert.equal(clatOf(parsed, judged.network!)?.v4Interface?.value, 'v4-eth0');
      if (sdk >= 31) assert.match(text, /Specifier: <EthernetNetworkSpecifier \(eth0\)>/);
      if (sdk >= 33)
        assert.ok(
          block.some((l) => / -> \/2001:db8:77::c1 \/64:ff9b::\/96 7 ether$/.test(l)),
          block.join('\n'),
        );
    });
  }
});
