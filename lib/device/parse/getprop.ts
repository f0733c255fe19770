import { DeviceOutputError } from './errors.js';
import { completeLines, withinLineCap } from './lines.js';

// [net.464xlat.cellular.enabled]: [true]
// Keys never hold ']'; values may (greedy match to the last ']') and may be empty.
const PROPERTY = /^\[([^\]]+)\]: \[(.*)\]$/;
// [ro.some.multi.line]: [first line      (a value holding a newline continues on the next line)
const PROPERTY_START = /^\[([^\]]+)\]: \[(.*)$/;

/**
 * Parses `getprop` (no argument): one `[key]: [value]` per property.
 * @throws DeviceOutputError when not one property line is found
 */
export function parseGetprop(text: string): Record<string, string> {
  const properties: Record<string, string> = Object.create(null) as Record<string, string>;
  let found = false;
  let pending: { key: string; value: string } | null = null;
  for (const { text: line } of completeLines(text)) {
    if (!withinLineCap(line)) {
      // a value with a line we do not read is not known: drop it rather than join the lines around
      pending = null;
      continue;
    }
    if (pending) {
      if (line.endsWith(']') && !PROPERTY.test(line)) {
        properties[pending.key] = `${pending.value}\n${line.slice(0, -1)}`;
        found = true;
        pending = null;
        continue;
      }
      if (!PROPERTY_START.test(line)) {
        pending.value += `\n${line}`;
        continue;
      }
      pending = null; // a new property began before the old one closed: drop the malformed one
    }
    const match = PROPERTY.exec(line);
    if (match) {
      properties[match[1]!] = match[2]!;
      found = true;
      continue;
    }
    const start = PROPERTY_START.exec(line);
    if (start) pending = { key: start[1]!, value: start[2]! };
  }
  if (!found) throw new DeviceOutputError('getprop', 'no "[key]: [value]" line');
  return { ...properties };
}
