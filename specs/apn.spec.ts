// The apn suite: the device on the IPv6-only APN (RFC 7849, RFC 6877, RFC 7050): IPv6 by SLAAC
// and no native IPv4, a CLAT, the NAT64 prefix, and an IPv4-only destination reached. The checks,
// their network and requirements are the catalogue's (lib/checks/requirements.ts).
import { checksOf } from '../lib/checks/requirements.js';
import type { Certification } from '../lib/harness/certification.js';
import { certification, report, ui } from './support.js';

describe('apn: the IPv6-only APN', () => {
  let cert: Certification;
  before(async () => {
    cert = await certification();
  });

  for (const check of checksOf('apn')) {
    it(check.id, async function () {
      if (cert.done(check.id, null, check.network)) this.skip();
      await report(this, await cert.check(check.id, ui), cert.plan.runDir);
    });
  }
});
