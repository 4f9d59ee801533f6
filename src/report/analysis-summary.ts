import { DecodeIssue } from '../decode/decode-stats.js';
import { linkTypeName } from '../decode/link-types.js';
import type { DatabaseReader } from '../store/database-reader.js';
import type { CaptureAnalysis } from '../track/capture-analysis.js';
import { formatCount, formatDuration } from './format-time.js';

/** The decode issue that skips nothing: its frames are tracked at a borrowed time. */
const RETIMED = DecodeIssue.timestampOutOfRange;

/** What `flowstate analyze` reports; also its `--json` output (docs/cli.md). */
export interface AnalysisSummary {
  database: string;
  captures: Array<{
    path: string;
    format: string;
    packets: number;
    tcp_packets: number;
    first_ns: bigint | null;
    last_ns: bigint | null;
    warnings: string[];
  }>;
  packets: number;
  tcp_segments: number;
  flows: number;
  midstream_flows: number;
  evicted_half_open: number;
  /** Connections the memory budget (`--memory`) evicted: written as they stood, marked evicted. */
  evicted_connections: number;
  /** TCP checksums checked (segments captured whole), how many were bad, and how many of those were dropped (`--checksums drop`). */
  checksums: { verified: number; bad: number; dropped: number };
  /** IP fragments of TCP datagrams and what became of them: put back together, or lost and why (Linux's rules). */
  ip_fragments: {
    fragments: number;
    reassembled: number;
    duplicates: number;
    overlapping: number;
    incomplete: number;
    over_memory: number;
    too_long: number;
    cut: number;
  };
  decode_issues: Record<string, number>;
  unsupported_link_types: Record<string, number>;
  end_states: { client: Record<string, number>; server: Record<string, number> };
  findings: {
    total: number;
    by_kind: Array<{ kind: string; severity: string; count: number }>;
    top: Array<{ kind: string; severity: string; message: string; flow_id: number | null; frame: number | null }>;
  };
  elapsed_seconds: number;
  packets_per_second: number;
  /** Set when a capture could not be read to its end: what, where. */
  incomplete: string | null;
  /** `K/N` for a run of `analyze --shard K/N`; null for a whole run. */
  shard: string | null;
  /** Threads the job ran on (`--threads`, at most 2). */
  threads: number;
}

const states = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([state, count]) => `${state} ${formatCount(count)}`)
    .join(', ') || 'none';

/** The human summary printed at the end of `flowstate analyze`. */
export function formatAnalysisSummary(s: AnalysisSummary, paint: (severity: string, text: string) => string = (_s, t) => t): string {
  const span = s.captures.reduce<{ first: bigint | null; last: bigint | null }>(
    (acc, c) => ({
      first: c.first_ns !== null && (acc.first === null || c.first_ns < acc.first) ? c.first_ns : acc.first,
      last: c.last_ns !== null && (acc.last === null || c.last_ns > acc.last) ? c.last_ns : acc.last,
    }),
    { first: null, last: null },
  );
  const lines: string[] = [];
  const files = s.captures.length === 1 ? s.captures[0].path : `${s.captures.length} files`;
  lines.push(`${files} → ${s.database}`);
  lines.push(
    `  packets      ${formatCount(s.packets)} (${formatCount(s.tcp_segments)} TCP segments)` +
      (span.first !== null && span.last !== null ? `, ${formatDuration(span.last - span.first)} of traffic` : ''),
  );
  lines.push(
    `  connections  ${formatCount(s.flows)}` +
      (s.midstream_flows > 0 ? ` (${formatCount(s.midstream_flows)} picked up midstream)` : '') +
      (s.evicted_half_open > 0 ? `, ${formatCount(s.evicted_half_open)} half-open evicted` : ''),
  );
  if (s.evicted_connections > 0)
    lines.push(
      paint(
        'warning',
        `  evicted      ${formatCount(s.evicted_connections)} connections past the memory budget (--memory), written as they stood (evicted_by = 'memory')`,
      ),
    );
  lines.push(`  end states   client: ${states(s.end_states.client)}`);
  lines.push(`               server: ${states(s.end_states.server)}`);
  const issues = Object.entries(s.decode_issues).filter(([k]) => k !== RETIMED);
  if (issues.length > 0) lines.push(`  skipped      ${issues.map(([k, v]) => `${formatCount(v)} ${k}`).join(', ')}`);
  const retimed = s.decode_issues[RETIMED];
  if (retimed > 0)
    lines.push(
      paint(
        'warning',
        `  warning      ${formatCount(retimed)} frames timed before 1970 or after 2262 were tracked at the time of the frame before them`,
      ),
    );
  if (s.checksums.bad > 0) {
    const { bad, verified, dropped } = s.checksums;
    const fate =
      dropped > 0
        ? 'dropped (--checksums drop)'
        : 'kept (a sending host captures its own segments before the NIC fills the checksum in); --checksums drop drops them';
    lines.push(`  checksums    ${formatCount(bad)} of ${formatCount(verified)} bad, ${fate}`);
  }
  const f = s.ip_fragments;
  if (f.fragments > 0) {
    const lost = (
      [
        [f.incomplete, 'incomplete'],
        [f.overlapping, 'discarded for overlapping'],
        [f.over_memory + f.too_long, 'over the 4 MiB or 64 KiB bound'],
        [f.cut, 'cut by the snap length'],
      ] as const
    ).filter(([n]) => n > 0);
    lines.push(
      `  fragments    ${formatCount(f.fragments)} IP fragments → ${formatCount(f.reassembled)} TCP segments put back together` +
        (lost.length > 0 ? `; lost: ${lost.map(([n, why]) => `${formatCount(n)} ${why}`).join(', ')}` : ''),
    );
  }
  const unsupported = Object.entries(s.unsupported_link_types);
  if (unsupported.length > 0) lines.push(`  not read     ${unsupported.map(([k, v]) => `${formatCount(v)} packets of ${k}`).join(', ')}`);
  for (const c of s.captures) for (const w of c.warnings) lines.push(paint('warning', `  warning      ${w}`));
  if (s.findings.total > 0) {
    lines.push(`  findings     ${s.findings.by_kind.map((k) => paint(k.severity, `${k.kind} ${formatCount(k.count)}`)).join(', ')}`);
    for (const f of s.findings.top)
      lines.push(
        paint(
          f.severity,
          `    ${f.severity.padEnd(7)} ${f.message}${f.flow_id !== null ? ` (flow ${f.flow_id}${f.frame !== null ? `, frame ${f.frame}` : ''})` : ''}`,
        ),
      );
  } else {
    lines.push('  findings     none');
  }
  if (s.incomplete) lines.push(paint('error', `  incomplete   ${s.incomplete}`));
  if (s.shard !== null)
    lines.push(`  shard        ${s.shard}: this shard's connections only; the per-host findings are made by flowstate merge`);
  const threads = s.threads === 1 ? '1 thread' : `${s.threads} threads`;
  lines.push(`  took         ${s.elapsed_seconds.toFixed(2)} s (${formatCount(Math.round(s.packets_per_second))} packets/s, ${threads})`);
  return lines.join('\n');
}

