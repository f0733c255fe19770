import { parseAddress, parseNat64Prefix } from '../../net/address.js';
import { DeviceOutputError } from './errors.js';
import { completeLines, dumpsysCutNotice, indentation, MAX_LINE_LENGTH, withinLineCap } from './lines.js';

export interface LinkAddress {
  readonly address: string;
  readonly prefixLength: number;
}

/** One entry of `Routes: [ ... ]`: `::/0 -> fe80::1 rmnet_data0 mtu 1500`. */
export interface LinkRoute {
  readonly destination: string;
  /** As Android prints it: `::` or `0.0.0.0` for a directly connected route, null when absent. */
  readonly gateway: string | null;
  readonly interfaceName: string | null;
  /** `unicast` unless Android printed `unreachable` or `throw`. */
  readonly type: string;
  /** 0 is Android's "not set". */
  readonly mtu: number | null;
}

export interface LinkProperties {
  readonly interfaceName: string | null;
  readonly linkAddresses: readonly LinkAddress[];
  /** Without the `hostname/` prefix of Java's InetAddress.toString. */
  readonly dnsAddresses: readonly string[];
  readonly domains: string | null;
  /** 0 is Android's "not set" (use the interface's own MTU). */
  readonly mtu: number | null;
  readonly routes: readonly LinkRoute[];
  /** `64:ff9b::/96` as printed, null when the line has none. */
  readonly nat64Prefix: string | null;
  /** Stacked links (the CLAT's `v4-*` interface), parsed the same way. */
  readonly stacked: readonly LinkProperties[];
}

export interface ClatTracker {
  readonly iface: string | null;
  readonly ifaceIndex: number | null;
  readonly v4iface: string | null;
  readonly v4ifaceIndex: number | null;
  readonly v4: string | null;
  readonly v6: string | null;
  /** The NAT64 /96 prefix's address part, `64:ff9b::`. */
  readonly pfx96: string | null;
  readonly pid: number | null;
  readonly cookie: string | null;
}

export interface NetworkAgent {
  readonly netId: number | null;
  /** `MOBILE`, `WIFI`, ... from `ni{...}`. */
  readonly type: string | null;
  /** `LTE`, `NR`, ... from `ni{MOBILE[LTE] ...}`. */
  readonly subtype: string | null;
  readonly state: string | null;
  /** The APN name on cellular, as `ni{... extra: X}` gives it; null when absent, `(none)` or empty (Wi-Fi prints `extra: `). */
  readonly extra: string | null;
  readonly transports: readonly string[];
  readonly capabilities: readonly string[];
  readonly linkProperties: LinkProperties | null;
  /** The `CLAT tracker:` line printed under this network, if any. */
  readonly clat: ClatTracker | null;
}

export interface DumpsysConnectivity {
  /** `Active default network: 100`; null for `none` or when the line is missing. */
  readonly defaultNetId: number | null;
  /** Every network of `Current Networks:`, in the dump's order (IMS, emergency and Wi-Fi ones included). */
  readonly networks: readonly NetworkAgent[];
  /**
   * What each network's entry says beyond NetworkAgent's fields (roaming, `clat{...}`, the
   * `Nat464Xlat:` block under it), by netId. Kept beside NetworkAgent rather than in it so that
   * NetworkAgent's shape, which callers and tests compare whole, stays as it was.
   */
  readonly details: readonly NetworkDetails[];
}

/**
 * Nat464Xlat's toString in the NAI line: `clat{mBaseIface: rmnet_data2, mIface: v4-rmnet_data2, mState: RUNNING}`.
 * Android 9 and 10 print it for every network (`mBaseIface: null, mIface: null, mState: IDLE`
 * when no CLAT runs), Android 11 and later only while a CLAT is started.
 */
export interface ClatdState {
  readonly baseInterface: string | null;
  readonly interfaceName: string | null;
  /** `IDLE`, `DISCOVERING_PREFIX`, `STARTING`, `RUNNING`. */
  readonly state: string;
}

/**
 * One line of ClatCoordinator's `Forwarding rules:` (Android 13 and later). Android 13 keeps one
 * BPF map for the whole device and prints all of it under every network whose CLAT is started,
 * so a rule under a network is not necessarily that network's (see clatOf).
 */
export interface ClatForwardingRule {
  readonly direction: 'ingress' | 'egress';
  /** The CLAT's own IPv6 address (`local6`). */
  readonly v6Address: string;
  /** The CLAT's IPv4 address (`local4`), 192.0.0.4 as a rule. */
  readonly v4Address: string;
  /** `64:ff9b::/96`. */
  readonly nat64Prefix: string;
  /** Interface indexes (the rule's iif and oif); dumpsys prints no names here. */
  readonly inIndex: number;
  readonly outIndex: number;
}

/** The `Nat464Xlat:` block under a network (Android 13 and later). */
export interface Nat464XlatDump {
  /** true after `ClatCoordinator:`, false for `<not start>` (13) or `<not started>` (14+), null when neither was printed. */
  readonly started: boolean | null;
  /** The `CLAT tracker:` line (Android 14 and later). */
  readonly tracker: ClatTracker | null;
  readonly rules: readonly ClatForwardingRule[];
  /** Lines where ClatCoordinator says it could not read a map (`No BPF ingress6 map`, `Error dumping ...`). */
  readonly unreadable: readonly string[];
}

export interface NetworkDetails {
  readonly netId: number;
  /** `ni{MOBILE[LTE] CONNECTED ROAMING ...}` (11+) or `roaming: true` (9, 10); null when ni{} was not read. */
  readonly roaming: boolean | null;
  /** `Score(Policies : TRANSPORT_PRIMARY&IS_VALIDATED ; ...)` (Android 13+; 12 prints `Score(50 ; KeepConnected : 0 ; Policies : ...)`). */
  readonly scorePolicies: readonly string[];
  readonly clatd: ClatdState | null;
  /** null when the network has no `Nat464Xlat:` block (Android 9 to 12 print none). */
  readonly nat464xlat: Nat464XlatDump | null;
}

