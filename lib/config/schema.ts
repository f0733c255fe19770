/**
 * Validation of the data files users edit (lab worlds, emulated apps, handset profiles, app
 * catalogues): small combinators whose errors name the file and the field, never a stack.
 */
import { readFileSync } from 'node:fs';

/** A data file that does not say what it must: exit 2, one line naming file and field. */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}: ${field === '' ? '' : `${field}: `}${problem}`);
    this.name = 'DataFileError';
  }
}

/** Checks `value` at `field` and returns it typed, or throws DataFileError. */
export type Schema<T> = (value: unknown, field: string, file: string) => T;

const describe = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
};

export const string =
  (options: { pattern?: RegExp; what?: string; maxLength?: number } = {}): Schema<string> =>
  (value, field, file) => {
    if (typeof value !== 'string') throw new DataFileError(file, field, `expected ${options.what ?? 'a string'}, got ${describe(value)}`);
    if (value.length === 0) throw new DataFileError(file, field, `expected ${options.what ?? 'a string'}, got an empty string`);
    if (options.maxLength !== undefined && value.length > options.maxLength)
      throw new DataFileError(file, field, `longer than ${options.maxLength} characters`);
    if (options.pattern && !options.pattern.test(value))
      throw new DataFileError(file, field, `expected ${options.what ?? `text matching ${options.pattern}`}, got ${describe(value)}`);
    return value;
  };

export const integer =
  (min: number, max: number): Schema<number> =>
  (value, field, file) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new DataFileError(file, field, `expected a whole number from ${min} to ${max}, got ${describe(value)}`);
    }
    return value;
  };

/** A finite number from `min` to `max` inclusive (a share, a ratio: not only whole numbers). */
export const number =
  (min: number, max: number): Schema<number> =>
  (value, field, file) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new DataFileError(file, field, `expected a number from ${min} to ${max}, got ${describe(value)}`);
    }
    return value;
  };

export const boolean: Schema<boolean> = (value, field, file) => {
  if (typeof value !== 'boolean') throw new DataFileError(file, field, `expected true or false, got ${describe(value)}`);
  return value;
};

export function oneOf<const T extends readonly (string | number | boolean)[]>(choices: T): Schema<T[number]> {
  return (value, field, file) => {
    if (!choices.includes(value as never)) {
      throw new DataFileError(file, field, `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, got ${describe(value)}`);
    }
    return value as T[number];
  };
}

export function array<T>(item: Schema<T>, options: { min?: number; max?: number } = {}): Schema<T[]> {
  return (value, field, file) => {
    if (!Array.isArray(value)) throw new DataFileError(file, field, `expected an array, got ${describe(value)}`);
    if (value.length < (options.min ?? 0))
      throw new DataFileError(file, field, `expected at least ${options.min} entr${options.min === 1 ? 'y' : 'ies'}, got ${value.length}`);
    if (options.max !== undefined && value.length > options.max)
      throw new DataFileError(file, field, `expected at most ${options.max} entries, got ${value.length}`);
    return value.map((entry, i) => item(entry, `${field}[${i}]`, file));
  };
}

/** A map from keys (checked by `key`) to values. */
export function record<T>(key: Schema<string>, item: Schema<T>, options: { min?: number } = {}): Schema<Record<string, T>> {
  return (value, field, file) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DataFileError(file, field, `expected an object, got ${describe(value)}`);
    const entries = Object.entries(value);
    if (entries.length < (options.min ?? 0)) throw new DataFileError(file, field, `expected at least ${options.min} entr${options.min === 1 ? 'y' : 'ies'}`);
    return Object.fromEntries(entries.map(([k, v]) => [key(k, `${field}.${k} (key)`, file), item(v, `${field}.${k}`, file)]));
  };
}

type Fields = Record<string, Schema<unknown>>;
type Out<F extends Fields, O extends Fields> = { [K in keyof F]: ReturnType<F[K]> } & { [K in keyof O]?: ReturnType<O[K]> };

/** An object with `required` and `optional` fields; any other key is an error (a typo must not pass silently). */
export function object<F extends Fields, O extends Fields = Record<never, never>>(required: F, optional?: O): Schema<Out<F, O>> {
  return (value, field, file) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DataFileError(file, field, `expected an object, got ${describe(value)}`);
    const input = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    const at = (key: string) => (field === '' ? key : `${field}.${key}`);
    for (const key of Object.keys(input)) {
      if (!(key in required) && !(optional && key in optional)) {
        const known = [...Object.keys(required), ...Object.keys(optional ?? {})];
        throw new DataFileError(file, at(key), `unknown field (known: ${known.join(', ')})`);
      }
    }
    for (const [key, schema] of Object.entries(required)) {
      if (!(key in input)) throw new DataFileError(file, at(key), 'missing');
      out[key] = schema(input[key], at(key), file);
    }
    for (const [key, schema] of Object.entries(optional ?? {})) {
      if (key in input) out[key] = schema(input[key], at(key), file);
    }
    return out as Out<F, O>;
  };
}

/** `null`, or what `item` accepts (the documents processes pass each other say "none" with null). */
export function nullable<T>(item: Schema<T>): Schema<T | null> {
  return (value, field, file) => (value === null ? null : item(value, field, file));
}

/** Either of two schemas; the error of the second names the field. */
export function either<A, B>(first: Schema<A>, second: Schema<B>): Schema<A | B> {
  return (value, field, file) => {
    try {
      return first(value, field, file);
    } catch {
      return second(value, field, file);
    }
  };
}

/** Data files are small; one this large is a mistake (a capture given as a profile, say). */
export const MAX_DATA_FILE = 4 * 1024 * 1024;

/** Reads and parses a JSON data file, then checks it; every failure is a DataFileError naming the file. */
export function loadJsonFile<T>(path: string, schema: Schema<T>): T {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_DATA_FILE) throw new DataFileError(path, '', `is ${bytes.length} bytes; a data file is at most ${MAX_DATA_FILE}`);
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof DataFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataFileError(path, '', code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? String(error)})`);
  }
  if (text.trim() === '') throw new DataFileError(path, '', 'is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // V8: "Unexpected token } in JSON at position 42"
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    const where = position === undefined ? '' : ` at line ${text.slice(0, Number(position)).split('\n').length}`;
    throw new DataFileError(path, '', `is not valid JSON${where}: ${(error as Error).message}`);
  }
  return schema(parsed, '', path);
}
