/**
 * One adb stream (an OPENed service) as a Node Duplex, with adb's flow control mapped onto
 * Node's backpressure in both directions:
 * - device to host: a write becomes WRTE messages of at most maxPayload bytes, and its callback
 *   runs only after the host's OKAY for the last one, so one WRTE is outstanding at a time and
 *   the writable buffer (bounded by writableHighWaterMark) pauses whatever pipes into it;
 * - host to device: the OKAY for a received WRTE is sent when the readable side has room,
 *   so a slow consumer (a child's stdin, a file being written) stops the host.
 */
import { Duplex } from 'node:stream';
import { COMMAND } from './protocol.js';

/** What a stream needs from its connection. */
export interface StreamTransport {
  /** Largest WRTE payload: the smaller of both sides' CNXN maxdata. */
  readonly maxPayload: number;
  /** Sends one message whose payload is `parts` (written without concatenation). */
  send(command: number, arg0: number, arg1: number, parts?: readonly Buffer[], length?: number): void;
  /** The stream is gone: drop it from the connection's table. */
  forget(localId: number): void;
}

export class AdbStream extends Duplex {
  /** True once the host sent CLSE or the connection went away (as opposed to the service ending). */
  peerClosed = false;
  #okayOwed = false;
  #onOkay: (() => void) | null = null;
  #closeSent = false;

  constructor(
    readonly transport: StreamTransport,
    readonly localId: number,
    readonly remoteId: number,
    /** The service string of the OPEN, for logs. */
    readonly service: string,
  ) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: transport.maxPayload,
      writableHighWaterMark: transport.maxPayload,
    });
    // adb has no half-close: once the service has said everything (CLSE sent), the stream is done.
    this.once('finish', () => this.destroy());
  }

  /** A WRTE from the host. */
  receive(data: Buffer): void {
    if (this.destroyed) return;
    if (this.push(data)) this.#sendOkay();
    else this.#okayOwed = true;
  }

  /** An OKAY from the host: the outstanding WRTE was taken. */
  acknowledge(): void {
    const next = this.#onOkay;
    this.#onOkay = null;
    next?.();
  }

  /** A CLSE from the host, or the connection is gone. */
  abort(): void {
    this.peerClosed = true;
    this.destroy();
  }

  override _read(): void {
    if (this.#okayOwed) {
      this.#okayOwed = false;
      this.#sendOkay();
    }
  }

  #sendOkay(): void {
    if (!this.destroyed) this.transport.send(COMMAND.OKAY, this.localId, this.remoteId);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#sendAll([chunk], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#sendAll(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  /** Sends `chunks` as WRTEs of at most maxPayload, each after the OKAY of the one before. */
  #sendAll(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    const max = this.transport.maxPayload;
    let index = 0;
    let offset = 0;
    const sendNext = (): void => {
      // A destroyed stream never calls back: Node settles its pending writes itself.
      if (this.destroyed) return;
      const parts: Buffer[] = [];
      let length = 0;
      while (index < chunks.length && length < max) {
        const chunk = chunks[index]!;
        const count = Math.min(chunk.length - offset, max - length);
        if (count > 0) parts.push(offset === 0 && count === chunk.length ? chunk : chunk.subarray(offset, offset + count));
        length += count;
        offset += count;
        if (offset === chunk.length) {
          index++;
          offset = 0;
        }
      }
      if (length === 0) {
        callback();
        return;
      }
      this.#onOkay = sendNext;
      this.transport.send(COMMAND.WRTE, this.localId, this.remoteId, parts, length);
    };
    sendNext();
  }

  /** Every write was acknowledged: close our side. */
  override _final(callback: (error?: Error | null) => void): void {
    this.#sendClose();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.peerClosed) this.#sendClose();
    this.#onOkay = null;
    this.transport.forget(this.localId);
    callback(error);
  }

  #sendClose(): void {
    if (this.#closeSent) return;
    this.#closeSent = true;
    this.transport.send(COMMAND.CLSE, this.localId, this.remoteId);
  }
}
