// The os suite: the device's factory defaults, as delivered (MIIT notice item 3): its default
// APN's protocols, IPv6 on its interfaces, privacy addresses, a dual-stack attach, and whether
// its default connect path prefers IPv6.
import type { Certification } from '../lib/harness/certification.js';
import { certification, report, ui } from './support.js';

const checks = ['os.apn-protocol', 'os.apn-roaming-protocol', 'os.ipv6-enabled', 'os.privacy-addresses', 'os.dual-stack-attach'] as const;

describe('os: factory defaults', () => {
  let cert: Certification;
  before(async () => {
    cert = await certification();
    // The APN table and IPv6 settings as delivered, before the harness changes anything.
    await cert.observeFactory();
  });

  for (const check of checks) {
    it(check, async function () {
      if (cert.done(check, null, 'ipv4v6')) this.skip();
      await report(this, await cert.osCheck(check), cert.plan.runDir);
    });
  }

  it('os.resolver-prefers-ipv6', async function () {
    if (cert.done('os.resolver-prefers-ipv6', null, 'ipv4v6')) this.skip();
    await report(this, await cert.resolverProbe(ui), cert.plan.runDir);
  });
});
