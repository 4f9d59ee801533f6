/**
 * The self-contained HTML report: what the page draws, aggregated here from the
 * database (the page never sees a transition), and the page itself with the
 * charting library, its script and style inlined.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { formatEndpoint } from '../decode/format-address.js';
import { linkTypeName } from '../decode/link-types.js';
import type { DatabaseReader, FlowRow, TransitionRow } from '../store/database-reader.js';
import { findingDetails, SEVERITY_ORDER } from '../store/database-reader.js';
import { PAGE_GENERATOR } from '../store/output-file.js';
import { FLOWS_SQL, loadFlows, TRANSITIONS_SQL, walkStateIntervals, type StateIntervalVisitor } from '../store/state-intervals.js';
import { STATE_INDEX, type TcpState } from '../tcp/tcp-state.js';
import { FINDINGS, type FindingKind } from '../track/finding-catalogue.js';
import { ladderSteps, type LadderStep, type SegmentSeen } from './flow-ladder.js';
import { formatCount, formatDuration, formatOffset, formatTimestamp } from './format-time.js';
import { PileUpCounter, type PileUp } from './pile-ups.js';
import { niceStep, statesPresent, TimelineCounter, timelineInstants, type TimelineGroup } from './state-timeline.js';

/** Ladders drawn at most: each is a few hundred SVG elements, and a post-mortem reads a handful. */
export const MAX_LADDERS = 24;
/** Segments drawn of one ladder at most: the first, the last, and every one where a state changes. */
const LADDER_HEAD = 60;
const LADDER_TAIL = 40;
/** Points on the timeline: enough to show a pile-up's shape, few enough to hover smoothly. */
const TIMELINE_POINTS = 400;
/** Hosts and host:ports offered in the timeline's selector, busiest first. */
const TOP_GROUPS = 12;
/** Pile-ups listed per state. */
const TOP_PILE_UPS = 15;
/** Instances shown under each finding kind. */
const INSTANCES_SHOWN = 12;

export interface ReportData {
  title: string;
  facts: Fact[];
  captures: Array<Record<string, string | number>>;
  timeline: {
    /** The capture holds no packets: nothing to draw. */
    empty: boolean;
    firstIso: string;
    offsets: number[];
    iso: string[];
    states: TcpState[];
    groups: Array<{
      label: string;
      kind: 'all' | 'host' | 'host:port';
      counts: Partial<Record<TcpState, number[]>>;
      /** How many of each count are inferred, for the states that have any. */
      inferred: Partial<Record<TcpState, number[]>>;
    }>;
  };
  pileUps: Array<Omit<PileUp, 'peakAt' | 'longest'> & { peakAt: string; longest: string; stillOpen: boolean }>;
  findings: FindingGroup[];
  ladders: Ladder[];
  sql: Record<'timeline' | 'pileUps' | 'findings' | 'ladders', string>;
  notes: string[];
}

type Fact = [label: string, value: string];

interface FindingGroup {
  severity: string;
  kind: string;
  count: number;
  meaning: string;
  remedy: string;
  /** `ladders`: the flows it names that the page draws. */
  instances: Array<{ message: string; at: string; flow: number | null; frame: number | null; ladders: number[] }>;
}

export interface Ladder {
  id: number;
  title: string;
  lines: string[];
  /** Drawn rows: a segment, or a gap standing for the segments left out. */
  rows: Array<LadderRow | { gap: number }>;
  /** State changes after the last segment (timers), in words. */
  after: string[];
  findings: string[];
}

type LadderRow = Pick<
  LadderStep,
  'frame' | 'fromClient' | 'flags' | 'relativeSeq' | 'relativeAck' | 'length' | 'clientState' | 'serverState' | 'retransmission'
> & {
  at: string;
  /** The state each side entered with this segment, if it changed, and whether that was inferred. */
  clientEnters: string | null;
  serverEnters: string | null;
  clientInferred: boolean;
  serverInferred: boolean;
};

