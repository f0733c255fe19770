import { formatAddress, type Family } from '../../net/address.js';
import { DeviceOutputError } from './errors.js';
import { completeLines, withinLineCap } from './lines.js';

/** IFA_F_* bits of /proc/net/if_inet6's flags column (include/uapi/linux/if_addr.h). */
export const IF_INET6_FLAGS = {
  temporary: 0x01, // IFA_F_TEMPORARY (RFC 8981)
  nodad: 0x02,
  optimistic: 0x04, // RFC 4429
  dadfailed: 0x08,
  homeaddress: 0x10, // RFC 6275
  deprecated: 0x20,
  tentative: 0x40,
  permanent: 0x80,
} as const;
export type IfInet6Flag = keyof typeof IF_INET6_FLAGS;

/** Scope column values (IPV6_ADDR_SCOPE_MASK bits of net/ipv6/addrconf_core.c). */
const SCOPES: Readonly<Record<number, string>> = { 0: 'global', 16: 'host', 32: 'link', 64: 'site' };

export interface IfInet6Address {
  /** RFC 5952 text. */
  readonly address: string;
  readonly ifindex: number;
  readonly prefixLength: number;
  /** The scope column as the kernel prints it. */
  readonly scopeValue: number;
  /** `global`, `host`, `link`, `site`; null for a value the kernel does not name. */
  readonly scope: string | null;
  readonly flagsValue: number;
  readonly flags: readonly IfInet6Flag[];
  readonly interfaceName: string;
}

// 20010db8000000000000000000000001 02 40 00 80     eth0
// The file has no header; the kernel's format is fixed ("%pi6 %02x %02x %02x %02x %8s\n").
const IF_INET6_LINE = /^\s*([0-9a-fA-F]{32})\s+([0-9a-fA-F]{2,})\s+([0-9a-fA-F]{2})\s+([0-9a-fA-F]{2})\s+([0-9a-fA-F]{2})\s+(\S+)\s*$/;

function hexBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/**
 * Parses /proc/net/if_inet6, one address a line.
 * @throws DeviceOutputError when the output is not empty and not one address line is found
 */
export function parseIfInet6(text: string): IfInet6Address[] {
  const addresses: IfInet6Address[] = [];
  const lines = completeLines(text);
  for (const { text: line } of lines) {
    if (!withinLineCap(line)) continue;
    const match = IF_INET6_LINE.exec(line);
    if (!match) continue;
    const prefixLength = parseInt(match[3]!, 16);
    if (prefixLength > 128) continue;
    const scopeValue = parseInt(match[4]!, 16);
    const flagsValue = parseInt(match[5]!, 16);
    addresses.push({
      address: formatAddress(hexBytes(match[1]!), 0, 6),
      ifindex: parseInt(match[2]!, 16),
      prefixLength,
      scopeValue,
      scope: SCOPES[scopeValue] ?? null,
      flagsValue,
      flags: (Object.keys(IF_INET6_FLAGS) as IfInet6Flag[]).filter((name) => (flagsValue & IF_INET6_FLAGS[name]) !== 0),
      interfaceName: match[6]!,
    });
  }
  // text that is only a cut line is not an empty list
  if (addresses.length === 0 && text.trim() !== '') throw new DeviceOutputError('/proc/net/if_inet6', 'no address line');
  return addresses;
}

/** TCP states, as numbered in include/net/tcp_states.h; UDP sockets use the same numbers. */
export const TCP_STATES = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSE',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
  12: 'NEW_SYN_RECV',
} as const;
export type TcpState = (typeof TCP_STATES)[keyof typeof TCP_STATES];

export interface SocketEndpoint {
  readonly address: string;
  readonly port: number;
}

export interface ProcNetSocket {
  readonly family: Family;
  readonly transport: 'tcp' | 'udp';
  readonly local: SocketEndpoint;
  readonly remote: SocketEndpoint;
  readonly stateValue: number;
  /** Named for TCP; for UDP the kernel reuses the numbers (1 connected, 7 unconnected). */
  readonly state: TcpState | null;
  readonly uid: number;
  /** 0 for a socket without one (TIME_WAIT). */
  readonly inode: number;
}

