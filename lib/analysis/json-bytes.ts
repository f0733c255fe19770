/**
 * JSON written as bytes into one reused buffer, handed on when full: the document's million flows
 * are printed without a string per flow (each was built, joined into a chunk, then encoded again:
 * a third of `--json`'s time went to that and to collecting it, issue 19). What it writes is what
 * printableJson would: plain ASCII strings as they are, any other through printableJson itself.
 */
import { printableJson } from '../net/printable.js';

/** Printable ASCII without a quote or backslash: JSON as it is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

export class JsonBytes {
  private buf = Buffer.allocUnsafe(1 << 16);
  private at = 0;

  /** `flush` gets the bytes written so far (a view of the buffer: copy what it keeps). */
  constructor(private readonly flush: (bytes: Buffer) => void) {}

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
    else this.ascii(Number.isFinite(x) ? String(x) : 'null');
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
    if (this.at > 0) this.flush(this.buf.subarray(0, this.at));
    this.at = 0;
  }

  /** A non-negative int32, digit by digit: no string. */
  private small(n: number): void {
    if (this.at + 10 > this.buf.length) this.room(10);
    if (n < 10) {
      this.buf[this.at++] = 0x30 + n;
      return;
    }
    let digits = 1;
    for (let t = n; t >= 10; t = (t / 10) | 0) digits++;
    let i = this.at + digits;
    this.at = i;
    do {
      this.buf[--i] = 0x30 + (n % 10);
      n = (n / 10) | 0;
    } while (n > 0);
  }

  private room(length: number): void {
    this.end();
    if (length > this.buf.length) this.buf = Buffer.allocUnsafe(length);
  }
}
