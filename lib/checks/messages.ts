/**
 * Reason texts as data (issue 18): every reason v6lab gives carries, beside its English `detail`,
 * the same text as messages (a key and its arguments), so a report renders it in the reader's
 * language. The catalogue holds each message in English and in Chinese written for a Chinese
 * network engineer (双栈, 纯IPv6, 默认路由, 回退...), not translated word by word. Arguments are
 * data (addresses, hostnames, interfaces, APN names, numbers) and stay as they are in every
 * language.
 *
 * Templates: `{name}` an argument; `{name:1}` a number with one decimal (toFixed); `{name|one|other}`
 * the first word when the number `name` is 1, the second otherwise (English plurals); an argument
 * of kind `message` is another message, nested (its key and arguments are flattened into the
 * outer arguments: its key as `name@`, its arguments under `name.`, so a ReasonMessage stays strings
 * and numbers).
 */
import type { Lang, Localized } from './lang.js';

/** One part of a reason's text: the same shape as results.json's ReasonMessage (lib/report/results.ts). */
export interface ReasonMessage {
  key: string;
  args: Record<string, string | number>;
}

/** A reason as results.json and the checks carry it. */
export interface CodedReason {
  code: string;
  detail: string;
  messages?: ReasonMessage[];
}

/** A message made by `message()`: the data, and its English rendering (the reason's `detail`). */
export interface MessagePart {
  message: ReasonMessage;
  english: string;
}

type ArgKind = 'string' | 'number' | 'message';

interface MessageDef {
  args: Readonly<Record<string, ArgKind>>;
  en: string;
  'zh-CN': string;
  /** The text is another layer's English (an error's message, an adb tracker's words): not translated; a report marks it lang="en". */
  verbatim?: true;
}

