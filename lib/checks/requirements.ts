/**
 * Every check v6lab runs, with the clauses it proves: the one catalogue the specs, the results
 * and the reports read, so a check id, its test-case id and its meaning never drift apart.
 *
 * Requirements are clauses, not whole documents (issue 18): an item of the MIIT notice, a
 * recommendation of RFC 7849 (its own labels, C_REC#n and A_REC#n), a section of RFC 6877, 7050,
 * 8305, 8781 or 8981, or a section of the YD/T test method named by its title (we have not seen
 * YD/T 3269's or YD/T 3252's clause numbers, and never guess one). A check names only the clauses
 * its pass really shows; a clause no check proves yet says why (`notChecked`).
 * docs/requirements.md is the traceability table and says how ids are formed.
 */
import type { Lang, Localized } from './lang.js';

export interface Requirement {
  /** Stable; letters, digits, `_` and `-` only, so it is safe in an HTML id and a file name. */
  id: string;
  /** The document the clause is in. */
  document: Localized;
  /**
   * The clause's number or label as the document prints it (`(3)`, `C_REC#2`, `4.2`), or null
   * where we have not seen the number and name the section by its title instead.
   */
  clauseNumber: string | null;
  /** The clause as a reader finds it in the document: number and heading, or heading alone. */
  clause: Localized;
  title: Localized;
  /** What the clause asks, in our own words (1-3 sentences), printed in full in the reports. */
  summary: Localized;
  /** Where to read it, for a reader who wants the source (English, with the address). */
  source: string;
  /** Why no check of v6lab proves it yet; present exactly when no check names it. */
  notChecked?: Localized;
}

/** A requirement id an older results.json carries (a whole document), shown with the clauses that replaced it. */
export interface LegacyRequirement extends Requirement {
  /** The clause-level ids that replaced this whole-document id. */
  replacedBy: readonly RequirementId[];
}

const MIIT_DOCUMENT: Localized = {
  en: 'MIIT notice on implementing the IPv6 scale deployment action plan (2018)',
  'zh-CN': '工业和信息化部关于贯彻落实《推进互联网协议第六版（IPv6）规模部署行动计划》的通知（2018）',
};
const MIIT_SOURCE = 'MIIT notice on implementing the Action Plan for Advancing IPv6 Scale Deployment, 工信部通信〔2018〕77号 (25 April 2018)';

const rfc = (n: number): Localized => ({ en: `RFC ${n}`, 'zh-CN': `RFC ${n}` });
const section = (number: string, heading: string, zhHeading: string): Localized => ({
  en: `Section ${number} ${heading}`,
  'zh-CN': `第 ${number} 节 ${zhHeading}`,
});
const YDT3269_DOCUMENT: Localized = { en: 'YD/T 3269 (terminal IPv6 test methods)', 'zh-CN': 'YD/T 3269（终端 IPv6 测试方法）' };
/** We name YD/T sections by title: their numbers were not seen, and a guessed number would mislead an auditor. */
const byTitle = (en: string, zh: string): Localized => ({
  en: `the tests of ${en} (by title: clause number not seen)`,
  'zh-CN': `“${zh}”相关测试（按标题引用：未见条款编号）`,
});

