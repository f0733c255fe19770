/** The sync service's program (./sync-agent.ts) as a file: .js once built, .ts from sources. */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SYNC_AGENT_PROGRAM = fileURLToPath(new URL(`./sync-agent${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
