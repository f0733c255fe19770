// The reference loop of bench/analyze.js: walks the record headers of a pcap file read with
// fs.readSync into one reused buffer, touching nothing but the lengths. It is the practical limit
// of reading a capture in Node; the analyzer cannot beat it, and should reach half its speed.
//
//   node bench/walk-records.js FILE [BLOCK_KIB]   prints "PACKETS BYTES"
import { closeSync, openSync, readSync } from 'node:fs';

const [path, blockKib = '4096'] = process.argv.slice(2);
if (!path) throw new Error('usage: walk-records.js FILE [BLOCK_KIB]');
const buf = Buffer.allocUnsafe(Number(blockKib) * 1024);
const fd = openSync(path, 'r');
let have = 0;
let at = 24;
let le = true;
let started = false;
let packets = 0;
let bytes = 0;
for (;;) {
  const n = readSync(fd, buf, have, buf.length - have, null);
  if (n === 0) break;
  have += n;
  if (!started) {
    if (have < 24) continue;
    const magic = buf.readUInt32LE(0);
    if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
    else if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${path}: not a pcap file (magic 0x${magic.toString(16)})`);
    started = true;
  }
  while (have - at >= 16) {
    const capLen = le ? buf.readUInt32LE(at + 8) : buf.readUInt32BE(at + 8);
    if (have - at < 16 + capLen) break;
    packets++;
    bytes += capLen;
    at += 16 + capLen;
  }
  buf.copy(buf, 0, at, have);
  have -= at;
  at = 0;
}
closeSync(fd);
process.stdout.write(`${packets} ${bytes}\n`);