const CATALOGUE = {
  // --- app verdicts (lib/checks/app-verdict.ts) ------------------------------------------------
  'app.noTraffic': {
    args: {},
    en: 'no traffic could be attributed to the app in its window: was it started, and did it load its pages?',
    'zh-CN': '测试窗口内没有可归属于该应用的流量：应用是否已启动，页面是否已加载？',
  },
  'app.captureIncomplete': {
    args: { maxMiB: 'number', atPacket: 'number', packets: 'number' },
    en: 'the analysis of the capture reached its memory bound ({maxMiB:1} MiB) at packet {atPacket}: {packets} {packets|packet|packets} of flows first seen after it were counted but not listed, so an IPv4 connection among them would go unseen; analyse the capture with a higher --max-memory',
    'zh-CN':
      '抓包分析在第 {atPacket} 个报文处达到内存上限（{maxMiB:1} MiB）：其后新出现的流共 {packets} 个报文只计入总数而未逐条列出，其中若有IPv4连接将无法发现；请用更大的 --max-memory 重新分析该抓包',
  },
  'app.captureDropped': {
    args: { packets: 'number' },
    en: "the capture lost {packets} {packets|packet|packets} in the kernel (tcpdump's own count when it stopped): a lost DNS answer or first SYN can make any verdict wrong, so none is given; run the check again",
    'zh-CN': '抓包在内核中丢失了 {packets} 个报文（tcpdump 停止时自报的计数）：丢失的DNS应答或首个SYN都可能使结论出错，故不下结论；请重新运行该检查',
  },
  'app.ipv4Literal': {
    args: { count: 'number', addresses: 'string' },
    en: 'connects to IPv4 {count|address|addresses} {addresses} that no DNS answer gave: a hard-coded IPv4 literal never works over IPv6 and only reaches an IPv6-only network through the CLAT',
    'zh-CN': '应用连接的IPv4地址 {addresses} 不来自任何DNS应答：写死在代码里的IPv4地址无法通过IPv6访问，在纯IPv6网络中只能经CLAT转换才能连通',
  },
  'app.noAaaaQuery': {
    args: { host: 'string' },
    en: 'asked only A for {host}, never AAAA: the app resolves IPv4 only (AF_INET or an IPv4-only resolver call)',
    'zh-CN': '对 {host} 只查询了A记录，从未查询AAAA记录：应用只解析IPv4地址（使用了AF_INET，或只支持IPv4的解析调用）',
  },
  'app.ipv4First': {
    args: { host: 'string', ms: 'number' },
    en: 'tried IPv4 first for {host} although its AAAA answer had come {ms:0} ms before: prefer IPv6 (RFC 8305 Happy Eyeballs, or the order getaddrinfo gives)',
    'zh-CN': '{host} 的AAAA应答早在 {ms:0} 毫秒前就已返回，应用却先尝试IPv4：应首选IPv6（按RFC 8305 Happy Eyeballs，或按getaddrinfo返回的顺序）',
  },
  'app.serverNoIpv6.nat64': {
    args: { host: 'string' },
    en: '{host} has no AAAA record: it is reached only through NAT64; the server side needs IPv6',
    'zh-CN': '{host} 没有AAAA记录，只能经NAT64访问：服务端需要支持IPv6',
  },
  'app.serverNoIpv6.ipv4': {
    args: { host: 'string' },
    en: '{host} has no AAAA record: it is reached only over IPv4; the server side needs IPv6',
    'zh-CN': '{host} 没有AAAA记录，只能通过IPv4访问：服务端需要支持IPv6',
  },
  'app.ipv6Stalled': {
    args: { count: 'number', host: 'string', servers: 'string' },
    en: "IPv6 {count|connection|connections} to {host} ({servers}) completed the handshake, then carried the app's request and not one byte back (a failure after the handshake, or a path MTU blackhole): IPv6 did not work for this host",
    'zh-CN': '到 {host}（{servers}）的IPv6连接完成了握手，也发出了应用的请求，但没有收到任何回包（握手后失败，或路径MTU黑洞）：该主机的IPv6实际不可用',
  },
  'app.ipv6Failed.reset': {
    args: { count: 'number', host: 'string', servers: 'string' },
    en: 'IPv6 {count|connection|connections} to {host} ({servers}) were reset',
    'zh-CN': '到 {host}（{servers}）的IPv6连接被重置',
  },
  'app.ipv6Failed.noAnswer': {
    args: { count: 'number', host: 'string', servers: 'string' },
    en: 'IPv6 {count|connection|connections} to {host} ({servers}) got no answer',
    'zh-CN': '到 {host}（{servers}）的IPv6连接没有收到应答',
  },
  'app.slowFallback.never': {
    args: { host: 'string' },
    en: 'after IPv6 to {host} failed, the app never tried again',
    'zh-CN': '到 {host} 的IPv6连接失败后，应用没有再次尝试',
  },
  'app.slowFallback.late': {
    args: { host: 'string', ms: 'number', maxMs: 'number' },
    en: 'after IPv6 to {host} failed, the next attempt came {ms:0} ms later (more than {maxMs} ms): use Happy Eyeballs (RFC 8305, 250 ms)',
    'zh-CN': '到 {host} 的IPv6连接失败后，{ms:0} 毫秒后才发起下一次尝试（超过 {maxMs} 毫秒）：应采用Happy Eyeballs快速回退（RFC 8305，250毫秒）',
  },
  'app.lowIpv6Share': {
    args: { percent: 'number', minPercent: 'number' },
    en: "native IPv6 carried {percent:1}% of the app's bytes, below the policy's {minPercent:0}%",
    'zh-CN': '应用流量中原生IPv6的字节占比为 {percent:1}%，低于策略要求的 {minPercent:0}%',
  },

  'app.noTraffic.runs': {
    args: { count: 'number', runs: 'string', total: 'number' },
    en: 'no traffic could be attributed to the app in {count|run|runs} {runs} of {total}: was it started, and did it load its pages each time?',
    'zh-CN': '第 {runs} 次运行（共 {total} 次）中没有可归属于该应用的流量：应用每次是否都已启动，页面是否都已加载？',
  },
  'app.lowIpv6Share.runs': {
    args: { percent: 'number', count: 'number', shares: 'string', minPercent: 'number' },
    en: "native IPv6 carried {percent:1}% of the app's bytes on average over {count} {count|run|runs} ({shares}), below the policy's {minPercent:0}%",
    'zh-CN': '{count} 次运行中应用流量的原生IPv6字节占比平均为 {percent:1}%（各次分别为 {shares}），低于策略要求的 {minPercent:0}%',
  },

  // --- OS and APN checks (lib/checks/os.ts) -------------------------------------------------------
  'os.connectivityUnreadable': {
    args: {},
    en: '`dumpsys connectivity` could not be read (it exited non-zero): the DNS servers and NAT64 prefix Android knows are unknown',
    'zh-CN': '无法读取 `dumpsys connectivity`（命令返回非零）：无从得知Android掌握的DNS服务器和NAT64前缀',
  },
  'os.linkPropertiesUnreadable': {
    args: { netId: 'string' },
    en: 'the LinkProperties of mobile network {netId} in `dumpsys connectivity` could not be read: its DNS servers and NAT64 prefix are unknown',
    'zh-CN': '`dumpsys connectivity` 中移动网络 {netId} 的LinkProperties无法解析：其DNS服务器和NAT64前缀未知',
  },
  'os.apnTableUnreadable.roaming': {
    args: { refusal: 'string' },
    en: 'the APN table is unreadable ({refusal}), and the roaming protocol cannot be inferred from a home attach',
    'zh-CN': 'APN表无法读取（{refusal}），且漫游协议无法从归属网络下的附着推断',
  },
  'os.apnInferred.noAddress': {
    args: {},
    en: 'the APN table is unreadable; the handset got no address from its attach (inferred, not read)',
    'zh-CN': 'APN表无法读取；终端附着后没有获得任何地址（此结论为推断，并非读取所得）',
  },
  'os.apnInferred.only': {
    args: { family: 'string' },
    en: 'the APN table is unreadable; the handset got {family} only from its attach (inferred, not read)',
    'zh-CN': 'APN表无法读取；终端附着后只获得了{family}地址（此结论为推断，并非读取所得）',
  },
  'os.noApn': { args: {}, en: 'the APN table is empty', 'zh-CN': 'APN表为空' },
  'os.apnProtocol.value': {
    args: { apn: 'string', value: 'string' },
    en: 'the default APN {apn} has protocol {value}; it must be IPV4V6',
    'zh-CN': '默认APN {apn} 的协议（protocol）为 {value}；应为IPV4V6',
  },
  'os.apnProtocol.unset': {
    args: { apn: 'string' },
    en: 'the default APN {apn} has protocol unset (Android then uses IP, IPv4 only); it must be IPV4V6',
    'zh-CN': '默认APN {apn} 未设置协议（protocol），Android此时按IP即仅IPv4处理；应为IPV4V6',
  },
  'os.apnRoamingProtocol.value': {
    args: { apn: 'string', value: 'string' },
    en: 'the default APN {apn} has roaming_protocol {value}; it must be IPV4V6 or IPV6',
    'zh-CN': '默认APN {apn} 的漫游协议（roaming_protocol）为 {value}；应为IPV4V6或IPV6',
  },
  'os.apnRoamingProtocol.unset': {
    args: { apn: 'string' },
    en: 'the default APN {apn} has roaming_protocol unset (Android then uses IP, IPv4 only); it must be IPV4V6 or IPV6',
    'zh-CN': '默认APN {apn} 未设置漫游协议（roaming_protocol），Android此时按IP即仅IPv4处理；应为IPV4V6或IPV6',
  },
  'os.ipv6Disabled': {
    args: { iface: 'string' },
    en: 'IPv6 is disabled on {iface} (disable_ipv6=1)',
    'zh-CN': '{iface} 上的IPv6已被禁用（disable_ipv6=1）',
  },
  'os.raIgnored': {
    args: { iface: 'string' },
    en: '{iface} ignores router advertisements (accept_ra=0)',
    'zh-CN': '{iface} 不接收路由器通告RA（accept_ra=0）',
  },
  'os.sysctlUnder': {
    args: { problem: 'message' },
    en: 'under /proc/sys/net/ipv6/conf: {problem}',
    'zh-CN': '/proc/sys/net/ipv6/conf 下：{problem}',
  },
  'os.sysctlUnread': { args: { key: 'string' }, en: '{key} could not be read', 'zh-CN': '{key} 无法读取' },
  'os.sysctlUnreadGot': {
    args: { key: 'string', got: 'string' },
    en: '{key} could not be read (got {got})',
    'zh-CN': '{key} 无法读取（读到的是 {got}）',
  },
  'os.noGlobalIpv6ToJudge': { args: {}, en: 'no global IPv6 address to judge', 'zh-CN': '没有可供判定的全局IPv6地址' },
  'os.noPrivacyAddress': {
    args: {},
    en: 'every global IPv6 address is EUI-64 based or static: no temporary (RFC 8981) or stable-privacy (RFC 7217) address',
    'zh-CN': '所有全局IPv6地址都是基于EUI-64生成或静态配置的：没有临时地址（RFC 8981），也没有稳定隐私地址（RFC 7217）',
  },
  'os.noGlobalIpv6OnMobile': { args: {}, en: 'no global IPv6 address on the mobile interface', 'zh-CN': '移动数据接口上没有全局IPv6地址' },
  'os.noIpv6DefaultRouteOnMobile': { args: {}, en: 'no IPv6 default route on the mobile interface', 'zh-CN': '移动数据接口上没有IPv6默认路由' },
  'os.noIpv6Dns': { args: {}, en: 'no IPv6 DNS server', 'zh-CN': '没有IPv6 DNS服务器' },
  'os.nativeIpv4OnIpv6Only': {
    args: { addresses: 'string' },
    en: 'native IPv4 {addresses} on an IPv6-only attach',
    'zh-CN': '纯IPv6附着却获得了原生IPv4地址 {addresses}',
  },
  'os.noIpv4OnMobile': { args: {}, en: 'no IPv4 address on the mobile interface', 'zh-CN': '移动数据接口上没有IPv4地址' },
  'os.noIpv6DefaultRoute': { args: {}, en: 'no IPv6 default route', 'zh-CN': '没有IPv6默认路由' },
  'os.noIpv4DefaultRoute': { args: {}, en: 'no IPv4 default route', 'zh-CN': '没有IPv4默认路由' },
  'os.onDualStackApn': {
    args: { problem: 'message' },
    en: 'on the dual-stack APN: {problem}',
    'zh-CN': '双栈APN下：{problem}',
  },
  'os.clatWithNativeIpv4': {
    args: { iface: 'string' },
    en: 'a CLAT ({iface}) runs although the network gave native IPv4',
    'zh-CN': '网络已分配原生IPv4，CLAT（{iface}）却仍在运行',
  },
  'os.noClat': {
    args: {},
    en: 'no CLAT on an IPv6-only network: IPv4-only apps and IPv4 literals cannot work (RFC 6877 464XLAT)',
    'zh-CN': '纯IPv6网络下没有CLAT：仅支持IPv4的应用和写死的IPv4地址都无法工作（RFC 6877 464XLAT）',
  },
  'os.clatNotDefault': {
    args: { iface: 'string' },
    en: 'the IPv4 default route does not go through {iface}',
    'zh-CN': 'IPv4默认路由没有指向 {iface}',
  },
  'os.noNat64Prefix': {
    args: {},
    en: 'no NAT64 prefix: neither LinkProperties nor an RFC 7050 answer in the capture',
    'zh-CN': '没有NAT64前缀：LinkProperties中没有，抓包中也没有RFC 7050发现的应答',
  },
  'os.nat64PrefixMismatch': {
    args: { reported: 'string', discovered: 'string' },
    en: 'LinkProperties says {reported} but RFC 7050 discovery found {discovered}',
    'zh-CN': 'LinkProperties中的NAT64前缀是 {reported}，而RFC 7050发现的是 {discovered}',
  },
  'os.nat64PrefixMismatchPref64': {
    args: { reported: 'string', advertised: 'string', discovered: 'string' },
    en: "LinkProperties says {reported} but the router advertisements' PREF64 gave {advertised}, which RFC 8781 prefers to RFC 7050 discovery ({discovered})",
    'zh-CN': 'LinkProperties中的NAT64前缀是 {reported}，而路由器通告的PREF64给出的是 {advertised}；RFC 8781规定PREF64优先于RFC 7050发现的结果（{discovered}）',
  },
  'os.noProbeTraffic': {
    args: { host: 'string' },
    en: 'opening {host} made no connection the capture could see',
    'zh-CN': '打开 {host} 时，抓包中看不到任何连接',
  },
  'os.resolverIpv4First': {
    args: { host: 'string' },
    en: 'the system connected to the dual-stack name {host} over IPv4 first (RFC 6724 and RFC 8305 want IPv6 first)',
    'zh-CN': '系统连接双栈域名 {host} 时首选了IPv4（RFC 6724、RFC 8305要求首选IPv6）',
  },
  'os.ipv4Unreachable': {
    args: { target: 'string' },
    en: 'no connection to the IPv4-only destination {target} was established: without a CLAT, IPv4-only apps and literals fail on an IPv6-only network',
    'zh-CN': '未能与纯IPv4目的地 {target} 建立连接：没有CLAT时，仅支持IPv4的应用和写死的IPv4地址在纯IPv6网络中都会失败',
  },
  'os.ipv4Unreachable.noAttempt': {
    args: { target: 'string' },
    en: 'no connection to the IPv4-only destination {target} was established (no attempt seen): without a CLAT, IPv4-only apps and literals fail on an IPv6-only network',
    'zh-CN': '未能与纯IPv4目的地 {target} 建立连接（未看到任何连接尝试）：没有CLAT时，仅支持IPv4的应用和写死的IPv4地址在纯IPv6网络中都会失败',
  },

  // --- the harness (lib/harness) -----------------------------------------------------------------
  'harness.noAttachCapture': {
    args: { why: 'message' },
    en: 'no capture across the IPv6-only attach, so RFC 7050 discovery could not be seen: {why}',
    'zh-CN': '纯IPv6附着过程中没有抓包，因此看不到RFC 7050前缀发现：{why}',
  },
  'harness.alreadyOnIpv6Apn': {
    args: {},
    en: 'the device was already on the IPv6-only APN when the capture would have started',
    'zh-CN': '本应开始抓包时，设备已经在纯IPv6 APN上',
  },
  'harness.alreadyOnApn.manual': {
    args: { apn: 'string' },
    en: 'the device was already on APN {apn} when the capture started, so its RFC 7050 discovery at attach was not seen: start the run on another APN and switch when asked',
    'zh-CN': '抓包开始时设备已在APN {apn} 上，因此没能看到附着时的RFC 7050前缀发现：请先在其他APN上开始测试，提示时再切换',
  },
  'harness.alreadyOnApn.auto': {
    args: { apn: 'string' },
    en: 'the device was already on APN {apn} when the capture started, so its RFC 7050 discovery at attach was not seen: start the run on another APN (or with the os suite, which attaches to the dual-stack APN first)',
    'zh-CN': '抓包开始时设备已在APN {apn} 上，因此没能看到附着时的RFC 7050前缀发现：请先在其他APN上开始测试（或同时运行os套件，它会先附着到双栈APN）',
  },
  'harness.noProbeUrl.resolver': {
    args: {},
    en: 'the profile sets no resolverProbeUrl (a dual-stack URL the device can open)',
    'zh-CN': '设备配置文件没有设置resolverProbeUrl（一个设备能打开的双栈URL）',
  },
  'harness.noProbeUrl.ipv4Only': {
    args: {},
    en: 'the profile sets no ipv4OnlyProbeUrl (a URL on an IPv4-only address)',
    'zh-CN': '设备配置文件没有设置ipv4OnlyProbeUrl（一个位于纯IPv4地址上的URL）',
  },
  'harness.notInstalled': {
    args: { pkg: 'string', label: 'string' },
    en: '{pkg} ({label}) is not installed on the device',
    'zh-CN': '设备上没有安装 {pkg}（{label}）',
  },
  'harness.attachCapture.notOpened': {
    args: { error: 'string' },
    en: 'it did not open: {error}',
    'zh-CN': '抓包未能启动：{error}',
  },
  'harness.attachCapture.failed': {
    args: { error: 'string' },
    en: 'it failed before it closed: {error}',
    'zh-CN': '抓包在结束前就已失败：{error}',
  },
  // Another layer's English (an error's message, a device's words): shown as it is, marked lang="en".
  untranslated: { args: { text: 'string' }, en: '{text}', 'zh-CN': '{text}', verbatim: true },

  // --- reaching a network (lib/harness/networks.ts) ------------------------------------------------
  'net.movedApn.manual': {
    args: { named: 'string', apn: 'string' },
    en: 'the mobile network names APN {named} by the time the device was observed, not {apn}: leave the device on it for the run',
    'zh-CN': '采集设备状态时，移动网络的APN已是 {named}，而不是 {apn}：测试期间请让设备保持在该APN上',
  },
  'net.movedApn.auto': {
    args: { named: 'string', apn: 'string' },
    en: 'the mobile network names APN {named} by the time the device was observed, not {apn}: something else switched it',
    'zh-CN': '采集设备状态时，移动网络的APN已是 {named}，而不是 {apn}：有其他程序切换了APN',
  },
  'net.notDefault': {
    args: { apn: 'string', network: 'string' },
    en: 'the device is attached to APN {apn}, but its default network is {network}: apps and probes would not use the APN; turn Wi-Fi off and run again',
    'zh-CN': '设备已附着到APN {apn}，但默认网络是 {network}：应用和探测流量不会走该APN；请关闭Wi-Fi后重新测试',
  },
  'net.wifiMoved': {
    args: { ssid: 'string', now: 'string' },
    en: 'Wi-Fi "{ssid}" was joined, but by the time the device was observed its default network was {now}: keep the device in range of it for the run',
    'zh-CN': '已连接Wi-Fi "{ssid}"，但采集设备状态时默认网络已是 {now}：测试期间请让设备保持在该Wi-Fi覆盖范围内',
  },
  'net.wifiOther': {
    args: { shown: 'string', ssid: 'string' },
    en: 'the device\'s default network is Wi-Fi "{shown}", not "{ssid}": forget "{shown}" on the device or keep it out of range, and run again',
    'zh-CN': '设备的默认网络是Wi-Fi "{shown}"，而不是 "{ssid}"：请在设备上忽略 "{shown}" 或远离其覆盖范围，然后重新测试',
  },
  'net.gateway.unread': {
    args: { dir: 'string', mode: 'string', link: 'string' },
    en: 'dumpsys connectivity could not be read: whether the device is on the v6lab gateway of {dir} ({mode} on {link}) is unknown',
    'zh-CN': '无法读取dumpsys connectivity：无法确定设备是否接入了 {dir} 的v6lab网关（{link} 上的 {mode}）',
  },
  'net.gateway.notOn': {
    args: { network: 'string', dir: 'string', mode: 'string', link: 'string' },
    en: "the device's default network is {network}, not the v6lab gateway of {dir} ({mode} on {link}): connect it to the gateway's link (a cable or USB Ethernet adapter, the emulator's tap, the gateway's access point) and run again",
    'zh-CN':
      '设备的默认网络是 {network}，不是 {dir} 的v6lab网关（{link} 上的 {mode}）：请把设备接入网关的链路（网线或USB以太网适配器、模拟器的tap接口、网关的无线接入点）后重新测试',
  },
  'net.gateway.noAddress': {
    args: { type: 'string', iface: 'string', dir: 'string', mode: 'string', link: 'string', prefixes: 'string' },
    en: "the device's default network ({type}, {iface}) holds no address of the v6lab gateway of {dir} ({mode} on {link}) ({prefixes}): it is on another network; connect it to the gateway's link and run again",
    'zh-CN':
      '设备的默认网络（{type}，{iface}）上没有 {dir} 的v6lab网关（{link} 上的 {mode}）的地址（{prefixes}）：设备接入的是其他网络；请把设备接入网关的链路后重新测试',
  },
  'net.notSelected.ipv6': {
    args: { only: 'string', network: 'string' },
    en: 'not part of this run (--network {only}): the IPv6-only network was not certified; `v6lab certify --resume RUN_DIR --network {network}` adds its checks to this run',
    'zh-CN':
      '不在本次测试范围内（--network {only}）：未认证纯IPv6网络；运行 `v6lab certify --resume RUN_DIR --network {network}` 可把它的检查项补充到本次测试中',
  },
  'net.notSelected.ipv4v6': {
    args: { only: 'string', network: 'string' },
    en: 'not part of this run (--network {only}): the dual-stack network was not certified; `v6lab certify --resume RUN_DIR --network {network}` adds its checks to this run',
    'zh-CN': '不在本次测试范围内（--network {only}）：未认证双栈网络；运行 `v6lab certify --resume RUN_DIR --network {network}` 可把它的检查项补充到本次测试中',
  },
  'net.notInProfile.ipv6': {
    args: { network: 'string' },
    en: 'the profile names no IPv6-only network (networks.{network}: an APN or a Wi-Fi network)',
    'zh-CN': '设备配置文件没有指定纯IPv6网络（networks.{network}：一个APN或一个Wi-Fi网络）',
  },
  'net.notInProfile.ipv4v6': {
    args: { network: 'string' },
    en: 'the profile names no dual-stack network (networks.{network}: an APN or a Wi-Fi network)',
    'zh-CN': '设备配置文件没有指定双栈网络（networks.{network}：一个APN或一个Wi-Fi网络）',
  },
  'net.noAttach': {
    args: { apn: 'string', protocol: 'string' },
    en: 'the device did not attach to APN {apn} (protocol {protocol}) within the deadline: the network refused what it asked for',
    'zh-CN': '设备在时限内未能附着到APN {apn}（协议 {protocol}）：网络拒绝了它请求的接入',
  },
  'net.noAttach.copied': {
    args: { apn: 'string', protocol: 'string' },
    en: 'the device did not attach to APN {apn} (protocol {protocol}, copied from its factory default APN) within the deadline: the network refused what it asked for',
    'zh-CN': '设备在时限内未能附着到APN {apn}（协议 {protocol}，复制自出厂默认APN）：网络拒绝了它请求的接入',
  },
  'net.wifiCannotJoin': {
    args: { ssid: 'string' },
    en: 'Wi-Fi "{ssid}" cannot be joined by this harness\'s device state',
    'zh-CN': '本测试工具的设备状态模块无法连接Wi-Fi "{ssid}"',
  },
  'net.byHand': {
    args: { apn: 'string', answer: 'message' },
    en: 'the device is not on APN {apn} and the profile says APNs are switched by hand: {answer}',
    'zh-CN': '设备不在APN {apn} 上，而设备配置文件规定APN由人工切换：{answer}',
  },
  'net.enterNoAttach': {
    args: { apn: 'string', seconds: 'number', now: 'string' },
    en: 'Enter was pressed, but the mobile network did not name APN {apn} within {seconds} s after: {now}; select exactly that APN in Access Point Names and run again with --resume',
    'zh-CN': '已按下Enter，但此后 {seconds} 秒内移动网络的APN仍不是 {apn}（当前：{now}）；请在“接入点名称”中选中该APN，然后加 --resume 重新运行',
  },
  'net.noSettingsSession': {
    args: { apn: 'string' },
    en: 'the device is not on APN {apn}, and there is no Appium session to select it in Settings with ("apnSwitch": "settings-ui")',
    'zh-CN': '设备不在APN {apn} 上，且没有可在“设置”中选择该APN的Appium会话（"apnSwitch": "settings-ui"）',
  },
  'net.settingsNotSelected': {
    args: { apn: 'string', why: 'message' },
    en: 'APN {apn} could not be selected in Settings: {why}',
    'zh-CN': '无法在“设置”中选择APN {apn}：{why}',
  },
  'net.settingsNoAttach.already': {
    args: { apn: 'string', seconds: 'number', now: 'string' },
    en: 'APN {apn} was already the one checked in Settings (Access Point Names), but the device did not attach to it within {seconds} s: the network refused what the phone asked for (now: {now})',
    'zh-CN': 'APN {apn} 在“设置”（接入点名称）中本已处于选中状态，但设备在 {seconds} 秒内未能附着：网络拒绝了手机请求的接入（当前：{now}）',
  },
  'net.settingsNoAttach.selected': {
    args: { apn: 'string', seconds: 'number', now: 'string' },
    en: 'APN {apn} was selected in Settings (Access Point Names), but the device did not attach to it within {seconds} s: the network refused what the phone asked for (now: {now})',
    'zh-CN': '已在“设置”（接入点名称）中选中APN {apn}，但设备在 {seconds} 秒内未能附着：网络拒绝了手机请求的接入（当前：{now}）',
  },
  // --- the device's state and Settings (lib/harness/device-state.ts, settings-ui.ts) ------------------
  'state.otherDefault': {
    args: { network: 'string' },
    en: 'the default network is {network}, which the harness does not turn off: end it (a VPN, Ethernet) and run again',
    'zh-CN': '默认网络是 {network}，测试工具不会替你关闭它：请先断开它（VPN、以太网）再重新测试',
  },
  'state.wifiOffFailed': {
    args: { said: 'string' },
    en: 'Wi-Fi is the default network and `svc wifi disable` failed ({said}): turn Wi-Fi off on the device and run again',
    'zh-CN': '默认网络是Wi-Fi，且 `svc wifi disable` 执行失败（{said}）：请在设备上手动关闭Wi-Fi后重新测试',
  },
  'state.wifiStillDefault': {
    args: { seconds: 'number' },
    en: 'Wi-Fi is still the default network {seconds} s after `svc wifi disable`: turn Wi-Fi off on the device and run again',
    'zh-CN': '执行 `svc wifi disable` {seconds} 秒后，默认网络仍是Wi-Fi：请在设备上手动关闭Wi-Fi后重新测试',
  },
  'state.wifiOnFailed': {
    args: { said: 'string' },
    en: '`svc wifi enable` failed ({said}): turn Wi-Fi on on the device and run again',
    'zh-CN': '`svc wifi enable` 执行失败（{said}）：请在设备上手动打开Wi-Fi后重新测试',
  },
  'state.noConnectNetwork': {
    args: { ssid: 'string', said: 'string' },
    en: 'Wi-Fi "{ssid}" was not joined and `cmd wifi connect-network` is not available here ({said}; Android 10 and earlier): join "{ssid}" on the device once (it is then saved) and run again',
    'zh-CN':
      '未连上Wi-Fi "{ssid}"，且此设备不支持 `cmd wifi connect-network`（{said}；Android 10及更早版本）：请先在设备上手动连接一次 "{ssid}"（之后会被保存），再重新测试',
  },
  'state.wifiNotDefault.notJoined': {
    args: { ssid: 'string', seconds: 'number' },
    en: 'Wi-Fi "{ssid}" did not become the default network within {seconds} s (not joined): is it in range, open, or saved on the device?',
    'zh-CN': 'Wi-Fi "{ssid}" 在 {seconds} 秒内没有成为默认网络（未连上）：它是否在覆盖范围内、是否为开放网络、或是否已保存在设备上？',
  },
  'state.wifiNotDefault.joined': {
    args: { ssid: 'string', seconds: 'number', joined: 'string' },
    en: 'Wi-Fi "{ssid}" did not become the default network within {seconds} s (joined to "{joined}"): is it in range, open, or saved on the device?',
    'zh-CN': 'Wi-Fi "{ssid}" 在 {seconds} 秒内没有成为默认网络（设备连上的是 "{joined}"）：它是否在覆盖范围内、是否为开放网络、或是否已保存在设备上？',
  },
  'state.wifiNotDefault.notJoinedSaid': {
    args: { ssid: 'string', seconds: 'number', said: 'string' },
    en: 'Wi-Fi "{ssid}" did not become the default network within {seconds} s (not joined; connect-network said: {said}): is it in range, open, or saved on the device?',
    'zh-CN':
      'Wi-Fi "{ssid}" 在 {seconds} 秒内没有成为默认网络（未连上；`connect-network` 的输出：{said}）：它是否在覆盖范围内、是否为开放网络、或是否已保存在设备上？',
  },
  'state.wifiNotDefault.joinedSaid': {
    args: { ssid: 'string', seconds: 'number', joined: 'string', said: 'string' },
    en: 'Wi-Fi "{ssid}" did not become the default network within {seconds} s (joined to "{joined}"; connect-network said: {said}): is it in range, open, or saved on the device?',
    'zh-CN':
      'Wi-Fi "{ssid}" 在 {seconds} 秒内没有成为默认网络（设备连上的是 "{joined}"；`connect-network` 的输出：{said}）：它是否在覆盖范围内、是否为开放网络、或是否已保存在设备上？',
  },
  'settings.notOpened': {
    args: { action: 'string', said: 'string' },
    en: 'Settings did not open its Access Point Names screen (am start -a {action}: {said})',
    'zh-CN': '“设置”没能打开“接入点名称”界面（`am start -a` {action}：{said}）',
  },
  'settings.noApnShown': {
    args: { seconds: 'number', id: 'string' },
    en: "the Access Point Names screen showed no APN within {seconds} s (no {id} on screen): is a SIM in, and is this Android's own Settings?",
    'zh-CN': '“接入点名称”界面在 {seconds} 秒内没有显示任何APN（界面上没有 {id}）：是否插入了SIM卡？这是否是Android原生的“设置”？',
  },
  'settings.noRow': {
    args: { apn: 'string', shown: 'string' },
    en: 'Settings\' Access Point Names list has no row for APN {apn} (it shows {shown}): add it there (the + button) with the carrier\'s values, or set "apnSwitch": "manual"',
    'zh-CN': '“设置”的“接入点名称”列表里没有APN {apn}（列表中有 {shown}）：请按运营商给出的参数在那里添加（点“+”按钮），或设置 "apnSwitch": "manual"',
  },
  'settings.noRadio': {
    args: { apn: 'string' },
    en: 'the row for APN {apn} in Access Point Names has no radio button: Android does not let it be the default APN (its type is not default)',
    'zh-CN': '“接入点名称”中APN {apn} 这一行没有单选按钮：Android不允许把它设为默认APN（其类型不含 `default`）',
  },
  'settings.notChecked': {
    args: { apn: 'string', seconds: 'number' },
    en: 'tapped the radio button of APN {apn} in Access Point Names, but it did not show as checked within {seconds} s',
    'zh-CN': '已点按“接入点名称”中APN {apn} 的单选按钮，但 {seconds} 秒内它没有显示为选中',
  },
  'prompt.withdrawn': {
    args: { apn: 'string' },
    en: 'the question for APN {apn} was withdrawn before it was answered',
    'zh-CN': '请求切换到APN {apn} 的提问在得到回答前已被撤回',
  },
  'prompt.terminalClosed': {
    args: { apn: 'string' },
    en: 'the terminal closed before Enter was pressed for APN {apn}',
    'zh-CN': '还没有为APN {apn} 按下Enter，终端就已关闭',
  },
  'prompt.timeout.minutes': {
    args: { minutes: 'number', apn: 'string' },
    en: 'nobody pressed Enter within {minutes} min of being asked to switch to APN {apn}; run again with more time (--switch-timeout SECONDS) or switch before the run',
    'zh-CN': '提示切换到APN {apn} 后 {minutes} 分钟内无人按Enter；请留出更多时间重新运行（--switch-timeout 秒数），或在测试开始前先切换好',
  },
  'prompt.timeout.seconds': {
    args: { seconds: 'number', apn: 'string' },
    en: 'nobody pressed Enter within {seconds} s of being asked to switch to APN {apn}; run again with more time (--switch-timeout SECONDS) or switch before the run',
    'zh-CN': '提示切换到APN {apn} 后 {seconds} 秒内无人按Enter；请留出更多时间重新运行（--switch-timeout 秒数），或在测试开始前先切换好',
  },
  'prompt.noTerminal': {
    args: {},
    en: 'nobody could be asked to switch the APN: the run has no terminal (stdin and stderr are not a TTY); run `v6lab certify` on a terminal, certify one network per run with --network (the device left on that APN), or set "apnSwitch": "settings-ui" so the harness selects the APN in Settings itself',
    'zh-CN':
      '无法请人切换APN：本次运行没有终端（stdin和stderr都不是TTY）；请在终端中运行 `v6lab certify`，或用 --network 每次只认证一个网络（设备保持在该APN上），或设置 "apnSwitch": "settings-ui" 由工具在“设置”中自行选择APN',
  },
  'fault.lostDuringCheck': {
    args: { loss: 'string', error: 'message' },
    en: '{loss} during the check: {error}',
    'zh-CN': '检查进行中连接中断（{loss}）：{error}',
  },
  'fault.appStopped': {
    args: { pkg: 'string' },
    en: "{pkg} was not running at the end of its window: it crashed or quit during its flow or dwell; its traffic is not judged (see the device's logcat)",
    'zh-CN': '测试窗口结束时 {pkg} 已不在运行：应用在操作流程或停留期间崩溃或自行退出；其流量不予判定（请查看设备的logcat）',
  },
  'fault.deviceAbsent': {
    args: { serial: 'string' },
    en: '{serial}: no such device: `adb devices` does not list it (is it plugged in, or the lab up?)',
    'zh-CN': '{serial}：找不到该设备，`adb devices` 中没有它（设备是否已连接，或实验室环境是否已启动？）',
  },
  'fault.deviceState': {
    args: { serial: 'string', state: 'string' },
    en: '{serial}: device is {state}: reconnect it, or accept the USB debugging prompt',
    'zh-CN': '{serial}：设备状态为 {state}：请重新连接，或在设备上允许USB调试',
  },
  'fault.truncated': {
    args: { serial: 'string', command: 'string', bytes: 'number' },
    en: '{serial}: output of `{command}` ended after {bytes} bytes without its end marker: the connection dropped or the command was killed',
    'zh-CN': '{serial}：`{command}` 的输出在 {bytes} 字节后中断，没有结束标记：连接已断开，或命令被终止',
  },
  'fault.timeout': {
    args: { serial: 'string', command: 'string', ms: 'number' },
    en: '{serial}: `{command}` did not finish within {ms} ms',
    'zh-CN': '{serial}：`{command}` 未在 {ms} 毫秒内完成',
  },
  'fault.adbServer': {
    args: { port: 'number', problem: 'string' },
    en: 'the adb server on port {port} {problem}: is it running? (`adb start-server`, or ANDROID_ADB_SERVER_PORT for another port)',
    'zh-CN': '端口 {port} 上的adb服务异常（{problem}）：它是否在运行？（`adb start-server`；其他端口请设置ANDROID_ADB_SERVER_PORT）',
  },
  'fault.capture': {
    args: { serial: 'string', method: 'string', problem: 'string' },
    en: '{serial}: {method} capture: {problem}',
    'zh-CN': '{serial}：{method} 方式抓包失败：{problem}',
  },
  'fault.captureDropped': {
    // The app verdict's words (app.captureDropped), under the device and the method.
    args: { serial: 'string', method: 'string', lost: 'message' },
    en: '{serial}: {method} capture: {lost}',
    'zh-CN': '{serial}：{method} 方式抓包：{lost}',
  },
  'fault.appium': {
    args: { action: 'string', problem: 'string' },
    en: 'Appium could not {action}: {problem}',
    'zh-CN': 'Appium未能完成操作（{action}）：{problem}',
  },

  // --- run verdicts (lib/report/verdict.ts) -------------------------------------------------------
  'verdict.noReason': { args: {}, en: 'skipped without a reason', 'zh-CN': '已跳过，但没有给出原因' },
  'verdict.notRun': {
    args: {},
    en: 'selected for this run, but it has no result (the run stopped before it, or its worker died)',
    'zh-CN': '本次测试选中了此项，但没有结果（测试在此之前已停止，或执行它的工作进程已退出）',
  },
  'verdict.nothingChecked': {
    args: {},
    en: 'every check was skipped: accepted skips alone certify nothing',
    'zh-CN': '所有检查项均被跳过：仅有已接受的跳过项，不能证明任何结论',
  },
  'verdict.noResults': { args: {}, en: 'no check of this device has a result', 'zh-CN': '该设备没有任何检查结果' },
} as const satisfies Record<string, MessageDef>;

