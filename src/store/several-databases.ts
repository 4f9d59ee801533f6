import Database from 'better-sqlite3';
import { FlowstateError } from '../errors.js';
import { DatabaseReader } from './database-reader.js';
import { TABLE_NAMES } from './schema.js';
import { quoteIdentifier } from './sql-identifier.js';

/** SQLite's bound on attached databases, as better-sqlite3 builds it (SQLITE_MAX_ATTACHED). */
export const MAX_ATTACHED = 10;

/**
 * Several flowstate databases as one: the first opened read-only, the others
 * attached to it (an attached file inherits the connection's read-only flag, so
 * no statement, PRAGMA journal_mode included, can change or create a file), and a
 * temporary view per table over all of them, with a first column `db` (1-based,
 * in the order given) because ids are each database's own: join on `db` as well
 * as on the flow id. Beyond MAX_ATTACHED, export each as Parquet and query the
 * exports (`query --parquet`).
 */
export function openSeveral(paths: readonly string[]): Database.Database {
  if (paths.length > MAX_ATTACHED)
    throw new FlowstateError(
      `SQLite reads at most ${MAX_ATTACHED} databases at once, not ${paths.length}: export each (export --format parquet --out DIR) and give the directories with --parquet, or merge shards first`,
    );
  // Each checked as one database is (a flowstate database of this schema version and our tables), then attached.
  for (const path of paths) new DatabaseReader(path).close();
  const db = new Database(paths[0], { readonly: true, fileMustExist: true });
  try {
    const schemas = paths.map((_, i) => (i === 0 ? 'main' : `db${i + 1}`));
    const attach = db.prepare('ATTACH DATABASE ? AS ?');
    paths.forEach((path, i) => {
      if (i > 0) attach.run(path, schemas[i]);
    });
    // The temp schema is searched first, so the views hide the first database's own tables of the same name.
    for (const table of TABLE_NAMES)
      db.exec(
        `CREATE TEMP VIEW ${quoteIdentifier(table)} AS ${schemas
          .map((schema, i) => `SELECT ${i + 1} AS db, * FROM ${quoteIdentifier(schema)}.${quoteIdentifier(table)}`)
          .join(' UNION ALL ')}`,
      );
    db.pragma('query_only = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
