/**
 * `DIR/junit.xml`: the run in the JUnit XML shape CI systems read (Jenkins, GitLab, GitHub
 * Actions' test reporters): one testsuite per device and suite, one testcase per check; a failed
 * check is a <failure>, a broken one an <error>, a skipped one <skipped>. The reasons are the
 * failure text; the requirements and evidence go to <system-out>.
 */
import type { CheckResult, RunResults } from './results.js';

const xml = (text: unknown): string => String(text ?? '')
  // XML 1.0 cannot carry most control characters, even escaped.
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
  .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

function testcase(r: CheckResult, suite: string): string {
  const name = `${r.app ?? r.check} [${r.network}]`;
  const time = typeof r.metrics.checkMs === 'number' ? (r.metrics.checkMs / 1000).toFixed(3) : '0';
  const why = r.reasons.map((x) => `${x.code}: ${x.detail}`).join('\n');
  const first = r.reasons[0];
  let body = '';
  if (r.status === 'failed') body = `<failure message="${xml(first ? `${first.code}: ${first.detail}` : 'failed')}" type="${xml(first?.code ?? (r.verdict ?? 'failed'))}">${xml(why)}</failure>`;
  else if (r.status === 'broken') body = `<error message="${xml(first ? `${first.code}: ${first.detail}` : 'broken')}" type="${xml(first?.code ?? 'broken')}">${xml(why)}</error>`;
  else if (r.status === 'skipped') body = `<skipped message="${xml(first ? `${first.code}: ${first.detail}` : 'skipped')}"/>`;
  const out = [`requirement: ${r.requirement.join(', ')}`, ...(r.verdict ? [`verdict: ${r.verdict}`] : []), ...(r.status === 'passed' && why ? [why] : []), ...(r.brokenAttempts ?? []).map((a) => `run again after ${a.reasons.map((x) => `${x.code}: ${x.detail}`).join('; ')}`), ...r.evidence.map((e) => `evidence: ${e}`)].join('\n');
  return `    <testcase classname="${xml(`v6lab.${suite}.${r.device}`)}" name="${xml(name)}" time="${time}">${body}<system-out>${xml(out)}</system-out></testcase>`;
}

export function renderJunit(doc: RunResults): string {
  const suites: string[] = [];
  let total = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  for (const device of doc.devices) {
    for (const suite of ['os', 'apn', 'apps']) {
      const cases = doc.results.filter((r) => r.device === device.serial && r.check.split('.')[0] === suite);
      if (cases.length === 0) continue;
      const f = cases.filter((r) => r.status === 'failed').length;
      const e = cases.filter((r) => r.status === 'broken').length;
      const s = cases.filter((r) => r.status === 'skipped').length;
      const time = cases.reduce((n, r) => n + (typeof r.metrics.checkMs === 'number' ? r.metrics.checkMs : 0), 0) / 1000;
      total += cases.length;
      failures += f;
      errors += e;
      skipped += s;
      suites.push(`  <testsuite name="${xml(`${suite} ${device.model} (${device.serial})`)}" tests="${cases.length}" failures="${f}" errors="${e}" skipped="${s}" time="${time.toFixed(3)}" timestamp="${xml(doc.run.started.replace(/\.\d+Z$/, '').replace(/Z$/, ''))}" hostname="${xml(device.serial)}">
    <properties><property name="model" value="${xml(device.model)}"/><property name="android" value="${xml(device.android)}"/><property name="profile" value="${xml(device.profile)}"/></properties>
${cases.map((r) => testcase(r, suite)).join('\n')}
  </testsuite>`);
    }
  }
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="v6lab ${xml(doc.run.id)}" tests="${total}" failures="${failures}" errors="${errors}" skipped="${skipped}">
${suites.join('\n')}
</testsuites>
`;
}
