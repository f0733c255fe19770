/**
 * Many runs as one (`v6lab report MERGED --merge RUN...`): a carrier certifying a shelf of
 * handsets a day runs certify on several hosts, and reads one fleet report. The merged
 * results.json holds every device of every run; where two runs checked the same device, check,
 * app and network on the same build, the later run's result stands (a handset certified again).
 * A device is its serial and its build: the same handset on another firmware (another
 * fingerprint) is another device of the merge, its results kept apart, so a result is never shown
 * under a build it did not run on. Evidence is not copied: paths are rewritten relative to the merged directory, so the
 * report links to the pcaps where the runs keep them. Each result names the run it came from.
 */
import { randomBytes } from 'node:crypto';
import { join, relative, resolve } from 'node:path';
import { buildLabel, readResults, ResultsFileError, type CheckResult, type RunDevice, type RunResults } from './results.js';

export interface MergeSource {
  dir: string;
  results: RunResults;
}

const key = (r: Pick<CheckResult, 'device' | 'check' | 'app' | 'network'>) => `${r.device}|${r.check}|${r.app ?? ''}|${r.network}`;
const deviceDirName = (serial: string) => serial.replace(/[^A-Za-z0-9._-]/g, '_');

/**
 * The merged device id of each run's devices (`run id|serial` -> id): the serial, while a serial
 * has one build across the runs; else the build of the latest run that has it keeps the serial
 * and each other build is `SERIAL@BUILD` (build id and number, or `build-not-recorded` for a run
 * from before v6lab recorded builds: an unknown build is never taken for a known one).
 */
function mergedDeviceIds(ordered: readonly MergeSource[]): Map<string, string> {
  const buildOf = (d: RunDevice) => d.identity?.fingerprint ?? null;
  const builds = new Map<string, { build: string | null; label: string }[]>();
  for (const { results: doc } of ordered) {
    for (const d of doc.devices) {
      const seen = builds.get(d.serial) ?? [];
      const at = seen.findIndex((b) => b.build === buildOf(d));
      if (at >= 0) seen.splice(at, 1);
      // the latest run's build last
      seen.push({ build: buildOf(d), label: (buildLabel(d) ?? 'build-not-recorded').replace(/\s+/g, '_') });
      builds.set(d.serial, seen);
    }
  }
  const idOf = new Map<string, string>();
  for (const [serial, seen] of builds) {
    const used = new Set<string>([serial]);
    seen.forEach((b, i) => {
      let id = i === seen.length - 1 ? serial : `${serial}@${b.label}`;
      for (let n = 2; i !== seen.length - 1 && used.has(id); n++) id = `${serial}@${b.label}#${n}`;
      used.add(id);
      idOf.set(`${serial}|${b.build ?? ''}|${b.build === null ? 'unknown' : 'known'}`, id);
    });
  }
  const ids = new Map<string, string>();
  for (const { results: doc } of ordered) {
    for (const d of doc.devices)
      ids.set(`${doc.run.id}|${d.serial}`, idOf.get(`${d.serial}|${buildOf(d) ?? ''}|${buildOf(d) === null ? 'unknown' : 'known'}`)!);
  }
  return ids;
}

/** Reads each run directory (all before anything is written); a directory given twice, or the same run twice, is an error. */
export function readMergeSources(outDir: string, dirs: readonly string[]): MergeSource[] {
  const out = resolve(outDir);
  const seen = new Map<string, string>();
  return dirs.map((dirArg) => {
    const dir = resolve(dirArg);
    if (dir === out) throw new ResultsFileError(join(dir, 'results.json'), 'is one of the runs to merge: --merge writes a new directory');
    const results = readResults(dir);
    if (results.run.merged) throw new ResultsFileError(join(dir, 'results.json'), 'is itself a merge: merge the runs it was made of');
    const earlier = seen.get(results.run.id);
    if (earlier !== undefined) throw new ResultsFileError(join(dir, 'results.json'), `is run ${results.run.id}, which ${earlier} already is: each run once`);
    seen.set(results.run.id, dir);
    return { dir, results };
  });
}

/**
 * The merged document for `outDir`: runs in order of their start, the later result standing.
 * Each run's `--allow-skip` list is kept with it (in `run.merged`) and applies to its own results
 * only; `allowSkip`, the merge's own, applies to every result.
 */
export function mergeRuns(outDir: string, sources: readonly MergeSource[], version: string, now = new Date(), allowSkip: readonly string[] = []): RunResults {
  const out = resolve(outDir);
  const ordered = [...sources].sort((a, b) => a.results.run.started.localeCompare(b.results.run.started));
  const devices = new Map<string, RunDevice>();
  const results = new Map<string, CheckResult>();
  const ids = mergedDeviceIds(ordered);
  for (const { dir, results: doc } of ordered) {
    const from = (path: string) => relative(out, join(dir, path));
    // A result whose device the run does not list keeps its serial (nothing says which build).
    const idOf = (serial: string) => ids.get(`${doc.run.id}|${serial}`) ?? serial;
    for (const device of doc.devices) {
      const id = idOf(device.serial);
      devices.set(id, { ...device, serial: id, factsFile: from(device.factsFile ?? join('devices', deviceDirName(device.serial), 'facts.json')) });
    }
    for (const r of doc.results) {
      const merged = { ...r, device: idOf(r.device), evidence: r.evidence.map(from), run: r.run ?? doc.run.id };
      results.set(key(merged), merged);
    }
  }
  const finished = ordered.every((s) => s.results.run.finished !== null)
    ? (ordered
        .map((s) => s.results.run.finished!)
        .sort()
        .pop() ?? null)
    : null;
  return {
    run: {
      id: `merged-${now.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`,
      started: ordered[0]?.results.run.started ?? now.toISOString(),
      finished,
      tool: { name: 'v6lab', version },
      ...(allowSkip.length > 0 ? { allowSkip: [...allowSkip] } : {}),
      merged: ordered.map((s) => ({
        id: s.results.run.id,
        dir: relative(out, s.dir),
        started: s.results.run.started,
        finished: s.results.run.finished,
        tool: s.results.run.tool.version,
        ...(s.results.run.allowSkip?.length ? { allowSkip: s.results.run.allowSkip } : {}),
      })),
    },
    devices: [...devices.values()],
    results: [...results.values()],
  };
}
