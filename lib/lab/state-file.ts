/**
 * The lab's own state files (lab.json, handsets.json, supervisor.json, each handset's
 * handset.json, background.json, the world server's config), read as carefully as a file a user
 * edits: one process writes them and another reads them, and a cast is not a check. A file that
 * is not what the lab writes is a LabStateError naming the file and the field, with what to do.
 */
import { readCappedFile } from '../config/files.js';
import { DataFileError, integer, type Schema } from '../config/schema.js';
import { LabStateError } from './network/errors.js';

/** Any string, the empty one too (a setting set to "", an APN inserted without a name). */
export const text: Schema<string> = (value, field, file) => {
  if (typeof value !== 'string')
    throw new DataFileError(file, field, `expected a string, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  return value;
};

/** A whole number from 0: a pid, a uid, milliseconds. */
export const count = integer(0, Number.MAX_SAFE_INTEGER);

/** What to do about a state file that is not what the lab wrote. */
const REMEDY = 'the lab is not in a state it can use: `v6lab lab down`, then `v6lab lab up`';

/** `text` read from `file`, checked by `schema`; LabStateError naming file and field otherwise. */
export function parseStateFile<T>(file: string, content: string, schema: Schema<T>): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    throw new LabStateError(file, `is not JSON (${(error as Error).message}); ${REMEDY}`, { cause: error });
  }
  try {
    return schema(parsed, '', file);
  } catch (error) {
    if (!(error instanceof DataFileError)) throw error;
    throw new LabStateError(file, `${error.field === '' ? '' : `${error.field}: `}${error.problem}; ${REMEDY}`, { cause: error });
  }
}

/** Largest state file read: a handset's, with its APN table and settings, is a few kB. */
const MAX_STATE_FILE = 4 << 20;

/**
 * The state file `file` checked by `schema`, or null when there is none. Some are written by a
 * handset's own uids (handset.json) and read by root: a symlink is not followed, a FIFO or
 * device is not opened for reading, and a file larger than MAX_STATE_FILE is refused.
 */
export function readStateFile<T>(file: string, schema: Schema<T>): T | null {
  const read = readCappedFile(file, MAX_STATE_FILE);
  if ('problem' in read) {
    if (read.problem === 'missing') return null;
    throw new LabStateError(file, `is ${read.problem}, not a state file the lab writes; ${REMEDY}`);
  }
  return parseStateFile(file, read.bytes.toString('utf8'), schema);
}

/** Every field required, at every depth: so a field one side has and the other lacks is seen. */
type DeepRequired<T> = T extends readonly (infer U)[] ? DeepRequired<U>[] : T extends object ? { [K in keyof T]-?: DeepRequired<T[K]> } : T;

/**
 * True when the schema reads exactly `Type` (the same fields at every depth, optional ones too):
 * a compile-time guard that a schema and the interface its writer uses do not drift apart.
 */
export type Reads<S, Type> =
  S extends Schema<infer Out>
    ? [DeepRequired<Out>] extends [DeepRequired<Type>]
      ? [DeepRequired<Type>] extends [DeepRequired<Out>]
        ? true
        : false
      : false
    : false;
