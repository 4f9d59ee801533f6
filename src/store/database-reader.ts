import Database from 'better-sqlite3';
import { openSync, readSync, closeSync } from 'node:fs';
import { FlowstateError } from '../errors.js';
import type { TcpState } from '../tcp/tcp-state.js';
import type { Role } from '../track/records.js';
import { SCHEMA_VERSION, TABLE_NAMES } from './schema.js';
import { schemaDifferences } from './schema-check.js';
import type { CaptureRow, FindingRow, FlowRow, ListenerRow } from './tables.js';

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

export interface TransitionRow {
  /** In the order the transitions happened. */
  id: number;
  flow_id: number;
  endpoint: Role;
  ts_ns: bigint;
  capture_id: number;
  frame: number | null;
  from_state: TcpState;
  to_state: TcpState;
  cause: string;
  inferred: number;
}

/** Converts 64-bit columns that fit in a double back to numbers, leaving `_ns` columns as bigint. */
function numbersExceptTimes<T>(row: Record<string, unknown>): T {
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === 'bigint' && !key.endsWith('_ns')) row[key] = Number(value);
  }
  return row as T;
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

  meta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  captures(): CaptureRow[] {
    return this.all<CaptureRow>('SELECT * FROM captures ORDER BY id');
  }

  /** First and last packet time over all captures. */
  span(): { first_ns: bigint | null; last_ns: bigint | null } {
    return (
      this.get<{ first_ns: bigint | null; last_ns: bigint | null }>(
        'SELECT MIN(first_ns) AS first_ns, MAX(last_ns) AS last_ns FROM captures',
      ) ?? { first_ns: null, last_ns: null }
    );
  }

  flow(id: number): FlowRow | undefined {
    return this.get<FlowRow>('SELECT * FROM flows WHERE id = ?', id);
  }

  /**
   * Flows on a 4-tuple in either direction, every instance. Named parameters: each
   * address and port is compared twice, once per direction (better-sqlite3 takes
   * `?1`-style numbers as names, and refused them as positions).
   */
  flowsByTuple(ipA: string, portA: number, ipB: string, portB: number): FlowRow[] {
    return this.all<FlowRow>(
      `SELECT * FROM flows WHERE (client_ip = @ipA AND client_port = @portA AND server_ip = @ipB AND server_port = @portB)
          OR (client_ip = @ipB AND client_port = @portB AND server_ip = @ipA AND server_port = @portA) ORDER BY first_ns, id`,
      { ipA, portA, ipB, portB },
    );
  }

  flows(where = '1', ...params: unknown[]): FlowRow[] {
    return this.all<FlowRow>(`SELECT * FROM flows WHERE ${where} ORDER BY id`, ...params);
  }

  transitionsOf(flowId: number): TransitionRow[] {
    return this.all<TransitionRow>('SELECT * FROM transitions WHERE flow_id = ? ORDER BY ts_ns, id', flowId);
  }

  findings(where = '1', ...params: unknown[]): FindingRow[] {
    return this.all<FindingRow>(`SELECT * FROM findings WHERE ${where} ORDER BY ts_ns, id`, ...params);
  }

  listeners(): ListenerRow[] {
    return this.all<ListenerRow>('SELECT * FROM listeners ORDER BY ip, port');
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

  /** Tables and their columns, for help after a SQL error. */
}
