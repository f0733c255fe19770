// Issue 19's hostile shapes that crashed the printers with a stack: timestamps outside what a
// Date holds (a pcapng block may carry any 64-bit time) and tens of thousands of hostnames on the
// HTML timeline (Math.max over a spread array overflows the stack).
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { analyzeFile, type CaptureAnalysis } from '../../lib/analysis/index.js';
import { renderAnalysis } from '../../lib/cli/analyze.js';
import { captureTime } from '../../lib/net/printable.js';
import { renderCaptureHtml } from '../../lib/report/capture-html.js';
import { timeline } from '../../lib/report/html.js';

describe('captureTime: a capture timestamp printed, whatever its value', () => {
  it('prints a calendar time in UTC, milliseconds kept', () => {
    assert.equal(captureTime(0), '1970-01-01 00:00:00.000');
    assert.equal(captureTime(1_764_000_000.25), '2025-11-24 16:00:00.250');
  });

  it('prints a time beyond the calendar as its seconds, and says so, instead of throwing', () => {
    assert.equal(captureTime(1.8e19), '1.800000e+19 s since 1970 (outside the calendar)');
    assert.equal(captureTime(-9e12), '-9.000000e+12 s since 1970 (outside the calendar)');
    assert.equal(captureTime(Number.POSITIVE_INFINITY), 'Infinity s since 1970 (outside the calendar)');
  });
});

describe('printers on hostile shapes', () => {
  let base: CaptureAnalysis;
  before(async () => {
    base = await analyzeFile(resolve(import.meta.dirname, '../fixtures/nat464/tcp_v6.pcap'), { nat64Prefixes: [], clatAddresses: [] });
    assert.equal(base.flows.length, 1, 'the fixture has its one flow');
  });

  /** The analysis with every timestamp moved to `ts`, far outside Date's range. */
  function outOfRange(ts: number): CaptureAnalysis {
    return {
      ...base,
      capture: { ...base.capture, firstTs: ts, lastTs: ts + 1 },
      flows: base.flows.map((f) => ({ ...f, firstTs: ts, lastTs: ts + 1 })),
    };
  }

  it('analyze text and --html print a capture whose timestamps are outside the calendar', () => {
    const a = outOfRange(1.8e19);
    const text = renderAnalysis('far.pcapng', a, 10);
    assert.match(text, /outside the calendar/);
    const html = renderCaptureHtml('far.pcapng', a);
    assert.match(html, /outside the calendar/);
  });

  it('the timeline draws 100,000 hostnames without overflowing the stack, its axis spanning the latest attempt', () => {
    const hostnames = Array.from({ length: 100_000 }, (_, i) => ({
      name: `h${i}.example`,
      firstIpv6: i === 99_999 ? 42 : 1,
      firstIpv4: null,
      firstFamily: 6 as const,
      fallbackDelayMs: null,
      aaaaAt: null,
      aAt: null,
    }));
    const svg = timeline({ hostnames, windowSeconds: 10 } as unknown as Parameters<typeof timeline>[0], 'app');
    assert.ok(svg.includes('>h99999.example<'), 'the last hostname is drawn');
    assert.ok(svg.includes('>42000 ms<'), 'the axis ends at the latest attempt, 42 s after launch');
  });
});