/** Index one past the bracket closing the one at `start` (`{` or `[`), or -1 when unclosed. */
function closing(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
      if (depth < 0) return -1;
    }
  }
  return -1;
}

/** Splits `Key: value Key: [ ... ] ...` at top-level keys; a bracketed value is read whole. */
function keyedValues(body: string): Map<string, string> {
  const values = new Map<string, string>();
  const key = /([A-Z][A-Za-z0-9]*): ?/y;
  let pos = 0;
  while (pos < body.length) {
    while (body[pos] === ' ') pos++;
    key.lastIndex = pos;
    const match = key.exec(body);
    if (!match) {
      // not a key here: move on to the next " Key: " rather than guess what this text is
      const next = body.slice(pos).search(/ [A-Z][A-Za-z0-9]*: /);
      if (next < 0) break;
      pos += next + 1;
      continue;
    }
    pos = key.lastIndex;
    let end: number;
    if (body[pos] === '[') {
      end = closing(body, pos);
      if (end < 0) break; // an unclosed list: the rest cannot be read
    } else {
      const next = body.slice(pos).search(/ [A-Z][A-Za-z0-9]*: /);
      end = next < 0 ? body.length : pos + next;
    }
    if (!values.has(match[1]!)) values.set(match[1]!, body.slice(pos, end).trim());
    pos = end;
  }
  return values;
}

/** `[ a,b ]` -> ['a', 'b']; null when the value is not a list. */
function listItems(value: string | undefined): string[] | null {
  if (value === undefined || !value.startsWith('[') || !value.endsWith(']')) return null;
  return value
    .slice(1, -1)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A test of whether `parse` accepts a text (it throws on what it refuses). */
const accepts =
  (parse: (text: string) => unknown) =>
  (text: string): boolean => {
    try {
      parse(text);
      return true;
    } catch {
      return false;
    }
  };

const isAddress = accepts(parseAddress);
/** Whether `text` is a NAT64 prefix of a length RFC 6052 allows: `64:ff9b::/9`, cut from `/96`, is not. */
const isNat64Prefix = accepts(parseNat64Prefix);

/** Whether `text` is `address/length` with a length the address's family can have (`/640` cannot). */
function isPrefix(text: string): boolean {
  const match = /^(\S+)\/(\d{1,3})$/.exec(text);
  if (!match) return false;
  try {
    return Number(match[2]) <= (parseAddress(match[1]!).family === 4 ? 32 : 128);
  } catch {
    return false;
  }
}

function linkAddress(item: string): LinkAddress | null {
  // 2a01:599:a1b:a486:9aa1:495d:81d9:5386/64
  const match = /^(\S+\/\d{1,3})(?:\s|$)/.exec(item);
  if (!match || !isPrefix(match[1]!)) return null;
  const [address, length] = match[1]!.split('/') as [string, string];
  return { address, prefixLength: Number(length) };
}

function linkRoute(item: string): LinkRoute | null {
  // ::/0 -> fe80::5465:6cff:fec0:afb9 rmnet_data0 mtu 0
  // 0.0.0.0/0 -> 192.0.0.4 v4-rmnet16 mtu 0
  const tokens = item.split(/\s+/);
  if (tokens[1] !== '->' || !isPrefix(tokens[0]!)) return null;
  let gateway: string | null = null;
  let interfaceName: string | null = null;
  let type = 'unicast';
  let mtu: number | null = null;
  for (let i = 2; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === 'mtu') {
      const value = tokens[++i];
      if (value === undefined || !/^\d+$/.test(value)) return null;
      mtu = Number(value);
    } else if (token === 'unreachable' || token === 'throw') type = token;
    else if (i === 2 && isAddress(token)) gateway = token;
    else if (interfaceName === null) interfaceName = token;
    else return null;
  }
  return { destination: tokens[0]!, gateway, interfaceName, type, mtu };
}

/**
 * How deep `Stacked: [[ {...} ]]` links are read: Android stacks one level (the CLAT's `v4-*`
 * link on its base link); deeper ones are skipped, since each level is read again whole and a
 * hostile nesting would make the parse quadratic (and overflow the stack).
 */
const MAX_STACK_DEPTH = 4;

/**
 * Parses one LinkProperties as Android's toString prints it:
 * `{InterfaceName: X LinkAddresses: [ a/len,... ] DnsAddresses: [ /a,... ] Domains: d MTU: n
 * Routes: [ dest -> gw iface mtu n,... ] Nat64Prefix: p Stacked: [[ {...} ]]}`.
 * Keys it does not know (TcpBufferSizes, PcscfAddresses, ...) are passed over.
 * @throws DeviceOutputError when the text is not one brace-balanced `{...}`, or longer than a line is read to
 */
export function parseLinkProperties(text: string): LinkProperties {
  if (!withinLineCap(text)) throw new DeviceOutputError('LinkProperties', `${text.length} characters, longer than the ${MAX_LINE_LENGTH} a line is read to`);
  return linkProperties(text, 0);
}

function linkProperties(text: string, depth: number): LinkProperties {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || closing(trimmed, 0) !== trimmed.length) {
    throw new DeviceOutputError('LinkProperties', 'not one brace-balanced "{InterfaceName: ...}"');
  }
  const values = keyedValues(trimmed.slice(1, -1));
  if (!values.has('InterfaceName') && !values.has('LinkAddresses') && !values.has('Routes')) {
    throw new DeviceOutputError('LinkProperties', 'no InterfaceName, LinkAddresses or Routes');
  }
  const stacked: LinkProperties[] = [];
  const stackedText = values.get('Stacked');
  if (stackedText !== undefined && depth < MAX_STACK_DEPTH) {
    for (let i = stackedText.indexOf('{'); i >= 0; ) {
      const end = closing(stackedText, i);
      if (end < 0) break;
      try {
        stacked.push(linkProperties(stackedText.slice(i, end), depth + 1));
      } catch (error) {
        if (!(error instanceof DeviceOutputError)) throw error;
      }
      i = stackedText.indexOf('{', end);
    }
  }
  const interfaceName = values.get('InterfaceName');
  const mtuText = values.get('MTU');
  const domains = values.get('Domains');
  const nat64 = values.get('Nat64Prefix');
  return {
    interfaceName: interfaceName === undefined || interfaceName === 'null' || interfaceName === '' ? null : interfaceName,
    linkAddresses: (listItems(values.get('LinkAddresses')) ?? []).map(linkAddress).filter((a): a is LinkAddress => a !== null),
    dnsAddresses: (listItems(values.get('DnsAddresses')) ?? []).map((a) => a.slice(a.indexOf('/') + 1)).filter(isAddress),
    domains: domains === undefined || domains === 'null' || domains === '' ? null : domains,
    mtu: mtuText !== undefined && /^\d+$/.test(mtuText) ? Number(mtuText) : null,
    routes: (listItems(values.get('Routes')) ?? []).map(linkRoute).filter((r): r is LinkRoute => r !== null),
    nat64Prefix: nat64 !== undefined && isNat64Prefix(nat64) ? nat64 : null,
    stacked,
  };
}

