/**
 * The lab's long-running process: serves every virtual handset over adb on its emulator port
 * and re-attaches a handset when its APN table changes (as a phone's modem does when the
 * preferred APN or its protocol is edited). Started detached by `v6lab lab up`, stopped by
 * `v6lab lab down` (by PID and start time).
 *
 *   node supervisor.js STATE_DIR
 *
 * `adb reboot` takes a handset away for V6LAB_REBOOT_MS milliseconds (default 3000, at most 50000;
 * read from the supervisor's environment, i.e. that of `lab up`): its apps stop, its adb
 * connections drop, its port stops listening, then listens again and the adb server, which
 * retries a dropped emulator port every second, finds the same serial. `v6lab lab unplug` does
 * the same without the reboot (lib/lab/unplug.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import { join } from 'node:path';
import createDebug from 'debug';
import { AdbDaemon, DEFAULT_REBOOT_MS } from './adbd/index.js';
import { readHandsetState, updateHandsetState, type HandsetState } from './android/state.js';
import { HandsetBootError, HandsetContainer } from './container.js';
import { joinsWifi } from './android/connectivity.js';
import { ContainerHandsetHost } from './handset.js';
import { readAcceptedKeys } from './adbd/keys.js';
import { adbKeysPath, apnTypeOf, handsetCodePath, handsetProgramsInside, readRegistry, type HandsetRecord } from './lab.js';
import { LabStateError } from './network/errors.js';
import { readState, reattach, setWifi, type ApnType, type PdpType } from './network/index.js';
import { cables, joinEthernet, leaveEthernet, NO_CARRIER } from './network/ethernet.js';
import { runDirOf } from './network/down.js';
import { hostUid, usernsFile } from './network/userns.js';
import { AID_SHELL } from './android/control-socket.js';
import { MAX_AWAY_MS, takeUnplugRequest, UNPLUG_REQUEST } from './unplug.js';

const log = createDebug('v6lab:lab:supervisor');

/** The attach an APN table asks for: the preferred entry's APN name and protocol ("IP" if none). */
function wantedAttach(state: HandsetState): { apn: ApnType; pdp: PdpType; apnName: string } | null {
  const row = state.apns.find((a) => a._id === state.preferredApnId);
  if (!row) return null;
  const apn = apnTypeOf(row.apn);
  return apn === null ? null : { apn, pdp: row.protocol ?? 'IP', apnName: row.apn };
}

/** V6LAB_REBOOT_MS: how long `adb reboot` keeps a handset away, in ms. */
function rebootMsFrom(env: NodeJS.ProcessEnv): number {
  const text = env.V6LAB_REBOOT_MS;
  if (text === undefined || text === '') return DEFAULT_REBOOT_MS;
  const ms = Number(text);
  if (!/^\d+$/.test(text) || ms > MAX_AWAY_MS) throw new Error(`V6LAB_REBOOT_MS: expected milliseconds from 0 to ${MAX_AWAY_MS}, got ${JSON.stringify(text)}`);
  return ms;
}

class HandsetServer {
  private readonly host: ContainerHandsetHost;
  private readonly daemon: AdbDaemon;
  /** The handset itself: its init serves `am`, `monkey` and `su` inside it. */
  private readonly container: HandsetContainer;
  private attaching = false;
  private again = false;
  /**
   * The attach the APN table asked for when last looked at. Only a change of it re-attaches:
   * `lab up --apn` may attach elsewhere than the table says, and other writes to the state file
   * (settings, running apps) must not undo that.
   */
  private tableWants: string | null = null;
  /** Whether the handset was on its Wi-Fi when last looked at (only a change turns it on or off). */
  private wifiWants: boolean | null = null;
  /** `ip monitor link` in the handset's namespace: an Ethernet link appearing, gaining or losing carrier. */
  private linkMonitor: ChildProcess | null = null;
  /** The Ethernet link changes, one after another (each waits for the one before). */
  private ethernetQueue: Promise<void> = Promise.resolve();
  private ethernetPending = false;
  /** The Ethernet link last provisioned (or tried) and whether it had carrier then. */
  private ethernetSeen: { ifname: string; carrier: boolean } | null = null;

