/**
 * Asking a person to switch a phone's APN (`apnSwitch: "manual"`): a retail phone without root
 * will not let the harness edit its APN table, so the harness asks, waits for Enter with a
 * deadline, and goes on.
 *
 * Only `v6lab certify` has the terminal: WebdriverIO runs the checks in worker processes whose
 * stdin is not the user's, so a worker cannot ask anybody itself. `certify` (when its stdin and
 * stderr are a terminal) serves questions on a Unix socket in a private directory and names it to
 * the workers in V6LAB_PROMPT; each worker sends one JSON line per question and gets one JSON
 * line back. The terminal asks one question at a time (two devices never share the Enter key).
 * Without V6LAB_PROMPT a worker's prompt answers at once that there is no terminal, and the
 * network is skipped with that reason: nothing pretends to wait.
 */
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import createDebug from 'debug';
import { message, type MessagePart } from '../checks/messages.js';
import { NETWORKS, type NetworkName } from '../checks/requirements.js';
import { DataFileError, integer, object, oneOf, string } from '../config/schema.js';
import { printable } from '../net/printable.js';

const log = createDebug('v6lab:prompt');

/** How long a person has to switch an APN and press Enter. @default 10 minutes */
export const MANUAL_SWITCH_TIMEOUT_MS = 10 * 60_000;
/** The longest wait a question may ask for (a whole working day is not a deadline). */
export const MAX_SWITCH_TIMEOUT_MS = 4 * 60 * 60_000;
/** The environment variable naming the socket `certify` answers questions on. */
export const PROMPT_ENV = 'V6LAB_PROMPT';

/** One question: switch this device to this network's APN. */
export interface SwitchRequest {
  serial: string;
  network: NetworkName;
  apn: string;
  /** How long the person has before the network is skipped. */
  timeoutMs: number;
}

/** Why no one switched: no terminal to ask on, the deadline passed, or the terminal went away. */
export type NoAnswer = 'no-terminal' | 'timeout' | 'closed';

export type SwitchAnswer = { answered: true } | { answered: false; why: NoAnswer; detail: string };

/** Who answers: a terminal, the certify process on behalf of a worker, or a test's script. */
export interface SwitchPrompt {
  /** Asks; `withdrawn` ends the question unanswered (the worker that asked went away). */
  ask(request: SwitchRequest, withdrawn?: AbortSignal): Promise<SwitchAnswer>;
}

export const NETWORK_WORDS: Record<NetworkName, string> = { ipv6: 'IPv6-only', ipv4v6: 'dual-stack' };

