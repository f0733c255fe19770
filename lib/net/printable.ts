/**
 * Text from a capture or a phone (DNS names, SNI, device models, app names) printed on a
 * terminal: every character that could move the cursor, clear the screen, end a table row or
 * reorder what follows is shown as an escape instead, so what is printed is what was seen.
 * Here, the lowest layer, so every text printer (the CLI, reports' text) can reach it.
 */

// C0 controls and DEL, C1 controls (8-bit CSI U+009B is an escape on some terminals), the
// Unicode line and paragraph separators, and the bidi marks, embeddings, overrides and isolates
// (U+061C, U+200E/F, U+202A-E, U+2066-9: "Trojan Source", CVE-2021-42574).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// a backslash too, so that an escape shown is never text that only looks like one
const UNSAFE_OR_BACKSLASH = /[\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escaped(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/**
 * `text` with control characters shown as escapes: ESC as `\x1b`, a newline as `\n`, a tab as
 * `\t`, other C0/C1 controls and DEL as `\xNN`, bidi controls and line separators as `\u{NNNN}`,
 * and a backslash as `\\`. Everything else, non-ASCII letters included, is kept.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE_OR_BACKSLASH, escaped);
}

/**
 * Text stored through printable() (an app's log lines in results.json), shown again: controls
 * escaped as printable() escapes them, a backslash left as it is (it is printable's own escape:
 * doubling it would show an ESC as `\\x1b`). A stored text edited since still cannot drive the
 * terminal.
 */
export function printableStored(text: string): string {
  return text.replace(UNSAFE, escaped);
}

/**
 * JSON.stringify, with the characters it leaves raw that a terminal may act on (C1 controls,
 * DEL, bidi controls, line separators) written as `\uNNNN`: the same JSON value, safe to print.
 */
export function printableJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A capture's timestamp (seconds since 1970, as pcap and pcapng carry it) as `YYYY-MM-DD
 * hh:mm:ss.sss` UTC. A pcapng block may carry any 64-bit time, far outside what a Date can hold
 * (±8.64e15 ms): such a time is printed as its seconds, said to be off the calendar, never thrown.
 */
export function captureTime(ts: number): string {
  const date = new Date(ts * 1000);
  if (Number.isNaN(date.getTime())) return `${Number.isFinite(ts) ? ts.toExponential(6) : String(ts)} s since 1970 (outside the calendar)`;
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
