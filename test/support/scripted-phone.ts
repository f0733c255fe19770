/**
 * A scripted phone behind DeviceBackend for the harness's unit tests: an APN table, a preferred
 * APN that decides which network the phone attaches to (or none, when the network refuses it),
 * a Wi-Fi that can be the default network, and the commands the harness reads them with, each
 * answering in Android's format (the virtual handset's fixtures in test/fixtures/android/).
 * Every command it is sent is kept, so a test can say what the harness did.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { DeviceBackend, Presence, RunResult } from '../../lib/device/adb.js';
import { DeviceCommandError } from '../../lib/device/errors.js';
import { ScriptedPresence } from './presence.js';

export interface ScriptedApn {
  id: string;
  apn: string;
  protocol: 'IP' | 'IPV6' | 'IPV4V6';
  /** What this APN's network gives: null refuses the attach (no common IP version). */
  gives: 'ipv6-only' | 'dual-stack' | null;
}

const MOBILE_V6 = '2001:db8:739f:0:4048:4fd2:1d6c:f911';

export class ScriptedPhone implements DeviceBackend {
  readonly sent: string[][] = [];
  readonly presence: ScriptedPresence;
  /** The APN the mobile network is on, or null when there is no mobile network. */
  attachedApn: string | null;
  /** Whether the preferred APN's change is followed by an attach (false: the phone ignores it, as one that never re-attaches). */
  followsPreferred = true;
  /** A Wi-Fi network that is the default network (Wi-Fi on and joined). */
  wifiDefault = false;
  /** Whether `svc wifi` works (false: refused, as under a device policy that pins Wi-Fi on). */
  wifiSwitchable = true;
  /** Whether Wi-Fi is on (`settings get global wifi_on`), and so joined when wifiDefault was set. */
  private wifiOn = true;
  private joinedBeforeOff = false;
  /** The SSID of the one (open) Wi-Fi network in range, which `cmd wifi connect-network` can join. */
  wifiInRange = 'v6lab-wifi';
  /**
   * An Ethernet network on eth1 (a cable to a v6lab gateway, an emulator's tap): Android's default
   * network over Wi-Fi and cellular. Its addresses are what the gateway gave.
   */
  ethernet: { ipv6: string; ipv4: string | null } | null = null;
  /** Whether the shell may read the APN table. */
  apnTableReadable = true;
  preferredId: string;

  constructor(
    readonly serial: string,
    readonly apns: ScriptedApn[],
    onApn: string,
  ) {
    this.presence = new ScriptedPresence(serial);
    this.preferredId = apns.find((a) => a.apn === onApn)!.id;
    this.attachedApn = onApn;
  }

  private get network(): ScriptedApn | null {
    return this.apns.find((a) => a.apn === this.attachedApn && a.gives !== null) ?? null;
  }

