#!/usr/bin/env node
// The compiled CLI lives in dist/ (`npm run build`; `npm start` and `npm test` build it).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('v6lab: dist/ is missing: run `npm run build` in the v6lab checkout first\n');
  process.exit(3);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
