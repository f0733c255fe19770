// How emulated apps connect, by mode, against loopback servers: a listener on 127.0.0.1 and one
// on ::1 on the same port; an IPv6 blackhole is a listener whose accept queue is full (its
// process stopped), so the kernel drops further SYNs as a blackholed path does.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { connectByMode, tcpConnector, type AppResolver, type Candidate, type ConnectResult } from '../../lib/lab/android/happy-eyeballs.js';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function listen(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => resolve(server));
  });
}

const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;

/** A port free on both 127.0.0.1 and ::1. */
async function freePortBoth(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const v6 = await listen('::1', 0);
    const port = portOf(v6);
    try {
      const v4 = await listen('127.0.0.1', port);
      await new Promise((r) => v4.close(r));
      await new Promise((r) => v6.close(r));
      return port;
    } catch {
      await new Promise((r) => v6.close(r));
    }
  }
  throw new Error('no port free on both 127.0.0.1 and ::1');
}

/** A listener on [::1]:port that completes no handshake: SYNs are dropped, as on a blackholed path. */
async function blackhole(port: number): Promise<{ close(): void }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['-e', `require('net').createServer().listen({ host: '::1', port: ${port}, backlog: 1, ipv6Only: true }, () => process.stdout.write('ready\\n'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`blackhole listener exited ${code}`)));
  });
  process.kill(child.pid!, 'SIGSTOP');
  // Fill the accept queue (backlog 1 holds two); from then on the kernel drops SYNs.
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    fillers.push(
      await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: '::1', port }, () => resolve(s));
        s.once('error', reject);
      }),
    );
  }
  return {
    close() {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    },
  };
}

function resolver(options: { aaaaDelay?: number; aDelay?: number; order?: Candidate[] } = {}): AppResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async resolve6() {
      asked.push('AAAA');
      await delay(options.aaaaDelay ?? 0);
      return ['::1'];
    },
    async resolve4() {
      asked.push('A');
      await delay(options.aDelay ?? 0);
      return ['127.0.0.1'];
    },
    async lookup() {
      asked.push('getaddrinfo');
      return (
        options.order ?? [
          { family: 6, address: '::1' },
          { family: 4, address: '127.0.0.1' },
        ]
      );
    },
  };
}

const summary = (r: ConnectResult<net.Socket>) => r.attempts.map((a) => `${a.family}:${a.outcome}`);
const ipv6Available = await listen('::1', 0).then(
  (s) => {
    s.close();
    return true;
  },
  () => false,
);

describe('emulated apps: connecting by mode (RFC 8305 and friends)', function () {
  this.timeout(15_000);
  let port: number;
  const servers: net.Server[] = [];
  const cleanups: (() => void)[] = [];
  const opened: net.Socket[] = [];

  before(function () {
    if (!ipv6Available) this.skip();
  });

  beforeEach(async () => {
    port = await freePortBoth();
  });

  afterEach(async () => {
    for (const s of opened.splice(0)) s.destroy();
    for (const c of cleanups.splice(0)) c();
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  const serve = async (...hosts: string[]) => {
    for (const host of hosts) servers.push(await listen(host, port));
  };
  const connect = async (mode: Parameters<typeof connectByMode>[0], r: AppResolver, literals: Record<string, string> = {}, connectTimeoutMs?: number) => {
    const result = await connectByMode(
      mode,
      'dual.test',
      { resolver: r, literals, connector: tcpConnector(port) },
      connectTimeoutMs === undefined ? {} : { connectTimeoutMs },
    );
    if (result.connection) opened.push(result.connection);
    return result;
  };

  it('happy-eyeballs: asks AAAA and A, and IPv6 wins when it answers', async () => {
    await serve('::1', '127.0.0.1');
    const r = resolver();
    const result = await connect('happy-eyeballs', r);
    assert.deepEqual(r.asked.sort(), ['A', 'AAAA']);
    assert.deepEqual(result.winner, { family: 6, address: '::1' });
    assert.deepEqual(summary(result), ['6:connected'], 'IPv4 was never needed');
    assert.equal(result.connection?.remoteFamily, 'IPv6');
  });

  it('happy-eyeballs: a blackholed IPv6 gets IPv4 started about 250 ms later; IPv4 wins, IPv6 is cancelled', async () => {
    cleanups.push((await blackhole(port)).close);
    await serve('127.0.0.1');
    const result = await connect('happy-eyeballs', resolver());
    assert.deepEqual(summary(result), ['6:cancelled', '4:connected']);
    const [v6, v4] = result.attempts;
    assert.ok(v6!.startMs <= v4!.startMs);
    const gap = v4!.startMs - v6!.startMs;
    assert.ok(gap >= 200 && gap < 1500, `IPv4 started ${gap} ms after IPv6 (expected about 250)`);
    assert.equal(result.winner?.family, 4);
  });

  it('happy-eyeballs: a refused IPv6 gets IPv4 at once, without waiting out the delay', async () => {
    await serve('127.0.0.1');
    const result = await connect('happy-eyeballs', resolver());
    assert.deepEqual(summary(result), ['6:failed', '4:connected']);
    assert.equal(result.attempts[0]!.error, 'ECONNREFUSED');
    assert.ok(result.attempts[1]!.startMs - result.attempts[0]!.startMs < 200);
  });

  it('happy-eyeballs: an A answer waits the resolution delay for the AAAA, not longer', async () => {
    await serve('::1', '127.0.0.1');
    const soon = await connect('happy-eyeballs', resolver({ aaaaDelay: 15 }));
    assert.equal(soon.attempts[0]!.family, 6, 'an AAAA within 50 ms still goes first');
    const late = await connect('happy-eyeballs', resolver({ aaaaDelay: 400 }));
    assert.equal(late.attempts[0]!.family, 4, 'an AAAA later than 50 ms does not hold IPv4 back');
    assert.equal(late.winner?.family, 4);
  });

  it('ipv4-first: asks both, tries IPv4 first, IPv6 only after IPv4 failed', async () => {
    await serve('::1', '127.0.0.1');
    const r = resolver();
    const result = await connect('ipv4-first', r);
    assert.deepEqual(r.asked.sort(), ['A', 'AAAA']);
    assert.deepEqual(summary(result), ['4:connected']);
    for (const s of servers.splice(1)) s.close();
    const fallback = await connect('ipv4-first', resolver());
    assert.deepEqual(summary(fallback), ['4:failed', '6:connected']);
  });

  it('system: getaddrinfo order, one address after another', async () => {
    await serve('127.0.0.1');
    const r = resolver();
    const result = await connect('system', r);
    assert.deepEqual(r.asked, ['getaddrinfo']);
    assert.deepEqual(
      result.attempts.map((a) => a.address),
      ['::1', '127.0.0.1'],
    );
    assert.deepEqual(summary(result), ['6:failed', '4:connected']);
    assert.ok(result.attempts[1]!.startMs >= result.attempts[0]!.startMs + result.attempts[0]!.ms!, 'the second began after the first ended');
    const v4first = await connect(
      'system',
      resolver({
        order: [
          { family: 4, address: '127.0.0.1' },
          { family: 6, address: '::1' },
        ],
      }),
    );
    assert.deepEqual(summary(v4first), ['4:connected']);
  });

  it('system: a blackholed first address costs the whole connect timeout before the next', async () => {
    cleanups.push((await blackhole(port)).close);
    await serve('127.0.0.1');
    const result = await connect('system', resolver(), {}, 400);
    assert.deepEqual(summary(result), ['6:timeout', '4:connected']);
    assert.ok(result.attempts[1]!.startMs >= 380, `IPv4 began at ${result.attempts[1]!.startMs} ms`);
  });

  it('ipv4-only asks A only; ipv6-only asks AAAA only', async () => {
    await serve('::1', '127.0.0.1');
    const v4 = resolver();
    assert.deepEqual(summary(await connect('ipv4-only', v4)), ['4:connected']);
    assert.deepEqual(v4.asked, ['A']);
    const v6 = resolver();
    assert.deepEqual(summary(await connect('ipv6-only', v6)), ['6:connected']);
    assert.deepEqual(v6.asked, ['AAAA']);
  });

  it('ipv4-literal: no DNS at all, the compiled-in address', async () => {
    await serve('127.0.0.1');
    const r = resolver();
    const result = await connect('ipv4-literal', r, { 'dual.test': '127.0.0.1' });
    assert.deepEqual(r.asked, []);
    assert.deepEqual(result.dns, []);
    assert.deepEqual(summary(result), ['4:connected']);
    const none = await connect('ipv4-literal', r, {});
    assert.equal(none.connection, null);
    assert.match(none.error ?? '', /no IPv4 literal for dual\.test/);
  });
});

describe('UDP attempts', () => {
  it('a connect that fails is a failed attempt, not a crash of the app (a send on an unconnected socket)', async () => {
    const { udpConnector } = await import('../../lib/lab/android/app.js');
    // IPv6 from an IPv4-only socket: the connect itself fails (EINVAL), as no route would on a handset.
    await assert.rejects(udpConnector(443, 1000).open({ family: 4, address: '2001:db8::1' } as Candidate, new AbortController().signal));
  });
});
