/** Seeded mutations of capture files, for the analyzer's fuzz test and the fuzz bench. */

/** mulberry32: a small, fast, seedable PRNG; the same seed gives the same cases everywhere. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x06, 0x11, 0x2c, 0x3a, 0x86, 0xdd, 0x08];

/** One to eight mutations of `input`: bit flips, interesting bytes, length fields, cuts, splices. */
export function mutate(input: Uint8Array, random: () => number): Uint8Array {
  let bytes = Uint8Array.from(input);
  const pick = (n: number) => Math.floor(random() * n);
  const rounds = 1 + pick(8);
  for (let r = 0; r < rounds && bytes.length > 0; r++) {
    const at = pick(bytes.length);
    switch (pick(7)) {
      case 0:
        bytes[at] = bytes[at]! ^ (1 << pick(8));
        break;
      case 1:
        bytes[at] = INTERESTING[pick(INTERESTING.length)]!;
        break;
      case 2: {
        // a 16- or 32-bit field set to an extreme
        const width = random() < 0.5 ? 2 : 4;
        for (let i = 0; i < width && at + i < bytes.length; i++) bytes[at + i] = random() < 0.5 ? 0xff : 0x00;
        break;
      }
      case 3:
        bytes = bytes.slice(0, at);
        break; // truncation
      case 4: {
        // delete a run
        const n = 1 + pick(64);
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + n)]);
        break;
      }
      case 5: {
        // duplicate a run in place
        const n = 1 + pick(256);
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at, at + n), ...bytes.subarray(at)]);
        break;
      }
      default: {
        // random bytes over a run
        const n = 1 + pick(16);
        for (let i = 0; i < n && at + i < bytes.length; i++) bytes[at + i] = pick(256);
      }
    }
  }
  return bytes;
}