/** The top-level `name{...}` fields of a NetworkAgentInfo body, first of each name. */
function braceFields(body: string): Map<string, string> {
  const fields = new Map<string, string>();
  // a name starts after a non-letter: tried at every letter of a long word, the scan to its end is quadratic
  const name = /(?<![A-Za-z])([A-Za-z]+)\{/g;
  let match: RegExpExecArray | null;
  while ((match = name.exec(body))) {
    const open = match.index + match[1]!.length;
    const end = closing(body, open);
    if (end < 0) break;
    if (!fields.has(match[1]!)) fields.set(match[1]!, body.slice(open + 1, end - 1));
    name.lastIndex = end;
  }
  return fields;
}

interface NetworkInfoFields {
  type: string | null;
  subtype: string | null;
  state: string | null;
  extra: string | null;
  roaming: boolean | null;
}

function networkInfo(ni: string | undefined): NetworkInfoFields {
  const none = { type: null, subtype: null, state: null, extra: null, roaming: null };
  if (ni === undefined) return none;
  // Android 11 and later, NetworkInfo.toShortString: type[subtype] detailed state, ROAMING when
  // roaming, then ` extra: X` only when the extra is not null. Wi-Fi's extra is empty, so its
  // line ends in "extra: " (the trailing space is kept: a trimmed end would lose the whole match).
  // MOBILE[LTE] CONNECTED ROAMING extra: ims
  // WIFI CONNECTED extra:
  // Ethernet's legacy type name is "Ethernet", mixed case (EthernetNetworkFactory's NETWORK_TYPE,
  // given as NetworkAgentConfig's legacyTypeName), so the name is read as printed.
  const short = /^([A-Za-z_0-9]+)(?:\[([^\]]*)\])? ([A-Z_]+)( ROAMING)?(?: extra: (.*))?$/.exec(ni.trimStart());
  if (short) return { type: short[1]!, subtype: short[2] || null, state: short[3]!, extra: short[5] || null, roaming: short[4] !== undefined };
  // Android 9 and 10, NetworkInfo.toString:
  // [type: MOBILE[LTE], state: CONNECTED/CONNECTED, reason: (unspecified), extra: ims, failover: false, available: true, roaming: false]
  // The state read is the detailed one, the one toShortString prints.
  const long = /^\[type: ([A-Za-z_0-9]+)(?:\[([^\]]*)\])?, state: [A-Z_]+\/([A-Z_]+), reason: /.exec(ni.trim());
  if (!long) return none;
  // The reason runs to the first ", extra: ", the extra to the first field after it; found with
  // indexOf, as two lazy `.*?` in one pattern backtrack quadratically on a run of ", extra: ".
  const rest = ni.trim().slice(long[0].length);
  const extraAt = rest.indexOf(', extra: ');
  if (extraAt < 0 || /[\n\r\u2028\u2029]/.test(rest.slice(0, extraAt))) return none;
  const extraText = rest.slice(extraAt + ', extra: '.length);
  const ends = [', failover:', ', roaming:', ', isAvailable:'].map((field) => extraText.indexOf(field)).filter((at) => at >= 0);
  if (ends.length === 0) return none;
  const extra = extraText.slice(0, Math.min(...ends));
  if (/[\n\r\u2028\u2029]/.test(extra)) return none;
  // ..., roaming: false]
  const roaming = extraText.endsWith(', roaming: true]') ? true : extraText.endsWith(', roaming: false]') ? false : null;
  return { type: long[1]!, subtype: long[2] || null, state: long[3]!, extra: extra === '(none)' || extra === '' ? null : extra, roaming };
}

/**
 * `clat{mBaseIface: rmnet_data2, mIface: v4-rmnet_data2, mState: RUNNING}`: Nat464Xlat.toString,
 * the same from Android 9 to 15 (AOSP NetworkAgentInfo.toString prints it as `clat{...}`).
 */
function clatdState(clat: string | undefined): ClatdState | null {
  if (clat === undefined) return null;
  // mBaseIface: rmnet_data2, mIface: v4-rmnet_data2, mState: RUNNING
  const match = /^mBaseIface: (\S+), mIface: (\S+), mState: ([A-Z_]+)$/.exec(clat.trim());
  if (!match) return null;
  const name = (text: string): string | null => (text === 'null' ? null : text);
  return { baseInterface: name(match[1]!), interfaceName: name(match[2]!), state: match[3]! };
}

/** The policy names of the NAI line's `Score(...)` (Android 12 and later), [] when there is none. */
function scorePolicies(body: string): string[] {
  // Android 13+: Score(Policies : TRANSPORT_PRIMARY&EVER_EVALUATED&IS_VALIDATED ; KeepConnected : 0)
  // Android 12:  Score(50 ; KeepConnected : 0 ; Policies : IS_VALIDATED&TRANSPORT_PRIMARY)
  const at = body.indexOf('Score(');
  if (at < 0) return [];
  const end = body.indexOf(')', at);
  if (end < 0) return [];
  const policies = /Policies : ([A-Z_&]*)/.exec(body.slice(at, end));
  return policies ? policies[1]!.split('&').filter(Boolean) : [];
}

