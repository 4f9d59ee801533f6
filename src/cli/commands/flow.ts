import type { Command } from 'commander';
import { segmentsOfFlow } from '../../replay.js';
import { formatLadder, formatTransitionTimeline, ladderSteps } from '../../report/flow-ladder.js';
import { toJson } from '../../report/format-table.js';
import type { DatabaseReader, FlowRow } from '../../store/database-reader.js';
import { ExitCode, FlowstateError, UsageError } from '../../errors.js';
import { openResults } from '../open-results.js';
import type { CommandContext } from '../cli-io.js';

/** "10.0.0.1:40000-10.0.0.2:80" or "[::1]:40000-[::1]:80" (either direction). */
export function parseTuple(text: string): { ipA: string; portA: number; ipB: string; portB: number } | undefined {
  const endpoint = String.raw`(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d{1,5})`;
  const match = new RegExp(`^${endpoint}-${endpoint}$`).exec(text.trim());
  if (!match) return undefined;
  const strip = (ip: string): string => ip.replace(/^\[|\]$/g, '');
  return { ipA: strip(match[1]), portA: Number(match[2]), ipB: strip(match[3]), portB: Number(match[4]) };
}

function findFlows(reader: DatabaseReader, what: string): FlowRow[] {
  if (/^\d+$/.test(what)) {
    const flow = reader.flow(Number(what));
    if (!flow)
      throw new FlowstateError(
        `there is no flow ${what} (flows are numbered 1 to ${(reader.db.prepare('SELECT MAX(id) AS n FROM flows').get() as { n: number | null }).n ?? 0})`,
      );
    return [flow];
  }
  const tuple = parseTuple(what);
  if (!tuple) throw new UsageError(`give a flow id or ip:port-ip:port, not "${what}"`);
  const flows = reader.flowsByTuple(tuple.ipA, tuple.portA, tuple.ipB, tuple.portB);
  if (flows.length === 0) throw new FlowstateError(`no connection between ${what.replace('-', ' and ')} in this capture`);
  return flows;
}

export function registerFlow(program: Command, { io, setExit }: CommandContext): void {
  program
    .command('flow')
    .description("one connection's timeline: every segment with both endpoints' states after it, and the findings at their frame")
    .argument('<flow>', 'flow id, or ip:port-ip:port (every instance on that 4-tuple)')
    .option('--db <file>', 'database (or a capture, analysed on the fly)', 'flowstate.db')
    .option('--json', 'the flow, its transitions, findings and segments as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  flowstate flow 12 --db leak.db\n  flowstate flow 127.0.0.1:40000-127.0.0.1:8080 --db capture.pcap',
    )
    .action(async (what: string, options: { db: string; json?: boolean }) => {
      const results = await openResults(options.db, io);
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
                : formatLadder(flow, steps, findings),
            );
        }
        io.stdout.write(options.json ? `${toJson(json.length === 1 ? json[0] : json, 2)}\n` : `${out.join('\n\n')}\n`);
        setExit(ExitCode.ok);
      } finally {
        results.close();
      }
    });
}
