import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

const lib = resolve(import.meta.dirname, '../../lib');

/** Reads the layer table of lib/README.md: `| \`layer\` | job | a, b |`. */
function allowedImports(): Map<string, Set<string>> {
  const rows = readFileSync(join(lib, 'README.md'), 'utf8')
    .split('\n')
    .filter((l) => /^\| `[a-z]+` \|/.test(l));
  return new Map(
    rows.map((row) => {
      const cells = row.split('|').map((c) => c.trim());
      return [
        cells[1]!.replaceAll('`', ''),
        new Set(
          cells[3]!
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ];
    }),
  );
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('lib/ layering', () => {
  const layers = allowedImports();

  it('lists every folder of lib/ in lib/README.md', () => {
    const folders = readdirSync(lib).filter((n) => statSync(join(lib, n)).isDirectory());
    assert.ok(layers.size >= 4, 'lib/README.md has a layer table');
    for (const folder of folders) assert.ok(layers.has(folder), `lib/${folder} is not in the layer table of lib/README.md`);
  });

  it('imports only downward', () => {
    const violations: string[] = [];
    for (const file of sources(lib)) {
      const layer = relative(lib, file).split(sep)[0]!;
      const allowed = layers.get(layer) ?? new Set<string>();
      for (const match of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
        const target = relative(lib, resolve(file, '..', match[1]!)).split(sep)[0]!;
        if (target !== layer && !allowed.has(target)) violations.push(`${relative(lib, file)} imports ${match[1]} (layer ${target})`);
      }
    }
    assert.deepEqual(violations, []);
  });
});