/**
 * Parses ClatCoordinator's dump line:
 * `CLAT tracker: iface: rmnet_data0 (12), v4iface: v4-rmnet_data0 (13), v4: /192.0.0.4, v6: /2001:db8:0:b11::464, pfx96: /64:ff9b::, pid: 1234, cookie: 1`
 * @returns null when the line is not one
 */
export function parseClatTracker(line: string): ClatTracker | null {
  if (!withinLineCap(line)) return null;
  const match = /^\s*CLAT tracker: (.*)$/.exec(line);
  if (!match) return null;
  const values = new Map<string, string>();
  for (const part of match[1]!.split(/, (?=[a-z0-9]+: )/)) {
    const colon = part.indexOf(': ');
    if (colon > 0) values.set(part.slice(0, colon), part.slice(colon + 2).trim());
  }
  const named = (key: string): [string | null, number | null] => {
    const m = /^(\S+)(?: \((\d+)\))?$/.exec(values.get(key) ?? '');
    return m ? [m[1]!, m[2] === undefined ? null : Number(m[2])] : [null, null];
  };
  const address = (key: string): string | null => {
    const value = values.get(key);
    const text = value?.slice(value.indexOf('/') + 1);
    return text !== undefined && isAddress(text) ? text : null;
  };
  const [iface, ifaceIndex] = named('iface');
  const [v4iface, v4ifaceIndex] = named('v4iface');
  if (iface === null && v4iface === null) return null;
  const pid = values.get('pid');
  return {
    iface,
    ifaceIndex,
    v4iface,
    v4ifaceIndex,
    v4: address('v4'),
    v6: address('v6'),
    pfx96: address('pfx96'),
    pid: pid !== undefined && /^-?\d+$/.test(pid) ? Number(pid) : null,
    cookie: values.get('cookie') ?? null,
  };
}

/** One NetworkAgentInfo read: the agent, and what its line says beyond NetworkAgent's fields. */
interface AgentLine {
  readonly agent: NetworkAgent;
  readonly roaming: boolean | null;
  readonly scorePolicies: readonly string[];
  readonly clatd: ClatdState | null;
}

function networkAgent(line: string): AgentLine | null {
  const start = line.indexOf('NetworkAgentInfo{');
  const open = start + 'NetworkAgentInfo'.length;
  const end = closing(line, open);
  if (start < 0 || end < 0) return null;
  const body = line.slice(open + 1, end - 1);
  const fields = braceFields(body);
  const network = fields.get('network');
  let linkProperties: LinkProperties | null = null;
  const lp = fields.get('lp');
  if (lp !== undefined) {
    try {
      linkProperties = parseLinkProperties(lp);
    } catch (error) {
      if (!(error instanceof DeviceOutputError)) throw error;
    }
  }
  // nc{[ Transports: CELLULAR Capabilities: INTERNET&NOT_RESTRICTED&TRUSTED&VALIDATED&NOT_VPN ...]}
  const nc = fields.get('nc') ?? '';
  const transports = /Transports: (\S+)/.exec(nc)?.[1]?.replace(/\]$/, '').split('|').filter(Boolean) ?? [];
  const capabilities = /Capabilities: (\S+)/.exec(nc)?.[1]?.replace(/\]$/, '').split('&').filter(Boolean) ?? [];
  const { roaming, ...info } = networkInfo(fields.get('ni'));
  return {
    agent: {
      netId: network !== undefined && /^\d+$/.test(network) ? Number(network) : null,
      ...info,
      transports,
      capabilities,
      linkProperties,
      clat: null,
    },
    roaming,
    // the Score(...) of Android 12+ sits before lp{}: read only there, not in an SSID or a specifier
    scorePolicies: scorePolicies(body.slice(0, Math.max(0, body.indexOf(' lp{')))),
    clatd: clatdState(fields.get('clat')),
  };
}

/**
 * Parses one NetworkAgentInfo as its toString prints it, wherever it is in the line (a logcat line
 * such as `Switching to new default network ... using NetworkAgentInfo{...}` has one too). Shapes:
 * Android 9 and 10 `NetworkAgentInfo{ ni{[type: MOBILE[LTE], state: ...]}  network{100}  nethandle{...}  lp{...}  nc{...}  Score{50}  ... clat{...} }`;
 * Android 11 to 17 `NetworkAgentInfo{network{100}  handle{...}  ni{MOBILE[LTE] CONNECTED extra: ims} ... lp{...}  nc{...} ...}`.
 * @returns null when the line has no brace-balanced NetworkAgentInfo{...}
 */
export function parseNetworkAgentInfo(line: string): { network: NetworkAgent; details: NetworkDetails | null } | null {
  if (!withinLineCap(line)) return null;
  const read = networkAgent(line);
  if (read === null) return null;
  return { network: read.agent, details: detailsOf(read, null) };
}

function detailsOf(read: AgentLine, nat464xlat: Nat464XlatDump | null): NetworkDetails | null {
  if (read.agent.netId === null) return null;
  return { netId: read.agent.netId, roaming: read.roaming, scorePolicies: read.scorePolicies, clatd: read.clatd, nat464xlat };
}

/** An address as Java's InetAddress.toString prints it (`/192.0.0.4`, `hostname/1.2.3.4`), or null. */
function inetAddress(text: string): string | null {
  const address = text.slice(text.indexOf('/') + 1);
  return isAddress(address) ? address : null;
}

/** `64:ff9b::/96` from `/64:ff9b::/96` (an Inet6Address printed with `/96` after it), or null. */
function prefix96(text: string): string | null {
  if (!text.endsWith('/96')) return null;
  const address = inetAddress(text.slice(0, -'/96'.length));
  return address !== null && isNat64Prefix(`${address}/96`) ? `${address}/96` : null;
}

/**
 * One rule line of ClatCoordinator's BPF maps, split at spaces (each field is one token, so no
 * pattern can backtrack); null when the line is not one. Android 15+ adds `(packets bytes)`.
 */
