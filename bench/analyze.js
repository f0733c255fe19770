#!/usr/bin/env node
// Speed and memory of `v6lab analyze` on a ~1 GiB capture, against tshark and against a bare
// pcap record walk (issue 2, "Speed and memory, measured").
//
// What it does: (1) records a realistic base capture once (bench/out/base.pcap) in two network
// namespaces (HTTP/HTTPS bulk downloads and an upload over IPv6 and IPv4, many short connections,
// UDP, DNS over UDP and TCP, ping), captured by `tcpdump -i any` (LINUX_SLL2) in the client
// namespace; (2) replicates it into bench/out/big.pcap (BENCH_SIZE_MB MiB, default 1024): every
// copy shifted in time past the previous one and with the client's addresses renumbered, so each
// copy has its own flows; (3) reads the file once so the page cache is warm, then runs, interleaved
// and each in its own child process under GNU time, `v6lab analyze --json`, `tshark -q -z conv,tcp
// -z conv,udp` and bench/walk-records.js (the fastest Node can walk the file), BENCH_ROUNDS times
// (default 3; tshark BENCH_TSHARK_ROUNDS times, default the same).
//
// How to read it: wall seconds are medians over the rounds, MiB/s is file size / that median,
// peak RSS is the largest maximum resident set size of any round (GNU time %M), all in MiB
// (2^20 bytes). The ratios are what issue 2 sets targets for: analyze at least 25x tshark's speed,
// at least 50% of the record walk's speed, peak RSS under 128 MiB. BENCH_PROFILE=1 also runs one
// analyze under `node --cpu-prof` and lists the functions with the most self time.
//
// The flow-count series (issue 19, "Measure"): captures of the same size (BENCH_SIZE_MB) with
// 1k, 10k, 100k, 184,240 and 1M flows, written by bench/synth-capture.js into bench/out/ (reused
// while their parameters and the generator stay the same), each measured the same way with
// `analyze --json`, `analyze` (the table), tshark and the walk. It prints time, MiB/s, peak RSS and
// ns per packet for each, the ratio to tshark, the growth of time per packet from 10k to 1M flows,
// and PASS or MISS for issue 19's targets. Before it measures a capture it checks that analyze
// finds the flows, DNS queries and paths the generator wrote: a bench of a wrong answer is
// worthless. It needs no root (no namespaces).
//
//   npm run bench:analyze          (builds, then node --expose-gc bench/analyze.js: both parts)
//   npm run bench:analyze:series   (the series only; also `--series-only` or BENCH_PART=series)
//   BENCH_PART=recorded            (the recorded-base part only)
//   BENCH_V6LAB=/path/to/checkout  (measure that checkout's bin/v6lab.js and dist/: before/after)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, release } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSyntheticCapture } from './synth-capture.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'bench', 'out');
const BASE = join(OUT, 'base.pcap');
const BASE_META = join(OUT, 'base.json');
const BIG = join(OUT, 'big.pcap');
const BIG_META = join(OUT, 'big.json');
const SAME_FLOWS = join(OUT, 'same-flows.pcap');
const SAME_FLOWS_META = join(OUT, 'same-flows.json');
const MIB = 1 << 20;

const SIZE_MIB = Number(process.env.BENCH_SIZE_MB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TSHARK_ROUNDS = Math.min(ROUNDS, Number(process.env.BENCH_TSHARK_ROUNDS ?? ROUNDS));
const PROFILE = process.env.BENCH_PROFILE === '1';
/** Which parts run: `all` (default), `recorded` (the namespace-recorded base, root) or `series`. */
const PART = process.argv.includes('--series-only') ? 'series' : (process.env.BENCH_PART ?? 'all');
/** The checkout whose `bin/v6lab.js` (and so dist/) is measured; this one unless BENCH_V6LAB names another. */
const V6LAB_DIR = resolve(process.env.BENCH_V6LAB ?? ROOT);
const V6LAB_BIN = join(V6LAB_DIR, 'bin', 'v6lab.js');

/** Lab addressing: 100.64/10 and 2001:db8::/32 (lab.md: tayga-safe, never routed anywhere). */
const LAB = { serverV4: '100.64.0.1', clientV4: '100.64.0.2', serverV6: '2001:db8:1::1', clientV6: '2001:db8:1::2' };

// ---------------------------------------------------------------------------------------------
// Processes: argv arrays only, every wait with a deadline, every child we start killed by PID.

/** Children still running that cleanup must stop (by PID). */
const running = new Set();
/** Namespaces this run created and has not yet removed. */
const namespaces = new Set();

async function removeNamespace(ns) {
  await run(['ip', 'netns', 'del', ns], { allowFail: true });
  rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
  namespaces.delete(ns);
}

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopChild(child, signal = 'SIGTERM', graceMs = 5000) {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, signal);
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, graceMs);
    await exited(child);
    clearTimeout(timer);
  }
  running.delete(child);
}

/** Runs argv to completion; rejects on a non-zero exit or when `timeoutMs` passes. */
function run(argv, { timeoutMs = 60_000, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    let settled = false;
    const settle = (fn, value) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        running.delete(child);
        fn(value);
      }
    };
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      settle(reject, new Error(`${argv.join(' ')}: no exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (err) => settle(reject, new Error(`${argv[0]}: ${err.message}`, { cause: err })));
    child.once('close', (code) => {
      if (code !== 0 && !allowFail) settle(reject, new Error(`${argv.join(' ')} exited ${code}: ${stderr.trim().slice(-500)}`));
      else settle(resolve, { code, stdout, stderr });
    });
  });
}

/** Starts a long-running argv and waits until `ready` matches its stdout or stderr. */
function start(argv, ready, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let seen = '';
    let settled = false;
    const settle = (fn, value) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        fn(value);
      }
    };
    const timer = setTimeout(() => settle(reject, new Error(`${argv.join(' ')}: not ready within ${timeoutMs} ms: ${seen.slice(-300)}`)), timeoutMs);
    const watch = (d) => {
      seen += d;
      if (ready.test(seen)) settle(resolve, { child, output: () => seen });
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.once('error', (err) => settle(reject, new Error(`${argv[0]}: ${err.message}`, { cause: err })));
    child.once('exit', (code) => settle(reject, new Error(`${argv.join(' ')} exited ${code} before it was ready: ${seen.slice(-300)}`)));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function requireTools(part) {
  const missing = [];
  const tools = [
    ['tcpdump', 'tcpdump'],
    ['tshark', 'tshark'],
    ['editcap', 'tshark'],
    ['ethtool', 'ethtool'],
    ['curl', 'curl'],
    ['dig', 'bind9-dnsutils'],
    ['openssl', 'openssl'],
    ['ping', 'iputils-ping'],
    ['ip', 'iproute2'],
  ].filter(([tool]) => part === 'recorded' || tool === 'tshark');
  for (const [tool, pkg] of tools) {
    const { code } = await run(['sh', '-c', 'command -v "$1" >/dev/null', 'sh', tool], { allowFail: true });
    if (code !== 0) missing.push(pkg);
  }
  if (!existsSync('/usr/bin/time')) missing.push('time');
  if (missing.length > 0) {
    throw new Error(`bench needs: DEBIAN_FRONTEND=noninteractive apt-get install -y ${[...new Set(missing)].join(' ')}`);
  }
  if (!existsSync(join(V6LAB_DIR, 'dist', 'cli', 'main.js'))) {
    throw new Error(`${join(V6LAB_DIR, 'dist')} is missing: run \`npm run build\` there (npm run bench:analyze does it here)`);
  }
  if (part === 'recorded' && !existsSync(join(ROOT, 'dist', 'capture', 'decode.js')))
    throw new Error('dist/ is missing: run `npm run build` (the replication reads dist/capture)');
}

