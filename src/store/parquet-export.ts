import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  BIGINT,
  DOUBLE,
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBType,
  VARCHAR,
} from '@duckdb/node-api';
import { FlowstateError } from '../errors.js';
import type { DatabaseReader } from './database-reader.js';
import { OutputDirectory } from './output-file.js';
import { SCHEMA_VERSION } from './schema.js';
import { declaredColumns } from './schema-check.js';
import { quoteIdentifier, quoteString } from './sql-identifier.js';
import { transitionsSelect } from './transition-code.js';

/** The file that marks a directory as a flowstate Parquet export (readers skip names starting with `_`). */
export const EXPORT_MANIFEST = '_flowstate_export.json';

/** Rows handed to DuckDB at a time (its vector size). */
const CHUNK_ROWS = 2048;

/**
 * The datasets of an export: every table of the contract, `transitions` decoded as
 * the view reads it. Those with a time are split by UTC day (`day=YYYY-MM-DD`
 * directories, Hive style), so a week of captures is read a day at a time.
 */
export const EXPORT_DATASETS: ReadonlyArray<{ name: string; day: string | null }> = [
  { name: 'captures', day: null },
  { name: 'flows', day: 'first_ns' },
  { name: 'transitions', day: 'ts_ns' },
  { name: 'findings', day: 'ts_ns' },
  { name: 'listeners', day: null },
  { name: 'meta', day: null },
];

export interface ParquetExport {
  directory: string;
  /** Rows per dataset. */
  rows: Record<string, number>;
  bytes: number;
}

/** The DuckDB type of an SQLite declared type (its affinity). */
function duckType(declared: string): DuckDBType {
  const type = declared.toUpperCase();
  if (type.includes('INT')) return BIGINT;
  if (type.includes('REAL') || type.includes('FLOA') || type.includes('DOUB')) return DOUBLE;
  return VARCHAR;
}

/** Whether SQLite's value (read with safeIntegers) fits the DuckDB column: SQLite keeps any value in any column. */
function fits(type: DuckDBType, value: unknown): boolean {
  if (value === null) return true;
  if (type === BIGINT) return typeof value === 'bigint';
  if (type === DOUBLE) return typeof value === 'number' || typeof value === 'bigint';
  return typeof value === 'string';
}

const kindOf = (value: unknown): string =>
  value instanceof Uint8Array ? 'a blob' : typeof value === 'string' ? 'text' : `a ${typeof value}`;

/**
 * Copies an SQLite table into a DuckDB table of the same columns, a chunk of rows
 * at a time. The columns are those flowstate declares (the reader checked the
 * input has exactly them): no name read from the input reaches DuckDB's SQL.
 */
async function copyTable(reader: DatabaseReader, duck: DuckDBConnection, table: string): Promise<number> {
  const columns = declaredColumns(table);
  const types = columns.map((c) => duckType(c.type));
  await duck.run(
    `CREATE TABLE ${quoteIdentifier(table)} (${columns.map((c, i) => `${quoteIdentifier(c.name)} ${types[i].toString()}`).join(', ')})`,
  );
  const appender: DuckDBAppender = await duck.createAppender(table);
  let chunk: unknown[][] = columns.map(() => []);
  let rows = 0;
  const flush = (): void => {
    const data = DuckDBDataChunk.create(types, chunk[0].length);
    data.setColumns(chunk as Parameters<DuckDBDataChunk['setColumns']>[0]);
    appender.appendDataChunk(data);
    chunk = columns.map(() => []);
  };
  const statement = reader.db
    .prepare(`SELECT ${columns.map((c) => quoteIdentifier(c.name)).join(', ')} FROM ${quoteIdentifier(table)}`)
    .raw(true)
    .safeIntegers(true);
  for (const row of statement.iterate() as IterableIterator<unknown[]>) {
    for (let c = 0; c < row.length; c++) {
      const value = row[c];
      if (!fits(types[c], value))
        throw new FlowstateError(
          `${reader.path}: ${table}.${columns[c].name} holds ${kindOf(value)} in row ${rows + 1}, where flowstate writes ${columns[c].type}`,
        );
      // A REAL column holds numbers; safeIntegers gives a whole one as a bigint.
      chunk[c].push(types[c] === DOUBLE && typeof value === 'bigint' ? Number(value) : value);
    }
    if (++rows % CHUNK_ROWS === 0) flush();
  }
  if (chunk[0].length > 0) flush();
  appender.closeSync();
  return rows;
}