export type MessageKey = keyof typeof CATALOGUE;

type ArgValue<K> = K extends 'number' ? number : K extends 'message' ? MessagePart : string;
/** The arguments a message takes, typed from the catalogue. */
export type MessageArgs<K extends MessageKey> = { [A in keyof (typeof CATALOGUE)[K]['args']]: ArgValue<(typeof CATALOGUE)[K]['args'][A]> };

const definition = (key: string): MessageDef | undefined => (Object.hasOwn(CATALOGUE, key) ? (CATALOGUE as Record<string, MessageDef>)[key] : undefined);

/** Every message key with its definition, for the tests and for a report's glossary. */
export function messageCatalogue(): ReadonlyArray<readonly [MessageKey, Readonly<MessageDef>]> {
  return Object.entries(CATALOGUE) as [MessageKey, MessageDef][];
}

/** A message of the catalogue with its arguments, and its English rendering. */
export function message<K extends MessageKey>(key: K, args: MessageArgs<K>): MessagePart {
  const flat: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(args as Record<string, string | number | MessagePart>)) {
    if (typeof value === 'object') {
      flat[`${name}@`] = value.message.key;
      for (const [inner, v] of Object.entries(value.message.args)) flat[`${name}.${inner}`] = v;
    } else flat[name] = value;
  }
  const made: ReasonMessage = { key, args: flat };
  return { message: made, english: renderMessage(made, 'en') };
}

