import { DeviceOutputError } from './errors.js';
import { completeLines, withinLineCap } from './lines.js';

/** One row of `content query`; `NULL` columns are null. */
export type ContentRow = Record<string, string | null>;

/** The provider refused the query (the adb shell user usually may not read APNs). */
export interface ContentDenied {
  readonly denied: true;
  readonly message: string;
}

export function isContentDenied(result: ContentRow[] | ContentDenied | PreferredApn): result is ContentDenied {
  return result !== null && !Array.isArray(result) && (result as Partial<ContentDenied>).denied === true;
}

// `content` catches the provider's exception, prints it to stderr and exits 0 all the same
// (cmds/content Content.java), so a refusal is known by its text, never by the exit status.
// Android 9 and 10 (and later), the APN table closed to the shell user:
//   Error while accessing provider:telephony
//   	java.lang.SecurityException: No permission to write APN settings
// Android 11 and later through `cmd` ("Exception occurred while executing 'query':" then the exception)
const DENIAL = /SecurityException|Permission Denial|^Error while accessing provider/;
// the exception the refusal names, tab-indented under "Error while accessing provider" on Android 10:
//   	java.lang.SecurityException: No permission to write APN settings
const SECURITY = /SecurityException|Permission Denial/;
//   java.lang.IllegalArgumentException: Unknown URI content://telephony/carriers/x
const EXCEPTION = /^\s*[\w.$]+(?:Exception|Error): /;

/**
 * The refusal in `content` output, or null: by its text, whatever the exit status was (exit 0
 * on the versions whose `content` catches the exception). A caller deciding whether to retry as
 * root asks this, not the exit status.
 */
export function contentRefusal(text: string): ContentDenied | null {
  const lines = completeLines(text).filter((l) => withinLineCap(l.text));
  const denialAt = lines.findIndex((l) => DENIAL.test(l.text));
  if (denialAt < 0) return null;
  const detail = lines.find((l) => SECURITY.test(l.text)) ?? lines.slice(denialAt + 1).find((l) => EXCEPTION.test(l.text)) ?? lines[denialAt]!;
  return { denied: true, message: detail.text.trim() };
}

// Every version; the columns are the provider's and grow with it (Android 10/11 emulator):
// Row: 0 _id=1, name=T-Mobile US, numeric=310260, mcc=310, mnc=260, carrier_id=-1, apn=epc.tmobile.com, user=none, server=*, ..., type=, current=1, protocol=IP, ..., apn_set_id=0, skip_464xlat=-1
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
  const refusal = contentRefusal(text);
  if (refusal) return refusal;
  const lines = completeLines(text).filter((l) => withinLineCap(l.text));
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

/** The telephony provider's preferred APN of the default data subscription. */
export const PREFERRED_APN_URI = 'content://telephony/carriers/preferapn';

/** The preferred APN's row, null when none is preferred, or the provider's refusal. */
export type PreferredApn = ContentRow | null | ContentDenied;

/**
 * Parses `content query --uri content://telephony/carriers/preferapn`: the row of the APN the
 * user (or the carrier's default) chose, which is what the device attaches with. `current=1` in
 * the full table is not that: it marks every row of the SIM operator's MCC/MNC (TelephonyProvider
 * sets it on the rows whose `numeric` matches the SIM), often several.
 * @returns the row, null for `No result found.` (nothing preferred), or the refusal
 * @throws DeviceOutputError when the output is none of these, or holds more than one row (the
 *   provider returns the one row whose `_id` is the preference)
 */
export function parsePreferredApn(text: string): PreferredApn {
  const rows = parseContentRows(text);
  if (isContentDenied(rows)) return rows;
  if (rows.length > 1)
    throw new DeviceOutputError('content query --uri content://telephony/carriers/preferapn', `${rows.length} rows where the provider returns one`);
  return rows[0] ?? null;
}