/** The flows a report draws as ladders: those asked for, then those the findings name, worst first, each kind in turn. */
export function ladderFlowsOf(reader: DatabaseReader, asked: readonly number[]): number[] {
  const chosen = new Set(asked);
  const byKind = new Map<string, number[]>();
  for (const row of reader.findingsBySeverity()) {
    const named = namedFlows(reader, row.id, row.flow_id, row.details);
    const list = byKind.get(row.kind) ?? [];
    byKind.set(row.kind, list);
    for (const id of named) if (list.length < MAX_LADDERS) list.push(id);
  }
  for (let turn = 0; chosen.size < MAX_LADDERS + asked.length; turn++) {
    const round = [...byKind.values()].map((list) => list[turn]).filter((id) => id !== undefined);
    if (round.length === 0) break;
    for (const id of round) if (chosen.size < MAX_LADDERS + asked.length) chosen.add(id);
  }
  return [...chosen];
}

/**
 * Everything the page shows, from the database and the segments of the ladder
 * flows (or why the captures could not be read again), being read while the
 * stored intervals are walked. One walk feeds both the timeline and the pile-ups.
 */
export async function reportData(
  reader: DatabaseReader,
  input: string,
  ladderFlows: readonly number[],
  segmentsRead: Promise<Map<number, SegmentSeen[]> | string>,
): Promise<ReportData> {
  const { first_ns: firstNs, last_ns: lastNs } = reader.span();
  const first = firstNs ?? 0n;
  const last = lastNs ?? first;
  const stepNs = niceStep(last - first, TIMELINE_POINTS);
  const instantsNs = timelineInstants(first, last, stepNs);
  const groups = timelineGroups(reader);
  const flows = loadFlows(reader, last);
  const timeline = new TimelineCounter(flows, instantsNs, groups);
  const pileUps = new PileUpCounter(flows, Number(last - first));
  const both: StateIntervalVisitor = {
    endpoint: (flow, server, from, until, state, inferred) => {
      timeline.endpoint(flow, server, from, until, state, inferred);
      pileUps.endpoint(flow, server, from, until, state);
    },
    listener: (...args) => timeline.listener(...args),
  };
  walkStateIntervals(reader, flows, last, both);
  const counted = timeline.result(stepNs);
  const states = statesPresent(counted, true);
  const offsets = instantsNs.map((t) => Number(t - first) / 1e9);

  // The segments are read meanwhile (on another thread where it is built): awaited only now.
  const segments = await segmentsRead.catch((error: Error) => error.message);
  const notes: string[] = [];
  if (typeof segments === 'string') notes.push(`Ladders show the stored transitions only, not every segment: ${segments}.`);
  const ladders = ladderFlows.flatMap((id) => {
    const flow = reader.flow(id);
    return flow === undefined ? [] : [ladderOf(reader, flow, typeof segments === 'string' ? undefined : (segments.get(id) ?? []))];
  });
  const drawn = new Set(ladders.map((l) => l.id));

  const captures = reader.captures();
  const counts = reader.rowCounts();
  return {
    title: captures.length === 1 ? (captures[0].path.split('/').pop() ?? 'capture') : `${captures.length} captures`,
    facts: [
      ['span', firstNs === null ? 'no packets' : `${formatTimestamp(first)} … ${formatTimestamp(last)} (${formatDuration(last - first)})`],
      ['packets', formatCount(captures.reduce((n, c) => n + c.packets, 0))],
      ['TCP segments', formatCount(captures.reduce((n, c) => n + c.tcp_packets, 0))],
      ['flows', formatCount(counts.flows)],
      ['state changes', formatCount(counts.transitions)],
      ['findings', formatCount(counts.findings)],
      ['TIME_WAIT lasts', `${reader.meta('time_wait_seconds') ?? '60'} s (2×MSL, as analysed)`],
      ['from', input],
    ],
    captures: captures.map((c) => ({
      file: c.path,
      format: c.format,
      'link types': c.link_types
        .split(',')
        .filter((t) => t !== '')
        .map((t) => `${t} ${linkTypeName(Number(t))}`)
        .join(', '),
      packets: c.packets,
      'TCP segments': c.tcp_packets,
      first: c.first_ns === null ? '' : formatTimestamp(c.first_ns),
      last: c.last_ns === null ? '' : formatTimestamp(c.last_ns),
      warnings: c.warnings ?? '',
    })),
    timeline: {
      empty: firstNs === null,
      firstIso: formatTimestamp(first),
      offsets,
      iso: instantsNs.map(formatTimestamp),
      states,
      groups: counted.groups.map((g, i) => ({
        label: g.label,
        kind: groups[i].host === undefined ? 'all' : groups[i].port === undefined ? 'host' : 'host:port',
        counts: Object.fromEntries(
          states
            .map((s) => [s, g.counts.map((row) => row[STATE_INDEX.get(s) as number])])
            .filter(([, c]) => (c as number[]).some((n) => n > 0)),
        ) as Partial<Record<TcpState, number[]>>,
        inferred: Object.fromEntries(
          states
            .map((s) => [s, g.inferred.map((row) => row[STATE_INDEX.get(s) as number])])
            .filter(([, c]) => (c as number[]).some((n) => n > 0)),
        ) as Partial<Record<TcpState, number[]>>,
      })),
    },
    pileUps: pileUps
      .result(
        instantsNs.map((t) => Number(t - first)),
        TOP_PILE_UPS,
      )
      .map((p) => ({
        ...p,
        peakAt: formatOffset(BigInt(Math.round(p.peakAt))),
        longest: formatDuration(p.longest),
        stillOpen: p.atEnd > 0,
      })),
    findings: findingGroups(reader, drawn, first),
    ladders,
    sql: {
      timeline: `-- the stored transitions, read once in key order (no sort), each endpoint's states as intervals:\n${FLOWS_SQL};\n${TRANSITIONS_SQL};\n-- the counts at one instant are \`flowstate netstat --at T --summary\`; per instant: \`flowstate timeline\``,
      pileUps: `-- the same intervals, for TIME_WAIT and CLOSE_WAIT; each stay as SQL:\nSELECT flow_id, endpoint, to_state, ts_ns AS entered,\n  LEAD(ts_ns) OVER (PARTITION BY flow_id, endpoint ORDER BY ts_ns, id) AS left_at\nFROM transitions WHERE to_state IN ('TIME_WAIT', 'CLOSE_WAIT')`,
      findings: `SELECT severity, kind, COUNT(*) FROM findings GROUP BY 1, 2 ORDER BY ${SEVERITY_ORDER};\nSELECT * FROM findings WHERE kind = ? ORDER BY ts_ns LIMIT ${INSTANCES_SHOWN}`,
      ladders: 'SELECT * FROM transitions WHERE flow_id = ? ORDER BY ts_ns, id;\n-- segments: the capture read again (`flowstate flow ID`)',
    },
    notes,
  };
}

