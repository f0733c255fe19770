/**
 * The daemon that puts PREF64 (RFC 8781) on a link: router advertisements built by ra.ts, sent
 * to all nodes every 3-10 s (radvd's MinRtrAdvInterval/MaxRtrAdvInterval in the lab) and at once
 * in answer to each router solicitation.
 *
 * Why perl: Debian 12's radvd (2.19) cannot send PREF64 (`nat64prefix` came in 2.20), and Node
 * has no raw sockets. perl-base is Essential on Debian (always at /usr/bin/perl) and its Socket
 * module opens a raw ICMPv6 socket; the kernel fills the ICMPv6 checksum on such a socket
 * (RFC 3542 section 3.1), so the script only sends bytes it is given in hex.
 *
 * It sends no farewell RA when stopped: the only farewell that means something is a router
 * lifetime of 0, which would withdraw the default route radvd's RAs gave. Stop it before radvd.
 */
import type { DaemonSpec } from './process.js';
import { inNamespace } from './command.js';
import { LabPlanError } from './errors.js';

/** What the sender prints once its socket is ready: startDaemon's `ready`. */
export const PREF64_SENDER_READY = /^pref64-sender: advertising on /m;

/**
 * The sender. argv: INTERFACE RA-HEX MIN-INTERVAL MAX-INTERVAL (seconds).
 * - SO_BINDTODEVICE (25 on Linux) is not exported by perl's Socket: the number is the kernel's
 *   for x86, arm and every architecture but parisc, sparc and alpha.
 * - Hop limit 255 on both multicast and unicast sends: RFC 4861 section 6.1.2 has hosts drop an RA
 *   with any other.
 * - It joins ff02::2 (all routers) itself, since a namespace only joins it with forwarding on,
 *   and lets only type 133 through ICMP6_FILTER (option 1 at level 58; a set bit blocks a type).
 * - A solicitation from a link-local address is answered to it (RFC 4861 section 6.2.6 allows
 *   unicast); one from :: (a host without an address yet) to all nodes.
 * - A failed send is logged and retried at the next tick: the link-local address may still be
 *   tentative (DAD) when it starts.
 */
const SENDER_SCRIPT = String.raw`
use strict;
use warnings;
use Socket qw(AF_INET6 SOCK_RAW SOL_SOCKET IPPROTO_IPV6 IPV6_MULTICAST_HOPS IPV6_UNICAST_HOPS IPV6_MULTICAST_IF IPV6_JOIN_GROUP inet_pton inet_ntop pack_sockaddr_in6 unpack_sockaddr_in6 pack_ipv6_mreq);
my ($iface, $hex, $min, $max) = @ARGV;
$| = 1;
my $ra = pack('H*', $hex);
open(my $fh, '<', "/sys/class/net/$iface/ifindex") or die "pref64-sender: no interface $iface in this namespace: $!\n";
my $ifindex = 0 + <$fh>;
close($fh);
my $ICMPV6 = 58;
socket(my $s, AF_INET6, SOCK_RAW, $ICMPV6) or die "pref64-sender: raw ICMPv6 socket: $!\n";
setsockopt($s, SOL_SOCKET, 25, $iface) or die "pref64-sender: SO_BINDTODEVICE $iface: $!\n";
setsockopt($s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, pack('i', 255)) or die "pref64-sender: IPV6_MULTICAST_HOPS: $!\n";
setsockopt($s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, pack('i', 255)) or die "pref64-sender: IPV6_UNICAST_HOPS: $!\n";
setsockopt($s, IPPROTO_IPV6, IPV6_MULTICAST_IF, pack('i', $ifindex)) or die "pref64-sender: IPV6_MULTICAST_IF: $!\n";
setsockopt($s, IPPROTO_IPV6, IPV6_JOIN_GROUP, pack_ipv6_mreq(inet_pton(AF_INET6, 'ff02::2'), $ifindex)) or die "pref64-sender: join ff02::2: $!\n";
my @filter = (0xffffffff) x 8;
$filter[133 >> 5] &= ~(1 << (133 & 31));
setsockopt($s, $ICMPV6, 1, pack('L8', @filter)) or die "pref64-sender: ICMP6_FILTER: $!\n";
my $all_nodes = pack_sockaddr_in6(0, inet_pton(AF_INET6, 'ff02::1'), $ifindex);
$SIG{TERM} = sub { exit 0 };
$SIG{INT} = sub { exit 0 };
my $periodic = 0;
sub advertise {
  my ($to, $why) = @_;
  if (!send($s, $ra, 0, $to)) { print "pref64-sender: send failed ($why): $!\n"; return; }
  # Every answer is logged, of the periodic ones only the first: the log stays small for days.
  print "pref64-sender: sent RA ($why)\n" if $why ne 'periodic' || $periodic++ == 0;
}
print "pref64-sender: advertising on $iface (ifindex $ifindex) every $min-$max s\n";
my $next = time;
for (;;) {
  my $wait = $next - time;
  $wait = 0 if $wait < 0;
  my $rin = '';
  vec($rin, fileno($s), 1) = 1;
  if (select(my $rout = $rin, undef, undef, $wait) > 0) {
    my $from = recv($s, my $message, 1500, 0);
    if (defined $from && length($message) >= 8 && ord($message) == 133 && ord(substr($message, 1, 1)) == 0) {
      my ($port, $address, $scope) = unpack_sockaddr_in6($from);
      my $source = inet_ntop(AF_INET6, $address);
      if ($source eq '::') { advertise($all_nodes, 'solicited by ::'); }
      else { advertise(pack_sockaddr_in6(0, $address, $scope || $ifindex), "solicited by $source"); }
    }
  }
  if (time >= $next) {
    advertise($all_nodes, 'periodic');
    $next = time + $min + int(rand($max - $min + 1));
  }
}
`;