/**
 * The kernel prints `tx_queue:rx_queue` and `tr:tm->when` as one field each under two header
 * words; so a header word's data field is found by walking the header and merging those pairs.
 */
const MERGED_WITH_NEXT = new Set(['tx_queue', 'tr']);

function columnIndexes(header: string): Map<string, number> {
  const columns = new Map<string, number>();
  let field = 0;
  for (const word of header.trim().split(/\s+/)) {
    columns.set(word, field);
    if (!MERGED_WITH_NEXT.has(word)) field++;
  }
  return columns;
}

/** `B80D0120...:8990`: the address as 32-bit words in host (little-endian) order, then the port. */
function endpoint(text: string, family: Family): SocketEndpoint | null {
  const [hex, portHex] = text.split(':') as [string, string | undefined];
  if (portHex === undefined || !/^[0-9A-Fa-f]{4}$/.test(portHex) || hex.length !== (family === 4 ? 8 : 32) || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
  const bytes = new Uint8Array(hex.length / 2);
  // each 32-bit word was printed as one %08X of a little-endian load: reverse its four bytes
  for (let word = 0; word < hex.length / 8; word++) {
    for (let b = 0; b < 4; b++) bytes[word * 4 + b] = parseInt(hex.slice(word * 8 + (3 - b) * 2, word * 8 + (3 - b) * 2 + 2), 16);
  }
  return { address: formatAddress(bytes, 0, family), port: parseInt(portHex, 16) };
}

/**
 * Parses /proc/net/tcp, tcp6, udp or udp6; columns are found by the header's names.
 * @param family 4 for tcp/udp, 6 for tcp6/udp6
 * @throws DeviceOutputError when the header is missing or lacks a needed column
 */
export function parseProcNetSockets(text: string, family: Family, transport: 'tcp' | 'udp'): ProcNetSocket[] {
  const source = `/proc/net/${transport}${family === 6 ? '6' : ''}`;
  const lines = completeLines(text);
  //   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
  const headerAt = lines.findIndex((l) => withinLineCap(l.text) && /^\s*sl\s+local_address\s/.test(l.text));
  if (headerAt < 0) throw new DeviceOutputError(source, 'no "sl local_address ..." header');
  const columns = columnIndexes(lines[headerAt]!.text);
  const need = (...names: string[]): number => {
    for (const name of names) {
      const index = columns.get(name);
      if (index !== undefined) return index;
    }
    throw new DeviceOutputError(source, `header has no "${names.join('" or "')}" column`, lines[headerAt]!.number);
  };
  const local = need('local_address');
  const remote = need('rem_address', 'remote_address');
  const st = need('st');
  const uidAt = need('uid');
  const inodeAt = need('inode');
  const sockets: ProcNetSocket[] = [];
  for (const { text: line } of lines.slice(headerAt + 1)) {
    //    0: B80D012000009F73D24F484011F96C1D:8990 B80D012000FF9F73000000000B100000:01BB 01 00000000:00000000 02:000013FF 00000000  1002        0 604679 2 0000000055fe7b01 20 4 28 14 -1
    if (!withinLineCap(line)) continue;
    const fields = line.trim().split(/\s+/);
    if (!/^\d+:$/.test(fields[0] ?? '')) continue;
    // The kernel prints at least the refcount and the socket's address after the inode
    // (tcp4_seq_show, udp4_format_sock): a row that ends sooner is cut, its inode perhaps with it.
    if (fields.length < inodeAt + 3) continue;
    const localEndpoint = endpoint(fields[local] ?? '', family);
    const remoteEndpoint = endpoint(fields[remote] ?? '', family);
    const stText = fields[st] ?? '';
    const uidText = fields[uidAt] ?? '';
    const inodeText = fields[inodeAt] ?? '';
    if (!localEndpoint || !remoteEndpoint || !/^[0-9A-Fa-f]{2}$/.test(stText) || !/^\d+$/.test(uidText) || !/^\d+$/.test(inodeText)) continue;
    const stateValue = parseInt(stText, 16);
    sockets.push({
      family,
      transport,
      local: localEndpoint,
      remote: remoteEndpoint,
      stateValue,
      state: (TCP_STATES as Record<number, TcpState>)[stateValue] ?? null,
      uid: Number(uidText),
      inode: Number(inodeText),
    });
  }
  return sockets;
}
