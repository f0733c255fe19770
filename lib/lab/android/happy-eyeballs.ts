/**
 * How an emulated app opens a connection, by the mode its request names (CONTRACTS.md section 5),
 * as real apps' network stacks do:
 *   happy-eyeballs  RFC 8305: AAAA and A in parallel, IPv6 first, the next address 250 ms later
 *                   (or at once when an attempt fails), first to connect wins, the rest cancelled
 *   system          getaddrinfo's order, one address after another (a plain `Socket.connect` loop)
 *   ipv4-only       A only, IPv4 sockets; ipv6-only: AAAA only, IPv6 sockets
 *   ipv4-first      asks both, tries every IPv4 address before any IPv6 one
 *   ipv4-literal    the host's IPv4 address, compiled into the app: no DNS at all
 * Resolution and sockets are passed in, so the logic runs against loopback servers in unit tests
 * and against the handset's resolver and network inside the lab.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { AppMode } from '../world.js';

export type Family = 4 | 6;

export interface Candidate {
  family: Family;
  address: string;
}

export interface AttemptRecord extends Candidate {
  /** When the attempt began, in ms after the connection was asked for (DNS included). */
  startMs: number;
  /** How long it lasted; null while it runs. */
  ms: number | null;
  outcome: 'pending' | 'connected' | 'failed' | 'cancelled' | 'timeout';
  /** The socket error for `failed` (ECONNREFUSED, ENETUNREACH, ...). */
  error?: string;
}

export interface DnsRecord {
  /** `getaddrinfo` for the system resolver, which asks what it likes. */
  query: 'AAAA' | 'A' | 'getaddrinfo';
  addresses: string[];
  startMs: number;
  ms: number;
  /** ENODATA, ENOTFOUND, ETIMEOUT, ...; absent on an answer. */
  error?: string;
}

/** Opens one connection attempt; `signal` aborts it (the socket must then be destroyed). */
export interface Connector<T> {
  open(candidate: Candidate, signal: AbortSignal): Promise<T>;
  /** Closes a connection that won after the race was already decided. */
  close(connection: T): void;
}

/** Name resolution as an app sees it. */
export interface AppResolver {
  resolve6(host: string): Promise<string[]>;
  resolve4(host: string): Promise<string[]>;
  /** getaddrinfo(AF_UNSPEC), in the order it returns (RFC 6724 sorted by the C library). */
  lookup(host: string): Promise<Candidate[]>;
}

export interface ConnectResult<T> {
  connection: T | null;
  winner: Candidate | null;
  attempts: AttemptRecord[];
  dns: DnsRecord[];
  /** Why there is no connection; null when there is one. */
  error: string | null;
}

export interface ConnectOptions {
  /** RFC 8305 Connection Attempt Delay. @default 250 */
  attemptDelayMs?: number;
  /** RFC 8305 Resolution Delay: how long a positive A answer waits for the AAAA. @default 50 */
  resolutionDelayMs?: number;
  /**
   * Deadline of one attempt in the sequential modes, and of the whole race in happy-eyeballs.
   * @default 10000 (OkHttp's default connect timeout)
   */
  connectTimeoutMs?: number;
}

export const ATTEMPT_DELAY_MS = 250;
export const RESOLUTION_DELAY_MS = 50;
export const CONNECT_TIMEOUT_MS = 10_000;

const errorCode = (error: unknown): string => {
  const e = error as NodeJS.ErrnoException;
  return e?.code ?? e?.message ?? String(error);
};

