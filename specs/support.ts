// What the suites share: the worker's certification (one device per WebdriverIO worker, found
// by the session's udid in the run plan that `v6lab certify` wrote), the Appium-driven UI the
// checks use, and how a result becomes a mocha test outcome and an Allure entry. The same code
// drives a lab handset (the v6lab-virtual driver) and a phone (UiAutomator2).
import { AssertionError } from 'node:assert';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { $, browser } from '@wdio/globals';
import * as allure from '@wdio/allure-reporter';
import { historyId, parameter, Status, testCaseId } from 'allure-js-commons';
import { Certification, UiError, type DeviceUi } from '../lib/harness/certification.js';
import type { FlowStep } from '../lib/harness/catalogue.js';
import type { ScreenElement, SettingsScreens } from '../lib/harness/settings-ui.js';
import type { CheckResult } from '../lib/report/results.js';
import { reasonCodeTitle } from '../lib/checks/messages.js';
import { allureTestIds, requirementLink } from '../lib/report/allure-results.js';

const planFile = process.env.V6LAB_PLAN;

export function serial(): string {
  const caps = browser.requestedCapabilities as Record<string, unknown>;
  const udid = caps['appium:udid'] ?? (caps['appium:options'] as Record<string, unknown> | undefined)?.udid;
  if (typeof udid !== 'string') throw new Error('the session has no appium:udid capability: run the suites through `v6lab certify`');
  return udid;
}

export function certification(): Promise<Certification> {
  if (planFile === undefined) throw new Error('V6LAB_PLAN is not set: run the suites through `v6lab certify`');
  return Certification.forWorker(planFile, serial(), screens);
}

/** Screen-relative swipe, as `input swipe` takes it (pixels of a 1080x2400 screen, scaled by the device). */
const SWIPES: Record<string, [number, number, number, number]> = {
  up: [540, 1700, 540, 700],
  down: [540, 700, 540, 1700],
  left: [900, 1200, 180, 1200],
  right: [180, 1200, 900, 1200],
};

/** Runs one Appium action; what it throws is a UiError, so the fault is named by its type. */
async function appium<T>(action: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new UiError(action, { cause: error });
  }
}

export const ui: DeviceUi = {
  isAppInstalled: (pkg) => appium(`tell whether ${pkg} is installed`, () => browser.isAppInstalled(pkg)),
  activateApp: (pkg) =>
    appium(`launch ${pkg}`, async () => {
      await browser.activateApp(pkg);
    }),
  // WebdriverIO types it void; Appium answers whether the app was running.
  terminateApp: (pkg) => appium(`stop ${pkg}`, async () => ((await browser.terminateApp(pkg)) as unknown) !== false),
  openUrl: (url) =>
    appium(`open ${url}`, async () => {
      await browser.url(url);
    }),
  step: (step: FlowStep) =>
    appium(`do ${JSON.stringify(step)}`, async () => {
      if ('tap' in step) await $(step.tap).click();
      else if ('wait' in step) await browser.pause(step.wait);
      else if ('back' in step) await browser.back();
      else if ('swipe' in step) {
        const [x1, y1, x2, y2] = SWIPES[step.swipe]!;
        await browser.execute('mobile: shell', { command: 'input', args: ['swipe', String(x1), String(y1), String(x2), String(y2), '300'] });
      } else if ('type' in step) await $(step.type).setValue(step.text);
      // A page step marks a moment of the walk, which the certification takes; it is no action.
      else throw new Error(`a page step ("${step.page}") is not a UI action: the certification marks it, and never asks the UI to do it`);
    }),
};

/** The W3C element reference's key in a findElements answer. */
const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';

/**
 * The session as Settings screens (`apnSwitch: settings-ui`): elements by resource id (the `id`
 * strategy, which UiAutomator2 and the lab's driver both have), their text, `checked` and place,
 * a tap and Back. The WebDriver commands are the protocol's, so any Android driver answers them.
 */
