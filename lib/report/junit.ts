/**
 * `DIR/junit.xml`: the run in the JUnit XML shape CI systems read (Jenkins, GitLab, GitHub
 * Actions' test reporters): one testsuite per device and suite, one testcase per result; a failed
 * check is a <failure>, a broken one an <error>, a skipped one <skipped>. The reasons are the
 * failure text; the requirements and evidence go to <system-out>. The run's overall verdict
 * (pass, fail, incomplete, not-run) is a testsuite of its own with a `verdict` property.
 */
import { suiteOf } from './allure-results.js';
import { identityProperties, type CheckResult, type RunResults } from './results.js';
import { describeCheck, judgeRun, type CheckKey, type RunVerdict, type VerdictOptions } from './verdict.js';

const xml = (text: unknown): string =>
  String(text ?? '')
    // XML 1.0 cannot carry most control characters, even escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

function testcase(r: CheckResult, suite: string, accepted: boolean): string {
  const name = `${r.app ?? r.check} [${r.network}]`;
  const time = typeof r.metrics.checkMs === 'number' ? (r.metrics.checkMs / 1000).toFixed(3) : '0';
  const why = r.reasons.map((x) => `${x.code}: ${x.detail}`).join('\n');
  const first = r.reasons[0];
  let body = '';
  if (r.status === 'failed')
    body = `<failure message="${xml(first ? `${first.code}: ${first.detail}` : 'failed')}" type="${xml(first?.code ?? r.verdict ?? 'failed')}">${xml(why)}</failure>`;
  else if (r.status === 'broken')
    body = `<error message="${xml(first ? `${first.code}: ${first.detail}` : 'broken')}" type="${xml(first?.code ?? 'broken')}">${xml(why)}</error>`;
  else if (r.status === 'skipped')
    body = `<skipped message="${xml(`${accepted ? 'accepted (--allow-skip): ' : ''}${first ? `${first.code}: ${first.detail}` : 'skipped'}`)}"/>`;
  const out = [
    `requirement: ${r.requirement.join(', ')}`,
    ...(r.verdict ? [`verdict: ${r.verdict}`] : []),
    ...(r.status === 'passed' && why ? [why] : []),
    ...(r.brokenAttempts ?? []).map((a) => `run again after ${a.reasons.map((x) => `${x.code}: ${x.detail}`).join('; ')}`),
    ...r.evidence.map((e) => `evidence: ${e}`),
    ...(r.appLogs ?? []).flatMap((l) =>
      l.error !== null || l.file === null
        ? [`app log (${l.command.join(' ')}) could not be read: ${l.error ?? 'nothing read'}`]
        : [`app log (${l.command.join(' ')}), last ${l.tail.length} of ${l.lines} lines:`, ...l.tail.map((line) => `  ${line}`)],
    ),
  ].join('\n');
  return `    <testcase classname="${xml(`v6lab.${suite}.${r.device}`)}" name="${xml(name)}" time="${time}">${body}<system-out>${xml(out)}</system-out></testcase>`;
}

/**
 * The run's overall verdict as a testsuite of its own (the JUnit schema allows nothing else under
 * <testsuites>): a `verdict` property, and the checks without a verdict and the accepted skips in
 * its <system-out>. It holds no testcase: junit.xml has exactly one testcase per result.
 */