/** Everyone, then the busiest hosts and host:ports by endpoints seen. */
function timelineGroups(reader: DatabaseReader): TimelineGroup[] {
  const hosts = reader.db
    .prepare(
      `SELECT ip, SUM(n) AS n FROM (SELECT client_ip AS ip, COUNT(*) AS n FROM flows GROUP BY 1 UNION ALL SELECT server_ip, COUNT(*) FROM flows GROUP BY 1)
       GROUP BY ip ORDER BY n DESC, ip LIMIT ${TOP_GROUPS}`,
    )
    .all() as Array<{ ip: string }>;
  const services = reader.db
    .prepare(
      `SELECT server_ip AS ip, server_port AS port, COUNT(*) AS n FROM flows GROUP BY 1, 2 ORDER BY n DESC, ip, port LIMIT ${TOP_GROUPS}`,
    )
    .all() as Array<{ ip: string; port: number }>;
  return [
    { label: 'all endpoints' },
    ...hosts.map((h) => ({ label: `host ${h.ip}`, host: h.ip })),
    ...services.map((s) => ({ label: `host:port ${formatEndpoint(s.ip, s.port)}`, host: s.ip, port: s.port })),
  ];
}

function findingGroups(reader: DatabaseReader, drawn: ReadonlySet<number>, first: bigint): FindingGroup[] {
  return reader.findingCounts().map(({ kind, severity, count }) => {
    const definition = FINDINGS[kind as FindingKind] as (typeof FINDINGS)[FindingKind] | undefined;
    // Read through the reader: each row checked (a time that is not an integer is named, not mixed with a bigint).
    const instances = reader.findingsOf(kind, severity, INSTANCES_SHOWN);
    return {
      severity,
      kind,
      count,
      meaning: definition?.meaning ?? '',
      remedy: definition?.remedy ?? '',
      instances: instances.map((f) => {
        const flow = f.flow_id === null ? null : Number(f.flow_id);
        return {
          message: String(f.message),
          at: formatOffset(f.ts_ns - first),
          flow,
          frame: f.frame === null ? null : Number(f.frame),
          ladders: namedFlows(reader, f.id, flow, f.details).filter((id) => drawn.has(id)),
        };
      }),
    };
  });
}

