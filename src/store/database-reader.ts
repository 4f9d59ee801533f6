import Database from 'better-sqlite3';
import { openSync, readSync, closeSync } from 'node:fs';
import { FlowstateError } from '../errors.js';
import type { TcpState } from '../tcp/tcp-state.js';
import type { Role } from '../track/records.js';
import { SCHEMA_VERSION, TABLE_NAMES } from './schema.js';
import { type DeclaredColumn, declaredColumns, schemaDifferences } from './schema-check.js';
import type { CaptureRow, FindingRow, FlowRow, ListenerRow } from './tables.js';
import { quoteString } from './sql-identifier.js';
import type { TransitionRow } from './transition-code.js';

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/** Whether a file is an SQLite database (by content, whatever its name). */
export function isSqliteFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(16);
    return readSync(fd, head, 0, 16, 0) === 16 && head.toString('latin1') === SQLITE_MAGIC;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export class NotAFlowstateDatabaseError extends FlowstateError {
  override name = 'NotAFlowstateDatabaseError';
}

export type { CaptureRow, FindingRow, FlowRow, ListenerRow } from './tables.js';

export type { TransitionRow };

/** Converts 64-bit columns that fit in a double back to numbers, leaving `_ns` columns as bigint. */
function numbersExceptTimes<T>(row: Record<string, unknown>): T {
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === 'bigint' && !key.endsWith('_ns')) row[key] = Number(value);
  }
  return row as T;
}

/** A value of a hand-made database that flowstate would not have written there (SQLite keeps any value in any column). */
export class WrongValueError extends FlowstateError {
  override name = 'WrongValueError';
}

/** What a value is, in words, as SQLite would say it. */
export const kindOfValue = (value: unknown): string =>
  value === null
    ? 'NULL'
    : value instanceof Uint8Array
      ? 'a blob'
      : typeof value === 'string'
        ? 'text'
        : typeof value === 'bigint'
          ? 'an integer'
          : typeof value === 'number'
            ? 'a real number'
            : `a ${typeof value}`;

/** Per table, its declared columns by name: what a row read from it is checked against. */
const declaredByTable = new Map<string, ReadonlyMap<string, DeclaredColumn>>();
function declaredOf(table: string): ReadonlyMap<string, DeclaredColumn> {
  let columns = declaredByTable.get(table);
  if (columns === undefined) {
    columns = new Map(declaredColumns(table).map((c) => [c.name, c]));
    declaredByTable.set(table, columns);
  }
  return columns;
}

/**
 * Whether a value (read with safeIntegers) is one flowstate writes in a column so
 * declared: no blob anywhere, no NULL where NOT NULL, text in TEXT columns, an
 * integer in a time (`_ns`) column, a number in other INTEGER ones. Views' computed
 * columns (no declared type) take any value but a blob.
 */
function fitsColumn(column: DeclaredColumn, value: unknown): boolean {
  if (value === null) return !column.type.includes('NOT NULL');
  if (value instanceof Uint8Array) return false;
  if (column.type.startsWith('TEXT')) return typeof value === 'string';
  if (column.type.startsWith('INTEGER'))
    return column.name.endsWith('_ns') ? typeof value === 'bigint' : typeof value === 'bigint' || typeof value === 'number';
  return true;
}

/** A row as it is named in a message: by its id, or (listeners, meta) by its first columns. */
function rowName(row: Record<string, unknown>): string {
  if ('id' in row && (typeof row.id === 'bigint' || typeof row.id === 'number')) return `the row with id ${row.id}`;
  const [first, second] = Object.entries(row);
  const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));
  return `the row with ${[first, second]
    .filter((entry) => entry !== undefined)
    .map(([k, v]) => `${k} ${shown(v)}`)
    .join(', ')}`;
}

/**
 * A row read from `table`, checked as it is read (no scan of the table on open: on a
 * 10M-transition database one typeof scan takes 1.4 s, docs/security.md): a value
 * flowstate would not have written is a WrongValueError naming the table, column and
 * row, where it used to surface later as an internal error (BigInt mixed with text).
 */