function verdictSuite(doc: RunResults, verdict: RunVerdict, timestamp: string): string {
  const out = [
    `overall verdict: ${verdict.verdict}`,
    ...verdict.missing.map((m) => `missing (${m.status}): ${describeCheck(m)}`),
    ...verdict.accepted.map((a) => `accepted skip: ${describeCheck(a)}`),
  ].join('\n');
  const properties = [
    ['verdict', verdict.verdict],
    ['run', doc.run.id],
    ['missing', String(verdict.missing.length)],
    ['accepted-skips', String(verdict.accepted.length)],
    ...(verdict.allowSkip.length > 0 ? [['allow-skip', verdict.allowSkip.join(',')]] : []),
    // Who ran it and where (`certify --lab-name --tester --notes`), as the run recorded it.
    ...(doc.run.labName === undefined ? [] : [['lab-name', doc.run.labName]]),
    ...(doc.run.tester === undefined ? [] : [['tester', doc.run.tester]]),
    ...(doc.run.notes === undefined ? [] : [['notes', doc.run.notes]]),
  ]
    .map(([name, value]) => `<property name="${xml(name)}" value="${xml(value)}"/>`)
    .join('');
  return `  <testsuite name="v6lab overall verdict: ${xml(verdict.verdict)}" tests="0" failures="0" errors="0" skipped="0" time="0" timestamp="${xml(timestamp)}">
    <properties>${properties}</properties>
    <system-out>${xml(out)}</system-out>
  </testsuite>`;
}

/**
 * junit.xml: one testsuite per device and suite (the check id's part before its first dot, or
 * `other`), in the order the results came; every result is a testcase, whatever its check id or
 * device (a device only the results name is a suite too). Then the verdict suite.
 */
export function renderJunit(doc: RunResults, options: VerdictOptions = {}): string {
  const verdict = judgeRun(doc, options);
  const key = (r: CheckKey) => `${r.device}|${r.check}|${r.app ?? ''}|${r.network}`;
  const accepted = new Set(verdict.accepted.map(key));
  const timestamp = doc.run.started.replace(/\.\d+Z$/, '').replace(/Z$/, '');
  const groups = new Map<string, { device: string; suite: string; cases: CheckResult[] }>();
  const serials = [...new Set([...doc.devices.map((d) => d.serial), ...doc.results.map((r) => r.device)])];
  for (const serial of serials) {
    for (const r of doc.results.filter((x) => x.device === serial)) {
      const suite = suiteOf(r.check);
      const key = `${serial}\u0000${suite}`;
      if (!groups.has(key)) groups.set(key, { device: serial, suite, cases: [] });
      groups.get(key)!.cases.push(r);
    }
  }
  const suites: string[] = [];
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  for (const { device: serial, suite, cases } of groups.values()) {
    const device = doc.devices.find((d) => d.serial === serial);
    const f = cases.filter((r) => r.status === 'failed').length;
    const e = cases.filter((r) => r.status === 'broken').length;
    const s = cases.filter((r) => r.status === 'skipped').length;
    const time = cases.reduce((n, r) => n + (typeof r.metrics.checkMs === 'number' ? r.metrics.checkMs : 0), 0) / 1000;
    failures += f;
    errors += e;
    skipped += s;
    const deviceVerdict = verdict.devices.find((d) => d.device === serial)?.verdict ?? 'not-run';
    const properties = device
      ? `<property name="model" value="${xml(device.model)}"/><property name="android" value="${xml(device.android)}"/><property name="profile" value="${xml(device.profile)}"/>${identityProperties(
          device,
        )
          .map(([name, value]) => `<property name="${xml(name)}" value="${xml(value)}"/>`)
          .join('')}`
      : '<property name="model" value="(not in the run\'s device list)"/>';
    suites.push(`  <testsuite name="${xml(`${suite} ${device?.model ?? 'unknown'} (${serial})`)}" tests="${cases.length}" failures="${f}" errors="${e}" skipped="${s}" time="${time.toFixed(3)}" timestamp="${xml(timestamp)}" hostname="${xml(serial)}">
    <properties>${properties}<property name="device-verdict" value="${xml(deviceVerdict)}"/></properties>
${cases.map((r) => testcase(r, suite, accepted.has(key(r)))).join('\n')}
  </testsuite>`);
  }
  suites.push(verdictSuite(doc, verdict, timestamp));
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="v6lab ${xml(doc.run.id)}" tests="${doc.results.length}" failures="${failures}" errors="${errors}" skipped="${skipped}">
${suites.join('\n')}
</testsuites>
`;
}
