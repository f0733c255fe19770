/**
 * App catalogues (CONTRACTS.md section 6): which apps the `apps` suite certifies, with an optional
 * UI flow each (taps, swipes, typing, waits, back) walked inside the capture window, and a dwell.
 * A `page` step marks where a page of the app begins: each page's traffic is shared out apart
 * (docs/certify.md, "Pages").
 */
import { checkedAgainst, json } from '../config/json-schema.js';
import { array, boolean, DataFileError, integer, loadJsonFile, object, oneOf, string, type Schema } from '../config/schema.js';

export type FlowStep =
  | { tap: string }
  | { wait: number }
  | { back: true }
  | { swipe: 'up' | 'down' | 'left' | 'right' }
  | { type: string; text: string }
  | { page: string };

/**
 * The name of the screen an app shows at launch when its flow marks pages but not that one (a
 * `page` step after some other step): the traffic before the first marked page is still a page's.
 */
export const LAUNCH_PAGE = 'launch';

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

/** WebdriverIO selectors: `~accessibility id`, `id=...`, `//xpath`, `android=...` (any character after the prefix, newlines too). */
const SELECTOR = /^(~[\s\S]+|id=[\s\S]+|\/\/?[\s\S]+|android=[\s\S]+|-android uiautomator:[\s\S]+)$/;
const PACKAGE = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$/;
const SWIPES = ['up', 'down', 'left', 'right'] as const;
/** A page's name as tables print it: no control character, no space at either end (two names that look alike would be two rows). */
const PAGE_NAME = /^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$/;
const PAGE_NAME_MAX = 80;
const pageName = string({ pattern: PAGE_NAME, what: 'a page name such as "Home" (no control characters, no space at either end)', maxLength: PAGE_NAME_MAX });
const selector = string({
  pattern: SELECTOR,
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
  if (keys.includes('swipe')) return object({ swipe: oneOf(SWIPES) })(value, field, file);
  if (keys.includes('type')) return object({ type: selector, text: string({ maxLength: 1000 }) })(value, field, file);
  if (keys.includes('page')) return object({ page: pageName })(value, field, file);
  throw new DataFileError(file, field, `unknown step (known: tap, wait, back, swipe, type, page), got keys ${keys.join(', ') || '(none)'}`);
};

const catalogueSchema = object({
  name: string({ maxLength: 200 }),
  apps: array(
    object(
      {
        package: string({ pattern: PACKAGE, what: 'an Android package name such as com.tencent.mm' }),
        label: string({ maxLength: 200 }),
      },
      { dwellMs: integer(0, 3_600_000), flow: array(step, { max: 200 }) },
    ),
    { min: 1, max: 1000 },
  ),
});

const jsonSelector = json.string({
  pattern: SELECTOR,
  maxLength: 1000,
  description: 'A WebdriverIO selector: ~accessibility id, id=..., //xpath or android=...',
});

/** schemas/app-catalogue.schema.json: what loadCatalogue accepts (a package listed twice only the loader finds). */
export const APP_CATALOGUE_SCHEMA = json.dataFile(
  'app-catalogue.schema.json',
  'v6lab app catalogue',
  'The apps the apps suite certifies, each with an optional UI flow walked inside its capture window (docs/certify.md).',
  json.object({
    name: json.string({ maxLength: 200 }),
    apps: json.array(
      json.object(
        {
          package: json.string({ pattern: PACKAGE, description: 'An Android package name such as com.tencent.mm; each at most once.' }),
          label: json.string({ maxLength: 200 }),
        },
        {
          dwellMs: json.integer(0, 3_600_000, 'How long the app is left running in its window (ms).'),
          flow: json.array(
            {
              oneOf: [
                json.object({ tap: jsonSelector }),
                json.object({ wait: json.integer(0, 600_000, 'Milliseconds.') }),
                json.object({ back: { const: true } }),
                json.object({ swipe: json.oneOf(SWIPES) }),
                json.object({ type: jsonSelector, text: json.string({ maxLength: 1000 }) }),
                json.object({
                  page: json.string({
                    pattern: PAGE_NAME,
                    maxLength: PAGE_NAME_MAX,
                    description:
                      'Where a page of the app begins: the traffic from here to the next page step (or the window\'s end) is this page\'s. A first step names the launch screen; else that screen is the page "launch".',
                  }),
                }),
              ],
            },
            { max: 200, description: 'Steps walked in order: tap, wait, back, swipe, type, and page marks.' },
          ),
        },
      ),
      { min: 1, max: 1000 },
    ),
  }),
);

/** A package listed twice would be certified twice under one name. */
function catalogueRules(raw: ReturnType<typeof catalogueSchema>, file: string): void {
  const seen = new Map<string, number>();
  raw.apps.forEach((app, i) => {
    const earlier = seen.get(app.package);
    if (earlier !== undefined) throw new DataFileError(file, `apps[${i}].package`, `${app.package} is listed twice (also apps[${earlier}])`);
    seen.set(app.package, i);
  });
}

/** Whether an app's flow marks pages: only then is its traffic shared out by page. */
export const marksPages = (app: Pick<CatalogueApp, 'flow'>): boolean => app.flow.some((step) => 'page' in step);

export function loadCatalogue(file: string): Catalogue {
  const raw = loadJsonFile(file, checkedAgainst(APP_CATALOGUE_SCHEMA, catalogueSchema, catalogueRules));
  return { file, name: raw.name, apps: raw.apps.map((a) => ({ package: a.package, label: a.label, dwellMs: a.dwellMs ?? null, flow: a.flow ?? [] })) };
}
