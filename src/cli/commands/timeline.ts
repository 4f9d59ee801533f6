import type { Command } from 'commander';
import { formatTimestamp } from '../../report/format-time.js';
import { stateTimeline, statesPresent, type TimelineGroup } from '../../report/state-timeline.js';
import { STATE_INDEX } from '../../tcp/tcp-state.js';
import { ExitCode } from '../../errors.js';
import { openResults, resultsInput } from '../open-results.js';
import { parseHost } from '../parse-options.js';
import { parseDuration } from '../parse-time.js';
import type { CommandContext } from '../cli-io.js';
import { parsePort } from './netstat.js';
import { parseFormat, renderRows } from './query.js';

interface TimelineOptions {
  db?: string;
  every?: string;
  host?: string;
  port?: string;
  format?: string;
  all?: boolean;
  observedOnly?: boolean;
}

export function registerTimeline(program: Command, { io, terminal, setExit }: CommandContext): void {
  program
    .command('timeline')
    .description('endpoints per TCP state over the capture: one row per instant, one column per state, as `netstat --summary` at each')
    .argument('[input]', 'database or capture (a capture is analysed on the fly); default flowstate.db')
    .option('--db <file>', 'the same, as an option')
    .option('--every <duration>', 'time between rows (10s, 500ms, 1m); default: a round step giving about 100 rows')
    .option('--host <ip>', "one host's view: endpoints whose local address is this IP")
    .option('--port <n>', 'only endpoints whose local port is this')
    .option('--all', 'count CLOSED endpoints too, as netstat --all lists them')
    .option('--observed-only', 'count only endpoints whose state the capture shows, not inferred ones (as netstat --observed-only)')
    .option('--format <format>', 'table, csv or json', 'table')
    .addHelpText(
      'after',
      '\nRows are instants: the first packet, every --every after it, and the last packet; each counts what\n' +
        '`netstat --at` lists at that instant (LISTEN included; CLOSED with --all). Counts include inferred\n' +
        'states; an inferred_STATE column says how many of that count are inferred (--observed-only: none counted).\n\n' +
        'Examples:\n  flowstate timeline leak.db --every 1s --format csv > states.csv\n  flowstate timeline --db captures/close-wait-leak.pcap --host 127.42.3.1 --port 8080',
    )
    .action(async (input: string | undefined, options: TimelineOptions) => {
      const format = parseFormat(options.format);
      const everyNs = options.every === undefined ? undefined : parseDuration(options.every, '--every');
      const group: TimelineGroup = {
        label: 'all',
        host: options.host === undefined ? undefined : parseHost(options.host),
        port: options.port === undefined ? undefined : parsePort(options.port),
      };
      const results = await openResults(resultsInput(input, options.db), io);
      try {
        const timeline = stateTimeline(results.reader, [group], everyNs, options.observedOnly);
        if (timeline === undefined) {
          io.stdout.write(format === 'json' ? '[]\n' : 'no packets, so no timeline\n');
        } else {
          const states = statesPresent(timeline, options.all);
          const { counts, inferred } = timeline.groups[0];
          // After the counts, how many of each are inferred: one column per state that has any.
          const withInferred = states.filter((s) => inferred.some((row) => row[STATE_INDEX.get(s) as number] > 0));
          const firstNs = timeline.instantsNs[0];
          const header = ['time', 'offset_s', ...states, ...withInferred.map((s) => `inferred_${s}`)];
          const rows = timeline.instantsNs.map((t, i) => [
            formatTimestamp(t),
            Number(t - firstNs) / 1e9,
            ...states.map((s) => counts[i][STATE_INDEX.get(s) as number]),
            ...withInferred.map((s) => inferred[i][STATE_INDEX.get(s) as number]),
          ]);
          io.stdout.write(`${renderRows(format, header, rows, terminal)}\n`);
        }
        setExit(ExitCode.ok);
      } finally {
        results.close();
      }
    });
}
