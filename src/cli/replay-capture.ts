import { existsSync } from 'node:fs';
import { analyzeCapture, type AnalyzeCaptureOptions } from '../track/analyze-capture.js';
import type { TrackerOutput } from '../track/records.js';
import type { DatabaseReader } from '../store/database-reader.js';

const discard: TrackerOutput = { transition: () => undefined, finding: () => undefined, flow: () => undefined };

/**
 * Reads a database's captures again, up to `untilNs`, with the settings the
 * database was made with, so flow ids come out the same: for what the database
 * does not keep (every segment; Send-Q at a past moment). Resolves to the reason
 * when the captures can no longer be read (moved, or standard input).
 */
export async function replayCapture(reader: DatabaseReader, untilNs: bigint, hooks: Pick<AnalyzeCaptureOptions, 'onSegment' | 'onEnd'>): Promise<string | undefined> {
  const paths = reader.captures().map((c) => c.path);
  if (paths.length === 0) return 'the database has no captures';
  if (paths.includes('-')) return 'the capture was read from standard input';
  const missing = paths.find((p) => !existsSync(p));
  if (missing !== undefined) return `${missing} is no longer there`;
  await analyzeCapture(paths, discard, {
    untilNs,
    timeWaitSeconds: Number(reader.meta('time_wait_seconds') ?? '60'),
    halfOpenLimit: Number(reader.meta('half_open_limit') ?? '100000'),
    onEnd: hooks.onEnd ?? (() => undefined),
    onSegment: hooks.onSegment,
  });
  return undefined;
}
