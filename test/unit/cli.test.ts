import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { externalLoads } from '../../lib/report/allure.js';
import { extractEmbeddedIpv4, formatAddress, inNat64Prefix, parseAddress, parseNat64Prefix } from '../../lib/net/address.js';
import { LINKTYPE, pcapFile } from '../support/packets.js';
import { HandsetCapture } from '../support/scenario.js';
import { v6lab } from '../support/cli.js';

const root = resolve(import.meta.dirname, '../..');

const v6labCli = (...args: string[]) => v6lab(args);

describe('v6lab analyze (the command line)', function () {
  this.timeout(30000);
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-cli-'));
  const capture = join(dir, 'handset.pcap');
  writeFileSync(
    capture,
    new HandsetCapture()
      .dns(0, '2001:db8:1::100', '2001:db8:1::53', 3000, 1, 'ipv4only.arpa', 'AAAA', ['64:ff9b::c000:aa'])
      .dns(0.1, '2001:db8:1::100', '2001:db8:1::53', 3001, 2, 'img.news.test', 'AAAA', ['64:ff9b::6440:14'])
      .tcp(0.2, '2001:db8:1::100', 4000, '64:ff9b::6440:14', 443, { responseBytes: 3000 })
      .pcap(),
  );

  it('writes a one-file HTML view with --html that loads nothing from the network', async () => {
    const html = join(dir, 'view.html');
    const { code, stdout } = await v6labCli('analyze', capture, '--html', html);
    assert.equal(code, 0);
    assert.match(stdout, /Traffic by path/);
    const page = readFileSync(html, 'utf8');
    assert.deepEqual(externalLoads(page), []);
    assert.match(page, /<tr data-path="nat64"><td>\d+<\/td><td>tcp<\/td><td>NAT64<\/td>/);
    assert.match(page, /<code>64:ff9b::\/96<\/code> \(RFC 7050 discovery\)/);
    assert.match(page, /data-chart="paths"/);
    assert.match(page, /<th scope="row">img.news.test<\/th><td>IPv6<\/td>/);
  });

  it('prints the contract JSON with --json', async () => {
    const { code, stdout, stderr } = await v6labCli('analyze', capture, '--json');
    assert.equal(code, 0, stderr);
    const a = JSON.parse(stdout);
    assert.deepEqual(Object.keys(a.capture).slice(0, 7), ['format', 'linkTypes', 'packets', 'bytes', 'firstTs', 'lastTs', 'duplicates']);
    assert.deepEqual(a.nat64Prefixes, ['64:ff9b::/96']);
    const flow = a.flows.find((f: { serverPort: number }) => f.serverPort === 443);
    assert.equal(flow.path, 'nat64');
    assert.equal(flow.hostname, 'img.news.test');
    for (const key of [
      'transport',
      'family',
      'client',
      'clientPort',
      'server',
      'serverPort',
      'packets',
      'bytes',
      'firstTs',
      'lastTs',
      'path',
      'established',
      'hostname',
      'sni',
    ]) {
      assert.ok(key in flow, `flow has ${key}`);
    }
    assert.deepEqual(Object.keys(a.summary.bytesByPath), ['native-v6', 'nat64', 'clat', 'native-v4']);
  });

  it('prints a readable table without --json', async () => {
    const { code, stdout } = await v6labCli('analyze', capture);
    assert.equal(code, 0);
    assert.match(stdout, /NAT64 +64:ff9b::\/96 \(RFC 7050 discovery\)/);
    assert.match(stdout, /nat64 +1 +[\d.]+ KiB +\d+\.\d%/);
    assert.match(stdout, /img\.news\.test +no +yes +no +IPv6/);
  });

  it('takes --nat64-prefix and --clat-address', async () => {
    const { code, stdout } = await v6labCli('analyze', capture, '--json', '--nat64-prefix', '2001:db8:6464::/96', '--clat-address', '2001:db8:1::100');
    assert.equal(code, 0);
    const a = JSON.parse(stdout);
    assert.deepEqual(a.nat64Prefixes, ['2001:db8:6464::/96', '64:ff9b::/96']);
    assert.deepEqual(a.clatAddresses, ['2001:db8:1::100']);
    assert.equal(a.flows.find((f: { serverPort: number }) => f.serverPort === 443).path, 'clat');
  });

  it('exits 2 with one line naming the byte offset for an unreadable capture', async () => {
    const bad = join(dir, 'bad.pcap');
    const bytes = Buffer.from(pcapFile({ linkType: LINKTYPE.RAW, packets: [] }));
    bytes.writeUInt32LE(0x01020304, 0);
    writeFileSync(bad, bytes);
    const { code, stdout, stderr } = await v6labCli('analyze', bad, '--json');
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(stderr, `v6lab: ${bad}: byte offset 0: not a pcap or pcapng file (magic 0x01020304)\n`);
  });

  it('exits 2 for a missing file, a bad prefix, and an unknown option', async () => {
    const missing = await v6labCli('analyze', join(dir, 'nope.pcap'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.pcap: no such file/);
    // A directory opens; its read fails with EISDIR, which carries no path: the message still names it.
    const directory = await v6labCli('analyze', dir, '--json');
    assert.equal(directory.code, 2);
    assert.equal(directory.stderr, `v6lab: ${dir}: is a directory, not a capture\n`);
    const prefix = await v6labCli('analyze', capture, '--nat64-prefix', '64:ff9b::/80');
    assert.equal(prefix.code, 2);
    assert.match(prefix.stderr, /--nat64-prefix: "64:ff9b::\/80" has length \/80/);
    const clat = await v6labCli('analyze', capture, '--clat-address', '192.0.0.4');
    assert.equal(clat.code, 2);
    assert.match(clat.stderr, /--clat-address/);
    assert.equal((await v6labCli('analyze', capture, '--frobnicate')).code, 2);
    assert.equal((await v6labCli('analyze')).code, 2);
  });
});

describe('real captures: the NAT464 suite', () => {
  const fixtures = join(root, 'test/fixtures/nat464');
  const prefixes = ['2001:db8:1:4646::/96', '2001:db8:2:4646::/96'];

  for (const kind of ['tcp', 'udp', 'frag']) {
    it(`${kind}: the translated IPv6 flow carries the IPv4 flow's ports and embedded addresses`, async () => {
      const { analyzeFile } = await import('../../lib/analysis/index.js');
      const v4 = await analyzeFile(join(fixtures, `${kind}_v4.pcap`));
      const v6 = await analyzeFile(join(fixtures, `${kind}_v6.pcap`), { nat64Prefixes: prefixes });
      assert.equal(v4.flows.length, 1);
      assert.equal(v6.flows.length, 1);
      const [f4, f6] = [v4.flows[0]!, v6.flows[0]!];
      assert.equal(f6.path, 'nat64');
      assert.equal(f4.path, 'native-v4');
      assert.deepEqual([f6.clientPort, f6.serverPort, f6.packets], [f4.clientPort, f4.serverPort, f4.packets]);
      const embedded = (address: string) => {
        const prefix = prefixes.map((p) => parseNat64Prefix(p)).find((p) => inNat64Prefix(p, parseAddress(address).bytes, 0))!;
        return formatAddress(extractEmbeddedIpv4(prefix, parseAddress(address).bytes, 0), 0, 4);
      };
      assert.deepEqual([embedded(f6.client), embedded(f6.server)], [f4.client, f4.server]);
    });
  }

  it('icmp: counted, not flows', async () => {
    const { analyzeFile } = await import('../../lib/analysis/index.js');
    const a = await analyzeFile(join(fixtures, 'icmp_v6.pcap'));
    assert.equal(a.flows.length, 0);
    assert.equal(a.summary.icmpPackets.v6, 8);
  });
});
