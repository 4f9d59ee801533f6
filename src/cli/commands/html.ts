import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { segmentsBeside } from '../../replay.js';
import type { SegmentSeen } from '../../report/flow-ladder.js';
import { ladderFlowsOf, renderReport, reportData } from '../../report/html-report.js';
import { formatCount } from '../../report/format-time.js';
import { ExitCode, FlowstateError, UsageError } from '../../errors.js';
import { OutputFile } from '../../store/output-file.js';
import { openResults, resultsInput } from '../open-results.js';
import { repeatable } from '../parse-options.js';
import type { CommandContext } from '../cli-io.js';

interface HtmlOptions {
  db?: string;
  out: string;
  flow: string[];
  force?: boolean;
}

const counted = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

export function registerHtml(program: Command, { io, setExit }: CommandContext): void {
  program
    .command('html')
    .description(
      'one self-contained HTML page: states over time, TIME_WAIT/CLOSE_WAIT pile-ups, findings, and ladders of the flows they name',
    )
    .argument('[input]', 'database or capture (a capture is analysed on the fly); default flowstate.db')
    .option('--db <file>', 'the same, as an option')
    .option('--out <file>', 'the page to write (replaces only a page flowstate wrote)', 'flowstate-report.html')
    .option('--force', 'replace a file at --out that is not a flowstate page (never the database or capture read)')
    .option('--flow <id>', 'also draw this flow as a ladder (repeatable)', repeatable, [])
    .addHelpText(
      'after',
      '\nThe page needs no network: the charting library, its script and the data are inside the file.\n\n' +
        'Examples:\n  flowstate html leak.db\n  flowstate html --db captures/close-wait-leak.pcap --out incident.html --flow 12 --flow 20',
    )
    .action(async (argument: string | undefined, options: HtmlOptions) => {
      const input = resultsInput(argument, options.db);
      const asked = options.flow.map((text) => {
        if (!/^\d+$/.test(text)) throw new UsageError(`--flow takes a flow id, not "${text}"`);
        return Number(text);
      });
      const results = await openResults(input, io);
      let output: OutputFile | undefined;
      try {
        const reader = results.reader;
        // Never over what this page is made from: the database, or the captures it names.
        output = OutputFile.claim(options.out, {
          kind: 'page',
          inputs: [input, ...reader.captures().map((c) => c.path)],
          force: options.force,
          option: '--out',
        });
        for (const id of asked) if (reader.flow(id) === undefined) throw new FlowstateError(`there is no flow ${id} to draw (--flow)`);
        const ladders = ladderFlowsOf(reader, asked);
        const lastNs = ladders.reduce((last, id) => {
          const flowLast = reader.flow(id)?.last_ns ?? 0n;
          return flowLast > last ? flowLast : last;
        }, 0n);
        const segments =
          ladders.length === 0 ? Promise.resolve(new Map<number, SegmentSeen[]>()) : segmentsBeside(reader.path, ladders, lastNs);
        const data = await reportData(reader, input, ladders, segments);
        output.write(renderReport(data));
        output.publish();
        const bytes = statSync(options.out).size;
        io.stdout.write(
          `wrote ${options.out} (${formatCount(Math.ceil(bytes / 1024))} KiB): ${counted(data.timeline.offsets.length, 'instant')}, ` +
            `${counted(data.pileUps.length, 'pile-up')}, ${counted(data.findings.length, 'kind')} of finding, ${counted(data.ladders.length, 'ladder')}\n`,
        );
        setExit(ExitCode.ok);
      } finally {
        output?.discard();
        results.close();
      }
    });
}