// ---------------------------------------------------------------------------------------------
// (1) The base capture, recorded once in two namespaces.

async function recordBase() {
  const tag = `v6b${process.pid}`;
  const client = `${tag}c`;
  const server = `${tag}s`;
  const lab = join(OUT, 'lab');
  mkdirSync(lab, { recursive: true });
  const partial = join(OUT, 'base.partial.pcap');
  const ip = (...args) => run(['ip', ...args]);
  const inNs = (ns, argv, options) => run(['ip', 'netns', 'exec', ns, ...argv], options);
  const started = [];
  try {
    for (const ns of [client, server]) {
      await ip('netns', 'add', ns);
      namespaces.add(ns);
      // ip netns exec bind-mounts this over /etc/resolv.conf: without it curl would ask the host's resolver.
      mkdirSync(`/etc/netns/${ns}`, { recursive: true });
      writeFileSync(`/etc/netns/${ns}/resolv.conf`, `nameserver ${LAB.serverV6}\nnameserver ${LAB.serverV4}\noptions timeout:1 attempts:2\n`);
      // DAD off before links come up: addresses usable at once (lab.md).
      await inNs(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    await ip('link', 'add', 'c0', 'netns', client, 'type', 'veth', 'peer', 'name', 's0', 'netns', server);
    for (const [ns, dev, v4, v6] of [
      [client, 'c0', LAB.clientV4, LAB.clientV6],
      [server, 's0', LAB.serverV4, LAB.serverV6],
    ]) {
      // Without this a veth hands 64 KB TSO/GSO super-packets to tcpdump: no real link has those.
      await inNs(ns, ['ethtool', '-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
      await ip('-n', ns, 'addr', 'add', `${v4}/24`, 'dev', dev);
      await ip('-n', ns, 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad');
      await ip('-n', ns, 'link', 'set', dev, 'up');
    }
    const clientAddresses = await waitForLinkLocal(client, 'c0');

    const cert = join(lab, 'cert.pem');
    const key = join(lab, 'key.pem');
    if (!existsSync(cert) || !existsSync(key)) {
      await run([
        'openssl',
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '3650',
        '-subj',
        '/CN=bench.test',
        '-addext',
        'subjectAltName=DNS:*.bench.test',
        '-keyout',
        key,
        '-out',
        cert,
      ]);
    }
    const upload = join(lab, 'upload.bin');
    if (!existsSync(upload))
      writeFileSync(
        upload,
        Buffer.alloc(3 * 1000 * 1000, 0x5a).map((_, i) => (i * 2654435761) >>> 24),
      );

    started.push(
      (
        await start(
          [
            'ip',
            'netns',
            'exec',
            server,
            process.execPath,
            join(ROOT, 'bench', 'lab', 'server.js'),
            '--v4',
            LAB.serverV4,
            '--v6',
            LAB.serverV6,
            '--cert',
            cert,
            '--key',
            key,
          ],
          /ready/,
        )
      ).child,
    );
    // -Z root: Debian's tcpdump drops to user tcpdump, who may not write bench/out/. -s 2048: with
    // --immediate-mode libpcap sizes each ring frame by the snaplen, so the default 256 KiB fits
    // only 256 packets in -B 64 MiB and the kernel drops a third of them; 2048 cuts nothing (MTU 1500).
    const tcpdump = await start(
      ['ip', 'netns', 'exec', client, 'tcpdump', '-i', 'any', '-U', '--immediate-mode', '-B', '65536', '-s', '2048', '-Z', 'root', '-w', partial],
      /listening on/,
    );
    started.push(tcpdump.child);

    const t0 = Date.now();
    const log = await clientTraffic((argv, options) => inNs(client, argv, options));
    await sleep(500);
    await stopChild(tcpdump.child, 'SIGINT', 10_000);
    const summary = tcpdump
      .output()
      .split('\n')
      .filter((l) => /captured|received|dropped/.test(l))
      .join('; ');
    process.stdout.write(`base capture: traffic took ${((Date.now() - t0) / 1000).toFixed(1)} s; ${log.join('; ')}\ntcpdump: ${summary}\n`);
    renameSync(partial, BASE);
    writeFileSync(BASE_META, `${JSON.stringify({ clientAddresses, recorded: new Date().toISOString(), tcpdump: summary }, null, 2)}\n`);
  } finally {
    for (const child of started.reverse()) await stopChild(child);
    for (const ns of [...namespaces]) await removeNamespace(ns);
    rmSync(partial, { force: true });
  }
}

/** The client's addresses on `dev` (IPv4, global IPv6 and link-local) once the link-local is usable. */
async function waitForLinkLocal(ns, dev) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const { stdout } = await run(['ip', '-n', ns, '-j', 'addr', 'show', 'dev', dev]);
    const info = JSON.parse(stdout)[0]?.addr_info ?? [];
    const ready = info.some((a) => a.family === 'inet6' && a.scope === 'link' && !a.tentative);
    if (ready) return info.map((a) => a.local);
    if (Date.now() > deadline) throw new Error(`${dev} in ${ns} has no usable link-local address after 5 s`);
    await sleep(50);
  }
}

/** An app-like mix from the client namespace; returns a line per kind of traffic. */
async function clientTraffic(inClient) {
  const curl = (urls, extra = []) =>
    inClient(['curl', '-sS', '-k', '--http1.1', '--max-time', '60', ...extra, ...urls.flatMap((url) => ['-o', '/dev/null', url])], { timeoutMs: 120_000 });

  // Bulk: what an app store update, a video or a photo backup looks like, mostly over TLS as apps
  // do; IPv6 where the name has an AAAA, IPv4 where it has none (curl tries IPv6 first). Paced to ~100 Mbit/s each, a good
  // mobile link: unpaced, veth runs at several Gbit/s and tcpdump drops a third of the packets.
  const paced = ['--limit-rate', '12M'];
  const bulk = async () => {
    await Promise.all([
      (async () => {
        await curl(['https://dl.bench.test/bulk/14000000'], paced);
        await curl(['https://cdn.bench.test/bulk/9000000'], paced);
        await curl(['https://api.bench.test/upload'], [...paced, '--data-binary', `@${join(OUT, 'lab', 'upload.bin')}`]);
      })(),
      (async () => {
        await curl(['http://legacy.bench.test/bulk/8000000'], paced);
        await curl(['https://v4only.bench.test/bulk/5000000'], paced);
        await curl(['http://media.bench.test/bulk/4000000'], paced);
      })(),
    ]);
    return 'bulk: 40 MB down (28 MB TLS), 3 MB up (TLS) over 6 connections';
  };

  // Short connections: API calls, images, trackers; 1-3 requests per connection, mostly TLS.
  const names = ['www', 'api', 'img', 'static', 'push', 'legacy', 'ads', 'old-api', 'cdn', 'media'];
  const sizes = [300, 900, 2000, 5000, 12000, 30000, 70000];
  const short = async () => {
    const jobs = Array.from({ length: 160 }, (_, i) => {
      const scheme = i % 3 === 0 ? 'http' : 'https';
      const host = `${names[(i * 7) % names.length]}.bench.test`;
      return Array.from({ length: 1 + (i % 3) }, (_, j) => `${scheme}://${host}/small/${sizes[(i + j * 3) % sizes.length]}`);
    });
    let next = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < jobs.length) await curl(jobs[next++]);
      }),
    );
    return `short: ${jobs.length} connections`;
  };

  // DNS beyond what curl's lookups send: A, AAAA, HTTPS, names that do not exist, some over TCP.
  const dns = async () => {
    const queries = [];
    for (const [i, name] of [...names, 'missing', 'nope'].entries()) {
      for (const type of ['A', 'AAAA', 'TYPE65']) {
        const server = i % 2 ? LAB.serverV4 : LAB.serverV6;
        queries.push(['dig', '+tries=1', '+time=2', ...(i % 4 === 3 ? ['+tcp'] : []), `@${server}`, `${name}.bench.test`, type]);
      }
    }
    for (const q of queries) await inClient(q);
    return `dig: ${queries.length} queries`;
  };

  const udp = async () => {
    const { stdout } = await inClient([process.execPath, join(ROOT, 'bench', 'lab', 'udp-client.js'), '--v4', LAB.serverV4, '--v6', LAB.serverV6], {
      timeoutMs: 120_000,
    });
    return stdout.trim();
  };

  const ping = async () => {
    await inClient(['ping', '-q', '-c', '5', '-i', '0.2', LAB.serverV6]);
    await inClient(['ping', '-q', '-c', '5', '-i', '0.2', LAB.serverV4]);
    return 'ping: 10 echoes';
  };

  return Promise.all([bulk(), short(), dns(), udp(), ping()]);
}

