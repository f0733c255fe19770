/**
 * The analysis document built from the analyzer's compact state: the small parts at once, the
 * big lists (flows, DNS queries, hostnames) one entry at a time on demand, so a capture of a
 * million flows is written out without a million objects alive (`v6lab analyze --json` streams
 * them), and `materialize` gives the whole CaptureAnalysis for everything else.
 *
 * What is computed per flow here (path, CLAT twin, hostname) lives in typed columns; the CLAT
 * inference keys addresses by their words, not their text.
 */
import { extractEmbeddedIpv4, formatAddress, inNat64Prefix, IPV4ONLY_ARPA, isClatIpv4, type Nat64Prefix, parseAddress } from '../net/address.js';
import type { CaptureFormat } from '../capture/reader.js';
import type { Pref64Observer } from './pref64.js';
import { type AddressTable, type NameTable, APPLICATIONS, APP_DNS, FLOW, type DnsLog, type FlowTable, FLOW_KEY, fmix, KIND_TCP, KIND_V6 } from './state.js';
import { spellAnswer } from './dns.js';
import type { JsonBytes } from './json-bytes.js';
import type { AddressAnswers, NameAnswerChains, UnlistedTraffic } from './analyzer.js';
import type { AnalysisDocument, CaptureAnalysis, DnsQuery, Flow, FlowPath, HostnameFacts, PathTotals } from './types.js';

/** What the analyzer hands over (its state, by reference: valid until its next packet). */
export interface AnalysisState {
  format: CaptureFormat;
  linkTypes: readonly number[];
  packets: number;
  bytes: number;
  firstTs: number;
  lastTs: number;
  duplicates: number;
  warnings: string[];
  icmp4: number;
  icmp6: number;
  otherIp: number;
  nonIp: number;
  flows: FlowTable;
  names: NameTable;
  qtypes: readonly string[];
  rcodes: readonly string[];
  dns: DnsLog;
  nameQueried: Int32Array;
  nameQueriedMore: ReadonlyMap<number, ReadonlySet<number>>;
  nameAnswers: NameAnswerChains;
  factNames: readonly number[];
  addresses: AddressTable;
  moreAnswers: ReadonlyMap<number, AddressAnswers>;
  givenPrefixes: readonly Nat64Prefix[];
  discoveredPrefixes: readonly Nat64Prefix[];
  pref64: Pref64Observer;
  givenClat: readonly string[];
  unlisted: UnlistedTraffic | null;
  maxMemory: number;
}

const PATHS: readonly FlowPath[] = ['native-v6', 'nat64', 'clat', 'native-v4'];
const NATIVE_V6 = 0;
const NAT64 = 1;
const CLAT = 2;
const NATIVE_V4 = 3;

