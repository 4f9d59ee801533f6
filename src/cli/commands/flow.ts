import type { Command } from 'commander';
import { TcpFlag } from '../../decode/tcp-segment.js';
import { replayCapture } from '../replay-capture.js';
import { type LadderStep, flagNames, formatLadder, formatTransitionTimeline } from '../../report/flow-ladder.js';
import { toJson } from '../../report/format-table.js';
import type { DatabaseReader, FlowRow, TransitionRow } from '../../store/database-reader.js';
import { CliError, ExitCode } from '../cli-error.js';
import { openResults } from '../open-results.js';
import type { Terminal } from '../terminal.js';


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
    if (!flow) throw new CliError(`there is no flow ${what} (flows are numbered 1 to ${(reader.db.prepare('SELECT MAX(id) AS n FROM flows').get() as { n: number | null }).n ?? 0})`);
    return [flow];
  }
  const tuple = parseTuple(what);
  if (!tuple) throw new CliError(`give a flow id or ip:port-ip:port, not "${what}"`, ExitCode.usage);
  const flows = reader.flowsByTuple(tuple.ipA, tuple.portA, tuple.ipB, tuple.portB);
  if (flows.length === 0) throw new CliError(`no connection between ${what.replace('-', ' and ')} in this capture`);
  return flows;
}

/** Every segment of the flow, replayed from its capture with the settings the database was made with. */
async function ladderSteps(reader: DatabaseReader, flow: FlowRow): Promise<LadderStep[] | string> {
  const steps: LadderStep[] = [];
  let clientBase: number | undefined;
  let serverBase: number | undefined;
  const unreadable = await replayCapture(reader, flow.last_ns, {
    onSegment: (flowId, fromClient, segment, frame, clientState, serverState) => {
      if (flowId !== flow.id) return;
      if (fromClient) clientBase ??= segment.seq;
      else serverBase ??= segment.seq;
      const ownBase = (fromClient ? clientBase : serverBase) as number;
      const peerBase = fromClient ? serverBase : clientBase;
      steps.push({
        tsNs: BigInt(frame.tsSec) * 1_000_000_000n + BigInt(frame.tsNsec),
        captureId: frame.source + 1,
        frame: frame.frame,
        fromClient,
        flags: flagNames(segment.flags),
        relativeSeq: (segment.seq - ownBase) >>> 0,
        relativeAck: segment.flags & TcpFlag.ACK && peerBase !== undefined ? (segment.ack - peerBase) >>> 0 : null,
        length: segment.payloadLength,
        window: segment.window,
        clientState,
        serverState,
      });
    },
  });
  return unreadable ?? steps;
}

export function registerFlow(program: Command, _terminal: Terminal, setExit: (code: ExitCode) => void): void {
  program
    .command('flow')
    .description("one connection's timeline: every segment with both endpoints' states after it, and the findings at their frame")
    .argument('<flow>', 'flow id, or ip:port-ip:port (every instance on that 4-tuple)')
    .option('--db <file>', 'database (or a capture, analysed on the fly)', 'flowstate.db')
    .option('--json', 'the flow, its transitions, findings and segments as JSON')
    .addHelpText('after', '\nExamples:\n  flowstate flow 12 --db leak.db\n  flowstate flow 127.0.0.1:40000-127.0.0.1:8080 --db capture.pcap')
    .action(async (what: string, options: { db: string; json?: boolean }) => {
      const results = await openResults(options.db);
      try {
        const out: string[] = [];
        const json: unknown[] = [];
        for (const flow of findFlows(results.reader, what)) {
          const findings = results.reader.findings('flow_id = ?', flow.id);
          const transitions = results.reader.transitionsOf(flow.id);
          const steps = await ladderSteps(results.reader, flow);
          if (typeof steps !== 'string') settleStates(steps, transitions);
          if (options.json) json.push({ flow, transitions, findings, segments: typeof steps === 'string' ? null : steps });
          else out.push(typeof steps === 'string' ? formatTransitionTimeline(flow, transitions, findings, steps) : formatLadder(flow, steps, findings));
        }
        process.stdout.write(options.json ? `${toJson(json.length === 1 ? json[0] : json, 2)}\n` : `${out.join('\n\n')}\n`);
        setExit(ExitCode.ok);
      } finally {
        results.close();
      }
    });
}

/**
 * The states after each segment as finally reconstructed: a FIN's effect at its
 * receiver is recorded at the FIN's frame once later segments confirm it arrived,
 * which the live replay only learns afterwards.
 */
function settleStates(steps: LadderStep[], transitions: readonly TransitionRow[]): void {
  for (const role of ['client', 'server'] as const) {
    const own = transitions.filter((t) => t.endpoint === role);
    let next = 0;
    let state = own[0]?.from_state;
    if (state === undefined) continue;
    for (const step of steps) {
      while (next < own.length && notAfter(own[next], step)) state = own[next++].to_state;
      if (role === 'client') step.clientState = state;
      else step.serverState = state;
    }
  }
}

function notAfter(t: TransitionRow, step: LadderStep): boolean {
  if (t.ts_ns !== step.tsNs) return t.ts_ns < step.tsNs;
  return t.frame === null || t.capture_id !== step.captureId || t.frame <= step.frame;
}