// ---------------------------------------------------------------------------------------------
// (2) Replication to ~1 GiB: shifted timestamps, renumbered client addresses, one big write a copy.

/**
 * Copies of base.pcap's records into `path`, each shifted in time past the previous one. With
 * `renumber` every copy's client addresses differ (new flows per copy); without, the copies
 * continue the same flows (more packets, no more flows: what proves memory does not grow
 * with packets).
 */
async function replicate({ path = BIG, metaPath = BIG_META, sizeMib = SIZE_MIB, renumber = true } = {}) {
  const baseStat = statSync(BASE);
  const meta = JSON.parse(readFileSync(BASE_META, 'utf8'));
  const { CaptureReader } = await import(new URL('../dist/capture/reader.js', import.meta.url).href);
  const { PacketView, decodePacket } = await import(new URL('../dist/capture/decode.js', import.meta.url).href);

  // Read the whole base into the reader's own buffer so the offsets it hands the sink are file offsets.
  const view = new PacketView();
  const recordAt = [];
  const patchAt = [];
  let firstTs = Infinity;
  let lastTs = -Infinity;
  let linkType = -1;
  const clientAddresses = meta.clientAddresses.map(addressBytes);
  let data = null;
  const sink = {
    packet(buf, dv, offset, capLen, _origLen, seconds, nanoseconds, link, iface) {
      const ts = seconds + nanoseconds / 1e9;
      if (buf !== data) throw new Error('the reader copied the base capture: offsets would not be file offsets');
      recordAt.push(offset - 16);
      linkType = link;
      if (ts < firstTs) firstTs = ts;
      if (ts > lastTs) lastTs = ts;
      decodePacket(view, buf, dv, offset, capLen, link, iface);
      if (view.family === 0) return;
      const length = view.family === 6 ? 16 : 4;
      for (const at of [view.srcOffset, view.dstOffset]) {
        if (clientAddresses.some((a) => a.length === length && buf.compare(a, 0, length, at, at + length) === 0)) patchAt.push(at + length - 2);
      }
    },
    warning(message) {
      process.stdout.write(`base.pcap: ${message}\n`);
    },
  };
  const reader = new CaptureReader(sink, BASE, baseStat.size + 64);
  const room = reader.reserve(baseStat.size);
  data = room.buffer;
  const fd = openSync(BASE, 'r');
  let filled = 0;
  while (filled < baseStat.size) {
    const n = readSync(fd, data, room.offset + filled, baseStat.size - filled, filled);
    if (n === 0) break;
    filled += n;
  }
  closeSync(fd);
  if (room.offset !== 0) throw new Error('the reader did not start its buffer at file offset 0');
  reader.commit(filled);
  reader.finish();
  if (reader.format !== 'pcap') throw new Error(`${BASE} is ${reader.format}, the bench replicates pcap`);

  const le = data.readUInt32LE(0) === 0xa1b2c3d4 || data.readUInt32LE(0) === 0xa1b23c4d;
  const lastRecord = recordAt[recordAt.length - 1];
  const recordsEnd = lastRecord + 16 + (le ? data.readUInt32LE(lastRecord + 8) : data.readUInt32BE(lastRecord + 8));
  const recordBytes = recordsEnd - 24;
  const copies = Math.max(1, Math.round((sizeMib * MIB - 24) / recordBytes));
  // Whole seconds, so only the seconds field changes and sub-second timing stays exact.
  const period = Math.ceil(lastTs - firstTs) + 1;
  const want = { base: basename(BASE), baseSize: baseStat.size, baseMtimeMs: baseStat.mtimeMs, copies, period, renumber };
  const info = { copies, baseRecords: recordAt.length, baseBytes: baseStat.size, linkType, baseSeconds: lastTs - firstTs, addressesPerCopy: patchAt.length };
  if (existsSync(path) && existsSync(metaPath)) {
    const have = JSON.parse(readFileSync(metaPath, 'utf8'));
    if (JSON.stringify(have) === JSON.stringify(want) && statSync(path).size === 24 + copies * recordBytes) return { ...info, cached: true };
  }

  const records = data.subarray(24, recordsEnd);
  const out = Buffer.allocUnsafe(recordBytes);
  const secAt = Int32Array.from(recordAt, (at) => at - 24);
  const addressAt = Int32Array.from(patchAt, (at) => at - 24);
  const partial = `${path}.partial`;
  const wfd = openSync(partial, 'w');
  try {
    writeAll(wfd, data.subarray(0, 24));
    for (let copy = 0; copy < copies; copy++) {
      records.copy(out);
      const shift = copy * period;
      for (const at of secAt) {
        if (le) out.writeUInt32LE(records.readUInt32LE(at) + shift, at);
        else out.writeUInt32BE(records.readUInt32BE(at) + shift, at);
      }
      // The last two bytes of every client address become (original + copy): 100.64.0.2 -> .3,
      // 2001:db8:1::2 -> ::3, fe80::...:x -> x+1. The server side stays; checksums are not fixed.
      if (renumber) for (const at of addressAt) out.writeUInt16BE((records.readUInt16BE(at) + copy) & 0xffff, at);
      writeAll(wfd, out);
    }
  } finally {
    closeSync(wfd);
  }
  renameSync(partial, path);
  writeFileSync(metaPath, `${JSON.stringify(want)}\n`);
  return { ...info, cached: false };
}

