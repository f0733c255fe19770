/**
 * The `sync:` service: stat, list, pull (RECV) and push (SEND), as adbd's file_sync_service.cpp
 * (Android 10) answers them, v1 requests only (no STA2/LIS2: the daemon does not advertise
 * stat_v2/ls_v2). Paths go through `resolvePath`: a lab handset runs this inside itself
 * (./sync-agent.ts), where a path is the handset's own; unit tests run it over a directory.
 *
 * As adbd does, a FAIL ends the session: the stream closes after it.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, opendir, symlink, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import debug from 'debug';
import type { Duplex } from 'node:stream';
import {
  encodeSyncDent,
  encodeSyncFail,
  encodeSyncHeader,
  encodeSyncListDone,
  encodeSyncStat,
  SYNC,
  SYNC_DATA_MAX,
  syncIdName,
  SyncRequestDecoder,
  type SyncRequest,
} from './protocol.js';

/** What the session speaks on: an adb stream, or stdin and stdout of the sync agent. */
export type SyncStream = Duplex & { readonly localId: number; readonly peerClosed: boolean };

/** Where the session finds a device path's bytes. */
export interface SyncPaths {
  resolvePath(devicePath: string): string;
}

const log = debug('v6lab:adbd:sync');

/** Bytes per DATA block of RECV: adbd's, so header and block fill SYNC_DATA_MAX exactly. */
const BLOCK_SIZE = SYNC_DATA_MAX - 8;
/** Bytes read at a time: 16 blocks, one 1 MiB WRTE with their headers. */
const READ_SIZE = 16 * BLOCK_SIZE;

/** What a FAIL says, in adbd's words: "open failed: No such file or directory" (strerror). */
class SyncFailure extends Error {}

/** strerror(3) for the errors a file operation meets; libuv's text for the rest. */
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EEXIST: 'File exists',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
};

function strerror(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code && STRERROR[e.code]) return STRERROR[e.code]!;
  if (typeof e.errno === 'number') return getSystemErrorMap().get(e.errno)?.[1] ?? e.message;
  return e instanceof Error ? e.message : String(err);
}

function failure(what: string, err: unknown): SyncFailure {
  return new SyncFailure(`${what}: ${strerror(err)}`);
}

/** Resolves when `stream` can take more, rejects if it closes first. */
function drained(stream: SyncStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      stream.off('drain', onDrain);
      reject(new Error(`adb stream ${stream.localId} closed`));
    };
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}

/** Writes `buffers` as one batch (corked: they share WRTEs), waiting if the stream is full. */
async function send(stream: SyncStream, ...buffers: Buffer[]): Promise<void> {
  let room = true;
  stream.cork();
  for (const buffer of buffers) room = stream.write(buffer);
  stream.uncork();
  if (!room) await drained(stream);
}

/** Serves one sync session on `stream` until QUIT, a FAIL, or the host closes it. */
export async function serveSync(host: SyncPaths, stream: SyncStream): Promise<void> {
  const decoder = new SyncRequestDecoder();
  const session = new SyncSession(host, stream);
  try {
    // Reading pauses while a request is served, and the host's OKAYs wait with it. Leaving the
    // loop must not destroy the stream: replies still queued go out before the CLSE.
    for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      for (const request of decoder.push(chunk)) {
        if (!(await session.handle(request))) {
          stream.end();
          return;
        }
      }
    }
  } catch (err) {
    // The host closing the stream ends the iteration with ERR_STREAM_PREMATURE_CLOSE.
    if (!stream.peerClosed) log('stream %d: %s', stream.localId, (err as Error).message);
  }
  await session.abort();
  stream.destroy();
}

interface Upload {
  /** Device path, for logs. */
  devicePath: string;
  path: string;
  mode: number;
  /** Open file, or null when the upload already failed and DATA is being drained. */
  file: FileHandle | null;
  /** A symlink's target collects here instead of a file. */
  linkTarget: Buffer[] | null;
  failure: SyncFailure | null;
  bytes: number;
}

class SyncSession {
  #upload: Upload | null = null;

