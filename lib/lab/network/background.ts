/**
 * A handset's background traffic, as a phone makes it besides the app under test, so that telling
 * an app's traffic from the phone's is the real problem it is on a phone:
 *   probe  HTTP and HTTPS `GET /generate_204` every 10 s (Android's NetworkMonitor)      curl
 *   ntp    an SNTP query (RFC 4330) every 30 s, the first a few seconds after attach     perl
 *   push   one long-lived HTTPS connection on 443, a keepalive line every 15 s          curl
 * Each part runs as its own process under its own system uid (setpriv), so its sockets carry
 * that uid in /proc/net/{tcp,udp}{,6} and to nftables' `meta skuid`, as a phone's do. Each
 * resolves names with getaddrinfo through the handset's resolv.conf, as an app does: on an
 * IPv6-only attach the IPv4-only NTP host is reached through DNS64/NAT64.
 *
 * Run as `node background.js CONFIG.json` inside the handset namespace, as root (to give each
 * part its uid); prints "background traffic started" once running. A part whose host the world
 * lacks is skipped, and the log says so. SIGTERM stops every part, then this process. Each part
 * dies with this process (setpriv --pdeathsig), so a SIGKILL leaves none behind. Started as its
 * own program: it imports Node and, to check its config as every lab state file is checked, the
 * schema toolkit.
 *
 * The parts are small programs (curl and perl start in a few milliseconds, and this process
 * idles between ticks), so a handset's background traffic costs no measurable CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { object } from '../../config/schema.js';
import { count, readStateFile, text, type Reads } from '../state-file.js';
import { LabStateError } from './errors.js';
import { backgroundPartSchema } from './state.js';
import type { BackgroundPart } from './types.js';
import { hostUid } from './userns.js';

/** The file `lab up` writes for this program. */
export interface BackgroundConfig {
  handsetIndex: number;
  /** The lab CA, for the HTTPS probe and the push channel. */
  caCertFile: string;
  probe: BackgroundPart;
  ntp: BackgroundPart;
  push: BackgroundPart;
}

const backgroundConfigSchema = object({
  handsetIndex: count,
  caCertFile: text,
  probe: backgroundPartSchema,
  ntp: backgroundPartSchema,
  push: backgroundPartSchema,
});
const schemaReadsConfig: Reads<typeof backgroundConfigSchema, BackgroundConfig> = true;
void schemaReadsConfig;

/** The first NTP query, after attach: after the first probe, as a phone syncs once validated. */
const NTP_FIRST_DELAY_MS = 3_000;
const NTP_WAIT_SECONDS = 2;
const PROBE_TIMEOUT_SECONDS = 4;
/** The second keepalive, after the one that opens the push channel: its sending reads the first answer. */
const PUSH_CONFIRM_MS = 1_000;
/** Push reconnects after a dropped channel: 5 s, doubling up to 60 s. */
const PUSH_BACKOFF_MS = [5_000, 60_000] as const;
/** The idle timer's period: long, it only keeps the event loop alive. */
const IDLE_TICK_MS = 3_600_000;
/** The CA is handed to curl as an open file (fd 3): the system uids need not reach the state directory. */
const CA_FD_PATH = '/dev/fd/3';

/**
 * An SNTP client query (RFC 4330 section 5) to HOST port 123, its answer checked (mode 4, the
 * originate timestamp echoing ours). getaddrinfo gives the addresses in RFC 6724 order and the
 * first one is used, as an app's connect() does. Prints one line; exits 1 on any failure.
 * perl-base is Essential in Debian, and its Socket module calls the C library's getaddrinfo.
 */
