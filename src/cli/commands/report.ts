import type { Command } from 'commander';
import { CANNED_REPORTS, cannedReport } from '../../report/canned-reports.js';
import type { Cell } from '../../report/format-table.js';
import { FINDINGS, type FindingKind } from '../../track/finding-catalogue.js';
import { UsageError } from '../../errors.js';
import { failOnExitCode, parseFailOn } from '../fail-on.js';
import { openResults } from '../open-results.js';
import type { CommandContext } from '../cli-io.js';
import { parseFormat, renderRows } from './query.js';

interface ReportOptions {
  db: string;
  format?: string;
  showSql?: boolean;
  failOn?: string;
}

export function registerReport(program: Command, { io, terminal, setExit }: CommandContext): void {
  program
    .command('report')
    .description(`canned reports: ${CANNED_REPORTS.map((r) => r.name).join(', ')}`)
    .argument('[name]', 'which report', 'summary')
    .option('--db <file>', 'database (or a capture, analysed on the fly)', 'flowstate.db')
    .option('--format <format>', 'table, json or csv', 'table')
    .option('--show-sql', 'print the SQL behind the report first, to start your own query from')
    .option('--fail-on <codes>', 'exit 3 when a finding of these kinds exists (comma-separated finding codes)')
    .addHelpText(
      'after',
      `\nReports:\n${CANNED_REPORTS.map((r) => `  ${r.name.padEnd(12)} ${r.title}`).join('\n')}\n\nExample:\n  flowstate report close-wait --db leak.db --show-sql`,
    )
    .action(async (name: string, options: ReportOptions) => {
      const report = cannedReport(name);
      if (!report) throw new UsageError(`no report "${name}": choose one of ${CANNED_REPORTS.map((r) => r.name).join(', ')}`);
      const format = parseFormat(options.format);
      const failOn = parseFailOn(options.failOn);
      const results = await openResults(options.db, io);
      try {
        const statement = results.reader.db.prepare(report.sql);
        const header = statement.columns().map((c) => c.name);
        const rows = statement.safeIntegers(true).raw(true).all() as Cell[][];
        const out: string[] = [];
        if (options.showSql) out.push(format === 'table' ? `-- ${report.title}\n${report.sql};\n` : '');
        if (format === 'table') {
          out.push(`${report.title}\n`);
          out.push(rows.length > 0 ? renderRows(format, header, rows, terminal) : '(nothing)');
          if (name === 'summary' && rows.length > 0) out.push(`\n${remedies(rows.map((r) => String(r[0])))}`);
        } else {
          out.push(renderRows(format, header, rows));
        }
        io.stdout.write(`${out.filter((s) => s !== '').join('\n')}\n`);
        if (options.showSql && format !== 'table') io.stderr.write(`${report.sql}\n`);
        const matched =
          failOn.size === 0 ? 0 : results.reader.findings(`kind IN (${[...failOn].map(() => '?').join(',')})`, ...failOn).length;
        setExit(failOnExitCode(matched));
      } finally {
        results.close();
      }
    });
}

/** What to do about each kind that was found (the catalogue's remedies). */
function remedies(kinds: string[]): string {
  const unique = [...new Set(kinds)].filter((k): k is FindingKind => k in FINDINGS);
  return ['What helps:', ...unique.map((k) => `  ${k}: ${FINDINGS[k].remedy}`)].join('\n');
}