function writeAll(fd, buffer) {
  for (let done = 0; done < buffer.length; ) done += writeSync(fd, buffer, done, buffer.length - done);
}

/** "100.64.0.2" or "fe80::1" -> its bytes. */
function addressBytes(text) {
  if (!text.includes(':')) return Buffer.from(text.split('.').map(Number));
  const [head, tail = null] = text.split('::');
  const groups = (s) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = tail === null ? [] : groups(tail);
  const all = [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  const bytes = Buffer.alloc(16);
  all.forEach((g, i) => {
    bytes.writeUInt16BE(g, i * 2);
  });
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// (3) Measurement: each tool in its own child under GNU time, interleaved, warm page cache.

const devNull = openSync('/dev/null', 'w');

/**
 * Runs argv under /usr/bin/time: wall seconds (our clock), CPU seconds and peak RSS (KiB) of the
 * child. Its stdout goes to /dev/null, or is kept (`keepStdout`), or is handed to `onStdout`
 * chunk by chunk (a JSON document too large to keep).
 */
function measure(argv, { keepStdout = false, onStdout = null, timeoutMs = 600_000 } = {}) {
  const timeFile = join(OUT, `time.${process.pid}.txt`);
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, ...argv], {
      cwd: ROOT,
      stdio: ['ignore', keepStdout || onStdout ? 'pipe' : devNull, 'pipe'],
    });
    running.add(child);
    const t0 = process.hrtime.bigint();
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      if (onStdout) onStdout(d);
      else stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      running.delete(child);
      reject(err);
    });
    child.once('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      clearTimeout(timer);
      running.delete(child);
      const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
      rmSync(timeFile, { force: true });
      if (code !== 0) {
        // What a reader needs of a failure: its first error line, and how long and how large it got before.
        const reason = stderr.split('\n').find((l) => /error|invalid|heap|fatal|abort/i.test(l)) ?? stderr.trim().split('\n').at(-1) ?? '';
        const figures = lines[lines.length - 1].split(' ').map(Number);
        const failure = new Error(`${argv.join(' ')} exited ${code}: ${stderr.trim().slice(-500)} ${lines.join(' ')}`);
        failure.summary =
          `exit ${code} after ${wall.toFixed(1)} s` +
          (Number.isFinite(figures[3]) ? ` at ${(figures[3] / 1024).toFixed(0)} MiB peak RSS` : '') +
          `: ${reason.trim().slice(0, 200)}`;
        return reject(failure);
      }
      const [, user, sys, rssKib] = lines[lines.length - 1].split(' ').map(Number);
      resolve({ wall, cpu: user + sys, rssMib: rssKib / 1024, stdout, stderr });
    });
  });
}

/** CPU seconds all cores spent busy since boot (/proc/stat; USER_HZ is 100 on Linux). */
function cpuBusySeconds() {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq + steal) / 100;
}

function warmCache(path) {
  const buf = Buffer.allocUnsafe(8 * MIB);
  const fd = openSync(path, 'r');
  const t0 = process.hrtime.bigint();
  let total = 0;
  for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) total += n;
  closeSync(fd);
  return { total, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')).join('\n');
}

