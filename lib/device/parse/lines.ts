/** One line of device output with its 1-based number. */
export interface NumberedLine {
  readonly number: number;
  readonly text: string;
}

/**
 * The complete lines of `text`: `\r\n` and `\n` both end a line, a trailing `\r` is dropped.
 * A last line without its newline is left out: every command these parsers read ends its output
 * with a newline, so an unterminated last line is a cut one, and a cut value would be a wrong
 * value (`/64` read as `/6`).
 */
export function completeLines(text: string): NumberedLine[] {
  const parts = text.split('\n');
  parts.pop(); // the part after the last '\n': empty when complete, a cut line otherwise
  return parts.map((line, i) => ({ number: i + 1, text: line.endsWith('\r') ? line.slice(0, -1) : line }));
}

/**
 * The longest line a parser reads, in UTF-16 units. Android's longest lines (a NetworkAgentInfo
 * of `dumpsys connectivity`) are a few kB; a longer one comes from a broken or hostile device,
 * and is skipped as a malformed line is, before any regex sees it, so no line can make a parser
 * slow however its patterns behave.
 */
export const MAX_LINE_LENGTH = 64 * 1024;

/** Whether a parser may read this line (see MAX_LINE_LENGTH). */
export function withinLineCap(line: string): boolean {
  return line.length <= MAX_LINE_LENGTH;
}

/** Leading spaces and tabs of a line (a tab counts as one column, as dumpsys never mixes them). */
export function indentation(line: string): number {
  return line.length - line.trimStart().length;
}

// *** SERVICE 'connectivity' DUMP TIMEOUT (10000ms) EXPIRED ***
// Error with service 'connectivity' while dumping: DEAD_OBJECT
const DUMPSYS_CUT = /\*\*\* (?:SERVICE '[^']*' )?DUMP TIMEOUT\b.*\*\*\*|Error with service '[^']*' while dumping/;

/**
 * The line where dumpsys says a service's dump stopped early (past its deadline, or the service
 * died), or null. dumpsys still exits 0, and before its timeout notice it ends the cut line with a
 * newline, so that line looks whole: a `userId=101` cut from `userId=10105` is another app's uid.
 */
export function dumpsysCutNotice(lines: readonly NumberedLine[]): NumberedLine | null {
  return lines.find((l) => withinLineCap(l.text) && DUMPSYS_CUT.test(l.text)) ?? null;
}