export const REQUIREMENTS = {
  // MIIT notice items, as /work/shared notes list them.
  'MIIT-1': {
    id: 'MIIT-1',
    document: MIIT_DOCUMENT,
    clauseNumber: '(1)',
    clause: { en: 'Item (1)', 'zh-CN': '第（1）项' },
    title: { en: 'LTE networks give mobile users IPv6', 'zh-CN': 'LTE 网络为移动用户提供 IPv6' },
    summary: {
      en: "The carrier's LTE core, access and bearer networks carry IPv6, and a mobile user's data connection gets an IPv6 address.",
      'zh-CN': '运营商的 LTE 核心网、接入网和承载网支持 IPv6，移动用户的数据连接能获得 IPv6 地址。',
    },
    source: `${MIIT_SOURCE}, item (1)`,
  },
  'MIIT-2': {
    id: 'MIIT-2',
    document: MIIT_DOCUMENT,
    clauseNumber: '(2)',
    clause: { en: 'Item (2)', 'zh-CN': '第（2）项' },
    title: { en: 'Top apps reach users over IPv6, IPv6 first', 'zh-CN': '主流应用通过 IPv6 访问，IPv6 优先' },
    summary: {
      en: "Carriers' own services and the top mobile apps, with their servers, are reachable over IPv6, and the apps prefer IPv6 when both families work.",
      'zh-CN': '运营商自营业务和排名靠前的移动应用（含其服务器）可通过 IPv6 访问；在 IPv4 和 IPv6 都可用时，应用优先使用 IPv6。',
    },
    source: `${MIIT_SOURCE}, item (2)`,
  },
  'MIIT-3': {
    id: 'MIIT-3',
    document: MIIT_DOCUMENT,
    clauseNumber: '(3)',
    clause: { en: 'Item (3)', 'zh-CN': '第（3）项' },
    title: { en: 'New handsets are dual-stack by factory default', 'zh-CN': '新入网终端出厂默认支持 IPv4/IPv6 双栈' },
    summary: {
      en: 'New mobile terminals support IPv4/IPv6 dual stack in their factory default configuration; terminals already in use gain it by a software update.',
      'zh-CN': '新入网的移动终端在出厂默认配置下即支持 IPv4/IPv6 双栈；已在网终端通过软件升级获得该能力。',
    },
    source: `${MIIT_SOURCE}, item (3)`,
  },
  'MIIT-4': {
    id: 'MIIT-4',
    document: MIIT_DOCUMENT,
    clauseNumber: '(4)',
    clause: { en: 'Item (4)', 'zh-CN': '第（4）项' },
    title: { en: "Carriers' networks interwork over IPv6 with other carriers' app servers", 'zh-CN': '运营商网络与其他运营商的应用服务器实现 IPv6 互通' },
    summary: {
      en: "A carrier's LTE network reaches the top apps' servers hosted on other carriers' networks over IPv6, and selected apps reach each other over IPv6 across networks.",
      'zh-CN': '运营商的 LTE 网络能通过 IPv6 访问托管在其他运营商网络中的主流应用服务器，选定的应用之间也能跨网络通过 IPv6 互访。',
    },
    source: `${MIIT_SOURCE}, item (4)`,
    notChecked: {
      en: "A property of carriers' networks between each other: a v6lab run sees one network (the lab's, or the SIM's carrier), not the interconnection.",
      'zh-CN': '这是运营商网络之间互通的属性：v6lab 一次测试只接触一个网络（实验室网络或 SIM 卡所属运营商），看不到网间互联。',
    },
  },
  'MIIT-21': {
    id: 'MIIT-21',
    document: MIIT_DOCUMENT,
    clauseNumber: '(21)',
    clause: { en: 'Item (21)', 'zh-CN': '第（21）项' },
    title: { en: 'A monitoring platform for IPv6 indicators', 'zh-CN': '建设 IPv6 发展监测平台' },
    summary: {
      en: 'A platform monitors IPv6 indicators of networks, apps, terminals, users and traffic.',
      'zh-CN': '建设监测平台，跟踪网络、应用、终端、用户和流量等方面的 IPv6 发展指标。',
    },
    source: `${MIIT_SOURCE}, item (21)`,
    notChecked: {
      en: "A duty of the regulator's platform, not of a handset: v6lab's results (IPv6 share, verdicts per terminal and app) are figures such a platform could take in, but no check proves the platform.",
      'zh-CN': '这是监管平台的职责，不是终端的要求：v6lab 的结果（IPv6 流量占比、各终端和应用的结论）可以作为该平台的数据来源，但没有哪项检查能证明平台本身。',
    },
  },

  // RFC 7849 labels its recommendations C_REC#n (connectivity), L_REC#n (LAN) and A_REC#n (advanced).
  'RFC7849-C_REC1': {
    id: 'RFC7849-C_REC1',
    document: rfc(7849),
    clauseNumber: 'C_REC#1',
    clause: { en: 'Section 2, C_REC#1', 'zh-CN': '第 2 节 C_REC#1' },
    title: { en: 'Both IPv6 and IPv4v6 PDP contexts supported', 'zh-CN': '同时支持 IPv6 和 IPv4v6 类型的 PDP 上下文' },
    summary: {
      en: 'The handset can open both an IPv6 PDP context (PDN connection) and an IPv4v6 one, so each operator can choose its own way into IPv6.',
      'zh-CN': '终端既能建立 IPv6 类型的 PDP 上下文（PDN 连接），也能建立 IPv4v6 类型的，以便各运营商自行选择 IPv6 引入方式。',
    },
    source: 'RFC 7849, section 2, C_REC#1 (https://www.rfc-editor.org/rfc/rfc7849#section-2)',
  },
  'RFC7849-C_REC2': {
    id: 'RFC7849-C_REC2',
    document: rfc(7849),
    clauseNumber: 'C_REC#2',
    clause: { en: 'Section 2, C_REC#2', 'zh-CN': '第 2 节 C_REC#2' },
    title: { en: 'A dual-stack handset asks for IPv4v6 by default', 'zh-CN': '双栈终端默认请求 IPv4v6 类型' },
    summary: {
      en: 'A dual-stack handset requests an IPv4v6 PDP context by default (an IPv6-only one requests IPv6), and follows the 3GPP rules when the network allows only one family.',
      'zh-CN': '双栈终端默认请求 IPv4v6 类型的 PDP 上下文（纯 IPv6 终端请求 IPv6 类型）；网络只允许单一地址族时，按 3GPP 规范处理。',
    },
    source: 'RFC 7849, section 2, C_REC#2 (https://www.rfc-editor.org/rfc/rfc7849#section-2)',
  },
  'RFC7849-C_REC3': {
    id: 'RFC7849-C_REC3',
    document: rfc(7849),
    clauseNumber: 'C_REC#3',
    clause: { en: 'Section 2, C_REC#3', 'zh-CN': '第 2 节 C_REC#3' },
    title: { en: 'IPv6 DNS servers learnt from PCO', 'zh-CN': '通过 PCO 获取 IPv6 DNS 服务器' },
    summary: {
      en: "The handset reads the IPv6 addresses of its recursive DNS servers from the network's Protocol Configuration Options.",
      'zh-CN': '终端从网络下发的协议配置选项（PCO）中读取递归 DNS 服务器的 IPv6 地址。',
    },
    source: 'RFC 7849, section 2, C_REC#3 (https://www.rfc-editor.org/rfc/rfc7849#section-2)',
    notChecked: {
      en: 'os.dual-stack-attach and apn.ipv6-only-attach see that an IPv6 DNS server is configured, but not whether it came from PCO or from a router advertisement.',
      'zh-CN': 'os.dual-stack-attach 和 apn.ipv6-only-attach 能看到终端配置了 IPv6 DNS 服务器，但分辨不出它来自 PCO 还是路由器通告。',
    },
  },
  'RFC7849-C_REC6': {
    id: 'RFC7849-C_REC6',
    document: rfc(7849),
    clauseNumber: 'C_REC#6',
    clause: { en: 'Section 2, C_REC#6', 'zh-CN': '第 2 节 C_REC#6' },
    title: { en: 'Separate home and roaming PDP types', 'zh-CN': '可分别配置归属网络和漫游时的 PDP 类型' },
    summary: {
      en: 'The handset can be configured with one PDP type at home and another when roaming, so a visited network that handles IPv6 badly does not break the data connection.',
      'zh-CN': '终端可以为归属网络和漫游分别配置 PDP 类型，避免拜访网络对 IPv6 支持不佳时数据连接失败。',
    },
    source: 'RFC 7849, section 2, C_REC#6 (https://www.rfc-editor.org/rfc/rfc7849#section-2)',
  },
  'RFC7849-C_REC7': {
    id: 'RFC7849-C_REC7',
    document: rfc(7849),
    clauseNumber: 'C_REC#7',
    clause: { en: 'Section 2, C_REC#7', 'zh-CN': '第 2 节 C_REC#7' },
    title: { en: 'The handset learns the NAT64 prefix (PREFIX64)', 'zh-CN': '终端能获知 NAT64 前缀（PREFIX64）' },
    summary: {
      en: 'On an IPv6-only network the handset learns the NAT64 prefix (by RFC 7050, or PCP where deployed), so it can build IPv4-embedded IPv6 addresses and tell translated addresses from native ones.',
      'zh-CN':
        '在纯 IPv6 网络中，终端应获知 NAT64 前缀（通过 RFC 7050，或在部署了 PCP 的网络中通过 PCP），从而能自行合成内嵌 IPv4 的 IPv6 地址，并区分转换地址与原生 IPv6 地址。',
    },
    source: 'RFC 7849, section 2, C_REC#7 (https://www.rfc-editor.org/rfc/rfc7849#section-2)',
  },
  'RFC7849-C_REC8': {
    id: 'RFC7849-C_REC8',
    document: rfc(7849),
    clauseNumber: 'C_REC#8',
    clause: { en: 'Section 2, C_REC#8', 'zh-CN': '第 2 节 C_REC#8' },
    title: { en: 'A CLAT on the handset, only without native IPv4', 'zh-CN': '终端内置 CLAT，且仅在没有原生 IPv4 时启用' },
    summary: {
      en: 'On an IPv6-only network the handset runs the RFC 6877 CLAT so IPv4-only apps and IPv4 literals keep working; it invokes the CLAT only when the cellular interface has no IPv4 address.',
      'zh-CN': '在纯 IPv6 网络中，终端运行 RFC 6877 定义的 CLAT，使仅支持 IPv4 的应用和 IPv4 地址字面量仍能工作；只有蜂窝接口没有 IPv4 地址时才启用 CLAT。',
    },
    source: 'RFC 7849, section 2, C_REC#8 (https://www.rfc-editor.org/rfc/rfc7849#section-2)',
  },
  'RFC7849-A_REC4': {
    id: 'RFC7849-A_REC4',
    document: rfc(7849),
    clauseNumber: 'A_REC#4',
    clause: { en: 'Section 4, A_REC#4', 'zh-CN': '第 4 节 A_REC#4' },
    title: { en: 'Native IPv6 preferred over translated paths', 'zh-CN': '双栈时优先使用原生 IPv6，而不是经过转换的路径' },
    summary: {
      en: 'A handset connected with both IPv4 and IPv6 prefers a native IPv6 connection over one through a translator (NAT44, NAT64), asks its IPv6 DNS server first, and selects source addresses by RFC 6724.',
      'zh-CN':
        '同时具有 IPv4 和 IPv6 连接的终端，应优先使用原生 IPv6 连接，而不是经过 NAT44 或 NAT64 等转换设备的连接；先向 IPv6 DNS 服务器查询，并按 RFC 6724 选择源地址。',
    },
    source: 'RFC 7849, section 4, A_REC#4 (https://www.rfc-editor.org/rfc/rfc7849#section-4)',
  },
  'RFC7849-5': {
    id: 'RFC7849-5',
    document: rfc(7849),
    clauseNumber: '5',
    clause: section('5', 'Security Considerations (privacy addresses)', '安全考虑（隐私地址）'),
    title: { en: 'IPv6 addresses that preserve privacy', 'zh-CN': '能生成保护隐私的 IPv6 地址' },
    summary: {
      en: 'The handset can generate IPv6 addresses that preserve privacy (for example RFC 7217 stable-privacy addresses), so it is harder to track than with a permanent interface identifier.',
      'zh-CN': '终端能够生成保护隐私的 IPv6 地址（例如 RFC 7217 的稳定隐私地址），比使用固定接口标识符更难被跟踪。',
    },
    source: 'RFC 7849, section 5 (https://www.rfc-editor.org/rfc/rfc7849#section-5)',
  },

  'RFC6877-4_2': {
    id: 'RFC6877-4_2',
    document: rfc(6877),
    clauseNumber: '4.2',
    clause: section('4.2', 'Wireless 3GPP Network Architecture', '3GPP 无线网络架构'),
    title: { en: "The handset's CLAT gives apps IPv4 on an IPv6-only connection", 'zh-CN': '终端上的 CLAT 在纯 IPv6 连接上为应用提供 IPv4' },
    summary: {
      en: 'The CLAT on the handset gives the local stack a private IPv4 address and an IPv4 default route over the IPv6-only PDP context; IPv4 traffic is translated on the handset (CLAT) and again in the network (PLAT).',
      'zh-CN':
        '终端上的 CLAT 在纯 IPv6 的 PDP 上下文之上，为本机协议栈提供私有 IPv4 地址和 IPv4 默认路由；IPv4 流量先在终端（CLAT）转换，再在网络侧（PLAT）转换回 IPv4。',
    },
    source: 'RFC 6877, section 4.2 (https://www.rfc-editor.org/rfc/rfc6877#section-4.2)',
  },
  'RFC6877-5_2': {
    id: 'RFC6877-5_2',
    document: rfc(6877),
    clauseNumber: '5.2',
    clause: section('5.2', 'Wireless 3GPP Network Applicability', '3GPP 无线网络中的适用性'),
    title: { en: 'IPv4 literals and IPv4-only sockets work through the CLAT', 'zh-CN': 'IPv4 地址字面量和仅 IPv4 的套接字经 CLAT 可用' },
    summary: {
      en: "When an app connects to an IPv4 literal or through an IPv4-only socket, the handset routes it to its CLAT and on to the network's PLAT, so the IPv4-only destination is reached over the IPv6-only network.",
      'zh-CN': '当应用连接 IPv4 地址字面量或使用仅 IPv4 的套接字时，终端把流量交给 CLAT，再经网络侧 PLAT 转换，从而在纯 IPv6 网络上访问仅支持 IPv4 的目的地。',
    },
    source: 'RFC 6877, section 5.2 (https://www.rfc-editor.org/rfc/rfc6877#section-5.2)',
  },

  'RFC7050-3': {
    id: 'RFC7050-3',
    document: rfc(7050),
    clauseNumber: '3',
    clause: section('3', 'Node Behavior', '节点行为'),
    title: { en: 'NAT64 prefix discovery by ipv4only.arpa', 'zh-CN': '通过 ipv4only.arpa 发现 NAT64 前缀' },
    summary: {
      en: 'The node asks for the AAAA records of the well-known IPv4-only name ipv4only.arpa and takes the NAT64 prefix from where 192.0.0.170 or 192.0.0.171 sits in the synthesized answers.',
      'zh-CN': '节点查询知名纯 IPv4 域名 ipv4only.arpa 的 AAAA 记录，根据合成应答中 192.0.0.170 或 192.0.0.171 所在的位置推算出 NAT64 前缀。',
    },
    source: 'RFC 7050, section 3 (https://www.rfc-editor.org/rfc/rfc7050#section-3)',
  },

  'RFC8305-3': {
    id: 'RFC8305-3',
    document: rfc(8305),
    clauseNumber: '3',
    clause: section('3', 'Hostname Resolution Query Handling', '主机名解析查询的处理'),
    title: { en: 'Ask for AAAA as well as A', 'zh-CN': '同时查询 AAAA 和 A 记录' },
    summary: {
      en: 'A dual-stack client resolving a name asks for both AAAA and A records (the AAAA query first) and does not wait for the A answer before using IPv6 addresses.',
      'zh-CN': '双栈客户端解析域名时同时查询 AAAA 和 A 记录（先发 AAAA 查询），拿到 IPv6 地址后不必等待 A 记录应答即可开始连接。',
    },
    source: 'RFC 8305, section 3 (https://www.rfc-editor.org/rfc/rfc8305#section-3)',
  },
  'RFC8305-4': {
    id: 'RFC8305-4',
    document: rfc(8305),
    clauseNumber: '4',
    clause: section('4', 'Sorting Addresses', '地址排序'),
    title: { en: 'IPv6 destinations tried first', 'zh-CN': '优先尝试 IPv6 目的地址' },
    summary: {
      en: 'The client sorts the resolved addresses by RFC 6724 destination address selection, which puts IPv6 first on a working dual-stack network, and makes its first connection attempt to the top of that list.',
      'zh-CN': '客户端按 RFC 6724 的目的地址选择规则对解析结果排序（在正常的双栈网络中 IPv6 排在前面），并首先连接排在最前的地址。',
    },
    source: 'RFC 8305, section 4 (https://www.rfc-editor.org/rfc/rfc8305#section-4)',
  },
  'RFC8305-5': {
    id: 'RFC8305-5',
    document: rfc(8305),
    clauseNumber: '5',
    clause: section('5', 'Connection Attempts', '连接尝试'),
    title: { en: 'A short connection attempt delay before falling back', 'zh-CN': '回落前的连接尝试间隔要短' },
    summary: {
      en: 'While the IPv6 attempt has not succeeded, the client starts the next attempt after a Connection Attempt Delay (250 ms recommended, at least 100 ms, at most 2 s), so a broken IPv6 path costs the user little time.',
      'zh-CN':
        'IPv6 连接尚未成功时，客户端在“连接尝试间隔”（建议 250 毫秒，最短 100 毫秒，最长 2 秒）之后发起下一次尝试，使 IPv6 路径故障时用户几乎感觉不到延迟。',
    },
    source: 'RFC 8305, section 5 (https://www.rfc-editor.org/rfc/rfc8305#section-5)',
    notChecked: {
      en: 'Measured, not judged: apps.ipv6-first reports a slow fallback (SLOW_FALLBACK) as a warning, and a warned check still passes.',
      'zh-CN': '只测量、不判定：apps.ipv6-first 把回落过慢（SLOW_FALLBACK）记为警告，而带警告的检查仍算通过。',
    },
  },

  'RFC8781-5_1': {
    id: 'RFC8781-5_1',
    document: rfc(8781),
    clauseNumber: '5.1',
    clause: section('5.1', 'Handling Multiple NAT64 Prefixes', '多个 NAT64 前缀的处理'),
    title: { en: 'The PREF64 from router advertisements wins over RFC 7050', 'zh-CN': '路由器通告中的 PREF64 优先于 RFC 7050 发现的前缀' },
    summary: {
      en: 'When different NAT64 prefixes are learnt by several mechanisms, the host uses one source only, preferring PCP, then the PREF64 option of router advertisements, then RFC 7050; the prefix belongs to the interface it was received on.',
      'zh-CN': '当通过多种机制获知不同的 NAT64 前缀时，主机只采用一个来源，优先顺序为 PCP、路由器通告中的 PREF64 选项、RFC 7050；前缀只对收到它的接口有效。',
    },
    source: 'RFC 8781, section 5.1 (https://www.rfc-editor.org/rfc/rfc8781#section-5.1)',
  },

  'RFC8981-3_4': {
    id: 'RFC8981-3_4',
    document: rfc(8981),
    clauseNumber: '3.4',
    clause: section('3.4', 'Generating Temporary Addresses', '临时地址的生成'),
    title: { en: 'Temporary addresses with randomized interface identifiers', 'zh-CN': '生成接口标识符随机化的临时地址' },
    summary: {
      en: 'For each prefix advertised for autoconfiguration, the host generates temporary addresses with randomized interface identifiers and replaces them over time, so its traffic is harder to correlate.',
      'zh-CN': '对每个允许自动配置的前缀，主机生成接口标识符随机化的临时地址，并定期更换，使其通信更难被关联。',
    },
    source: 'RFC 8981, section 3.4 (https://www.rfc-editor.org/rfc/rfc8981#section-3.4)',
    notChecked: {
      en: 'os.privacy-addresses also passes on a stable-privacy address (RFC 7217), so its pass does not prove temporary addresses; its evidence says which kind it found.',
      'zh-CN': 'os.privacy-addresses 在只有稳定隐私地址（RFC 7217）时也判定通过，因此通过并不证明存在临时地址；它的证据中写明了发现的是哪一种。',
    },
  },

  // YD/T 3269 by section title: the notes name these test areas, not their clause numbers.
  'YDT3269-service-access': {
    id: 'YDT3269-service-access',
    document: YDT3269_DOCUMENT,
    clauseNumber: null,
    clause: byTitle('IPv6 service access', 'IPv6 业务接入'),
    title: { en: 'IPv6 service access', 'zh-CN': 'IPv6 业务接入' },
    summary: {
      en: 'The terminal, attached to the cellular network, reaches services over IPv6.',
      'zh-CN': '终端接入蜂窝网络后，能够通过 IPv6 访问业务。',
    },
    source: 'YD/T 3269 (terminal IPv6 test methods), the tests of IPv6 service access; clause number not seen',
  },
  'YDT3269-handover': {
    id: 'YDT3269-handover',
    document: YDT3269_DOCUMENT,
    clauseNumber: null,
    clause: byTitle('handover or redirection', '切换或重定向'),
    title: { en: 'IPv6 through handover or redirection', 'zh-CN': '切换或重定向时保持 IPv6' },
    summary: {
      en: 'The terminal keeps its IPv6 service when it is handed over or redirected between radio access technologies.',
      'zh-CN': '终端在不同无线接入技术之间切换或被重定向时，IPv6 业务能够保持。',
    },
    source: 'YD/T 3269 (terminal IPv6 test methods), the tests of handover or redirection; clause number not seen',
    notChecked: {
      en: 'v6lab does not move a device between radio access technologies; the lab has no radio layer.',
      'zh-CN': 'v6lab 不会让终端在不同无线接入技术之间切换；实验室环境没有无线层。',
    },
  },
  'YDT3269-ipv6-priority': {
    id: 'YDT3269-ipv6-priority',
    document: YDT3269_DOCUMENT,
    clauseNumber: null,
    clause: byTitle('IPv6 priority and fallback', 'IPv6 优先与回落'),
    title: { en: 'IPv6 first, IPv4 as the fallback', 'zh-CN': 'IPv6 优先，IPv4 回落' },
    summary: {
      en: 'Where a destination has both IPv4 and IPv6, the terminal and its apps use IPv6 first and fall back to IPv4 only when IPv6 does not work.',
      'zh-CN': '当目的地同时具有 IPv4 和 IPv6 地址时，终端及其应用优先使用 IPv6，只有 IPv6 不可用时才回落到 IPv4。',
    },
    source: 'YD/T 3269 (terminal IPv6 test methods), the tests of IPv6 priority and fallback; clause number not seen',
  },
  'YDT3269-address-allocation': {
    id: 'YDT3269-address-allocation',
    document: YDT3269_DOCUMENT,
    clauseNumber: null,
    clause: byTitle('the interface protocols of IPv6 address allocation', 'IPv6 地址分配接口协议'),
    title: { en: 'IPv6 address allocation', 'zh-CN': 'IPv6 地址分配' },
    summary: {
      en: 'On attach the terminal obtains a global IPv6 address (by router advertisement and stateless autoconfiguration), a default route and DNS servers.',
      'zh-CN': '终端附着后，通过路由器通告和无状态地址自动配置获得全局 IPv6 地址，以及默认路由和 DNS 服务器。',
    },
    source: 'YD/T 3269 (terminal IPv6 test methods), the tests of the interface protocols of IPv6 address allocation; clause number not seen',
  },
  'YDT3252-terminal': {
    id: 'YDT3252-terminal',
    document: { en: 'YD/T 3252 (IPv6 terminal technical requirements)', 'zh-CN': 'YD/T 3252（IPv6 终端技术要求）' },
    clauseNumber: null,
    clause: {
      en: 'the requirements YD/T 3269 tests (sections not seen: neither numbers nor titles)',
      'zh-CN': 'YD/T 3269 所测试的要求（未见相关章节：编号和标题均未见）',
    },
    title: { en: "The terminal requirements behind YD/T 3269's tests", 'zh-CN': 'YD/T 3269 测试所依据的终端要求' },
    summary: {
      en: 'YD/T 3252 states the technical requirements that the YD/T 3269 test methods verify on a cellular terminal.',
      'zh-CN': 'YD/T 3252 规定了蜂窝终端的 IPv6 技术要求，YD/T 3269 的测试方法用于验证这些要求。',
    },
    source: 'YD/T 3252; its sections were not seen',
    notChecked: {
      en: "We have not seen YD/T 3252's text, so no check names one of its clauses; the YD/T 3269 entries stand for the tests of it.",
      'zh-CN': '我们没有见到 YD/T 3252 的原文，因此没有检查项对应它的具体条款；与之对应的测试见 YD/T 3269 各条目。',
    },
  },
} as const satisfies Record<string, Requirement>;

