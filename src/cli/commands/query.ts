import type { Command } from 'commander';
import {
  type Cell,
  csvLine,
  formatCsv,
  formatTable,
  jsonArrayElement,
  rowsToObjects,
  tableLayout,
  toJson,
} from '../../report/format-table.js';
import { ExitCode, FlowstateError, UsageError } from '../../errors.js';
import type Database from 'better-sqlite3';
import { streamParquet } from '../../store/parquet-query.js';
import { TABLE_NAMES } from '../../store/schema.js';
import { openSeveral } from '../../store/several-databases.js';
import { quoteIdentifier } from '../../store/sql-identifier.js';
import { openResults } from '../open-results.js';
import { repeatable } from '../parse-options.js';
import type { CommandContext, TextOut } from '../cli-io.js';
import type { Terminal } from '../terminal.js';

export const OutputFormat = { table: 'table', json: 'json', csv: 'csv' } as const;
export type OutputFormat = (typeof OutputFormat)[keyof typeof OutputFormat];

export function parseFormat(text: string | undefined, allowed: readonly OutputFormat[] = Object.values(OutputFormat)): OutputFormat {
  const format = (text ?? 'table') as OutputFormat;
  if (!allowed.includes(format)) throw new UsageError(`--format takes ${allowed.join(', ')}, not "${text}"`);
  return format;
}

/** Rows in the chosen format: aligned table, JSON array of objects, or CSV. */
export function renderRows(
  format: OutputFormat,
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
  terminal?: Terminal,
): string {
  if (format === 'json') return toJson(rowsToObjects(header, rows), 2);
  if (format === 'csv') return formatCsv(header, rows);
  return formatTable(header, rows, { useColour: terminal?.colour });
}

export function registerQuery(program: Command, { io, terminal, setExit }: CommandContext): void {
  program
    .command('query')
    .description(
      'run read-only SQL against the database (tables: captures, flows, transitions, findings, listeners, meta; see docs/schema.md)',
    )
    .argument('<sql>', 'one SQL statement')
    .option(
      '--db <file>',
      'database (or a capture, analysed on the fly; default flowstate.db); repeat it to query several at once (each table then has a first column db)',
      repeatable,
      [],
    )
    .option('--format <format>', 'table, json or csv', 'table')
    .option(
      '--parquet <dir>',
      'run the SQL in DuckDB over a Parquet export (export --format parquet); repeatable like --db',
      repeatable,
      [],
    )
    .addHelpText(
      'after',
      `\nExamples:\n  flowstate query "SELECT server_ip, server_port, COUNT(*) FROM flows WHERE client_state = 'CLOSE_WAIT' GROUP BY 1, 2"\n` +
        `  flowstate query --db mon.db --db tue.db "SELECT db, COUNT(*) FROM flows WHERE server_state = 'CLOSE_WAIT' GROUP BY db"\n` +
        `  flowstate query --parquet week-parquet "SELECT day, to_state, COUNT(*) FROM transitions GROUP BY ALL ORDER BY ALL"`,
    )
    .action(async (sql: string, options: { db: string[]; format?: string; parquet: string[] }) => {
      const format = parseFormat(options.format);
      if (options.parquet.length > 0 && options.db.length > 0) throw new UsageError('give --db or --parquet, not both');
      const write = (header: string[], batches: Iterable<Cell[][]> | AsyncIterable<Cell[][]>): Promise<void> =>
        streamRows(format, header, batches, io.stdout, terminal);
      if (options.parquet.length > 0) await streamParquet(options.parquet, sql, write);
      else if (options.db.length > 1) {
        const db = openSeveral(options.db);
        try {
          const { header, rows } = statementRows(db, sql, TABLE_NAMES);
          await write(header, batchesOf(rows));
        } finally {
          db.close();
        }
      } else {
        const results = await openResults(options.db[0] ?? 'flowstate.db', io);
        try {
          const { header, rows } = statementRows(results.reader.db, sql, TABLE_NAMES);
          await write(header, batchesOf(rows));
        } finally {
          results.close();
        }
      }
      setExit(ExitCode.ok);
    });
}

/**
 * Rows `query` formats before writing any in table format, to size the columns;
 * a later cell that is wider is written whole and pushes its line to the right.
 */
export const TABLE_LOOKAHEAD_ROWS = 1000;
/** Text gathered before one write to the output (then, if the output is full, a wait for it to drain). */
export const OUTPUT_CHUNK_CHARS = 64 * 1024;
/** Rows taken from SQLite between two writes. */
const SQLITE_BATCH_ROWS = 1024;

function* batchesOf(rows: Iterable<Cell[]>): Generator<Cell[][]> {
  let batch: Cell[][] = [];
  for (const row of rows) {
    batch.push(row);
    if (batch.length === SQLITE_BATCH_ROWS) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Text written to `out` a chunk at a time; when `out` is a stream that says it is
 * full (`write` returned false), the next chunk waits for 'drain'. A slow reader
 * (a pipe into `less`) then holds back the query instead of Node buffering every row.
 */
class ChunkedOutput {
  private parts: string[] = [];
  private chars = 0;

  constructor(private readonly out: TextOut) {}

  async push(text: string): Promise<void> {
    this.parts.push(text);
    this.chars += text.length;
    if (this.chars >= OUTPUT_CHUNK_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.chars = 0;
    if (this.out.write(text) === false) await drained(this.out);
  }
}

/** Resolves when a stream that refused more (write returned false) drains, closes or fails (its error is reported by its own listener). */
function drained(out: TextOut): Promise<void> {
  const stream = out as Partial<NodeJS.WritableStream>;
  if (typeof stream.once !== 'function' || typeof stream.removeListener !== 'function') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      for (const event of ['drain', 'close', 'error']) stream.removeListener?.(event, done);
      resolve();
    };
    for (const event of ['drain', 'close', 'error']) stream.once?.(event, done);
  });
}

