/**
 * The analysis API: over a file, over a stream, or incrementally while a capture is written.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { CaptureReader } from '../capture/reader.js';
import { CaptureAnalyzer } from './analyzer.js';
import type { AnalysisDocument, AnalyzeOptions, CaptureAnalysis } from './types.js';

export type * from './types.js';
export { FLOW_PATHS } from './types.js';
export { compareHostnames } from './hostname-order.js';
export { DEFAULT_MAX_MEMORY } from './analyzer.js';
export { documentOf, materialize } from './document.js';
export { CaptureFormatError } from '../capture/errors.js';

/**
 * Block size for reading files. Not a multiple of the page size on purpose: measured here,
 * page-multiple reads from the page cache ran at a quarter of the speed of odd-sized ones
 * (585 vs 152 ms per GiB, bench/README.md), and odd sizes cost nothing elsewhere. 1 MiB: 4 MiB
 * blocks read a 1 GiB capture no faster (issue 19, measured) and held 6 MiB more of the peak RSS.
 */
const FILE_BLOCK = 1024 * 1024 - 8;

/**
 * Analyses a capture as its bytes arrive: push() each chunk (a tcpdump `-w -` streamed over adb),
 * report() at any moment for the analysis so far, finish() once the capture is complete.
 * Throws CaptureFormatError when the capture's structure is unreadable.
 */
export class IncrementalAnalyzer {
  private readonly analyzer: CaptureAnalyzer;
  private readonly reader: CaptureReader;

  constructor(options: AnalyzeOptions = {}, bufferSize?: number) {
    this.analyzer = new CaptureAnalyzer(options);
    this.reader = new CaptureReader(this.analyzer, options.source, bufferSize);
  }

  push(chunk: Uint8Array): void {
    this.reader.push(chunk);
  }

  /** Packets read so far. */
  get packets(): number {
    return this.reader.packets;
  }

  report(): CaptureAnalysis {
    this.analyzer.format = this.reader.format;
    this.analyzer.linkTypes = this.reader.linkTypes;
    return this.analyzer.report();
  }

  /** The analysis so far with its flows, queries and hostnames built on demand (valid until the next push). */
  document(): AnalysisDocument {
    this.analyzer.format = this.reader.format;
    this.analyzer.linkTypes = this.reader.linkTypes;
    return this.analyzer.document();
  }

  /** The capture is complete: a record cut short becomes a warning. */
  finish(): CaptureAnalysis {
    this.reader.finish();
    return this.report();
  }

  /** finish(), as a document: nothing of the capture built whole. */
  finishDocument(): AnalysisDocument {
    this.reader.finish();
    return this.document();
  }
}

/**
 * Analyses a whole pcap or pcapng file. Two blocks alternate: the next is read (on libuv's
 * thread pool) while the current one is parsed in place.
 */
export async function analyzeFile(path: string, options: AnalyzeOptions = {}): Promise<CaptureAnalysis> {
  return (await readFile(path, options)).finish();
}

/** analyzeFile, as a document whose flows, queries and hostnames are built one at a time (`--json` streams them). */
export async function analyzeFileDocument(path: string, options: AnalyzeOptions = {}): Promise<AnalysisDocument> {
  return (await readFile(path, options)).finishDocument();
}

/**
 * analyzeFileDocument for a process that does nothing else meanwhile (`v6lab analyze`): the file
 * is read with blocking reads into one buffer. Measured on a 1 GiB capture of 184k flows (issue
 * 19): 2.09 s against 2.19 s for the alternating asynchronous reads, whose main thread sat idle
 * waiting for the thread pool's read in some 5-15% of the parse (a CPU profile's idle samples);
 * a reader worker thread on shared memory was slower still (2.27 s) and held 15 MiB more.
 * Blocks the event loop: not for a process with a device or a server to serve.
 */
export function analyzeFileDocumentBlocking(path: string, options: AnalyzeOptions = {}): AnalysisDocument {
  // As readFile: the options are checked before the file is opened.
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {}
  const analysis = new IncrementalAnalyzer({ source: path, sizeHint: size, ...options });
  const fd = openSync(path, 'r');
  try {
    const block = Buffer.allocUnsafe(FILE_BLOCK);
    for (;;) {
      const bytesRead = readWithPath(fd, block, path);
      if (bytesRead === 0) break;
      analysis.push(block.subarray(0, bytesRead));
    }
    return analysis.finishDocument();
  } finally {
    closeSync(fd);
  }
}

/** readSync of one block; a failed read names the file (a read of a directory's EISDIR does not). */
function readWithPath(fd: number, block: Buffer, path: string): number {
  try {
    return readSync(fd, block, 0, FILE_BLOCK, null);
  } catch (error) {
    throw withPath(error, path);
  }
}

/** A file error, given the path when it has none (the CLI's message names it). */
function withPath(error: unknown, path: string): unknown {
  if (error instanceof Error && (error as NodeJS.ErrnoException).path === undefined) (error as NodeJS.ErrnoException).path = path;
  return error;
}

async function readFile(path: string, options: AnalyzeOptions): Promise<IncrementalAnalyzer> {
  // The options are checked before the file is opened (a bad prefix is named first); its size, when it has one, is a hint.
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  const analysis = new IncrementalAnalyzer({ source: path, sizeHint: size, ...options });
  const handle = await open(path, 'r');
  try {
    let filling = Buffer.allocUnsafe(FILE_BLOCK);
    let spare = Buffer.allocUnsafe(FILE_BLOCK);
    let pending = handle.read(filling, 0, FILE_BLOCK, null);
    for (;;) {
      const { bytesRead } = await pending.catch((error: unknown) => {
        throw withPath(error, path);
      });
      if (bytesRead === 0) break;
      const block = filling;
      filling = spare;
      spare = block;
      pending = handle.read(filling, 0, FILE_BLOCK, null);
      try {
        analysis.push(block.subarray(0, bytesRead));
      } catch (error) {
        await pending.catch(() => undefined);
        throw error;
      }
    }
    return analysis;
  } finally {
    await handle.close();
  }
}

/** Analyses a capture arriving on a stream (a file stream, a device's tcpdump output). */
export async function analyzeStream(stream: AsyncIterable<Uint8Array>, options: AnalyzeOptions = {}): Promise<CaptureAnalysis> {
  const analysis = new IncrementalAnalyzer(options);
  for await (const chunk of stream) analysis.push(chunk);
  return analysis.finish();
}
