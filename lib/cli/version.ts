import { createRequire } from 'node:module';

/** The version in package.json: what results.json and `--version` name. */
export function toolVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}
