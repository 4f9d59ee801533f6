import type { Command } from 'commander';
import { join } from 'node:path';
import { type Cell, formatCsv } from '../../report/format-table.js';
import { flowToZeek, zeekConnLogJsonLines, zeekConnLogTsv } from '../../report/zeek-conn-log.js';
import { formatCount } from '../../report/format-time.js';
import { exportParquet, type ParquetExport } from '../../store/parquet-export.js';
import { DatabaseReader } from '../../store/database-reader.js';
import { mergeShards } from '../../store/merge.js';
import { OutputFile, ScratchDirectory } from '../../store/output-file.js';
import { SHARD_META_KEY } from '../../store/shard-meta.js';
import { repeatable } from '../parse-options.js';
import { ExitCode, FlowstateError, UsageError } from '../../errors.js';
import { openResults } from '../open-results.js';
import type { CommandContext } from '../cli-io.js';

const FORMATS = ['zeek-conn', 'json', 'csv', 'parquet'] as const;
type ExportFormat = (typeof FORMATS)[number];

interface ExportOptions {
  format: string;
  db: string[];
  output?: string;
  out?: string;
  force?: boolean;
}

export function registerExport(program: Command, { io, setExit }: CommandContext): void {
  program
    .command('export')
    .description(
      "results in formats other tools read: flows as Zeek's conn.log (zeek-conn), Zeek's JSON log (json) or CSV (csv); every table as Parquet (parquet)",
    )
    .requiredOption('--format <format>', FORMATS.join(', '))
    .argument('[input]', 'database or capture, as with --db (default flowstate.db)')
    .option(
      '--db <file>',
      'database (or a capture, analysed on the fly; default flowstate.db); parquet: repeat it with every shard of an analyze --shard run, merged first',
      repeatable,
      [],
    )
    .option('-o, --output <file>', 'write here instead of standard output (an existing file is replaced only with --force)')
    .option('--force', 'replace an existing file at -o (never the database read)')
    .option('--out <dir>', 'parquet: the directory to write, one dataset a table (replaced only when complete)')
    .addHelpText(
      'after',
      '\nExamples:\n  flowstate export --format zeek-conn capture.db > conn.log\n  flowstate export --format json --db capture.pcap | jq .conn_state\n' +
        '  flowstate export --format parquet --db capture.db --out capture-parquet\n  duckdb -c "SELECT to_state, count(*) FROM \'capture-parquet/transitions/**/*.parquet\' GROUP BY ALL"',
    )
    .action(async (argument: string | undefined, options: ExportOptions) => {
      // Given as the argument, with --db, or both: each once.
      options.db = [...new Set([...(argument === undefined ? [] : [argument]), ...options.db])];
      if (!(FORMATS as readonly string[]).includes(options.format))
        throw new UsageError(`--format takes ${FORMATS.join(', ')}, not "${options.format}"`);
      const format = options.format as ExportFormat;
      const directory = options.out ?? options.output;
      if (format === 'parquet' && directory === undefined)
        throw new UsageError('--format parquet writes a directory: give it with --out DIR');
      if (options.db.length > 1 && format !== 'parquet')
        throw new UsageError('several --db are the shards of one run, exported together with --format parquet');
      if (format === 'parquet' && options.db.length > 1) {
        setExit(await exportShards(options.db, directory as string, io));
        return;
      }
      const input = options.db[0] ?? 'flowstate.db';
      // Claimed before anything is read: a path that may not be written fails at once, and a file appears only whole.
      const output =
        format !== 'parquet' && options.output !== undefined
          ? OutputFile.claim(options.output, { kind: 'export', inputs: [input], force: options.force, option: '-o' })
          : undefined;
      let results;
      try {
        results = await openResults(input, io);
      } catch (error) {
        output?.discard();
        throw error;
      }
      try {
        if (format === 'parquet') {
          const shard = results.reader.meta(SHARD_META_KEY);
          if (shard !== undefined)
            throw new FlowstateError(
              `${options.db[0]} holds one shard of an analyze --shard run, without the per-host findings: give every shard (--db repeated) to export them merged`,
            );
          reportWritten(await exportParquet(results.reader, directory as string, [input, results.reader.path]), io);
          setExit(ExitCode.ok);
          return;
        }
        let text: string;
        if (format === 'csv') {
          const { header, rows } = results.reader.flowsTable();
          text = `${formatCsv(header, rows as Cell[][])}\n`;
        } else {
          const flows = results.reader.flows().sort((a, b) => (a.first_ns < b.first_ns ? -1 : a.first_ns > b.first_ns ? 1 : a.id - b.id));
          const records = flows.map(flowToZeek);
          text = format === 'zeek-conn' ? zeekConnLogTsv(records, new Date()) : zeekConnLogJsonLines(records);
        }
        if (output) {
          output.write(text);
          output.publish();
        } else io.stdout.write(text);
        setExit(ExitCode.ok);
      } finally {
        output?.discard();
        results.close();
      }
    });
}

/** The shards of one run merged (inside SQLite, into a scratch file), then exported. */
async function exportShards(shards: readonly string[], directory: string, io: CommandContext['io']): Promise<ExitCode> {
  const scratch = ScratchDirectory.create();
  try {
    const merged = join(scratch.path, 'merged.db');
    mergeShards(merged, shards);
    const reader = new DatabaseReader(merged);
    try {
      reportWritten(await exportParquet(reader, directory, shards), io);
    } finally {
      reader.close();
    }
    return ExitCode.ok;
  } finally {
    scratch.remove();
  }
}

function reportWritten(written: ParquetExport, io: CommandContext['io']): void {
  const rows = Object.entries(written.rows).map(([table, n]) => `${table} ${formatCount(n)}`);
  io.stdout.write(`wrote ${written.directory} (${formatCount(Math.ceil(written.bytes / 1024))} KiB of Parquet): ${rows.join(', ')}\n`);
}