const minutes = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`);

/** The question as the person reads it; serial and APN shown through printable() (they come from files and phones). */
export function switchQuestion(request: SwitchRequest): string {
  return (
    `v6lab: switch ${printable(request.serial)} to APN ${printable(request.apn)} (the ${NETWORK_WORDS[request.network]} network; ` +
    `Settings > Network & internet > SIMs > Access Point Names), then press Enter (${minutes(request.timeoutMs)} before it is skipped)\n`
  );
}

/** What a run without a terminal says: nobody can be asked, so the network is skipped at once. */
export const NO_TERMINAL_DETAIL = message('prompt.noTerminal', {}).english;

/** The words of a switch nobody answered in time. */
const timedOut = (request: Pick<SwitchRequest, 'apn' | 'timeoutMs'>): MessagePart =>
  request.timeoutMs % 60_000 === 0
    ? message('prompt.timeout.minutes', { minutes: request.timeoutMs / 60_000, apn: request.apn })
    : message('prompt.timeout.seconds', { seconds: Math.round(request.timeoutMs / 1000), apn: request.apn });

/**
 * A no-answer's words as a message, for a reason in another language. The answer may cross from
 * certify's process as {answered, why, detail}: this module's own words are known by building
 * them again for the same request; any other words (another version's, an error's) stay English.
 */
export function noAnswerMessage(detail: string, request: Pick<SwitchRequest, 'apn' | 'timeoutMs'>): MessagePart {
  const ours = [
    message('prompt.noTerminal', {}),
    message('prompt.withdrawn', { apn: request.apn }),
    message('prompt.terminalClosed', { apn: request.apn }),
    timedOut(request),
  ];
  return ours.find((m) => m.english === detail) ?? message('untranslated', { text: detail });
}

/** A prompt with nobody to ask: answers at once. */
export const NO_TERMINAL: SwitchPrompt = {
  ask: async () => ({ answered: false, why: 'no-terminal', detail: NO_TERMINAL_DETAIL }),
};

/** Timers, so the deadline can be driven by a test's fake clock. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
const REAL_TIMERS: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A terminal's two ends, as process.stdin and process.stderr are. */
export interface Terminal {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Whether both ends are a terminal: only then is there a person to ask. */
export const isTerminal = (terminal: Terminal): boolean => terminal.input.isTTY === true && terminal.output.isTTY === true;

/**
 * Asks on a terminal: prints the question, waits for a line (Enter) until the deadline, one
 * question at a time. The input is read only while a question is open, so the terminal is left
 * alone otherwise (and does not keep the process alive).
 */
export class TerminalPrompt implements SwitchPrompt {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly terminal: Terminal,
    private readonly timers: Timers = REAL_TIMERS,
  ) {}

  ask(request: SwitchRequest, withdrawn?: AbortSignal): Promise<SwitchAnswer> {
    const turn = this.queue.then(() => this.askNow(request, withdrawn));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private askNow(request: SwitchRequest, withdrawn?: AbortSignal): Promise<SwitchAnswer> {
    const gone: SwitchAnswer = { answered: false, why: 'closed', detail: message('prompt.withdrawn', { apn: request.apn }).english };
    if (withdrawn?.aborted) return Promise.resolve(gone);
    const { input, output } = this.terminal;
    output.write(`\n${switchQuestion(request)}`);
    return new Promise<SwitchAnswer>((resolve) => {
      let settled = false;
      const finish = (answer: SwitchAnswer, line: string) => {
        if (settled) return;
        settled = true;
        this.timers.clearTimeout(timer);
        input.off('data', onData);
        input.off('end', onEnd);
        withdrawn?.removeEventListener('abort', onWithdrawn);
        input.pause();
        output.write(`v6lab: ${line}\n`);
        resolve(answer);
      };
      const onData = (chunk: Buffer | string) => {
        // Enter: a line feed, or a carriage return where the terminal is raw.
        if (/[\r\n]/.test(chunk.toString()))
          finish({ answered: true }, `going on with ${printable(request.serial)}: waiting for it to attach to APN ${printable(request.apn)}`);
      };
      const onEnd = () =>
        finish(
          { answered: false, why: 'closed', detail: message('prompt.terminalClosed', { apn: request.apn }).english },
          `the terminal closed: ${printable(request.serial)}'s ${NETWORK_WORDS[request.network]} network is skipped`,
        );
      const timer = this.timers.setTimeout(
        () =>
          finish(
            {
              answered: false,
              why: 'timeout',
              detail: timedOut(request).english,
            },
            `no answer within ${minutes(request.timeoutMs)}: ${printable(request.serial)}'s ${NETWORK_WORDS[request.network]} network is skipped`,
          ),
        request.timeoutMs,
      );
      const onWithdrawn = () => finish(gone, `the question for ${printable(request.serial)} was withdrawn (its worker went away)`);
      withdrawn?.addEventListener('abort', onWithdrawn, { once: true });
      input.on('data', onData);
      input.once('end', onEnd);
      input.resume();
    });
  }
}

const requestSchema = object({
  serial: string({ pattern: /^[A-Za-z0-9._:-]{1,64}$/, what: 'an adb serial' }),
  network: oneOf(NETWORKS),
  apn: string({ pattern: /^[A-Za-z0-9.-]{1,100}$/, what: 'an APN name' }),
  timeoutMs: integer(0, MAX_SWITCH_TIMEOUT_MS),
});

