// Issue 15: `dumpsys connectivity` as real phones print it (Android 9 to 17). Every expected value
// is read by hand from the verbatim samples in test/fixtures/android-real/dumpsys-connectivity/
// (their README names phone, version and source). Where a sample is only part of a dump (one NAI
// line, a logcat line, a Nat464Xlat fragment), the test puts it under the `Current Networks:`
// header the real dump prints it under, and says so; hand-made lines are marked as such.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  clatOf,
  DeviceOutputError,
  DumpsysRefusedError,
  defaultNetwork,
  detailsOfNetwork,
  mobileInternetNetwork,
  parseDumpsysConnectivity,
  parseNat464XlatBlock,
  parseNetworkAgentInfo,
} from '../../lib/device/parse/index.js';

const real = (name: string): string => readFileSync(resolve(import.meta.dirname, '../fixtures/android-real/dumpsys-connectivity', name), 'utf8');
/** The Deutsche Telekom phone's LinkProperties (a real phone's, the one real line the issue says the old tests had). */
const dtagLinkProperties = readFileSync(resolve(import.meta.dirname, '../fixtures/android/linkproperties-dtag.txt'), 'utf8').trim();

describe('dumpsys connectivity of real phones (issue 15)', () => {
  describe('Pixel Fold, Android 17: an IMS network listed before the internet one', () => {
    // the sample is the two NAI lines of `Current Networks:` (two spaces in, as the dump prints them)
    const sample = real('pixelfold-two-mobile-nai-lines.txt');
    const dump = parseDumpsysConnectivity(`Current Networks:\n${sample}`);

    it('returns both MOBILE networks with type, subtype, state, APN and capabilities', () => {
      assert.deepEqual(
        dump.networks.map((n) => [n.netId, n.type, n.subtype, n.state, n.extra, n.transports]),
        [
          [106, 'MOBILE', 'LTE', 'CONNECTED', 'ims', ['CELLULAR']],
          [109, 'MOBILE', 'NR', 'CONNECTED', '3gnet', ['CELLULAR']],
        ],
      );
      assert.deepEqual(dump.networks[0]!.capabilities, ['IMS', 'NOT_METERED', 'TRUSTED', 'NOT_VPN', 'VALIDATED', 'FOREGROUND', 'MMTEL']);
      assert.deepEqual(dump.networks[1]!.capabilities, ['SUPL', 'INTERNET', 'NOT_RESTRICTED', 'TRUSTED', 'NOT_VPN', 'VALIDATED', 'NOT_ROAMING', 'FOREGROUND']);
      const [ims, internet] = dump.networks.map((n) => n.linkProperties!);
      assert.deepEqual([ims!.interfaceName, ims!.linkAddresses, ims!.dnsAddresses], ['rmnet16', [{ address: '10.100.148.241', prefixLength: 32 }], []]);
      assert.deepEqual(
        [internet!.interfaceName, internet!.linkAddresses, internet!.dnsAddresses, internet!.mtu],
        ['rmnet1', [{ address: '10.31.209.250', prefixLength: 32 }], ['202.99.96.68', '202.99.104.68'], 1500],
      );
    });

    it('reads ROAMING and the Score policies into the details', () => {
      assert.deepEqual(
        dump.details.map((d) => [d.netId, d.roaming, d.scorePolicies, d.clatd, d.nat464xlat]),
        [
          [106, true, ['EVER_EVALUATED', 'IS_UNMETERED', 'EVER_VALIDATED', 'IS_VALIDATED'], null, null],
          [109, false, ['TRANSPORT_PRIMARY', 'EVER_EVALUATED', 'EVER_VALIDATED', 'IS_VALIDATED'], null, null],
        ],
      );
    });

    it('picks the internet network by its INTERNET capability, not the first MOBILE entry, and says why', () => {
      assert.equal(dump.networks.find((n) => n.type === 'MOBILE')!.extra, 'ims', 'the trap: the first MOBILE entry is the IMS one');
      const choice = mobileInternetNetwork(dump);
      assert.equal(choice.network?.netId, 109);
      assert.equal(choice.basis, 'internet-capability');
      assert.match(choice.reason, /^netId 109 \(MOBILE, APN 3gnet\) is the MOBILE network with the INTERNET capability/);
      assert.match(choice.reason, /passed over: netId 106 \(MOBILE, APN ims\): no INTERNET capability \(IMS&/);
      // the order of the lines does not matter
      const [first, second] = sample.split(/(?<=\n)/);
      assert.equal(mobileInternetNetwork(parseDumpsysConnectivity(`Current Networks:\n${second}${first}`)).network?.netId, 109);
    });

    it('with mobile data off (the IMS network alone) there is no internet network, and the reason says so', () => {
      const imsOnly = parseDumpsysConnectivity(`Current Networks:\n${sample.split(/(?<=\n)/)[0]}`);
      const choice = mobileInternetNetwork(imsOnly);
      assert.deepEqual([choice.network, choice.basis], [null, 'none']);
      assert.match(choice.reason, /no MOBILE network has the INTERNET capability .*netId 106 \(MOBILE, APN ims\): no INTERNET capability/);
    });

    it('when nc{} cannot be read, the APN name decides, and ims is never taken', () => {
      // hand-made: the sample with its nc{...} removed, as a cut or unknown capability list would leave it
      const noCapabilities = parseDumpsysConnectivity(`Current Networks:\n${sample.replace(/ {2}nc\{\[[^\n]*?\]\}/g, '')}`);
      assert.deepEqual(
        noCapabilities.networks.map((n) => n.capabilities),
        [[], []],
      );
      const choice = mobileInternetNetwork(noCapabilities);
      assert.deepEqual([choice.network?.netId, choice.basis], [109, 'apn-name']);
      const imsOnly = parseDumpsysConnectivity(`Current Networks:\n${sample.split(/(?<=\n)/)[0]!.replace(/ {2}nc\{\[[^\n]*?\]\}/, '')}`);
      assert.equal(mobileInternetNetwork(imsOnly).network, null);
    });

    it('names the default network when the dump names it', () => {
      // Android prints `Active default network: N` above `Current Networks:`; the sample has only the NAI lines
      const withDefault = parseDumpsysConnectivity(`Active default network: 109\n\nCurrent Networks:\n${sample}`);
      assert.equal(defaultNetwork(withDefault)?.extra, '3gnet');
      assert.equal(defaultNetwork(parseDumpsysConnectivity(`Active default network: none\n\nCurrent Networks:\n${sample}`)), null);
      assert.equal(defaultNetwork(dump), null);
    });

    it('no CLAT on either network (IPv4 addresses, no stacked link): clatOf says none', () => {
      for (const network of dump.networks) assert.equal(clatOf(dump, network), null);
    });
  });

  describe('Android 14/15 emulator: a Wi-Fi NAI with an empty extra (logcat line)', () => {
    const nai = real('emulator-x86_64-wifi-nai-from-logcat.txt');

    it('keeps type WIFI and state CONNECTED though `extra: ` is empty', () => {
      const read = parseNetworkAgentInfo(nai)!;
      assert.deepEqual(
        [read.network.netId, read.network.type, read.network.subtype, read.network.state, read.network.extra, read.network.transports],
        [100, 'WIFI', null, 'CONNECTED', null, ['WIFI']],
      );
      assert.ok(read.network.capabilities.includes('INTERNET'));
      assert.equal(read.network.linkProperties?.interfaceName, 'wlan0');
      assert.deepEqual(read.network.linkProperties?.dnsAddresses, ['10.0.2.3']);
      assert.deepEqual(
        read.network.linkProperties?.linkAddresses.map((a) => `${a.address}/${a.prefixLength}`),
        ['fe80::7278:a0ad:a2e2:5871/64', '10.0.2.16/24', 'fec0::62ab:4e4:5f8d:f17c/64', 'fec0::9493:c8a8:9e9b:a773/64'],
      );
      assert.deepEqual([read.details?.roaming, read.details?.scorePolicies], [false, ['TRANSPORT_PRIMARY', 'IS_UNMETERED']]);
    });

    it('in a dump: the default network is the Wi-Fi one, and there is no mobile internet network', () => {
      // the logcat line's NAI put where the dump prints it, with the line naming it the default
      const dump = parseDumpsysConnectivity(`Active default network: 100\n\nCurrent Networks:\n  ${nai}`);
      assert.equal(defaultNetwork(dump)?.type, 'WIFI');
      const choice = mobileInternetNetwork(dump);
      assert.deepEqual([choice.network, choice.basis], [null, 'none']);
      assert.match(choice.reason, /no MOBILE network .*netId 100 \(WIFI\)/);
    });
  });

  describe('Pixel, Android 16, run from an app: the DUMP permission denial', () => {
    it('is a refusal naming the permission and the uid, not a dump without networks', () => {
      const text = real('sectrollz-pixel-permission-denial.txt');
      assert.throws(
        () => parseDumpsysConnectivity(text),
        (e: unknown) =>
          e instanceof DumpsysRefusedError &&
          e instanceof DeviceOutputError &&
          e.uid === 10318 &&
          e.line === 1 &&
          /android\.permission\.DUMP/.test(e.message) &&
          /Permission Denial: can't dump ConnectivityService/.test(e.refusal),
      );
      // any other output without the header stays the plain structural error
      assert.throws(
        () => parseDumpsysConnectivity('Can not dump\n'),
        (e: unknown) => e instanceof DeviceOutputError && !(e instanceof DumpsysRefusedError),
      );
    });
  });

  describe('CLAT identification on every version', () => {
    it('Android 13: the Nat464Xlat block of AOSP change 2017317 gives the forwarding rules', () => {
      const block = parseNat464XlatBlock(real('aosp-commit-8be50a6d-nat464xlat-block-a13.txt'));
      assert.deepEqual(block, {
        started: true,
        tracker: null,
        unreadable: [],
        rules: [
          {
            direction: 'ingress',
            inIndex: 47,
            nat64Prefix: '64:ff9b::/96',
            v6Address: '2a00:79e1:abc:6f02:4aac:17dd:b40e:8bcc',
            v4Address: '192.0.0.4',
            outIndex: 52,
          },
          {
            direction: 'egress',
            inIndex: 52,
            v4Address: '192.0.0.4',
            v6Address: '2a00:79e1:abc:6f02:4aac:17dd:b40e:8bcc',
            nat64Prefix: '64:ff9b::/96',
            outIndex: 47,
          },
        ],
      });
      assert.throws(() => parseNat464XlatBlock('Requests: REQUEST:1 LISTEN:0 BACKGROUND_REQUEST:0 total:1\n'), DeviceOutputError);
    });

    it('Android 15: the same rules with the packet and byte counters AOSP appends read the same; <not started> is not started', () => {
      // hand-made: the sample's rule lines in Android 15's format ("... %d (%d %d)")
      const sample = real('aosp-commit-8be50a6d-nat464xlat-block-a13.txt');
      const counted = sample.replace(/ 52\n/, ' 52 (120 9600)\n').replace(/ ether\n/, ' ether (7 560)\n');
      assert.notEqual(counted, sample);
      assert.deepEqual(parseNat464XlatBlock(counted), parseNat464XlatBlock(sample));
      assert.deepEqual(parseNat464XlatBlock('Nat464Xlat:\n  <not started>\n'), { started: false, tracker: null, rules: [], unreadable: [] });
    });

    /** The sample's block indented under a network, as Android 13 prints it (4 spaces: NAI at 2, its block at 4). */
    const underNetwork = real('aosp-commit-8be50a6d-nat464xlat-block-a13.txt').replace(/^/gm, '    ');
    // hand-made NAI line in Android 13's shape around the real GoogleGuest values: an address in
    // the sample's /64 (2a00:79e1:abc:6f02::/64), its NAT64 prefix, the stacked v4- link
    const googleGuest = (address: string) =>
      `  NetworkAgentInfo{network{101}  handle{1}  ni{WIFI CONNECTED extra: } Score(Policies : IS_VALIDATED ; KeepConnected : 0)  clat{mBaseIface: wlan0, mIface: v4-wlan0, mState: RUNNING}  lp{{InterfaceName: wlan0 LinkAddresses: [ fe80::1/64,${address}/64 ] DnsAddresses: [ ] Domains: null MTU: 0 Routes: [ ::/0 -> fe80::2 wlan0 mtu 0 ] Nat64Prefix: 64:ff9b::/96 Stacked: [[ {InterfaceName: v4-wlan0 LinkAddresses: [ 192.0.0.4/32 ] DnsAddresses: [ ] Domains: null MTU: 0 Routes: [ 0.0.0.0/0 -> 192.0.0.4 v4-wlan0 mtu 0 ]} ]]}}  nc{[ Transports: WIFI Capabilities: INTERNET&NOT_RESTRICTED&TRUSTED&NOT_VPN&VALIDATED]}}\n`;

    it("Android 13: the IPv6 address comes from a rule in the network's own /64, and says so", () => {
      const dump = parseDumpsysConnectivity(`Current Networks:\n${googleGuest('2a00:79e1:abc:6f02:1111:2222:3333:4444')}${underNetwork}`);
      const network = dump.networks[0]!;
      assert.equal(network.clat, null, 'Android 13 prints no CLAT tracker line');
      assert.equal(detailsOfNetwork(dump, network)?.nat464xlat?.rules.length, 2);
      assert.deepEqual(clatOf(dump, network), {
        netId: 101,
        v4Interface: { value: 'v4-wlan0', from: 'stacked-link' },
        v4Address: { value: '192.0.0.4', from: 'stacked-link' },
        v6Address: { value: '2a00:79e1:abc:6f02:4aac:17dd:b40e:8bcc', from: 'bpf-forwarding-rules' },
        v6AddressUnknown: null,
        nat64Prefix: { value: '64:ff9b::/96', from: 'link-properties' },
        state: 'RUNNING',
      });
    });

    it("Android 13: a rule outside the network's /64 is another network's (the map is the device's), so the address stays unknown", () => {
      const dump = parseDumpsysConnectivity(`Current Networks:\n${googleGuest('2001:db8:1:2::5')}${underNetwork}`);
      const clat = clatOf(dump, dump.networks[0]!)!;
      assert.equal(clat.v6Address, null);
      assert.match(clat.v6AddressUnknown!, /no IPv6 address in its own \/64 \(2a00:79e1:abc:6f02:4aac:17dd:b40e:8bcc\)/);
      assert.deepEqual(clat.v4Interface, { value: 'v4-wlan0', from: 'stacked-link' });
    });

    it('Android 9 to 12: the Deutsche Telekom LinkProperties identify the CLAT by its stacked v4- link and NAT64 prefix; the IPv6 address is unknown, not invented', () => {
      // the real LinkProperties in an Android 11/12-shaped NAI line (no CLAT tracker, no Nat464Xlat block)
      const dump = parseDumpsysConnectivity(
        `Active default network: 101\n\nCurrent Networks:\n  NetworkAgentInfo{network{101}  handle{1}  ni{MOBILE[LTE] CONNECTED extra: internet.telekom}   Score{50}  lp{${dtagLinkProperties}}  nc{[ Transports: CELLULAR Capabilities: INTERNET&NOT_RESTRICTED&TRUSTED&NOT_VPN&VALIDATED]}}\n    Requests: REQUEST:1 LISTEN:0 BACKGROUND_REQUEST:0 total:1\n`,
      );
      const choice = mobileInternetNetwork(dump);
      assert.deepEqual([choice.network?.extra, choice.basis], ['internet.telekom', 'internet-capability']);
      const clat = clatOf(dump, choice.network!)!;
      assert.deepEqual(
        [clat.v4Interface, clat.v4Address, clat.nat64Prefix, clat.v6Address, clat.state],
        [
          { value: 'v4-rmnet16', from: 'stacked-link' },
          { value: '192.0.0.4', from: 'stacked-link' },
          { value: '64:ff9b::/96', from: 'link-properties' },
          null,
          null,
        ],
      );
      assert.match(clat.v6AddressUnknown!, /prints no CLAT IPv6 address on this version \(Android 9 to 12 print none/);
    });

    it('Android 14+: the CLAT tracker line (AOSP ClatCoordinator sample) gives the IPv6 address first', () => {
      const dump = parseDumpsysConnectivity(
        `Current Networks:\n  NetworkAgentInfo{network{100}  handle{1}  ni{MOBILE[LTE] CONNECTED extra: internet.telekom}  lp{${dtagLinkProperties}}  nc{[ Transports: CELLULAR Capabilities: INTERNET]}}\n    Nat464Xlat:\n      ClatCoordinator:\n        CLAT tracker: iface: rmnet_data0 (12), v4iface: v4-rmnet_data0 (13), v4: /192.0.0.4, v6: /2001:db8:0:b11::464, pfx96: /64:ff9b::, pid: 1234, cookie: 1\n`,
      );
      const network = dump.networks[0]!;
      assert.equal(network.clat?.v6, '2001:db8:0:b11::464');
      assert.equal(detailsOfNetwork(dump, network)?.nat464xlat?.started, true);
      const clat = clatOf(dump, network)!;
      assert.deepEqual(
        [clat.v6Address, clat.v6AddressUnknown, clat.v4Interface],
        [{ value: '2001:db8:0:b11::464', from: 'clat-tracker' }, null, { value: 'v4-rmnet_data0', from: 'clat-tracker' }],
      );
    });

    it('Android 9 and 10 (AOSP NetworkAgentInfo/NetworkInfo toString): the long ni{} form with roaming, and clat{} IDLE is no CLAT', () => {
      // hand-made in the shape AOSP's Android 9/10 toString prints (no public real sample of it)
      const line = (clat: string, roaming: string) =>
        `  NetworkAgentInfo{ ni{[type: MOBILE[LTE], state: CONNECTED/CONNECTED, reason: connected, extra: internet.telekom, failover: false, available: true, roaming: ${roaming}]}  network{102}  nethandle{1}  lp{{InterfaceName: rmnet16 LinkAddresses: [ 2a01:599:a1b:a486:9aa1:495d:81d9:5386/64 ] DnsAddresses: [ ] Domains: null MTU: 1500 Routes: [ ]}}  nc{[ Transports: CELLULAR Capabilities: INTERNET&NOT_RESTRICTED Unwanted:  LinkUpBandwidth>=51200Kbps]}  Score{50}  everValidated{true}  lastValidated{true}  created{true} lingering{false} clat{${clat}} }\n`;
      const idle = parseDumpsysConnectivity(`Current Networks:\n${line('mBaseIface: null, mIface: null, mState: IDLE', 'true')}`);
      assert.deepEqual(
        [idle.networks[0]!.type, idle.networks[0]!.state, idle.networks[0]!.extra, idle.networks[0]!.capabilities],
        ['MOBILE', 'CONNECTED', 'internet.telekom', ['INTERNET', 'NOT_RESTRICTED']],
      );
      assert.deepEqual([idle.details[0]!.roaming, idle.details[0]!.clatd], [true, { baseInterface: null, interfaceName: null, state: 'IDLE' }]);
      assert.equal(clatOf(idle, idle.networks[0]!), null);
      const running = parseDumpsysConnectivity(`Current Networks:\n${line('mBaseIface: rmnet16, mIface: v4-rmnet16, mState: RUNNING', 'false')}`);
      const clat = clatOf(running, running.networks[0]!)!;
      assert.deepEqual([clat.v4Interface, clat.state, clat.v6Address], [{ value: 'v4-rmnet16', from: 'clatd-state' }, 'RUNNING', null]);
    });
  });
});
