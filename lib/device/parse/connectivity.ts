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
  /** The APN name on cellular, as `ni{... extra: X}` gives it. */
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
  readonly networks: readonly NetworkAgent[];
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

function networkInfo(ni: string | undefined): { type: string | null; subtype: string | null; state: string | null; extra: string | null } {
  const none = { type: null, subtype: null, state: null, extra: null };
  if (ni === undefined) return none;
  // Android 10+: MOBILE[LTE] CONNECTED extra: ims
  const short = /^([A-Z_0-9]+)(?:\[([^\]]*)\])? ([A-Z_]+)(?: ROAMING)?(?: extra: (.*))?$/.exec(ni.trim());
  if (short) return { type: short[1]!, subtype: short[2] || null, state: short[3]!, extra: short[4] ?? null };
  // Android 9 and before: [type: MOBILE[LTE], state: CONNECTED/CONNECTED, reason: (unspecified), extra: ims, ...]
  const long = /^\[type: ([A-Z_0-9]+)(?:\[([^\]]*)\])?, state: ([A-Z_]+)\/[A-Z_]+, reason: /.exec(ni.trim());
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
  return { type: long[1]!, subtype: long[2] || null, state: long[3]!, extra: extra === '(none)' ? null : extra };
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

function networkAgent(line: string): NetworkAgent | null {
  const start = line.indexOf('NetworkAgentInfo{');
  const open = start + 'NetworkAgentInfo'.length;
  const end = closing(line, open);
  if (start < 0 || end < 0) return null;
  const fields = braceFields(line.slice(open + 1, end - 1));
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
  return {
    netId: network !== undefined && /^\d+$/.test(network) ? Number(network) : null,
    ...networkInfo(fields.get('ni')),
    transports,
    capabilities,
    linkProperties,
    clat: null,
  };
}

/**
 * Parses `dumpsys connectivity`: the NetworkAgentInfo lines of the `Current Networks:` block,
 * each with the `CLAT tracker:` line indented under it. A line cut or unbalanced is skipped.
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
  if (headerAt < 0) throw new DeviceOutputError('dumpsys connectivity', 'no "Current Networks:" line');
  const headerIndent = indentation(lines[headerAt]!.text);
  const networks: NetworkAgent[] = [];
  let current: { agent: NetworkAgent; indent: number } | null = null;
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
        networks.push(agent);
        current = { agent, indent };
      }
      continue;
    }
    const clat = current ? parseClatTracker(line) : null;
    if (clat && current && current.agent.clat === null) {
      const agent: NetworkAgent = { ...current.agent, clat };
      networks[networks.length - 1] = agent;
      current = { agent, indent: current.indent };
    }
  }
  return { defaultNetId, networks };
}