/** One JSON line read from `socket`, at most `max` bytes; rejects on close or a longer line. */
function readLine(socket: Socket, max = 4096): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline >= 0) {
        cleanup();
        resolve(buffered.slice(0, newline));
      } else if (buffered.length > max) {
        cleanup();
        reject(new Error(`a line longer than ${max} bytes`));
      }
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the connection closed before a whole line'));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onClose);
  });
}

/**
 * Serves questions on the Unix socket `path` (certify's side): each connection is one question
 * (a JSON line, checked like any document between processes), answered by `prompt`.
 */
export function servePrompts(path: string, prompt: SwitchPrompt): Promise<{ server: Server; close(): Promise<void> }> {
  const open = new Set<AbortController>();
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    // A worker that goes away (killed, its run stopped) withdraws its question: nobody waits on Enter for it.
    const asking = new AbortController();
    open.add(asking);
    socket.once('close', () => {
      asking.abort();
      open.delete(asking);
    });
    readLine(socket)
      .then(async (line) => {
        const request = requestSchema(JSON.parse(line), '', PROMPT_ENV);
        log('question from a worker: %j', request);
        return prompt.ask(request, asking.signal);
      })
      .catch(
        (error: unknown): SwitchAnswer => ({
          answered: false,
          why: 'closed',
          detail: `the question was not understood: ${error instanceof DataFileError ? `${error.field}: ${error.problem}` : (error as Error).message}`,
        }),
      )
      .then((answer) => socket.end(`${JSON.stringify(answer)}\n`));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve({
        server,
        close: () =>
          new Promise<void>((done) => {
            for (const asking of open) asking.abort();
            server.close(() => done());
            rmSync(path, { force: true });
          }),
      });
    });
  });
}

/** Slack on top of the person's time for the answer to travel back. */
const ANSWER_GRACE_MS = 5_000;

/** A worker's side: asks certify over the socket at `path`. */
export class SocketPrompt implements SwitchPrompt {
  constructor(private readonly path: string) {}

  ask(request: SwitchRequest): Promise<SwitchAnswer> {
    return new Promise((resolve) => {
      const socket = connect(this.path);
      let settled = false;
      const finish = (answer: SwitchAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(answer);
      };
      const lost = (why: string) =>
        finish({ answered: false, why: 'closed', detail: `the question could not be asked (certify's prompt at ${this.path}: ${why})` });
      const timer = setTimeout(() => lost(`no answer within ${minutes(request.timeoutMs + ANSWER_GRACE_MS)}`), request.timeoutMs + ANSWER_GRACE_MS);
      socket.once('error', (error) => lost(error.message));
      socket.once('connect', () => {
        socket.write(`${JSON.stringify(request)}\n`);
        readLine(socket).then(
          (line) => {
            try {
              finish(parseAnswer(JSON.parse(line)));
            } catch (error) {
              lost(`an answer that is not one: ${(error as Error).message}`);
            }
          },
          (error: Error) => lost(error.message),
        );
      });
    });
  }
}

/** An answer as certify sends it, checked: a worker never takes a malformed one for "switched". */
export function parseAnswer(value: unknown): SwitchAnswer {
  const answer = value as Record<string, unknown> | null;
  if (answer !== null && typeof answer === 'object' && answer.answered === true) return { answered: true };
  if (
    answer !== null &&
    typeof answer === 'object' &&
    answer.answered === false &&
    (answer.why === 'no-terminal' || answer.why === 'timeout' || answer.why === 'closed') &&
    typeof answer.detail === 'string'
  )
    return { answered: false, why: answer.why, detail: answer.detail.slice(0, 2000) };
  throw new Error(`expected {answered, why, detail}, got ${JSON.stringify(value)?.slice(0, 200)}`);
}

/** The prompt a WebdriverIO worker uses: certify's socket when it named one, else nobody. */
export function workerPrompt(env: NodeJS.ProcessEnv = process.env): SwitchPrompt {
  const path = env[PROMPT_ENV];
  return path === undefined || path === '' ? NO_TERMINAL : new SocketPrompt(path);
}
