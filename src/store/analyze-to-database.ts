import { VERSION } from '../version.js';
import { analyzeCapture, type AnalyzeCaptureOptions, type CaptureAnalysis } from '../track/analyze-capture.js';
import { DEFAULT_HALF_OPEN_LIMIT, DEFAULT_TIME_WAIT_SECONDS } from '../track/tracker.js';
import type { TrackerOutput } from '../track/records.js';
import { DatabaseWriter } from './database-writer.js';

export interface DatabaseAnalysis extends CaptureAnalysis {
  database: string;
  rowsWritten: number;
}

/**
 * Analyses captures into a new database at `databasePath`, replacing any previous
 * one only once the new one is complete. On an exception (or `signal` abort) the
 * previous database is untouched and no partial file is left behind.
 */
export async function analyzeToDatabase(
  paths: readonly string[],
  databasePath: string,
  options: AnalyzeCaptureOptions & { signal?: AbortSignal; /** Also receives every record (the library collects them). */ alsoTo?: TrackerOutput } = {},
): Promise<DatabaseAnalysis> {
  const writer = new DatabaseWriter(databasePath);
  const also = options.alsoTo;
  const output: TrackerOutput = also === undefined ? writer : {
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
    await writer.commit(analysis, {
      flowstate_version: VERSION,
      time_wait_seconds: String(options.timeWaitSeconds ?? DEFAULT_TIME_WAIT_SECONDS),
      half_open_limit: String(options.halfOpenLimit ?? DEFAULT_HALF_OPEN_LIMIT),
      decode: JSON.stringify({
        packets: analysis.decode.packets,
        tcp_segments: analysis.decode.tcpSegments,
        not_ip: analysis.decode.notIp,
        not_tcp: analysis.decode.notTcp,
        later_fragments: analysis.decode.laterFragments,
        ip_length_beyond_frame: analysis.decode.ipLengthBeyondFrame,
        unsupported_link_types: Object.fromEntries(analysis.decode.unsupportedLinkTypes),
        issues: Object.fromEntries([...analysis.decode.issues].map(([k, v]) => [k, v.count])),
      }),
      tracker: JSON.stringify(analysis.tracker),
      ...(analysis.error ? { incomplete: analysis.error.message } : {}),
    });
    return { ...analysis, database: databasePath, rowsWritten: writer.rows };
  } catch (error) {
    writer.abort();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}