function forwardingRule(direction: 'ingress' | 'egress', line: string): ClatForwardingRule | null {
  const tokens = line.trim().split(' ');
  // Android 15+ appends the counters, AOSP's format "%d %s/96 %s -> %s %d (%d %d)": "... 52 (120 9600)"
  if (tokens.length >= 2 && /^\(\d+$/.test(tokens.at(-2)!) && /^\d+\)$/.test(tokens.at(-1)!)) tokens.splice(-2, 2);
  const index = (text: string | undefined): number | null => (text !== undefined && /^\d{1,10}$/.test(text) ? Number(text) : null);
  if (direction === 'ingress') {
    // iif nat64Prefix v6Addr -> v4Addr oif
    // 47 /64:ff9b::/96 /2a00:79e1:abc:6f02:4aac:17dd:b40e:8bcc -> /192.0.0.4 52
    if (tokens.length !== 6 || tokens[3] !== '->') return null;
    const [inIndex, nat64Prefix, v6Address, v4Address, outIndex] = [
      index(tokens[0]),
      prefix96(tokens[1]!),
      inetAddress(tokens[2]!),
      inetAddress(tokens[4]!),
      index(tokens[5]),
    ];
    if (inIndex === null || nat64Prefix === null || v6Address === null || v4Address === null || outIndex === null) return null;
    return { direction, v6Address, v4Address, nat64Prefix, inIndex, outIndex };
  }
  // iif v4Addr -> v6Addr nat64Prefix oif
  // 52 /192.0.0.4 -> /2a00:79e1:abc:6f02:4aac:17dd:b40e:8bcc /64:ff9b::/96 47 ether
  if (tokens.length !== 7 || tokens[2] !== '->' || !['ether', 'rawip'].includes(tokens[6]!)) return null;
  const [inIndex, v4Address, v6Address, nat64Prefix, outIndex] = [
    index(tokens[0]),
    inetAddress(tokens[1]!),
    inetAddress(tokens[3]!),
    prefix96(tokens[4]!),
    index(tokens[5]),
  ];
  if (inIndex === null || nat64Prefix === null || v6Address === null || v4Address === null || outIndex === null) return null;
  return { direction, v6Address, v4Address, nat64Prefix, inIndex, outIndex };
}

/**
 * Reads the lines of a `Nat464Xlat:` block (the block's own header line included or not), as
 * Android 13 and later print it under each network:
 * ```
 * Nat464Xlat:
 *   ClatCoordinator:
 *     CLAT tracker: iface: rmnet_data2 (12), v4iface: ...        (Android 14+)
 *     Forwarding rules:
 *       BPF ingress map: iif nat64Prefix v6Addr -> v4Addr oif
 *         47 /64:ff9b::/96 /2a00:79e1:abc:6f02:4aac:17dd:b40e:8bcc -> /192.0.0.4 52
 *       BPF egress map: iif v4Addr -> v6Addr nat64Prefix oif
 *         52 /192.0.0.4 -> /2a00:79e1:abc:6f02:4aac:17dd:b40e:8bcc /64:ff9b::/96 47 ether
 * ```
 * A line of another shape is passed over.
 */
function nat464Xlat(lines: readonly string[]): Nat464XlatDump {
  let started: boolean | null = null;
  let tracker: ClatTracker | null = null;
  const rules: ClatForwardingRule[] = [];
  const unreadable: string[] = [];
  let map: { direction: 'ingress' | 'egress'; indent: number } | null = null;
  for (const line of lines) {
    if (!withinLineCap(line) || line.trim() === '') continue;
    const indent = indentation(line);
    const text = line.trim();
    if (map && indent <= map.indent) map = null;
    if (map) {
      const rule = forwardingRule(map.direction, text);
      if (rule) rules.push(rule);
      continue;
    }
    // ClatCoordinator:
    if (text === 'ClatCoordinator:') started = true;
    // <not start> (Android 13), <not started> (Android 14+)
    else if (text === '<not start>' || text === '<not started>') started = false;
    // BPF ingress map: iif nat64Prefix v6Addr -> v4Addr oif (packets bytes)
    else if (text.startsWith('BPF ingress map:')) map = { direction: 'ingress', indent };
    // BPF egress map: iif v4Addr -> v6Addr nat64Prefix oif (packets bytes)
    else if (text.startsWith('BPF egress map:')) map = { direction: 'egress', indent };
    // No BPF ingress6 map / Error dumping BPF egress4 map: java.lang.Exception ...
    else if (text.startsWith('No BPF ') || text.startsWith('Error dumping BPF ')) unreadable.push(text);
    else if (tracker === null) tracker = parseClatTracker(text);
  }
  return { started, tracker, rules, unreadable };
}

/**
 * Parses a `Nat464Xlat:` block on its own (a fragment of `dumpsys connectivity`, as AOSP commit
 * messages quote it); within a whole dump, parseDumpsysConnectivity reads it into each network's details.
 * @throws DeviceOutputError when no line is of the block's shapes
 */
export function parseNat464XlatBlock(text: string): Nat464XlatDump {
  const lines = completeLines(text).map((l) => l.text);
  const block = nat464Xlat(lines);
  const header = lines.some((l) => withinLineCap(l) && l.trim() === 'Nat464Xlat:');
  if (!header && block.started === null && block.tracker === null && block.rules.length === 0) {
    throw new DeviceOutputError('dumpsys connectivity', 'no "Nat464Xlat:" block: no ClatCoordinator, CLAT tracker or forwarding rule line');
  }
  return block;
}

/**
 * dumpsys connectivity refused to dump: ConnectivityService checks the caller for
 * android.permission.DUMP, which adb's shell user holds and an app does not. The output is one
 * line and dumpsys exits 0, so it would otherwise read as a dump without networks.
 */
