/**
 * The JSON Schemas (draft 2020-12) of the data files users edit, checked with ajv beside the
 * combinators of schema.ts. The combinators word the errors (`FILE: field: expected ..., got ...`)
 * and do the checks a schema cannot say (a package listed twice, a start page missing from the
 * pages); the JSON Schema is the contract editors and other tools read (schemas/*.schema.json,
 * written from the objects here by scripts/write-schemas.ts). A file passes only when both accept
 * it, and test/unit/schema.test.ts feeds both the same bad files so they cannot drift apart.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { DataFileError, type Schema } from './schema.js';

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** A JSON Schema document, as plain data (it is written to schemas/ verbatim). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** A data file's schema and the name it is shipped under in schemas/. */
export interface DataFileSchema {
  /** `device-profile.schema.json`: its file in schemas/. */
  file: string;
  schema: JsonSchema;
}

// One validator for every schema: strict, so a misspelt keyword in a schema is an error, not a rule
// silently ignored; the first error only, as a data file's error is one line (exit 2).
// strictRequired is off: a schema's `anyOf: [{ required: ['serial'] }, ...]` names fields its parent defines.
const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: false });
const compiled = new Map<JsonSchema, ValidateFunction>();

function validatorOf(schema: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** `/apps/0/package` -> `apps[0].package`, the field style of DataFileError. */
export function fieldOf(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((field, segment) => (/^\d+$/.test(segment) ? `${field}[${segment}]` : field === '' ? segment : `${field}.${segment}`), '');
}

/** An ajv error as DataFileError's field and problem (the field of `required` and `additionalProperties` is in params). */
export function describeSchemaError(error: ErrorObject): { field: string; problem: string } {
  const at = fieldOf(error.instancePath);
  const child = (key: string) => (at === '' ? key : `${at}.${key}`);
  if (error.keyword === 'required') return { field: child((error.params as { missingProperty: string }).missingProperty), problem: 'missing' };
  if (error.keyword === 'additionalProperties')
    return { field: child((error.params as { additionalProperty: string }).additionalProperty), problem: 'unknown field' };
  if (error.keyword === 'enum')
    return { field: at, problem: `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
  return { field: at, problem: error.message ?? `fails ${error.keyword}` };
}

/** The first problem `schema` finds in `value`, or null when it accepts it. */
export function jsonSchemaProblem(schema: JsonSchema, value: unknown): { field: string; problem: string } | null {
  const validate = validatorOf(schema);
  if (validate(value)) return null;
  const first = validate.errors?.[0];
  return first === undefined ? { field: '', problem: 'does not match its schema' } : describeSchemaError(first);
}

/**
 * A data file's whole check: the top-level `$schema` (a pointer for editors) set aside, the
 * combinators' check and then the loader's `rules` across fields (their wording), then the JSON
 * Schema's (what it rejects that they accepted is named with the schema's file, a disagreement
 * to report).
 */
export function checkedAgainst<T>(dataFileSchema: DataFileSchema, check: Schema<T>, rules: (checked: T, file: string) => void = () => {}): Schema<T> {
  return (value, field, file) => {
    let content = value;
    if (field === '' && value !== null && typeof value === 'object' && !Array.isArray(value) && '$schema' in value) {
      const { $schema, ...rest } = value as Record<string, unknown>;
      if (typeof $schema !== 'string' || $schema === '')
        throw new DataFileError(
          file,
          '$schema',
          `expected the URL or path of ${dataFileSchema.file}, got ${$schema === '' ? 'an empty string' : JSON.stringify($schema)}`,
        );
      content = rest;
    }
    const checked = check(content, field, file);
    rules(checked, file);
    const problem = jsonSchemaProblem(dataFileSchema.schema, value);
    if (problem !== null) {
      const at = field === '' ? problem.field : problem.field === '' ? field : `${field}.${problem.field}`;
      throw new DataFileError(file, at, `${problem.problem} (schemas/${dataFileSchema.file})`);
    }
    return checked;
  };
}

/**
 * Builders mirroring the combinators of schema.ts, so a loader states each field once in each
 * language with the same pattern and limits (`pattern: SERIAL.source` beside `string({ pattern: SERIAL })`).
 */
export const json = {
  /** A non-empty string (the combinators reject ""), as `string()` checks it. */
  string(options: { pattern?: RegExp; maxLength?: number; description?: string } = {}): JsonSchema {
    return {
      type: 'string',
      minLength: 1,
      ...(options.maxLength === undefined ? {} : { maxLength: options.maxLength }),
      ...(options.pattern === undefined ? {} : { pattern: options.pattern.source }),
      ...(options.description === undefined ? {} : { description: options.description }),
    };
  },
  integer(minimum: number, maximum: number, description?: string): JsonSchema {
    return { type: 'integer', minimum, maximum, ...(description === undefined ? {} : { description }) };
  },
  number(minimum: number, maximum: number, description?: string): JsonSchema {
    return { type: 'number', minimum, maximum, ...(description === undefined ? {} : { description }) };
  },
  boolean(description?: string): JsonSchema {
    return { type: 'boolean', ...(description === undefined ? {} : { description }) };
  },
  oneOf(values: readonly (string | number | boolean)[], description?: string): JsonSchema {
    return { enum: [...values], ...(description === undefined ? {} : { description }) };
  },
  array(items: JsonSchema, options: { min?: number; max?: number; description?: string } = {}): JsonSchema {
    return {
      type: 'array',
      items,
      ...(options.min === undefined ? {} : { minItems: options.min }),
      ...(options.max === undefined ? {} : { maxItems: options.max }),
      ...(options.description === undefined ? {} : { description: options.description }),
    };
  },
  record(key: JsonSchema, value: JsonSchema, options: { min?: number; description?: string } = {}): JsonSchema {
    return {
      type: 'object',
      propertyNames: key,
      additionalProperties: value,
      ...(options.min === undefined ? {} : { minProperties: options.min }),
      ...(options.description === undefined ? {} : { description: options.description }),
    };
  },
  /** Required and optional fields; any other key is an error, as `object()` says. */
  object(required: Record<string, JsonSchema>, optional: Record<string, JsonSchema> = {}, extra: JsonSchema = {}): JsonSchema {
    return {
      type: 'object',
      ...extra,
      properties: { ...required, ...optional },
      ...(Object.keys(required).length === 0 ? {} : { required: Object.keys(required) }),
      additionalProperties: false,
    };
  },
  /** A data file's top-level schema: the dialect, a title, and `$schema` allowed beside its fields. */
  dataFile(file: string, title: string, description: string, body: JsonSchema): DataFileSchema {
    const properties = (body.properties ?? {}) as Record<string, JsonSchema>;
    return {
      file,
      schema: {
        $schema: JSON_SCHEMA_DIALECT,
        title,
        description,
        ...body,
        properties: { $schema: { type: 'string', minLength: 1, description: `This schema's URL or path, for editors (ignored by v6lab).` }, ...properties },
      },
    };
  },
};
