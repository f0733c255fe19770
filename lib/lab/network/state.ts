/**
 * `${stateDir}/lab.json`: what the lab is made of, written atomically (temporary file + rename)
 * each time a component is made, so a crash at any point leaves a record `lab down` can use.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LabStateError } from './errors.js';
import type { LabState } from './types.js';

export const STATE_FILE = 'lab.json';

export const statePath = (stateDir: string): string => path.join(stateDir, STATE_FILE);

/** The lab state of `stateDir`, or null when there is none; throws LabStateError when unreadable. */
export async function readState(stateDir: string): Promise<LabState | null> {
  const file = statePath(stateDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LabStateError(file, (error as Error).message, { cause: error });
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch (error) {
    throw new LabStateError(file, `is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof state !== 'object' || state === null || (state as { version?: unknown }).version !== 1) {
    throw new LabStateError(file, 'is not a version 1 lab state');
  }
  return state as LabState;
}

let writeSerial = 0;

async function writeStateFile(state: LabState): Promise<void> {
  const file = statePath(state.stateDir);
  writeSerial += 1;
  const temporary = `${file}.${process.pid}.${writeSerial}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  await rename(temporary, file);
}

/**
 * The writes to each state file, in order, for every recorder of this process: the supervisor
 * re-attaches several handsets at once, each with its own recorder, and a read-change-write of
 * one must not interleave with another's (the later write would undo the earlier change).
 */
const fileQueues = new Map<string, Promise<void>>();

/**
 * Applies changes to a lab state and writes each one, in order. `shared` (a re-attach while the
 * lab runs, several at once in the supervisor) re-reads the file before each change, so changes
 * made to other handsets are kept; `owner` (lab up) writes its own copy.
 */
export class StateRecorder {
  constructor(
    private current: LabState,
    private readonly mode: 'owner' | 'shared',
  ) {}

  get state(): LabState {
    return this.current;
  }

  /** Changes the state with `change` and writes it; resolves once written. */
  update(change: (state: LabState) => void): Promise<void> {
    const write = async (): Promise<void> => {
      if (this.mode === 'shared') {
        const onDisk = await readState(this.current.stateDir);
        // Gone: the lab was taken down meanwhile; nothing to record into.
        if (onDisk === null) return;
        this.current = onDisk;
      }
      change(this.current);
      await writeStateFile(this.current);
    };
    const file = statePath(this.current.stateDir);
    const next = (fileQueues.get(file) ?? Promise.resolve()).then(write);
    // A failed write must not stop later ones; the caller sees its own failure.
    const settled = next.catch(() => undefined);
    fileQueues.set(file, settled);
    void settled.then(() => {
      if (fileQueues.get(file) === settled) fileQueues.delete(file);
    });
    return next;
  }

  /** Writes the state as it is. */
  flush(): Promise<void> {
    return this.update(() => undefined);
  }
}
