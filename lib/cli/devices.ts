/** `v6lab devices [--json]`: every device adb sees, with what the harness learns of each. */
import { AdbkitBackend, adbClient, adbServerAddress, describeAdbServer, isAdbNotInstalled, type AdbServerAddress } from '../device/adb.js';
import { probeDevice, type DeviceFacts } from '../device/facts.js';
import type { SimOperator } from '../device/identity.js';
import { printable } from '../net/printable.js';
import { renderTable } from './table.js';

/** The SIM operators in a cell: `Movistar 214/07, simyo 214/03`; `-` with no SIM. */
function simsText(sims: readonly SimOperator[]): string {
  return sims.map((s) => [s.name, s.mcc === null ? null : `${s.mcc}/${s.mnc}`].filter((x) => x !== null).join(' ')).join(', ') || '-';
}

export class AdbServerUnreachableError extends Error {
  override name = 'AdbServerUnreachableError';
}

/**
 * Why the adb server (on `port` of this machine, or at the address given) could not be reached,
 * as one line saying what to do: adb missing from the machine wants installing, which
 * `adb start-server` cannot do.
 */
export function adbUnreachable(error: unknown, server: number | Pick<AdbServerAddress, 'host' | 'port'>): AdbServerUnreachableError {
  const where = describeAdbServer(typeof server === 'number' ? { host: '127.0.0.1', port: server } : server);
  if (isAdbNotInstalled(error)) {
    return new AdbServerUnreachableError(
      `adb is not installed: no adb server answers on ${where} and there is no \`adb\` on PATH to start one; install it (Debian or Ubuntu: \`apt-get install adb\`; elsewhere Android's SDK platform-tools) or add the directory that holds it to PATH`,
      { cause: error },
    );
  }
  // adbkit's failed `adb start-server` puts the command and adb's stderr on separate lines.
  const reason = String((error as Error)?.message ?? error)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(': ');
  return new AdbServerUnreachableError(
    `cannot reach the adb server on ${where}: ${reason} (start it with \`adb start-server\`, or set ANDROID_ADB_SERVER_PORT to the port yours listens on, ANDROID_ADB_SERVER_ADDRESS to its host, or ADB_SERVER_SOCKET=tcp:HOST:PORT)`,
    { cause: error },
  );
}

export async function devicesCommand(options: { json?: boolean }, out: NodeJS.WritableStream): Promise<number> {
  const server = adbServerAddress();
  const client = adbClient();
  let listed: { id: string; type: string }[];
  try {
    listed = await client.listDevices();
  } catch (error) {
    throw adbUnreachable(error, server);
  }
  const facts: (DeviceFacts | { serial: string; state: string })[] = await Promise.all(
    listed.map(async (d) => (d.type === 'device' ? probeDevice(new AdbkitBackend(client, d.id)) : { serial: d.id, state: d.type })),
  );
  if (options.json) {
    out.write(`${JSON.stringify({ devices: facts })}\n`);
    return 0;
  }
  if (facts.length === 0) {
    out.write('no devices: plug a phone in (USB debugging on), start an emulator, or `v6lab lab up`\n');
    return 0;
  }
  out.write(
    `${renderTable(
      [
        { header: 'serial' },
        { header: 'model' },
        { header: 'android' },
        { header: 'build' },
        { header: 'build id' },
        { header: 'patch' },
        { header: 'SIM' },
        { header: 'root' },
        { header: 'tcpdump' },
        { header: 'PCAPdroid' },
        { header: 'network' },
        { header: 'addresses' },
        { header: 'NAT64' },
        { header: 'CLAT' },
      ],
      facts.map((f) =>
        'state' in f
          ? [f.serial, `(${f.state})`, '', '', '', '', '', '', '', '', '', '', '', '']
          : [
              f.serial,
              f.model ?? '?',
              f.android ?? '?',
              f.buildType ?? '?',
              [f.identity.buildId, f.identity.incremental].filter((x) => x !== null).join(' ') || '?',
              f.identity.securityPatch ?? '?',
              simsText(f.identity.sims),
              f.root ?? 'no',
              f.tcpdump ? 'yes' : 'no',
              f.pcapdroid ? 'yes' : 'no',
              f.defaultNetwork ? `${f.defaultNetwork.type ?? '?'} ${f.defaultNetwork.apn ?? ''}`.trim() : 'none',
              f.defaultNetwork?.addresses.join(' ') || '-',
              f.defaultNetwork?.nat64Prefix ?? '-',
              f.defaultNetwork?.clat ? `${f.defaultNetwork.clat.interfaceName} ${f.defaultNetwork.clat.ipv4 ?? ''}`.trim() : '-',
            ],
      ),
      '',
    )}\n`,
  );
  // The long identity fields, one device a line (a fingerprint alone is wider than most terminals).
  for (const f of facts) {
    if ('state' in f) continue;
    const id = f.identity;
    out.write(
      `${printable(`${f.serial}: fingerprint ${id.fingerprint ?? '?'}; display id ${id.displayId ?? '?'}; baseband ${id.baseband ?? '?'}; kernel ${id.kernel ?? '?'}`)}\n`,
    );
  }
  for (const f of facts) if (!('state' in f) && f.problems.length > 0) out.write(`${f.serial}: ${f.problems.join('; ')}\n`);
  return 0;
}