export type RequirementId = keyof typeof REQUIREMENTS;

/**
 * The whole-document ids results.json carried before issue 18, each shown with the clauses that
 * replaced it (MIIT-1..4 kept their ids: they were items already).
 */
export const LEGACY_REQUIREMENTS: Readonly<Record<string, LegacyRequirement>> = Object.fromEntries(
  (
    [
      ['RFC7849', rfc(7849), 'An IPv6 profile for 3GPP mobile devices', '3GPP 移动终端的 IPv6 配置规范', 'RFC 7849 (https://www.rfc-editor.org/rfc/rfc7849)'],
      ['RFC6877', rfc(6877), '464XLAT: the CLAT on the handset', '464XLAT：终端上的 CLAT', 'RFC 6877 (https://www.rfc-editor.org/rfc/rfc6877)'],
      [
        'RFC7050',
        rfc(7050),
        'Discovery of the NAT64 prefix (ipv4only.arpa)',
        'NAT64 前缀发现（ipv4only.arpa）',
        'RFC 7050 (https://www.rfc-editor.org/rfc/rfc7050)',
      ],
      [
        'RFC8305',
        rfc(8305),
        'Happy Eyeballs v2: prefer IPv6, fall back fast',
        'Happy Eyeballs 第 2 版：优先 IPv6，快速回落',
        'RFC 8305 (https://www.rfc-editor.org/rfc/rfc8305)',
      ],
      ['RFC8981', rfc(8981), 'Temporary (privacy) IPv6 addresses', 'IPv6 临时（隐私）地址', 'RFC 8981 (https://www.rfc-editor.org/rfc/rfc8981)'],
      ['YDT3269', YDT3269_DOCUMENT, 'Terminal IPv6 test methods', '终端 IPv6 测试方法', 'YD/T 3269'],
    ] as const
  ).map(([id, document, en, zh, source]) => {
    // The clauses of the same document stand for it: RFC7849 -> RFC7849-C_REC1, ...
    const replacedBy = (Object.keys(REQUIREMENTS) as RequirementId[]).filter((r) => r.startsWith(`${id}-`));
    return [id, legacy(id, document, { en, 'zh-CN': zh }, source, replacedBy)];
  }),
);

