import type { RowBatch } from './row-batch.js';
import type { Row, SqliteSink } from './sqlite-sink.js';
import type { EndpointEvent } from '../tcp/endpoint-event.js';

/** A cause first seen in a batch: its words and the stable code of its event. */
export interface CauseRow {
  text: string;
  event: EndpointEvent;
}

/** What DatabaseWriter sends its writer thread. */
export type WriterMessage =
  | { kind: 'transitions'; rows: Float64Array; count: number; causes: CauseRow[] }
  | { kind: 'flows'; rows: RowBatch }
  | { kind: 'flowUpdates'; rows: RowBatch }
  | { kind: 'findings'; rows: Row[] }
  | { kind: 'commit'; captures: Row[]; listeners: Row[]; meta: Record<string, string> };

/** `written` acknowledges one batch (for back-pressure); `failed` ends the writing. */
export type WriterReply = { kind: 'written' } | { kind: 'committed' } | { kind: 'failed'; message: string };

/** Carries out one message on the sink: the same dispatch for the writer thread and in-thread writing. */
export function writeMessage(sink: SqliteSink, message: WriterMessage): WriterReply {
  switch (message.kind) {
    case 'transitions':
      sink.transitions(message.rows, message.count, message.causes);
      return { kind: 'written' };
    case 'flows':
      sink.flows(message.rows);
      return { kind: 'written' };
    case 'flowUpdates':
      sink.flowUpdates(message.rows);
      return { kind: 'written' };
    case 'findings':
      sink.findings(message.rows);
      return { kind: 'written' };
    case 'commit':
      sink.commit(message.captures, message.listeners, message.meta);
      return { kind: 'committed' };
  }
}