/** Self time per function from a .cpuprofile (sample i lasts until sample i+1). */
function topSelfTime(profile, count) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const { samples, timeDeltas } = profile;
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0;
    const frame = nodes.get(samples[i]).callFrame;
    const where = frame.url ? `${basename(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  return { total, top: [...self].sort((a, b) => b[1] - a[1]).slice(0, count) };
}

async function recordedBench() {
  mkdirSync(OUT, { recursive: true });
  if (!existsSync(BASE) || !existsSync(BASE_META)) {
    process.stdout.write('recording bench/out/base.pcap in two network namespaces (once; delete it to record again)\n');
    await recordBase();
  }
  const t0 = Date.now();
  const rep = await replicate();
  globalThis.gc?.();
  const bigSize = statSync(BIG).size;
  const bigMib = bigSize / MIB;
  process.stdout.write(
    `${rep.cached ? 'reusing' : `wrote in ${((Date.now() - t0) / 1000).toFixed(1)} s`} bench/out/big.pcap: ` +
      `${rep.copies} copies of base.pcap (${(rep.baseBytes / MIB).toFixed(1)} MiB, ${rep.baseRecords} records, ${rep.baseSeconds.toFixed(1)} s, ` +
      `linktype ${rep.linkType}, ${rep.addressesPerCopy} client addresses renumbered per copy)\n`,
  );

  const warm = warmCache(BIG);
  process.stdout.write(
    `warm-up: read all ${(warm.total / MIB).toFixed(0)} MiB once (${(warm.total / MIB / warm.seconds).toFixed(0)} MiB/s); every run below sees a warm page cache\n`,
  );

  const node = process.execPath;
  const analyzeArgv = [node, V6LAB_BIN, 'analyze', BIG, '--json'];
  const tsharkArgv = ['tshark', '-r', BIG, '-q', '-z', 'conv,tcp', '-z', 'conv,udp'];
  const walkArgv = [node, join(ROOT, 'bench', 'walk-records.js'), BIG];

  // Counts, untimed: packets and flows of big.pcap, and flows of base.pcap (each copy must add its own).
  const counted = await measure(analyzeArgv, { keepStdout: true });
  const bigAnalysis = JSON.parse(counted.stdout);
  const baseAnalysis = JSON.parse((await measure([node, V6LAB_BIN, 'analyze', BASE, '--json'], { keepStdout: true })).stdout);

  // Memory against packets: the same flows with 8x the packets must not cost more memory.
  const sameFlows = await replicate({ path: SAME_FLOWS, metaPath: SAME_FLOWS_META, sizeMib: 8 * (statSync(BASE).size / MIB), renumber: false });
  const baseRun = await measure([node, V6LAB_BIN, 'analyze', BASE, '--json'], { keepStdout: true });
  const sameRun = await measure([node, V6LAB_BIN, 'analyze', SAME_FLOWS, '--json'], { keepStdout: true });
  const sameAnalysis = JSON.parse(sameRun.stdout);

  const busyBefore = cpuBusySeconds();
  const selfBefore = process.cpuUsage();
  const batchStart = Date.now();
  const runs = { analyze: [], tshark: [], walk: [] };
  let walkCount = '';
  for (let round = 0; round < ROUNDS; round++) {
    runs.analyze.push(await measure(analyzeArgv));
    if (round < TSHARK_ROUNDS) runs.tshark.push(await measure(tsharkArgv));
    const walked = await measure(walkArgv, { keepStdout: true });
    walkCount = walked.stdout.trim();
    runs.walk.push(walked);
    process.stdout.write(
      `round ${round + 1}/${ROUNDS}: analyze ${runs.analyze.at(-1).wall.toFixed(2)} s` +
        `${round < TSHARK_ROUNDS ? `, tshark ${runs.tshark.at(-1).wall.toFixed(2)} s` : ''}, walk ${walked.wall.toFixed(2)} s\n`,
    );
  }

  // CPU the whole machine spent during the batch, less what the runs and this script used: other work.
  const self = process.cpuUsage(selfBefore);
  const ours =
    Object.values(runs)
      .flat()
      .reduce((sum, r) => sum + r.cpu, 0) +
    (self.user + self.system) / 1e6;
  const others = Math.max(0, cpuBusySeconds() - busyBefore - ours);
  const batchSeconds = (Date.now() - batchStart) / 1000;

  // tshark's own footprint with next to no packets, to price what each packet adds.
  const tiny = join(OUT, 'tiny.pcap');
  await run(['editcap', '-F', 'pcap', '-r', BASE, tiny, '1-1000']);
  const tsharkTiny = await measure(['tshark', '-r', tiny, '-q', '-z', 'conv,tcp', '-z', 'conv,udp']);
  const analyzeTiny = await measure([node, V6LAB_BIN, 'analyze', tiny, '--json']);
  const walkTiny = await measure([node, join(ROOT, 'bench', 'walk-records.js'), tiny]);

  const packets = bigAnalysis.capture.packets;
  const [walkPackets] = walkCount.split(' ').map(Number);
  const stat = (name) => {
    const r = runs[name];
    const wall = median(r.map((x) => x.wall));
    return {
      name,
      n: r.length,
      wall,
      speed: bigMib / wall,
      rss: Math.max(...r.map((x) => x.rssMib)),
      cpu: median(r.map((x) => x.cpu)),
      all: r.map((x) => x.wall.toFixed(2)).join(' '),
    };
  };
  const a = stat('analyze');
  const t = stat('tshark');
  const w = stat('walk');
  const verdict = (ok) => (ok ? 'PASS' : 'MISS');
  const cpuModel = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) ?? [undefined, cpus()[0]?.model ?? '?'])[1];
  const nproc = (await run(['nproc'])).stdout.trim();
  const tsharkVersion = (await run(['tshark', '--version'])).stdout.split('\n')[0].replace(/\.$/, '');

  const lines = [
    '',
    '== v6lab analyze: speed and memory ==',
    `machine   nproc ${nproc}, ${cpuModel}, node ${process.version}, ${tsharkVersion}, Linux ${release()}`,
    `capture   bench/out/big.pcap ${bigMib.toFixed(1)} MiB (pcap, LINUX_SLL2), ${rep.copies} copies of base.pcap; ` +
      `${packets} packets (walk: ${walkPackets}), ${Math.round(bigSize / packets)} bytes/record on average`,
    `flows     ${bigAnalysis.flows.length} (base.pcap ${baseAnalysis.flows.length} x ${rep.copies} copies = ${baseAnalysis.flows.length * rep.copies}), ` +
      `${bigAnalysis.dns.length} DNS queries, ${bigAnalysis.capture.duplicates} duplicates, ${bigAnalysis.capture.warnings.length} warnings`,
    `cache     file read once before the runs: all runs read from a warm page cache (no cache drop)`,
    `others    other processes used ${others.toFixed(1)} CPU-s during the ${batchSeconds.toFixed(0)} s batch (${(others / batchSeconds).toFixed(2)} cores on average)` +
      `${others / batchSeconds > 0.1 ? ': the machine was shared, figures are pessimistic and noisy' : ''}`,
    `runs      ${ROUNDS} rounds interleaved (analyze, tshark, walk), tshark in ${TSHARK_ROUNDS}; each a child process under GNU time`,
    '',
    table([
      ['tool', 'runs', 'wall s (median)', 'MiB/s', 'peak RSS MiB', 'cpu s (median)', 'wall s (each run)'],
      ...[a, t, w].map((s) => [s.name, s.n, s.wall.toFixed(2), s.speed.toFixed(0), s.rss.toFixed(1), s.cpu.toFixed(2), s.all]),
    ]),
    '',
    `analyze vs tshark speed   ${(a.speed / t.speed).toFixed(1)}x   (target >= 25x)      ${verdict(a.speed / t.speed >= 25)}`,
    `analyze vs walk speed     ${((a.speed / w.speed) * 100).toFixed(0)}%     (target >= 50%)      ${verdict(a.speed / w.speed >= 0.5)}`,
    `analyze peak RSS          ${a.rss.toFixed(1)} MiB (target < 128 MiB) ${verdict(a.rss < 128)}`,
    `fixed cost                on a 1000-packet file analyze takes ${analyzeTiny.wall.toFixed(2)} s, walk ${walkTiny.wall.toFixed(2)} s, tshark ` +
      `${tsharkTiny.wall.toFixed(2)} s (process start, module loading): part of every wall time above`,
    `tshark memory per packet  ${((t.rss * 1024) / packets).toFixed(2)} KiB (peak RSS / packets); ` +
      `${(((t.rss - tsharkTiny.rssMib) * 1024) / packets).toFixed(2)} KiB net of its ${tsharkTiny.rssMib.toFixed(1)} MiB on a 1000-packet file`,
    `memory vs packets         base.pcap ${baseAnalysis.capture.packets} packets, ${baseAnalysis.flows.length} flows: ${baseRun.rssMib.toFixed(1)} MiB; ` +
      `${sameFlows.copies} copies continuing the same flows (${sameAnalysis.capture.packets} packets, ${sameAnalysis.flows.length} flows): ` +
      `${sameRun.rssMib.toFixed(1)} MiB (${((sameRun.rssMib / baseRun.rssMib - 1) * 100).toFixed(0)}% for ${sameFlows.copies}x the packets; target: no growth with packets)`,
    `analyze memory            ${a.rss.toFixed(1)} MiB peak, ${(a.rss - analyzeTiny.rssMib).toFixed(1)} MiB more than its ${analyzeTiny.rssMib.toFixed(1)} MiB on the ` +
      `1000-packet file: at most ${(((a.rss - analyzeTiny.rssMib) * 1024) / bigAnalysis.flows.length).toFixed(2)} KiB per flow (V8 heap headroom included)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  if (PROFILE) {
    const dir = join(OUT, 'prof');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const profiled = await measure([node, '--cpu-prof', `--cpu-prof-dir=${dir}`, V6LAB_BIN, 'analyze', BIG, '--json']);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    const { total, top } = topSelfTime(JSON.parse(readFileSync(join(dir, file), 'utf8')), 15);
    process.stdout.write(
      `\nprofile   one analyze under --cpu-prof (${profiled.wall.toFixed(2)} s; bench/out/prof/${file}); self time, inlined callees count in their caller:\n` +
        `${table(top.map(([fn, us]) => [`  ${fn}`, `${(us / 1000).toFixed(0)} ms`, `${((us / total) * 100).toFixed(1)}%`]))}\n`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// (4) The flow-count series (issue 19): one size, 1k to 1M flows, synthetic captures.

/** Flow counts of the series at 1 GiB; 184,240 is issue 19's long capture. Scaled down with BENCH_SIZE_MB. */
const SERIES_FLOWS = [1000, 10_000, 100_000, 184_240, 1_000_000];
const SERIES_SEED = 19;
const ISSUE_CASE = 184_240;

/** The series' flow counts: BENCH_FLOWS (comma-separated), else SERIES_FLOWS at SIZE_MIB / 1024 (same flows per byte). */
function seriesFlows() {
  if (process.env.BENCH_FLOWS) {
    const list = process.env.BENCH_FLOWS.split(',').map(Number);
    if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_FLOWS must be whole numbers >= 1, comma-separated: ${process.env.BENCH_FLOWS}`);
    return list.map((flows) => ({ flows, nominal: flows }));
  }
  const scale = Math.min(1, SIZE_MIB / 1024);
  return SERIES_FLOWS.map((nominal) => ({ nominal, flows: Math.max(1, Math.round(nominal * scale)) }));
}

/** bench/out/series-FLOWS.pcap, written unless one with the same parameters and generator is there. */
function seriesCapture(flows) {
  const path = join(OUT, `series-${flows}.pcap`);
  const metaPath = join(OUT, `series-${flows}.json`);
  const generator = createHash('sha256')
    .update(readFileSync(join(ROOT, 'bench', 'synth-capture.js')))
    .digest('hex')
    .slice(0, 16);
  const want = { flows, bytes: Math.round(SIZE_MIB * MIB), seed: SERIES_SEED, generator };
  if (existsSync(path) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    if (JSON.stringify(meta.params) === JSON.stringify(want) && statSync(path).size === meta.stats.bytes)
      return { path, stats: meta.stats, cached: true, seconds: 0 };
  }
  const t0 = process.hrtime.bigint();
  const stats = writeSyntheticCapture({ path, flows, bytes: want.bytes, seed: SERIES_SEED });
  writeFileSync(metaPath, `${JSON.stringify({ params: want, stats }, null, 2)}\n`);
  return { path, stats, cached: false, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/**
 * Reads a JSON document as it streams past and keeps only its shape: how many elements each
 * top-level array has, and the parsed value of the few top-level members named in `keep` (small
 * ones). The whole document of a 1M-flow capture is hundreds of MiB: too much to hold as a string.
 */
class JsonShape {
  constructor(keep) {
    this.keep = new Set(keep);
    this.counts = {};
    this.values = {};
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.expectKey = false;
    this.key = null;
    this.keyBytes = null;
    this.member = null;
    this.counting = false;
    this.seenElement = false;
    this.raw = null;
    this.bytes = 0;
    /** The document's outermost value has closed (a truncated document never gets here). */
    this.complete = false;
  }

  feed(chunk) {
    this.bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.raw) this.raw.push(c);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) {
          this.inString = false;
          if (this.keyBytes) {
            this.key = Buffer.from(this.keyBytes).toString('utf8');
            this.keyBytes = null;
          }
        } else if (this.keyBytes) this.keyBytes.push(c);
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      if (this.depth === 2 && this.counting && !this.seenElement && c !== 0x2c && c !== 0x5d) {
        this.counts[this.member]++;
        this.seenElement = true;
      }
      switch (c) {
        case 0x22: // "
          this.inString = true;
          if (this.depth === 1 && this.expectKey) {
            this.keyBytes = [];
            this.expectKey = false;
          }
          break;
        case 0x3a: // :
          if (this.depth === 1) {
            this.member = this.key;
            if (this.keep.has(this.member)) this.raw = [];
          }
          break;
        case 0x7b: // {
        case 0x5b: // [
          this.depth++;
          if (this.depth === 1) this.expectKey = true;
          if (this.depth === 2 && c === 0x5b) {
            this.counts[this.member] = 0;
            this.counting = true;
            this.seenElement = false;
          }
          break;
        case 0x7d: // }
        case 0x5d: // ]
          this.depth--;
          if (this.depth === 1) this.counting = false;
          if (this.depth === 0) {
            this.endMember(true);
            this.complete = true;
          }
          break;
        case 0x2c: // ,
          if (this.depth === 1) {
            this.endMember(false);
            this.expectKey = true;
          } else if (this.depth === 2) this.seenElement = false;
          break;
      }
    }
  }

  /** The top-level member just ended (at its ',' or at the document's closing '}'). */
  endMember(last) {
    if (!this.raw) return;
    const text = Buffer.from(this.raw.slice(0, -1)).toString('utf8');
    this.values[this.member] = JSON.parse(text);
    this.raw = null;
    if (last) this.member = null;
  }
}

/** Compares what analyze --json found in a series capture with what the generator wrote; a list of differences. */
function checkAgainstGenerator(shape, stats) {
  const wrong = [];
  if (!shape.complete) wrong.push(`the JSON document is cut short: it ends after ${shape.bytes} bytes, ${shape.depth} levels deep`);
  const capture = shape.values.capture ?? {};
  const same = (what, found, wrote) => {
    if (found !== wrote) wrong.push(`${what}: analyze found ${found ?? 'none'}, the generator wrote ${wrote}`);
  };
  same('flows', shape.counts.flows, stats.flows);
  same('DNS queries', shape.counts.dns, stats.dnsQueries);
  same('packets', capture.packets, stats.packets);
  const byPath = shape.values.summary?.flowsByPath ?? {};
  for (const [path, n] of Object.entries(stats.flowsByPath)) same(`${path} flows`, byPath[path], n);
  if (stats.connections.none > 0 && !(shape.values.nat64Prefixes ?? []).includes('64:ff9b::/96')) {
    wrong.push(`NAT64 prefix: analyze found ${JSON.stringify(shape.values.nat64Prefixes)}, the ipv4only.arpa answers say 64:ff9b::/96`);
  }
  if ((capture.warnings ?? []).length > 0) wrong.push(`warnings: ${capture.warnings.join(' | ')}`);
  return wrong;
}

/** `git describe` of the measured checkout, and whether its work tree differs (dist may then be newer than HEAD). */
async function describeCheckout(dir) {
  const head = await run(['git', '-C', dir, 'log', '-1', '--format=%h %cs'], { allowFail: true });
  const dirty = await run(['git', '-C', dir, 'status', '--porcelain', '--untracked-files=no', '--', 'lib', 'bin'], { allowFail: true });
  const built = existsSync(join(dir, 'dist', 'cli', 'main.js'))
    ? new Date(statSync(join(dir, 'dist', 'cli', 'main.js')).mtimeMs).toISOString().slice(0, 16)
    : '?';
  const changes = dirty.code === 0 && dirty.stdout.trim() ? `, with uncommitted changes in lib/ or bin/ (${dirty.stdout.trim().split('\n').length} files)` : '';
  return `${dir} at ${head.code === 0 ? head.stdout.trim() : '(not a git checkout)'}${changes}, dist built ${built} UTC`;
}

async function machine() {
  const cpuModel = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) ?? [undefined, cpus()[0]?.model ?? '?'])[1];
  const nproc = (await run(['nproc'])).stdout.trim();
  const tsharkVersion = (await run(['tshark', '--version'])).stdout.split('\n')[0].replace(/\.$/, '');
  return `nproc ${nproc}, ${cpuModel}, node ${process.version}, ${tsharkVersion}, Linux ${release()}`;
}

const thousands = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '?');

async function seriesBench() {
  mkdirSync(OUT, { recursive: true });
  const node = process.execPath;
  const list = seriesFlows();
  process.stdout.write(
    `\n== flow-count series (issue 19): ${list.map((e) => thousands(e.flows)).join(', ')} flows, ${SIZE_MIB} MiB each ==\n` +
      `v6lab     ${await describeCheckout(V6LAB_DIR)}\n`,
  );

  // Captures first, so that writing them does not share the CPU with a measurement.
  const captures = [];
  for (const entry of list) {
    const capture = seriesCapture(entry.flows);
    captures.push({ ...entry, ...capture });
    const st = capture.stats;
    process.stdout.write(
      `${capture.cached ? 'reusing' : `wrote in ${capture.seconds.toFixed(1)} s`} bench/out/series-${entry.flows}.pcap: ${(st.bytes / MIB).toFixed(1)} MiB, ` +
        `${thousands(st.packets)} packets, ${thousands(st.flows)} flows, ${thousands(st.dnsQueries)} DNS queries, ${thousands(st.names)} names, ` +
        `mix level ${st.mixLevel} (tls ${st.mix.tls}, http ${st.mix.http}, quic ${st.mix.quic}, small udp ${st.mix.udp})\n`,
    );
  }

  const busyBefore = cpuBusySeconds();
  const selfBefore = process.cpuUsage();
  const batchStart = Date.now();
  let ours = 0;
  let wrongAnswers = 0;
  const results = [];
  for (const capture of captures) {
    const { path, stats } = capture;
    warmCache(path);
    const label = `${thousands(stats.flows)} flows`;

    // The answer first (untimed): analyze --json must find what the generator wrote.
    const shape = new JsonShape(['capture', 'nat64Prefixes', 'summary']);
    let wrong;
    let jsonFailed = null;
    try {
      const counted = await measure([node, V6LAB_BIN, 'analyze', path, '--json'], { onStdout: (d) => shape.feed(d), timeoutMs: 1_800_000 });
      ours += counted.cpu;
      wrong = checkAgainstGenerator(shape, stats);
    } catch (err) {
      // Timing a run that fails the same way again would only burn the CPU others share.
      jsonFailed = err?.summary ?? (err instanceof Error ? err.message : String(err));
      wrong = [`analyze --json failed: ${jsonFailed}`];
    }
    if (wrong.length > 0) {
      wrongAnswers++;
      process.stdout.write(
        `\n!!! ${label}: ANALYZE ${jsonFailed ? 'FAILED' : 'GAVE A WRONG ANSWER, THE FIGURES BELOW MEASURE IT ANYWAY AND MEAN LITTLE'}:\n` +
          `${wrong.map((w) => `!!!   ${w}`).join('\n')}\n\n`,
      );
    } else {
      process.stdout.write(
        `${label}: checked: analyze --json finds the generator's ${thousands(stats.flows)} flows (by path too), ${thousands(stats.dnsQueries)} DNS queries, ` +
          `${thousands(stats.packets)} packets${stats.connections.none > 0 ? ' and 64:ff9b::/96' : ''}; ${(shape.bytes / MIB).toFixed(1)} MiB of JSON\n`,
      );
    }

    const tools = [
      ['analyze --json', [node, V6LAB_BIN, 'analyze', path, '--json'], ROUNDS],
      ['analyze (table)', [node, V6LAB_BIN, 'analyze', path], ROUNDS],
      ['tshark', ['tshark', '-r', path, '-q', '-z', 'conv,tcp', '-z', 'conv,udp'], TSHARK_ROUNDS],
      ['walk', [node, join(ROOT, 'bench', 'walk-records.js'), path], ROUNDS],
    ];
    const runs = new Map(tools.map(([name]) => [name, { runs: [], error: name === 'analyze --json' ? jsonFailed : null }]));
    for (let round = 0; round < ROUNDS; round++) {
      const walls = [];
      for (const [name, argv, rounds] of tools) {
        const slot = runs.get(name);
        if (round >= rounds || slot.error) continue;
        try {
          const r = await measure(argv, { timeoutMs: 1_800_000 });
          slot.runs.push(r);
          ours += r.cpu;
          walls.push(`${name} ${r.wall.toFixed(2)} s`);
        } catch (err) {
          slot.error = err?.summary ?? (err instanceof Error ? err.message : String(err));
          walls.push(`${name} FAILED (${slot.error})`);
        }
      }
      process.stdout.write(`${label}, round ${round + 1}/${ROUNDS}: ${walls.join(', ')}\n`);
    }
    const sizeMib = stats.bytes / MIB;
    const summary = (name) => {
      const { runs: r, error } = runs.get(name);
      if (r.length === 0) return { name, n: 0, error };
      const wall = median(r.map((x) => x.wall));
      return {
        name,
        n: r.length,
        error,
        wall,
        speed: sizeMib / wall,
        rss: Math.max(...r.map((x) => x.rssMib)),
        nsPerPacket: (wall / stats.packets) * 1e9,
        all: r.map((x) => x.wall.toFixed(2)).join(' '),
      };
    };
    results.push({ capture, wrong, tools: Object.fromEntries(tools.map(([name]) => [name, summary(name)])) });
  }

  const self = process.cpuUsage(selfBefore);
  ours += (self.user + self.system) / 1e6;
  const batchSeconds = (Date.now() - batchStart) / 1000;
  const others = Math.max(0, cpuBusySeconds() - busyBefore - ours);

  const failures = [];
  const rows = [['flows', 'packets', 'tool', 'runs', 'wall s (median)', 'MiB/s', 'peak RSS MiB', 'ns/packet', 'vs tshark', 'wall s (each run)']];
  for (const { capture, tools } of results) {
    const tshark = tools.tshark;
    let first = true;
    for (const t of Object.values(tools)) {
      const head = first ? [thousands(capture.stats.flows), thousands(capture.stats.packets)] : ['', ''];
      first = false;
      if (t.n === 0) {
        rows.push([...head, t.name, 0, t.error ? 'FAILED' : 'not run', '', '', '', '', t.error ? 'see below' : '']);
        if (t.error) failures.push(`${thousands(capture.stats.flows)} flows, ${t.name}: FAILED, ${t.error}`);
        continue;
      }
      if (t.error) failures.push(`${thousands(capture.stats.flows)} flows, ${t.name}: a later round FAILED, ${t.error}`);
      const ratio = t.name.startsWith('analyze') && tshark.n > 0 ? `${(tshark.wall / t.wall).toFixed(1)}x` : '';
      rows.push([
        ...head,
        t.name,
        t.n,
        t.wall.toFixed(2),
        t.speed.toFixed(0),
        t.rss.toFixed(1),
        t.nsPerPacket.toFixed(0),
        ratio,
        t.all + (t.error ? ' then FAILED' : ''),
      ]);
    }
  }

  const verdict = (ok) => (ok ? 'PASS' : 'MISS');
  const byNominal = (n) => results.find((r) => r.capture.nominal === n);
  const lines = [
    '',
    '== v6lab analyze: the flow-count series (issue 19) ==',
    `machine   ${await machine()}`,
    `v6lab     ${await describeCheckout(V6LAB_DIR)}`,
    `captures  bench/out/series-*.pcap, ${SIZE_MIB} MiB each (pcap, LINUX_SLL2), bench/synth-capture.js seed ${SERIES_SEED}; warm page cache (each read once before its runs)`,
    `others    other processes used ${others.toFixed(1)} CPU-s during the ${batchSeconds.toFixed(0)} s of measurement (${(others / batchSeconds).toFixed(2)} cores on average)` +
      `${others / batchSeconds > 0.1 ? ': the machine was shared, figures are pessimistic and noisy' : ''}`,
    `runs      ${ROUNDS} rounds interleaved per capture (analyze --json, analyze, tshark, walk), tshark in ${TSHARK_ROUNDS}; each a child process under GNU time; ` +
      'wall s from spawn to exit (process start included), ns/packet = that / packets',
    '',
    table(rows),
    ...failures,
    '',
  ];
  const growth = (name) => {
    const from = byNominal(10_000)?.tools[name];
    const to = byNominal(1_000_000)?.tools[name];
    if (!from?.n || !to?.n) return null;
    return { from, to, factor: to.nsPerPacket / from.nsPerPacket };
  };
  const scaled =
    SIZE_MIB < 1024 && !process.env.BENCH_FLOWS
      ? ` (scaled to ${SIZE_MIB} MiB: ${thousands(byNominal(10_000)?.capture.flows)} and ${thousands(byNominal(1_000_000)?.capture.flows)} flows)`
      : '';
  for (const name of ['analyze --json', 'analyze (table)']) {
    const g = growth(name);
    if (!g) {
      const failed = [10_000, 1_000_000].some((n) => byNominal(n)?.tools[name].n === 0);
      lines.push(
        `${name.padEnd(16)} time per packet 10k -> 1M flows${scaled}: not measured${failed ? ' (a run failed, above)' : ''}` +
          `${name === 'analyze --json' ? ' (target <= 1.5x) MISS' : ''}`,
      );
      continue;
    }
    lines.push(
      `${name.padEnd(16)} time per packet 10k -> 1M flows${scaled}: ${g.from.nsPerPacket.toFixed(0)} -> ${g.to.nsPerPacket.toFixed(0)} ns, ${g.factor.toFixed(2)}x` +
        `${name === 'analyze --json' ? ` (target <= 1.5x) ${verdict(g.factor <= 1.5)}` : ''}`,
    );
  }
  const issueCase = byNominal(ISSUE_CASE);
  if (issueCase) {
    const a = issueCase.tools['analyze --json'];
    const t = issueCase.tools.tshark;
    const flows = thousands(issueCase.capture.stats.flows);
    if (a.n > 0 && t.n > 0)
      lines.push(`${flows} flows (issue 19's case): analyze --json ${(t.wall / a.wall).toFixed(1)}x tshark (target >= 25x) ${verdict(t.wall / a.wall >= 25)}`);
    else lines.push(`${flows} flows (issue 19's case): analyze --json vs tshark not measured (target >= 25x) MISS`);
    if (a.n > 0) lines.push(`${flows} flows (issue 19's case): analyze --json peak RSS ${a.rss.toFixed(1)} MiB (target < 128 MiB) ${verdict(a.rss < 128)}`);
    else lines.push(`${flows} flows (issue 19's case): analyze --json peak RSS not measured (target < 128 MiB) MISS`);
    if (SIZE_MIB !== 1024) lines.push(`          (the targets are set for 1024 MiB; this run used ${SIZE_MIB} MiB)`);
  }
  if (wrongAnswers > 0) {
    lines.push(
      '',
      `!!! ${wrongAnswers} of ${results.length} captures: analyze --json failed or its answer differs from the generator's (above); figures of a wrong answer mean little`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (wrongAnswers > 0) process.exitCode = 1;
}

async function main() {
  if (!['all', 'recorded', 'series'].includes(PART)) throw new Error(`BENCH_PART must be all, recorded or series, not ${PART}`);
  await requireTools(PART === 'series' ? 'series' : 'recorded');
  if (PART !== 'series') await recordedBench();
  if (PART !== 'recorded') await seriesBench();
}

async function cleanupAndExit(signal) {
  for (const child of [...running]) await stopChild(child, 'SIGTERM', 2000);
  for (const ns of [...namespaces]) await removeNamespace(ns);
  process.stderr.write(`bench: stopped by ${signal}\n`);
  process.exit(130);
}
process.once('SIGINT', () => void cleanupAndExit('SIGINT'));
process.once('SIGTERM', () => void cleanupAndExit('SIGTERM'));

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : err}\n`);
  process.exitCode = 1;
} finally {
  for (const child of [...running]) await stopChild(child, 'SIGTERM', 2000);
  for (const ns of [...namespaces]) await removeNamespace(ns);
}
