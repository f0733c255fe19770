/**
 * A finished (or still running) run directory read whole for the reports: results.json, the
 * plan, each device's facts, and each app's analysis evidence, reduced to what a reader needs
 * (bytes by path, Happy Eyeballs timings per hostname). Pure reading: a file that is missing or
 * unreadable leaves its part empty and is listed in `problems`, never a half-drawn report.
 *
 * A run directory may come from an archive or another machine: every file it names is read only
 * if it is a regular file inside the run (a merge: inside the runs it was made of), through no
 * symlink, under a size cap (lib/report/run-files.ts), and what the reports use of it is checked
 * field by field; anything else is "not available" with the reason, never read.
 */
import { join, resolve } from 'node:path';
import { DataFileError } from '../config/schema.js';
import { readResults, type CheckResult, type RunResults } from './results.js';
import { locateRunFile, MAX_ANALYSIS_JSON, MAX_CHECK_JSON, MAX_FACTS_JSON, readRunFile } from './run-files.js';

export type PathName = 'native-v6' | 'nat64' | 'clat' | 'native-v4';
export const PATHS: readonly PathName[] = ['native-v6', 'nat64', 'clat', 'native-v4'];

export interface HostnameTiming {
  name: string;
  /** Seconds after the app's launch. */
  firstIpv6: number | null;
  firstIpv4: number | null;
  firstFamily: 4 | 6 | null;
  fallbackDelayMs: number | null;
  ipv6Failed: boolean;
  nativeAaaa: boolean;
}

export interface AppEvidence {
  bytesByPath: Record<PathName, number>;
  hostnames: HostnameTiming[];
  windowSeconds: number;
  attribution: string;
}

export interface DeviceFactsSummary {
  model: string | null;
  manufacturer: string | null;
  android: string | null;
  buildType: string | null;
  root: string | null;
  defaultNetwork: { apn: string | null; nat64Prefix: string | null; clat: { interfaceName: string; ipv4: string | null } | null } | null;
}

export interface RunView {
  dir: string;
  results: RunResults;
  /** The directories evidence may be read from: the run's, and a merge's runs that are run directories. */
  roots: string[];
  facts: Map<string, DeviceFactsSummary>;
  /** App evidence by result key (`device|app|network`), or why the analysis cannot be shown. */
  apps: Map<string, AppEvidence | { problem: string }>;
  /** Evidence JSON of os/apn checks by result key (`device|check|network`), or why it cannot be shown. */
  checks: Map<string, { evidence: unknown } | { problem: string }>;
  /** Each evidence path results.json names: null when it is a file of the run a link may point to, else why not. */
  evidence: Map<string, string | null>;
  problems: string[];
}

export const resultKey = (r: Pick<CheckResult, 'device' | 'check' | 'app' | 'network'>): string => `${r.device}|${r.app ?? r.check}|${r.network}`;

/** An evidence file is linked whatever its size (a long pcap); only what is read is capped. */
const NO_CAP = Number.MAX_SAFE_INTEGER;

type Json = Record<string, unknown>;

const describe = (value: unknown): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'string'
        ? 'a string'
        : typeof value === 'object'
          ? 'an object'
          : String(value);

function objectAt(value: unknown, field: string, file: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DataFileError(file, field, `expected an object, got ${describe(value)}`);
  return value as Json;
}
function arrayAt(value: unknown, field: string, file: string): unknown[] {
  if (!Array.isArray(value)) throw new DataFileError(file, field, `expected an array, got ${describe(value)}`);
  return value;
}
function numberAt(value: unknown, field: string, file: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new DataFileError(file, field, `expected a number, got ${describe(value)}`);
  return value;
}
const nullableNumberAt = (value: unknown, field: string, file: string): number | null => (value === null ? null : numberAt(value, field, file));
function stringAt(value: unknown, field: string, file: string): string {
  if (typeof value !== 'string') throw new DataFileError(file, field, `expected a string, got ${describe(value)}`);
  return value;
}
const nullableStringAt = (value: unknown, field: string, file: string): string | null =>
  value === null || value === undefined ? null : stringAt(value, field, file);
function booleanAt(value: unknown, field: string, file: string): boolean {
  if (typeof value !== 'boolean') throw new DataFileError(file, field, `expected true or false, got ${describe(value)}`);
  return value;
}

/**
 * What the report uses of an app's analysis evidence (`*.analysis.json`: the capture's analysis,
 * the app's window and which flows are its), checked field by field: pure. Null when the file
 * holds no window or no analysis (nothing to draw); a field of the wrong type is a
 * DataFileError naming it. Other fields are not read, so they are not checked.
 */
