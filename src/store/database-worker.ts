// The database writer's thread: takes row batches from DatabaseWriter and writes
// them, so SQLite work runs on the second core while the first one tracks.
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteSink } from './sqlite-sink.js';
import type { WriterMessage, WriterReply } from './writer-messages.js';

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
    switch (message.kind) {
      case 'transitions':
        sink.transitions(message.rows, message.count, message.causes);
        reply({ kind: 'written' });
        break;
      case 'flows':
        sink.flows(message.rows);
        reply({ kind: 'written' });
        break;
      case 'flowUpdates':
        sink.flowUpdates(message.rows);
        reply({ kind: 'written' });
        break;
      case 'findings':
        sink.findings(message.rows);
        reply({ kind: 'written' });
        break;
      case 'commit':
        sink.commit(message.captures, message.listeners, message.meta);
        reply({ kind: 'committed' });
        break;
    }
  } catch (error) {
    sink.close();
    sink = undefined;
    reply({ kind: 'failed', message: (error as Error).message });
  }
});
