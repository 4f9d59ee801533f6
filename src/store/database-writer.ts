import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FlowstateError } from '../errors.js';
import type { CaptureAnalysis } from '../track/capture-analysis.js';
import type { FindingRecord, FlowRecord, FlowUpdate, TrackerOutput, TransitionEvent } from '../track/records.js';
import { type ClaimOptions, OutputFile } from './output-file.js';
import { RowBatchBuilder, transferablesOf } from './row-batch.js';
import { CAPTURES, FINDINGS, FLOW_ROW_KINDS, FLOW_UPDATE_KINDS, LISTENERS, writeFlowRow, writeFlowUpdate } from './tables.js';
import { transitionCode } from './transition-code.js';
import { type Row, SqliteSink, TRANSITION_COLUMNS } from './sqlite-sink.js';
import { type CauseRow, type WriterMessage, type WriterReply, writeMessage } from './writer-messages.js';

const TRANSITION_BATCH = 8192;
const FLOW_BATCH = 2048;
const FINDING_BATCH = 512;
/**
 * Batches the writer thread may lag behind before reading pauses: bounds memory
 * whatever the capture size; more in flight held more memory and was no faster.
 */
const MAX_OUTSTANDING = 16;
const WORKER_SCRIPT = new URL('./database-worker.js', import.meta.url);

export interface DatabaseWriterOptions extends Pick<ClaimOptions, 'inputs' | 'force'> {
  /**
   * Write on a worker thread (the default), so that SQLite has the second core.
   * False writes in the calling thread: one core does everything (the benchmark's one-core stage).
   */
  thread?: boolean;
}

/** Writing the database failed (disk full, unwritable directory…): a runtime failure, not a bug. */
export class DatabaseWriteError extends FlowstateError {
  override name = 'DatabaseWriteError';
}

/**
 * Writes a database as the tracker produces it, on a worker thread when the built
 * worker is there and not declined (in-thread otherwise, e.g. when run from the TypeScript sources).
 * Everything goes into a temporary file beside the target (output-file.ts), which
 * replaces the target only in `commit`: a failed, crashed or interrupted run leaves
 * any previous database untouched, and the target is refused when it is an input
 * or a file flowstate did not write.
 */
export class DatabaseWriter implements TrackerOutput {
  private readonly output: OutputFile;
  rows = 0;
  private readonly worker: Worker | undefined;
  private readonly sink: SqliteSink | undefined;
  private transitionRows = new Float64Array(TRANSITION_BATCH * TRANSITION_COLUMNS);
  private transitionCount = 0;
  /** Transition ids, 1-based in the order they happened. */
  private transitionIds = 0;
  private readonly causeCodes = new Map<string, number>();
  private newCauses: CauseRow[] = [];
  private readonly flowRows = new RowBatchBuilder(FLOW_ROW_KINDS, FLOW_BATCH);
  private findingRows: Row[] = [];
  private readonly updateRows = new RowBatchBuilder(FLOW_UPDATE_KINDS, FLOW_BATCH);
  private outstanding = 0;
  private waiting: Array<() => void> = [];
  private failure: Error | undefined;
  private onCommitted: ((error?: Error) => void) | undefined;
  private finished = false;

  /** Whether SQLite runs on the writer thread (false: in the calling thread). */
  get onThread(): boolean {
    return this.worker !== undefined;
  }