export class DumpsysRefusedError extends DeviceOutputError {
  constructor(
    /** The refusal line as Android printed it. */
    readonly refusal: string,
    /** The uid Android refused, when the line names it. */
    readonly uid: number | null,
    line: number,
  ) {
    super('dumpsys connectivity', `refused: ${refusal}`, line);
    this.name = 'DumpsysRefusedError';
    this.message =
      `dumpsys connectivity was refused (line ${line}): "${refusal}". ` +
      `Run it as adb's shell user (uid 2000), which holds android.permission.DUMP; ${uid === null ? 'the caller' : `uid ${uid}`} does not (an app, or a shell without DUMP).`;
  }
}

// Permission Denial: can't dump ConnectivityService from from pid=22117, uid=10318 due to missing android.permission.DUMP permission
// (Android 9 to 16: DumpUtils.checkDumpPermission, later ConnectivityService.hasDumpPermission; "from from" is Android's own typo)
const DUMP_DENIAL = /^Permission Denial: can't dump (?:ConnectivityService|connectivity)\b(?:.*?\buid=(\d{1,10})\b)?/;

/**
 * Parses `dumpsys connectivity`: the NetworkAgentInfo lines of the `Current Networks:` block,
 * each with the block indented under it (its `CLAT tracker:` line and, Android 13+, its
 * `Nat464Xlat:` block). A line cut or unbalanced is skipped.
 * @throws DumpsysRefusedError when ConnectivityService refused to dump (no android.permission.DUMP)
 * @throws DeviceOutputError when there is no `Current Networks:` line, or dumpsys says the dump was cut
 */
export function parseDumpsysConnectivity(text: string): DumpsysConnectivity {
  const lines = completeLines(text);
  const cut = dumpsysCutNotice(lines);
  if (cut)
    throw new DeviceOutputError(
      'dumpsys connectivity',
      `the dump stopped early (${JSON.stringify(cut.text.trim())}), so its last line may be a cut one; run it again`,
      cut.number,
    );
  let defaultNetId: number | null = null;
  // Active default network: 100
  const active = lines.map((l) => (withinLineCap(l.text) ? /^\s*Active default network: (\S+)$/.exec(l.text) : null)).find(Boolean);
  if (active && /^\d+$/.test(active[1]!)) defaultNetId = Number(active[1]);
  // Current Networks:
  const headerAt = lines.findIndex((l) => l.text.trim() === 'Current Networks:');
  if (headerAt < 0) {
    for (const l of lines) {
      const denial = withinLineCap(l.text) ? DUMP_DENIAL.exec(l.text.trim()) : null;
      if (denial) throw new DumpsysRefusedError(l.text.trim(), denial[1] === undefined ? null : Number(denial[1]), l.number);
    }
    throw new DeviceOutputError('dumpsys connectivity', 'no "Current Networks:" line');
  }
  const headerIndent = indentation(lines[headerAt]!.text);
  const read: { line: AgentLine; block: string[] }[] = [];
  let current: { entry: { line: AgentLine; block: string[] }; indent: number } | null = null;
  for (const { text: line } of lines.slice(headerAt + 1)) {
    if (line.trim() === '') continue;
    const indent = indentation(line);
    if (indent <= headerIndent) break;
    if (current && indent <= current.indent) current = null;
    // after the indentation, so a skipped line still ends the block of the network above it
    if (!withinLineCap(line)) continue;
    if (line.trimStart().startsWith('NetworkAgentInfo{')) {
      const agent = networkAgent(line);
      // a skipped line at this indentation already ended the previous network's block above
      if (agent) {
        const entry = { line: agent, block: [] };
        read.push(entry);
        current = { entry, indent };
      }
      continue;
    }
    current?.entry.block.push(line);
  }
  const networks: NetworkAgent[] = [];
  const details: NetworkDetails[] = [];
  for (const { line, block } of read) {
    // the first CLAT tracker line under the network, at whatever depth: Android 14+ print it
    // inside Nat464Xlat: > ClatCoordinator:, hand-made and older dumps right under the NAI line
    const clat = block.map(parseClatTracker).find((c) => c !== null) ?? null;
    networks.push({ ...line.agent, clat });
    const headerLine = block.findIndex((l) => l.trim() === 'Nat464Xlat:');
    const nat = headerLine < 0 ? null : nat464Xlat(blockUnder(block, headerLine));
    const detail = detailsOf(line, nat);
    if (detail) details.push(detail);
  }
  return { defaultNetId, networks, details };
}

/** The lines indented under `lines[at]` (the header line excluded). */
function blockUnder(lines: readonly string[], at: number): string[] {
  const indent = indentation(lines[at]!);
  const end = lines.findIndex((l, i) => i > at && indentation(l) <= indent);
  return lines.slice(at + 1, end < 0 ? lines.length : end);
}

/** The network `Active default network: N` names, or null when it names none or no such network was listed. */
export function defaultNetwork(dump: DumpsysConnectivity): NetworkAgent | null {
  if (dump.defaultNetId === null) return null;
  return dump.networks.find((n) => n.netId === dump.defaultNetId) ?? null;
}

/** What dump.details says of `network`, or null (no netId, or not a network of this dump). */
export function detailsOfNetwork(dump: DumpsysConnectivity, network: NetworkAgent): NetworkDetails | null {
  return network.netId === null ? null : (dump.details.find((d) => d.netId === network.netId) ?? null);
}

/** How mobileInternetNetwork chose: by capability, by default network among several, by APN name when capabilities were unreadable, or not at all. */
export type InternetNetworkBasis = 'internet-capability' | 'default-network' | 'apn-name' | 'none';

export interface InternetNetworkChoice {
  /** The cellular network apps' traffic goes over, or null when none can be told. */
  readonly network: NetworkAgent | null;
  readonly basis: InternetNetworkBasis;
  /** Why, in words for a report: which network, and why each other MOBILE network was passed over. */
  readonly reason: string;
}

/**
 * A MOBILE network: the legacy type Telephony gives every cellular agent (Android 9 and 10 may
 * also print MOBILE_IMS and the like), or, when ni{} was unreadable, a cellular transport without VPN.
 */
function isMobile(network: NetworkAgent): boolean {
  if (network.type !== null) return network.type === 'MOBILE' || network.type.startsWith('MOBILE_');
  return network.transports.includes('CELLULAR') && !network.transports.includes('VPN');
}

