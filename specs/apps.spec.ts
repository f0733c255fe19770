// The apps suite: every app of the catalogue on each network of the profile, launched through
// Appium inside a packet capture, its flow walked, its traffic judged (CONTRACTS.md section 3;
// MIIT notice items 2 and 4, RFC 8305). The catalogue is read when the spec loads, so each app
// is its own test.
import { checksOf, networksOf } from '../lib/checks/requirements.js';
import { loadCatalogue } from '../lib/harness/catalogue.js';
import type { Certification } from '../lib/harness/certification.js';
import { readPlan } from '../lib/harness/plan.js';
import { certification, report, ui } from './support.js';

const plan = readPlan(process.env.V6LAB_PLAN ?? '');
const catalogue = loadCatalogue(plan.catalogue);

const [appCheck] = checksOf('apps');

for (const network of networksOf(appCheck!)) {
  describe(`apps on the ${network === 'ipv6' ? 'IPv6-only' : 'dual-stack'} APN (${catalogue.name})`, () => {
    let cert: Certification;
    before(async () => {
      cert = await certification();
    });

    for (const app of catalogue.apps) {
      it(`${app.label} (${app.package})`, async function () {
        if (cert.done(appCheck!.id, app.package, network)) this.skip();
        await report(this, await cert.app(ui, app, network), cert.plan.runDir);
      });
    }
  });
}
