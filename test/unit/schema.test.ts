import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { type DataFileSchema, fieldOf, jsonSchemaProblem } from '../../lib/config/json-schema.js';
import { DataFileError } from '../../lib/config/schema.js';
import { DEVICE_PROFILE_SCHEMA, loadDeviceProfile } from '../../lib/device/profile.js';
import { APP_CATALOGUE_SCHEMA, loadCatalogue } from '../../lib/harness/catalogue.js';
import { HANDSET_PROFILE_SCHEMA, LAB_APP_SCHEMA, loadApp, loadProfile, loadWorld, WORLD_SCHEMA } from '../../lib/lab/world.js';
import { DATA_FILE_SCHEMAS, SCHEMAS_DIR } from '../../scripts/write-schemas.js';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'v6lab-schema-'));
let n = 0;
const file = (content: unknown) => {
  const path = join(dir, `s${n++}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
};

interface Kind {
  schema: DataFileSchema;
  load: (file: string) => unknown;
  /** Which shipped files under devices/ are of this kind (path relative to devices/). */
  matches: RegExp;
  /**
   * The rules only the loader checks, as the words of its error: a JSON Schema cannot say that a
   * value names another part of the same file (a start page among the pages) or is unique by one
   * field. A disagreement is allowed only where the loader's error is one of these.
   */
  loaderOnly: RegExp[];
}

const KINDS: Kind[] = [
  { schema: DEVICE_PROFILE_SCHEMA, load: loadDeviceProfile, matches: /^[^/]+\.json$/, loaderOnly: [] },
  { schema: APP_CATALOGUE_SCHEMA, load: loadCatalogue, matches: /^(catalogues\/[^/]+|lab\/.+\/catalogue)\.json$/, loaderOnly: [/is listed twice/] },
  { schema: WORLD_SCHEMA, load: loadWorld, matches: /^lab\/(.+\/)?world\.json$/, loaderOnly: [/is already hosts\[/] },
  { schema: LAB_APP_SCHEMA, load: loadApp, matches: /^lab\/(.+\/)?apps\/[^/]+\.json$/, loaderOnly: [/is not in pages/] },
  { schema: HANDSET_PROFILE_SCHEMA, load: loadProfile, matches: /^lab\/handsets\/[^/]+\.json$/, loaderOnly: [] },
];

function shippedDataFiles(): string[] {
  const devices = join(root, 'devices');
  return (readdirSync(devices, { recursive: true }) as string[])
    .filter((path) => path.endsWith('.json'))
    .map((path) => path.split('\\').join('/'))
    .sort();
}

/** What the loader says of a file: null when it loads, else its DataFileError. */
function loaderVerdict(kind: Kind, content: unknown): DataFileError | null {
  const path = file(content);
  try {
    kind.load(path);
    return null;
  } catch (error) {
    if (!(error instanceof DataFileError)) throw error;
    assert.equal(error.file, path);
    return error;
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Small edits of a good file, each a likely mistake: a value of the wrong type, an empty string,
 * a field dropped, a field added. Paths in DataFileError's style, for the failure message.
 */
function* mutations(value: Json, path = ''): Generator<[string, (root: Json) => Json]> {
  const edit = (transform: (v: Json) => Json | undefined) => (whole: Json) => editAt(whole, pathSegments(path), transform);
  if (value === null || typeof value !== 'object') {
    yield [`${path} = {}`, edit(() => ({}))];
    yield [`${path} = ""`, edit(() => '')];
    yield [`${path} = -1`, edit(() => -1)];
    if (typeof value === 'boolean') yield [`${path} flipped`, edit(() => !value)];
    if (typeof value === 'number') {
      for (const other of [0, 1, value - 1, value + 0.5, 1e9]) yield [`${path} = ${other}`, edit(() => other)];
    }
    if (typeof value === 'string') {
      for (const other of [` ${value}`, `${value}!`, value.toUpperCase(), value.repeat(300 / value.length + 1)])
        yield [`${path} = ${JSON.stringify(other.slice(0, 40))}`, edit(() => other)];
    }
    return;
  }
  yield [`${path} = "text"`, edit(() => 'text')];
  if (Array.isArray(value)) {
    yield [`${path} = []`, edit(() => [])];
    if (value.length > 0) yield [`${path} with its last entry twice`, edit(() => [...value, value[value.length - 1]!])];
    // Two entries that differ only in a flag (a second preferred APN, say).
    if (value.length > 1)
      yield [
        `${path} with a flag of its first entry on the second`,
        edit(() => [value[0]!, { ...(value[1] as object), ...(typeof value[0] === 'object' ? value[0] : {}) }, ...value.slice(2)] as Json),
      ];
    for (const [i, item] of value.entries()) yield* mutations(item, `${path}[${i}]`);
    return;
  }
  yield [`${path}.zzUnknown added`, edit((v) => ({ ...(v as object), zzUnknown: 1 }))];
  for (const [key, item] of Object.entries(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    yield [`${at} removed`, (whole) => editAt(whole, pathSegments(at), () => undefined)];
    yield* mutations(item, at);
  }
}

function pathSegments(path: string): (string | number)[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] === undefined ? m[1]! : Number(m[2])));
}

/** A copy of `whole` with the value at `segments` replaced (undefined: removed). */
function editAt(whole: Json, segments: (string | number)[], transform: (v: Json) => Json | undefined): Json {
  if (segments.length === 0) return transform(whole) ?? null;
  const [head, ...rest] = segments;
  if (Array.isArray(whole)) {
    const copy = [...whole];
    const next = rest.length === 0 ? transform(copy[head as number]!) : editAt(copy[head as number]!, rest, transform);
    if (next === undefined) copy.splice(head as number, 1);
    else copy[head as number] = next;
    return copy;
  }
  const copy = { ...(whole as Record<string, Json>) };
  const next = rest.length === 0 ? transform(copy[head as string]!) : editAt(copy[head as string]!, rest, transform);
  if (next === undefined) delete copy[head as string];
  else copy[head as string] = next;
  return copy;
}

describe('JSON Schemas of the data files (schemas/)', () => {
  it('ships each schema exactly as the loaders check with it (npx tsx scripts/write-schemas.ts writes them)', () => {
    const shipped = readdirSync(SCHEMAS_DIR)
      .filter((name) => name.endsWith('.json'))
      .sort();
    assert.deepEqual(shipped, DATA_FILE_SCHEMAS.map((s) => s.file).sort());
    for (const { file: name, schema } of DATA_FILE_SCHEMAS) {
      assert.deepEqual(JSON.parse(readFileSync(join(SCHEMAS_DIR, name), 'utf8')), schema, `schemas/${name} is stale: run npx tsx scripts/write-schemas.ts`);
    }
  });

  it('are valid draft 2020-12 schemas for a strict validator other tools would use', () => {
    for (const { file: name, schema } of DATA_FILE_SCHEMAS) {
      assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
      const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true });
      assert.equal(ajv.validateSchema(schema), true, `${name}: ${ajv.errorsText(ajv.errors)}`);
      ajv.compile(schema);
    }
  });

  it('every shipped data file (devices/**/*.json) has a kind, loads, and validates against its schema', () => {
    const files = shippedDataFiles();
    assert.ok(files.length >= 20, `found only ${files.length} data files under devices/`);
    for (const path of files) {
      const kinds = KINDS.filter((k) => k.matches.test(path));
      assert.equal(kinds.length, 1, `devices/${path} is of ${kinds.length} kinds: give it exactly one schema`);
      const kind = kinds[0]!;
      const content = JSON.parse(readFileSync(join(root, 'devices', path), 'utf8')) as unknown;
      assert.equal(jsonSchemaProblem(kind.schema.schema, content), null, `devices/${path} against schemas/${kind.schema.file}`);
      kind.load(join(root, 'devices', path));
    }
  });

  it('accepts "$schema" in every data file, and only as a string', () => {
    for (const kind of KINDS) {
      const example = shippedDataFiles().find((path) => kind.matches.test(path))!;
      const content = JSON.parse(readFileSync(join(root, 'devices', example), 'utf8')) as Record<string, unknown>;
      const pointed = { $schema: `../schemas/${kind.schema.file}`, ...content };
      assert.equal(loaderVerdict(kind, pointed), null, `${kind.schema.file} with $schema`);
      assert.equal(jsonSchemaProblem(kind.schema.schema, pointed), null);
      const wrong = loaderVerdict(kind, { ...content, $schema: 5 });
      assert.equal(wrong?.field, '$schema');
      assert.match(wrong?.problem ?? '', new RegExp(`expected the URL or path of ${kind.schema.file.replace(/\./g, '\\.')}, got 5`));
      assert.notEqual(jsonSchemaProblem(kind.schema.schema, { ...content, $schema: 5 }), null);
    }
  });

  // The two validators must say the same of every likely mistake in every shipped file: both
  // accept or both reject; apart only on the rules a schema cannot say.
  for (const kind of KINDS) {
    it(`the schema and the loader agree on every small edit of the shipped files: ${kind.schema.file}`, () => {
      let rejected = 0;
      for (const path of shippedDataFiles().filter((p) => kind.matches.test(p))) {
        const good = JSON.parse(readFileSync(join(root, 'devices', path), 'utf8')) as Json;
        for (const [what, mutate] of mutations(good)) {
          const content = mutate(good);
          const loader = loaderVerdict(kind, content);
          const schema = jsonSchemaProblem(kind.schema.schema, content);
          const where = `devices/${path} with ${what}`;
          assert.doesNotMatch(loader?.problem ?? '', /\(schemas\//, `${where}: only the schema rejects it: ${loader?.message}`);
          if (loader !== null && schema === null) {
            assert.ok(
              kind.loaderOnly.some((rule) => rule.test(loader.problem)),
              `${where}: only the loader rejects it (${loader.message}); say it in schemas/${kind.schema.file} or list the rule as loader-only`,
            );
            continue;
          }
          if (loader !== null) rejected++;
        }
      }
      assert.ok(rejected > 10, `only ${rejected} edits were rejected: the edits are not testing much`);
    });
  }

  it('the loader-only rules are real: the schema accepts what the loader rejects with them', () => {
    const catalogue = {
      name: 'c',
      apps: [
        { package: 'com.a.b', label: 'A' },
        { package: 'com.a.b', label: 'B' },
      ],
    };
    assert.equal(jsonSchemaProblem(APP_CATALOGUE_SCHEMA.schema, catalogue), null);
    assert.match(loaderVerdict(KINDS[1]!, catalogue)?.problem ?? '', /is listed twice/);
    const world = {
      hosts: [
        { name: 'a.test', ipv4: true, ipv6: true },
        { name: 'a.test', ipv4: true, ipv6: false },
      ],
    };
    assert.equal(jsonSchemaProblem(WORLD_SCHEMA.schema, world), null);
    assert.match(loaderVerdict(KINDS[2]!, world)?.problem ?? '', /is already hosts\[0\]/);
    const app = { package: 'com.a.b', label: 'A', start: 'home', pages: { main: { requests: [] } } };
    assert.equal(jsonSchemaProblem(LAB_APP_SCHEMA.schema, app), null);
    assert.match(loaderVerdict(KINDS[3]!, app)?.problem ?? '', /is not in pages/);
  });

  it('names fields in the style of the loaders', () => {
    assert.equal(fieldOf(''), '');
    assert.equal(fieldOf('/apps/0/flow/12/tap'), 'apps[0].flow[12].tap');
    assert.equal(fieldOf('/appium/capabilities/appium:x'), 'appium.capabilities.appium:x');
    assert.equal(fieldOf('/pages/a~1b'), 'pages.a/b');
    assert.deepEqual(jsonSchemaProblem(DEVICE_PROFILE_SCHEMA.schema, { name: 'p', serial: 's', networks: { ipv6: { apn: 'x' } }, apnSwich: 'manual' }), {
      field: 'apnSwich',
      problem: 'unknown field',
    });
    assert.deepEqual(jsonSchemaProblem(DEVICE_PROFILE_SCHEMA.schema, { serial: 's', networks: { ipv6: { apn: 'x' } } }), { field: 'name', problem: 'missing' });
    assert.deepEqual(jsonSchemaProblem(DEVICE_PROFILE_SCHEMA.schema, { name: 'p', serial: 's', networks: { ipv6: { apn: 'x' } }, apnSwitch: 'ui' }), {
      field: 'apnSwitch',
      problem: 'must be one of "content", "manual", "settings-ui"',
    });
    assert.equal(relative(root, SCHEMAS_DIR), 'schemas');
  });
});
