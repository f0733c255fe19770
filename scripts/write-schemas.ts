// Writes schemas/*.schema.json from the objects the loaders validate with, so the shipped schemas
// are the ones v6lab checks against (test/unit/schema.test.ts fails when they differ).
//   npx tsx scripts/write-schemas.ts && npx biome format --write schemas
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataFileSchema } from '../lib/config/json-schema.js';
import { DEVICE_PROFILE_SCHEMA } from '../lib/device/profile.js';
import { APP_CATALOGUE_SCHEMA } from '../lib/harness/catalogue.js';
import { HANDSET_PROFILE_SCHEMA, LAB_APP_SCHEMA, WORLD_SCHEMA } from '../lib/lab/world.js';

export const SCHEMAS_DIR = fileURLToPath(new URL('../schemas/', import.meta.url));

/** Every data file users edit, by its schema. */
export const DATA_FILE_SCHEMAS: readonly DataFileSchema[] = [DEVICE_PROFILE_SCHEMA, APP_CATALOGUE_SCHEMA, WORLD_SCHEMA, LAB_APP_SCHEMA, HANDSET_PROFILE_SCHEMA];

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const { file, schema } of DATA_FILE_SCHEMAS) {
    writeFileSync(join(SCHEMAS_DIR, file), `${JSON.stringify(schema, null, 2)}\n`);
    console.log(join(SCHEMAS_DIR, file));
  }
}
