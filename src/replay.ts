/**
 * Reading a database's captures again, for what the database does not keep:
 * every segment of one flow (the ladder) and Send-Q at a past moment. Part of
 * the composition root beside analyze.ts.
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { frameTimeNs } from './capture/captured-frame.js';
import { analyzeCapture, type AnalyzeCaptureOptions } from './analyze.js';
import type { SegmentSeen } from './report/flow-ladder.js';
import { DatabaseReader } from './store/database-reader.js';
import type { TrackerOutput } from './track/records.js';
import { DEFAULT_HALF_OPEN_LIMIT, DEFAULT_TIME_WAIT_SECONDS } from './track/tracker.js';

const discard: TrackerOutput = { transition: () => undefined, finding: () => undefined, flow: () => undefined };

/**
 * Reads a database's captures again, up to `untilNs`, with the settings the
 * database was made with, so flow ids come out the same. Resolves to the reason
 * when the captures can no longer be read (moved, or standard input).
 */
export async function replayCapture(
  reader: DatabaseReader,
  untilNs: bigint,
  hooks: Pick<AnalyzeCaptureOptions, 'onSegment' | 'onEnd'>,
): Promise<string | undefined> {
  const paths = reader.captures().map((c) => c.path);
  if (paths.length === 0) return 'the database has no captures';
  if (paths.includes('-')) return 'the capture was read from standard input';
  for (const path of paths) {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) return `${path} is no longer there`;
    // A FIFO or device read once cannot be read again: opening it would wait for a writer forever.
    if (!stats.isFile()) return `${path} is not a regular file (a FIFO or a device), so it cannot be read again`;
  }
  await analyzeCapture(paths, discard, {
    untilNs,
    timeWaitSeconds: Number(reader.meta('time_wait_seconds') ?? DEFAULT_TIME_WAIT_SECONDS),
    halfOpenLimit: Number(reader.meta('half_open_limit') ?? DEFAULT_HALF_OPEN_LIMIT),
    onEnd: hooks.onEnd ?? (() => undefined),
    onSegment: hooks.onSegment,
  });
  return undefined;
}

/** Every segment of flow `flowId` (which ended at `lastNs`) as the tracker saw it, or why the captures cannot be read. */
export async function segmentsOfFlow(reader: DatabaseReader, flowId: number, lastNs: bigint): Promise<SegmentSeen[] | string> {
  const seen = await segmentsOfFlows(reader, [flowId], lastNs);
  return typeof seen === 'string' ? seen : (seen.get(flowId) ?? []);
}

/** Every segment of each of `flowIds` (the last of which ended at `lastNs`), in one reading of the captures. */
export async function segmentsOfFlows(
  reader: DatabaseReader,
  flowIds: readonly number[],
  lastNs: bigint,
): Promise<Map<number, SegmentSeen[]> | string> {
  const seen = new Map<number, SegmentSeen[]>(flowIds.map((id) => [id, []]));
  const unreadable = await replayCapture(reader, lastNs, {
    onSegment: (id, fromClient, segment, frame, clientState, serverState) => {
      seen.get(id)?.push({
        tsNs: frameTimeNs(frame),
        captureId: frame.source + 1,
        frame: frame.frame,
        fromClient,
        flags: segment.flags,
        seq: segment.seq,
        ack: segment.ack,
        length: segment.payloadLength,
        window: segment.window,
        clientState,
        serverState,
      });
    },
  });
  return unreadable ?? seen;
}

const REPLAY_WORKER = new URL('./replay-worker.js', import.meta.url);

/**
 * segmentsOfFlows on a worker thread, so that the caller's own work runs beside
 * it on the other core; in this thread where the worker is not built (tests
 * that run the sources). Reads the database at `path` on its own connection.
 */
export function segmentsBeside(path: string, flowIds: readonly number[], lastNs: bigint): Promise<Map<number, SegmentSeen[]> | string> {
  if (!existsSync(fileURLToPath(REPLAY_WORKER))) {
    const reader = new DatabaseReader(path);
    return segmentsOfFlows(reader, flowIds, lastNs).finally(() => reader.close());
  }
  return new Promise((resolve, reject) => {
    const worker = new Worker(REPLAY_WORKER, { workerData: { path, flowIds, lastNs } });
    worker.once('message', (result: Map<number, SegmentSeen[]> | string) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/**
 * Send-Q of every endpoint at `atNs`, keyed "flowId:role": the database keeps
 * states, not every segment, so the captures are read again up to that moment.
 * Undefined when they can no longer be read.
 */
export async function sendQueuesAt(reader: DatabaseReader, atNs: bigint): Promise<Map<string, number> | undefined> {
  const queues = new Map<string, number>();
  const unreadable = await replayCapture(reader, atNs, {
    onEnd: (tracker) => {
      for (const e of tracker.snapshot()) queues.set(`${e.flowId}:${e.role}`, e.unackedBytes);
    },
  }).catch((error: Error) => error.message);
  return unreadable === undefined ? queues : undefined;
}
