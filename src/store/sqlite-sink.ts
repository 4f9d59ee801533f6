import Database from 'better-sqlite3';
import { type RowBatch, rowValues, rowsByFirstNumber, rowsByKey, valueGroups } from './row-batch.js';
import { CAPTURES, FINDINGS, FLOW_ROW_KINDS, FLOW_UPDATE_SQL, LISTENERS } from './tables.js';
import type { CauseRow } from './writer-messages.js';
import { APPLICATION_ID, CREATE_INDEXES, CREATE_TABLES, SCHEMA_VERSION } from './schema.js';

type Statement = Database.Statement<unknown[]>;
export type Row = unknown[];

/**
 * Transitions travel as numbers, TRANSITION_COLUMNS per row, so a batch is one
 * transferable Float64Array: flow id, id, time as whole seconds and nanoseconds,
 * frame (-1 for none), and the packed code of schema.ts (endpoint, states, cause, capture).
 */
export const TRANSITION_COLUMNS = 6;
/** Rows per INSERT: one call into SQLite for many rows is cheaper a row than for few (docs/design-choices.md). */
const TRANSITION_GROUP = 256;
/** One transition row's VALUES: SQLite joins the time's halves (numbers bind as REAL, hence the casts). */
const TRANSITION_VALUES = '(?,?,CAST(? AS INTEGER)*1000000000+CAST(? AS INTEGER),NULLIF(?,-1),?)';
const TRANSITION_INSERT = 'INSERT INTO transition_rows (flow_id, id, ts_ns, frame, code) VALUES';

/** Flow rows per INSERT: wide rows, so fewer at a time than transitions, still cheaper than one by one. */
const FLOW_GROUP = 16;

/** INSERTs of 1 to N rows in one statement (one call into SQLite for many rows), prepared by row count when first needed. */
class MultiRowInsert {
  private readonly statements = new Map<number, Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly head: string,
    private readonly rowValues: string,
    private readonly columns: number,
  ) {}

  /** `values` holds whole rows, `columns` values each. */
  run(values: unknown[]): void {
    const rows = values.length / this.columns;
    let statement = this.statements.get(rows);
    if (statement === undefined) {
      statement = this.db.prepare(`${this.head} ${Array(rows).fill(this.rowValues).join(',')}`);
      this.statements.set(rows, statement);
    }
    statement.run(values);
  }
}

/** Writes rows into a new database file: the one place that knows the SQL of writing. */
export class SqliteSink {
  private readonly db: Database.Database;
  private readonly insertFlows: MultiRowInsert;
  private readonly insertTransitions: MultiRowInsert;
  private readonly insertCause: Statement;
  private causeCount = 0;
  private readonly insertFinding: Statement;
  private readonly updateFlow: Statement;

  constructor(path: string) {
    this.db = new Database(path);
    // Safe to skip the journal and fsync: until the rename nothing depends on this file.
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.pragma('locking_mode = EXCLUSIVE');
    // CREATE INDEX sorts in a temporary file, not in memory, where a large index's sort would stay resident.
    this.db.pragma('temp_store = FILE');
    this.db.pragma('cache_size = -16384');
    this.db.exec(CREATE_TABLES);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    this.db.pragma(`application_id = ${APPLICATION_ID}`);
    this.insertTransitions = new MultiRowInsert(this.db, TRANSITION_INSERT, TRANSITION_VALUES, TRANSITION_COLUMNS);
    this.insertFlows = new MultiRowInsert(
      this.db,
      'INSERT INTO flows VALUES',
      `(${Array(FLOW_ROW_KINDS.length).fill('?').join(',')})`,
      FLOW_ROW_KINDS.length,
    );
    this.insertCause = this.db.prepare('INSERT INTO causes VALUES (?, ?, ?)');
    this.insertFinding = this.db.prepare(FINDINGS.insert());
    this.updateFlow = this.db.prepare(FLOW_UPDATE_SQL);
    this.db.exec('BEGIN');
  }

  /**
   * `newCauses` extends the cause table the rows' cause codes refer to. Rows come in
   * time order; they go in by (flow, id), the table's key order, so that each batch
   * walks the table's pages once instead of jumping between flows.
   */
  transitions(rows: Float64Array, count: number, newCauses: readonly CauseRow[]): void {
    for (const cause of newCauses) this.insertCause.run(this.causeCount++, cause.text, cause.event);
    // Ids rise with the rows, so ties on the flow keep id order.
    const order = rowsByKey(count, (row) => rows[row * TRANSITION_COLUMNS]);
    const groups = valueGroups<number>(count, TRANSITION_GROUP, TRANSITION_COLUMNS, (values, at, taken) => {
      const first = order[taken] * TRANSITION_COLUMNS;
      for (let column = 0; column < TRANSITION_COLUMNS; column++) values[at + column] = rows[first + column];
    });
    for (const values of groups) this.insertTransitions.run(values);
  }

  /**
   * Flows arrive in the order they were handed on, not by id: inserted as they come they
   * land all over the table. Sorted, each batch walks the table's pages once, in order.
   */
  flows(batch: RowBatch): void {
    for (const values of rowValues(batch, FLOW_GROUP, rowsByFirstNumber(batch))) this.insertFlows.run(values);
  }

  /** Rows of UPDATE parameters, in the statement's order (a flow's TIME_WAIT ended after it was written). */
  flowUpdates(batch: RowBatch): void {
    for (const values of rowValues(batch)) this.updateFlow.run(values);
  }

  findings(rows: readonly Row[]): void {
    for (const row of rows) this.insertFinding.run(...row);
  }

  commit(captures: readonly Row[], listeners: readonly Row[], meta: Readonly<Record<string, string>>): void {
    const insertCapture = this.db.prepare(CAPTURES.insert());
    for (const row of captures) insertCapture.run(...row);
    const insertListener = this.db.prepare(LISTENERS.insert('INSERT OR IGNORE'));
    for (const row of listeners) insertListener.run(...row);
    const insertMeta = this.db.prepare('INSERT INTO meta VALUES (?, ?)');
    for (const [key, value] of Object.entries(meta)) insertMeta.run(key, value);
    // Index sorts run in the page cache's budget; the load is done, so a small one
    // serves, faster and with less memory at the end (docs/design-choices.md).
    this.db.pragma('cache_size = -2048');
    this.db.exec(CREATE_INDEXES);
    this.db.exec('COMMIT');
    this.db.close();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
