// UDP traffic for the bench's base capture, run in the client namespace: several sockets per
// family send datagrams of app-like sizes (voice/game ticks, QUIC-sized packets) to the server's
// echo ports and wait for each echo (or 200 ms), so both directions are in the capture.
//
//   node bench/lab/udp-client.js --v4 100.64.0.1 --v6 2001:db8:1::1 [--sockets 4] [--datagrams 150]
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    v4: { type: 'string' },
    v6: { type: 'string' },
    sockets: { type: 'string', default: '4' },
    datagrams: { type: 'string', default: '150' },
  },
});
if (!opt.v4 || !opt.v6) throw new Error('udp-client.js needs --v4 and --v6');
const SIZES = [60, 80, 120, 160, 200, 320, 480, 640, 1000, 1200, 1250, 1350];

async function conversation(address, port, count, seed) {
  const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise((resolve) => socket.bind(0, resolve));
  let answered = 0;
  for (let i = 0; i < count; i++) {
    const size = SIZES[(i * 7 + seed) % SIZES.length];
    const payload = randomBytes(size);
    // A QUIC long header (Initial) first byte on 443, as a browser's first datagram has.
    if (port === 443) payload[0] = i === 0 ? 0xc3 : 0x43;
    const echoed = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 200);
      socket.once('message', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    socket.send(payload, port, address);
    if (await echoed) answered++;
    await new Promise((resolve) => setTimeout(resolve, 1 + (i % 3)));
  }
  socket.close();
  return answered;
}

const sockets = Number(opt.sockets);
const datagrams = Number(opt.datagrams);
const runs = [];
for (let i = 0; i < sockets; i++) {
  runs.push(conversation(opt.v6, i % 2 ? 4433 : 443, datagrams, i));
  runs.push(conversation(opt.v4, i % 2 ? 443 : 4433, datagrams, i + 5));
}
const answered = (await Promise.all(runs)).reduce((a, b) => a + b, 0);
process.stdout.write(`udp: ${answered}/${runs.length * datagrams} echoed\n`);
