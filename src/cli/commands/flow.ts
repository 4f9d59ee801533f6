import type { Command } from 'commander';
import { segmentsOfFlow } from '../../replay.js';
import { formatLadder, formatTransitionTimeline, ladderSteps } from '../../report/flow-ladder.js';
import { toJson } from '../../report/format-table.js';
import type { DatabaseReader, FlowRow } from '../../store/database-reader.js';
import { ExitCode, FlowstateError, UsageError } from '../../errors.js';
import { openResults, resultsInput } from '../open-results.js';
import { canonicalAddress } from '../parse-options.js';
import type { CommandContext } from '../cli-io.js';

const TUPLE_FORMS =
  'give a flow id or ip:port-ip:port, such as 10.0.0.1:40000-10.0.0.2:80 or [2001:db8::1]:40000-[2001:db8::2]:80 ' +
  '(IPv6 may go without brackets when what follows its last colon is the port: 2001:db8::1:40000-2001:db8::2:80)';

/** One side of a 4-tuple: "10.0.0.1:80", "[::1]:80", or "::1:80" (the last colon's number is the port). */
function parseEndpoint(text: string): { ip: string; port: number } {
  const match = /^(?:\[([^\]]*)\]|([^[\]]+)):(\d{1,5})$/.exec(text);
  if (match === null || Number(match[3]) > 65535) throw new UsageError(`${TUPLE_FORMS}, not "${text}"`);
  const written = match[1] ?? match[2];
  const ip = canonicalAddress(written);
  if (ip !== undefined) return { ip, port: Number(match[3]) };
  // Unbracketed, an IPv6 address whose end is not "address:port" is ambiguous: ask for the forms.
  if (match[1] === undefined && written.includes(':')) throw new UsageError(`${TUPLE_FORMS}, not "${text}"`);
  throw new UsageError(`${written} is not an IPv4 or IPv6 address`);
}

/** "10.0.0.1:40000-10.0.0.2:80", "[::1]:40000-[::1]:80" or "::1:40000-::1:80" (either direction), addresses canonical. */
function parseTuple(text: string): { ipA: string; portA: number; ipB: string; portB: number } {
  const sides = text.trim().split('-');
  if (sides.length !== 2) throw new UsageError(`${TUPLE_FORMS}, not "${text}"`);
  const [a, b] = sides.map(parseEndpoint);
  return { ipA: a.ip, portA: a.port, ipB: b.ip, portB: b.port };
}

function findFlows(reader: DatabaseReader, what: string): FlowRow[] {
  if (/^\d+$/.test(what)) {
    const flow = reader.flow(Number(what));
    if (flow) return [flow];
    const last = reader.lastFlowId();
    throw new FlowstateError(
      `there is no flow ${what}${last === undefined ? ': the database holds no flows' : ` (flows are numbered 1 to ${last})`}`,
    );
  }
  const tuple = parseTuple(what);
  const flows = reader.flowsByTuple(tuple.ipA, tuple.portA, tuple.ipB, tuple.portB);
  if (flows.length === 0) throw new FlowstateError(`no connection between ${what.replace('-', ' and ')} in this capture`);
  return flows;
}

export function registerFlow(program: Command, { io, setExit }: CommandContext): void {
  program
    .command('flow')
    .description("one connection's timeline: every segment with both endpoints' states after it, and the findings at their frame")
    .argument('<flow>', 'flow id, or ip:port-ip:port (every instance on that 4-tuple; IPv6 as [addr]:port)')
    .argument('[input]', 'database or capture (a capture is analysed on the fly); default flowstate.db')
    .option('--db <file>', 'the same, as an option')
    .option('--json', 'the flow, its transitions, findings and segments as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  flowstate flow 12 --db leak.db\n  flowstate flow 127.42.3.2:44024-127.42.3.1:8080 captures/close-wait-leak.pcap\n  flowstate flow [::1]:39394-[::1]:8086 --db captures/ipv6.pcap --json',
    )
    .action(async (what: string, input: string | undefined, options: { db?: string; json?: boolean }) => {
      const results = await openResults(resultsInput(input, options.db), io);
      try {
        const out: string[] = [];
        const json: unknown[] = [];
        for (const flow of findFlows(results.reader, what)) {
          const findings = results.reader.findings('flow_id = ?', flow.id);
          const transitions = results.reader.transitionsOf(flow.id);
          const seen = await segmentsOfFlow(results.reader, flow.id, flow.last_ns);
          const steps = typeof seen === 'string' ? seen : ladderSteps(seen, transitions);
          if (options.json) json.push({ flow, transitions, findings, segments: typeof steps === 'string' ? null : steps });
          else
            out.push(
              typeof steps === 'string'
                ? formatTransitionTimeline(flow, transitions, findings, steps)
                : formatLadder(flow, steps, findings, transitions),
            );
        }
        io.stdout.write(options.json ? `${toJson(json.length === 1 ? json[0] : json, 2)}\n` : `${out.join('\n\n')}\n`);
        setExit(ExitCode.ok);
      } finally {
        results.close();
      }
    });
}