function legacy(id: string, document: Localized, title: Localized, source: string, replacedBy: RequirementId[]): LegacyRequirement {
  return {
    id,
    document,
    clauseNumber: null,
    clause: { en: 'the whole document (an id of results written before clause-level requirements)', 'zh-CN': '整份文件（条款级要求引入之前的结果所用的编号）' },
    title,
    summary: {
      en: `Results written before v6lab named clauses cite the whole document; the clauses it stands for here: ${replacedBy.join(', ')}.`,
      'zh-CN': `v6lab 按条款引用要求之前写出的结果引用的是整份文件；它在这里对应的条款为：${replacedBy.join('、')}。`,
    },
    source,
    replacedBy,
  };
}

/**
 * The requirement an id names, for display: a clause-level one, or a whole-document id an older
 * results.json carries (a LegacyRequirement with `replacedBy`); undefined for an id v6lab never wrote.
 */
export function requirementOf(id: string): Requirement | LegacyRequirement | undefined {
  if (Object.hasOwn(REQUIREMENTS, id)) return REQUIREMENTS[id as RequirementId];
  return Object.hasOwn(LEGACY_REQUIREMENTS, id) ? LEGACY_REQUIREMENTS[id] : undefined;
}

/**
 * The HTML id (and file-name part) of a requirement's anchor: `req-` and the id, any character
 * outside letters, digits, `_` and `-` made `_` (an old result may carry "RFC 7849", with a space).
 */