/** The flows a finding names: its own, or an aggregate's `details.flows` (details that are not flowstate's JSON are named, in one line). */
function namedFlows(reader: DatabaseReader, findingId: number, flow: number | null, details: unknown): number[] {
  return flow !== null ? [flow] : (findingDetails(reader.path, findingId, details).flows ?? []);
}

function ladderOf(reader: DatabaseReader, flow: FlowRow, segments: readonly SegmentSeen[] | undefined): Ladder {
  const transitions = reader.transitionsOf(flow.id);
  const findings = reader.findings('flow_id = ?', flow.id);
  const steps = ladderSteps(segments ?? [], transitions);
  const client = formatEndpoint(flow.client_ip, flow.client_port);
  const server = formatEndpoint(flow.server_ip, flow.server_port);
  const lastStep = steps[steps.length - 1];
  const afterLastStep = transitions.filter(
    (t) => lastStep === undefined || t.ts_ns > lastStep.tsNs || (t.ts_ns === lastStep.tsNs && t.frame === null),
  );
  return {
    id: flow.id,
    title: `flow ${flow.id}: ${client} → ${server}`,
    lines: [
      `${formatTimestamp(flow.first_ns)} … ${formatTimestamp(flow.last_ns)} (${formatDuration(flow.last_ns - flow.first_ns)})`,
      `client ends ${flow.client_state}${flow.client_state_inferred ? ' (inferred)' : ''}, server ends ${flow.server_state}${flow.server_state_inferred ? ' (inferred)' : ''}` +
        (flow.conn_state ? `; Zeek conn_state ${flow.conn_state}, history ${flow.history}` : ''),
      ...(flow.tunnel === null
        ? []
        : [`inside a ${flow.tunnel} tunnel between ${flow.tunnel_endpoints}${flow.tunnel_id !== null ? `, id ${flow.tunnel_id}` : ''}`]),
    ],
    rows: ladderRows(steps, transitions, flow.first_ns),
    // Without the capture there are no segments: every transition is "after" them.
    after: transitionsInWords(segments === undefined ? transitions : afterLastStep, flow.first_ns),
    findings: findings.map((f) => `${f.severity} ${f.kind}${f.frame !== null ? ` (frame ${f.frame})` : ''}: ${f.message}`),
  };
}

function transitionsInWords(transitions: readonly TransitionRow[], first: bigint): string[] {
  return transitions.map(
    (t) => `${formatOffset(t.ts_ns - first)} ${t.endpoint} ${t.from_state} → ${t.to_state} (${t.cause}${t.inferred ? ', inferred' : ''})`,
  );
}

/** The drawn rows: segments where a state changes always, others only near the start and the end. */
function ladderRows(steps: readonly LadderStep[], transitions: readonly TransitionRow[], first: bigint): Ladder['rows'] {
  const initial = (role: 'client' | 'server'): string | undefined => transitions.find((t) => t.endpoint === role)?.from_state;
  let client = initial('client');
  let server = initial('server');
  const rows: Ladder['rows'] = [];
  let skipped = 0;
  steps.forEach((s, i) => {
    const clientEnters = s.clientState !== client ? s.clientState : null;
    const serverEnters = s.serverState !== server ? s.serverState : null;
    client = s.clientState;
    server = s.serverState;
    if (clientEnters === null && serverEnters === null && i >= LADDER_HEAD && i < steps.length - LADDER_TAIL) {
      skipped++;
      return;
    }
    if (skipped > 0) rows.push({ gap: skipped });
    skipped = 0;
    rows.push({
      at: formatOffset(s.tsNs - first),
      frame: s.frame,
      fromClient: s.fromClient,
      flags: s.flags,
      relativeSeq: s.relativeSeq,
      relativeAck: s.relativeAck,
      length: s.length,
      clientState: s.clientState,
      serverState: s.serverState,
      retransmission: s.retransmission,
      clientEnters,
      serverEnters,
      clientInferred: s.clientInferred,
      serverInferred: s.serverInferred,
    });
  });
  return rows;
}