/**
 * APNs that never carry apps' traffic: IMS (VoLTE, `extra: ims`), emergency calls, MMS, and XCAP
 * (supplementary services). Names are the carriers' own, so matched loosely (`IMS`, `ims.mnc...`).
 */
function isServiceApn(extra: string | null): boolean {
  const apn = (extra ?? '').toLowerCase();
  return apn.startsWith('ims') || ['emergency', 'sos', 'eims', 'mms', 'xcap', 'ut'].includes(apn);
}

function describe(network: NetworkAgent): string {
  return `netId ${network.netId ?? '?'} (${network.type ?? 'type unknown'}${network.extra === null ? '' : `, APN ${network.extra}`})`;
}

function passedOver(network: NetworkAgent): string {
  if (network.capabilities.length === 0) return `${describe(network)}: capabilities unreadable`;
  if (!network.capabilities.includes('INTERNET')) return `${describe(network)}: no INTERNET capability (${network.capabilities.join('&')})`;
  return `${describe(network)}: also has INTERNET`;
}

/**
 * Narrows several candidates by what tells the internet network apart, in order: Android's default
 * network, CONNECTED, NOT_RESTRICTED (a restricted one serves privileged apps only), VALIDATED.
 * A test that none passes is passed over; one that several pass narrows to them.
 */
function narrow(
  candidates: readonly NetworkAgent[],
  defaultNetId: number | null,
): { chosen: NetworkAgent | null; by: string | null; left: readonly NetworkAgent[] } {
  const tests: [string, (n: NetworkAgent) => boolean][] = [
    ["it is Android's default network", (n) => defaultNetId !== null && n.netId === defaultNetId],
    ['it is the one CONNECTED', (n) => n.state === 'CONNECTED'],
    ['it is the one NOT_RESTRICTED', (n) => n.capabilities.includes('NOT_RESTRICTED')],
    ['it is the one VALIDATED', (n) => n.capabilities.includes('VALIDATED')],
  ];
  let left = candidates;
  for (const [by, test] of tests) {
    if (left.length === 1) break;
    const passing = left.filter(test);
    if (passing.length === 1) return { chosen: passing[0]!, by, left: passing };
    if (passing.length > 1) left = passing;
  }
  return left.length === 1 ? { chosen: left[0]!, by: null, left } : { chosen: null, by: null, left };
}

/**
 * The cellular network that carries apps' traffic, never simply the first MOBILE entry: a VoLTE
 * phone lists its IMS network (`extra: ims`, IMS&MMTEL without INTERNET) beside the internet one,
 * often first (real Pixel Fold, Android 17). The MOBILE network with the INTERNET capability is
 * the one; among several, the default network (then CONNECTED, NOT_RESTRICTED, VALIDATED); only
 * when a network's capabilities could not be read is its APN name used (not IMS, emergency, MMS).
 */
export function mobileInternetNetwork(dump: DumpsysConnectivity | null): InternetNetworkChoice {
  if (dump === null) return { network: null, basis: 'none', reason: 'dumpsys connectivity was not read' };
  const mobile = dump.networks.filter(isMobile);
  if (mobile.length === 0) {
    const others = dump.networks.map(describe).join(', ');
    return { network: null, basis: 'none', reason: `no MOBILE network in dumpsys connectivity${others === '' ? '' : ` (only ${others})`}` };
  }
  const others = (chosen: NetworkAgent): string => {
    const rest = mobile.filter((n) => n !== chosen).map(passedOver);
    return rest.length === 0 ? '' : `; passed over: ${rest.join('; ')}`;
  };
  // a cellular agent always has capabilities (NOT_VPN, TRUSTED at least), so none read is nc{} unreadable
  const withInternet = mobile.filter((n) => n.capabilities.includes('INTERNET'));
  if (withInternet.length > 0) {
    const { chosen, by, left } = narrow(withInternet, dump.defaultNetId);
    if (chosen === null)
      return { network: null, basis: 'none', reason: `several MOBILE networks have INTERNET and nothing tells them apart: ${left.map(describe).join(', ')}` };
    if (withInternet.length === 1)
      return {
        network: chosen,
        basis: 'internet-capability',
        reason: `${describe(chosen)} is the MOBILE network with the INTERNET capability${others(chosen)}`,
      };
    const basis = by === "it is Android's default network" ? 'default-network' : 'internet-capability';
    return { network: chosen, basis, reason: `${describe(chosen)} has INTERNET and ${by ?? 'is the only one left'}${others(chosen)}` };
  }
  const unread = mobile.filter((n) => n.capabilities.length === 0);
  if (unread.length === 0)
    return {
      network: null,
      basis: 'none',
      reason: `no MOBILE network has the INTERNET capability (is mobile data off?): ${mobile.map(passedOver).join('; ')}`,
    };
  const byApn = unread.filter((n) => n.extra !== null && !isServiceApn(n.extra));
  const { chosen } = byApn.length === 0 ? { chosen: null } : narrow(byApn, dump.defaultNetId);
  if (chosen === null)
    return {
      network: null,
      basis: 'none',
      reason: `no MOBILE network's capabilities could be read and its APN name does not tell: ${mobile.map(describe).join(', ')}`,
    };
  return {
    network: chosen,
    basis: 'apn-name',
    reason: `${describe(chosen)}: its capabilities could not be read, and its APN is not an IMS, emergency or MMS one${others(chosen)}`,
  };
}

/** Where a CLAT fact was read in dumpsys connectivity. */
export type ClatSource =
  /** `CLAT tracker:` line (Android 14+). */
  | 'clat-tracker'
  /** ClatCoordinator's BPF forwarding rules in the `Nat464Xlat:` block (Android 13+). */
  | 'bpf-forwarding-rules'
  /** LinkProperties' `Stacked: [[ {InterfaceName: v4-rmnet_data2 LinkAddresses: [ 192.0.0.4/32 ] ...} ]]` (Android 9+). */
  | 'stacked-link'
  /** The NAI line's `clat{mBaseIface: ..., mIface: v4-..., mState: RUNNING}` (Android 9+). */
  | 'clatd-state'
  /** LinkProperties' `Nat64Prefix:` (Android 10+). */
  | 'link-properties';