class Clock {
  readonly #t0 = performance.now();
  ms(): number {
    return Math.round(performance.now() - this.#t0);
  }
}

/** Runs one DNS question and records it. */
async function timed(clock: Clock, dns: DnsRecord[], query: DnsRecord['query'], ask: () => Promise<string[]>): Promise<string[]> {
  const startMs = clock.ms();
  try {
    const addresses = await ask();
    dns.push({ query, addresses, startMs, ms: clock.ms() - startMs });
    return addresses;
  } catch (error) {
    dns.push({ query, addresses: [], startMs, ms: clock.ms() - startMs, error: errorCode(error) });
    return [];
  }
}

/**
 * RFC 8305 over two answers that arrive when they arrive. The first attempt waits for the AAAA
 * (or, when a positive A came first, for the Resolution Delay); families then alternate, IPv6
 * first; an attempt starts every Connection Attempt Delay, or at once when the previous failed;
 * the first to connect wins and every other attempt is aborted.
 */
export function happyEyeballs<T>(
  queries: { aaaa: Promise<string[]>; a: Promise<string[]> },
  connector: Connector<T>,
  options: ConnectOptions = {},
  clock = new Clock(),
): Promise<{ connection: T | null; winner: Candidate | null; attempts: AttemptRecord[]; error: string | null }> {
  const attemptDelay = options.attemptDelayMs ?? ATTEMPT_DELAY_MS;
  const resolutionDelay = options.resolutionDelayMs ?? RESOLUTION_DELAY_MS;
  return new Promise((resolve) => {
    const remaining: Record<Family, string[]> = { 6: [], 4: [] };
    const answered: Record<Family, boolean> = { 6: false, 4: false };
    const attempts: AttemptRecord[] = [];
    const inFlight = new Map<AttemptRecord, AbortController>();
    let started = false;
    let settled = false;
    let lastFamily: Family | null = null;
    let nextAttempt: NodeJS.Timeout | null = null;
    let resolutionTimer: NodeJS.Timeout | null = null;

    const finish = (connection: T | null, winner: Candidate | null, error: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (nextAttempt) clearTimeout(nextAttempt);
      if (resolutionTimer) clearTimeout(resolutionTimer);
      for (const [record, controller] of inFlight) {
        record.outcome = connection === null ? 'timeout' : 'cancelled';
        record.ms = clock.ms() - record.startMs;
        controller.abort();
      }
      inFlight.clear();
      resolve({ connection, winner, attempts, error });
    };
    const deadline = setTimeout(
      () => finish(null, null, `no connection within ${options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS} ms`),
      options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    );

    const exhausted = (): void => {
      if (answered[4] && answered[6] && inFlight.size === 0 && remaining[4].length === 0 && remaining[6].length === 0) {
        finish(null, null, attempts.length === 0 ? 'no address: neither AAAA nor A answered' : 'every address failed');
      }
    };

    // Interleave the families, IPv6 first (RFC 8305 section 4, First Address Family Count 1).
    const pick = (): Candidate | null => {
      const order: Family[] = lastFamily === null ? [6, 4] : lastFamily === 6 ? [4, 6] : [6, 4];
      for (const family of order) {
        const address = remaining[family].shift();
        if (address !== undefined) return { family, address };
      }
      return null;
    };

    const startNext = (): void => {
      if (settled) return;
      if (nextAttempt) clearTimeout(nextAttempt);
      nextAttempt = null;
      const candidate = pick();
      if (candidate === null) {
        exhausted();
        return;
      }
      lastFamily = candidate.family;
      const record: AttemptRecord = { ...candidate, startMs: clock.ms(), ms: null, outcome: 'pending' };
      attempts.push(record);
      const controller = new AbortController();
      inFlight.set(record, controller);
      connector.open(candidate, controller.signal).then(
        (connection) => {
          if (settled || !inFlight.has(record)) {
            connector.close(connection);
            return;
          }
          inFlight.delete(record);
          record.outcome = 'connected';
          record.ms = clock.ms() - record.startMs;
          finish(connection, candidate, null);
        },
        (error: unknown) => {
          if (settled || !inFlight.has(record)) return;
          inFlight.delete(record);
          record.outcome = 'failed';
          record.error = errorCode(error);
          record.ms = clock.ms() - record.startMs;
          // A failed attempt does not wait out the delay: the next one starts now.
          startNext();
        },
      );
      nextAttempt = setTimeout(startNext, attemptDelay);
    };

    const begin = (): void => {
      if (started || settled) return;
      started = true;
      if (resolutionTimer) clearTimeout(resolutionTimer);
      startNext();
    };

    const onAnswer = (family: Family, addresses: string[]): void => {
      if (settled) return;
      answered[family] = true;
      for (const address of addresses) if (!remaining[family].includes(address)) remaining[family].push(address);
      if (!started) {
        if (family === 6 && addresses.length > 0) begin();
        else if (answered[4] && answered[6]) begin();
        else if (family === 4 && addresses.length > 0) resolutionTimer = setTimeout(begin, resolutionDelay);
      } else if (nextAttempt === null) {
        // Nothing was left to try: the late family starts at once.
        startNext();
      }
      if (started) exhausted();
    };

    queries.aaaa.then(
      (list) => onAnswer(6, list),
      () => onAnswer(6, []),
    );
    queries.a.then(
      (list) => onAnswer(4, list),
      () => onAnswer(4, []),
    );
  });
}

/** One address after another, each with its own deadline, as a plain connect loop does. */
export async function connectInOrder<T>(
  candidates: readonly Candidate[],
  connector: Connector<T>,
  options: ConnectOptions = {},
  clock = new Clock(),
): Promise<{ connection: T | null; winner: Candidate | null; attempts: AttemptRecord[]; error: string | null }> {
  const timeout = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const attempts: AttemptRecord[] = [];
  for (const candidate of candidates) {
    const record: AttemptRecord = { ...candidate, startMs: clock.ms(), ms: null, outcome: 'pending' };
    attempts.push(record);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeout);
    });
    try {
      const result = await Promise.race([connector.open(candidate, controller.signal), timedOut]);
      record.ms = clock.ms() - record.startMs;
      if (result === 'timeout') {
        record.outcome = 'timeout';
        controller.abort();
        continue;
      }
      record.outcome = 'connected';
      return { connection: result, winner: candidate, attempts, error: null };
    } catch (error) {
      record.ms = clock.ms() - record.startMs;
      record.outcome = 'failed';
      record.error = errorCode(error);
    } finally {
      clearTimeout(timer);
    }
  }
  return { connection: null, winner: null, attempts, error: candidates.length === 0 ? 'no address to connect to' : 'every address failed' };
}