  constructor(
    readonly host: SyncPaths,
    readonly stream: SyncStream,
  ) {}

  /** Serves one request; false ends the session (QUIT, or after a FAIL). */
  async handle(request: SyncRequest): Promise<boolean> {
    if (this.#upload) return this.#uploadData(this.#upload, request);
    const devicePath = request.data.toString('utf8');
    log('stream %d: %s %j', this.stream.localId, syncIdName(request.id), devicePath);
    switch (request.id) {
      case SYNC.STAT:
        await this.#stat(devicePath);
        return true;
      case SYNC.LIST:
        await this.#list(devicePath);
        return true;
      case SYNC.RECV:
        return this.#recv(devicePath);
      case SYNC.SEND:
        return this.#beginUpload(devicePath);
      case SYNC.QUIT:
        return false;
      default:
        await send(this.stream, encodeSyncFail(`unknown command ${request.id.toString(16).padStart(8, '0')}`));
        return false;
    }
  }

  /** The host went away mid-upload: close the half-written file. */
  async abort(): Promise<void> {
    await this.#upload?.file?.close().catch(() => {});
    this.#upload = null;
  }

  #resolve(devicePath: string): string | null {
    try {
      return this.host.resolvePath(devicePath);
    } catch (err) {
      log('stream %d: %s', this.stream.localId, (err as Error).message);
      return null;
    }
  }

