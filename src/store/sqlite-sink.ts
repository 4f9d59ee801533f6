import Database from 'better-sqlite3';
import { ALL_STATES } from '../tcp/tcp-state.js';
import { CREATE_INDEXES, CREATE_TABLES, SCHEMA_VERSION } from './schema.js';

type Statement = Database.Statement<unknown[]>;
export type Row = unknown[];

/**
 * Transitions travel as numbers, TRANSITION_COLUMNS per row, so a batch is one
 * transferable Float64Array: flow id, endpoint (0 client, 1 server), time as two
 * 32-bit halves, capture id, frame (-1 for none), from and to (index into
 * ALL_STATES), cause (index into the cause table), inferred (0/1).
 */
export const TRANSITION_COLUMNS = 10;
const TRANSITION_GROUP = 64;
const ENDPOINTS = ['client', 'server'] as const;

/** Writes rows into a new database file: the one place that knows the SQL of writing. */
export class SqliteSink {
  private readonly db: Database.Database;
  private readonly insertFlow: Statement;
  private readonly insertTransition: Statement;
  /** TRANSITION_GROUP rows in one statement: one call into SQLite instead of one per row. */
  private readonly insertTransitions: Statement;
  private readonly groupValues: unknown[] = new Array(TRANSITION_GROUP * 9);
  private readonly insertFinding: Statement;
  private readonly updateFlow: Statement;
  private readonly causes: string[] = [];

  constructor(path: string) {
    this.db = new Database(path);
    // Safe to skip the journal and fsync: until the rename nothing depends on this file.
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.pragma('locking_mode = EXCLUSIVE');
    this.db.pragma('temp_store = MEMORY');
    this.db.pragma('cache_size = -16384');
    this.db.exec(CREATE_TABLES);
    // Indexes from the start: with the writer on its own thread their upkeep overlaps the tracking.
    this.db.exec(CREATE_INDEXES);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    this.insertFlow = this.db.prepare(`INSERT INTO flows VALUES (${Array(39).fill('?').join(',')})`);
    this.insertTransition = this.db.prepare('INSERT INTO transitions VALUES (?,?,?,?,?,?,?,?,?)');
    this.insertTransitions = this.db.prepare(`INSERT INTO transitions VALUES ${Array(TRANSITION_GROUP).fill('(?,?,?,?,?,?,?,?,?)').join(',')}`);
    this.insertFinding = this.db.prepare(
      'INSERT INTO findings (kind, severity, flow_id, endpoint, host, port, ts_ns, capture_id, frame, message, details) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
    );
    this.updateFlow = this.db.prepare(
      `UPDATE flows SET client_state = ?, server_state = ?, client_state_inferred = ?, server_state_inferred = ?,
         client_packets = client_packets + ?, server_packets = server_packets + ?,
         client_bytes = client_bytes + ?, server_bytes = server_bytes + ?,
         last_ns = ?, last_capture = ?, last_frame = ? WHERE id = ?`,
    );
    this.db.exec('BEGIN');
  }

  /** `newCauses` extends the cause table the rows' cause indexes refer to. */
  transitions(rows: Float64Array, count: number, newCauses: readonly string[]): void {
    this.causes.push(...newCauses);
    const values = this.groupValues;
    let i = 0;
    for (; i + TRANSITION_GROUP <= count; i += TRANSITION_GROUP) {
      for (let j = 0; j < TRANSITION_GROUP; j++) this.fill(values, j * 9, rows, (i + j) * TRANSITION_COLUMNS);
      this.insertTransitions.run(values);
    }
    const one: unknown[] = new Array(9);
    for (; i < count; i++) {
      this.fill(one, 0, rows, i * TRANSITION_COLUMNS);
      this.insertTransition.run(one);
    }
  }

  /** One transition row's nine column values, decoded from its numbers. */
  private fill(values: unknown[], to: number, rows: Float64Array, at: number): void {
    const frame = rows[at + 5];
    values[to] = rows[at];
    values[to + 1] = ENDPOINTS[rows[at + 1]];
    values[to + 2] = (BigInt(rows[at + 2]) << 32n) | BigInt(rows[at + 3]);
    values[to + 3] = rows[at + 4];
    values[to + 4] = frame < 0 ? null : frame;
    values[to + 5] = ALL_STATES[rows[at + 6]];
    values[to + 6] = ALL_STATES[rows[at + 7]];
    values[to + 7] = this.causes[rows[at + 8]];
    values[to + 8] = rows[at + 9];
  }

  flows(rows: readonly Row[]): void {
    for (const row of rows) this.insertFlow.run(...row);
  }

  /** Rows of UPDATE parameters, in the statement's order (a flow's TIME_WAIT ended after it was written). */
  flowUpdates(rows: readonly Row[]): void {
    for (const row of rows) this.updateFlow.run(...row);
  }

  findings(rows: readonly Row[]): void {
    for (const row of rows) this.insertFinding.run(...row);
  }

  commit(captures: readonly Row[], listeners: readonly Row[], meta: Readonly<Record<string, string>>): void {
    const insertCapture = this.db.prepare('INSERT INTO captures VALUES (?,?,?,?,?,?,?,?,?,?)');
    for (const row of captures) insertCapture.run(...row);
    const insertListener = this.db.prepare('INSERT OR IGNORE INTO listeners VALUES (?,?,?,?,?)');
    for (const row of listeners) insertListener.run(...row);
    const insertMeta = this.db.prepare('INSERT INTO meta VALUES (?, ?)');
    for (const [key, value] of Object.entries(meta)) insertMeta.run(key, value);
    this.db.exec('COMMIT');
    this.db.close();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
