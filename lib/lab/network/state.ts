/**
 * `${stateDir}/lab.json`: what the lab is made of, written atomically (temporary file + rename)
 * each time a component is made, so a crash at any point leaves a record `lab down` can use.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { array, boolean, nullable, object, oneOf } from '../../config/schema.js';
import { count, parseStateFile, text, type Reads } from '../state-file.js';
import { LabStateError } from './errors.js';
import type { LabProcess } from './process.js';
import { APN_TYPES, type BackgroundPart, type LabState } from './types.js';

export const STATE_FILE = 'lab.json';

export const statePath = (stateDir: string): string => path.join(stateDir, STATE_FILE);

const labProcessSchema = object({ name: text, pid: count, startTime: text, namespace: text, argv: array(text), logFile: text }, { handsetIndex: count });
const schemaReadsLabProcess: Reads<typeof labProcessSchema, LabProcess> = true;

export const backgroundPartSchema = object({ host: nullable(text), uid: count, intervalMs: count });
const schemaReadsBackgroundPart: Reads<typeof backgroundPartSchema, BackgroundPart> = true;

const families = array(oneOf([4, 6] as const));
const pdpType = oneOf(['IP', 'IPV6', 'IPV4V6'] as const);
const apnType = oneOf(APN_TYPES);

/** lab.json as lab up and the supervisor write it (./types.ts LabState). */
const labStateSchema = object({
  version: oneOf([1] as const),
  labId: text,
  stateDir: text,
  runDir: text,
  phase: oneOf(['starting', 'up', 'failed'] as const),
  startedAt: text,
  backgroundTraffic: boolean,
  upMs: nullable(count),
  namespaces: array(object({ name: text, role: oneOf(['internet', 'gateway', 'handset', 'access-point'] as const) }, { handsetIndex: count })),
  netnsDirs: array(text),
  processes: array(labProcessSchema),
  world: object({
    dnsServers: array(text),
    caCertFile: text,
    hosts: array(
      object(
        { name: text, ipv4: nullable(text), ipv6: nullable(text), ipv6Blackholed: boolean },
        { ipv6Failure: oneOf(['pmtud-blackhole', 'late-failure'] as const), dnsOmits: oneOf(['A', 'AAAA'] as const) },
      ),
    ),
  }),
  handsets: array(
    object(
      {
        index: count,
        namespace: text,
        gatewayNamespace: text,
        interface: oneOf(['rmnet_data0'] as const),
        apn: apnType,
        pdpType,
        attached: boolean,
        attachError: nullable(text),
        families,
        ipv6Prefix: nullable(text),
        ipv6Addresses: array(text),
        ipv6Gateway: nullable(text),
        ipv4Address: nullable(text),
        ipv4Gateway: nullable(text),
        dnsServers: array(text),
        dns64: boolean,
        clat: nullable(object({ interface: oneOf(['v4-rmnet_data0'] as const), ipv4: text, ipv6: text, nat64Prefix: text })),
        wifi: nullable(
          object({
            interface: oneOf(['wlan0'] as const),
            accessPointNamespace: text,
            ipv6Prefix: text,
            ipv6Addresses: array(text),
            ipv4Address: text,
            ipv4Gateway: text,
            connected: boolean,
            dnsServers: array(text),
          }),
        ),
        ims: nullable(object({ interface: oneOf(['rmnet_data1'] as const), ipv6Address: text, pcscf: text })),
        attachedAt: nullable(text),
        settings: object({ mobileIpv6: boolean, mobilePrivacy: boolean, wifiIpv6: boolean, wifiPrivacy: boolean, clat: boolean }),
        sysctls: array(text),
        background: nullable(
          object({ pid: count, startTime: text, logFile: text, probe: backgroundPartSchema, ntp: backgroundPartSchema, push: backgroundPartSchema }),
        ),
      },
      {
        ethernet: nullable(
          object({
            interface: text,
            connected: boolean,
            ipv6Prefix: nullable(text),
            ipv6Addresses: array(text),
            ipv6Gateway: nullable(text),
            ipv4Address: nullable(text),
            ipv4Gateway: nullable(text),
            dnsServers: array(text),
            nat64Prefix: nullable(text),
            nat64PrefixSource: nullable(oneOf(['pref64', 'rfc7050'] as const)),
            clat: nullable(object({ interface: text, ipv4: text, ipv6: text, nat64Prefix: text })),
            error: nullable(text),
            routeTables: array(count),
          }),
        ),
      },
    ),
  ),
});
const schemaReadsLabState: Reads<typeof labStateSchema, LabState> = true;
void [schemaReadsLabProcess, schemaReadsBackgroundPart, schemaReadsLabState];

/**
 * The lab state of `stateDir`, or null when there is none; throws LabStateError naming the file
 * and field when it cannot be read or is not what the lab writes.
 */
export async function readState(stateDir: string): Promise<LabState | null> {
  const file = statePath(stateDir);
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LabStateError(file, (error as Error).message, { cause: error });
  }
  return parseStateFile(file, content, labStateSchema);
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
