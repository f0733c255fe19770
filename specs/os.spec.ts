// The os suite: the device's factory defaults, as delivered (MIIT notice item 3): its default
// APN's protocols, IPv6 on its interfaces, privacy addresses, a dual-stack attach, and whether
// its default connect path prefers IPv6. The checks, their network and requirements are the
// catalogue's (lib/checks/requirements.ts).
import { checksOf } from '../lib/checks/requirements.js';
import type { Certification } from '../lib/harness/certification.js';
import { certification, report, ui } from './support.js';

describe('os: factory defaults', () => {
  let cert: Certification;
  before(async () => {
    cert = await certification();
    // The APN table and IPv6 settings as delivered, before the harness changes anything.
    await cert.observeFactory();
  });

  for (const check of checksOf('os')) {
    it(check.id, async function () {
      if (cert.done(check.id, null, check.network)) this.skip();
      await report(this, await cert.check(check.id, ui), cert.plan.runDir);
    });
  }
});
