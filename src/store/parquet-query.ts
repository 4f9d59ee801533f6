import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { FlowstateError } from '../errors.js';
import { EXPORT_DATASETS, EXPORT_MANIFEST } from './parquet-export.js';

/** A value of a query's row. */
export type QueryValue = string | number | bigint | boolean | null;

/** A query's column names and rows. */
export interface QueryRows {
  header: string[];
  rows: QueryValue[][];
}

/**
 * Runs one SQL statement in DuckDB over Parquet exports (`export --format parquet`),
 * their datasets named as the database's tables (captures, flows, transitions,
 * findings, listeners, meta; the day-split ones with their `day` column). Over
 * several exports each table has a first column `db` (1-based, in the order given),
 * as `query --db a --db b` has: ids are each export's own.
 */
export async function queryParquet(directories: readonly string[], sql: string): Promise<QueryRows> {
  for (const directory of directories)
    if (!existsSync(join(directory, EXPORT_MANIFEST)))
      throw new FlowstateError(
        `${directory} is not a flowstate Parquet export (no ${EXPORT_MANIFEST}): write one with export --format parquet --out DIR`,
      );
  const instance = await DuckDBInstance.create(':memory:');
  const duck = await instance.connect();
  try {
    for (const { name, day } of EXPORT_DATASETS) {
      const read = (directory: string): string =>
        `read_parquet('${join(directory, name, day === null ? '*.parquet' : '**/*.parquet').replaceAll("'", "''")}', hive_partitioning = ${day !== null})`;
      const select =
        directories.length === 1
          ? `SELECT * FROM ${read(directories[0])}`
          : directories.map((directory, i) => `SELECT ${i + 1} AS db, * FROM ${read(directory)}`).join(' UNION ALL BY NAME ');
      await duck.run(`CREATE VIEW ${name} AS ${select}`);
    }
    let result;
    try {
      result = await duck.runAndReadAll(sql);
    } catch (error) {
      throw new FlowstateError(`${(error as Error).message.split('\n')[0]} (DuckDB, over ${directories.join(', ')})`);
    }
    const header = result.columnNames();
    // bigint and strings as they are; DuckDB's own values (dates, decimals...) as their text.
    const rows = result
      .getRows()
      .map((row) => row.map((value): QueryValue => (value === null || typeof value !== 'object' ? value : String(value))));
    return { header, rows };
  } finally {
    duck.closeSync();
    instance.closeSync();
  }
}
