/**
 * Runs inside a handset's network namespace (started with `ip netns exec NS node netns-agent.js
 * UID` and an IPC channel) and opens TCP connections there on request, handing each connected socket
 * back to the parent over IPC. The parent, in the host namespace, so gets real sockets inside
 * the handset, which is what adb's `tcp:PORT` forwarding needs.
 */
import { connect } from 'node:net';

export interface AgentRequest {
  id: number;
  port: number;
  host: string;
}
export type AgentReply = { id: number; ok: true } | { id: number; ok: false; error: string };

if (process.send === undefined) {
  process.stderr.write('netns-agent: must be started with an IPC channel\n');
  process.exit(2);
}

// `netns-agent.js UID`: its connections are that host uid's, as adbd's forwards are the shell
// user's on a phone (the handset's /proc/net shows them as uid 2000, not as the host's root).
const uid = Number(process.argv[2]);
if (Number.isInteger(uid) && uid > 0 && process.getuid?.() === 0) {
  process.setgroups?.([]);
  process.setgid?.(uid);
  process.setuid?.(uid);
}

process.on('message', (message: AgentRequest) => {
  const socket = connect({ port: message.port, host: message.host });
  socket.once('connect', () => {
    // keepOpen: the socket lives on in the parent; closing our copy must not end it.
    process.send!({ id: message.id, ok: true } satisfies AgentReply, socket, { keepOpen: false }, () => socket.destroy());
  });
  socket.once('error', (error) => process.send!({ id: message.id, ok: false, error: error.message } satisfies AgentReply));
});
// The parent going away ends the agent.
process.on('disconnect', () => process.exit(0));
