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
  /** A capture that could not be read to its end; everything before it was analysed. */
  error: CaptureFormatError | undefined;
  /** With `shard`: which shard this is, and what merging it with the others needs. */
  shard?: Shard & ShardTracking;
}
