/**
 * A finished (or still running) run directory read whole for the reports: results.json, the
 * plan, each device's facts, and each app's analysis evidence, reduced to what a reader needs
 * (bytes by path, Happy Eyeballs timings per hostname). Pure reading: a file that is missing or
 * unreadable leaves its part empty and is listed in `problems`, never a half-drawn report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readResults, type CheckResult, type RunResults } from './results.js';

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
  facts: Map<string, DeviceFactsSummary>;
  /** App evidence by result key (`device|app|network`). */
  apps: Map<string, AppEvidence>;
  /** Evidence JSON of os/apn checks by result key (`device|check|network`). */
  checks: Map<string, unknown>;
  problems: string[];
}

export const resultKey = (r: Pick<CheckResult, 'device' | 'check' | 'app' | 'network'>): string => `${r.device}|${r.app ?? r.check}|${r.network}`;

function readJson(file: string, problems: string[]): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    problems.push(`${file}: ${(error as Error).message}`);
    return null;
  }
}

interface AnalysisEvidence {
  app?: { window?: { start: number; end: number } };
  attribution?: { method: string; flows: number[] };
  verdict?: { metrics?: { bytesByPath?: Record<PathName, number> } };
  analysis?: {
    flows: { id: number; hostname: string | null }[];
    hostnames: {
      name: string;
      firstAttemptFamily: 4 | 6 | null;
      firstIpv6AttemptTs: number | null;
      firstIpv4AttemptTs: number | null;
      fallbackDelayMs: number | null;
      ipv6Failed: boolean;
      nativeAaaa: string[];
    }[];
  };
}

function appEvidence(doc: AnalysisEvidence): AppEvidence | null {
  const window = doc.app?.window;
  const analysis = doc.analysis;
  if (!window || !analysis) return null;
  const mine = new Set(doc.attribution?.flows ?? []);
  const names = new Set(analysis.flows.filter((f) => mine.has(f.id) && f.hostname !== null).map((f) => f.hostname!));
  const at = (ts: number | null) => (ts === null ? null : Math.max(0, ts - window.start));
  return {
    bytesByPath: { 'native-v6': 0, nat64: 0, clat: 0, 'native-v4': 0, ...(doc.verdict?.metrics?.bytesByPath ?? {}) },
    hostnames: analysis.hostnames
      .filter((h) => names.has(h.name))
      .map((h) => ({
        name: h.name,
        firstIpv6: at(h.firstIpv6AttemptTs),
        firstIpv4: at(h.firstIpv4AttemptTs),
        firstFamily: h.firstAttemptFamily,
        fallbackDelayMs: h.fallbackDelayMs,
        ipv6Failed: h.ipv6Failed,
        nativeAaaa: h.nativeAaaa.length > 0,
      }))
      .sort((a, b) => (a.firstIpv6 ?? a.firstIpv4 ?? 0) - (b.firstIpv6 ?? b.firstIpv4 ?? 0)),
    windowSeconds: Math.max(0, window.end - window.start),
    attribution: doc.attribution?.method ?? 'none',
  };
}

/** Reads a run directory for the reports. */
export function readRun(dir: string): RunView {
  const results = readResults(dir);
  const problems: string[] = [];
  const facts = new Map<string, DeviceFactsSummary>();
  for (const device of results.devices) {
    const file = join(dir, device.factsFile ?? join('devices', device.serial.replace(/[^A-Za-z0-9._-]/g, '_'), 'facts.json'));
    if (existsSync(file)) facts.set(device.serial, readJson(file, problems) as DeviceFactsSummary);
  }
  const apps = new Map<string, AppEvidence>();
  const checks = new Map<string, unknown>();
  for (const r of results.results) {
    for (const file of r.evidence.filter((e) => e.endsWith('.json'))) {
      const path = join(dir, file);
      if (!existsSync(path)) {
        problems.push(`${path}: evidence named by ${r.check} is missing`);
        continue;
      }
      if (r.app !== null && file.endsWith('.analysis.json')) {
        const evidence = appEvidence(readJson(path, problems) as AnalysisEvidence);
        if (evidence) apps.set(resultKey(r), evidence);
      } else if (r.app === null && !file.endsWith('.analysis.json')) {
        checks.set(resultKey(r), (readJson(path, problems) as { evidence?: unknown } | null)?.evidence ?? null);
      }
    }
  }
  return { dir, results, facts, apps, checks, problems };
}