/** An outcome's detail and its messages, from one message (spread beside the outcome's other fields). */
export function said(part: MessagePart): { detail: string; messages: ReasonMessage[] } {
  return { detail: part.english, messages: [part.message] };
}

/** An outcome's detail as one message again (to nest it): untranslated when it came without one. */
export function partOf(outcome: { detail: string; messages?: readonly ReasonMessage[] }): MessagePart {
  const only = outcome.messages?.length === 1 ? outcome.messages[0]! : null;
  return only === null ? message('untranslated', { text: outcome.detail }) : { message: only, english: outcome.detail };
}

/** A reason whose detail is its messages' English, joined by '; ' (how results.json renders them). */
export function reasonOf<C extends string>(code: C, ...parts: MessagePart[]): { code: C; detail: string; messages: ReasonMessage[] } {
  return { code, detail: parts.map((p) => p.english).join('; '), messages: parts.map((p) => p.message) };
}

/** A message nested under `name.` in a message's flattened arguments. */
function nested(args: Readonly<Record<string, string | number>>, name: string): ReasonMessage | null {
  const key = args[`${name}@`];
  if (typeof key !== 'string') return null;
  const prefix = `${name}.`;
  const inner: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(args)) if (k.startsWith(prefix)) inner[k.slice(prefix.length)] = v;
  return { key, args: inner };
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)(?::(\d)|\|([^|}]*)\|([^|}]*))?\}/g;