const require = createRequire(import.meta.url);
const asset = (path: string): string => readFileSync(new URL(`../../assets/${path}`, import.meta.url), 'utf8');
/** A package's browser bundle (its `umd` export, which node's own resolution does not pick), beside its `src/index.js`. */
const bundle = (name: string, file: string): string => readFileSync(join(dirname(require.resolve(name)), '..', file), 'utf8');

/** A CSP source allowing the inline script or style whose text is `text`, exactly. */
const hashSource = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The class Plot gives its charts (its default, which Plot changes whenever it changes the styles below,
 * so that two versions on one page do not clash): the page's script passes no `className`.
 */
const PLOT_CLASS = 'plot-d6a7b5';
/**
 * The <style> elements Plot (v0.6.17) adds as it draws, verbatim for its default class: the text of
 * each is fixed, so the policy allows them by hash. One is in every chart's svg (src/plot.js); one is in
 * every swatch legend (src/legends/swatches.js, `columns` unset: the timeline's legend). If an upgrade
 * changes them, Chromium blocks them and the page tests fail, naming the hash it wanted.
 */
const PLOT_STYLES = [
  `:where(.${PLOT_CLASS}) {
  --plot-background: white;
  display: block;
  height: auto;
  height: intrinsic;
  max-width: 100%;
}
:where(.${PLOT_CLASS} text),
:where(.${PLOT_CLASS} tspan) {
  white-space: pre;
}`,
  `:where(.${PLOT_CLASS}-swatches) {
  font-family: system-ui, sans-serif;
  font-size: 10px;
  margin-bottom: 0.5em;
}
:where(.${PLOT_CLASS}-swatch > svg) {
  margin-right: 0.5em;
  overflow: visible;
}
:where(.${PLOT_CLASS}-swatches-wrap) {
  display: flex;
  align-items: center;
  min-height: 33px;
  flex-wrap: wrap;
}
:where(.${PLOT_CLASS}-swatches-wrap .${PLOT_CLASS}-swatch) {
  display: inline-flex;
  align-items: center;
  margin-right: 1em;
}`,
];

/**
 * The page: one file, every script and style inline, the data as JSON; it asks the network for nothing.
 * Its Content-Security-Policy runs only the three scripts written here and applies only the style
 * elements written here or by Plot, each by its hash, so nothing that found its way into the page's
 * text could run or restyle it. Style attributes are refused (`style-src-attr 'none'`): Plot and d3
 * style elements through the CSSOM (`element.style`), which the policy does not govern, and so does
 * the page's script.
 */
export function renderReport(data: ReportData): string {
  const d3 = bundle('d3', 'dist/d3.min.js');
  const plot = bundle('@observablehq/plot', 'dist/plot.umd.min.js');
  const page = asset('report-page.js');
  const css = asset('report.css');
  // JSON inside <script> must not close the tag early; as application/json it is data, never run.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const policy = [
    "default-src 'none'",
    `script-src ${[d3, plot, page].map(hashSource).join(' ')}`,
    `style-src ${[css, ...PLOT_STYLES].map(hashSource).join(' ')}`,
    "style-src-attr 'none'",
    'img-src data:',
  ].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
${PAGE_GENERATOR}
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<title>flowstate: ${escapeHtml(data.title)}</title>
<style>${css}</style>
</head>
<body>
<script id="report-data" type="application/json">${json}</script>
<script>${d3}</script>
<script>${plot}</script>
<script>${page}</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}
