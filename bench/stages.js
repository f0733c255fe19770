#!/usr/bin/env node
// Where the analyzer's time goes on bench/out/big.pcap (make it with bench/analyze.js first):
// the same file through ever more of the pipeline, each stage in a fresh child process (its own
// JIT state), rounds interleaved, median wall time of the stage's own work (module loading and
// process start excluded). The step from one stage to the next is what that layer costs.
//
//   node bench/stages.js [FILE] [ROUNDS]        (after `npm run build`; BENCH_DIST=DIR for another build)
//
// Stages:  read-sync   fs.readSync 4 MiB blocks into one buffer, walk record headers (walk-records.js)
//          read-async  the same with FileHandle.read (what analyzeFile does), no reader
//          reader      CaptureReader.reserve/commit from readSync, a sink that does nothing
//          decode      + decodePacket() on every packet
//          analyzer    + CaptureAnalyzer.packet() (flows, duplicates, DNS, TLS), no report
//          report      + report() (what analyzeFile returns)
//          cli         analyzeFile() as `v6lab analyze` calls it, with JSON.stringify
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BLOCK = 4 * 1024 * 1024;
const STAGES = ['read-sync', 'read-async', 'reader', 'decode', 'analyzer', 'report', 'cli'];
// BENCH_DIST=/other/checkout/dist compares another build of the library (A/B of a hot-path change).
const DIST = process.env.BENCH_DIST ? pathToFileURL(`${process.env.BENCH_DIST.replace(/\/$/, '')}/`) : new URL('../dist/', import.meta.url);
const dist = (path) => new URL(path, DIST).href;

function walk(buf, from, to, state) {
  let at = from;
  while (to - at >= 16) {
    const capLen = buf.readUInt32LE(at + 8);
    if (to - at < 16 + capLen) break;
    state.packets++;
    at += 16 + capLen;
  }
  return at;
}

async function stage(name, file) {
  const { CaptureReader } = await import(dist('capture/reader.js'));
  const { PacketView, decodePacket } = await import(dist('capture/decode.js'));
  const { CaptureAnalyzer } = await import(dist('analysis/analyzer.js'));
  const { analyzeFile } = await import(dist('analysis/index.js'));
  const t0 = process.hrtime.bigint();
  let packets = 0;
  if (name === 'read-sync' || name === 'read-async') {
    const buf = Buffer.allocUnsafe(BLOCK);
    const state = { packets: 0 };
    let have = 0;
    let at = 24;
    const handle = name === 'read-async' ? await open(file, 'r') : null;
    const fd = handle ? -1 : openSync(file, 'r');
    for (;;) {
      const n = handle ? (await handle.read(buf, have, buf.length - have, null)).bytesRead : readSync(fd, buf, have, buf.length - have, null);
      if (n === 0) break;
      have += n;
      at = walk(buf, at, have, state);
      buf.copy(buf, 0, at, have);
      have -= at;
      at = 0;
    }
    if (handle) await handle.close();
    else closeSync(fd);
    packets = state.packets;
  } else if (name === 'cli') {
    const analysis = await analyzeFile(file);
    JSON.stringify(analysis);
    packets = analysis.capture.packets;
  } else {
    let sink;
    if (name === 'reader') sink = { packet() {}, warning() {} };
    else if (name === 'decode') {
      const view = new PacketView();
      sink = {
        packet(buf, dv, offset, capLen, _origLen, _seconds, _nanoseconds, linkType, iface) {
          decodePacket(view, buf, dv, offset, capLen, linkType, iface);
        },
        warning() {},
      };
    } else sink = new CaptureAnalyzer({ source: file });
    const reader = new CaptureReader(sink, file, 2 * BLOCK);
    const fd = openSync(file, 'r');
    for (;;) {
      const room = reader.reserve(BLOCK);
      const n = readSync(fd, room.buffer, room.offset, Math.min(room.length, BLOCK), null);
      if (n === 0) break;
      reader.commit(n);
    }
    closeSync(fd);
    reader.finish();
    if (name === 'report') {
      sink.format = reader.format;
      sink.linkTypes = reader.linkTypes;
      sink.report();
    }
    packets = reader.packets;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`${JSON.stringify({ seconds, packets, rssMib: process.memoryUsage().rss / 2 ** 20 })}\n`);
}

function child(name, file) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--stage', name, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
    });
    proc.once('error', reject);
    proc.once('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`stage ${name} exited ${code}`))));
  });
}

if (process.argv[2] === '--stage') {
  await stage(process.argv[3], process.argv[4]);
} else {
  const file = process.argv[2] ?? fileURLToPath(new URL('out/big.pcap', import.meta.url));
  const rounds = Number(process.argv[3] ?? 3);
  const mib = statSync(file).size / 2 ** 20;
  const results = Object.fromEntries(STAGES.map((s) => [s, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of STAGES) results[name].push(await child(name, file));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  // Each stage's step is measured from the stage it adds to.
  const baseOf = { 'read-async': 'read-sync', reader: 'read-sync', decode: 'reader', analyzer: 'decode', report: 'analyzer', cli: 'report' };
  const nsPerPacket = (name) => (median(results[name].map((r) => r.seconds)) * 1e9) / results[name][0].packets;
  process.stdout.write(`${file}: ${mib.toFixed(0)} MiB, ${results.reader[0].packets} packets, ${rounds} rounds, medians\n`);
  process.stdout.write('stage        seconds   MiB/s   ns/packet   step ns/packet         rss MiB\n');
  for (const name of STAGES) {
    const s = median(results[name].map((r) => r.seconds));
    const packets = results[name][0].packets;
    const ns = (s * 1e9) / packets;
    const step = baseOf[name] ? `${(ns - nsPerPacket(baseOf[name])).toFixed(0)} (vs ${baseOf[name]})` : '';
    process.stdout.write(
      `${name.padEnd(11)} ${s.toFixed(3).padStart(8)} ${(mib / s).toFixed(0).padStart(7)} ${ns.toFixed(0).padStart(11)} ${step.padStart(22)} ${median(
        results[name].map((r) => r.rssMib),
      )
        .toFixed(1)
        .padStart(9)}\n`,
    );
  }
}
