import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { type Cell, formatCsv } from '../../report/format-table.js';
import { type ZeekConnLogRecord, zeekConnLogJsonLines, zeekConnLogTsv, zeekUid } from '../../report/zeek-conn-log.js';
import type { FlowRow } from '../../store/database-reader.js';
import { formatCount } from '../../report/format-time.js';
import { exportParquet } from '../../store/parquet-export.js';
import { ExitCode, UsageError } from '../../errors.js';
import { openResults } from '../open-results.js';
import type { CommandContext } from '../cli-io.js';

const FORMATS = ['zeek-conn', 'json', 'csv', 'parquet'] as const;
type ExportFormat = (typeof FORMATS)[number];

/** A flow as a conn.log record: our client is Zeek's originator (history carries '^' when Zeek would have flipped). */
export function flowToZeek(flow: FlowRow): ZeekConnLogRecord {
  const duration = flow.last_ns - flow.first_ns;
  // Zeek leaves duration and byte counts unset for a connection that lasted no time.
  const lasted = duration > 0n;
  return {
    tsNs: flow.first_ns,
    uid: zeekUid(flow.id),
    origH: flow.client_ip,
    origP: flow.client_port,
    respH: flow.server_ip,
    respP: flow.server_port,
    durationNs: lasted ? duration : null,
    origBytes: lasted ? flow.zeek_orig_bytes : null,
    respBytes: lasted ? flow.zeek_resp_bytes : null,
    connState: flow.conn_state ?? 'OTH',
    localOrig: null,
    localResp: null,
    missedBytes: flow.zeek_missed_bytes ?? 0,
    history: flow.history ?? '',
    origPkts: flow.client_packets,
    origIpBytes: flow.client_ip_bytes,
    respPkts: flow.server_packets,
    respIpBytes: flow.server_ip_bytes,
  };
}

export function registerExport(program: Command, { io, setExit }: CommandContext): void {
  program
    .command('export')
    .description(
      "results in formats other tools read: flows as Zeek's conn.log (zeek-conn), Zeek's JSON log (json) or CSV (csv); every table as Parquet (parquet)",
    )
    .requiredOption('--format <format>', FORMATS.join(', '))
    .option('--db <file>', 'database (or a capture, analysed on the fly)', 'flowstate.db')
    .option('-o, --output <file>', 'write here instead of standard output')
    .option('--out <dir>', 'parquet: the directory to write, one dataset a table (replaced only when complete)')
    .addHelpText(
      'after',
      '\nExamples:\n  flowstate export --format zeek-conn --db capture.db > conn.log\n  flowstate export --format json --db capture.pcap | jq .conn_state\n' +
        '  flowstate export --format parquet --db capture.db --out capture-parquet\n  duckdb -c "SELECT to_state, count(*) FROM \'capture-parquet/transitions/**/*.parquet\' GROUP BY ALL"',
    )
    .action(async (options: { format: string; db: string; output?: string; out?: string }) => {
      if (!(FORMATS as readonly string[]).includes(options.format))
        throw new UsageError(`--format takes ${FORMATS.join(', ')}, not "${options.format}"`);
      const format = options.format as ExportFormat;
      const directory = options.out ?? options.output;
      if (format === 'parquet' && directory === undefined)
        throw new UsageError('--format parquet writes a directory: give it with --out DIR');
      const results = await openResults(options.db, io);
      try {
        if (format === 'parquet') {
          const written = await exportParquet(results.reader, directory as string);
          const rows = Object.entries(written.rows).map(([table, n]) => `${table} ${formatCount(n)}`);
          io.stdout.write(
            `wrote ${written.directory} (${formatCount(Math.ceil(written.bytes / 1024))} KiB of Parquet): ${rows.join(', ')}\n`,
          );
          setExit(ExitCode.ok);
          return;
        }
        let text: string;
        if (format === 'csv') {
          const statement = results.reader.db.prepare('SELECT * FROM flows ORDER BY first_ns, id');
          const header = statement.columns().map((c) => c.name);
          text = `${formatCsv(header, statement.safeIntegers(true).raw(true).all() as Cell[][])}\n`;
        } else {
          const flows = results.reader.flows().sort((a, b) => (a.first_ns < b.first_ns ? -1 : a.first_ns > b.first_ns ? 1 : a.id - b.id));
          const records = flows.map(flowToZeek);
          text = format === 'zeek-conn' ? zeekConnLogTsv(records, new Date()) : zeekConnLogJsonLines(records);
        }
        if (options.output) writeFileSync(options.output, text);
        else io.stdout.write(text);
        setExit(ExitCode.ok);
      } finally {
        results.close();
      }
    });
}
