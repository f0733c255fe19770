/**
 * App catalogues (CONTRACTS.md section 6): which apps the `apps` suite certifies, with an optional
 * UI flow each (taps, swipes, typing, waits, back) walked inside the capture window, and a dwell.
 */
import { array, boolean, DataFileError, integer, loadJsonFile, object, oneOf, string, type Schema } from '../config/schema.js';

export type FlowStep = { tap: string } | { wait: number } | { back: true } | { swipe: 'up' | 'down' | 'left' | 'right' } | { type: string; text: string };

export interface CatalogueApp {
  package: string;
  label: string;
  dwellMs: number | null;
  flow: FlowStep[];
}

export interface Catalogue {
  file: string;
  name: string;
  apps: CatalogueApp[];
}

/** WebdriverIO selectors: `~accessibility id`, `id=...`, `//xpath`, `android=...`. */
const selector = string({
  pattern: /^(~.+|id=.+|\/\/?.+|android=.+|-android uiautomator:.+)$/s,
  what: 'a selector (~accessibility id, id=..., //xpath or android=...)',
  maxLength: 1000,
});

const step: Schema<FlowStep> = (value, field, file) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new DataFileError(file, field, 'expected a step object such as {"tap": "~Discover"}');
  const keys = Object.keys(value);
  if (keys.includes('tap')) return object({ tap: selector })(value, field, file);
  if (keys.includes('wait')) return object({ wait: integer(0, 600_000) })(value, field, file);
  if (keys.includes('back')) {
    const { back } = object({ back: boolean })(value, field, file);
    if (!back) throw new DataFileError(file, `${field}.back`, 'expected true (a step that does nothing is a mistake)');
    return { back: true };
  }
  if (keys.includes('swipe')) return object({ swipe: oneOf(['up', 'down', 'left', 'right'] as const) })(value, field, file);
  if (keys.includes('type')) return object({ type: selector, text: string({ maxLength: 1000 }) })(value, field, file);
  throw new DataFileError(file, field, `unknown step (known: tap, wait, back, swipe, type), got keys ${keys.join(', ') || '(none)'}`);
};

const catalogueSchema = object({
  name: string({ maxLength: 200 }),
  apps: array(
    object(
      {
        package: string({ pattern: /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$/, what: 'an Android package name such as com.tencent.mm' }),
        label: string({ maxLength: 200 }),
      },
      { dwellMs: integer(0, 3_600_000), flow: array(step, { max: 200 }) },
    ),
    { min: 1, max: 1000 },
  ),
});

export function loadCatalogue(file: string): Catalogue {
  const raw = loadJsonFile(file, catalogueSchema);
  const seen = new Map<string, number>();
  raw.apps.forEach((app, i) => {
    const earlier = seen.get(app.package);
    if (earlier !== undefined) throw new DataFileError(file, `apps[${i}].package`, `${app.package} is listed twice (also apps[${earlier}])`);
    seen.set(app.package, i);
  });
  return { file, name: raw.name, apps: raw.apps.map((a) => ({ package: a.package, label: a.label, dwellMs: a.dwellMs ?? null, flow: a.flow ?? [] })) };
}