export function requirementAnchor(id: string): string {
  return `req-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export type SuiteName = 'os' | 'apn' | 'apps';
export const SUITES: readonly SuiteName[] = ['os', 'apn', 'apps'];
/** The two networks a device is certified on: the IPv6-only APN and the dual-stack one. */
export type NetworkName = 'ipv6' | 'ipv4v6';
/** In the order the apps suite visits them. */
export const NETWORKS: readonly NetworkName[] = ['ipv6', 'ipv4v6'];

export interface CheckDefinition {
  id: string;
  /**
   * The test-case id a carrier's report files the check under: `V6L-` + suite + a number, stable
   * once given (a retired check's number is never reused). See docs/requirements.md.
   */
  testCase: string;
  suite: SuiteName;
  /** The English title (the same as `titles.en`), for callers that print English only. */
  title: string;
  titles: Localized;
  /**
   * The network the check is judged on: it is judged only on what was observed there in this
   * run. `each`: once per network (an app on the IPv6-only APN and on the dual-stack one).
   */
  network: NetworkName | 'each';
  /** Whether the check runs once per app of the catalogue. */
  perApp: boolean;
  /** The clauses a pass of this check shows are met; only those it really proves. */
  requirements: readonly RequirementId[];
}

/** A check's definition from its titles: `title` is the English one, so the two cannot differ. */
const check = <const C extends Omit<CheckDefinition, 'title'>>(c: C): C & { title: string } => ({ ...c, title: c.titles.en });

export const CHECKS = [
  check({
    id: 'os.apn-protocol',
    testCase: 'V6L-OS-01',
    suite: 'os',
    titles: { en: "The default APN's protocol is IPV4V6", 'zh-CN': '默认 APN 的协议为 IPV4V6' },
    network: 'ipv4v6',
    perApp: false,
    requirements: ['MIIT-3', 'RFC7849-C_REC2'],
  }),
  check({
    id: 'os.apn-roaming-protocol',
    testCase: 'V6L-OS-02',
    suite: 'os',
    titles: { en: "The default APN's roaming protocol is IPV4V6 or IPV6, not IP", 'zh-CN': '默认 APN 的漫游协议为 IPV4V6 或 IPV6，而不是 IP' },
    network: 'ipv4v6',
    perApp: false,
    requirements: ['MIIT-3', 'RFC7849-C_REC6'],
  }),
  check({
    id: 'os.ipv6-enabled',
    testCase: 'V6L-OS-03',
    suite: 'os',
    titles: {
      en: 'IPv6 is enabled on the cellular and Wi-Fi interfaces, router advertisements accepted',
      'zh-CN': '蜂窝和 Wi-Fi 接口均已启用 IPv6，并接受路由器通告',
    },
    network: 'ipv4v6',
    perApp: false,
    requirements: ['MIIT-3'],
  }),
  check({
    id: 'os.privacy-addresses',
    testCase: 'V6L-OS-04',
    suite: 'os',
    titles: { en: 'Temporary or stable-privacy IPv6 addresses are in use', 'zh-CN': '正在使用临时 IPv6 地址或稳定隐私地址' },
    network: 'ipv4v6',
    perApp: false,
    requirements: ['RFC7849-5'],
  }),
  check({
    id: 'os.dual-stack-attach',
    testCase: 'V6L-OS-05',
    suite: 'os',
    titles: {
      en: 'On a dual-stack APN: global IPv6 and IPv4, default routes and IPv6 DNS',
      'zh-CN': '双栈 APN 上：获得全局 IPv6 和 IPv4 地址、两者的默认路由以及 IPv6 DNS',
    },
    network: 'ipv4v6',
    perApp: false,
    requirements: ['MIIT-1', 'MIIT-3', 'RFC7849-C_REC1', 'YDT3269-address-allocation'],
  }),
  check({
    id: 'os.resolver-prefers-ipv6',
    testCase: 'V6L-OS-06',
    suite: 'os',
    titles: {
      en: "The system's default connect path reaches a dual-stack name over IPv6 first",
      'zh-CN': '系统默认连接路径访问双栈域名时先走 IPv6',
    },
    network: 'ipv4v6',
    perApp: false,
    requirements: ['RFC8305-4', 'RFC7849-A_REC4', 'YDT3269-ipv6-priority', 'YDT3269-service-access'],
  }),
  check({
    id: 'apn.ipv6-only-attach',
    testCase: 'V6L-APN-01',
    suite: 'apn',
    titles: {
      en: 'On an IPv6-only APN: global IPv6 by SLAAC, IPv6 default route and DNS, no native IPv4',
      'zh-CN': '纯 IPv6 APN 上：通过 SLAAC 获得全局 IPv6 地址、IPv6 默认路由和 DNS，且没有原生 IPv4',
    },
    network: 'ipv6',
    perApp: false,
    requirements: ['MIIT-1', 'RFC7849-C_REC1', 'YDT3269-address-allocation'],
  }),
  check({
    id: 'apn.clat',
    testCase: 'V6L-APN-02',
    suite: 'apn',
    titles: {
      en: 'A CLAT (v4-*, 192.0.0.0/29, IPv4 default route) only when there is no native IPv4',
      'zh-CN': '仅在没有原生 IPv4 时启用 CLAT（v4-* 接口、192.0.0.0/29 地址、IPv4 默认路由）',
    },
    network: 'ipv6',
    perApp: false,
    requirements: ['RFC6877-4_2', 'RFC7849-C_REC8'],
  }),
  check({
    id: 'apn.nat64-prefix',
    testCase: 'V6L-APN-03',
    suite: 'apn',
    titles: {
      en: 'The NAT64 prefix is known, and it is the one the network gave (PREF64 first, else RFC 7050)',
      'zh-CN': '终端已获知 NAT64 前缀，且与网络给出的一致（优先 PREF64，其次 RFC 7050）',
    },
    network: 'ipv6',
    perApp: false,
    requirements: ['RFC7849-C_REC7', 'RFC7050-3', 'RFC8781-5_1'],
  }),
  check({
    id: 'apn.ipv4-via-clat',
    testCase: 'V6L-APN-04',
    suite: 'apn',
    titles: { en: 'An IPv4-only destination is reachable', 'zh-CN': '能够访问仅支持 IPv4 的目的地' },
    network: 'ipv6',
    perApp: false,
    requirements: ['RFC6877-5_2', 'RFC7849-C_REC8'],
  }),
  check({
    id: 'apps.ipv6-first',
    testCase: 'V6L-APP-01',
    suite: 'apps',
    titles: { en: 'The app reaches its servers over IPv6 first', 'zh-CN': '应用优先通过 IPv6 访问其服务器' },
    network: 'each',
    perApp: true,
    requirements: ['MIIT-2', 'RFC8305-3', 'RFC8305-4', 'YDT3269-ipv6-priority', 'YDT3269-service-access'],
  }),
] as const satisfies readonly CheckDefinition[];

export type CheckId = (typeof CHECKS)[number]['id'];

export function checkDefinition(id: string): CheckDefinition | undefined {
  return CHECKS.find((c) => c.id === id) as CheckDefinition | undefined;
}

/** A check's title in a language (the check id itself for an id v6lab does not know, as an older run may carry). */
export function checkTitle(id: string, lang: Lang): string {
  return checkDefinition(id)?.titles[lang] ?? id;
}

/**
 * The checks that prove a requirement, in catalogue order. For a whole-document id of an older
 * run, the checks that prove any clause it stands for.
 */
export function checksOfRequirement(id: string): CheckDefinition[] {
  const clauses: readonly string[] = Object.hasOwn(LEGACY_REQUIREMENTS, id) ? LEGACY_REQUIREMENTS[id]!.replacedBy : [id];
  return CHECKS.filter((c) => c.requirements.some((r) => clauses.includes(r))) as CheckDefinition[];
}

/** The checks of one suite, in the order they run. */
export function checksOf<S extends SuiteName>(suite: S): Extract<(typeof CHECKS)[number], { suite: S }>[] {
  return CHECKS.filter((c): c is Extract<(typeof CHECKS)[number], { suite: S }> => c.suite === suite);
}

/** The networks a check is judged on. */
export function networksOf(check: CheckDefinition): readonly NetworkName[] {
  return check.network === 'each' ? NETWORKS : [check.network];
}