/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no slash or space. */
const INTERFACE_NAME = /^[A-Za-z0-9_.:-]{1,15}$/;

export interface Pref64SenderOptions {
  /** The network namespace the link's router side is in. */
  namespace: string;
  /** The router's interface on the device link, inside `namespace`. */
  interface: string;
  /** The RA (ICMPv6 message) from ra.ts pref64Advertisement(). */
  advertisement: Uint8Array;
  /** @default 3 (radvd's MinRtrAdvInterval in the lab) */
  minIntervalSeconds?: number;
  /** @default 10 (radvd's MaxRtrAdvInterval in the lab) */
  maxIntervalSeconds?: number;
}

/** `ip netns exec NS perl -e SCRIPT IFACE HEX MIN MAX`: perl is exec'd in place, so the PID is the sender's. */
export function pref64SenderArgv(options: Pref64SenderOptions): string[] {
  const min = options.minIntervalSeconds ?? 3;
  const max = options.maxIntervalSeconds ?? 10;
  if (!INTERFACE_NAME.test(options.interface)) throw new LabPlanError('pref64.interface', `${JSON.stringify(options.interface)} is not a Linux interface name`);
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
    throw new LabPlanError('pref64.interval', `${min}-${max} s: whole seconds, at least 1, minimum not above maximum`);
  }
  if (options.advertisement[0] !== 134) throw new LabPlanError('pref64.advertisement', 'is not a router advertisement (ICMPv6 type 134)');
  return inNamespace(options.namespace, [
    'perl',
    '-e',
    SENDER_SCRIPT,
    options.interface,
    Buffer.from(options.advertisement).toString('hex'),
    String(min),
    String(max),
  ]);
}

/** A DaemonSpec for startDaemon: the sender of `options`, ready once its socket is open. */
export function pref64SenderDaemon(options: Pref64SenderOptions & { logFile: string; name?: string; handsetIndex?: number }): DaemonSpec {
  return {
    name: options.name ?? 'pref64-sender',
    namespace: options.namespace,
    ...(options.handsetIndex === undefined ? {} : { handsetIndex: options.handsetIndex }),
    argv: pref64SenderArgv(options),
    logFile: options.logFile,
    ready: PREF64_SENDER_READY,
  };
}
