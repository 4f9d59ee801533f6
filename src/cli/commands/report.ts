import type { Command } from 'commander';
import { CANNED_REPORTS, cannedReport } from '../../report/canned-reports.js';
import type { Cell } from '../../report/format-table.js';
import { FINDINGS, type FindingKind } from '../../track/finding-catalogue.js';
import { UsageError } from '../../errors.js';
import { type FailOn, failOnExitCode, failOnMatches, parseFailOn } from '../fail-on.js';
import { repeatable } from '../parse-options.js';
import { countParquetFindingsMatching, queryParquet } from '../../store/parquet-query.js';
import { DEFAULT_DATABASE, openResults, resultsInput } from '../open-results.js';
import type { CommandContext } from '../cli-io.js';
import { parseFormat, renderRows, rowsOf } from './query.js';
import { TABLE_NAMES } from '../../store/schema.js';

interface ReportOptions {
  db: string[];
  parquet: string[];
  format?: string;
  showSql?: boolean;
  failOn?: string;
}

export function registerReport(program: Command, { io, terminal, setExit }: CommandContext): void {
  program
    .command('report')
    .description(`canned reports: ${CANNED_REPORTS.map((r) => r.name).join(', ')}`)
    .argument('[name]', 'which report', 'summary')
    .argument('[input]', 'database or capture (a capture is analysed on the fly); default flowstate.db; or --db')
    .option(
      '--db <file>',
      'database (or a capture, analysed on the fly; default flowstate.db); repeat it to report on several, each row headed by its db',
      repeatable,
      [],
    )
    .option(
      '--parquet <dir>',
      'report on Parquet exports (export --format parquet) instead, in DuckDB; repeatable like --db',
      repeatable,
      [],
    )
    .option('--format <format>', 'table, json or csv', 'table')
    .option('--show-sql', 'print the SQL behind the report first, to start your own query from')
    .option(
      '--fail-on <codes>',
      'exit 3 when a finding of these kinds exists (comma-separated finding codes, report names standing for one, or error / warning by severity)',
    )
    .addHelpText(
      'after',
      `\nReports:\n${CANNED_REPORTS.map((r) => `  ${r.name.padEnd(12)} ${r.title}`).join('\n')}\n\nExamples:\n  flowstate report close-wait --db leak.db --show-sql\n  flowstate report summary captures/refused.pcap --fail-on warning`,
    )
    .action(async (name: string, input: string | undefined, options: ReportOptions) => {
      const report = cannedReport(name);
      if (!report) throw new UsageError(`no report "${name}": choose one of ${CANNED_REPORTS.map((r) => r.name).join(', ')}`);
      const format = parseFormat(options.format);
      const failOn = parseFailOn(options.failOn);
      if (options.parquet.length > 0 && (options.db.length > 0 || input !== undefined))
        throw new UsageError('give --db (or the database as an argument) or --parquet, not both');
      // An argument and --db name one input (resultsInput refuses two different ones); --db alone may be repeated.
      const databases =
        input !== undefined
          ? [
              resultsInput(
                input,
                options.db.find((db) => db !== input),
              ),
            ]
          : options.db.length > 0
            ? options.db
            : [DEFAULT_DATABASE];
      const sources = options.parquet.length > 0 ? options.parquet : databases;
      // Several: the report of each, its rows headed by the source's number (as query's db column).
      let header: string[] = [];
      const rows: Cell[][] = [];
      let matched = 0;
      for (const [i, source] of sources.entries()) {
        const answer =
          options.parquet.length > 0
            ? await parquetReport(source, report.sql, failOn)
            : await databaseReport(source, report.sql, failOn, io);
        header = sources.length > 1 ? ['db', ...answer.header] : answer.header;
        for (const row of answer.rows) rows.push(sources.length > 1 ? [i + 1, ...row] : row);
        matched += answer.matched;
      }
      const out: string[] = [];
      if (options.showSql) out.push(format === 'table' ? `-- ${report.title}\n${report.sql};\n` : '');
      if (format === 'table') {
        out.push(`${report.title}\n`);
        out.push(rows.length > 0 ? renderRows(format, header, rows, terminal) : '(nothing)');
        const kind = header.indexOf('kind');
        if (name === 'summary' && rows.length > 0) out.push(`\n${remedies(rows.map((r) => String(r[kind])))}`);
      } else {
        out.push(renderRows(format, header, rows));
      }
      io.stdout.write(`${out.filter((s) => s !== '').join('\n')}\n`);
      if (options.showSql && format !== 'table') io.stderr.write(`${report.sql}\n`);
      setExit(failOnExitCode(matched));
    });
}

interface ReportAnswer {
  header: string[];
  rows: Cell[][];
  /** Findings of the --fail-on kinds. */
  matched: number;
}

async function databaseReport(input: string, sql: string, failOn: FailOn | undefined, io: CommandContext['io']): Promise<ReportAnswer> {
  const results = await openResults(input, io);
  try {
    return { ...rowsOf(results.reader.db, sql, TABLE_NAMES), matched: failOnMatches(results.reader, failOn) };
  } finally {
    results.close();
  }
}

async function parquetReport(directory: string, sql: string, failOn: FailOn | undefined): Promise<ReportAnswer> {
  const { header, rows } = await queryParquet([directory], sql);
  const matched = failOn === undefined ? 0 : await countParquetFindingsMatching([directory], failOn.kinds, failOn.severities);
  return { header, rows, matched };
}

/** What to do about each kind that was found (the catalogue's remedies). */
function remedies(kinds: string[]): string {
  const unique = [...new Set(kinds)].filter((k): k is FindingKind => k in FINDINGS);
  return ['What helps:', ...unique.map((k) => `  ${k}: ${FINDINGS[k].remedy}`)].join('\n');
}