/**
 * A message in a language. A key not in the catalogue (results from a newer v6lab) or an argument
 * missing renders visibly as such, never as an empty string.
 */
export function renderMessage(m: ReasonMessage, lang: Lang): string {
  const def = definition(m.key);
  if (def === undefined) return `${m.key} ${JSON.stringify(m.args)}`;
  return def[lang].replace(PLACEHOLDER, (whole, name: string, digits: string | undefined, one: string | undefined, other: string | undefined) => {
    if (def.args[name] === 'message') {
      const inner = nested(m.args, name);
      return inner === null ? whole : renderMessage(inner, lang);
    }
    const value = m.args[name];
    if (value === undefined) return whole;
    if (one !== undefined) return value === 1 ? one : (other ?? '');
    if (digits !== undefined && typeof value === 'number') return value.toFixed(Number(digits));
    return String(value);
  });
}

/** Whether a message is another layer's English passed through (an error's own message). */
const isVerbatim = (m: ReasonMessage): boolean => definition(m.key)?.verbatim === true;

/** A reason's text in a language. */
export interface ReasonText {
  /** The text in the language asked for (for a reason with nothing translated: the code's title). */
  text: string;
  /**
   * English that is not translated, shown after `text` and marked lang="en": the detail of a
   * reason without messages (results from before issue 18, another tool's), or an error's own
   * words. Absent in English, and when everything was translated.
   */
  untranslated?: string;
}

