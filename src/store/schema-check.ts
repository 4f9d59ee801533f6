import Database from 'better-sqlite3';
import { CREATE_TABLES } from './schema.js';
import { quoteIdentifier } from './sql-identifier.js';

/** A column as SQLite reports it: name and declared type (`INTEGER NOT NULL`). */
export interface DeclaredColumn {
  name: string;
  type: string;
}

/** Every column of a table or view, hidden and generated ones included (PRAGMA table_xinfo); `type` says NOT NULL too. */
function columnsOf(db: Database.Database, table: string): DeclaredColumn[] {
  const columns = db.prepare(`PRAGMA main.table_xinfo(${quoteIdentifier(table)})`).all() as Array<{
    name: string;
    type: string;
    notnull: number;
  }>;
  return columns.map(({ name, type, notnull }) => ({ name, type: notnull === 1 ? `${type} NOT NULL` : type }));
}

let declared: Map<string, { kind: string; columns: DeclaredColumn[] }> | undefined;

/**
 * The tables and views flowstate writes, with their columns, read from our own
 * DDL (CREATE_TABLES run in memory), so the check cannot drift from what the
 * writer makes.
 */
export function declaredSchema(): ReadonlyMap<string, { kind: string; columns: readonly DeclaredColumn[] }> {
  if (declared === undefined) {
    const db = new Database(':memory:');
    try {
      db.exec(CREATE_TABLES);
      const objects = db.prepare("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')").all() as Array<{
        name: string;
        type: string;
      }>;
      declared = new Map(objects.map(({ name, type }) => [name, { kind: type, columns: columnsOf(db, name) }]));
    } finally {
      db.close();
    }
  }
  return declared;
}

/** The columns flowstate declares for `table`. */
export function declaredColumns(table: string): readonly DeclaredColumn[] {
  const entry = declaredSchema().get(table);
  if (entry === undefined) throw new RangeError(`flowstate declares no table ${table}`);
  return entry.columns;
}

/** A name from the input, printable in one line whatever it holds (quotes, newlines, escapes). */
const shown = (name: string): string => JSON.stringify(name);

/**
 * How a database's tables and views differ from flowstate's declaration, one
 * sentence each (none when they match): a table missing or of another kind, a
 * column missing, extra, renamed, moved or of another declared type. Names from
 * the input are only compared and printed (JSON-quoted), never put into SQL.
 */
export function schemaDifferences(db: Database.Database): string[] {
  const differences: string[] = [];
  const present = new Map(
    (
      db.prepare("SELECT name, type FROM main.sqlite_master WHERE type IN ('table', 'view')").all() as Array<{ name: string; type: string }>
    ).map(({ name, type }) => [name, type]),
  );
  for (const [table, { kind, columns }] of declaredSchema()) {
    const found = present.get(table);
    if (found === undefined) {
      differences.push(`no ${kind} ${table}`);
      continue;
    }
    if (found !== kind) {
      differences.push(`${table} is a ${found}, not a ${kind}`);
      continue;
    }
    const actual = columnsOf(db, table);
    const length = Math.max(columns.length, actual.length);
    for (let i = 0; i < length; i++) {
      const want = columns[i];
      const have = actual[i];
      if (have === undefined) differences.push(`${table} lacks column ${want.name}`);
      else if (want === undefined) differences.push(`${table} has a column ${shown(have.name)} flowstate does not write`);
      else if (have.name !== want.name) differences.push(`${table}'s column ${i + 1} is ${shown(have.name)}, not ${want.name}`);
      // A view's column types come from its expressions: its names are what readers rely on.
      else if (kind === 'table' && have.type !== want.type)
        differences.push(`${table}.${want.name} is declared ${shown(have.type)}, not ${want.type}`);
    }
  }
  return differences;
}