/**
 * A statement's rows written as they come, in the chosen format: the same text
 * `renderRows` gives for all of them at once (for a table, the widths come from the
 * first TABLE_LOOKAHEAD_ROWS rows; the same text when there are no more). What is
 * held at any time is bounded by TABLE_LOOKAHEAD_ROWS rows, a batch (1,024 rows
 * from SQLite, a 2,048-row chunk from DuckDB) and OUTPUT_CHUNK_CHARS, not by the
 * result: a recursive CTE of millions of rows runs in the memory of a few thousand.
 */
export async function streamRows(
  format: OutputFormat,
  header: readonly string[],
  batches: Iterable<readonly (readonly Cell[])[]> | AsyncIterable<readonly (readonly Cell[])[]>,
  out: TextOut,
  terminal?: Terminal,
): Promise<void> {
  const output = new ChunkedOutput(out);
  let count = 0;
  if (format === 'csv') {
    await output.push(csvLine(header));
    for await (const batch of batches) for (const row of batch) await output.push(`\n${csvLine(row)}`);
    await output.push('\n');
  } else if (format === 'json') {
    for await (const batch of batches)
      for (const row of batch) await output.push(`${count++ === 0 ? '[\n' : ',\n'}${jsonArrayElement(header, row)}`);
    await output.push(count === 0 ? '[]\n' : '\n]\n');
  } else {
    const ahead: (readonly Cell[])[] = [];
    let layout: ReturnType<typeof tableLayout> | undefined;
    for await (const batch of batches)
      for (const row of batch) {
        if (layout === undefined) {
          ahead.push(row);
          if (ahead.length < TABLE_LOOKAHEAD_ROWS) continue;
          layout = tableLayout(header, ahead, { useColour: terminal?.colour });
          await output.push(layout.header);
          for (const held of ahead) await output.push(`\n${layout.line(held, count++)}`);
          ahead.length = 0;
        } else await output.push(`\n${layout.line(row, count++)}`);
      }
    if (layout === undefined) await output.push(formatTable(header, ahead, { useColour: terminal?.colour }));
    await output.push('\n');
  }
  await output.flush();
}

/** One read-only statement's rows; an error lists the tables and their columns. */
export function rowsOf(db: Database.Database, sql: string, tables: readonly string[]): { header: string[]; rows: Cell[][] } {
  const { header, rows } = statementRows(db, sql, tables);
  return { header, rows: [...rows] };
}

/**
 * rowsOf's statement with its rows read one at a time as they are iterated
 * (better-sqlite3's iterate), so nothing gathers them; an error while reading (a
 * recursive CTE's, an integer overflow) is reported as a prepare error is.
 */
export function statementRows(db: Database.Database, sql: string, tables: readonly string[]): { header: string[]; rows: Iterable<Cell[]> } {
  const help = (): string =>
    schemaHelp(
      tables.map((table) => ({
        table,
        columns: (db.prepare(`PRAGMA table_info(${quoteIdentifier(table)})`).all() as Array<{ name: string }>).map((c) => c.name),
      })),
    );
  const failed = (error: unknown): FlowstateError =>
    // The connection is read-only (several-databases.ts, database-reader.ts): say so rather than list the tables.
    (error as { code?: string }).code?.startsWith('SQLITE_READONLY')
      ? new FlowstateError(`query opens databases read-only, and this statement would change one: ${(error as Error).message}`)
      : new FlowstateError(`${(error as Error).message}\n${help()}`);
  let statement;
  try {
    statement = db.prepare(sql);
  } catch (error) {
    throw failed(error);
  }
  if (!statement.reader)
    throw new FlowstateError('query runs statements that return rows (SELECT, WITH, PRAGMA); the database is opened read-only');
  const header = statement.columns().map((c) => c.name);
  const reading = statement.safeIntegers(true).raw(true);
  function* rows(): Generator<Cell[]> {
    let iterator: IterableIterator<Cell[]>;
    try {
      iterator = reading.iterate() as IterableIterator<Cell[]>;
    } catch (error) {
      throw failed(error);
    }
    try {
      for (;;) {
        let next: IteratorResult<Cell[]>;
        try {
          next = iterator.next();
        } catch (error) {
          // better-sqlite3 has reset the statement: the help's PRAGMAs can run.
          throw failed(error);
        }
        if (next.done === true) return;
        yield next.value;
      }
    } finally {
      // A reader that stopped early (a failed write) frees the connection for close().
      iterator.return?.();
    }
  }
  return { header, rows: rows() };
}

function schemaHelp(tables: Array<{ table: string; columns: string[] }>): string {
  return `tables:\n${tables.map((t) => `  ${t.table}(${t.columns.join(', ')})`).join('\n')}`;
}