export const screens: SettingsScreens = {
  elementsById: (resourceId) =>
    appium(`find ${resourceId}`, async () => {
      const found = (await browser.findElements('id', resourceId)) as unknown as Record<string, string>[];
      return Promise.all(
        found.map(async (element): Promise<ScreenElement> => {
          const ref = element[ELEMENT_KEY]!;
          const [text, checked, rect] = await Promise.all([
            browser.getElementText(ref),
            browser.getElementAttribute(ref, 'checked'),
            browser.getElementRect(ref),
          ]);
          return { ref, text, checked: checked === 'true', top: rect.y, bottom: rect.y + rect.height };
        }),
      );
    }),
  tap: (ref) => appium('tap an element', () => browser.elementClick(ref)),
  back: () => appium('go back', () => browser.back()),
};

/** Evidence files larger than this are linked from results.json, not copied into Allure. */
const MAX_ATTACHMENT = 20 * 1024 * 1024;

/**
 * A product failure as mocha's error: @wdio/allure-reporter marks a test `failed` (Allure's
 * "Product defects") only when its error's name holds "assert" or its message says
 * "AssertionError" or "expect" (its getTestStatus); anything else is `broken`. The phone or the
 * app failed IPv6, which is what the check asserts.
 */
export function productFailure(result: Pick<CheckResult, 'verdict' | 'reasons'>): AssertionError {
  const why = result.reasons.map((r) => `${r.code}: ${r.detail}`).join('\n');
  return new AssertionError({ message: `${result.verdict ? `verdict ${result.verdict}: ` : ''}${why}` });
}

/**
 * A harness or infrastructure problem (no verdict) as mocha's error, which the reporter must
 * keep `broken`: a plain Error whose message must not say "expect" (the reporter would call it
 * failed), so it gives each reason's code and title, ours and fixed; the details are the test's
 * steps and in results.json.
 */
export function harnessProblem(result: Pick<CheckResult, 'reasons'>): Error {
  const codes = result.reasons.map((r) => `${r.code}: ${reasonCodeTitle(r.code, 'en')}`).join('\n');
  const message = `broken (no verdict: a harness or infrastructure problem; the details are the steps)\n${codes}`;
  // A code from elsewhere is shown as it is: should one say "expect", only the plain words stay.
  return new Error(
    /expect|^\s*assertionerror/i.test(message) ? 'broken (no verdict: a harness or infrastructure problem; the details are the steps)' : message,
  );
}

/**
 * Reports a result: Allure labels (requirements, device, network, app), its test identity (one
 * test per device, network, check and app), the reasons as steps, the evidence attached; then the
 * mocha outcome: skipped, failed (a product failure) or broken (a harness problem).
 */
export async function report(context: Mocha.Context, result: CheckResult, runDir: string): Promise<void> {
  allure.addLabel('device', result.device);
  allure.addLabel('network', result.network);
  allure.addLabel('check', result.check);
  if (result.app !== null) allure.addLabel('app', result.app);
  // The reporter's own ids hash the test's title and the capabilities' device name: the same
  // check on two handsets of one model would be one test with retries.
  const ids = allureTestIds(result);
  await historyId(ids.historyId);
  await testCaseId(ids.testCaseId);
  for (const id of result.requirement) {
    allure.addLabel('requirement', id);
    await allure.addTag(id);
    const link = requirementLink(id);
    await allure.addLink(link.url, link.name, link.type);
  }
  // Shown, but out of the test's identity: Allure hashes parameters into its history key, and a
  // verdict or a measure that changes with the build would start a new history each time.
  if (result.verdict !== null) await parameter('verdict', result.verdict, { excluded: true });
  for (const [name, value] of Object.entries(result.metrics)) await parameter(name, String(value), { excluded: true });
  for (const reason of result.reasons)
    await allure.addStep(
      `${reason.code}: ${reason.detail}`,
      undefined,
      result.status === 'passed' ? Status.PASSED : result.status === 'skipped' ? Status.SKIPPED : Status.FAILED,
    );
  for (const file of result.evidence) {
    const path = join(runDir, file);
    const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    if (size > 0 && size <= MAX_ATTACHMENT)
      await allure.addAttachment(file, readFileSync(path), file.endsWith('.json') ? 'application/json' : 'application/vnd.tcpdump.pcap');
  }
  if (result.status === 'skipped') context.skip();
  if (result.status === 'broken') throw harnessProblem(result);
  if (result.status === 'failed') throw productFailure(result);
}

export function runDir(cert: Certification): string {
  return cert.plan.runDir;
}
