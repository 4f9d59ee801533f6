import type { Row } from './sqlite-sink.js';

/** What DatabaseWriter sends its writer thread. */
export type WriterMessage =
  | { kind: 'transitions'; rows: Float64Array; count: number; causes: string[] }
  | { kind: 'flows'; rows: Row[] }
  | { kind: 'flowUpdates'; rows: Row[] }
  | { kind: 'findings'; rows: Row[] }
  | { kind: 'commit'; captures: Row[]; listeners: Row[]; meta: Record<string, string> };

/** `written` acknowledges one batch (for back-pressure); `failed` ends the writing. */
export type WriterReply = { kind: 'written' } | { kind: 'committed' } | { kind: 'failed'; message: string };