export function appEvidence(parsed: unknown, file: string): AppEvidence | null {
  const doc = objectAt(parsed, '', file);
  if (doc.app === undefined || doc.analysis === undefined) return null;
  const app = objectAt(doc.app, 'app', file);
  if (app.window === undefined) return null;
  const window = objectAt(app.window, 'app.window', file);
  const start = numberAt(window.start, 'app.window.start', file);
  const end = numberAt(window.end, 'app.window.end', file);
  const attribution = doc.attribution === undefined ? null : objectAt(doc.attribution, 'attribution', file);
  const method = attribution === null ? 'none' : stringAt(attribution.method, 'attribution.method', file);
  const mine = new Set(
    attribution === null ? [] : arrayAt(attribution.flows, 'attribution.flows', file).map((f, i) => numberAt(f, `attribution.flows[${i}]`, file)),
  );
  const bytesByPath: Record<PathName, number> = { 'native-v6': 0, nat64: 0, clat: 0, 'native-v4': 0 };
  if (doc.verdict !== undefined) {
    const metrics = objectAt(doc.verdict, 'verdict', file).metrics;
    const byPath = metrics === undefined ? undefined : objectAt(metrics, 'verdict.metrics', file).bytesByPath;
    if (byPath !== undefined) {
      const given = objectAt(byPath, 'verdict.metrics.bytesByPath', file);
      for (const p of PATHS) {
        if (given[p] === undefined) continue;
        const n = numberAt(given[p], `verdict.metrics.bytesByPath.${p}`, file);
        if (n < 0) throw new DataFileError(file, `verdict.metrics.bytesByPath.${p}`, `expected a byte count, got ${n}`);
        bytesByPath[p] = n;
      }
    }
  }
  const analysis = objectAt(doc.analysis, 'analysis', file);
  const names = new Set<string>();
  arrayAt(analysis.flows, 'analysis.flows', file).forEach((entry, i) => {
    const flow = objectAt(entry, `analysis.flows[${i}]`, file);
    const id = numberAt(flow.id, `analysis.flows[${i}].id`, file);
    const hostname = nullableStringAt(flow.hostname, `analysis.flows[${i}].hostname`, file);
    if (mine.has(id) && hostname !== null) names.add(hostname);
  });
  const at = (ts: number | null) => (ts === null ? null : Math.max(0, ts - start));
  const hostnames: HostnameTiming[] = [];
  arrayAt(analysis.hostnames, 'analysis.hostnames', file).forEach((entry, i) => {
    const field = `analysis.hostnames[${i}]`;
    const h = objectAt(entry, field, file);
    const name = stringAt(h.name, `${field}.name`, file);
    const family = h.firstAttemptFamily;
    if (family !== 4 && family !== 6 && family !== null)
      throw new DataFileError(file, `${field}.firstAttemptFamily`, `expected 4, 6 or null, got ${describe(family)}`);
    const timing: HostnameTiming = {
      name,
      firstIpv6: at(nullableNumberAt(h.firstIpv6AttemptTs, `${field}.firstIpv6AttemptTs`, file)),
      firstIpv4: at(nullableNumberAt(h.firstIpv4AttemptTs, `${field}.firstIpv4AttemptTs`, file)),
      firstFamily: family,
      fallbackDelayMs: nullableNumberAt(h.fallbackDelayMs, `${field}.fallbackDelayMs`, file),
      ipv6Failed: booleanAt(h.ipv6Failed, `${field}.ipv6Failed`, file),
      nativeAaaa: arrayAt(h.nativeAaaa, `${field}.nativeAaaa`, file).length > 0,
    };
    if (names.has(name)) hostnames.push(timing);
  });
  return {
    bytesByPath,
    hostnames: hostnames.sort((a, b) => (a.firstIpv6 ?? a.firstIpv4 ?? 0) - (b.firstIpv6 ?? b.firstIpv4 ?? 0)),
    windowSeconds: Math.max(0, end - start),
    attribution: method,
  };
}

/** What the report shows of a device's facts.json, checked field by field: pure. */
export function factsSummary(parsed: unknown, file: string): DeviceFactsSummary {
  const doc = objectAt(parsed, '', file);
  const net = doc.defaultNetwork === undefined || doc.defaultNetwork === null ? null : objectAt(doc.defaultNetwork, 'defaultNetwork', file);
  const clat = net === null || net.clat === undefined || net.clat === null ? null : objectAt(net.clat, 'defaultNetwork.clat', file);
  return {
    model: nullableStringAt(doc.model, 'model', file),
    manufacturer: nullableStringAt(doc.manufacturer, 'manufacturer', file),
    android: nullableStringAt(doc.android, 'android', file),
    buildType: nullableStringAt(doc.buildType, 'buildType', file),
    root: nullableStringAt(doc.root, 'root', file),
    defaultNetwork:
      net === null
        ? null
        : {
            apn: nullableStringAt(net.apn, 'defaultNetwork.apn', file),
            nat64Prefix: nullableStringAt(net.nat64Prefix, 'defaultNetwork.nat64Prefix', file),
            clat:
              clat === null
                ? null
                : {
                    interfaceName: stringAt(clat.interfaceName, 'defaultNetwork.clat.interfaceName', file),
                    ipv4: nullableStringAt(clat.ipv4, 'defaultNetwork.clat.ipv4', file),
                  },
          },
  };
}

