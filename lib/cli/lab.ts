/** `v6lab lab up|status|down|unplug`: the virtual lab (CONTRACTS.md section 1). */
import { join } from 'node:path';
import { APN_TYPES, type ApnType } from '../lab/network/index.js';
import {
  bringLabDown,
  bringLabUp,
  DEFAULT_APPS,
  DEFAULT_STATE_DIR,
  DEFAULT_WORLD,
  labOverview,
  LabInputError,
  loadLabInputs,
  readAdbKeyOption,
  readRegistry,
} from '../lab/lab.js';
import { LabStateError } from '../lab/network/errors.js';
import { MAX_AWAY_MS, requestUnplug } from '../lab/unplug.js';
import { EXIT, UsageError } from './errors.js';

/** The lab makes network namespaces and runs daemons in them: that needs root. */
export class NeedsRootError extends Error {
  override name = 'NeedsRootError';
}

function requireRoot(command: string): void {
  if (process.getuid?.() !== 0) {
    throw new NeedsRootError(`\`v6lab lab ${command}\` needs root (it creates network namespaces and runs tayga, radvd and unbound in them): run it as root`);
  }
}

export function stateDir(option: string | undefined): string {
  return option ?? process.env.V6LAB_STATE_DIR ?? DEFAULT_STATE_DIR;
}

export interface LabUpCommandOptions {
  handsets?: string;
  apn?: string;
  world?: string;
  apps?: string;
  profile?: string[];
  stateDir?: string;
  /** commander's negation of --no-background */
  background?: boolean;
  /** --adb-key FILE (repeatable): more adb hosts the handsets accept. */
  adbKey?: string[];
}

export async function labUpCommand(options: LabUpCommandOptions, out: NodeJS.WritableStream): Promise<number> {
  const handsets = Number(options.handsets ?? '1');
  if (!Number.isInteger(handsets)) throw new UsageError(`--handsets: ${JSON.stringify(options.handsets)} is not a whole number`);
  const apn = (options.apn ?? 'ipv6') as ApnType;
  if (!APN_TYPES.includes(apn)) throw new UsageError(`--apn: ${JSON.stringify(options.apn)} is not one of ${APN_TYPES.join(', ')}`);
  // What the user gave is checked first: a typo in a file is exit 2 naming it, root or not.
  loadLabInputs({ handsets, world: options.world ?? DEFAULT_WORLD, apps: options.apps ?? DEFAULT_APPS, profiles: options.profile ?? [] });
  // The key files too, before root: a file that is no key is exit 2 naming it.
  for (const file of options.adbKey ?? []) readAdbKeyOption(file);
  requireRoot('up');
  const result = await bringLabUp({
    stateDir: stateDir(options.stateDir),
    handsets,
    apn,
    world: options.world ?? DEFAULT_WORLD,
    apps: options.apps ?? DEFAULT_APPS,
    profiles: options.profile ?? [],
    backgroundTraffic: options.background !== false,
    adbKeys: options.adbKey ?? [],
    // From sources (tsx), the supervisor and Android's commands need the same loader.
    runner: [process.execPath, ...process.execArgv],
  });
  for (const h of result.handsets) out.write(`${h.serial}\t${h.network}\t${h.profile}\n`);
  process.stderr.write(`v6lab: lab ${result.labId} up in ${(result.upMs / 1000).toFixed(1)} s; \`adb devices\` lists its handsets\n`);
  return EXIT.ok;
}

export async function labStatusCommand(options: { json?: boolean; stateDir?: string }, out: NodeJS.WritableStream): Promise<number> {
  const overview = await labOverview(stateDir(options.stateDir));
  if (options.json) {
    out.write(`${JSON.stringify(overview)}\n`);
  } else if (overview.network.phase === 'down' && overview.handsets.length === 0) {
    out.write('no lab is up\n');
  } else {
    out.write(`lab ${overview.network.labId ?? '?'}: ${overview.network.phase}, ${overview.healthy ? 'healthy' : 'NOT healthy'}\n`);
    out.write(`supervisor: ${overview.supervisor.running ? `running (pid ${overview.supervisor.pid})` : 'not running'}\n`);
    for (const h of overview.handsets) {
      const net = overview.network.handsets.find((n) => n.index === h.index);
      out.write(
        `${h.serial}\tadb ${h.adbListening ? 'listening' : 'NOT listening'} on 127.0.0.1:${h.adbPort}\t${net?.healthy ? 'network healthy' : `network: ${net?.problems.join('; ') ?? 'unknown'}`}\t${h.profile}\n`,
      );
    }
    for (const c of overview.network.components.filter((x) => !x.healthy)) out.write(`problem: ${c.kind} ${c.name}: ${c.detail ?? 'not running'}\n`);
  }
  return overview.network.phase === 'down' && overview.handsets.length === 0 ? EXIT.ok : overview.healthy ? EXIT.ok : EXIT.checkFailed;
}

export async function labDownCommand(options: { stateDir?: string }, out: NodeJS.WritableStream): Promise<number> {
  requireRoot('down');
  const removed = await bringLabDown(stateDir(options.stateDir));
  out.write(removed.length === 0 ? 'nothing to remove: no lab is up\n' : `removed ${removed.length} things the lab made\n`);
  return EXIT.ok;
}

/** `v6lab lab unplug SERIAL --for MS`: a lab handset's cable pulled for MS milliseconds, then put back. */
export async function labUnplugCommand(serial: string, options: { for?: string; stateDir?: string }, out: NodeJS.WritableStream): Promise<number> {
  const text = options.for ?? '3000';
  const ms = Number(text);
  if (!/^\d+$/.test(text) || ms > MAX_AWAY_MS)
    throw new UsageError(
      `--for: expected milliseconds from 0 to ${MAX_AWAY_MS} (the adb server gives up on an emulator port after about a minute), got ${JSON.stringify(text)}`,
    );
  requireRoot('unplug');
  const dir = stateDir(options.stateDir);
  const handsets = readRegistry(dir);
  const handset = handsets.find((h) => h.serial === serial);
  if (!handset) {
    throw new LabStateError(
      join(dir, 'handsets.json'),
      handsets.length === 0
        ? `no lab is up in ${dir}: nothing to unplug (v6lab lab up)`
        : `${JSON.stringify(serial)} is not a handset of the lab in ${dir} (it has ${handsets.map((h) => h.serial).join(', ')})`,
    );
  }
  await requestUnplug(handset.dir, serial, ms);
  out.write(`${serial} unplugged for ${ms} ms\n`);
  return EXIT.ok;
}

export { LabInputError };
