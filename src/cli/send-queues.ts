import type { DatabaseReader } from '../store/database-reader.js';
import { replayCapture } from './replay-capture.js';

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
