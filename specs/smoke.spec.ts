// Smoke: the Appium session reaches the handset and drives an app the way the certification
// suites will (issue 4). The app is V6LAB_SMOKE_APP (default com.example.news, a lab app whose
// home page links to "article").
import assert from 'node:assert/strict';
import { $, browser } from '@wdio/globals';

const app = process.env.V6LAB_SMOKE_APP ?? 'com.example.news';
const link = process.env.V6LAB_SMOKE_LINK ?? 'article';

describe('smoke: the handset answers through Appium', () => {
  it('has the app installed, starts it and sees it in front', async () => {
    assert.equal(await browser.isAppInstalled(app), true);
    await browser.activateApp(app);
    assert.equal(await browser.queryAppState(app), 4);
  });

  it('opens a page by tapping its link', async () => {
    await $(`~${link}`).click();
    assert.match(await browser.getPageSource(), new RegExp(`text="${link}"`));
  });

  it('runs adb shell commands through mobile: shell', async () => {
    const model: unknown = await browser.execute('mobile: shell', { command: 'getprop', args: ['ro.product.model'] });
    assert.equal(typeof model, 'string');
    assert.notEqual(String(model).trim(), '');
  });

  it('stops the app', async () => {
    assert.equal(await browser.terminateApp(app), true);
    assert.equal(await browser.queryAppState(app), 1);
  });
});