export const SNTP_CLIENT = String.raw`
use strict; use warnings;
use Socket qw(getaddrinfo getnameinfo SOCK_DGRAM NI_NUMERICHOST NI_NUMERICSERV);
my ($host, $wait) = @ARGV;
my ($err, @ai) = getaddrinfo($host, '123', { socktype => SOCK_DGRAM });
die "cannot resolve $host: $err\n" if $err || !@ai;
my $ai = $ai[0];
my (undef, $addr) = getnameinfo($ai->{addr}, NI_NUMERICHOST | NI_NUMERICSERV);
socket(my $s, $ai->{family}, $ai->{socktype}, $ai->{protocol}) or die "socket: $!\n";
connect($s, $ai->{addr}) or die "connect [$addr]:123: $!\n";
my @sent = (time + 2208988800, int(rand(4294967296)));
send($s, pack('C4 N9 N2', 0x23, 0, 0, 0, (0) x 9, @sent), 0) or die "send to [$addr]:123: $!\n";
my $rin = ''; vec($rin, fileno($s), 1) = 1;
select(my $rout = $rin, undef, undef, $wait) or die "no answer from [$addr]:123 in $wait s\n";
defined(recv($s, my $reply, 512, 0)) or die "recv from [$addr]:123: $!\n";
die 'short answer from [' . $addr . ']:123: ' . length($reply) . " bytes\n" if length($reply) < 48;
my ($flags, $stratum) = unpack('C2', $reply);
my @origin = unpack('x24 N2', $reply);
my ($transmit) = unpack('x40 N', $reply);
die "[$addr]:123 answered mode " . ($flags & 7) . ", not 4 (server)\n" if ($flags & 7) != 4;
die "[$addr]:123 answered another query\n" if $origin[0] != $sent[0] || $origin[1] != $sent[1];
my @t = gmtime($transmit - 2208988800);
printf("%s [%s]:123 stratum %d, time %04d-%02d-%02dT%02d:%02d:%02dZ\n", $host, $addr, $stratum,
  $t[5] + 1900, $t[4] + 1, $t[3], $t[2], $t[1], $t[0]);
`;

/** argv that runs `argv` as `uid` (group too, no supplementary groups), killed when we die. */
export function asSystemUid(uid: number, argv: readonly string[]): string[] {
  return ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--pdeathsig=KILL', '--', ...argv];
}

/** curl's common options: no ~/.curlrc, quiet but for errors, the lab CA from fd 3. */
const curl = (ca: boolean): string[] => ['curl', '-q', '--silent', '--show-error', ...(ca ? ['--cacert', CA_FD_PATH] : [])];

/** The probe: HTTP then HTTPS, one line each: `204 2001:db8::100a http://connectivity.test/generate_204`. */
export function probeArgv(host: string, ca: boolean): string[] {
  const urls = [`http://${host}/generate_204`, ...(ca ? [`https://${host}/generate_204`] : [])];
  return [
    ...curl(ca),
    '--max-time',
    String(PROBE_TIMEOUT_SECONDS),
    '--write-out',
    '%{http_code} %{remote_ip} %{url_effective}\\n',
    ...urls.flatMap((url) => ['--output', '/dev/null', url]),
  ];
}

/**
 * The push channel: a chunked POST whose body is the keepalives written to curl's stdin; the
 * server answers each on the response stream. `--upload-file -` blocks on stdin between
 * keepalives, so each answer is read when the next keepalive goes out (the second goes a second
 * after the first, so the channel is seen open at once). (`--upload-file .` reads
 * stdin without blocking and prints answers at once, but curl then polls stdin in a busy loop: a
 * fifth of a CPU per handset, measured, which four handsets on two CPUs cannot spare.)
 */
export function pushArgv(host: string): string[] {
  return [
    ...curl(true),
    '--no-buffer',
    '--connect-timeout',
    '10',
    '--upload-file',
    '-',
    '--request',
    'POST',
    '--header',
    'Expect:',
    '--header',
    'Content-Type: text/plain',
    `https://${host}/push`,
  ];
}