const SEPARATOR: Localized = { en: '; ', 'zh-CN': '；' };

/**
 * A reason's text in a language: its messages rendered and joined; a reason without messages (or
 * whose words are an error's own) as the code's title in the language, its English detail beside it.
 */
export function reasonText(reason: CodedReason, lang: Lang): ReasonText {
  const messages = reason.messages ?? [];
  if (lang === 'en') return { text: messages.length === 0 ? reason.detail : messages.map((m) => renderMessage(m, 'en')).join(SEPARATOR.en) };
  if (messages.length === 0) return { text: reasonCodeTitle(reason.code, lang), untranslated: reason.detail };
  const translated = messages.filter((m) => !isVerbatim(m)).map((m) => renderMessage(m, lang));
  const verbatim = messages.filter(isVerbatim).map((m) => renderMessage(m, 'en'));
  const text = translated.length === 0 ? reasonCodeTitle(reason.code, lang) : translated.join(SEPARATOR[lang]);
  return verbatim.length === 0 ? { text } : { text, untranslated: verbatim.join(SEPARATOR.en) };
}

/** A reason's text as one line (a console, a plain-text summary): the untranslated part after the text. */
export function reasonLine(reason: CodedReason, lang: Lang): string {
  const { text, untranslated } = reasonText(reason, lang);
  return untranslated === undefined ? text : `${text}${lang === 'zh-CN' ? '：' : ': '}${untranslated}`;
}

