/** Android's init (./init.ts) as a file: .js once built, .ts from sources. */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const INIT_PROGRAM = fileURLToPath(new URL(`./init${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
