/**
 * The ladder replay on a thread of its own (replay.ts, segmentsBeside): the
 * HTML report reads the capture again here while the main thread walks the
 * stored transitions, one core each.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { segmentsOfFlows } from './replay.js';
import { DatabaseReader } from './store/database-reader.js';

const { path, flowIds, lastNs } = workerData as { path: string; flowIds: number[]; lastNs: bigint };
const reader = new DatabaseReader(path);
try {
  parentPort?.postMessage(await segmentsOfFlows(reader, flowIds, lastNs));
} catch (error) {
  parentPort?.postMessage((error as Error).message);
} finally {
  reader.close();
}
