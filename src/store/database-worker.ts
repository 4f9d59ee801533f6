// The database writer's thread: takes row batches from DatabaseWriter and writes
// them, so SQLite work runs on the second core while the first one tracks.
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteSink } from './sqlite-sink.js';
import { type WriterMessage, type WriterReply, writeMessage } from './writer-messages.js';

const port = parentPort;
if (port === null) throw new Error('database-worker runs only as a worker thread');
const reply = (message: WriterReply): void => port.postMessage(message);

let sink: SqliteSink | undefined;
try {
  sink = new SqliteSink((workerData as { path: string }).path);
} catch (error) {
  reply({ kind: 'failed', message: (error as Error).message });
}

port.on('message', (message: WriterMessage) => {
  if (sink === undefined) return;
  try {
    reply(writeMessage(sink, message));
  } catch (error) {
    sink.close();
    sink = undefined;
    reply({ kind: 'failed', message: (error as Error).message });
  }
});