  constructor(
    private readonly stateDir: string,
    readonly record: HandsetRecord,
    rebootMs: number,
  ) {
    const state = readHandsetState(record.dir);
    const runDir = runDirOf(stateDir);
    const programs = handsetProgramsInside();
    this.container = new HandsetContainer({
      index: record.index,
      namespace: record.namespace,
      usernsFile: usernsFile(runDir, record.namespace),
      dir: record.dir,
      codeDir: handsetCodePath(stateDir),
      init: programs.init,
      logFile: join(runDir, 'logs', `${record.namespace.replace(/^v6l-[a-z0-9]+-/, '')}-console.log`),
      bootDir: join(runDir, 'boot', record.namespace),
    });
    this.host = new ContainerHandsetHost({
      namespace: record.namespace,
      dir: record.dir,
      container: this.container,
      syncAgent: programs.syncAgent,
      shellHostUid: hostUid(record.index, AID_SHELL),
      buildType: state.profile.buildType,
    });
    this.daemon = new AdbDaemon(this.host, {
      banner: { product: state.profile.device, model: state.profile.model.replaceAll(' ', '_'), device: state.profile.device },
      rebootMs,
      // The adb hosts lab up was told to accept: no other gets past AUTH.
      authorizedKeys: readAcceptedKeys(adbKeysPath(stateDir)),
    });
  }

  async start(): Promise<void> {
    try {
      await this.container.start();
    } catch (error) {
      if (error instanceof HandsetBootError) throw new HandsetBootError(`${this.record.serial}: ${error.message}`);
      throw error;
    }
    await this.daemon.listen(this.record.adbPort, '127.0.0.1');
    log('%s serving adb on 127.0.0.1:%d', this.record.serial, this.record.adbPort);
    const booted = readHandsetState(this.record.dir);
    this.tableWants = JSON.stringify(wantedAttach(booted));
    this.wifiWants = joinsWifi(booted);
    this.watchEthernet();
    // The state file is replaced by rename: watch the directory.
    watch(this.record.dir, (_event, name) => {
      if (name === 'handset.json') void this.apnChanged();
      if (name === UNPLUG_REQUEST) this.unplugRequested();
    });
  }

