/**
 * The lab's internet (v6l-ID-inet): the world's hosts as addresses on lo, an authoritative DNS
 * server for the world's zones, a lab CA with a certificate per host, and the world server.
 * `lab up` and `gateway up` put it behind their gateways.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inNamespace, ipBatch, nftLoad, run, sysctl } from './command.js';
import { authoritativeUnboundConf, rootZone, worldFailureRuleset } from './config.js';
import { daemon, type Context, type Deferred, logFile, parallel, step } from './context.js';
import { internetNamespace } from './plan.js';
import type { WorldHostAddresses } from './types.js';
import type { WorldServerConfig } from './world-server.js';

/**
 * One of this folder's programs (world-server, background): built JavaScript beside this module,
 * or the TypeScript via tsx.
 */
export function programArgv(name: 'world-server' | 'background'): string[] {
  const js = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  if (existsSync(js)) return [process.execPath, js];
  const ts = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  // createRequire, not import.meta.resolve: under mocha, tsx compiles this module to CommonJS.
  return [process.execPath, '--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, ts];
}

/** A lab CA and a certificate per host (SAN: its name and addresses), all P-256 to stay small. */
async function makeCertificates(dir: string, labId: string, hosts: readonly WorldHostAddresses[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const config = path.join(dir, 'openssl.cnf');
  await writeFile(
    config,
    `[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`,
  );
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.pem');
  const hostKey = path.join(dir, 'host.key');
  const newKey = (file: string): string[] => ['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file];
  await Promise.all([run(newKey(caKey)), run(newKey(hostKey))]);
  await run([
    'openssl',
    'req',
    '-config',
    config,
    '-new',
    '-x509',
    '-key',
    caKey,
    '-out',
    caCert,
    '-days',
    '30',
    '-subj',
    `/O=v6lab/CN=v6lab lab ${labId} CA`,
    '-extensions',
    'ca',
  ]);
  // Two CPUs here; a few at a time keeps the machine responsive for the namespaces' setup.
  const queue = [...hosts];
  const worker = async (): Promise<void> => {
    for (let host = queue.shift(); host !== undefined; host = queue.shift()) {
      const san = [`DNS:${host.name}`, ...[host.ipv4, host.ipv6].filter((a): a is string => a !== null).map((a) => `IP:${a}`)];
      await run([
        'openssl',
        'req',
        '-config',
        config,
        '-new',
        '-key',
        hostKey,
        '-subj',
        `/O=v6lab/CN=${host.name}`,
        '-CA',
        caCert,
        '-CAkey',
        caKey,
        '-days',
        '30',
        '-extensions',
        'leaf',
        '-addext',
        `subjectAltName=${san.join(',')}`,
        // A pmtud-blackhole host's certificate is as large as a real chain (over 2 KB), so its TLS
        // server flight needs full-sized segments too and stalls, as such handshakes do.
        ...(host.ipv6Failure === 'pmtud-blackhole' ? ['-addext', `nsComment=${'v6lab pmtud-blackhole '.repeat(90)}`] : []),
        '-out',
        path.join(dir, `${host.name}.pem`),
      ]);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return caCert;
}

export async function setUpInternet(ctx: Context, hosts: readonly WorldHostAddresses[], authReady: Deferred, serverReady: Deferred): Promise<void> {
  const ns = internetNamespace(ctx.labId);
  const dns = ctx.worldDns;
  await step(ctx, 'internet: addresses', async () => {
    // No MTU probing (RFC 4821): a pmtud-blackhole host's TCP must not find the smaller MTU on its
    // own, as most servers do not (0 is Linux's default; set so a changed default cannot hide the stall).
    await sysctl(
      ns,
      'net.ipv6.conf.all.accept_dad=0',
      'net.ipv6.conf.default.accept_dad=0',
      'net.ipv6.conf.all.forwarding=1',
      'net.ipv4.ip_forward=1',
      'net.ipv4.tcp_mtu_probing=0',
    );
    const commands: string[][] = [
      ['link', 'set', 'lo', 'up'],
      ['addr', 'add', `${dns.ipv4}/32`, 'dev', 'lo'],
      ['addr', 'add', `${dns.ipv6}/128`, 'dev', 'lo'],
    ];
    for (const host of hosts) {
      if (host.ipv4 !== null) commands.push(['addr', 'add', `${host.ipv4}/32`, 'dev', 'lo']);
      if (host.ipv6 === null) continue;
      // A blackholed host's address is nowhere: a `blackhole` route drops its packets silently
      // (no ICMP error), as a broken IPv6 path does, so clients wait and fall back.
      commands.push(host.ipv6Blackholed ? ['route', 'add', 'blackhole', `${host.ipv6}/128`] : ['addr', 'add', `${host.ipv6}/128`, 'dev', 'lo']);
    }
    await ipBatch(ns, commands);
    const failures = worldFailureRuleset(hosts);
    if (failures !== null) await nftLoad(ns, failures);
  });
  const dir = path.join(ctx.runDir, 'inet');
  await mkdir(dir, { recursive: true });
  const auth = step(ctx, 'internet: authoritative DNS', async () => {
    const zoneFile = path.join(dir, 'root.zone');
    await writeFile(zoneFile, rootZone(hosts, dns));
    const conf = path.join(dir, 'unbound-auth.conf');
    await writeFile(conf, authoritativeUnboundConf(dir, [dns.ipv4, dns.ipv6], ctx.tlds, zoneFile));
    await daemon(ctx, {
      name: 'unbound-auth',
      namespace: ns,
      argv: inNamespace(ns, ['unbound', '-d', '-c', conf]),
      logFile: logFile(ctx, ns, 'unbound-auth'),
      ready: /start of service/,
    });
  }).then(authReady.resolve, (error: unknown) => {
    authReady.reject(error);
    throw error;
  });
  const servers = (async () => {
    const pki = path.join(ctx.runDir, 'pki');
    const caCertFile = await step(ctx, 'internet: certificates', () => makeCertificates(pki, ctx.labId, hosts));
    await ctx.recorder.update((s) => void (s.world.caCertFile = caCertFile));
    await step(ctx, 'internet: world server', async () => {
      const config = path.join(dir, 'world-server.json');
      const serverHosts: WorldServerConfig['hosts'] = hosts.map((h) => {
        const late = h.ipv6Failure === 'late-failure';
        return {
          name: h.name,
          addresses: [h.ipv4, h.ipv6Blackholed || late ? null : h.ipv6].filter((a): a is string => a !== null),
          ...(late && h.ipv6 !== null ? { silentAddresses: [h.ipv6] } : {}),
          // Twice the largest Ethernet MTU: no answer of this host fits its IPv6 path.
          ...(h.ipv6Failure === 'pmtud-blackhole' ? { responsePadding: 3000 } : {}),
        };
      });
      await writeFile(config, JSON.stringify({ hosts: serverHosts, certDir: pki } satisfies WorldServerConfig, null, 2));
      await daemon(ctx, {
        name: 'world-server',
        namespace: ns,
        argv: inNamespace(ns, [...programArgv('world-server'), config]),
        logFile: logFile(ctx, ns, 'world-server'),
        ready: /world server ready/,
        readyTimeoutMs: 15_000,
      });
    });
  })().then(serverReady.resolve, (error: unknown) => {
    serverReady.reject(error);
    throw error;
  });
  await parallel(ctx, [auth, servers]);
}
