// The spec an app vendor would write: their own steps (here: start the app, give it time to
// connect), judged by v6lab around them, asserted with v6lab's matchers. The lab's catalogue says
// what to expect (devices/lab/README.md): chat is IPv6 first (pass), game connects to an IPv4
// literal (fail). The second test fails on purpose: test/lab/appium.test.ts checks its message.
import { browser, expect } from '@wdio/globals';
import '../../../lib/wdio/expect.js';
import { appLogEntries, until } from '../../support/app-log.js';

const IPV6_FIRST = 'com.example.chat';
const IPV4_LITERAL = 'com.example.game';
/** The handset's directory in the lab's state (its apps' logs), from test/lab/appium.test.ts. */
const handsetDir = process.env.V6LAB_WDIO_HANDSET_DIR ?? '';

const homeLoads = (pkg: string) => appLogEntries(handsetDir, pkg).filter((e) => e.event === 'loaded' && e.page === 'home').length;

/**
 * The user's own steps: open the app and wait until it shows its first screen. A real suite
 * waits for an element of that screen; the lab's apps log when a page has loaded (every request
 * of it answered), which is surer than a pause.
 */
const openApp = (pkg: string) => async () => {
  const before = homeLoads(pkg);
  await browser.activateApp(pkg);
  await until(`${pkg} to load its home page`, () => (homeLoads(pkg) > before ? true : null), 15_000);
};

describe('v6lab in a WebdriverIO suite', () => {
  it('an IPv6-first app passes toBeIpv6First', async () => {
    const result = await browser.v6lab.judgeApp(IPV6_FIRST, openApp(IPV6_FIRST));
    expect(result).toBeIpv6First();
    expect(result).toHaveNoIpv4Literals();
    expect(result).toUsePath('native-v6');
    const network = await browser.v6lab.observeNetwork();
    expect(network.serial).toBe(browser.v6lab.serial);
    expect(network.defaultNetwork?.ipv6Addresses.length).toBeGreaterThan(0);
    await browser.terminateApp(IPV6_FIRST);
  });

  it('an app with an IPv4 literal is not IPv6 first, and toHaveNoIpv4Literals names the literal', async () => {
    const result = await browser.v6lab.judgeApp(IPV4_LITERAL, openApp(IPV4_LITERAL));
    expect(result).not.toBeIpv6First();
    await browser.terminateApp(IPV4_LITERAL);
    // Fails: the message names the literal address (checked by the lab test that runs this spec).
    expect(result).toHaveNoIpv4Literals();
  });
});