export interface Sourced<T> {
  readonly value: T;
  readonly from: ClatSource;
}

/** What dumpsys connectivity says of a network's CLAT (464XLAT, RFC 6877), each fact with where it was read. */
export interface ClatIdentity {
  readonly netId: number | null;
  /** `v4-rmnet_data2`. */
  readonly v4Interface: Sourced<string> | null;
  /** `192.0.0.4`. */
  readonly v4Address: Sourced<string> | null;
  /** The CLAT's own IPv6 address, the source of its translated packets; never guessed. */
  readonly v6Address: Sourced<string> | null;
  /** Why v6Address is null, for a report; null when it is known. */
  readonly v6AddressUnknown: string | null;
  /** `64:ff9b::/96`. */
  readonly nat64Prefix: Sourced<string> | null;
  /** clat{}'s mState (`RUNNING`), null when not printed. */
  readonly state: string | null;
}

/** The first non-null of the candidates, in order of trust. */
function first<T>(...candidates: [T | null | undefined, ClatSource][]): Sourced<T> | null {
  for (const [value, from] of candidates) if (value !== null && value !== undefined) return { value, from };
  return null;
}

/**
 * The /64 an IPv6 address lies in, as hex, or null for IPv4 or text that is no address: clatd takes
 * its address in its interface's /64 (a set of these keeps matching linear in the rules).
 */
function slash64(address: string): string | null {
  try {
    const { family, bytes } = parseAddress(address);
    return family === 6 ? Buffer.from(bytes.subarray(0, 8)).toString('hex') : null;
  } catch {
    return null;
  }
}

/**
 * Identifies `network`'s CLAT from every place dumpsys connectivity prints one, for all versions:
 * the `CLAT tracker:` line (14+); the BPF forwarding rules (13+), whose IPv6 address is taken only
 * when it lies in one of the network's own /64s (Android 13 prints the device's whole map under
 * each CLAT network), or when this network's block is the only one with rules and they name one
 * address; the stacked `v4-*` link and its address (9+); clat{} (9+); the `Nat64Prefix` (10+).
 * @returns null when nothing in the dump shows a CLAT on this network
 */
export function clatOf(dump: DumpsysConnectivity, network: NetworkAgent): ClatIdentity | null {
  const details = detailsOfNetwork(dump, network);
  const tracker = network.clat;
  const lp = network.linkProperties;
  const stacked = lp?.stacked.find((s) => s.interfaceName?.startsWith('v4-')) ?? null;
  const clatd = details?.clatd ?? null;
  const running = clatd !== null && (clatd.state === 'RUNNING' || clatd.state === 'STARTING');
  const rules = details?.nat464xlat?.rules ?? [];
  if (tracker === null && stacked === null && !running && rules.length === 0) return null;

  const ownV6 = (lp?.linkAddresses ?? []).map((a) => a.address).filter((a) => a.includes(':') && !a.toLowerCase().startsWith('fe80:'));
  const own64s = new Set(ownV6.map(slash64).filter((p) => p !== null));
  let fromRules: string[] = [...new Set(rules.filter((r) => own64s.has(slash64(r.v6Address) ?? '')).map((r) => r.v6Address))];
  let rulesHow = "in this network's own /64";
  const othersWithRules = dump.details.filter((d) => d.netId !== network.netId && (d.nat464xlat?.rules.length ?? 0) > 0);
  if (fromRules.length === 0 && ownV6.length === 0 && othersWithRules.length === 0) {
    fromRules = [...new Set(rules.map((r) => r.v6Address))];
    rulesHow = 'the only CLAT rules in the dump';
  }
  const v6Address = first<string>([tracker?.v6, 'clat-tracker'], [fromRules.length === 1 ? fromRules[0] : null, 'bpf-forwarding-rules']);
  let v6AddressUnknown: string | null = null;
  if (v6Address === null) {
    if (fromRules.length > 1)
      v6AddressUnknown = `the BPF forwarding rules name ${fromRules.length} CLAT IPv6 addresses ${rulesHow} (${fromRules.join(', ')}): which is this network's cannot be told`;
    else if (rules.length > 0)
      v6AddressUnknown = `the BPF forwarding rules under this network name no IPv6 address in its own /64 (${[...new Set(rules.map((r) => r.v6Address))].join(', ')}): Android 13 prints the whole device's map under each CLAT network`;
    else if (details?.nat464xlat?.started === false) v6AddressUnknown = 'the Nat464Xlat block under this network says its CLAT is not started';
    else if (details?.nat464xlat) v6AddressUnknown = 'the Nat464Xlat block under this network has no CLAT tracker line and no forwarding rule';
    else
      v6AddressUnknown =
        "dumpsys connectivity prints no CLAT IPv6 address on this version (Android 9 to 12 print none; 13 prints it in the Nat464Xlat block's BPF rules, 14 and later on its CLAT tracker line)";
  }
  const rule = v6Address === null ? null : (rules.find((r) => r.v6Address === v6Address.value) ?? null);
  const stackedV4 = stacked?.linkAddresses.find((a) => !a.address.includes(':'))?.address ?? null;
  return {
    netId: network.netId,
    v4Interface: first<string>([tracker?.v4iface, 'clat-tracker'], [stacked?.interfaceName, 'stacked-link'], [clatd?.interfaceName, 'clatd-state']),
    v4Address: first<string>([tracker?.v4, 'clat-tracker'], [stackedV4, 'stacked-link'], [rule?.v4Address, 'bpf-forwarding-rules']),
    v6Address,
    v6AddressUnknown,
    nat64Prefix: first<string>(
      [lp?.nat64Prefix, 'link-properties'],
      [tracker?.pfx96 === null || tracker?.pfx96 === undefined ? null : `${tracker.pfx96}/96`, 'clat-tracker'],
      [rule?.nat64Prefix, 'bpf-forwarding-rules'],
    ),
    state: clatd?.state ?? null,
  };
}
