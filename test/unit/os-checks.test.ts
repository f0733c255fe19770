import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  checkApnProtocol,
  checkClat,
  checkDualStackAttach,
  checkIpv4ViaClat,
  checkIpv6Enabled,
  checkIpv6OnlyAttach,
  checkNat64Prefix,
  checkPrivacyAddresses,
  checkResolverPrefersIpv6,
  type Observation,
} from '../../lib/checks/os.js';
import { parseSocketPoll } from '../../lib/harness/window.js';
import { parseContentRows, parseDumpsysConnectivity, parseIpAddr, parseIpRoute, parseProcNetSockets } from '../../lib/device/parse/index.js';

const fixture = (name: string) => readFileSync(join(resolve(import.meta.dirname, '../fixtures/android'), name), 'utf8');

/** A compliant virtual handset on the IPv6-only APN, as its verbatim output reads. */
function virtualHandset(): Observation {
  return {
    apnTable: parseContentRows(fixture('virtual-content-query-carriers.txt')),
    addresses: parseIpAddr(fixture('virtual-ip-o-addr-show.txt')),
    routes: [...parseIpRoute(fixture('virtual-ip-6-route.txt'), 6), ...parseIpRoute(fixture('virtual-ip-4-route.txt'), 4)],
    sysctls: { 'rmnet_data0/disable_ipv6': '0', 'rmnet_data0/accept_ra': '2', 'wlan0/disable_ipv6': '0', 'wlan0/accept_ra': '1' },
    connectivity: parseDumpsysConnectivity(fixture('virtual-dumpsys-connectivity.txt')),
  };
}

describe('os and apn checks on verbatim device output', () => {
  it('pass a compliant handset on an IPv6-only attach', () => {
    const o = virtualHandset();
    for (const outcome of [
      checkApnProtocol(o),
      checkApnProtocol(o, 'roaming_protocol'),
      checkIpv6Enabled(o, ['rmnet_data0', 'wlan0']),
      checkPrivacyAddresses(o),
      checkIpv6OnlyAttach(o),
      checkClat(o),
      checkNat64Prefix(o, []),
    ]) {
      assert.equal(outcome.status, 'passed', JSON.stringify(outcome.reasons));
    }
  });

  it("judge the internet network's interface, never a VoLTE phone's IMS link: its IPv6 and default route pass no attach", () => {
    const o = virtualHandset();
    // The internet attach failed (no rmnet_data0 address, no internet network in dumpsys); the IMS
    // PDN is up on rmnet_data1 with global IPv6 and a default route in its own table.
    const ims =
      '  NetworkAgentInfo{network{100}  handle{429496732928}  ni{MOBILE[LTE] CONNECTED extra: ims}  lp{{InterfaceName: rmnet_data1 LinkAddresses: [ 2001:db8:5:11a::2/64 ] DnsAddresses: [ ] PcscfAddresses: [ /2001:db8:5:11a::5060 ] Domains: null MTU: 1500 Routes: [ ::/0 -> :: rmnet_data1 mtu 0 ]}}  nc{[ Transports: CELLULAR Capabilities: IMS&NOT_METERED&TRUSTED&NOT_VPN&VALIDATED&FOREGROUND&MMTEL]}}';
    const imsOnly: Observation = {
      ...o,
      addresses: parseIpAddr('5: rmnet_data1    inet6 2001:db8:5:11a::2/64 scope global \\       valid_lft forever preferred_lft forever\n'),
      routes: parseIpRoute('default dev rmnet_data1 table 1005 proto static metric 1024 pref medium\n', 6),
      connectivity: parseDumpsysConnectivity(`Active default network: none\n\nCurrent Networks:\n${ims}\n`),
    };
    const attach = checkIpv6OnlyAttach(imsOnly);
    assert.equal(attach.status, 'failed', JSON.stringify(attach));
    assert.match(JSON.stringify(attach.evidence), /ims/);
    // Nothing of the IMS link is taken for the internet network's.
    assert.deepEqual((attach.evidence as { ipv6: string[] }).ipv6, []);
    assert.equal((attach.evidence as { defaultRoute: unknown }).defaultRoute, null);
    // With the internet network beside it, the internet one is judged (and passes).
    const both: Observation = {
      ...o,
      connectivity: parseDumpsysConnectivity(fixture('virtual-dumpsys-connectivity.txt').replace('Current Networks:\n', `Current Networks:\n${ims}\n`)),
    };
    assert.equal(checkIpv6OnlyAttach(both).status, 'passed', JSON.stringify(checkIpv6OnlyAttach(both).reasons));
  });

  it('an APN entry without protocol is IP (IPv4 only), and says so', () => {
    const o = {
      ...virtualHandset(),
      apnTable: parseContentRows('Row: 0 _id=1, name=Legacy, apn=internet, type=default,supl, protocol=NULL, roaming_protocol=IP, current=1\n'),
    };
    const outcome = checkApnProtocol(o);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.reasons[0]!.detail, /protocol unset \(Android then uses IP, IPv4 only\); it must be IPV4V6/);
    assert.deepEqual(
      checkApnProtocol(o, 'roaming_protocol').reasons.map((r) => r.code),
      ['APN_ROAMING_PROTOCOL_IPV4'],
    );
  });

  it('infers the APN protocol from the attach when the table is closed to the shell user, and says it inferred', () => {
    const closed = { ...virtualHandset(), apnTable: parseContentRows(fixture('virtual-content-query-preferapn-denied.txt')) };
    const outcome = checkApnProtocol(closed);
    assert.equal(outcome.evidence.inferred, true);
    // This handset is on an IPv6-only APN: it got IPv6 only, which says nothing good of dual stack.
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.reasons[0]!.detail, /unreadable.*IPv6 only.*inferred/);
  });

  it('fails disabled IPv6, missing privacy addresses, a missing CLAT and a prefix that disagrees', () => {
    const o = virtualHandset();
    assert.match(checkIpv6Enabled({ ...o, sysctls: { 'wlan0/disable_ipv6': '1' } }, ['wlan0']).reasons[0]!.detail, /disabled on wlan0/);
    const eui64Only = parseIpAddr(
      '2: rmnet_data0    inet6 2001:db8:1:0:862:a8ff:fe13:2686/64 scope global dynamic mngtmpaddr \\       valid_lft 86397sec preferred_lft 14397sec\n',
    );
    assert.deepEqual(
      checkPrivacyAddresses({ ...o, addresses: eui64Only }).reasons.map((r) => r.code),
      ['NO_PRIVACY_ADDRESS'],
    );
    assert.deepEqual(
      checkClat({ ...o, addresses: eui64Only }).reasons.map((r) => r.code),
      ['NO_CLAT'],
    );
    assert.deepEqual(
      checkNat64Prefix(o, ['2001:db8:6464::/96']).reasons.map((r) => r.code),
      ['NAT64_PREFIX_MISMATCH'],
    );
  });

  it("apn.nat64-prefix wants the prefix the network gave: PREF64 (RFC 8781) where the attach's router advertisements carried one, else RFC 7050", () => {
    const o = virtualHandset();
    const held = checkNat64Prefix(o, []).evidence as { linkProperties: string };
    assert.equal(held.linkProperties, '64:ff9b::/96');
    // DNS64 synthesizes with another prefix than the network's PREF64: Android takes PREF64's.
    const both = checkNat64Prefix(o, ['2001:db8:6464::/96'], ['64:ff9b::/96']);
    assert.equal(both.status, 'passed');
    assert.deepEqual((both.evidence as { advertisedInCapture: string[] }).advertisedInCapture, ['64:ff9b::/96']);
    assert.equal(checkNat64Prefix(o, [], ['64:ff9b::/96']).status, 'passed');
    // Holding RFC 7050's where PREF64 gave another: RFC 8781 5.1 prefers PREF64.
    const ignored = checkNat64Prefix(o, ['64:ff9b::/96'], ['2001:db8:46::/96']);
    assert.deepEqual(
      ignored.reasons.map((r) => r.code),
      ['NAT64_PREFIX_MISMATCH'],
    );
    assert.match(
      ignored.reasons[0]!.detail,
      /LinkProperties says 64:ff9b::\/96 but the router advertisements' PREF64 gave 2001:db8:46::\/96, which RFC 8781 prefers to RFC 7050 discovery \(64:ff9b::\/96\)/,
    );
    // Neither source gave it: a mismatch all the same.
    assert.equal(checkNat64Prefix(o, [], ['2001:db8:46::/96']).status, 'failed');
  });
});