  private answer(argv: readonly string[]): RunResult {
    const line = argv.join(' ');
    const ok = (output: string): RunResult => ({ output, exitCode: 0 });
    const net = this.network;
    if (line === 'dumpsys connectivity') return ok(this.dumpsysConnectivity(net));
    if (line === 'content query --uri content://telephony/carriers') {
      if (!this.apnTableReadable)
        return { output: 'Error while accessing provider:telephony\njava.lang.SecurityException: No permission to access APN settings\n', exitCode: 1 };
      return ok(
        this.apns
          .map(
            (a, i) =>
              `Row: ${i} _id=${a.id}, name=${a.apn}, numeric=46099, mcc=460, mnc=99, apn=${a.apn}, type=default,supl, protocol=${a.protocol}, roaming_protocol=${a.protocol}, current=1\n`,
          )
          .join(''),
      );
    }
    if (line === 'content query --uri content://telephony/carriers/preferapn') return ok(`Row: 0 _id=${this.preferredId}\n`);
    if (line.startsWith('content insert --uri content://telephony/carriers/preferapn --bind apn_id:i:')) {
      this.preferredId = line.split('apn_id:i:')[1]!;
      if (this.followsPreferred) this.attachedApn = this.apns.find((a) => a.id === this.preferredId)?.apn ?? null;
      return ok('');
    }
    if (line === 'ip -o addr show') return ok(this.ipAddr(net));
    // As a real phone keeps them: each network's routes in a table of its own, none in main
    // (test/fixtures/android-real/ip-route/tailscale-2653-pixel-a12-ip-route-show-table-0.txt).
    if (line === 'ip -6 route show table all') {
      const local = 'local ::1 dev lo table local proto kernel metric 0 pref medium\n';
      const wifi = this.wifiDefault ? 'default via fe80::1 dev wlan0 table 1030 proto ra metric 1024 pref medium\n' : '';
      const eth = this.ethernet !== null ? 'default via fe80::2 dev eth1 table 1031 proto ra metric 1024 pref medium\n' : '';
      return ok(
        `${net === null ? '' : 'default via fe80::5465:6cff:fec0:afb9 dev rmnet_data0 table 1053 proto ra metric 1024 pref medium\n'}${wifi}${eth}${local}`,
      );
    }
    if (line === 'ip -4 route show table all') {
      const local = 'local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1\n';
      const wifi = `${this.wifiDefault ? 'default via 192.168.1.1 dev wlan0 table 1030 proto static\n' : ''}${this.ethernet?.ipv4 ? 'default via 10.0.0.1 dev eth1 table 1031 proto static\n' : ''}`;
      if (net === null) return ok(`${wifi}${local}`);
      return ok(
        net.gives === 'dual-stack'
          ? `default via 10.0.0.1 dev rmnet_data0 table 1053 proto static\n${wifi}${local}`
          : `default via 192.0.0.4 dev v4-rmnet_data0 table 1054 proto static\n${wifi}${local}`,
      );
    }
    if (argv[0] === 'cat' && argv[1]?.startsWith('/proc/sys/net/ipv6/conf/'))
      return ok(argv[1].endsWith('disable_ipv6') ? '0\n' : argv[1].endsWith('accept_ra') ? '2\n' : '2\n');
    if (line === 'settings get global private_dns_mode') return ok('off\n');
    if (line === 'settings get global wifi_on') return ok(this.wifiOn ? '1\n' : '0\n');
    if (line === 'cmd wifi status')
      return ok(
        !this.wifiOn ? 'Wifi is disabled\n' : `Wifi is enabled\n${this.wifiDefault ? `Wifi is connected to "${this.wifiInRange}"` : 'Wifi is not connected'}\n`,
      );
    if (argv[0] === 'cmd' && argv[1] === 'wifi' && argv[2] === 'connect-network') {
      if (this.wifiOn && argv[3] === this.wifiInRange) this.wifiDefault = true;
      return ok('Connection initiated \n');
    }
    if (line === 'svc wifi disable' || line === 'svc wifi enable') {
      if (!this.wifiSwitchable) return { output: 'svc: wifi: not allowed by device policy\n', exitCode: 1 };
      // Off, Wi-Fi is no network at all; on again, it is joined and the default as before.
      const on = line.endsWith('enable');
      if (this.wifiOn && !on) this.joinedBeforeOff = this.wifiDefault;
      if (!on) this.wifiDefault = false;
      if (on && !this.wifiOn) this.wifiDefault = this.joinedBeforeOff;
      this.wifiOn = on;
      return ok('');
    }
    if (argv[0] === 'settings') return ok('');
    if (line === 'date +%s.%N') return ok(`${(Date.now() / 1000).toFixed(9)}\n`);
    if (argv[0] === 'am' || argv[0] === 'pm') return ok('');
    if (argv[0] === 'dumpsys' && argv[1] === 'package') return ok(`Packages:\n  Package [${argv[2]}] (1a2b3c):\n    userId=10123\n`);
    return { output: `/system/bin/sh: ${argv[0]}: inaccessible or not found\n`, exitCode: 127 };
  }

