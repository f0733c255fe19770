/**
 * `--min-ipv6-share` and `--slow-fallback-ms`, checked as the API checks a policy. Apart from
 * analyze.ts so `v6lab analyze` without a judgement never loads the judge (and adb).
 */
import { resolvePolicy } from '../api/judge.js';
import { UsageError } from './errors.js';

/** `--min-ipv6-share` and `--slow-fallback-ms` as the API checks them, the error naming the option. */
export function parsePolicyOption(option: '--min-ipv6-share' | '--slow-fallback-ms', text: string): number {
  const value = /^\s*$/.test(text) ? Number.NaN : Number(text);
  try {
    resolvePolicy(option === '--min-ipv6-share' ? { minIpv6Share: value } : { slowFallbackMs: value });
  } catch {
    throw new UsageError(
      `${option}: ${JSON.stringify(text)} is not ${option === '--min-ipv6-share' ? 'a share from 0 to 1 (0.7 is 70%)' : 'a whole number of milliseconds, 0 or more'}`,
    );
  }
  return value;
}
