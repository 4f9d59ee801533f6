import type { Command } from 'commander';
import { type Cell, formatCsv, formatTable, rowsToObjects, toJson } from '../../report/format-table.js';
import { ExitCode, FlowstateError, UsageError } from '../../errors.js';
import type Database from 'better-sqlite3';
import { queryParquet } from '../../store/parquet-query.js';
import { TABLE_NAMES } from '../../store/schema.js';
import { openSeveral } from '../../store/several-databases.js';
import { quoteIdentifier } from '../../store/sql-identifier.js';
import { openResults } from '../open-results.js';
import { repeatable } from '../parse-options.js';
import type { CommandContext } from '../cli-io.js';
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
      let result: { header: string[]; rows: Cell[][] };
      if (options.parquet.length > 0) result = await queryParquet(options.parquet, sql);
      else if (options.db.length > 1) {
        const db = openSeveral(options.db);
        try {
          result = rowsOf(db, sql, TABLE_NAMES);
        } finally {
          db.close();
        }
      } else {
        const results = await openResults(options.db[0] ?? 'flowstate.db', io);
        try {
          result = rowsOf(results.reader.db, sql, TABLE_NAMES);
        } finally {
          results.close();
        }
      }
      io.stdout.write(`${renderRows(format, result.header, result.rows, terminal)}\n`);
      setExit(ExitCode.ok);
    });
}

/** One read-only statement's rows; an error lists the tables and their columns. */
export function rowsOf(db: Database.Database, sql: string, tables: readonly string[]): { header: string[]; rows: Cell[][] } {
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
  try {
    return { header, rows: statement.safeIntegers(true).raw(true).all() as Cell[][] };
  } catch (error) {
    throw failed(error);
  }
}

function schemaHelp(tables: Array<{ table: string; columns: string[] }>): string {
  return `tables:\n${tables.map((t) => `  ${t.table}(${t.columns.join(', ')})`).join('\n')}`;
}
