// The gateway's pure parts: which NAT64 prefixes --prefix takes, what each mode serves, the
// host's nftables table for --uplink, and each gateway id's own uplink /24.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError } from '../../lib/config/schema.js';
import { readGatewayNetwork } from '../../lib/device/gateway-network.js';
import { checkNat64Prefix } from '../../lib/lab/network/gateway.js';
import { GatewayInputError, MODE_FEATURES, readGatewayRecord } from '../../lib/lab/network/gateway-record.js';
import { hostUplinkRuleset, uplinkWan } from '../../lib/lab/network/gateway-uplink.js';

describe('v6lab gateway (pure parts)', () => {
  it('--prefix: RFC 6052 lengths, canonical; the well-known prefix only as /96', () => {
    assert.equal(checkNat64Prefix('64:ff9b::/96'), '64:ff9b::/96');
    assert.equal(checkNat64Prefix('2001:DB8:0064::/48'), '2001:db8:64::/48');
    for (const bad of ['64:ff9b::/64', '2001:db8::/33', '10.0.0.0/8', 'nonsense', '2001:db8::']) {
      assert.throws(
        () => checkNat64Prefix(bad),
        (e: unknown) => e instanceof GatewayInputError && e.option === '--prefix',
        bad,
      );
    }
  });

  it('each mode serves what the draft scenario it stands for needs', () => {
    assert.deepEqual(MODE_FEATURES['ipv6-only'], { ipv6: true, ipv4: false, dns64: true, nat64: true, pref64: false, v6OnlyPreferred: false });
    // True IPv6-only: nothing reaches IPv4, nothing synthesizes an address for it.
    assert.equal(MODE_FEATURES['true-ipv6-only'].dns64 || MODE_FEATURES['true-ipv6-only'].nat64 || MODE_FEATURES['true-ipv6-only'].ipv4, false);
    // Dual-stack answers real AAAA records only: DNS64 would send IPv4-only servers through NAT64.
    assert.equal(MODE_FEATURES['dual-stack'].dns64, false);
    assert.deepEqual(
      [MODE_FEATURES['ipv6-mostly'].pref64, MODE_FEATURES['ipv6-mostly'].v6OnlyPreferred, MODE_FEATURES['ipv6-mostly'].ipv4],
      [true, true, true],
    );
    assert.equal(MODE_FEATURES['ipv4-only'].ipv6, false);
  });

  it("--uplink: the host's table masquerades only the gateway's /24 out of the uplink, IPv6 only when the host forwards it", () => {
    const uplink = { interface: 'enp3s0', hostLink: 'v6lgwup', nftTable: 'v6lab_gw', ipv6: false };
    const v4 = hostUplinkRuleset(uplink, '100.95.7.0/24', '2001:db8:1::/64');
    assert.match(v4, /^table inet v6lab_gw \{/);
    assert.match(v4, /oifname "enp3s0" ip saddr 100\.95\.7\.0\/24 masquerade/);
    assert.match(v4, /iifname "v6lgwup" oifname "enp3s0" accept/);
    assert.match(v4, /iifname "enp3s0" oifname "v6lgwup" ct state established,related accept/);
    assert.doesNotMatch(v4, /ip6/);
    assert.match(hostUplinkRuleset({ ...uplink, ipv6: true }, '100.95.7.0/24', '2001:db8:1::/64'), /oifname "enp3s0" ip6 saddr 2001:db8:1::\/64 masquerade/);
  });

  it('--uplink: each gateway id has its /24 of 100.95.0.0/16, the same every time', () => {
    const a = uplinkWan('gw');
    assert.deepEqual(uplinkWan('gw'), a);
    assert.match(a.subnet, /^100\.95\.\d{1,3}\.0\/24$/);
    assert.equal(a.host, a.subnet.replace('0/24', '1'));
    assert.equal(a.gateway, a.subnet.replace('0/24', '2'));
    const subnets = new Set(['gw', 'lab1', 'bench', 'ci', 'a', 'b'].map((id) => uplinkWan(id).subnet));
    assert.ok(subnets.size >= 5, `ids land on few /24s: ${[...subnets]}`);
  });

  it('a gateway record is read only as `gateway up` writes it: its names reach ip and nft as root', async () => {
    const good = {
      version: 1,
      labId: 'gw',
      mode: 'ipv6-only',
      namespace: 'v6l-gw-gw0',
      deviceLink: { name: 'enx0', mac: '02:00:00:00:00:01', mtu: 1500, up: false, addresses: [] },
      lanIpv6Prefix: '2001:db8:1::/64',
      lanIpv4Subnet: null,
      uplink: null,
    };
    const dirWith = (content: unknown): string => {
      const dir = mkdtempSync(join(tmpdir(), 'v6lab-gwrec-'));
      writeFileSync(join(dir, 'gateway.json'), JSON.stringify(content));
      return dir;
    };
    assert.equal((await readGatewayRecord(dirWith(good)))?.namespace, 'v6l-gw-gw0');
    assert.equal(await readGatewayRecord(mkdtempSync(join(tmpdir(), 'v6lab-gwrec-'))), null, 'no record: no gateway');
    for (const [field, bad] of [
      ['namespace', { ...good, namespace: 'v6l-lab1-hs0' }],
      ['labId', { ...good, labId: '../x' }],
      ['mode', { ...good, mode: 'everything' }],
      ['deviceLink.name', { ...good, deviceLink: { ...good.deviceLink, name: 'eth0; reboot' } }],
      ['uplink.nftTable', { ...good, uplink: { interface: 'eth0', hostLink: 'v6lgwup', nftTable: 'filter', forwarding: [], dns: [], ipv6: false } }],
    ] as const) {
      await assert.rejects(readGatewayRecord(dirWith(bad)), new RegExp(`\\(${field.replace('.', '\\.')}\\)`), field);
    }
    // The harness's reader parses the prefixes it judges a device by: a bad one or the wrong
    // family is an error naming the field, never a device "not on the gateway".
    assert.equal((readGatewayNetwork(dirWith({ ...good, lanIpv4Subnet: '10.0.0.0/24' })) as { ipv4Subnet: string }).ipv4Subnet, '10.0.0.0/24');
    for (const [field, bad] of [
      ['lanIpv6Prefix', { ...good, lanIpv6Prefix: '1:2:3/64' }],
      ['lanIpv6Prefix', { ...good, lanIpv6Prefix: '2001:db8::/129' }],
      ['lanIpv6Prefix', { ...good, lanIpv6Prefix: '10.0.0.0/24' }],
      ['lanIpv4Subnet', { ...good, lanIpv4Subnet: '10.0.0.0/33' }],
      ['lanIpv4Subnet', { ...good, lanIpv4Subnet: '2001:db8::/64' }],
    ] as const) {
      assert.throws(
        () => readGatewayNetwork(dirWith(bad)),
        (e: unknown) => e instanceof DataFileError && e.field === field,
        JSON.stringify(bad),
      );
    }
    // A FIFO or a symlink in its place is neither waited on nor followed, by root or the harness.
    const fifo = mkdtempSync(join(tmpdir(), 'v6lab-gwrec-'));
    execFileSync('mkfifo', [join(fifo, 'gateway.json')]);
    await assert.rejects(readGatewayRecord(fifo), /not a regular file/);
    assert.match(String((readGatewayNetwork(fifo) as { down: string }).down), /not a regular file/);
    const link = mkdtempSync(join(tmpdir(), 'v6lab-gwrec-'));
    symlinkSync(join(dirWith(good), 'gateway.json'), join(link, 'gateway.json'));
    await assert.rejects(readGatewayRecord(link), /symlink/);
  });
});