export interface ModeDeps<T> {
  resolver: AppResolver;
  /** The IPv4 address an `ipv4-literal` app has compiled in for each host. */
  literals: Readonly<Record<string, string>>;
  connector: Connector<T>;
}

const candidatesOf = (family: Family, addresses: readonly string[]): Candidate[] => addresses.map((address) => ({ family, address }));

/** Resolves `host` and connects as an app of `mode` does. */
export async function connectByMode<T>(mode: AppMode, host: string, deps: ModeDeps<T>, options: ConnectOptions = {}): Promise<ConnectResult<T>> {
  const clock = new Clock();
  const dns: DnsRecord[] = [];
  const { resolver, connector } = deps;
  const withDns = <R extends object>(result: R): R & { dns: DnsRecord[] } => ({ ...result, dns });
  switch (mode) {
    case 'happy-eyeballs': {
      const aaaa = timed(clock, dns, 'AAAA', () => resolver.resolve6(host));
      const a = timed(clock, dns, 'A', () => resolver.resolve4(host));
      return withDns(await happyEyeballs({ aaaa, a }, connector, options, clock));
    }
    case 'system': {
      const startMs = clock.ms();
      let candidates: Candidate[] = [];
      try {
        candidates = await resolver.lookup(host);
        dns.push({ query: 'getaddrinfo', addresses: candidates.map((c) => c.address), startMs, ms: clock.ms() - startMs });
      } catch (error) {
        dns.push({ query: 'getaddrinfo', addresses: [], startMs, ms: clock.ms() - startMs, error: errorCode(error) });
      }
      return withDns(await connectInOrder(candidates, connector, options, clock));
    }
    case 'ipv4-only':
      return withDns(await connectInOrder(candidatesOf(4, await timed(clock, dns, 'A', () => resolver.resolve4(host))), connector, options, clock));
    case 'ipv6-only':
      return withDns(await connectInOrder(candidatesOf(6, await timed(clock, dns, 'AAAA', () => resolver.resolve6(host))), connector, options, clock));
    case 'ipv4-first': {
      const [v6, v4] = await Promise.all([timed(clock, dns, 'AAAA', () => resolver.resolve6(host)), timed(clock, dns, 'A', () => resolver.resolve4(host))]);
      return withDns(await connectInOrder([...candidatesOf(4, v4), ...candidatesOf(6, v6)], connector, options, clock));
    }
    case 'ipv4-literal': {
      const literal = deps.literals[host];
      if (literal === undefined)
        return { connection: null, winner: null, attempts: [], dns, error: `the app has no IPv4 literal for ${host} (the host has no IPv4 address)` };
      return withDns(await connectInOrder([{ family: 4, address: literal }], connector, options, clock));
    }
  }
}

/** A TCP connection attempt: resolves once the three-way handshake completes. */
export function tcpConnector(port: number): Connector<net.Socket> {
  return {
    open(candidate, signal) {
      return new Promise((resolve, reject) => {
        const socket = net.connect({ host: candidate.address, port, family: candidate.family });
        const onAbort = (): void => {
          socket.destroy();
          reject(new Error('cancelled'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const onError = (error: Error): void => {
          signal.removeEventListener('abort', onAbort);
          socket.destroy();
          reject(error);
        };
        socket.once('connect', () => {
          signal.removeEventListener('abort', onAbort);
          socket.off('error', onError);
          // The user of the connection listens for its own errors; a late one must not crash the app.
          socket.on('error', () => undefined);
          resolve(socket);
        });
        socket.once('error', onError);
      });
    },
    close(socket) {
      socket.destroy();
    },
  };
}
