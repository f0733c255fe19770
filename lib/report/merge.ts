/**
 * Many runs as one (`v6lab report MERGED --merge RUN...`): a carrier certifying a shelf of
 * handsets a day runs certify on several hosts, and reads one fleet report. The merged
 * results.json holds every device of every run; where two runs checked the same device, check,
 * app and network, the later run's result stands (a handset certified again after a firmware
 * fix). Evidence is not copied: paths are rewritten relative to the merged directory, so the
 * report links to the pcaps where the runs keep them. Each result names the run it came from.
 */
import { randomBytes } from 'node:crypto';
import { join, relative, resolve } from 'node:path';
import { readResults, ResultsFileError, type CheckResult, type RunDevice, type RunResults } from './results.js';

export interface MergeSource {
  dir: string;
  results: RunResults;
}

const key = (r: Pick<CheckResult, 'device' | 'check' | 'app' | 'network'>) => `${r.device}|${r.check}|${r.app ?? ''}|${r.network}`;
const deviceDirName = (serial: string) => serial.replace(/[^A-Za-z0-9._-]/g, '_');

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
  for (const { dir, results: doc } of ordered) {
    const from = (path: string) => relative(out, join(dir, path));
    for (const device of doc.devices) {
      devices.set(device.serial, { ...device, factsFile: from(device.factsFile ?? join('devices', deviceDirName(device.serial), 'facts.json')) });
    }
    for (const r of doc.results) {
      results.set(key(r), { ...r, evidence: r.evidence.map(from), run: r.run ?? doc.run.id });
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
