import type { Command } from 'commander';
import { formatTable, toJson } from '../../report/format-table.js';
import { netstatJson, netstatSummary, netstatTable, sortNetstat } from '../../report/netstat-view.js';
import { sendQueuesAt } from '../../replay.js';
import { netstatAt } from '../../store/netstat-query.js';
import { TcpState } from '../../tcp/tcp-state.js';
import { ExitCode, UsageError } from '../../errors.js';
import { formatTimestamp } from '../../report/format-time.js';
import { openResults, resultsInput } from '../open-results.js';
import { parseHost } from '../parse-options.js';
import { parseTime, parseTimeZone, UTC } from '../parse-time.js';
import type { CommandContext } from '../cli-io.js';

interface NetstatOptions {
  db?: string;
  at?: string;
  tz?: string;
  host?: string;
  port?: string;
  state?: string;
  all?: boolean;
  summary?: boolean;
  json?: boolean;
  observedOnly?: boolean;
}

/** Accepts netstat's and ss's spellings: "close-wait", "CLOSE_WAIT", "ESTAB", "FIN-WAIT-1". */
export function parseState(text: string): TcpState {
  const normal = text.trim().toUpperCase().replace(/-/g, '_');
  const aliases: Record<string, TcpState> = {
    ESTAB: TcpState.ESTABLISHED,
    FIN_WAIT_1: TcpState.FIN_WAIT1,
    FIN_WAIT_2: TcpState.FIN_WAIT2,
    SYN_RECEIVED: TcpState.SYN_RECV,
    CLOSE: TcpState.CLOSED,
  };
  const state = aliases[normal] ?? (Object.values(TcpState) as string[]).find((s) => s === normal);
  if (state === undefined) throw new UsageError(`--state takes one of ${Object.values(TcpState).join(', ')}, not "${text}"`);
  return state;
}

/** `--port`: a number from 0 to 65535. */
export function parsePort(text: string): number {
  const port = Number(text);
  if (text.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port takes a port number, not "${text}"`);
  return port;
}

/** Counts include inferred states, and Inferred says how many of each are; observed only, the header says Observed. */
function summaryTable(counts: ReadonlyArray<[TcpState, number, number]>, observedOnly: boolean): string {
  return observedOnly
    ? formatTable(
        ['State', 'Observed'],
        counts.map(([state, count]) => [state, count]),
        { rightAligned: new Set([1]) },
      )
    : formatTable(['State', 'Count', 'Inferred'], counts, { rightAligned: new Set([1, 2]) });
}

export function registerNetstat(program: Command, { io, terminal, setExit }: CommandContext): void {
  program
    .command('netstat')
    .description('what `netstat -tan` would have shown at a moment (default: the end of the capture), for every observed host')
    .argument('[input]', 'database or capture (a capture is analysed on the fly); default flowstate.db')
    .option('--db <file>', 'the same, as an option')
    .option(
      '--at <time>',
      "ISO-8601, a time of day on the capture's first day (14:03:07.5), epoch seconds, or an offset from the capture start such as +12.5s",
    )
    .option('--tz <zone>', '--at without a zone is in this one: UTC (default), +02:00, Europe/Paris')
    .option('--host <ip>', "one host's view: endpoints whose local address is this IP")
    .option('--port <n>', 'only endpoints whose local port is this')
    .option('--state <state>', 'only this state (CLOSE_WAIT, close-wait, ESTAB…)')
    .option('--all', 'include CLOSED endpoints')
    .option('--summary', 'count per state, as netstat -n | awk … prints it, and how many of each count are inferred')
    .option('--observed-only', 'only endpoints whose state the capture shows: leave out inferred ones (listeners included)')
    .option('--json', 'JSON: an array of {proto, local, remote, state, flow, inferred}')
    .addHelpText(
      'after',
      '\nA moment before or after the capture is answered (the states then, had nothing more been sent), with a note on stderr.\n' +
        'Inferred states (not seen but deduced, or assumed: docs/reconstruction.md) are listed and counted, marked inferred;\n' +
        '--observed-only leaves them out.\n\n' +
        'Examples:\n  flowstate netstat leak.db --summary\n  flowstate netstat --db captures/close-wait-leak.pcap --at +20ms --host 127.42.3.2 --state CLOSE_WAIT --json\n' +
        '  flowstate netstat leak.db --at 19:19:08.47 --tz Europe/Paris',
    )
    .action(async (input: string | undefined, options: NetstatOptions) => {
      const port = options.port === undefined ? undefined : parsePort(options.port);
      const state = options.state === undefined ? undefined : parseState(options.state);
      const host = options.host === undefined ? undefined : parseHost(options.host);
      const zone = options.tz === undefined ? UTC : parseTimeZone(options.tz);
      const results = await openResults(resultsInput(input, options.db), io);
      try {
        const span = results.reader.span();
        const atNs = options.at === undefined ? (span.last_ns ?? 0n) : parseTime(options.at, span.first_ns, zone);
        if (span.first_ns !== null && span.last_ns !== null && (atNs < span.first_ns || atNs > span.last_ns)) {
          const [where, what] =
            atNs < span.first_ns
              ? ['before', 'nothing had been seen yet']
              : ['after', 'the states as they would be had nothing more been sent'];
          io.stderr.write(
            `flowstate: note: ${formatTimestamp(atNs)} is ${where} the capture (${formatTimestamp(span.first_ns)} … ${formatTimestamp(span.last_ns)}): ${what}\n`,
          );
        }
        const atEnd = span.last_ns === null || atNs >= span.last_ns;
        // Send-Q shows only in the table; the capture is read again for it only then.
        const showsSendQ = !options.summary && !options.json;
        const sendQueues = atEnd || !showsSendQ ? undefined : await sendQueuesAt(results.reader, atNs);
        const entries = netstatAt(results.reader, {
          atNs,
          all: options.all,
          sendQueues,
          host,
          port,
          state,
          observedOnly: options.observedOnly,
        });
        if (options.summary) {
          const counts = netstatSummary(entries);
          io.stdout.write(
            options.json
              ? `${toJson(Object.fromEntries(counts.map(([s, n]) => [s, n])), 2)}\n`
              : `${counts.length === 0 ? 'no endpoints' : summaryTable(counts, options.observedOnly === true)}\n`,
          );
        } else if (options.json) {
          io.stdout.write(`${netstatJson(sortNetstat(entries))}\n`);
        } else {
          io.stdout.write(
            entries.length > 0
              ? `${netstatTable(sortNetstat(entries), terminal.colour)}\n`
              : state === undefined
                ? 'no endpoints at that moment\n'
                : 'no endpoints in those states at that time\n',
          );
        }
        setExit(ExitCode.ok);
      } finally {
        results.close();
      }
    });
}
