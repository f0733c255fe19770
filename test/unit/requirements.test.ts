// The requirement catalogue as a report reader meets it: every check filed under a unique
// test-case id and proving at least one clause, every clause either proved by a check or saying
// why not, ids an anchor and a file name can carry, the ids older results carry still shown, and
// the Chinese texts written in Chinese. docs/requirements.md's table is the same catalogue.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  CHECKS,
  LEGACY_REQUIREMENTS,
  REQUIREMENTS,
  checkDefinition,
  checksOfRequirement,
  checkTitle,
  requirementAnchor,
  requirementOf,
  type Requirement,
} from '../../lib/checks/requirements.js';
import { LANGS } from '../../lib/checks/lang.js';

const requirements: Requirement[] = Object.values(REQUIREMENTS);
const ANCHOR_SAFE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const CJK = /[\u4e00-\u9fff]/;
/** Three English words in a row: a sentence left untranslated (technical tokens like "IPv6", "Happy Eyeballs" or "ipv4only.arpa" are not three words). */
const ENGLISH_RUN = /\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/;

/** Every Localized text of a requirement or check, with where it is, for the messages. */
function localizedTexts(): { where: string; en: string; zh: string }[] {
  const out: { where: string; en: string; zh: string }[] = [];
  for (const r of [...requirements, ...Object.values(LEGACY_REQUIREMENTS)]) {
    for (const field of ['document', 'clause', 'title', 'summary', 'notChecked'] as const) {
      const text = r[field];
      // An RFC is called by its number in Chinese too.
      if (field === 'document' && /^RFC \d+$/.test(text?.en ?? '')) assert.equal(text?.['zh-CN'], text?.en);
      else if (text !== undefined) out.push({ where: `${r.id}.${field}`, en: text.en, zh: text['zh-CN'] });
    }
  }
  for (const c of CHECKS) out.push({ where: `${c.id}.titles`, en: c.titles.en, zh: c.titles['zh-CN'] });
  return out;
}

