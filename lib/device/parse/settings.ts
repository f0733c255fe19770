import { DeviceOutputError } from './errors.js';
import { completeLines, MAX_LINE_LENGTH, withinLineCap } from './lines.js';

/**
 * Parses `settings get NAMESPACE KEY`: the value on one line, the literal `null` when unset.
 * @returns the value, or null when the setting is unset
 * @throws DeviceOutputError on no complete line, or on more than one (usage text, an exception)
 */
export function parseSettingsGet(text: string): string | null {
  const lines = completeLines(text);
  // opportunistic
  if (lines.length !== 1) {
    throw new DeviceOutputError(
      'settings get',
      lines.length === 0 ? 'no complete line' : `${lines.length} lines where one value was expected`,
      lines[1]?.number,
    );
  }
  const value = lines[0]!.text;
  if (!withinLineCap(value)) {
    throw new DeviceOutputError(
      'settings get',
      `a line of ${value.length} characters, longer than the ${MAX_LINE_LENGTH} a value is read to`,
      lines[0]!.number,
    );
  }
  // /system/bin/sh: settings: inaccessible or not found   |   cmd: Can't find service: settings
  if (/^(?:\/system\/bin\/sh|sh|settings|cmd): /.test(value) || /^(?:Exception occurred|Error while|java\.lang\.\w*Exception)/.test(value)) {
    throw new DeviceOutputError('settings get', `an error, not a value: ${JSON.stringify(value)}`, lines[0]!.number);
  }
  return value === 'null' ? null : value;
}