  /** lstat; a missing (or unexposed) path is all zeros, as adbd's v1 STAT says it. */
  async #stat(devicePath: string): Promise<void> {
    const path = this.#resolve(devicePath);
    let stats: Stats | null = null;
    if (path !== null) stats = await lstat(path).catch(() => null);
    const reply = stats ? encodeSyncStat(stats.mode, stats.size, Math.floor(stats.mtimeMs / 1000)) : encodeSyncStat(0, 0, 0);
    await send(this.stream, reply);
  }

  /** A DENT per entry (with . and .., as readdir gives them to adbd), then DONE; nothing for a missing directory. */
  async #list(devicePath: string): Promise<void> {
    const path = this.#resolve(devicePath);
    const dir = path === null ? null : await opendir(path).catch(() => null);
    if (dir && path !== null) {
      const names = ['.', '..'];
      for await (const entry of dir) names.push(entry.name);
      for (const name of names) {
        const stats = await lstat(`${path}/${name}`).catch(() => null);
        if (stats) await send(this.stream, encodeSyncDent(stats.mode, stats.size, Math.floor(stats.mtimeMs / 1000), name));
      }
    }
    await send(this.stream, encodeSyncListDone());
  }

  /** DATA blocks of at most SYNC_DATA_MAX, then DONE; FAIL (and the end) if it cannot be read. */
  async #recv(devicePath: string): Promise<boolean> {
    const path = this.#resolve(devicePath);
    let file: FileHandle;
    try {
      if (path === null) throw Object.assign(new Error('outside the handset'), { code: 'ENOENT' });
      file = await open(path, 'r');
    } catch (err) {
      await send(this.stream, encodeSyncFail(failure('open failed', err).message));
      return false;
    }
    let total = 0;
    try {
      for (;;) {
        // A fresh buffer per read: the slices wait in the stream until the host takes them.
        const buffer = Buffer.allocUnsafe(READ_SIZE);
        const { bytesRead } = await file.read(buffer, 0, READ_SIZE, null);
        if (bytesRead === 0) break;
        total += bytesRead;
        const parts: Buffer[] = [];
        for (let at = 0; at < bytesRead; at += BLOCK_SIZE) {
          const block = buffer.subarray(at, Math.min(at + BLOCK_SIZE, bytesRead));
          parts.push(encodeSyncHeader(SYNC.DATA, block.length), block);
        }
        await send(this.stream, ...parts);
      }
    } catch (err) {
      if (this.stream.destroyed) throw err;
      await send(this.stream, encodeSyncFail(failure('read failed', err).message));
      return false;
    } finally {
      await file.close();
    }
    log('stream %d: sent %d bytes of %j', this.stream.localId, total, devicePath);
    await send(this.stream, encodeSyncHeader(SYNC.DONE, 0));
    return true;
  }

  /** SEND "path,mode": make the file (and its parents); DATA and DONE follow. */
  async #beginUpload(spec: string): Promise<boolean> {
    const comma = spec.lastIndexOf(',');
    if (comma < 0) {
      await send(this.stream, encodeSyncFail('missing , in ID_SEND'));
      return false;
    }
    const devicePath = spec.slice(0, comma);
    // strtoul(..., 0): decimal, 0x hex or 0 octal.
    const modeText = spec.slice(comma + 1);
    const mode = /^0[0-7]+$/.test(modeText) ? parseInt(modeText, 8) : Number(modeText);
    if (!Number.isInteger(mode) || mode < 0) {
      await send(this.stream, encodeSyncFail('bad mode'));
      return false;
    }
    const upload: Upload = { devicePath, path: '', mode, file: null, linkTarget: null, failure: null, bytes: 0 };
    this.#upload = upload;
    const path = this.#resolve(devicePath);
    if (path === null) {
      upload.failure = new SyncFailure(`couldn't create file: ${STRERROR.EACCES}`);
      return true;
    }
    upload.path = path;
    // adbd unlinks a regular file or symlink first, so a hard link elsewhere keeps its bytes.
    const existing = await lstat(path).catch(() => null);
    if (existing === null || existing.isFile() || existing.isSymbolicLink()) await unlink(path).catch(() => {});
    if ((mode & constants.S_IFMT) === constants.S_IFLNK) {
      upload.linkTarget = [];
      return true;
    }
    // adbd copies the user permission bits to group and other.
    let perm = mode & 0o777;
    perm |= (perm >> 3) & 0o070;
    perm |= (perm >> 3) & 0o007;
    upload.mode = perm;
    try {
      upload.file = await open(path, 'w', perm).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        await mkdir(dirname(path), { recursive: true, mode: 0o775 }).catch((mkdirError: unknown) => {
          throw failure('secure_mkdirs failed', mkdirError);
        });
        return open(path, 'w', perm);
      });
      await upload.file.chmod(perm);
    } catch (err) {
      upload.failure = err instanceof SyncFailure ? err : failure("couldn't create file", err);
      await upload.file?.close().catch(() => {});
      upload.file = null;
    }
    return true;
  }

  async #uploadData(upload: Upload, request: SyncRequest): Promise<boolean> {
    if (request.id === SYNC.DATA) {
      upload.bytes += request.data.length;
      if (upload.linkTarget) upload.linkTarget.push(Buffer.from(request.data));
      else if (upload.file && !upload.failure) {
        try {
          await upload.file.write(request.data);
        } catch (err) {
          upload.failure = failure('write failed', err);
        }
      }
      return true;
    }
    this.#upload = null;
    if (request.id !== SYNC.DONE) {
      await upload.file?.close().catch(() => {});
      await send(this.stream, encodeSyncFail('invalid data message'));
      return false;
    }
    // DONE: its argument is the mtime.
    const mtime = request.arg;
    try {
      if (upload.failure) throw upload.failure;
      if (upload.linkTarget) {
        const target = Buffer.concat(upload.linkTarget).toString('utf8').replace(/\0.*$/s, '');
        await symlink(target, upload.path).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw failure('symlink failed', err);
          await mkdir(dirname(upload.path), { recursive: true, mode: 0o775 });
          await symlink(target, upload.path);
        });
      } else {
        await upload.file!.close();
        upload.file = null;
        await utimes(upload.path, mtime, mtime);
      }
    } catch (err) {
      await upload.file?.close().catch(() => {});
      const message = err instanceof SyncFailure ? err.message : failure('write failed', err).message;
      log('stream %d: upload of %j failed: %s', this.stream.localId, upload.devicePath, message);
      await send(this.stream, encodeSyncFail(message));
      return false;
    }
    log('stream %d: received %d bytes into %j', this.stream.localId, upload.bytes, upload.devicePath);
    await send(this.stream, encodeSyncHeader(SYNC.OKAY, 0));
    return true;
  }
}