  /**
   * Android's EthernetTracker: an `eth*` cable moved into the handset's namespace is brought up and,
   * once it has carrier, provisioned as the default network; one that loses carrier or goes is left.
   */
  private watchEthernet(): void {
    const monitor = spawn('ip', ['-n', this.record.namespace, '-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.linkMonitor = monitor;
    monitor.stdout?.on('data', () => this.ethernetChanged());
    monitor.on('error', (error) => process.stderr.write(`${this.record.serial}: ip monitor: ${error.message}\n`));
    this.ethernetChanged();
  }

  /** Queues one look at the links (a burst of events makes one). */
  private ethernetChanged(): void {
    if (this.ethernetPending) return;
    this.ethernetPending = true;
    this.ethernetQueue = this.ethernetQueue.then(async () => {
      this.ethernetPending = false;
      try {
        await this.reconcileEthernet();
      } catch (error) {
        process.stderr.write(`${this.record.serial}: Ethernet: ${(error as Error).message}\n`);
      }
    });
  }

  private async reconcileEthernet(): Promise<void> {
    const lab = await readState(this.stateDir);
    const current = lab?.handsets.find((h) => h.index === this.record.index);
    if (!lab || !current) return;
    // Only a cable the host moved in (ethernet.ts, cablesAmong: a veth whose peer is in a namespace
    // the host named), never an eth* the handset's own root made in its namespace.
    const link = (await cables(lab.labId, this.record.index))[0];
    const carrier = link?.flags?.includes('LOWER_UP') === true;
    const known = current.ethernet ?? null;
    if (known?.connected && (link === undefined || link.ifname !== known.interface || !carrier)) {
      log('%s Ethernet %s %s', this.record.serial, known.interface, link === undefined ? 'gone' : 'lost carrier');
      await leaveEthernet(lab, this.record.index, link === undefined ? 'the link went' : 'the link lost carrier');
      this.recordEthernet(null);
      this.ethernetSeen = null;
      return this.reconcileEthernet();
    }
    if (link === undefined) {
      this.ethernetSeen = null;
      return;
    }
    if (known?.connected) return;
    // Provisioned once per link and per carrier coming: a link first seen, or one whose carrier
    // came since the last try (a try's own link events must not start another).
    const seen = this.ethernetSeen;
    if (seen !== null && seen.ifname === link.ifname && (seen.carrier || !carrier)) return;
    log('%s Ethernet %s: provisioning', this.record.serial, link.ifname);
    // Tried once per carrier: a failed provisioning is not retried on its own link events.
    this.ethernetSeen = { ifname: link.ifname, carrier };
    const ethernet = await joinEthernet(lab, this.record.index, link.ifname);
    this.ethernetSeen = { ifname: link.ifname, carrier: ethernet.connected || ethernet.error !== NO_CARRIER };
    if (!ethernet.connected) {
      log('%s Ethernet %s: %s', this.record.serial, link.ifname, ethernet.error);
      return;
    }
    const clatProcess = (await readState(this.stateDir))?.processes.find((p) => p.handsetIndex === this.record.index && p.name === `tayga-clat-${link.ifname}`);
    this.recordEthernet({
      interface: ethernet.interface,
      dns: ethernet.dnsServers,
      nat64Prefix: ethernet.nat64Prefix,
      clat: ethernet.clat === null ? null : { v6Address: ethernet.clat.ipv6, interface: ethernet.clat.interface, pid: clatProcess?.pid ?? 0 },
    });
  }

  /** What dumpsys connectivity shows of Ethernet (handset.json). */
  private recordEthernet(ethernet: HandsetState['ethernet']): void {
    updateHandsetState(this.record.dir, (fresh) => {
      fresh.ethernet = ethernet;
    });
  }

  /** `v6lab lab unplug`: the cable pulled for the time asked, the handset as it is otherwise. */
  private unplugRequested(): void {
    const ms = takeUnplugRequest(this.record.dir);
    if (ms === null) return;
    log('%s unplugged for %d ms', this.record.serial, ms);
    if (!this.daemon.unplug(ms)) log('%s: already away', this.record.serial);
  }

  private async apnChanged(): Promise<void> {
    if (this.attaching) {
      this.again = true;
      return;
    }
    this.attaching = true;
    try {
      do {
        this.again = false;
        const state = readHandsetState(this.record.dir);
        const wanted = wantedAttach(state);
        const lab = await readState(this.stateDir);
        const wifi = joinsWifi(state);
        if (wifi !== this.wifiWants && lab) {
          this.wifiWants = wifi;
          const current = lab.handsets.find((h) => h.index === this.record.index);
          if (current?.wifi) {
            log('%s Wi-Fi %s', this.record.serial, wifi ? 'on' : 'off');
            await setWifi(lab, this.record.index, wifi);
          }
        }
        const current = lab?.handsets.find((h) => h.index === this.record.index);
        const wants = JSON.stringify(wanted);
        if (wants === this.tableWants) continue;
        this.tableWants = wants;
        if (!wanted || !lab || !current) continue;
        if (current.apn === wanted.apn && current.pdpType === wanted.pdp) continue;
        log('%s re-attaching: %s/%s -> %s/%s', this.record.serial, current.apn, current.pdpType, wanted.apn, wanted.pdp);
        const attached = await reattach(lab, this.record.index, wanted.apn, wanted.pdp);
        updateHandsetState(this.record.dir, (fresh) => {
          fresh.network = {
            apn: wanted.apnName,
            pdp: attached.pdpType,
            families: attached.families,
            nat64Prefix: attached.clat?.nat64Prefix ?? null,
            clat: attached.clat ? { v6Address: attached.clat.ipv6, interface: attached.clat.interface, pid: 0 } : null,
            dns: attached.dnsServers,
          };
        });
      } while (this.again);
    } catch (error) {
      process.stderr.write(`${this.record.serial}: re-attach failed: ${(error as Error).message}\n`);
    } finally {
      this.attaching = false;
    }
  }

  async close(): Promise<void> {
    if (this.linkMonitor?.pid !== undefined && this.linkMonitor.exitCode === null) this.linkMonitor.kill('SIGTERM');
    // The handset first (its apps with it): quick, and done even if closing adb takes long.
    await this.container.stop();
    await this.daemon.close();
    this.host.close();
  }
}

async function main(stateDir: string): Promise<void> {
  const rebootMs = rebootMsFrom(process.env);
  const servers = readRegistry(stateDir).map((record) => new HandsetServer(stateDir, record, rebootMs));
  if (servers.length === 0) throw new Error(`no handsets registered in ${stateDir}`);
  await Promise.all(servers.map((s) => s.start()));
  const stop = async () => {
    await Promise.allSettled(servers.map((s) => s.close()));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

const stateDir = process.argv[2];
if (!stateDir) {
  process.stderr.write('usage: supervisor.js STATE_DIR\n');
  process.exit(2);
}
main(stateDir).catch((error: Error) => {
  // A state file that is not what the lab wrote says so in one line; anything else with its stack.
  process.stderr.write(`supervisor: ${error instanceof LabStateError || error instanceof HandsetBootError ? error.message : (error.stack ?? error.message)}\n`);
  process.exit(1);
});