// --- reason codes --------------------------------------------------------------------------------

/**
 * What a reason says about the run: `product` a failure of the phone, its firmware or an app (a
 * failed test in Allure's "Product defects"); `harness` a problem of the harness, the lab or the
 * evidence (broken: nothing was proven either way); `skip` why a check was not run at all.
 */
export type ReasonKind = 'product' | 'harness' | 'skip';

interface CodeDef {
  kind: ReasonKind;
  title: Localized;
}

const CODES = {
  // app verdicts (lib/checks/app-verdict.ts)
  IPV4_LITERAL: { kind: 'product', title: { en: 'Hard-coded IPv4 address', 'zh-CN': '写死的IPv4地址' } },
  NO_AAAA_QUERY: { kind: 'product', title: { en: 'No AAAA query', 'zh-CN': '未查询AAAA记录' } },
  IPV4_FIRST: { kind: 'product', title: { en: 'IPv4 tried first', 'zh-CN': '首选了IPv4' } },
  SERVER_NO_IPV6: { kind: 'product', title: { en: 'Server without IPv6', 'zh-CN': '服务端不支持IPv6' } },
  IPV6_FAILED: { kind: 'product', title: { en: 'IPv6 connection failed', 'zh-CN': 'IPv6连接失败' } },
  IPV6_STALLED: { kind: 'product', title: { en: 'IPv6 connection stalled', 'zh-CN': 'IPv6连接握手后无回包' } },
  SLOW_FALLBACK: { kind: 'product', title: { en: 'Slow fallback', 'zh-CN': '回退过慢' } },
  LOW_IPV6_SHARE: { kind: 'product', title: { en: 'Low IPv6 share', 'zh-CN': 'IPv6字节占比过低' } },
  // Nothing of the app was seen: no verdict on it either way.
  NO_TRAFFIC: { kind: 'harness', title: { en: 'No app traffic seen', 'zh-CN': '未观察到应用流量' } },
  // The analysis dropped detail to stay in its memory bound: what was listed is not all there was.
  CAPTURE_INCOMPLETE: { kind: 'harness', title: { en: 'Capture analysed in part', 'zh-CN': '抓包未完整分析' } },
  // tcpdump said the kernel dropped packets: the capture is missing some of what happened.
  CAPTURE_DROPPED: { kind: 'harness', title: { en: 'Capture lost packets', 'zh-CN': '抓包丢包' } },
  // OS and APN checks (lib/checks/os.ts)
  APN_TABLE_UNREADABLE: { kind: 'harness', title: { en: 'APN table unreadable', 'zh-CN': 'APN表无法读取' } },
  APN_NOT_DUAL_STACK: { kind: 'product', title: { en: 'APN not dual-stack', 'zh-CN': 'APN不是双栈' } },
  NO_APN: { kind: 'product', title: { en: 'No APN', 'zh-CN': '没有APN' } },
  APN_PROTOCOL_NOT_IPV4V6: { kind: 'product', title: { en: 'APN protocol not IPV4V6', 'zh-CN': 'APN协议不是IPV4V6' } },
  APN_ROAMING_PROTOCOL_IPV4: { kind: 'product', title: { en: 'APN roaming protocol IPv4 only', 'zh-CN': 'APN漫游协议仅IPv4' } },
  IPV6_DISABLED: { kind: 'product', title: { en: 'IPv6 disabled', 'zh-CN': 'IPv6被禁用' } },
  SYSCTL_UNREADABLE: { kind: 'harness', title: { en: 'IPv6 settings unreadable', 'zh-CN': 'IPv6内核参数无法读取' } },
  NO_GLOBAL_IPV6: { kind: 'product', title: { en: 'No global IPv6 address', 'zh-CN': '没有全局IPv6地址' } },
  NO_PRIVACY_ADDRESS: { kind: 'product', title: { en: 'No privacy address', 'zh-CN': '没有隐私地址' } },
  NOT_IPV6_ONLY: { kind: 'product', title: { en: 'Not an IPv6-only attach', 'zh-CN': '不是纯IPv6附着' } },
  CLAT_WITH_NATIVE_IPV4: { kind: 'product', title: { en: 'CLAT beside native IPv4', 'zh-CN': '已有原生IPv4仍启用CLAT' } },
  NO_CLAT: { kind: 'product', title: { en: 'No CLAT', 'zh-CN': '没有CLAT' } },
  CLAT_NOT_DEFAULT: { kind: 'product', title: { en: 'IPv4 default route not via CLAT', 'zh-CN': 'IPv4默认路由未指向CLAT' } },
  NO_NAT64_PREFIX: { kind: 'product', title: { en: 'No NAT64 prefix', 'zh-CN': '没有NAT64前缀' } },
  NAT64_PREFIX_MISMATCH: { kind: 'product', title: { en: 'NAT64 prefix mismatch', 'zh-CN': 'NAT64前缀不一致' } },
  NOT_DUAL_STACK: { kind: 'product', title: { en: 'Not dual-stack', 'zh-CN': '不是双栈' } },
  NO_PROBE_TRAFFIC: { kind: 'harness', title: { en: 'No probe traffic seen', 'zh-CN': '未观察到探测流量' } },
  IPV4_UNREACHABLE: { kind: 'product', title: { en: 'IPv4-only destination unreachable', 'zh-CN': '纯IPv4目的地不可达' } },
  CONNECTIVITY_UNREADABLE: { kind: 'harness', title: { en: 'Connectivity state unreadable', 'zh-CN': '网络连接状态无法读取' } },
  // the harness (lib/harness)
  NETWORK_UNAVAILABLE: { kind: 'skip', title: { en: 'Network not reached', 'zh-CN': '未接入该网络' } },
  // The device did not attach where its own factory protocols were asked for.
  ATTACH_FAILED: { kind: 'product', title: { en: 'Attach failed', 'zh-CN': '附着失败' } },
  EVIDENCE_MISSING: { kind: 'harness', title: { en: 'Evidence missing', 'zh-CN': '缺少证据' } },
  NO_PROBE_URL: { kind: 'skip', title: { en: 'No probe URL', 'zh-CN': '未配置探测URL' } },
  NOT_INSTALLED: { kind: 'skip', title: { en: 'App not installed', 'zh-CN': '应用未安装' } },
  DEVICE_DISCONNECTED: { kind: 'harness', title: { en: 'Device disconnected', 'zh-CN': '设备连接断开' } },
  ADB_SERVER_DOWN: { kind: 'harness', title: { en: 'adb server down', 'zh-CN': 'adb服务中断' } },
  STORAGE_FULL: { kind: 'harness', title: { en: 'Storage full', 'zh-CN': '存储空间已满' } },
  CAPTURE_FAILED: { kind: 'harness', title: { en: 'Capture failed', 'zh-CN': '抓包失败' } },
  // A crash is the app's (lib/harness/faults.ts), though the check broke on it.
  APP_CRASHED: { kind: 'product', title: { en: 'App crashed', 'zh-CN': '应用崩溃' } },
  DEVICE_STATE: { kind: 'harness', title: { en: 'Device settings not changed', 'zh-CN': '设备设置修改失败' } },
  APPIUM_ERROR: { kind: 'harness', title: { en: 'Appium error', 'zh-CN': 'Appium出错' } },
  HARNESS_ERROR: { kind: 'harness', title: { en: 'Harness error', 'zh-CN': '测试工具出错' } },
  DeviceCommandError: { kind: 'harness', title: { en: 'Device command failed', 'zh-CN': '设备命令执行失败' } },
  DeviceTimeoutError: { kind: 'harness', title: { en: 'Device command timed out', 'zh-CN': '设备命令超时' } },
  DeviceError: { kind: 'harness', title: { en: 'Device error', 'zh-CN': '设备出错' } },
  // run verdicts (lib/report/verdict.ts)
  NO_REASON: { kind: 'skip', title: { en: 'Skipped without a reason', 'zh-CN': '无原因跳过' } },
  NOT_RUN: { kind: 'harness', title: { en: 'Not run', 'zh-CN': '未执行' } },
  NOTHING_CHECKED: { kind: 'skip', title: { en: 'Nothing checked', 'zh-CN': '未检查任何项' } },
  NO_RESULTS: { kind: 'harness', title: { en: 'No results', 'zh-CN': '没有结果' } },
} as const satisfies Record<string, CodeDef>;

export type KnownReasonCode = keyof typeof CODES;

const codeDef = (code: string): CodeDef | undefined => (Object.hasOwn(CODES, code) ? (CODES as Record<string, CodeDef>)[code] : undefined);

/** Every reason code v6lab gives, for the tests and for a report's glossary. */
export const REASON_CODES: readonly KnownReasonCode[] = Object.keys(CODES) as KnownReasonCode[];

/** A short title of a reason code in a language; a code v6lab does not give (another tool's) is shown as it is. */
export function reasonCodeTitle(code: string, lang: Lang): string {
  return codeDef(code)?.title[lang] ?? code;
}

/** Whether a reason code is a product failure, a harness problem or a skip; a code v6lab does not give counts as the harness's (nothing proven). */
export function reasonKind(code: string): ReasonKind {
  return codeDef(code)?.kind ?? 'harness';
}
