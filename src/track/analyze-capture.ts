import { CaptureFormatError } from '../capture/capture-format-error.js';
import type { FrameReader } from '../capture/frame-reader.js';
import { forEachFrame } from '../capture/frame-stream.js';
import { openCapture } from '../capture/open-capture.js';
import { DecodeIssue, type DecodeStats } from '../decode/decode-stats.js';
import { PacketDecoder } from '../decode/packet-decoder.js';
import type { TrackerOutput } from './records.js';
import type { Listener } from './listeners.js';
import { Tracker, type TrackerOptions, type TrackerStats } from './tracker.js';

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

export interface AnalyzeCaptureOptions extends TrackerOptions {
  onProgress?: (progress: AnalysisProgress) => void;
  /** Standard input, for the path "-". */
  stdin?: NodeJS.ReadableStream;
  /** Stop before the first frame later than this (integer ns since the epoch); flows still open are handed on as they are then. */
  untilNs?: bigint;
  /** Awaited before each read of more input: lets a slower consumer hold reading back. */
  beforeRead?: () => Promise<void>;
  /** Called instead of handing on the flows still open at the end: what a snapshot needs. */
  onEnd?: (tracker: Tracker) => void;
}

export interface CaptureAnalysis {
  captures: CaptureSummary[];
  decode: DecodeStats;
  tracker: TrackerStats;
  /** Ports seen answering SYNs with SYN-ACK (inferred listeners). */
  listeners: Listener[];
  /** A capture that could not be read to its end; everything before it was analysed. */
  error: CaptureFormatError | undefined;
}

const PROGRESS_EVERY = 1 << 16;
/** The last second whose nanoseconds fit a signed 64-bit integer (2262-04-11). */
const LAST_NANOSECOND_SECOND = 9_223_372_035;

/**
 * Reads, decodes and tracks one capture (several files read as one, merged by
 * time), handing transitions, findings and finished flows to `output` as they
 * become final. A file cut short or corrupt midway ends reading there: what was
 * read is kept and tracked, and the error is returned, not thrown.
 */
export async function analyzeCapture(paths: readonly string[], output: TrackerOutput, options: AnalyzeCaptureOptions = {}): Promise<CaptureAnalysis> {
  const readers: FrameReader[] = [];
  try {
    for (const [index, path] of paths.entries()) readers.push(await openCapture(path, index, options.stdin));
  } catch (error) {
    await Promise.all(readers.map((r) => r.close()));
    throw error;
  }
  const decoder = new PacketDecoder({ synOptionsOnly: true });
  const tracker = new Tracker(output, options);
  const tcpPackets = new Array<number>(paths.length).fill(0);
  const firstSecond = new Array<number>(paths.length).fill(-1);
  const firstNanos = new Array<number>(paths.length).fill(0);
  const lastSecond = new Array<number>(paths.length).fill(-1);
  const lastNanos = new Array<number>(paths.length).fill(0);
  const segment = decoder.segment;
  const onProgress = options.onProgress;
  const untilSecond = options.untilNs === undefined ? Infinity : Number(options.untilNs / 1_000_000_000n);
  const untilNanos = options.untilNs === undefined ? 0 : Number(options.untilNs % 1_000_000_000n);
  let packets = 0;
  let error: CaptureFormatError | undefined;
  try {
    await forEachFrame(readers, (frame) => {
      if (frame.tsSec > untilSecond || (frame.tsSec === untilSecond && frame.tsNsec > untilNanos)) return true;
      const source = frame.source;
      if (frame.tsSec > LAST_NANOSECOND_SECOND) {
        decoder.stats.packets++;
        decoder.stats.addIssue(DecodeIssue.timestampOutOfRange, source, frame.frame);
        return false;
      }
      if (firstSecond[source] < 0 || frame.tsSec < firstSecond[source] || (frame.tsSec === firstSecond[source] && frame.tsNsec < firstNanos[source])) {
        firstSecond[source] = frame.tsSec;
        firstNanos[source] = frame.tsNsec;
      }
      if (frame.tsSec > lastSecond[source] || (frame.tsSec === lastSecond[source] && frame.tsNsec > lastNanos[source])) {
        lastSecond[source] = frame.tsSec;
        lastNanos[source] = frame.tsNsec;
      }
      if (decoder.decode(frame)) {
        tcpPackets[source]++;
        tracker.track(frame, segment);
      }
      if (onProgress !== undefined && ++packets % PROGRESS_EVERY === 0) onProgress(progressOf(readers, packets));
      return false;
    }, options.beforeRead);
  } catch (caught) {
    if (!(caught instanceof CaptureFormatError)) throw caught;
    error = caught;
  } finally {
    await Promise.all(readers.map((r) => r.close()));
  }
  if (options.untilNs !== undefined) tracker.advanceTo(options.untilNs);
  if (options.onEnd) options.onEnd(tracker);
  else tracker.finish();
  onProgress?.(progressOf(readers, decoder.stats.packets));
  const ns = (second: number, nanos: number): bigint | null => (second < 0 ? null : BigInt(second) * 1_000_000_000n + BigInt(nanos));
  return {
    captures: readers.map((reader, i) => ({
      path: reader.path,
      format: reader.format,
      gzipped: reader.gzipped,
      linkTypes: [...reader.linkTypes],
      packets: reader.frames,
      tcpPackets: tcpPackets[i],
      firstNs: ns(firstSecond[i], firstNanos[i]),
      lastNs: ns(lastSecond[i], lastNanos[i]),
      warnings: reader.warnings.map((w) => `${w.path}: ${w.message} (byte offset ${w.offset}, frame ${w.frame})`),
      skippedBlocks: Object.fromEntries([...reader.skippedBlocks].map(([type, count]) => [`0x${type.toString(16)}`, count])),
    })),
    decode: decoder.stats,
    tracker: tracker.stats,
    listeners: tracker.listeners.inOrder,
    error,
  };
}

function progressOf(readers: readonly FrameReader[], packets: number): AnalysisProgress {
  let bytesRead = 0;
  let totalBytes: number | undefined = 0;
  for (const reader of readers) {
    const p = reader.progress();
    bytesRead += p.bytesRead;
    totalBytes = totalBytes === undefined || p.totalBytes === undefined ? undefined : totalBytes + p.totalBytes;
  }
  return { bytesRead, totalBytes, packets };
}