export function checkedRow<T>(path: string, table: string, row: Record<string, unknown>): T {
  const columns = declaredOf(table);
  for (const [key, value] of Object.entries(row)) {
    const column = columns.get(key);
    if (column !== undefined && !fitsColumn(column, value))
      throw new WrongValueError(
        `${path}: ${table}.${key} holds ${kindOfValue(value)} in ${rowName(row)}, where flowstate writes ${column.type || 'a value'}: the database was changed by hand`,
      );
  }
  return numbersExceptTimes<T>(row);
}

/**
 * The same check for a raw row (an array, read without safeIntegers: integers as
 * numbers) of the columns `names` of `table`, in order; a name of null is a computed
 * column, not checked. For the hot reads that do not build objects (state-intervals.ts).
 */
export function checkRawRow(path: string, table: string, names: readonly (string | null)[], row: readonly unknown[]): void {
  const columns = declaredOf(table);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const column = name === null ? undefined : columns.get(name);
    const value = row[i];
    if (column === undefined || (value !== null && typeof value === 'number' && column.type.startsWith('INTEGER'))) continue;
    if (!fitsColumn(column, value))
      throw new WrongValueError(
        `${path}: ${table}.${column.name} holds ${kindOfValue(value)} in ${rowName(Object.fromEntries(names.map((n, j) => [n ?? `column ${j + 1}`, row[j]])))}, where flowstate writes ${column.type}: the database was changed by hand`,
      );
  }
}

/**
 * A finding's `details` as flowstate writes it: a JSON object, its `flows` (when
 * present) an array of flow ids. Anything else names the finding, in one line.
 */
