/**
 * What a handset runs, installed where it can read it. Android's commands (./toolbox.ts), its
 * init, the sync service and the apps run inside the handset's container, as its uids, and the
 * checkout they come from is not there (and may be one no other user can enter: cloned into
 * /root, a `mktemp -d` directory). So `lab up` copies the modules they load, and the npm
 * packages those import, into the lab's state directory, with modes anyone can read; each
 * container shows that copy read-only at /system/v6lab.
 *
 * The copy keeps the layout under the library root (dist/, or lib/ for the unit tests that
 * run the toolbox from sources), so relative imports resolve as they do in the checkout; npm
 * packages go to its node_modules/.
 */
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { COMMAND_PROGRAM } from './toolbox.js';

/** Where the copy is inside a handset's container (../container.ts). */
export const CODE_INSIDE = '/system/v6lab';

/**
 * The library root a program sits under (`.../dist/` once built, `.../lib/` from sources): the
 * copy keeps the layout under it, so relative imports resolve as they do in the checkout.
 */
export function libraryRoot(program: string): string {
  const at = program.lastIndexOf(`${sep}lab${sep}`);
  if (at < 0) throw new Error(`${program} is not a module of the library's lab layer`);
  return program.slice(0, at + 1);
}

/**
 * A program as the handsets' containers run it: the built JavaScript (they have node, never
 * tsx). Run from sources (`lib/x.ts`), that is its twin in dist/ (`dist/x.js`), which
 * `npm run build` makes.
 */
export function compiledProgram(program: string): string {
  if (!program.endsWith('.ts')) return program;
  const root = libraryRoot(program);
  const built = join(dirname(root), 'dist', relative(root, program)).replace(/\.ts$/, '.js');
  if (!existsSync(built)) throw new Error(`${built} is not there: the handsets run the built code; run \`npm run build\``);
  return built;
}

// `import { a } from './x.js';`, `export * from '../y.js';`, `import './z.js';` (one per line, as
// tsc prints them) and `await import('./toolbox.js')`. `import type` lines load nothing.
const STATIC_IMPORT = /^\s*(?:import|export)\s(?!type\s)[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm;
const SIDE_EFFECT_IMPORT = /^\s*import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The specifiers a module imports: relative paths and bare package names (node: builtins left out). */
export function importedSpecifiers(source: string): { relative: string[]; packages: string[] } {
  const specifiers = new Set<string>();
  for (const pattern of [STATIC_IMPORT, SIDE_EFFECT_IMPORT, DYNAMIC_IMPORT]) {
    for (const match of source.matchAll(pattern)) specifiers.add(match[1]!);
  }
  const all = [...specifiers].filter((s) => !s.startsWith('node:'));
  return {
    relative: all.filter((s) => s.startsWith('.')),
    // `debug`, `@scope/name/sub` -> the package's name.
    packages: [
      ...new Set(
        all
          .filter((s) => !s.startsWith('.') && !s.startsWith('/'))
          .map((s) =>
            s
              .split('/')
              .slice(0, s.startsWith('@') ? 2 : 1)
              .join('/'),
          ),
      ),
    ],
  };
}

/** A relative import's file: as written, or its .ts source when run from sources (tsx maps .js to .ts). */
function resolveModule(from: string, specifier: string): string {
  const target = resolve(dirname(from), specifier);
  if (existsSync(target)) return target;
  const source = target.replace(/\.js$/, '.ts');
  if (source !== target && existsSync(source)) return source;
  throw new Error(`${from} imports ${specifier}, which is not there (${target}): rebuild with \`npm run build\``);
}

/** A package's directory as Node finds it from `from`: the nearest node_modules/NAME up the tree. */
function packageDir(from: string, name: string): string | null {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === dirname(dir)) return null;
  }
}

/** The modules `entry` loads, transitively (itself first), and the npm packages they import. */
export function moduleClosure(entry: string): { modules: string[]; packages: Map<string, string> } {
  const modules: string[] = [];
  const packages = new Map<string, string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (modules.includes(file)) continue;
    modules.push(file);
    const imports = importedSpecifiers(readFileSync(file, 'utf8'));
    for (const specifier of imports.relative) pending.push(resolveModule(file, specifier));
    for (const name of imports.packages) addPackage(packages, file, name);
  }
  return { modules, packages };
}

/** A package and, transitively, the dependencies its package.json lists that are installed. */
function addPackage(packages: Map<string, string>, from: string, name: string): void {
  if (packages.has(name)) return;
  const dir = packageDir(from, name);
  if (dir === null) throw new Error(`${from} imports the package ${name}, which is not installed: run \`npm install\``);
  packages.set(name, dir);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    // An optional dependency that is absent is the package's own business (debug's supports-color).
    if (packageDir(join(dir, 'package.json'), dependency) !== null) addPackage(packages, join(dir, 'package.json'), dependency);
  }
}

/** Directories 0755 and files 0644 (executables 0755): readable by every uid, whatever the umask was. */
function openToAll(path: string): void {
  const stat = statSync(path);
  if (stat.isDirectory()) {
    chmodSync(path, 0o755);
    for (const entry of readdirSync(path)) openToAll(join(path, entry));
  } else {
    chmodSync(path, stat.mode & 0o111 ? 0o755 : 0o644);
  }
}

/**
 * Copies `programs` and everything they load into `codeDir` (replacing what was there); returns
 * each installed program's path, in order (the first is what the PATH wrappers run).
 */
export function installHandsetCode(codeDir: string, programs: readonly string[] = [COMMAND_PROGRAM]): string[] {
  const root = libraryRoot(programs[0]!);
  const modules = new Set<string>();
  const packages = new Map<string, string>();
  for (const program of programs) {
    if (libraryRoot(program) !== root) throw new Error(`${program} is not under ${root}, as ${programs[0]} is`);
    const closure = moduleClosure(program);
    for (const module of closure.modules) modules.add(module);
    for (const [name, dir] of closure.packages) packages.set(name, dir);
  }
  rmSync(codeDir, { recursive: true, force: true });
  mkdirSync(codeDir, { recursive: true });
  for (const module of modules) {
    const inside = relative(root, module);
    if (inside.startsWith(`..${sep}`)) throw new Error(`${module} is outside ${root}: the handset's commands import only the library`);
    mkdirSync(join(codeDir, dirname(inside)), { recursive: true });
    copyFileSync(module, join(codeDir, inside));
  }
  // The copied .js files are ES modules, as the project's package.json says of them.
  writeFileSync(join(codeDir, 'package.json'), `${JSON.stringify({ type: 'module', private: true })}\n`);
  for (const [name, dir] of packages) {
    cpSync(dir, join(codeDir, 'node_modules', name), { recursive: true, dereference: true });
  }
  openToAll(codeDir);
  return programs.map((program) => join(codeDir, relative(root, program)));
}