function wordOf(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

/** IPv6 addresses, by their four words, numbered in the order first added. */
class AddressIndex {
  size = 0;
  private words = new Int32Array(64);
  private slots = new Int32Array(64);

  /** The number of the address at words[at..at+4), added when new. */
  add(source: Int32Array, at: number): number {
    const found = this.find(source, at);
    if (found >= 0) return found;
    if ((this.size + 1) * 4 > this.words.length) {
      const grown = new Int32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    const n = this.size++;
    this.words.set(source.subarray(at, at + 4), n * 4);
    if (this.size * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(n);
    return n;
  }

  find(source: Int32Array, at: number): number {
    const mask = this.slots.length - 1;
    const w = this.words;
    for (let i = this.hashAt(source, at) & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i]!;
      if (slot === 0) return -1;
      const n = (slot - 1) * 4;
      if (w[n] === source[at] && w[n + 1] === source[at + 1] && w[n + 2] === source[at + 2] && w[n + 3] === source[at + 3]) return slot - 1;
    }
  }

  private hashAt(source: Int32Array, at: number): number {
    return fmix(Math.imul(source[at]!, 0x9e3779b1) + Math.imul(source[at + 1]!, 0x85ebca77) + Math.imul(source[at + 2]!, 0xc2b2ae3d) + source[at + 3]!);
  }

  private place(n: number): void {
    const mask = this.slots.length - 1;
    for (let i = this.hashAt(this.words, n * 4) & mask; ; i = (i + 1) & mask) {
      if (this.slots[i] === 0) {
        this.slots[i] = n + 1;
        return;
      }
    }
  }

  private rehash(length: number): void {
    this.slots = new Int32Array(length);
    for (let n = 0; n < this.size; n++) this.place(n);
  }
}

/** printableJson(h), by hand (its key order is HostnameFacts'). */
/** Kinds of answered address, as a hostname's facts list them. */
const A = 0;
const NATIVE_AAAA = 1;
const SYNTHESIZED_AAAA = 2;
/** The answer lists of a hostname's facts in the order they are written: kind, then the key before the list. */
const HOSTNAME_ANSWER_KEYS: readonly [number, string][] = [
  [A, ',"a":['],
  [NATIVE_AAAA, ',"nativeAaaa":['],
  [SYNTHESIZED_AAAA, ',"synthesizedAaaa":['],
];

/** `,"path":"..."` per path index. */
const PATH_JSON = PATHS.map((p) => `,"path":"${p}"`);

function emptyTotals(): PathTotals {
  return { 'native-v6': 0, nat64: 0, clat: 0, 'native-v4': 0 };
}

export function buildDocument(s: AnalysisState): AnalysisDocument {
  const t = s.flows;
  const n = t.size;
  const scratch = new Uint8Array(16);
  const embedded = new Uint8Array(4);

  const prefixes = new Map<string, { prefix: Nat64Prefix; source: 'given' | 'rfc7050' | 'pref64' }>();
  for (const p of s.givenPrefixes) prefixes.set(p.text, { prefix: p, source: 'given' });
  for (const p of s.discoveredPrefixes) if (!prefixes.has(p.text)) prefixes.set(p.text, { prefix: p, source: 'rfc7050' });
  for (const p of s.pref64.prefixes()) if (!prefixes.has(p.text)) prefixes.set(p.text, { prefix: p, source: 'pref64' });
  const prefixList = [...prefixes.values()].map((e) => e.prefix);
  const nat64Of = (bytes: Uint8Array): Nat64Prefix | null => {
    for (const p of prefixList) if (inNat64Prefix(p, bytes, 0)) return p;
    return null;
  };
  const isV6 = (row: number) => (t.kind(row) & KIND_V6) !== 0;
  const isTcp = (row: number) => (t.kind(row) & KIND_TCP) !== 0;
  const text = (row: number, server: boolean) => formatAddress(t.addressBytes(row, server, scratch), 0, isV6(row) ? 6 : 4);

  // Each flow's NAT64 prefix (index into prefixList), -1: none or IPv4.
  const prefixOf = new Int16Array(n).fill(-1);
  for (let row = 0; row < n; row++) {
    if (!isV6(row)) continue;
    const p = nat64Of(t.addressBytes(row, true, scratch));
    if (p !== null) prefixOf[row] = prefixList.indexOf(p);
  }

  // --- CLAT inference: every IPv6 address that talks only to NAT64 addresses and has at least one
  // flow whose IPv4 twin (same ports, embedded IPv4 as server) was seen from 192.0.0.0/29. Twins
  // pair the two legs of one translated socket.
  const legKey = (protocolTcp: boolean, ports: number, server: number) =>
    fmix(Math.imul(server, 0x9e3779b1) ^ Math.imul(ports, 0x85ebca77) ^ (protocolTcp ? 1 : 0));
  let legCount = 0;
  for (let row = 0; row < n; row++) if (!isV6(row) && isClatIpv4(t.addressBytes(row, false, scratch), 0)) legCount++;
  let legSize = 16;
  while (legSize < legCount * 2) legSize *= 2;
  const legSlots = new Int32Array(legSize);
  const legMask = legSize - 1;
  /** The slot of the leg (tcp, ports, server): the one holding it, or the empty one it would go in. */
  const legSlot = (tcp: boolean, ports: number, server: number): number => {
    for (let i = legKey(tcp, ports, server) & legMask; ; i = (i + 1) & legMask) {
      const other = legSlots[i]! - 1;
      if (other < 0 || (isTcp(other) === tcp && t.ports(other) === ports && t.words[other * FLOW_KEY + 4] === server)) return i;
    }
  };
  for (let row = 0; row < n; row++) {
    if (isV6(row) || !isClatIpv4(t.addressBytes(row, false, scratch), 0)) continue;
    // The last flow of a key wins, as a map's set would.
    legSlots[legSlot(isTcp(row), t.ports(row), t.words[row * FLOW_KEY + 4]!)] = row + 1;
  }
  const findLeg = (tcp: boolean, ports: number, server: number): number => legSlots[legSlot(tcp, ports, server)]! - 1;
  const twin = new Int32Array(n).fill(-1);
  const candidates = new AddressIndex();
  let matched = new Int32Array(64);
  let otherTraffic = new Uint8Array(64);
  // Where each candidate was first seen (row, side): its text is printed only if it is a CLAT's.
  let firstRow = new Int32Array(64);
  let firstSide = new Uint8Array(64);
  const note = (row: number, server: boolean): number => {
    const before = candidates.size;
    const id = candidates.add(t.words, row * FLOW_KEY + (server ? 4 : 0));
    if (id >= matched.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: (length: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      matched = grow(matched, (l) => new Int32Array(l));
      otherTraffic = grow(otherTraffic, (l) => new Uint8Array(l));
      firstRow = grow(firstRow, (l) => new Int32Array(l));
      firstSide = grow(firstSide, (l) => new Uint8Array(l));
    }
    if (candidates.size > before) {
      firstRow[id] = row;
      firstSide[id] = server ? 1 : 0;
    }
    return id;
  };
  for (let row = 0; row < n; row++) {
    if (!isV6(row)) continue;
    const client = note(row, false);
    const p = prefixOf[row]!;
    if (p < 0) {
      otherTraffic[client] = 1;
      otherTraffic[note(row, true)] = 1;
      continue;
    }
    extractEmbeddedIpv4(prefixList[p]!, t.addressBytes(row, true, scratch), 0, embedded);
    const leg = findLeg(isTcp(row), t.ports(row), wordOf(embedded, 0));
    if (leg >= 0) {
      matched[client]!++;
      twin[row] = leg;
      twin[leg] = row;
    }
  }
  const clatText = new Set<string>(s.givenClat);
  const clatAddresses = [...clatText];
  const isClatAddress = new Uint8Array(candidates.size);
  const v6Words = new Int32Array(4);
  for (const given of clatText) {
    const bytes = parseAddress(given).bytes;
    for (let w = 0; w < 4; w++) v6Words[w] = wordOf(bytes, w * 4);
    const id = candidates.find(v6Words, 0);
    if (id >= 0) isClatAddress[id] = 1;
  }
  // Inferred addresses in the order they were first seen, as texts only for the few that are.
  for (let id = 0; id < candidates.size; id++) {
    if (matched[id]! > 0 && otherTraffic[id] === 0) {
      isClatAddress[id] = 1;
      const address = text(firstRow[id]!, firstSide[id] === 1);
      if (!clatText.has(address)) {
        clatText.add(address);
        clatAddresses.push(address);
      }
    }
  }
  const clientIsClat = (row: number): boolean => {
    const id = candidates.find(t.words, row * FLOW_KEY);
    return id >= 0 && isClatAddress[id] === 1;
  };
  // Twins count only where their IPv6 leg is a CLAT address.
  for (let row = 0; row < n; row++) {
    const other = twin[row]!;
    if (other < 0) continue;
    if (!clientIsClat(isV6(row) ? row : other)) twin[row] = -1;
  }

  // --- Paths and hostnames.
  const path = new Uint8Array(n);
  const hostname = new Int32Array(n).fill(-1);
  const fromDns = new Uint8Array(n);
  const table = s.addresses;
  const answered = (id: number) => id >= 0 && table.answerName[id]! >= 0;
  const w = t.words;
  for (let row = 0; row < n; row++) {
    // The server's address in the table of answered addresses, looked up by its words.
    let address = -1;
    const at = row * FLOW_KEY + 4;
    if (!isV6(row)) {
      path[row] = isClatIpv4(t.addressBytes(row, false, scratch), 0) || isClatIpv4(t.addressBytes(row, true, scratch), 0) ? CLAT : NATIVE_V4;
      address = table.find(4, w[at]!, 0, 0, 0);
    } else {
      const p = prefixOf[row]!;
      address = table.find(6, w[at]!, w[at + 1]!, w[at + 2]!, w[at + 3]!);
      if (p < 0) path[row] = NATIVE_V6;
      else {
        path[row] = clientIsClat(row) ? CLAT : NAT64;
        if (!answered(address)) {
          extractEmbeddedIpv4(prefixList[p]!, t.addressBytes(row, true, scratch), 0, embedded);
          address = table.find(4, wordOf(embedded, 0), 0, 0, 0);
        }
      }
    }
    const sni = t.sni[row]!;
    const resolved = answered(address) ? hostnameAt(table, s.moreAnswers, address, t.firstTs[row]!, sni) : -1;
    if (resolved >= 0) {
      hostname[row] = resolved;
      fromDns[row] = 1;
    } else hostname[row] = sni;
  }

  // --- Hostnames: every name DNS spoke of and every name a flow went to, in natural order.
  const nameCount = s.names.size;
  const perName = new Int32Array(nameCount + 1);
  const counted = (row: number) => hostname[row]! >= 0 && t.application[row] !== APP_DNS && !(twin[row]! >= 0 && !isV6(row)); // one socket through the CLAT is one attempt: its IPv6 leg stands for it
  for (let row = 0; row < n; row++) if (counted(row)) perName[hostname[row]! + 1]!++;
  for (let i = 1; i <= nameCount; i++) perName[i]! += perName[i - 1]!;
  const byName = new Int32Array(perName[nameCount]!);
  const fill = perName.slice(0, nameCount);
  for (let row = 0; row < n; row++) if (counted(row)) byName[fill[hostname[row]!]!++] = row;
  const ipv4onlyId = s.names.find(IPV4ONLY_ARPA);
  const listed: number[] = [];
  for (const id of s.factNames) if (id !== ipv4onlyId) listed.push(id);
  for (let id = 0; id < nameCount; id++) {
    if (id !== ipv4onlyId && perName[id + 1]! > perName[id]! && (s.nameQueried[id]! & (1 << 31)) === 0) listed.push(id);
  }
  // Sorted by the names' bytes: no string per name (they kept V8's young generation at its largest).
  const order = Int32Array.from(listed).sort((a, b) => s.names.compare(a, b));
  listed.length = 0;

  const established = (row: number): boolean | null =>
    !isTcp(row) || (t.flags[row]! & (FLOW.SYN | FLOW.SYN_ACK)) === 0 ? null : (t.flags[row]! & FLOW.ESTABLISHED) !== 0;
  const socketFamily = (row: number): 4 | 6 => (path[row] === CLAT || path[row] === NATIVE_V4 ? 4 : 6);

  const flow = (id: number): Flow => {
    const flags = t.flags[id]!;
    const finAt = t.serverFinAt[id]!;
    const sni = t.sni[id]!;
    const host = hostname[id]!;
    const ports = t.ports(id);
    return {
      id,
      transport: isTcp(id) ? 'tcp' : 'udp',
      family: isV6(id) ? 6 : 4,
      client: text(id, false),
      clientPort: ports >>> 16,
      server: text(id, true),
      serverPort: ports & 0xffff,
      packets: t.packets[id]!,
      bytes: t.bytes[id]!,
      firstTs: t.firstTs[id]!,
      lastTs: t.lastTs[id]!,
      path: PATHS[path[id]!]!,
      established: established(id),
      reset: (flags & FLOW.RESET) !== 0,
      clientPayloadBytes: t.clientPayload[id]!,
      // The server's FIN takes a sequence number too, no byte of data: an ACK past it counts
      // only the bytes before it. A FIN the client never acknowledged takes nothing off.
      serverBytesAcked: !isTcp(id) || (flags & FLOW.ISN) === 0 ? null : finAt < 0 ? t.serverAcked[id]! : Math.min(t.serverAcked[id]!, finAt),
      hostname: host < 0 ? null : s.names.text(host),
      hostnameSource: fromDns[id] === 1 ? 'dns' : sni >= 0 ? 'sni' : null,
      sni: sni < 0 ? null : s.names.text(sni),
      application: APPLICATIONS[t.application[id]!]!,
      twin: twin[id]! < 0 ? null : twin[id]!,
    };
  };

  /** A name as printableJson writes it, its bytes copied when plain, -1 as null. */
  const writeName = (o: JsonBytes, id: number): void => {
    if (id < 0) o.ascii('null');
    else if (s.names.plain(id)) o.quoted(s.names.bytesOf(id));
    else o.string(s.names.text(id));
  };
  const writeFlow = (id: number, o: JsonBytes): void => {
    const flags = t.flags[id]!;
    const finAt = t.serverFinAt[id]!;
    const sni = t.sni[id]!;
    const host = hostname[id]!;
    const ports = t.ports(id);
    const tcp = isTcp(id);
    const est = established(id);
    const app = APPLICATIONS[t.application[id]!]!;
    o.ascii('{"id":');
    o.number(id);
    o.ascii(tcp ? ',"transport":"tcp","family":' : ',"transport":"udp","family":');
    const family = isV6(id) ? 6 : 4;
    o.ascii(family === 6 ? '6,"client":"' : '4,"client":"');
    o.address(t.addressBytes(id, false, scratch), 0, family);
    o.ascii('","clientPort":');
    o.number(ports >>> 16);
    o.ascii(',"server":"');
    o.address(t.addressBytes(id, true, scratch), 0, family);
    o.ascii('","serverPort":');
    o.number(ports & 0xffff);
    o.ascii(',"packets":');
    o.number(t.packets[id]!);
    o.ascii(',"bytes":');
    o.number(t.bytes[id]!);
    o.ascii(',"firstTs":');
    o.number(t.firstTs[id]!);
    o.ascii(',"lastTs":');
    o.number(t.lastTs[id]!);
    o.ascii(PATH_JSON[path[id]!]!);
    o.ascii(est === null ? ',"established":null,"reset":' : est ? ',"established":true,"reset":' : ',"established":false,"reset":');
    o.ascii((flags & FLOW.RESET) !== 0 ? 'true,"clientPayloadBytes":' : 'false,"clientPayloadBytes":');
    o.number(t.clientPayload[id]!);
    o.ascii(',"serverBytesAcked":');
    if (!tcp || (flags & FLOW.ISN) === 0) o.ascii('null');
    else o.number(finAt < 0 ? t.serverAcked[id]! : Math.min(t.serverAcked[id]!, finAt));
    o.ascii(',"hostname":');
    writeName(o, host);
    o.ascii(fromDns[id] === 1 ? ',"hostnameSource":"dns","sni":' : sni >= 0 ? ',"hostnameSource":"sni","sni":' : ',"hostnameSource":null,"sni":');
    writeName(o, sni);
    o.ascii(app === null ? ',"application":null,"twin":' : `,"application":"${app}","twin":`);
    if (twin[id]! < 0) o.ascii('null}');
    else {
      o.number(twin[id]!);
      o.ascii('}');
    }
  };

  const d = s.dns;
  const answerSpellings = (i: number): string[] => {
    const start = d.answers[i]!;
    const out: string[] = [];
    for (let k = 0; k < (start < 0 ? 0 : d.answerCount[i]!); k++) {
      const address = d.answerPool.values[start + k]!;
      out.push(spellAnswer(table.bytesOf(address, scratch), 0, table.family[address] === 6 ? 6 : 4));
    }
    return out;
  };
  const dnsQuery = (i: number): DnsQuery => ({
    ts: d.ts[i]!,
    id: d.id[i]!,
    name: s.names.text(d.name[i]!),
    qtype: s.qtypes[d.qtype[i]!]!,
    rcode: d.rcode[i]! < 0 ? null : s.rcodes[d.rcode[i]!]!,
    answers: answerSpellings(i),
    transport: d.transport[i] === 1 ? 'tcp' : 'udp',
    flow: d.flow[i]!,
  });

  const writeDnsQuery = (i: number, o: JsonBytes): void => {
    o.ascii('{"ts":');
    o.number(d.ts[i]!);
    o.ascii(',"id":');
    o.number(d.id[i]!);
    o.ascii(',"name":');
    writeName(o, d.name[i]!);
    o.ascii(',"qtype":');
    o.string(s.qtypes[d.qtype[i]!]!);
    o.ascii(',"rcode":');
    const rcode = d.rcode[i]!;
    o.string(rcode < 0 ? null : s.rcodes[rcode]!);
    o.ascii(',"answers":[');
    const start = d.answers[i]!;
    for (let k = 0; k < (start < 0 ? 0 : d.answerCount[i]!); k++) {
      const address = d.answerPool.values[start + k]!;
      o.ascii(k === 0 ? '"' : ',"');
      o.ascii(spellAnswer(table.bytesOf(address, scratch), 0, table.family[address] === 6 ? 6 : 4));
      o.ascii('"');
    }
    o.ascii(d.transport[i] === 1 ? '],"transport":"tcp","flow":' : '],"transport":"udp","flow":');
    o.number(d.flow[i]!);
    o.ascii('}');
  };

  /** The kind of the answered address `address` (AddressTable id), its bytes left in `scratch`. */
  const answerKind = (address: number): number => {
    const bytes = table.bytesOf(address, scratch);
    return table.family[address] === 4 ? A : nat64Of(bytes) === null ? NATIVE_AAAA : SYNTHESIZED_AAAA;
  };
  /** First link of name `id`'s chain of answered addresses (then chains.next), -1: none. */
  const chains = s.nameAnswers;
  const firstAnswer = (id: number): number => (id < chains.head.length ? chains.head[id]! : -1);

  const hasNativeAaaa = (index: number): boolean => {
    for (let link = firstAnswer(order[index]!); link >= 0; link = chains.next.values[link]!) {
      if (answerKind(chains.address.values[link]!) === NATIVE_AAAA) return true;
    }
    return false;
  };

  // The attempts of the name being written or built, first first, in attempts[0..attemptCount).
  let attempts = new Int32Array(64);
  let attemptCount = 0;
  const sortAttempts = (id: number): void => {
    const from = perName[id]!;
    attemptCount = perName[id + 1]! - from;
    if (attemptCount > attempts.length) attempts = new Int32Array(attemptCount * 2);
    let inOrder = true;
    for (let i = 0; i < attemptCount; i++) {
      attempts[i] = byName[from + i]!;
      if (i > 0 && t.firstTs[attempts[i]!]! < t.firstTs[attempts[i - 1]!]!) inOrder = false;
    }
    // Rows are made in capture order, so nearly always already sorted; else a stable sort.
    if (!inOrder) attempts.set(Array.from(attempts.subarray(0, attemptCount)).sort((a, b) => t.firstTs[a]! - t.firstTs[b]!));
  };
  /** The first attempt of `family` among the sorted attempts, -1: none. */
  const firstOf = (family: 4 | 6): number => {
    for (let i = 0; i < attemptCount; i++) if (socketFamily(attempts[i]!) === family) return attempts[i]!;
    return -1;
  };
  const ipv6Failed = (): boolean => {
    for (let i = 0; i < attemptCount; i++) {
      const f = attempts[i]!;
      if (socketFamily(f) === 6 && isTcp(f) && established(f) === false) return true;
    }
    return false;
  };
  const fallbackDelayMs = (firstV6: number, firstV4: number): number | null =>
    firstV6 >= 0 && firstV4 >= 0 && t.firstTs[firstV4]! >= t.firstTs[firstV6]! ? Math.round((t.firstTs[firstV4]! - t.firstTs[firstV6]!) * 1e6) / 1e3 : null;
  const queriedTypes = (id: number): string[] => {
    const queried: string[] = [];
    const mask = s.nameQueried[id] ?? 0;
    for (let q = 0; q < 31; q++) if (mask & (1 << q)) queried.push(s.qtypes[q]!);
    for (const q of s.nameQueriedMore.get(id) ?? []) queried.push(s.qtypes[q]!);
    return queried.sort();
  };

  const hostnameFacts = (index: number): HostnameFacts => {
    const id = order[index]!;
    sortAttempts(id);
    const lists: [string[], string[], string[]] = [[], [], []];
    for (let link = firstAnswer(id); link >= 0; link = chains.next.values[link]!) {
      const address = chains.address.values[link]!;
      const kind = answerKind(address);
      lists[kind]!.push(formatAddress(scratch, 0, kind === A ? 4 : 6));
    }
    const first = attemptCount === 0 ? -1 : attempts[0]!;
    const firstV6 = firstOf(6);
    const firstV4 = firstOf(4);
    const ts = (row: number) => (row < 0 ? null : t.firstTs[row]!);
    return {
      name: s.names.text(id),
      queried: queriedTypes(id),
      a: lists[A],
      nativeAaaa: lists[NATIVE_AAAA],
      synthesizedAaaa: lists[SYNTHESIZED_AAAA],
      flows: Array.from(attempts.subarray(0, attemptCount)),
      firstAttemptFamily: first < 0 ? null : socketFamily(first),
      firstAttemptTs: ts(first),
      firstIpv6AttemptTs: ts(firstV6),
      firstIpv4AttemptTs: ts(firstV4),
      fallbackDelayMs: fallbackDelayMs(firstV6, firstV4),
      ipv6Failed: ipv6Failed(),
    };
  };

  /** printableJson(hostnameFacts(index)), written from the columns: no object, no address text. */
  const writeHostnameAt = (index: number, o: JsonBytes): void => {
    const id = order[index]!;
    sortAttempts(id);
    o.ascii('{"name":');
    writeName(o, id);
    o.ascii(',"queried":');
    o.list(queriedTypes(id));
    for (const [kind, key] of HOSTNAME_ANSWER_KEYS) {
      o.ascii(key);
      let listed = 0;
      for (let link = firstAnswer(id); link >= 0; link = chains.next.values[link]!) {
        const address = chains.address.values[link]!;
        if (answerKind(address) !== kind) continue;
        o.ascii(listed++ === 0 ? '"' : ',"');
        o.address(scratch, 0, kind === A ? 4 : 6);
        o.ascii('"');
      }
      o.ascii(']');
    }
    o.ascii(',"flows":[');
    for (let i = 0; i < attemptCount; i++) {
      if (i > 0) o.ascii(',');
      o.number(attempts[i]!);
    }
    const nullable = (x: number | null) => (x === null ? o.ascii('null') : o.number(x));
    const first = attemptCount === 0 ? -1 : attempts[0]!;
    const firstV6 = firstOf(6);
    const firstV4 = firstOf(4);
    o.ascii('],"firstAttemptFamily":');
    nullable(first < 0 ? null : socketFamily(first));
    o.ascii(',"firstAttemptTs":');
    nullable(first < 0 ? null : t.firstTs[first]!);
    o.ascii(',"firstIpv6AttemptTs":');
    nullable(firstV6 < 0 ? null : t.firstTs[firstV6]!);
    o.ascii(',"firstIpv4AttemptTs":');
    nullable(firstV4 < 0 ? null : t.firstTs[firstV4]!);
    o.ascii(',"fallbackDelayMs":');
    nullable(fallbackDelayMs(firstV6, firstV4));
    o.ascii(ipv6Failed() ? ',"ipv6Failed":true}' : ',"ipv6Failed":false}');
  };

  // --- Totals by path; a CLAT socket seen as both legs is counted once, by its IPv6 leg (what crossed the air).
  const bytesByPath = emptyTotals();
  const flowsByPath = emptyTotals();
  let total = 0;
  for (let row = 0; row < n; row++) {
    if (twin[row]! >= 0 && !isV6(row)) continue;
    const p = PATHS[path[row]!]!;
    bytesByPath[p] += t.bytes[row]!;
    flowsByPath[p]++;
    total += t.bytes[row]!;
  }
  const warnings = [...s.warnings];
  const u = s.unlisted;
  if (u !== null) {
    bytesByPath['native-v6'] += u.nativeV6;
    bytesByPath['native-v4'] += u.nativeV4;
    let clatV6 = 0;
    for (const [client, bytes] of u.nat64ByClient) {
      const address = client === '' ? '' : formatAddress(Buffer.from(client, 'hex'), 0, 6);
      if (address !== '' && clatText.has(address)) clatV6 += bytes;
      else bytesByPath.nat64 += bytes;
    }
    bytesByPath.clat += clatV6;
    // The IPv4 legs of CLAT sockets whose IPv6 legs were counted are the same bytes seen twice.
    const clatV4 = clatV6 > 0 ? 0 : u.clatV4;
    bytesByPath.clat += clatV4;
    total += u.nativeV6 + u.nativeV4 + clatV4 + [...u.nat64ByClient.values()].reduce((a, b) => a + b, 0);
    warnings.push(
      `--max-memory ${Math.round(s.maxMemory / 2 ** 20)} MiB reached at packet ${u.atPacket}: ${u.packets} packet${u.packets === 1 ? '' : 's'} (${u.bytes} bytes) of flows first seen after it ` +
        `are counted by path in the summary, approximately (the path from each packet alone; flowsByPath counts listed flows only), but not listed in flows; ` +
        `${u.dnsQueries} DNS quer${u.dnsQueries === 1 ? 'y' : 'ies'} not listed; ${u.clientHellos} ClientHello${u.clientHellos === 1 ? '' : 's'} not read. Raise --max-memory to list everything`,
    );
  }
  const shareByPath = emptyTotals();
  for (const p of PATHS) shareByPath[p] = total === 0 ? 0 : bytesByPath[p] / total;

  return {
    capture: {
      format: s.format,
      linkTypes: [...s.linkTypes],
      packets: s.packets,
      bytes: s.bytes,
      firstTs: s.packets === 0 ? null : s.firstTs,
      lastTs: s.packets === 0 ? null : s.lastTs,
      duplicates: s.duplicates,
      warnings,
      unlisted:
        u === null
          ? null
          : { maxMemory: s.maxMemory, atPacket: u.atPacket, packets: u.packets, bytes: u.bytes, dnsQueries: u.dnsQueries, clientHellos: u.clientHellos },
    },
    nat64Prefixes: [...prefixes.keys()],
    nat64PrefixSources: Object.fromEntries([...prefixes].map(([p, e]) => [p, e.source])),
    pref64: s.pref64.evidence(),
    clatAddresses,
    flowCount: n,
    flow,
    flowBytes: (id) => t.bytes[id]!,
    writeFlow,
    writeDnsQuery,
    writeHostname: writeHostnameAt,
    dnsCount: d.size,
    dnsQuery,
    hostnameCount: order.length,
    hostname: hostnameFacts,
    hostnameHasNativeAaaa: hasNativeAaaa,
    summary: {
      bytesByPath,
      flowsByPath,
      shareByPath,
      icmpPackets: { v4: s.icmp4, v6: s.icmp6 },
      otherIpPackets: s.otherIp,
      nonIpPackets: s.nonIp,
    },
  };
}

/**
 * The name whose answer gave the address last before `ts` (or the first one after). Several names
 * often share an address (a CDN): the flow's SNI, when one of them, says which it was for.
 */
function hostnameAt(table: AddressTable, moreAnswers: ReadonlyMap<number, AddressAnswers>, address: number, ts: number, sni: number): number {
  const answers = moreAnswers.get(address);
  if (answers === undefined) return table.answerName[address]!;
  const { times, names } = answers;
  if (sni >= 0 && (answers.nameSet !== null ? answers.nameSet.has(sni) : names.includes(sni))) return sni;
  // The last answer at or before ts (times are in capture order), else the first.
  let low = 0;
  let high = times.length - 1;
  let best = 0;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (times[mid]! <= ts) {
      best = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return names[best]!;
}

/** The whole analysis as one object (every flow, query and hostname built). */
export function materialize(doc: AnalysisDocument): CaptureAnalysis {
  const flows: Flow[] = new Array(doc.flowCount);
  for (let i = 0; i < doc.flowCount; i++) flows[i] = doc.flow(i);
  const dns: DnsQuery[] = new Array(doc.dnsCount);
  for (let i = 0; i < doc.dnsCount; i++) dns[i] = doc.dnsQuery(i);
  const hostnames: HostnameFacts[] = new Array(doc.hostnameCount);
  for (let i = 0; i < doc.hostnameCount; i++) hostnames[i] = doc.hostname(i);
  return {
    capture: doc.capture,
    nat64Prefixes: doc.nat64Prefixes,
    nat64PrefixSources: doc.nat64PrefixSources,
    pref64: doc.pref64,
    clatAddresses: doc.clatAddresses,
    flows,
    dns,
    hostnames,
    summary: doc.summary,
  };
}

/** A whole analysis seen as a document (one code path prints both). */
export function documentOf(a: CaptureAnalysis): AnalysisDocument {
  return {
    capture: a.capture,
    nat64Prefixes: a.nat64Prefixes,
    nat64PrefixSources: a.nat64PrefixSources,
    pref64: a.pref64,
    clatAddresses: a.clatAddresses,
    flowCount: a.flows.length,
    flow: (id) => a.flows[id]!,
    flowBytes: (id) => a.flows[id]!.bytes,
    writeFlow: (id, out) => out.value(a.flows[id]),
    writeHostname: (i, out) => out.value(a.hostnames[i]),
    writeDnsQuery: (i, out) => out.value(a.dns[i]),
    dnsCount: a.dns.length,
    dnsQuery: (i) => a.dns[i]!,
    hostnameCount: a.hostnames.length,
    hostname: (i) => a.hostnames[i]!,
    hostnameHasNativeAaaa: (i) => a.hostnames[i]!.nativeAaaa.length > 0,
    summary: a.summary,
  };
}