export function findingDetails(path: string, findingId: number | bigint | null, details: unknown): { flows?: number[] } {
  const refuse = (why: string): never => {
    throw new WrongValueError(
      `${path}: findings.details of the row with id ${String(findingId)} ${why}, where flowstate writes a JSON object: the database was changed by hand`,
    );
  };
  if (typeof details !== 'string') return refuse(`holds ${kindOfValue(details)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(details);
  } catch {
    return refuse('is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return refuse('is JSON but not an object');
  const flows = (parsed as { flows?: unknown }).flows;
  if (flows !== undefined && !(Array.isArray(flows) && flows.every((id) => Number.isSafeInteger(id))))
    return refuse('has "flows" that are not a list of flow ids');
  return parsed;
}

/**
 * `kind IN (…) OR severity IN (…)`, in the SQL SQLite and DuckDB both read. The values are inlined,
 * quoted by the one quoting function: each is a catalogue code or a severity, checked by the caller.
 */
export function findingFilterSql(kinds: readonly string[], severities: readonly string[]): string {
  const list = (values: readonly string[]): string => (values.length === 0 ? 'NULL' : values.map(quoteString).join(', '));
  return `kind IN (${list(kinds)}) OR severity IN (${list(severities)})`;
}

/** ORDER BY expression putting errors first, then warnings, then info. */
export const SEVERITY_ORDER = `CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END`;

/** Typed, read-only access to a flowstate database. */
export class DatabaseReader {
  readonly db: Database.Database;

  constructor(readonly path: string) {
    try {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      // readonly refuses writes to the file; query_only also refuses PRAGMAs that would change it.
      this.db.pragma('query_only = ON');
      const version = this.db.pragma('user_version', { simple: true }) as number;
      const tables = new Set(
        (this.db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").all() as Array<{ name: string }>).map(
          (t) => t.name,
        ),
      );
      const missing = TABLE_NAMES.filter((t) => !tables.has(t));
      if (missing.length > 0)
        throw new NotAFlowstateDatabaseError(`${path} is an SQLite database but not one flowstate wrote (no table ${missing.join(', ')})`);
      if (version !== SCHEMA_VERSION)
        throw new NotAFlowstateDatabaseError(
          `${path} has schema version ${version}; this flowstate reads version ${SCHEMA_VERSION}: analyse the capture again`,
        );
      // Every reader and the exports name only our own columns; a database that differs is refused here, once.
      const differences = schemaDifferences(this.db);
      if (differences.length > 0)
        throw new NotAFlowstateDatabaseError(
          `${path} does not have the tables flowstate writes: ${differences.slice(0, 5).join('; ')}${differences.length > 5 ? `; and ${differences.length - 5} more` : ''}`,
        );
    } catch (error) {
      if (error instanceof NotAFlowstateDatabaseError) throw error;
      throw new NotAFlowstateDatabaseError(`${path}: cannot open as a database: ${(error as Error).message}`);
    }
  }

  close(): void {
    this.db.close();
  }

  private all<T>(sql: string, ...params: unknown[]): T[] {
    return (
      this.db
        .prepare(sql)
        .safeIntegers(true)
        .all(...params) as Array<Record<string, unknown>>
    ).map((r) => numbersExceptTimes<T>(r));
  }

  private get<T>(sql: string, ...params: unknown[]): T | undefined {
    const row = this.db
      .prepare(sql)
      .safeIntegers(true)
      .get(...params) as Record<string, unknown> | undefined;
    return row === undefined ? undefined : numbersExceptTimes<T>(row);
  }

  /** Rows of `table` (every column, `SELECT *`), each checked against flowstate's declaration as it is read. */
  private rowsOf<T>(table: string, sql: string, ...params: unknown[]): T[] {
    return (
      this.db
        .prepare(sql)
        .safeIntegers(true)
        .all(...params) as Array<Record<string, unknown>>
    ).map((r) => checkedRow<T>(this.path, table, r));
  }

  meta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  captures(): CaptureRow[] {
    return this.rowsOf<CaptureRow>('captures', 'SELECT * FROM captures ORDER BY id');
  }

  /** First and last packet time over all captures. */
  span(): { first_ns: bigint | null; last_ns: bigint | null } {
    // A capture a row: read whole, so a time that is not an integer is named, not mixed into MIN/MAX.
    this.captures();
    return (
      this.get<{ first_ns: bigint | null; last_ns: bigint | null }>(
        'SELECT MIN(first_ns) AS first_ns, MAX(last_ns) AS last_ns FROM captures',
      ) ?? { first_ns: null, last_ns: null }
    );
  }

  flow(id: number): FlowRow | undefined {
    return this.rowsOf<FlowRow>('flows', 'SELECT * FROM flows WHERE id = ?', id)[0];
  }

  /**
   * Flows on a 4-tuple in either direction, every instance. Named parameters: each
   * address and port is compared twice, once per direction (better-sqlite3 takes
   * `?1`-style numbers as names, and refused them as positions).
   */
  flowsByTuple(ipA: string, portA: number, ipB: string, portB: number): FlowRow[] {
    return this.rowsOf<FlowRow>(
      'flows',
      `SELECT * FROM flows WHERE (client_ip = @ipA AND client_port = @portA AND server_ip = @ipB AND server_port = @portB)
          OR (client_ip = @ipB AND client_port = @portB AND server_ip = @ipA AND server_port = @portA) ORDER BY first_ns, id`,
      { ipA, portA, ipB, portB },
    );
  }

  flows(where = '1', ...params: unknown[]): FlowRow[] {
    return this.rowsOf<FlowRow>('flows', `SELECT * FROM flows WHERE ${where} ORDER BY id`, ...params);
  }

  transitionsOf(flowId: number): TransitionRow[] {
    return this.rowsOf<TransitionRow>('transitions', 'SELECT * FROM transitions WHERE flow_id = ? ORDER BY ts_ns, id', flowId);
  }

  findings(where = '1', ...params: unknown[]): FindingRow[] {
    return this.rowsOf<FindingRow>('findings', `SELECT * FROM findings WHERE ${where} ORDER BY ts_ns, id`, ...params);
  }

  listeners(): ListenerRow[] {
    return this.rowsOf<ListenerRow>('listeners', 'SELECT * FROM listeners ORDER BY ip, port');
  }

  /** The first `limit` findings of one kind and severity, in time order, checked as every row read here. */
  findingsOf(kind: string, severity: string, limit: number): FindingRow[] {
    return this.rowsOf<FindingRow>(
      'findings',
      'SELECT * FROM findings WHERE kind = ? AND severity = ? ORDER BY ts_ns, id LIMIT ?',
      kind,
      severity,
      limit,
    );
  }

  /** Counts of end states per role. */
  endStateCounts(): Array<{ role: Role; state: TcpState; count: number }> {
    return this.all<{ role: Role; state: TcpState; count: number }>(
      `SELECT 'client' AS role, client_state AS state, COUNT(*) AS count FROM flows GROUP BY client_state
       UNION ALL SELECT 'server', server_state, COUNT(*) FROM flows GROUP BY server_state ORDER BY role, count DESC`,
    );
  }

  /** How many findings of each kind and severity, worst first. */
  findingCounts(): Array<{ kind: string; severity: string; count: number }> {
    return this.all(
      `SELECT kind, severity, COUNT(*) AS count FROM findings GROUP BY kind, severity ORDER BY ${SEVERITY_ORDER}, count DESC`,
    );
  }

  /** The most important warnings and errors: worst first, then those that cover the most connections. */
  topFindings(limit: number): Array<{ kind: string; severity: string; message: string; flow_id: number | null; frame: number | null }> {
    return this.all(
      `SELECT kind, severity, message, flow_id, frame FROM findings WHERE severity != 'info'
       ORDER BY ${SEVERITY_ORDER}, COALESCE(json_extract(details, '$.count'), 1) DESC, ts_ns LIMIT ?`,
      limit,
    );
  }

  midstreamFlows(): number {
    return (this.get<{ n: number }>('SELECT COUNT(*) AS n FROM flows WHERE midstream = 1') ?? { n: 0 }).n;
  }

  /** The highest flow id, undefined when there are no flows. */
  lastFlowId(): number | undefined {
    return this.get<{ n: number | null }>('SELECT MAX(id) AS n FROM flows')?.n ?? undefined;
  }

  /** How many rows each table holds. */
  rowCounts(): { flows: number; transitions: number; findings: number } {
    return this.get<{ flows: number; transitions: number; findings: number }>(
      'SELECT (SELECT COUNT(*) FROM flows) AS flows, (SELECT COUNT(*) FROM transition_rows) AS transitions, (SELECT COUNT(*) FROM findings) AS findings',
    ) as { flows: number; transitions: number; findings: number };
  }

  /** Every finding's id, kind, flow and details, worst first, then in time order. */
  findingsBySeverity(): Array<{ id: number; kind: string; flow_id: number | null; details: unknown }> {
    return this.all(`SELECT id, kind, flow_id, details FROM findings ORDER BY ${SEVERITY_ORDER}, ts_ns, id`);
  }

  /** How many findings have one of `kinds` or `severities` (the condition of `findingFilterSql`). */
  countFindingsMatching(kinds: readonly string[], severities: readonly string[]): number {
    return (this.get<{ n: number }>(`SELECT COUNT(*) AS n FROM findings WHERE ${findingFilterSql(kinds, severities)}`) ?? { n: 0 }).n;
  }

  /** The flows table whole, as stored (integers as bigint), in time order: its column names and rows. */
  flowsTable(): { header: string[]; rows: unknown[][] } {
    const statement = this.db.prepare('SELECT * FROM flows ORDER BY first_ns, id');
    return { header: statement.columns().map((c) => c.name), rows: statement.safeIntegers(true).raw(true).all() as unknown[][] };
  }

  /** Tables and their columns, for help after a SQL error. */
}
