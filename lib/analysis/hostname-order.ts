/**
 * The order hostnames are listed in for people: digit runs compare as numbers, so host2 comes
 * before host10 (as text, "1" < "2" put host10 first). Locale-free on purpose, not Intl.Collator:
 * the same capture lists its names in the same order on every machine and Node build (a
 * small-icu Node has no collation data).
 */

const ZERO = 0x30;
const NINE = 0x39;

const isDigit = (code: number) => code >= ZERO && code <= NINE;
/** ASCII case folded: DNS names compare case-insensitively (RFC 4343). */
const folded = (code: number) => (code >= 0x41 && code <= 0x5a ? code + 0x20 : code);

/**
 * Compares two hostnames for sorting: negative when `a` comes first. Digit runs compare by value
 * (leading zeros ignored), everything else by character code with ASCII case folded. Names equal
 * that way are ordered by fewer leading zeros, then by their exact text, so the order is total and
 * the same whatever order the names arrived in.
 */
export function compareHostnames(a: string, b: string): number {
  let i = 0;
  let j = 0;
  // The first difference in leading zeros of equal numbers: "host2" before "host02".
  let zerosTieBreak = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ia = i;
      let jb = j;
      while (ia < a.length && a.charCodeAt(ia) === ZERO) ia++;
      while (jb < b.length && b.charCodeAt(jb) === ZERO) jb++;
      let endA = ia;
      let endB = jb;
      while (endA < a.length && isDigit(a.charCodeAt(endA))) endA++;
      while (endB < b.length && isDigit(b.charCodeAt(endB))) endB++;
      // Without leading zeros, a longer run is a larger number.
      const lengths = endA - ia - (endB - jb);
      if (lengths !== 0) return lengths;
      for (let k = 0; k < endA - ia; k++) {
        const digits = a.charCodeAt(ia + k) - b.charCodeAt(jb + k);
        if (digits !== 0) return digits;
      }
      if (zerosTieBreak === 0) zerosTieBreak = ia - i - (jb - j);
      i = endA;
      j = endB;
      continue;
    }
    const chars = folded(ca) - folded(cb);
    if (chars !== 0) return chars;
    i++;
    j++;
  }
  const rest = a.length - i - (b.length - j);
  if (rest !== 0) return rest;
  if (zerosTieBreak !== 0) return zerosTieBreak;
  return a < b ? -1 : a > b ? 1 : 0;
}
