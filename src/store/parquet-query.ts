import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, StatementType } from '@duckdb/node-api';
import { FlowstateError } from '../errors.js';
import { EXPORT_DATASETS, EXPORT_MANIFEST } from './parquet-export.js';
import { quoteIdentifier, quoteString } from './sql-identifier.js';
import { findingFilterSql } from './database-reader.js';

/** A value of a query's row. */
export type QueryValue = string | number | bigint | boolean | null;

/** A query's column names and rows. */
export interface QueryRows {
  header: string[];
  rows: QueryValue[][];
}

/** What a user's statement may be: it reads, nothing else (COPY, ATTACH, INSTALL, SET... are refused). */
const READING_STATEMENTS: ReadonlySet<StatementType> = new Set([StatementType.SELECT, StatementType.EXPLAIN]);

/**
 * Locks the connection down before a user's SQL runs in it: files only under the
 * export directories (the views read them when the query runs), no extension
 * installed or loaded, and no setting changed afterwards.
 */
async function lockDown(duck: DuckDBConnection, directories: readonly string[]): Promise<void> {
  // One statement per call: nothing here is ever read as two.
  await duck.run(`SET allowed_directories = [${directories.map((d) => quoteString(d.endsWith(sep) ? d : d + sep)).join(', ')}]`);
  await duck.run('SET enable_external_access = false');
  await duck.run('SET autoinstall_known_extensions = false');
  await duck.run('SET autoload_known_extensions = false');
  await duck.run('SET lock_configuration = true');
}

/**
 * Runs one SQL statement in DuckDB over Parquet exports (`export --format parquet`),
 * their datasets named as the database's tables (captures, flows, transitions,
 * findings, listeners, meta; the day-split ones with their `day` column). Over
 * several exports each table has a first column `db` (1-based, in the order given),
 * as `query --db a --db b` has: ids are each export's own. The statement must be
 * one SELECT (or EXPLAIN), and it can read no file outside the exports.
 */
export async function queryParquet(given: readonly string[], sql: string): Promise<QueryRows> {
  const rows: QueryValue[][] = [];
  let header: string[] = [];
  await streamParquet(given, sql, async (names, batches) => {
    header = names;
    for await (const batch of batches) for (const row of batch) rows.push(row);
  });
  return { header, rows };
}

/** How many findings of the export in `directories` have one of `kinds` or `severities`. */
export async function countParquetFindingsMatching(
  directories: readonly string[],
  kinds: readonly string[],
  severities: readonly string[],
): Promise<number> {
  return Number((await queryParquet(directories, `SELECT COUNT(*) FROM findings WHERE ${findingFilterSql(kinds, severities)}`)).rows[0][0]);
}

/**
 * queryParquet's statement with its rows handed to `consume` as DuckDB yields them,
 * a chunk (2,048 rows) at a time, not gathered: `query --parquet` writes each chunk
 * before the next is read, so what it holds is bounded by a chunk, not by the result.
 * The connection is closed when `consume` settles.
 */
export async function streamParquet(
  given: readonly string[],
  sql: string,
  consume: (header: string[], batches: AsyncIterable<QueryValue[][]>) => Promise<void>,
): Promise<void> {
  for (const directory of given)
    if (!existsSync(join(directory, EXPORT_MANIFEST)))
      throw new FlowstateError(
        `${directory} is not a flowstate Parquet export (no ${EXPORT_MANIFEST}): write one with export --format parquet --out DIR`,
      );
  const directories = given.map((directory) => resolve(directory));
  const where = `DuckDB, over ${given.join(', ')}`;
  const failed = (error: unknown): Error =>
    error instanceof FlowstateError ? error : new FlowstateError(`${(error as Error).message.split('\n')[0]} (${where})`);
  const instance = await DuckDBInstance.create(':memory:');
  const duck = await instance.connect();
  try {
    for (const { name, day } of EXPORT_DATASETS) {
      const read = (directory: string): string =>
        `read_parquet(${quoteString(join(directory, name, day === null ? '*.parquet' : '**/*.parquet'))}, hive_partitioning = ${day !== null})`;
      const select =
        directories.length === 1
          ? `SELECT * FROM ${read(directories[0])}`
          : directories.map((directory, i) => `SELECT ${i + 1} AS db, * FROM ${read(directory)}`).join(' UNION ALL BY NAME ');
      await duck.run(`CREATE VIEW ${quoteIdentifier(name)} AS ${select}`);
    }
    await lockDown(duck, directories);
    let result;
    try {
      const statements = await duck.extractStatements(sql);
      if (statements.count !== 1)
        throw new FlowstateError(`query --parquet runs one statement, and this SQL holds ${statements.count} (${where})`);
      const statement = await statements.prepare(0);
      if (!READING_STATEMENTS.has(statement.statementType))
        throw new FlowstateError(`query --parquet runs statements that read (SELECT, WITH, EXPLAIN); the exports are read-only (${where})`);
      result = await statement.stream();
    } catch (error) {
      throw failed(error);
    }
    const chunks = result;
    async function* batches(): AsyncGenerator<QueryValue[][]> {
      for (;;) {
        let chunk;
        try {
          chunk = await chunks.fetchChunk();
        } catch (error) {
          throw failed(error);
        }
        if (chunk === null || chunk.rowCount === 0) return;
        // bigint and strings as they are; DuckDB's own values (dates, decimals...) as their text.
        yield chunk
          .getRows()
          .map((row) => row.map((value): QueryValue => (value === null || typeof value !== 'object' ? value : String(value))));
      }
    }
    await consume(result.columnNames(), batches());
  } finally {
    duck.closeSync();
    instance.closeSync();
  }
}
