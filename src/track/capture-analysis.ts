import type { CaptureFormatError } from '../capture/capture-format-error.js';
import type { DecodeStats } from '../decode/decode-stats.js';
import type { Listener } from './listeners.js';
import type { Shard } from './shard.js';
import type { ShardTracking, TrackerStats } from './tracker.js';

/** What one input file held, as the analysis read it. */
export interface CaptureSummary {
  path: string;
  format: string;
  gzipped: boolean;
  linkTypes: number[];
  /** Frames read from the file. */
  packets: number;
  /** TCP segments decoded from it, retransmissions and duplicates included. */
  tcpPackets: number;
  firstNs: bigint | null;
  lastNs: bigint | null;
  warnings: string[];
  /** Why reading this file stopped before its end (everything before was read), null when it was read to its end. */
  error: string | null;
  /**
   * Whether every frame the file holds was read: no error, and nothing cut short but
   * at most part of a record header at its very end (warned of, yet no frame data lost).
   */
  readWhole: boolean;
  /** pcapng blocks skipped (no packets in them), by block type. */
  skippedBlocks: Record<string, number>;
}

export interface AnalysisProgress {
  bytesRead: number;
  /** Undefined when an input's size is not known (standard input). */
  totalBytes: number | undefined;
  packets: number;
}

/** The outcome of reading, decoding and tracking one capture (its records went to an output). */
export interface CaptureAnalysis {
  captures: CaptureSummary[];
  decode: DecodeStats;
  tracker: TrackerStats;
  /** Ports seen answering SYNs with SYN-ACK (inferred listeners). */
  listeners: Listener[];
  /** The first file that could not be read to its end; everything before the error was analysed (and the other files read on). */
  error: CaptureFormatError | undefined;
  /**
   * Why the analysis does not cover every frame of the input, in words, or undefined
   * when it does: the one place to ask whether a run was complete (a file cut short
   * or corrupt). Part of a record header left at a file's end does not count (`readWhole`).
   */
  incomplete: string | undefined;
  /** With `shard`: which shard this is, and what merging it with the others needs. */
  shard?: Shard & ShardTracking;
}
