/**
 * JSON written as bytes into one reused buffer, handed on when full: the document's million flows
 * are printed without a string per flow (each was built, joined into a chunk, then encoded again:
 * a third of `--json`'s time went to that and to collecting it, issue 19). What it writes is what
 * printableJson would: plain ASCII strings as they are, any other through printableJson itself.
 */
import { printableJson } from '../net/printable.js';
import { longestZeroRun } from '../net/address.js';

/** "00" to "99" as ASCII bytes, two by two. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 0x30 + ((i / 10) | 0);
  DIGIT_PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

/** Printable ASCII without a quote or backslash: JSON as it is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

export class JsonBytes {
  private buf: Buffer = Buffer.allocUnsafeSlow(1 << 16);
  private at = 0;

  private readonly spare: Buffer[] = [];

  /**
   * `flush` gets the bytes written so far, in a buffer that is its own until it calls `release`
   * (then it is written into again: memory a write has just touched, not fresh pages, and no copy;
   * copying 100 MiB of JSON, or a fresh buffer per flush, cost 6% of --json, issue 19).
   */
  constructor(private readonly flush: (bytes: Buffer, release: () => void) => void) {}

  /** Bytes written and not yet flushed. */
  get pending(): number {
    return this.at;
  }

  /** Text known to be ASCII (keys, punctuation, addresses, numbers). */
  ascii(text: string): void {
    const n = text.length;
    if (this.at + n > this.buf.length) this.room(n);
    // Short pieces (keys, punctuation) by hand: Buffer.write's argument checks cost more than they do.
    if (n <= 32) {
      const buf = this.buf;
      let at = this.at;
      for (let i = 0; i < n; i++) buf[at++] = text.charCodeAt(i);
      this.at = at;
    } else this.at += this.buf.write(text, this.at, 'latin1');
  }

  /** An array of plain values (strings or numbers) as printableJson writes it. */
  list(values: readonly (string | number)[]): void {
    this.ascii('[');
    for (let i = 0; i < values.length; i++) {
      if (i > 0) this.ascii(',');
      const v = values[i]!;
      if (typeof v === 'number') this.number(v);
      else this.string(v);
    }
    this.ascii(']');
  }

  /** A number as JSON.stringify writes it (non-finite: null). */
  number(x: number): void {
    if (Number.isInteger(x) && x >= 0 && x < 2 ** 31) this.small(x);
    else if (x >= 2 ** 30 && x < 2 ** 31 && this.microseconds(x)) return;
    else this.ascii(Number.isFinite(x) ? String(x) : 'null');
  }

  /**
   * A capture time of 2004 to 2038 with microsecond digits, written without a string, when String(x)
   * would give exactly those digits: x must be the double nearest the decimal s.kkkkkk. In
   * [2^30, 2^31) a double's step is 2^-22, so x = s + m·2^-22 (m whole) and the decimal is
   * s + k·10^-6; x is its nearest double when |m·2^-22 − k·10^-6| < 2^-23, i.e. (times 2^23·10^6,
   * all whole and below 2^53) |2·m·10^6 − k·2^23| < 10^6. Then no shorter decimal reaches x (two
   * decimals of at most six places are 10^-6 apart, over four steps), so the digits are
   * String(x)'s. A tie, or anything else, is left to String(x).
   */
  private microseconds(x: number): boolean {
    const s = Math.floor(x);
    const m = (x - s) * 4194304;
    const k = Math.round((m * 1e6) / 4194304);
    if (k >= 1e6 || Math.abs(2 * m * 1e6 - k * 8388608) >= 1e6) return false;
    this.small(s);
    if (k === 0) return true;
    if (this.at + 7 > this.buf.length) this.room(7);
    const buf = this.buf;
    buf[this.at++] = 0x2e;
    let digits = 6;
    let fraction = k;
    while (fraction % 10 === 0) {
      fraction /= 10;
      digits--;
    }
    for (let i = digits - 1; i >= 0; i--) {
      buf[this.at + i] = 0x30 + (fraction % 10);
      fraction = Math.floor(fraction / 10);
    }
    this.at += digits;
    return true;
  }

  /**
   * An address as formatAddress prints it (RFC 5952 for IPv6: lower-case hex without leading
   * zeros, the longest run of two or more zero groups, the first of equal runs, as "::"), from its
   * bytes, without a string.
   */
  address(bytes: Uint8Array, offset: number, family: 4 | 6): void {
    if (this.at + 40 > this.buf.length) this.room(40);
    if (family === 4) {
      for (let i = 0; i < 4; i++) {
        if (i > 0) this.buf[this.at++] = 0x2e;
        this.small(bytes[offset + i]!);
      }
      return;
    }
    const run = longestZeroRun(bytes, offset);
    const bestStart = run < 0 ? -1 : run >> 4;
    const bestLength = run < 0 ? 1 : run & 15;
    const buf = this.buf;
    for (let i = 0; i < 8; i++) {
      if (i === bestStart) {
        buf[this.at++] = 0x3a;
        buf[this.at++] = 0x3a;
        i += bestLength - 1;
        continue;
      }
      if (i !== 0 && i !== bestStart + bestLength) buf[this.at++] = 0x3a;
      const group = (bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!;
      let started = false;
      for (let shift = 12; shift >= 0; shift -= 4) {
        const nibble = (group >> shift) & 0xf;
        if (nibble === 0 && !started && shift > 0) continue;
        started = true;
        buf[this.at++] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble;
      }
    }
  }

  /** Bytes known to be a plain string (printable ASCII, no quote or backslash), quoted. */
  quoted(bytes: Uint8Array): void {
    if (this.at + bytes.length + 2 > this.buf.length) this.room(bytes.length + 2);
    const buf = this.buf;
    buf[this.at++] = 0x22;
    buf.set(bytes, this.at);
    this.at += bytes.length;
    buf[this.at++] = 0x22;
  }

  /** A string, or null, as printableJson writes it. */
  string(text: string | null): void {
    if (text === null) this.ascii('null');
    else if (PLAIN.test(text)) {
      if (this.at + text.length + 2 > this.buf.length) this.room(text.length + 2);
      this.buf[this.at++] = 0x22;
      this.at += this.buf.write(text, this.at, 'latin1');
      this.buf[this.at++] = 0x22;
    } else {
      const json = printableJson(text);
      const length = Buffer.byteLength(json);
      if (this.at + length > this.buf.length) this.room(length);
      this.at += this.buf.write(json, this.at, 'utf8');
    }
  }

  /** Any value through printableJson (the few and small parts). */
  value(value: unknown): void {
    const json = printableJson(value);
    const length = Buffer.byteLength(json);
    if (this.at + length > this.buf.length) this.room(length);
    this.at += this.buf.write(json, this.at, 'utf8');
  }

  /** Hands on what is written. */
  end(): void {
    if (this.at === 0) return;
    const full = this.buf;
    const bytes = full.subarray(0, this.at);
    this.buf = this.spare.pop() ?? Buffer.allocUnsafeSlow(full.length);
    this.at = 0;
    this.flush(bytes, () => {
      if (this.spare.length < 64) this.spare.push(full);
    });
  }

  /** A non-negative int32, digit by digit: no string. */
  /** A whole number from 0 below 2^31, two digits at a time (half the divisions of one at a time: a tenth of `--json`'s time went to digits, issue 19). */
  private small(n: number): void {
    if (this.at + 10 > this.buf.length) this.room(10);
    const buf = this.buf;
    if (n < 10) {
      buf[this.at++] = 0x30 + n;
      return;
    }
    const digits = n < 100 ? 2 : n < 1e3 ? 3 : n < 1e4 ? 4 : n < 1e5 ? 5 : n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10;
    let i = this.at + digits;
    this.at = i;
    while (n >= 100) {
      const q = (n / 100) | 0;
      const pair = 2 * (n - q * 100);
      buf[--i] = DIGIT_PAIRS[pair + 1]!;
      buf[--i] = DIGIT_PAIRS[pair]!;
      n = q;
    }
    if (n >= 10) {
      buf[--i] = DIGIT_PAIRS[2 * n + 1]!;
      buf[--i] = DIGIT_PAIRS[2 * n]!;
    } else buf[--i] = 0x30 + n;
  }

  private room(length: number): void {
    this.end();
    if (length > this.buf.length) this.buf = Buffer.allocUnsafeSlow(length);
  }
}
