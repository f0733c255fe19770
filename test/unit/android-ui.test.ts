import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { appSocketPath } from '../../lib/lab/android/app.js';
import { initialHandsetState, writeHandsetState } from '../../lib/lab/android/state.js';
import { input, linkBounds, renderHierarchy, uiautomator } from '../../lib/lab/android/ui.js';
import { loadProfile } from '../../lib/lab/world.js';

/** A handset with one app in front, whose control socket is this test's. */
function handsetWithApp(pages: Record<string, string[]>) {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-ui-'));
  const state = initialHandsetState('emulator-5554', loadProfile(resolve(import.meta.dirname, '../../devices/lab/handsets/compliant.json')), [
    { package: 'com.example.news', label: 'News', uid: 10100 },
  ]);
  state.running['com.example.news'] = { pid: process.pid, startTime: '1', uid: 10100, startedAt: new Date().toISOString() };
  writeHandsetState(dir, state);
  mkdirSync(join(dir, 'apps'), { recursive: true });
  let page = 'home';
  const stack: string[] = [];
  const opened: string[] = [];
  const server: Server = createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      const request = JSON.parse(chunk.toString('utf8').trim()) as Record<string, unknown>;
      if ('open' in request) {
        stack.push(page);
        page = String(request.open);
        opened.push(page);
      }
      if ('back' in request) page = stack.pop() ?? page;
      socket.end(`${JSON.stringify({ package: 'com.example.news', page, links: pages[page] ?? [], loading: false })}\n`);
    });
  }).listen(appSocketPath(dir, 'com.example.news'));
  return {
    dir,
    opened,
    close: () => {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('virtual handset: the screen as uiautomator and input see it', () => {
  it("dumps the foreground app's page with one clickable button per link, content-desc = page name", async () => {
    const h = handsetWithApp({ home: ['article', 'video'], article: [] });
    try {
      const result = await uiautomator(h.dir, ['dump', '/dev/tty']);
      assert.equal(result.code, 0);
      assert.match(result.stdout, /^<\?xml version='1\.0' encoding='UTF-8' standalone='yes' \?><hierarchy rotation="0">/);
      assert.match(
        result.stdout,
        /class="android\.widget\.Button" package="com\.example\.news" content-desc="article" .*clickable="true" .*bounds="\[40,400\]\[1040,560\]"/,
      );
      assert.match(result.stdout, /UI hierchary dumped to: \/dev\/tty\n$/);
      const toFile = await uiautomator(h.dir, ['dump']);
      assert.equal(toFile.stdout, 'UI hierchary dumped to: /sdcard/window_dump.xml\n');
      assert.match(readFileSync(join(h.dir, 'fs/sdcard/window_dump.xml'), 'utf8'), /content-desc="video"/);
    } finally {
      h.close();
    }
  });

  it('taps the link under the finger, ignores a tap on nothing, and goes back', async () => {
    const h = handsetWithApp({ home: ['article', 'video'], video: ['home'] });
    try {
      const [l, t, r, b] = linkBounds(1);
      assert.equal((await input(h.dir, ['tap', String((l + r) / 2), String((t + b) / 2)])).code, 0);
      assert.deepEqual(h.opened, ['video']);
      await input(h.dir, ['tap', '5', '5']);
      assert.deepEqual(h.opened, ['video'], 'a tap outside every link opens nothing');
      await input(h.dir, ['keyevent', 'KEYCODE_BACK']);
      assert.match((await uiautomator(h.dir, ['dump', '/dev/tty'])).stdout, /text="home"/);
      assert.equal((await input(h.dir, ['tap', 'x', '1'])).code, 1);
      // A swipe scrolls nothing and typed text goes nowhere on these pages; bad arguments are refused.
      assert.equal((await input(h.dir, ['swipe', '540', '1800', '540', '600', '300'])).code, 0);
      assert.equal((await input(h.dir, ['swipe', '540', '1800', '540'])).code, 1);
      assert.match((await input(h.dir, ['swipe', '540', 'x', '540', '600'])).stderr, /Invalid arguments for command: swipe/);
      assert.equal((await input(h.dir, ['text', 'hello%sworld'])).code, 0);
      assert.deepEqual(h.opened, ['video'], 'neither opened anything');
      assert.match((await uiautomator(h.dir, ['dump', '/dev/tty'])).stdout, /text="home"/);
    } finally {
      h.close();
    }
  });

  it('shows the launcher when no app runs', () => {
    assert.match(renderHierarchy(null), /package="com\.android\.launcher3"/);
  });
});