/** The findings the summary lists, worst first. */
const TOP_FINDINGS = 5;

/** The summary of a finished `analyze` run, from its database and what the run counted. */
export function analysisSummary(
  reader: DatabaseReader,
  analysis: CaptureAnalysis & { database: string; threads: number },
  elapsedSeconds: number,
): AnalysisSummary {
  const endStates: AnalysisSummary['end_states'] = { client: {}, server: {} };
  for (const { role, state, count } of reader.endStateCounts()) endStates[role][state] = count;
  const byKind = reader.findingCounts();
  const top = reader.topFindings(TOP_FINDINGS);
  const midstream = reader.midstreamFlows();
  return {
    database: analysis.database,
    captures: analysis.captures.map((c) => ({
      path: c.path,
      format: c.gzipped ? `${c.format}+gzip` : c.format,
      packets: c.packets,
      tcp_packets: c.tcpPackets,
      first_ns: c.firstNs,
      last_ns: c.lastNs,
      warnings: c.warnings,
      error: c.error,
    })),
    packets: analysis.decode.packets,
    tcp_segments: analysis.decode.tcpSegments,
    flows: analysis.tracker.flows,
    midstream_flows: midstream,
    evicted_half_open: analysis.tracker.evictedHalfOpen,
    evicted_connections: analysis.tracker.evictedConnections,
    checksums: {
      verified: analysis.tracker.verifiedChecksums,
      bad: analysis.tracker.badChecksums,
      dropped: analysis.tracker.droppedBadChecksums,
    },
    ip_fragments: {
      fragments: analysis.decode.fragments.fragments,
      reassembled: analysis.decode.fragments.reassembled,
      duplicates: analysis.decode.fragments.duplicates,
      overlapping: analysis.decode.fragments.overlapping,
      incomplete: analysis.decode.fragments.incomplete,
      over_memory: analysis.decode.fragments.overMemory,
      too_long: analysis.decode.fragments.tooLong,
      cut: analysis.decode.fragments.cut,
    },
    decode_issues: Object.fromEntries([...analysis.decode.issues].map(([k, v]) => [k, v.count])),
    unsupported_link_types: Object.fromEntries([...analysis.decode.unsupportedLinkTypes].map(([k, v]) => [linkTypeName(k), v])),
    end_states: endStates,
    findings: { total: byKind.reduce((n, k) => n + k.count, 0), by_kind: byKind, top },
    elapsed_seconds: elapsedSeconds,
    packets_per_second: analysis.decode.packets / Math.max(elapsedSeconds, 1e-9),
    incomplete: analysis.incomplete ?? null,
    shard: analysis.shard ? `${analysis.shard.index}/${analysis.shard.count}` : null,
    threads: analysis.threads,
  };
}
