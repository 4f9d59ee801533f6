import type { CapturedFrame } from './captured-frame.js';

export const CaptureFormat = {
  pcap: 'pcap',
  pcapNanosecond: 'pcap-ns',
  pcapModified: 'pcap-modified',
  pcapng: 'pcapng',
} as const;
export type CaptureFormat = (typeof CaptureFormat)[keyof typeof CaptureFormat];

/** Something the reader could read past but the user should hear about (a file cut short). */
export interface CaptureWarning {
  path: string;
  offset: number;
  frame: number;
  message: string;
  /**
   * Only part of a record header was left at the end (a writer stopped mid-header):
   * every frame whose data the file holds was read. Not a failure unless asked to be strict.
   */
  partialHeader: boolean;
}

/**
 * Pull-based reader of one capture file. `nextSync` parses records out of what is
 * buffered with no awaiting; only `refill` touches I/O. A driver loops:
 * `frame = nextSync()`; on null, `await refill()`; on false, the file is done.
 */
export interface FrameReader {
  readonly path: string;
  readonly format: CaptureFormat;
  readonly gzipped: boolean;
  /** Frames returned so far. */
  readonly frames: number;
  /** Link types seen (per interface for pcapng). */
  readonly linkTypes: ReadonlySet<number>;
  /** pcapng blocks that carry no packets and were skipped, by block type. */
  readonly skippedBlocks: ReadonlyMap<number, number>;
  readonly warnings: readonly CaptureWarning[];
  nextSync(): CapturedFrame | null;
  refill(): Promise<boolean>;
  /** Stored bytes consumed and total (total undefined for standard input). */
  progress(): { bytesRead: number; totalBytes: number | undefined };
  close(): Promise<void>;
}
