import Database from 'better-sqlite3';
import { FlowstateError } from '../errors.js';
import { DatabaseReader } from './database-reader.js';
import { TABLE_NAMES } from './schema.js';

/** SQLite's bound on attached databases, as better-sqlite3 builds it (SQLITE_MAX_ATTACHED). */
export const MAX_ATTACHED = 10;

/**
 * Several flowstate databases as one: an in-memory SQLite with each attached
 * read-only and a view per table over all of them, with a first column `db`
 * (1-based, in the order given) because ids are each database's own: join on
 * `db` as well as on the flow id. Beyond MAX_ATTACHED, export each as Parquet
 * and query the exports (`query --parquet`).
 */
export function openSeveral(paths: readonly string[]): Database.Database {
  if (paths.length > MAX_ATTACHED)
    throw new FlowstateError(
      `SQLite reads at most ${MAX_ATTACHED} databases at once, not ${paths.length}: export each (export --format parquet --out DIR) and give the directories with --parquet, or merge shards first`,
    );
  // Each checked as one database is (a flowstate database of this schema version), then attached.
  for (const path of paths) new DatabaseReader(path).close();
  const db = new Database(':memory:');
  try {
    const attach = db.prepare('ATTACH DATABASE ? AS ?');
    paths.forEach((path, i) => attach.run(path, `db${i + 1}`));
    for (const table of TABLE_NAMES)
      db.exec(
        `CREATE TEMP VIEW ${table} AS ${paths.map((_, i) => `SELECT ${i + 1} AS db, * FROM db${i + 1}.${table}`).join(' UNION ALL ')}`,
      );
    // Read-only from here on, the attached files included (this SQLite takes no read-only URIs).
    db.pragma('query_only = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