/**
 * A run file parsed as JSON and reduced by `use`, or why not: not available (outside the run, a
 * symlink, not a regular file, over `cap`), not JSON, or a field `use` refused.
 */
function readJsonFile<T>(
  dir: string,
  roots: readonly string[],
  path: string,
  cap: number,
  use: (parsed: unknown, file: string) => T,
): { value: T } | { problem: string } {
  const read = readRunFile(dir, roots, path, cap);
  if ('problem' in read) return { problem: `${path}: not available (${read.problem})` };
  try {
    return { value: use(JSON.parse(read.text), path) };
  } catch (error) {
    if (error instanceof DataFileError) return { problem: `${path}: unreadable (${error.field || 'the document'}: ${error.problem})` };
    if (error instanceof SyntaxError) return { problem: `${path}: unreadable (not valid JSON)` };
    throw error;
  }
}

/**
 * The directories a report may read evidence from: the run's own, and for a merge each run it
 * names that is a run directory (its results.json holds that run's id): a merge's results.json
 * from elsewhere cannot make `/` or a home directory a place evidence is read from.
 */
export function runRoots(dir: string, doc: RunResults): string[] {
  const roots = [resolve(dir)];
  for (const m of doc.run.merged ?? []) {
    const source = resolve(dir, m.dir);
    try {
      if (readResults(source).run.id === m.id) roots.push(source);
    } catch {
      // not a run directory: its evidence is not available
    }
  }
  return roots;
}

/** Reads a run directory for the reports. */
export function readRun(dir: string): RunView {
  const results = readResults(dir);
  const roots = runRoots(dir, results);
  const problems: string[] = [];
  const facts = new Map<string, DeviceFactsSummary>();
  for (const device of results.devices) {
    const path = device.factsFile ?? join('devices', device.serial.replace(/[^A-Za-z0-9._-]/g, '_'), 'facts.json');
    const found = locateRunFile(dir, roots, path, MAX_FACTS_JSON);
    // A device without facts (probing failed before they were written) is no problem to report.
    if ('problem' in found && found.problem === 'missing' && device.factsFile === undefined) continue;
    const read = readJsonFile(dir, roots, path, MAX_FACTS_JSON, factsSummary);
    if ('problem' in read) problems.push(`facts of ${device.serial}: ${read.problem}`);
    else facts.set(device.serial, read.value);
  }
  const evidence = new Map<string, string | null>();
  const apps = new Map<string, AppEvidence | { problem: string }>();
  const checks = new Map<string, { evidence: unknown } | { problem: string }>();
  for (const r of results.results) {
    for (const path of r.evidence) {
      const found = locateRunFile(dir, roots, path, NO_CAP);
      evidence.set(path, 'problem' in found ? found.problem : null);
      if ('problem' in found && found.problem === 'missing') problems.push(`${path}: evidence named by ${r.check} is missing`);
      if (!path.endsWith('.json')) continue;
      if (r.app !== null && path.endsWith('.analysis.json')) {
        const read = readJsonFile(dir, roots, path, MAX_ANALYSIS_JSON, appEvidence);
        if ('problem' in read) apps.set(resultKey(r), read);
        else if (read.value !== null) apps.set(resultKey(r), read.value);
      } else if (r.app === null && !path.endsWith('.analysis.json')) {
        const read = readJsonFile(dir, roots, path, MAX_CHECK_JSON, (parsed) =>
          typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? ((parsed as Json).evidence ?? null) : null,
        );
        checks.set(resultKey(r), 'problem' in read ? read : { evidence: read.value });
      }
    }
    // Each app run's own files (`--app-runs`) are linked like the result's, so located the same way.
    for (const path of (r.runs ?? []).flatMap((x) => x.evidence)) {
      if (evidence.has(path)) continue;
      const found = locateRunFile(dir, roots, path, NO_CAP);
      evidence.set(path, 'problem' in found ? found.problem : null);
    }
  }
  return { dir, results, roots, facts, apps, checks, evidence, problems };
}