class Background {
  private readonly children = new Set<ChildProcess>();
  /** Pending timers; each removes itself when it fires. */
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping = false;
  private probeRunning = false;
  private ntpRunning = false;
  private push: ChildProcess | null = null;
  private pushFailures = 0;
  private keepalives = 0;
  /** Keeps the process alive with no part running. */
  private idle: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: BackgroundConfig,
    /** The lab CA opened once (as root); null when it cannot be read: HTTPS parts are skipped. */
    private readonly caFd: number | null,
  ) {}

  start(): void {
    const { probe, ntp, push } = this.config;
    if (probe.host === null) this.log('probe', 'skipped: the world has no connectivity.test');
    else {
      if (this.caFd === null) this.log('probe', 'HTTPS skipped: the lab CA cannot be read');
      this.every(probe.intervalMs, 0, () => this.runProbe(probe.host!, probe.uid));
    }
    if (ntp.host === null) this.log('ntp', 'skipped: the world has no time.test');
    else this.every(ntp.intervalMs, NTP_FIRST_DELAY_MS, () => this.runNtp(ntp.host!, ntp.uid));
    if (push.host === null) this.log('push', 'skipped: the world has no push.test');
    else if (this.caFd === null) this.log('push', 'skipped: the lab CA cannot be read');
    else {
      this.connectPush(push.host, push.uid);
      this.every(push.intervalMs, push.intervalMs, () => this.keepalive());
    }
    // This process lives until stopped, whatever its parts do: the lab records it and `lab status`
    // checks that it runs. A world with none of the hosts (a user's own) leaves it nothing to do,
    // which is no failure; without a timer of its own it would end at once.
    this.idle = setInterval(() => undefined, IDLE_TICK_MS);
    if (probe.host === null && ntp.host === null && push.host === null)
      this.log('all', 'nothing to do: the world has none of the background hosts; idle until stopped');
    process.stdout.write(
      `background traffic started: handset ${this.config.handsetIndex}, probe ${probe.host ?? 'skipped'}, ntp ${ntp.host ?? 'skipped'}, push ${push.host ?? 'skipped'}\n`,
    );
  }

  /** Kills every part and resolves once they are gone (bounded: they also die with us). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.log('all', 'stopping');
    if (this.idle !== null) clearInterval(this.idle);
    for (const timer of this.timers) clearTimeout(timer);
    const exits = [...this.children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    );
    // Within the lab's grace before SIGKILL (500 ms); a part still running then dies with us.
    await Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, 300))]);
  }

  private log(part: string, message: string): void {
    process.stdout.write(`${new Date().toISOString()} ${part}: ${message}\n`);
  }

  private after(ms: number, body: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopping) body();
    }, ms);
    this.timers.add(timer);
  }

  private every(intervalMs: number, firstMs: number, tick: () => void): void {
    const run = (): void => {
      tick();
      this.after(intervalMs, run);
    };
    this.after(firstMs, run);
  }

  /** Starts one part's program as `uid`. */
  private runAs(uid: number, argv: readonly string[], stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
    // The handset's uid as the host knows it (./userns.ts): inside the handset's own /proc/net
    // its sockets carry `uid` itself, as on a phone.
    const [file, ...args] = asSystemUid(hostUid(this.config.handsetIndex, uid), argv);
    const child = spawn(file!, args, {
      // fd 3: the lab CA, opened by us; curl reads it as /dev/fd/3.
      stdio: [stdin, 'pipe', 'pipe', this.caFd ?? 'ignore'],
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/nonexistent', LC_ALL: 'C' },
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', (error) => {
      this.children.delete(child);
      process.stdout.write(`${new Date().toISOString()} ${argv[0]} as uid ${uid} could not start: ${error.message}\n`);
    });
    return child;
  }

  private collect(child: ChildProcess): Promise<{ stdout: string; stderr: string; status: string }> {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    return new Promise((resolve) => {
      child.once('close', (code, signal) => resolve({ stdout, stderr, status: signal ?? `exit ${code}` }));
      child.once('error', (error) => resolve({ stdout, stderr: error.message, status: 'not started' }));
    });
  }

  private runProbe(host: string, uid: number): void {
    // A probe still waiting for its answer is not doubled, as NetworkMonitor does not.
    if (this.probeRunning) return;
    this.probeRunning = true;
    void this.collect(this.runAs(uid, probeArgv(host, this.caFd !== null))).then(({ stdout, stderr, status }) => {
      this.probeRunning = false;
      // "204 2001:db8:34c1:ff00::100a http://connectivity.test/generate_204"
      for (const line of stdout.split('\n').filter((l) => l !== '')) this.log('probe', `uid ${uid} ${line}`);
      if (status !== 'exit 0') this.log('probe', `uid ${uid} failed (${status}): ${stderr.trim()}`);
    });
  }

  private runNtp(host: string, uid: number): void {
    if (this.ntpRunning) return;
    this.ntpRunning = true;
    void this.collect(this.runAs(uid, ['perl', '-e', SNTP_CLIENT, host, String(NTP_WAIT_SECONDS)])).then(({ stdout, stderr, status }) => {
      this.ntpRunning = false;
      if (status === 'exit 0') this.log('ntp', `uid ${uid} ${stdout.trim()}`);
      else this.log('ntp', `uid ${uid} failed (${status}): ${stderr.trim()}`);
    });
  }

  private connectPush(host: string, uid: number): void {
    if (this.stopping) return;
    const child = this.runAs(uid, pushArgv(host), 'pipe');
    this.push = child;
    child.stdin?.on('error', () => undefined);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    let answered = false;
    // The server answers "pong N" to each "ping N".
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!answered) this.log('push', `uid ${uid} channel to ${host} open`);
      answered = true;
      this.pushFailures = 0;
      this.log('push', `uid ${uid} ${line}`);
    });
    // The first line opens the channel at once: the server's answer proves it is up. curl reads
    // that answer when it next reads stdin (pushArgv), so a second line follows a moment later.
    this.keepalive();
    this.after(PUSH_CONFIRM_MS, () => {
      if (this.push === child) this.keepalive();
    });
    child.once('close', (code, signal) => {
      if (this.push === child) this.push = null;
      if (this.stopping) return;
      const waitMs = Math.min(PUSH_BACKOFF_MS[0] * 2 ** this.pushFailures, PUSH_BACKOFF_MS[1]);
      this.pushFailures += 1;
      this.log('push', `uid ${uid} channel closed (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no error'}; reconnecting in ${waitMs / 1000} s`);
      this.after(waitMs, () => this.connectPush(host, uid));
    });
  }

  private keepalive(): void {
    if (this.push?.stdin?.writable) {
      this.keepalives += 1;
      this.push.stdin.write(`ping ${this.keepalives}\n`);
    }
  }
}

function main(configFile: string): void {
  const config = readStateFile(configFile, backgroundConfigSchema);
  if (config === null) throw new LabStateError(configFile, 'no such file');
  let caFd: number | null = null;
  try {
    caFd = openSync(config.caCertFile, 'r');
  } catch (error) {
    process.stdout.write(`the lab CA ${config.caCertFile} cannot be read: ${(error as Error).message}\n`);
  }
  const background = new Background(config, caFd);
  const stop = (): void => void background.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  background.start();
}

// A module imported for its types does nothing; run as a program it makes the traffic.
const invokedAs = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (/background\.[jt]s$/.test(invokedAs)) {
  const configFile = process.argv[2];
  if (configFile === undefined) {
    process.stderr.write('usage: background.js CONFIG.json\n');
    process.exit(2);
  }
  try {
    main(configFile);
  } catch (error) {
    // A state file that is not what the lab wrote says so in one line; anything else with its stack.
    process.stderr.write(`background traffic: ${error instanceof LabStateError ? error.message : ((error as Error).stack ?? String(error))}\n`);
    process.exit(1);
  }
}