describe('requirements: the catalogue of clauses and checks', () => {
  it('files every check under a unique, stable-looking test-case id and keeps its English title', () => {
    const seen = new Map<string, string>();
    for (const c of CHECKS) {
      assert.match(c.testCase, /^V6L-(OS|APN|APP)-\d{2}$/, `${c.id}: ${c.testCase}`);
      assert.equal(c.testCase.split('-')[1], { os: 'OS', apn: 'APN', apps: 'APP' }[c.suite], `${c.id}'s test case names another suite`);
      assert.ok(!seen.has(c.testCase), `${c.testCase} is both ${seen.get(c.testCase)} and ${c.id}`);
      seen.set(c.testCase, c.id);
      assert.equal(c.title, c.titles.en, c.id);
    }
    // The ids a filed report already carries: renumbering one would orphan it.
    assert.equal(checkDefinition('apn.nat64-prefix')?.testCase, 'V6L-APN-03');
    assert.equal(checkDefinition('apps.ipv6-first')?.testCase, 'V6L-APP-01');
  });

  it('maps every check to at least one requirement the catalogue knows', () => {
    for (const c of CHECKS) {
      assert.ok(c.requirements.length > 0, `${c.id} proves nothing`);
      for (const r of c.requirements) assert.ok(Object.hasOwn(REQUIREMENTS, r), `${c.id} names ${r}`);
      assert.equal(new Set(c.requirements).size, c.requirements.length, `${c.id} names a requirement twice`);
    }
  });

  it('gives every requirement an anchor-safe id that is its key, and its anchor', () => {
    for (const [key, r] of Object.entries(REQUIREMENTS)) {
      assert.equal(r.id, key);
      assert.match(r.id, ANCHOR_SAFE, r.id);
      assert.equal(requirementAnchor(r.id), `req-${r.id}`);
    }
    // An id of an old run with a space, or anything else, still becomes a valid id.
    assert.equal(requirementAnchor('RFC 7849'), 'req-RFC_7849');
    assert.match(requirementAnchor('<x>"y'), /^req-[A-Za-z0-9_-]+$/);
  });

  it('has every requirement proved by a check, or saying why not, never both', () => {
    for (const r of requirements) {
      const checks = checksOfRequirement(r.id);
      if (checks.length === 0) assert.ok(r.notChecked, `${r.id}: no check proves it and it does not say why`);
      else assert.equal(r.notChecked, undefined, `${r.id} says it is not checked, but ${checks.map((c) => c.id).join(', ')} prove it`);
    }
  });

  it('names YD/T clauses by title only, and every other clause by the number it was read under', () => {
    for (const r of requirements) {
      if (r.id.startsWith('YDT')) {
        assert.equal(r.clauseNumber, null, `${r.id}: a YD/T clause number nobody has seen`);
        assert.match(r.clause.en, /not seen/, r.id);
        assert.match(r.clause['zh-CN'], /未见/, r.id);
      } else {
        assert.ok(r.clauseNumber !== null && r.clauseNumber !== '', r.id);
        assert.ok(r.clause.en.includes(r.clauseNumber), `${r.id}: its clause text does not show ${r.clauseNumber}`);
      }
    }
    // RFC 7849 labels its items C_REC#n, L_REC#n and A_REC#n; no REQ#n exists to cite.
    for (const r of requirements.filter((x) => x.id.startsWith('RFC7849-'))) assert.doesNotMatch(r.clauseNumber ?? '', /REQ#/);
  });

  it('resolves the whole-document ids of older results to something displayable, with the clauses that replaced them', () => {
    for (const id of ['MIIT-1', 'MIIT-2', 'MIIT-3', 'MIIT-4', 'RFC7849', 'RFC6877', 'RFC7050', 'RFC8305', 'RFC8981', 'YDT3269']) {
      const r = requirementOf(id);
      assert.ok(r, `${id} no longer resolves`);
      assert.equal(r.id, id);
      assert.ok(r.title.en.length > 0 && r.title['zh-CN'].length > 0, id);
    }
    for (const legacy of Object.values(LEGACY_REQUIREMENTS)) {
      assert.ok(legacy.replacedBy.length > 0, legacy.id);
      for (const clause of legacy.replacedBy) assert.ok(Object.hasOwn(REQUIREMENTS, clause), `${legacy.id} -> ${clause}`);
    }
    assert.deepEqual(
      checksOfRequirement('RFC6877').map((c) => c.id),
      ['apn.clat', 'apn.ipv4-via-clat'],
    );
    assert.equal(requirementOf('NOT-A-REQUIREMENT'), undefined);
    assert.equal(requirementOf('toString'), undefined);
  });

  it('lists the checks of a requirement in catalogue order', () => {
    assert.deepEqual(
      checksOfRequirement('RFC7849-C_REC8').map((c) => c.id),
      ['apn.clat', 'apn.ipv4-via-clat'],
    );
    assert.deepEqual(checksOfRequirement('MIIT-21'), []);
  });

  it('writes every text in both languages, the Chinese in Chinese', () => {
    for (const { where, en, zh } of localizedTexts()) {
      assert.ok(en.trim().length > 0, `${where}: no English`);
      assert.match(zh, CJK, `${where}: the zh-CN text has no Chinese: ${zh}`);
      assert.doesNotMatch(zh, ENGLISH_RUN, `${where}: English left in the zh-CN text: ${zh}`);
      assert.notEqual(zh, en, where);
    }
    for (const c of CHECKS) for (const lang of LANGS) assert.equal(checkTitle(c.id, lang), c.titles[lang]);
    assert.equal(checkTitle('os.retired-check', 'zh-CN'), 'os.retired-check');
  });

  it("keeps docs/certify.md's checks table in step with the catalogue", () => {
    const doc = readFileSync(new URL('../../docs/certify.md', import.meta.url), 'utf8');
    for (const c of CHECKS) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${c.id}\` |`));
      assert.ok(row, `docs/certify.md does not list ${c.id}`);
      assert.ok(row.endsWith(`| ${c.testCase}: ${c.requirements.join(', ')} |`), `docs/certify.md's requirements of ${c.id}: ${row}`);
    }
  });

  it('keeps docs/requirements.md in step with the catalogue', () => {
    const doc = readFileSync(new URL('../../docs/requirements.md', import.meta.url), 'utf8');
    const rows = doc.split('\n').filter((line) => line.startsWith('| `'));
    for (const r of requirements) {
      // The traceability row: its test cases are exactly the checks that prove it, or it says why none does.
      const row = rows.find((line) => line.startsWith(`| \`${r.id}\` |`));
      assert.ok(row, `docs/requirements.md has no row for ${r.id}`);
      const listed = [...row.matchAll(/V6L-[A-Z]+-\d{2}/g)].map((m) => m[0]);
      const proving = checksOfRequirement(r.id).map((c) => c.testCase);
      assert.deepEqual(listed, proving, `docs/requirements.md's row for ${r.id}`);
      if (proving.length === 0) assert.match(row, /not checked/, r.id);
    }
    for (const c of CHECKS) {
      const row = doc.split('\n').find((line) => line.startsWith(`| ${c.testCase} | \`${c.id}\` |`));
      assert.ok(row, `docs/requirements.md does not list ${c.testCase} ${c.id}`);
      assert.ok(row.endsWith(`| ${c.requirements.join(', ')} |`), `docs/requirements.md's requirements of ${c.id}: ${row}`);
    }
  });
});