  constructor(
    readonly targetPath: string,
    options: DatabaseWriterOptions = {},
  ) {
    this.output = OutputFile.claim(targetPath, { kind: 'database', inputs: options.inputs, force: options.force, option: '--db' });
    if (options.thread !== false && existsSync(fileURLToPath(WORKER_SCRIPT))) {
      // The writer holds one batch at a time; a small heap keeps its garbage from piling up.
      this.worker = new Worker(WORKER_SCRIPT, {
        workerData: { path: this.output.temporaryPath },
        resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 },
      });
      this.worker.on('message', (reply: WriterReply) => this.received(reply));
      this.worker.on('error', (error) => this.fail(error));
      this.worker.on('exit', () => this.fail(new Error('the writer thread ended early')));
    } else {
      try {
        this.sink = new SqliteSink(this.output.temporaryPath);
      } catch (error) {
        this.output.discard();
        throw new DatabaseWriteError(`cannot write ${targetPath}: ${(error as Error).message}`);
      }
    }
  }

  transition(t: TransitionEvent): void {
    this.rows++;
    let cause = this.causeCodes.get(t.cause);
    if (cause === undefined) {
      cause = this.causeCodes.size;
      this.causeCodes.set(t.cause, cause);
      this.newCauses.push({ text: t.cause, event: t.event });
    }
    const rows = this.transitionRows;
    const at = this.transitionCount * TRANSITION_COLUMNS;
    rows[at] = t.flowId;
    rows[at + 1] = ++this.transitionIds;
    rows[at + 2] = t.second;
    rows[at + 3] = t.nanos;
    rows[at + 4] = t.frame ?? -1;
    rows[at + 5] = transitionCode(t, cause);
    if (++this.transitionCount === TRANSITION_BATCH) this.sendTransitions();
  }

  finding(f: FindingRecord): void {
    this.rows++;
    this.findingRows.push(FINDINGS.values(f));
    if (this.findingRows.length === FINDING_BATCH) this.sendFindings();
  }

  flow(f: FlowRecord): void {
    this.rows++;
    if (writeFlowRow(this.flowRows, f)) this.sendFlows();
  }

  flowUpdate(u: FlowUpdate): void {
    if (writeFlowUpdate(this.updateRows, u)) this.sendUpdates();
  }

  /** Resolves once the writer thread is close enough behind; reading awaits it so memory stays bounded. */
  drain(): Promise<void> {
    if (this.outstanding < MAX_OUTSTANDING || this.failure) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Writes the per-capture rows and settings and moves the finished database into place. */
  async commit(analysis: CaptureAnalysis, meta: Record<string, string>): Promise<void> {
    this.sendTransitions();
    this.sendFlows();
    this.sendUpdates();
    this.sendFindings();
    // Absolute, so netstat --at and flow can read the capture again from anywhere.
    const captures: Row[] = analysis.captures.map((c, i) =>
      CAPTURES.values({ id: i + 1, capture: { ...c, path: c.path === '-' ? '-' : resolve(c.path) } }),
    );
    const listeners: Row[] = analysis.listeners.map((l) => LISTENERS.values(l));
    const committed = new Promise<void>((resolve, reject) => {
      this.onCommitted = (error) => (error ? reject(error) : resolve());
    });
    this.send({ kind: 'commit', captures, listeners, meta });
    await committed;
    this.finished = true;
    await this.worker?.terminate();
    this.output.publish();
  }

  /** Drops the temporary database; the target is left as it was. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.fail(new Error('writing was aborted'));
    void this.worker?.terminate();
    this.sink?.close();
    this.output.discard();
  }

  private sendTransitions(): void {
    if (this.transitionCount === 0) return;
    const rows = this.transitionRows;
    this.send({ kind: 'transitions', rows, count: this.transitionCount, causes: this.newCauses }, [rows.buffer]);
    this.transitionRows = new Float64Array(TRANSITION_BATCH * TRANSITION_COLUMNS);
    this.transitionCount = 0;
    this.newCauses = [];
  }

  private sendFlows(): void {
    if (this.flowRows.count === 0) return;
    const rows = this.flowRows.take();
    this.send({ kind: 'flows', rows }, transferablesOf(rows));
  }

  /** Updates follow the rows they change: any flow rows still batched go first. */
  private sendUpdates(): void {
    if (this.updateRows.count === 0) return;
    this.sendFlows();
    const rows = this.updateRows.take();
    this.send({ kind: 'flowUpdates', rows }, transferablesOf(rows));
  }

  private sendFindings(): void {
    if (this.findingRows.length === 0) return;
    this.send({ kind: 'findings', rows: this.findingRows });
    this.findingRows = [];
  }

  private send(message: WriterMessage, transfer: ArrayBuffer[] = []): void {
    if (this.failure) {
      // Aborted: the run is unwinding and nothing more is written.
      if (this.finished) return;
      throw this.failure;
    }
    if (this.worker) {
      this.outstanding++;
      this.worker.postMessage(message, transfer);
      return;
    }
    let reply: WriterReply;
    try {
      reply = writeMessage(this.sink as SqliteSink, message);
    } catch (error) {
      // As the writer thread reports it: a full disk is the user's to fix, not a bug.
      this.failure = new DatabaseWriteError(`cannot write ${this.targetPath}: ${(error as Error).message}`);
      throw this.failure;
    }
    if (reply.kind === 'committed') this.onCommitted?.();
  }

  private received(reply: WriterReply): void {
    if (reply.kind === 'failed') return this.fail(new DatabaseWriteError(`cannot write ${this.targetPath}: ${reply.message}`));
    if (reply.kind === 'committed') return this.onCommitted?.();
    this.outstanding--;
    if (this.outstanding < MAX_OUTSTANDING) for (const resume of this.waiting.splice(0)) resume();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const resume of this.waiting.splice(0)) resume();
    this.onCommitted?.(this.failure);
  }
}
