import { DeviceOutputError } from './errors.js';
import { completeLines, withinLineCap } from './lines.js';

/** One row of `content query`; `NULL` columns are null. */
export type ContentRow = Record<string, string | null>;

/** The provider refused the query (the adb shell user usually may not read APNs). */
export interface ContentDenied {
  readonly denied: true;
  readonly message: string;
}

export function isContentDenied(result: ContentRow[] | ContentDenied): result is ContentDenied {
  return !Array.isArray(result);
}

// Error while accessing provider:telephony
// java.lang.SecurityException: No permission to access APN settings
// (Android 11+ through cmd: "Exception occurred while executing 'query':" then the exception)
const DENIAL = /SecurityException|Permission Denial|^Error while accessing provider/;

// Row: 0 _id=1, name=T-Mobile US, numeric=310260, type=default,supl,mms, protocol=IPV6
const ROW = /^Row: (\d+) (.*)$/;
// A column starts at ", key=" (key: lower case, digits, '_'): a ", " inside a value not followed
// by such a key stays in the value; a "," without a space (type=default,supl) always does.
const COLUMN_BOUNDARY = /, (?=[a-z_0-9]+=)/;

/**
 * Parses `content query --uri ...`.
 * @returns the rows (`No result found.` -> []), or `{ denied: true, message }` when refused
 * @throws DeviceOutputError when the output is neither rows, `No result found.` nor a refusal
 */
export function parseContentRows(text: string): ContentRow[] | ContentDenied {
  const lines = completeLines(text).filter((l) => withinLineCap(l.text));
  const denialAt = lines.findIndex((l) => DENIAL.test(l.text));
  if (denialAt >= 0) {
    const detail = lines.find((l) => /SecurityException|Permission Denial/.test(l.text)) ?? lines[denialAt]!;
    return { denied: true, message: detail.text.trim() };
  }
  const rows: ContentRow[] = [];
  let sawNoResult = false;
  for (const { text: line } of lines) {
    if (line.trim() === 'No result found.') {
      sawNoResult = true;
      continue;
    }
    const match = ROW.exec(line);
    if (!match) continue;
    const row: ContentRow = {};
    let malformed = false;
    for (const column of match[2]!.split(COLUMN_BOUNDARY)) {
      const equals = column.indexOf('=');
      const key = column.slice(0, equals);
      if (equals <= 0 || !/^[a-z_0-9]+$/i.test(key) || Object.hasOwn(row, key)) {
        malformed = true;
        break;
      }
      const value = column.slice(equals + 1);
      row[key] = value === 'NULL' ? null : value;
    }
    if (!malformed) rows.push(row);
  }
  if (rows.length === 0 && !sawNoResult) throw new DeviceOutputError('content query', 'no "Row: N ..." line and no "No result found."');
  return rows;
}
