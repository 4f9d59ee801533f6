/**
 * The composition root: the one place the stages are put together into the
 * pipeline open → decode → track → store. The library (`index.ts`) and the
 * command line call these; no stage imports this file.
 */
import { availableParallelism } from 'node:os';
import type { CaptureFormatError } from './capture/capture-format-error.js';
import { checkDistinctInputs } from './capture/distinct-inputs.js';
import { type CapturedFrame, frameTimeNs } from './capture/captured-frame.js';
import { FrameRetimer } from './capture/frame-retimer.js';
import type { CaptureWarning, FrameReader } from './capture/frame-reader.js';
import { forEachFrame } from './capture/frame-stream.js';
import { openCapture } from './capture/open-capture.js';
import { DecodeIssue } from './decode/decode-stats.js';
import { PacketDecoder } from './decode/packet-decoder.js';
import { DatabaseWriter } from './store/database-writer.js';
import { shardMeta } from './store/shard-meta.js';
import type { AnalysisProgress, CaptureAnalysis } from './track/capture-analysis.js';
import { CollectedOutput } from './track/collect-output.js';
import type { DetectorThresholds } from './track/finding-catalogue.js';
import type { FindingRecord, FlowRecord, TrackerOutput, TransitionRecord } from './track/records.js';
import { type ChecksumPolicy, DEFAULT_HALF_OPEN_LIMIT, DEFAULT_TIME_WAIT_SECONDS, Tracker, type TrackerOptions } from './track/tracker.js';
import { type Shard, shardOf } from './track/shard.js';
import { VERSION } from './version.js';
import { defaultMemoryBytes } from './memory-budget.js';
import { FlowstateError } from './errors.js';

export type { AnalysisProgress, CaptureAnalysis, CaptureSummary } from './track/capture-analysis.js';

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
  /** Track only the connections of this shard (shard.ts); the per-host findings wait for `merge`. */
  shard?: Shard;
}

const PROGRESS_EVERY = 1 << 16;
const NS_PER_SECOND = 1_000_000_000n;

/**
 * Reads, decodes and tracks one capture (several files read as one, merged by
 * time), handing transitions, findings and finished flows to `output` as they
 * become final. A file cut short or corrupt midway ends reading there: what was
 * read is kept and tracked, and the error is returned, not thrown.
 */
export async function analyzeCapture(
  paths: readonly string[],
  output: TrackerOutput,
  options: AnalyzeCaptureOptions = {},
): Promise<CaptureAnalysis> {
  checkDistinctInputs(paths);
  const readers: FrameReader[] = [];
  try {
    for (const [index, path] of paths.entries()) readers.push(await openCapture(path, index, options.stdin));
  } catch (error) {
    await Promise.all(readers.map((r) => r.close()));
    throw error;
  }
  const decoder = new PacketDecoder({ synOptionsOnly: true });
  const shard = options.shard;
  const tracker = new Tracker(output, {
    ...options,
    memoryBytes: options.memoryBytes ?? defaultMemoryBytes(),
    keepAggregates: shard !== undefined,
  });
  const tcpPackets = new Array<number>(paths.length).fill(0);
  const firstSecond = new Array<number>(paths.length).fill(-1);
  const firstNanos = new Array<number>(paths.length).fill(0);
  const lastSecond = new Array<number>(paths.length).fill(-1);
  const lastNanos = new Array<number>(paths.length).fill(0);
  const segment = decoder.segment;
  const onProgress = options.onProgress;
  const untilSecond = options.untilNs === undefined ? Infinity : Number(options.untilNs / NS_PER_SECOND);
  const untilNanos = options.untilNs === undefined ? 0 : Number(options.untilNs % NS_PER_SECOND);
  let packets = 0;
  /** Tracks one frame; true to stop reading (past `untilNs`). `timed`: its time is its own, not borrowed. */
  const handle = (frame: CapturedFrame, timed: boolean): boolean => {
    if (frame.tsSec > untilSecond || (frame.tsSec === untilSecond && frame.tsNsec > untilNanos)) return true;
    const source = frame.source;
    if (timed) {
      if (
        firstSecond[source] < 0 ||
        frame.tsSec < firstSecond[source] ||
        (frame.tsSec === firstSecond[source] && frame.tsNsec < firstNanos[source])
      ) {
        firstSecond[source] = frame.tsSec;
        firstNanos[source] = frame.tsNsec;
      }
      if (frame.tsSec > lastSecond[source] || (frame.tsSec === lastSecond[source] && frame.tsNsec > lastNanos[source])) {
        lastSecond[source] = frame.tsSec;
        lastNanos[source] = frame.tsNsec;
      }
    }
    if (decoder.decode(frame)) {
      tcpPackets[source]++;
      if (shard === undefined || shardOf(segment, shard.count) === shard.index) tracker.track(frame, segment);
      else tracker.elapse(frame);
    }
    if (onProgress !== undefined && ++packets % PROGRESS_EVERY === 0) onProgress(progressOf(readers, packets));
    return false;
  };
  const retimer = new FrameRetimer(
    handle,
    (frame) => decoder.stats.addIssue(DecodeIssue.timestampOutOfRange, frame.source, frame.frame),
    () => decoder.stats.packets++,
  );
  let errors: Array<CaptureFormatError | undefined> = [];
  try {
    errors = await forEachFrame(readers, (frame) => retimer.accept(frame), options.beforeRead);
  } finally {
    await Promise.all(readers.map((r) => r.close()));
  }
  retimer.finish();
  decoder.finish();
  if (options.untilNs !== undefined) tracker.advanceTo(options.untilNs);
  if (options.onEnd) options.onEnd(tracker);
  else tracker.finish();
  onProgress?.(progressOf(readers, decoder.stats.packets));
  const ns = (second: number, nanos: number): bigint | null => (second < 0 ? null : frameTimeNs({ tsSec: second, tsNsec: nanos }));
  const captures = readers.map((reader, i) => ({
    path: reader.path,
    format: reader.format,
    gzipped: reader.gzipped,
    linkTypes: [...reader.linkTypes],
    packets: reader.frames,
    tcpPackets: tcpPackets[i],
    firstNs: ns(firstSecond[i], firstNanos[i]),
    lastNs: ns(lastSecond[i], lastNanos[i]),
    warnings: reader.warnings.map(describeWarning),
    error: errors[i]?.message ?? null,
    readWhole: errors[i] === undefined && reader.warnings.every((w) => w.partialHeader),
    skippedBlocks: Object.fromEntries([...reader.skippedBlocks].map(([type, count]) => [`0x${type.toString(16)}`, count])),
  }));
  const error = errors.find((e) => e !== undefined);
  const cutShort = readers.flatMap((reader) => reader.warnings).find((w) => !w.partialHeader);
  return {
    captures,
    decode: decoder.stats,
    tracker: tracker.stats,
    listeners: tracker.listeners.inOrder,
    error,
    incomplete: error?.message ?? (cutShort === undefined ? undefined : describeWarning(cutShort)),
    ...(shard === undefined ? {} : { shard: { ...shard, ...tracker.shardResult() } }),
  };
}

