/**
 * The analysis API: over a file, over a stream, or incrementally while a capture is written.
 */
import { open } from 'node:fs/promises';
import { CaptureReader } from '../capture/reader.js';
import { CaptureAnalyzer } from './analyzer.js';
import type { AnalyzeOptions, CaptureAnalysis } from './types.js';

export type * from './types.js';
export { FLOW_PATHS } from './types.js';
export { CaptureFormatError } from '../capture/errors.js';

/** Reading a file in large blocks into the reader's own buffer saves a copy per block. */
const FILE_BLOCK = 4 * 1024 * 1024;

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

  /** For readers that fill the buffer themselves (see analyzeFile). */
  reserve(min: number) {
    return this.reader.reserve(min);
  }

  commit(written: number): void {
    this.reader.commit(written);
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

  /** The capture is complete: a record cut short becomes a warning. */
  finish(): CaptureAnalysis {
    this.reader.finish();
    return this.report();
  }
}

/** Analyses a whole pcap or pcapng file. */
export async function analyzeFile(path: string, options: AnalyzeOptions = {}): Promise<CaptureAnalysis> {
  const analysis = new IncrementalAnalyzer({ source: path, ...options }, FILE_BLOCK * 2);
  const handle = await open(path, 'r');
  try {
    for (;;) {
      const room = analysis.reserve(FILE_BLOCK);
      const { bytesRead } = await handle.read(room.buffer, room.offset, Math.min(room.length, FILE_BLOCK), null);
      if (bytesRead === 0) break;
      analysis.commit(bytesRead);
    }
  } finally {
    await handle.close();
  }
  return analysis.finish();
}

/** Analyses a capture arriving on a stream (a file stream, a device's tcpdump output). */
export async function analyzeStream(stream: AsyncIterable<Uint8Array>, options: AnalyzeOptions = {}): Promise<CaptureAnalysis> {
  const analysis = new IncrementalAnalyzer(options);
  for await (const chunk of stream) analysis.push(chunk);
  return analysis.finish();
}