describe('dual-stack, resolver and CLAT reachability checks', () => {
  it('os.dual-stack-attach fails an IPv6-only attach, naming what is missing', () => {
    const outcome = checkDualStackAttach(virtualHandset());
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.reasons[0]!.detail, /no IPv4 address on the mobile interface; no IPv4 default route/);
    assert.doesNotMatch(outcome.reasons[0]!.detail, /no global IPv6|no IPv6 DNS/);
  });

  it('os.resolver-prefers-ipv6 passes IPv6 first, fails IPv4 first and no traffic', () => {
    assert.equal(checkResolverPrefersIpv6({ hostname: 'dual.test', firstAttemptFamily: 6, established: { 4: 0, 6: 1 } }).status, 'passed');
    assert.deepEqual(
      checkResolverPrefersIpv6({ hostname: 'dual.test', firstAttemptFamily: 4, established: { 4: 1, 6: 0 } }).reasons.map((r) => r.code),
      ['IPV4_FIRST'],
    );
    assert.deepEqual(
      checkResolverPrefersIpv6({ hostname: 'dual.test', firstAttemptFamily: null, established: { 4: 0, 6: 0 } }).reasons.map((r) => r.code),
      ['NO_PROBE_TRAFFIC'],
    );
  });

  it('apn.ipv4-via-clat passes only an established connection', () => {
    assert.equal(checkIpv4ViaClat('198.51.100.7', true, 'clat').status, 'passed');
    assert.match(checkIpv4ViaClat('198.51.100.7', false, null).reasons[0]!.detail, /no attempt seen/);
  });
});

describe('the socket poller of a capture window', () => {
  it('reads the four tables of one pass, and leaves out sockets with no owner (TIME_WAIT)', () => {
    const pass = ['tcp', 'tcp6', 'udp', 'udp6'].map((t) => `#${t}\n${fixture(`virtual-proc-net-${t}.txt`)}`).join('');
    const sockets = parseSocketPoll(pass);
    const expected = (['tcp', 'udp'] as const)
      .flatMap((t) => [...parseProcNetSockets(fixture(`virtual-proc-net-${t}.txt`), 4, t), ...parseProcNetSockets(fixture(`virtual-proc-net-${t}6.txt`), 6, t)])
      .filter((s) => s.inode !== 0);
    assert.equal(sockets.length, expected.length);
    assert.ok(sockets.length > 0);
    for (const s of expected) assert.ok(sockets.some((x) => x.uid === s.uid && x.local.port === s.local.port && x.transport === s.transport));
  });
});