function describeWarning(w: CaptureWarning): string {
  return `${w.path}: ${w.message} (byte offset ${w.offset}, frame ${w.frame})`;
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

export interface DatabaseAnalysis extends CaptureAnalysis {
  database: string;
  rowsWritten: number;
  /** Threads the job ran on (1: SQLite written in the reading thread; always 1 when run from the TypeScript sources). */
  threads: number;
}

export interface AnalyzeToDatabaseOptions extends AnalyzeCaptureOptions {
  /** Aborting stops reading at once; the previous database stays as it was. */
  signal?: AbortSignal;
  /** Also receives every record (the library collects them). */
  alsoTo?: TrackerOutput;
  /** Replace a file at the database path that flowstate did not write (never one of the captures). */
  force?: boolean;
  /**
   * Threads to use: 1 writes SQLite in the calling thread; 2 writes it on a second thread
   * beside reading and tracking. More are taken as 2 (see MOST_USEFUL_THREADS). Default: `defaultThreads()`.
   */
  threads?: number;
}

/**
 * The job runs as two stages, reading + decoding + tracking and writing SQLite, so a
 * third thread would have nothing to do; docs/benchmarks.md (Threads) has the figures.
 */
export const MOST_USEFUL_THREADS = 2;

/** What the machine offers this process (its CPU affinity), at most MOST_USEFUL_THREADS. */
export function defaultThreads(): number {
  return Math.min(availableParallelism(), MOST_USEFUL_THREADS);
}

/** Input so broken that not one frame could be read: no database is written over the previous one. */
export class NothingReadError extends FlowstateError {
  override name = 'NothingReadError';
}

/**
 * Analyses captures into a new database at `databasePath`, replacing any previous
 * one only once the new one is complete, and only when it is flowstate's (or
 * `force`) and not one of the captures. When the input was so broken that no frame
 * could be read, the previous database stays and NothingReadError is thrown. On an exception (or `signal` abort) the
 * previous database is untouched and no partial file is left behind.
 */
export async function analyzeToDatabase(
  paths: readonly string[],
  databasePath: string,
  options: AnalyzeToDatabaseOptions = {},
): Promise<DatabaseAnalysis> {
  // Two threads or more: SQLite on its own (a larger number runs as two).
  const writer = new DatabaseWriter(databasePath, {
    thread: (options.threads ?? defaultThreads()) > 1,
    inputs: paths,
    force: options.force,
  });
  const also = options.alsoTo;
  const output: TrackerOutput =
    also === undefined
      ? writer
      : {
          transition: (r) => (writer.transition(r), also.transition(r)),
          finding: (r) => (writer.finding(r), also.finding(r)),
          flow: (r) => (writer.flow(r), also.flow(r)),
          flowUpdate: (u) => (writer.flowUpdate(u), also.flowUpdate?.(u)),
        };
  const abort = (): void => writer.abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    const beforeRead = (): Promise<void> => {
      // An interrupt stops reading at once; otherwise wait while the writer thread catches up.
      options.signal?.throwIfAborted();
      return writer.drain();
    };
    const analysis = await analyzeCapture(paths, output, { ...options, beforeRead });
    options.signal?.throwIfAborted();
    const problem = analysis.captures.map((c) => c.error ?? c.warnings[0]).find((said) => said !== undefined);
    if (problem !== undefined && analysis.captures.every((c) => c.packets === 0)) throw new NothingReadError(problem);
    await writer.commit(analysis, {
      flowstate_version: VERSION,
      time_wait_seconds: String(options.timeWaitSeconds ?? DEFAULT_TIME_WAIT_SECONDS),
      half_open_limit: String(options.halfOpenLimit ?? DEFAULT_HALF_OPEN_LIMIT),
      checksums: options.checksums ?? 'keep',
      decode: JSON.stringify({
        packets: analysis.decode.packets,
        tcp_segments: analysis.decode.tcpSegments,
        not_ip: analysis.decode.notIp,
        not_tcp: analysis.decode.notTcp,
        fragments: analysis.decode.fragments,
        ip_length_beyond_frame: analysis.decode.ipLengthBeyondFrame,
        unsupported_link_types: Object.fromEntries(analysis.decode.unsupportedLinkTypes),
        issues: Object.fromEntries([...analysis.decode.issues].map(([k, v]) => [k, v.count])),
      }),
      tracker: JSON.stringify(analysis.tracker),
      ...(analysis.shard ? { shard: shardMeta(analysis.shard) } : {}),
      ...(analysis.error ? { incomplete: analysis.error.message } : {}),
    });
    return { ...analysis, database: databasePath, rowsWritten: writer.rows, threads: writer.onThread ? 2 : 1 };
  } catch (error) {
    writer.abort();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}

export interface AnalyzeOptions {
  /** Also write the database here (replaced only when complete). */
  db?: string;
  /** How long TIME_WAIT lasts (2×MSL), seconds: 60 Linux (default), 240 Windows, 30 macOS/BSD. */
  timeWaitSeconds?: number;
  /** Most unfinished handshakes kept in memory at once (default 100,000). */
  halfOpenLimit?: number;
  /**
   * Memory budget of connection state in bytes (default: a quarter of the machine's memory, at most
   * half of V8's heap limit; memory-budget.ts). Past it the least recently seen connections are
   * handed on as they stand, marked evicted (`tracker.evictedConnections` counts them).
   */
  memoryBytes?: number;
  /** Detector thresholds (docs/findings.md). */
  thresholds?: Partial<DetectorThresholds>;
  /** Segments with a bad TCP checksum: tracked (`keep`, the default) or left out (`drop`). */
  checksums?: ChecksumPolicy;
}

export interface Analysis extends CaptureAnalysis {
  /** Every connection instance, in the order they ended (or the capture did). */
  flows: FlowRecord[];
  /** Every state change of every endpoint, in the order they happened per flow. */
  transitions: TransitionRecord[];
  findings: FindingRecord[];
}

/**
 * Analyses one capture (several files are read as one, merged by time) in
 * memory: for test suites and scripts. A file that cannot be read at all
 * rejects with a CaptureFormatError; one cut short midway resolves with
 * `error` set and everything read before it analysed.
 *
 * @example
 * const { flows } = await analyze('captures/close-wait-leak.pcap');
 * const stuck = flows.filter((f) => f.client.state === 'CLOSE_WAIT' || f.server.state === 'CLOSE_WAIT');
 */
export async function analyze(capture: string | readonly string[], options: AnalyzeOptions = {}): Promise<Analysis> {
  const paths = typeof capture === 'string' ? [capture] : capture;
  const collected = new CollectedOutput();
  const settings = {
    timeWaitSeconds: options.timeWaitSeconds,
    halfOpenLimit: options.halfOpenLimit,
    memoryBytes: options.memoryBytes,
    thresholds: options.thresholds,
    checksums: options.checksums,
  };
  const analysis =
    options.db === undefined
      ? await analyzeCapture(paths, collected, settings)
      : await analyzeToDatabase(paths, options.db, { ...settings, alsoTo: collected });
  return { ...analysis, flows: collected.flows, transitions: collected.transitions, findings: collected.findings };
}
