import { analyzeCapture, type CaptureAnalysis } from '../track/analyze-capture.js';
import { CollectedOutput } from '../track/collect-output.js';
import type { DetectorThresholds } from '../track/finding-catalogue.js';
import type { FindingRecord, FlowRecord, TransitionRecord } from '../track/records.js';
import { analyzeToDatabase } from './analyze-to-database.js';

export interface AnalyzeOptions {
  /** Also write the database here (replaced only when complete). */
  db?: string;
  /** How long TIME_WAIT lasts (2×MSL), seconds: 60 Linux (default), 240 Windows, 30 macOS/BSD. */
  timeWaitSeconds?: number;
  /** Most unfinished handshakes kept in memory at once (default 100,000). */
  halfOpenLimit?: number;
  /** Detector thresholds (docs/findings.md). */
  thresholds?: Partial<DetectorThresholds>;
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
  const settings = { timeWaitSeconds: options.timeWaitSeconds, halfOpenLimit: options.halfOpenLimit, thresholds: options.thresholds };
  const analysis = options.db === undefined
    ? await analyzeCapture(paths, collected, settings)
    : await analyzeToDatabase(paths, options.db, { ...settings, alsoTo: collected });
  return { ...analysis, flows: collected.flows, transitions: collected.transitions, findings: collected.findings };
}