  private dumpsysConnectivity(net: ScriptedApn | null): string {
    const lines: string[] = [];
    const wifi = this.wifiDefault
      ? '  NetworkAgentInfo{network{101}  handle{433791696908}  ni{WIFI CONNECTED extra: "v6lab-wifi"}  created{true}  lingering{false}  everValidated{true}  lastValidated{true}  lp{{InterfaceName: wlan0 LinkAddresses: [ 2001:db8:1::2/64,192.168.1.2/24 ] DnsAddresses: [ /2001:db8:1::1,/192.168.1.1 ] Domains: null MTU: 1500 Routes: [ ::/0 -> fe80::1 wlan0 mtu 0,0.0.0.0/0 -> 192.168.1.1 wlan0 mtu 0 ]}}  nc{[ Transports: WIFI Capabilities: INTERNET&NOT_RESTRICTED&TRUSTED&VALIDATED&NOT_VPN]}}'
      : null;
    // Ethernet's legacy type name is "Ethernet" (AOSP EthernetNetworkFactory NETWORK_TYPE), its extra the MAC.
    const eth =
      this.ethernet === null
        ? null
        : `  NetworkAgentInfo{network{102}  handle{438086664204}  ni{Ethernet CONNECTED extra: 02:00:00:00:00:01}  created{true}  lingering{false}  everValidated{true}  lastValidated{true}  lp{{InterfaceName: eth1 LinkAddresses: [ ${this.ethernet.ipv6}/64${this.ethernet.ipv4 === null ? '' : `,${this.ethernet.ipv4}/24`} ] DnsAddresses: [ /2001:db8:e::1 ] Domains: null MTU: 1500 Routes: [ ::/0 -> fe80::2 eth1 mtu 0 ]}}  nc{[ Transports: ETHERNET Capabilities: INTERNET&NOT_RESTRICTED&TRUSTED&VALIDATED&NOT_VPN]}}`;
    const active = this.ethernet !== null ? 102 : this.wifiDefault ? 101 : net === null ? 'none' : 100;
    lines.push(`Active default network: ${active}`, '', 'Current Networks:');
    if (net !== null) {
      const v4 = net.gives === 'dual-stack';
      const addresses = v4 ? `${MOBILE_V6}/64,10.0.0.2/24` : `${MOBILE_V6}/64`;
      const stacked = v4
        ? ''
        : ' Nat64Prefix: 64:ff9b::/96 Stacked: [[ {InterfaceName: v4-rmnet_data0 LinkAddresses: [ 192.0.0.4/32 ] DnsAddresses: [ ] Domains: null MTU: 0 Routes: [ 0.0.0.0/0 -> 192.0.0.4 v4-rmnet_data0 mtu 0 ]} ]]';
      lines.push(
        `  NetworkAgentInfo{network{100}  handle{429496732928}  ni{MOBILE[LTE] CONNECTED extra: ${net.apn}}  created{true}  lingering{false}  everValidated{true}  lastValidated{true}  lp{{InterfaceName: rmnet_data0 LinkAddresses: [ ${addresses} ] DnsAddresses: [ /2001:db8:739f::1 ] Domains: null MTU: 1500 Routes: [ ::/0 -> fe80::5465:6cff:fec0:afb9 rmnet_data0 mtu 0 ]${stacked}}}  nc{[ Transports: CELLULAR Capabilities: INTERNET&NOT_RESTRICTED&TRUSTED&VALIDATED&NOT_VPN]}}`,
      );
    }
    if (wifi !== null) lines.push(wifi);
    if (eth !== null) lines.push(eth);
    return `${lines.join('\n')}\n`;
  }

  private ipAddr(net: ScriptedApn | null): string {
    const lines = ['1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever'];
    if (net !== null) {
      lines.push(`2: rmnet_data0    inet6 ${MOBILE_V6}/64 scope global temporary dynamic \\       valid_lft 86395sec preferred_lft 14395sec`);
      if (net.gives === 'dual-stack') lines.push('2: rmnet_data0    inet 10.0.0.2/24 scope global rmnet_data0\\       valid_lft forever preferred_lft forever');
      else lines.push('3: v4-rmnet_data0    inet 192.0.0.4/32 scope global v4-rmnet_data0\\       valid_lft forever preferred_lft forever');
    }
    if (this.wifiDefault) {
      lines.push('4: wlan0    inet 192.168.1.2/24 scope global wlan0\\       valid_lft forever preferred_lft forever');
      lines.push('4: wlan0    inet6 2001:db8:1::2/64 scope global temporary dynamic \\       valid_lft 86395sec preferred_lft 14395sec');
    }
    if (this.ethernet !== null) {
      lines.push(`5: eth1    inet6 ${this.ethernet.ipv6}/64 scope global dynamic mngtmpaddr \\       valid_lft 86395sec preferred_lft 14395sec`);
      if (this.ethernet.ipv4 !== null) lines.push(`5: eth1    inet ${this.ethernet.ipv4}/24 scope global eth1\\       valid_lft forever preferred_lft forever`);
    }
    return `${lines.join('\n')}\n`;
  }

  async run(argv: readonly string[]): Promise<RunResult> {
    this.sent.push([...argv]);
    await this.presence.ensureAvailable();
    return this.answer(argv);
  }

  async runOk(argv: readonly string[]): Promise<string> {
    const r = await this.run(argv);
    if (r.exitCode !== 0) throw new DeviceCommandError(this.serial, argv, r.exitCode, r.output, null);
    return r.output;
  }

  async stream(): Promise<Readable> {
    return new PassThrough();
  }

  async pull(): Promise<Buffer> {
    return Buffer.alloc(0);
  }

  async push(): Promise<void> {}

  ensureAvailable(): Promise<void> {
    return this.presence.ensureAvailable();
  }

  watchPresence(): Promise<Presence> {
    return this.presence.watchPresence();
  }
}
