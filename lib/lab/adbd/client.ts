/**
 * The host side of the adb transport, just enough to run one command on a device as `adb shell`
 * does: CNXN, AUTH (the token signed with the key given), OPEN `shell,v2,raw:COMMAND`, the shell
 * protocol's stdout, stderr and exit code, one OKAY per WRTE. `lab up` uses it to prove each handset runs its own commands through its
 * daemon, as a user's adb server will reach it, before it says the lab is up.
 */
import type { KeyObject } from 'node:crypto';
import { connect } from 'node:net';
import { AUTH_TYPE, signToken } from './auth.js';
import { A_VERSION, COMMAND, encodeMessage, MAX_PAYLOAD, MessageDecoder, SHELL_PACKET, ShellPacketDecoder } from './protocol.js';

export interface ShellResult {
  /** The exit code the shell protocol carried; null when the stream ended without one. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

const LOCAL_ID = 1;

export interface AdbShellOptions {
  /** The host's private key, to sign the daemon's AUTH token with. Absent: a daemon that asks for AUTH refuses us. */
  privateKey?: KeyObject;
  /** @default 10000 */
  timeoutMs?: number;
}

/**
 * Runs `command` (a shell command line) on the adb daemon at 127.0.0.1:`port`; settles once,
 * with the result or an error, within the timeout.
 */
export function adbShell(port: number, command: string, options: AdbShellOptions = {}): Promise<ShellResult> {
  const { privateKey, timeoutMs = 10_000 } = options;
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const messages = new MessageDecoder(MAX_PAYLOAD);
    const packets = new ShellPacketDecoder();
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let exitCode: number | null = null;
    let signed = false;
    let settled = false;
    const settle = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve({ exitCode, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    };
    const timer = setTimeout(() => settle(new Error(`adb shell on port ${port}: no answer to ${JSON.stringify(command)} within ${timeoutMs} ms`)), timeoutMs);
    const send = (command: number, arg0: number, arg1: number, data: Buffer = Buffer.alloc(0)): void => {
      socket.write(encodeMessage({ command, arg0, arg1, data }));
    };
    socket.once('connect', () => send(COMMAND.CNXN, A_VERSION, MAX_PAYLOAD, Buffer.from('host::\0')));
    socket.on('error', (error) => settle(new Error(`adb shell on port ${port}: ${error.message}`, { cause: error })));
    socket.once('close', () => settle(new Error(`adb shell on port ${port}: the daemon closed the connection before the command ended`)));
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const message of messages.push(chunk)) {
          if (message.command === COMMAND.AUTH && message.arg0 === AUTH_TYPE.TOKEN) {
            // A second token answers our signature: the daemon does not accept this key.
            if (privateKey === undefined || signed) {
              settle(new Error(`adb shell on port ${port}: the daemon asks for AUTH and accepts ${signed ? 'not our key' : 'no connection without a key'}`));
              return;
            }
            signed = true;
            send(COMMAND.AUTH, AUTH_TYPE.SIGNATURE, 0, signToken(privateKey, Buffer.from(message.data)));
          } else if (message.command === COMMAND.CNXN) {
            send(COMMAND.OPEN, LOCAL_ID, 0, Buffer.from(`shell,v2,raw:${command}\0`));
          } else if (message.command === COMMAND.WRTE) {
            for (const packet of packets.push(Buffer.from(message.data))) {
              if (packet.id === SHELL_PACKET.stdout) stdout.push(Buffer.from(packet.data));
              else if (packet.id === SHELL_PACKET.stderr) stderr.push(Buffer.from(packet.data));
              else if (packet.id === SHELL_PACKET.exit) exitCode = packet.data[0] ?? null;
            }
            send(COMMAND.OKAY, LOCAL_ID, message.arg0);
          } else if (message.command === COMMAND.CLSE) {
            // CLSE(0, ours): the daemon refused the OPEN.
            if (message.arg0 === 0) settle(new Error(`adb shell on port ${port}: the daemon refused the shell service`));
            else settle(null);
          }
        }
      } catch (error) {
        settle(error as Error);
      }
    });
  });
}
