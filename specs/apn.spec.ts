// The apn suite: the device on the IPv6-only APN (RFC 7849, RFC 6877, RFC 7050): IPv6 by SLAAC
// and no native IPv4, a CLAT, the NAT64 prefix, and an IPv4-only destination reached.
import type { Certification } from '../lib/harness/certification.js';
import { certification, report, ui } from './support.js';

const checks = ['apn.ipv6-only-attach', 'apn.clat', 'apn.nat64-prefix'] as const;

describe('apn: the IPv6-only APN', () => {
  let cert: Certification;
  before(async () => {
    cert = await certification();
  });

  for (const check of checks) {
    it(check, async function () {
      if (cert.done(check, null, 'ipv6')) this.skip();
      await report(this, await cert.apnCheck(check), cert.plan.runDir);
    });
  }

  it('apn.ipv4-via-clat', async function () {
    if (cert.done('apn.ipv4-via-clat', null, 'ipv6')) this.skip();
    await report(this, await cert.ipv4ViaClat(ui, cert.device.ipv4OnlyProbeUrl), cert.plan.runDir);
  });
});