function directorySize(path: string): number {
  let bytes = 0;
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) bytes += statSync(join(entry.parentPath, entry.name)).size;
  return bytes;
}

/**
 * Writes the database as Parquet: one directory a table under `out`, readable as
 * they are by DuckDB, Spark, Trino and ClickHouse (zstd, Hive-style day
 * partitions). Written beside `out` under the output guard (OutputDirectory: a lock,
 * a uniquely named partial directory and DuckDB's scratch database beside it, all
 * removed however the run ends) and renamed when complete; an `out` that is a
 * previous export is replaced, anything else there is refused, and so is an `out`
 * that is or holds one of `inputs` (by default the database read).
 */
export async function exportParquet(
  reader: DatabaseReader,
  out: string,
  inputs: readonly string[] = [reader.path],
): Promise<ParquetExport> {
  const output = OutputDirectory.claim(out, {
    inputs,
    ownedBy: (directory) => existsSync(join(directory, EXPORT_MANIFEST)),
    what: 'a flowstate Parquet export',
    option: '--out',
  });
  const partial = output.partialPath;
  let instance: DuckDBInstance | undefined;
  let duck: DuckDBConnection | undefined;
  try {
    // A file of its own and a memory bound: DuckDB otherwise keeps the tables in up to 80 % of RAM.
    // The file sits in a directory of its own: once an interrupt has removed that directory,
    // DuckDB's threads, still running until the process ends, can no longer create their WAL beside it.
    const scratch = output.scratchPath('scratch');
    mkdirSync(scratch);
    instance = await DuckDBInstance.create(join(scratch, 'export.duckdb'), { memory_limit: '256MB', threads: '2' });
    duck = await instance.connect();
    const rows: Record<string, number> = {};
    for (const table of ['captures', 'flows', 'findings', 'listeners', 'meta']) rows[table] = await copyTable(reader, duck, table);
    await copyTable(reader, duck, 'transition_rows');
    await copyTable(reader, duck, 'causes');
    await duck.run(`CREATE TABLE transitions AS ${transitionsSelect('//')} ORDER BY t.flow_id, t.id`);
    await duck.run('DROP TABLE transition_rows');
    rows.transitions = Number((await duck.runAndReadAll('SELECT COUNT(*) FROM transitions')).getRows()[0][0]);
    for (const { name, day } of EXPORT_DATASETS) {
      const directory = join(partial, name);
      if (day === null) {
        mkdirSync(directory, { recursive: true });
        await duck.run(
          `COPY ${quoteIdentifier(name)} TO ${quoteString(join(directory, `${name}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`,
        );
      } else {
        await duck.run(
          `COPY (SELECT *, CAST(to_timestamp(${quoteIdentifier(day)} // 1000000000) AS DATE) AS day FROM ${quoteIdentifier(name)}) ` +
            `TO ${quoteString(directory)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day))`,
        );
      }
    }
    writeFileSync(
      join(partial, EXPORT_MANIFEST),
      `${JSON.stringify({ from: resolve(reader.path), schema_version: SCHEMA_VERSION, rows, partitioned_by_day: EXPORT_DATASETS.filter((d) => d.day !== null).map((d) => d.name) }, null, 2)}\n`,
    );
    // DuckDB closed before the rename: its scratch database is removed with the partial directory's stem.
    duck.closeSync();
    duck = undefined;
    instance.closeSync();
    instance = undefined;
    output.publish();
    const target = resolve(out);
    return { directory: target, rows, bytes: directorySize(target) };
  } catch (error) {
    if (error instanceof FlowstateError) throw error;
    // DuckDB's own refusals (out of memory under its 256 MB bound, on a hand-made database's megabyte-long texts): one line.
    throw new FlowstateError(`cannot export ${reader.path} as Parquet: DuckDB: ${(error as Error).message.split('\n')[0]}`);
  } finally {
    duck?.closeSync();
    instance?.closeSync();
    output.discard();
  }
}
