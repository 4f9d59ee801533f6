import { existsSync } from 'node:fs';
import { analyzeCapture } from '../track/analyze-capture.js';
import type { FindingRecord, FlowRecord, TrackerOutput, TransitionRecord } from '../track/records.js';
import type { DatabaseReader } from '../store/database-reader.js';

const discard: TrackerOutput = {
  transition: (_t: TransitionRecord) => undefined,
  finding: (_f: FindingRecord) => undefined,
  flow: (_f: FlowRecord) => undefined,
};

/**
 * Send-Q of every endpoint at `atNs`: the database keeps states, not every
 * segment, so the captures it was made from are read again up to that moment
 * with the same settings (flow ids come out the same). Undefined when a capture
 * can no longer be read (moved, or it was standard input).
 */
export async function sendQueuesAt(reader: DatabaseReader, atNs: bigint): Promise<Map<string, number> | undefined> {
  const paths = reader.captures().map((c) => c.path);
  if (paths.length === 0 || paths.some((p) => p === '-' || !existsSync(p))) return undefined;
  const queues = new Map<string, number>();
  try {
    await analyzeCapture(paths, discard, {
      untilNs: atNs,
      timeWaitSeconds: Number(reader.meta('time_wait_seconds') ?? '60'),
      halfOpenLimit: Number(reader.meta('half_open_limit') ?? '100000'),
      onEnd: (tracker) => {
        for (const e of tracker.snapshot()) queues.set(`${e.flowId}:${e.role}`, e.unackedBytes);
      },
    });
  } catch {
    return undefined;
  }
  return queues;
}
