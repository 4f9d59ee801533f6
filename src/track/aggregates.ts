import { type CaptureTime, NS_PER_SECOND as NS } from './capture-time.js';
import { type DetectorThresholds, DEFAULT_THRESHOLDS, FINDINGS, type FindingKind, secondsText } from './finding-catalogue.js';
import { type FindingRecord, Role, Severity } from './records.js';

type Details = FindingRecord['details'];
/** Flow ids listed in an aggregate finding's details, at most: the lowest, the first connections of the capture. */
const LISTED_FLOWS = 20;
/** Distinct source addresses an aggregate counts, at most: a spoofed SYN flood must not grow the set without end. */
const COUNTED_SOURCES = 100_000;
/**
 * Targets (host:port) one source may have a `refused` or `syn-unanswered` finding of its own
 * toward; its connections to further targets are added up in one finding per (kind, source):
 * a SYN scan of a million addresses is one finding with examples, not a million (and not a
 * million aggregates in memory). Far above what a real client refused or unanswered reaches.
 */
export const SCAN_TARGETS = 100;
/** Targets a scan finding lists as examples: its first ones. */
const LISTED_TARGETS = 20;
/** Windows' default TIME_WAIT (TcpTimedWaitDelay): what the pressure finding projects a server's pile-up to. */
const WINDOWS_TIME_WAIT_SECONDS = 240;

/** One host's (or host:port's) connections of one kind, summed; every field is independent of the order they came in. */
export interface Aggregate {
  host: string;
  /** The local port for a server; null for clients, whose ports are ephemeral: `remote` names what they talk to. */
  port: number | null;
  remote: string | null;
  count: number;
  longestNs: number;
  firstTime: CaptureTime;
  firstSource: number;
  firstFrame: number;
  lastTime: CaptureTime;
  lastSource: number;
  lastFrame: number;
  /** The lowest flow ids, ascending. */
  flows: number[];
  /** Distinct source addresses, at most COUNTED_SOURCES. */
  sources: Set<string>;
}

/** One source's connections of one kind to targets beyond its first SCAN_TARGETS, summed. */
export interface Scan {
  kind: ScanKind;
  source: string;
  count: number;
  firstTime: CaptureTime;
  firstSource: number;
  firstFrame: number;
  lastTime: CaptureTime;
  lastSource: number;
  lastFrame: number;
  /** The first targets (host:port), at most LISTED_TARGETS, in the order their connections ended. */
  targets: string[];
  /** The lowest flow ids, ascending. */
  flows: number[];
}

/** An aggregate as plain data (JSON). */
export type AggregatePart = Omit<Aggregate, 'sources'> & { sources: string[] };

/** One host's stays in TIME_WAIT on one side. */
export interface TimeWaitHolder {
  host: string;
  side: Role;
  since: CaptureTime[];
  until: CaptureTime[];
  /** The lowest flow ids, ascending. */
  flows: number[];
}

/** Where a contribution starts: the visit's time and frame. */
export interface Moment {
  since: CaptureTime;
  source: number;
  frame: number;
}

/**
 * What the per-host findings are made of, kept apart from how it was gathered, so
 * that shards of one capture (`analyze --shard`), each holding part of every host's
 * connections, can be added up (`merge`) to exactly what one run gathers.
 */
export interface AggregateParts {
  closeWait: AggregatePart[];
  refused: AggregatePart[];
  halfOpen: AggregatePart[];
  unanswered: AggregatePart[];
  timeWait: TimeWaitHolder[];
  /** Connections beyond each source's first SCAN_TARGETS targets; absent in shards of older versions. */
  scans?: Scan[];
}

type AggregateKind = Exclude<keyof AggregateParts, 'timeWait' | 'scans'>;
/** The kinds a scan multiplies: one finding per target. */
type ScanKind = 'refused' | 'unanswered';
const AGGREGATE_KINDS: readonly AggregateKind[] = ['closeWait', 'refused', 'halfOpen', 'unanswered'];
/** Every list AggregateParts holds. */
export const AGGREGATE_PART_NAMES: ReadonlyArray<keyof AggregateParts> = [...AGGREGATE_KINDS, 'timeWait'];

const scanKey = (kind: ScanKind, source: string): string => `${kind}|${source}`;

const keyOf = (host: string, port: number | null, remote: string | null): string => `${host}|${port}|${remote}`;

/** True when moment a comes before moment b (time, then capture file, then frame). */
function before(aTime: number, aSource: number, aFrame: number, bTime: number, bSource: number, bFrame: number): boolean {
  return aTime !== bTime ? aTime < bTime : aSource !== bSource ? aSource < bSource : aFrame < bFrame;
}

/** Adds `id` to an ascending list of at most LISTED_FLOWS ids, keeping the lowest. */
function listFlow(flows: number[], id: number): void {
  if (flows.length === LISTED_FLOWS && id >= flows[LISTED_FLOWS - 1]) return;
  let at = flows.length;
  while (at > 0 && flows[at - 1] > id) at--;
  if (flows[at - 1] === id) return;
  flows.splice(at, 0, id);
  if (flows.length > LISTED_FLOWS) flows.pop();
}

/** The per-host findings' inputs, gathered flow by flow, and the findings made of them once every flow is in. */
export class Aggregates {
  private readonly maps: Record<AggregateKind, Map<string, Aggregate>> = {
    closeWait: new Map(),
    refused: new Map(),
    halfOpen: new Map(),
    unanswered: new Map(),
  };
  /** In the order first seen; found by host for each side (a "host|side" key cost a string a connection). */
  private readonly timeWait: TimeWaitHolder[] = [];
  private readonly timeWaitHolders = { client: new Map<string, TimeWaitHolder>(), server: new Map<string, TimeWaitHolder>() };
  /** Targets each source has an aggregate of its own toward, per scan kind ("kind|source" → count). */
  private readonly targetsOfSource = new Map<string, number>();
  /** In the order first seen, by "kind|source". */
  private readonly scans = new Map<string, Scan>();

  add(
    kind: AggregateKind,
    host: string,
    port: number | null,
    remote: string | null,
    flowId: number,
    at: Moment,
    duration: number,
    source: string,
  ): void {
    const map = this.maps[kind];
    const key = keyOf(host, port, remote);
    let a = map.get(key);
    if (!a && (kind === 'refused' || kind === 'unanswered')) {
      const counted = scanKey(kind, source);
      const targets = this.targetsOfSource.get(counted) ?? 0;
      if (targets >= SCAN_TARGETS) {
        this.addScan(kind, source, `${host}:${port}`, flowId, at);
        return;
      }
      this.targetsOfSource.set(counted, targets + 1);
    }
    if (!a) {
      a = {
        host,
        port,
        remote,
        count: 0,
        longestNs: 0,
        firstTime: at.since,
        firstSource: at.source,
        firstFrame: at.frame,
        lastTime: at.since,
        lastSource: at.source,
        lastFrame: at.frame,
        flows: [],
        sources: new Set(),
      };
      map.set(key, a);
    }
    a.count++;
    a.longestNs = Math.max(a.longestNs, duration);
    this.widen(a, at.since, at.source, at.frame, at.since, at.source, at.frame);
    listFlow(a.flows, flowId);
    countSource(a, source);
  }

  private addScan(kind: ScanKind, source: string, target: string, flowId: number, at: Moment): void {
    const key = scanKey(kind, source);
    let scan = this.scans.get(key);
    if (!scan) {
      scan = {
        kind,
        source,
        count: 0,
        firstTime: at.since,
        firstSource: at.source,
        firstFrame: at.frame,
        lastTime: at.since,
        lastSource: at.source,
        lastFrame: at.frame,
        targets: [],
        flows: [],
      };
      this.scans.set(key, scan);
    }
    this.absorbScan(scan, { count: 1, targets: [target], flows: [flowId], ...moments(at) });
  }

  private absorbScan(scan: Scan, part: Omit<Scan, 'kind' | 'source'>): void {
    scan.count += part.count;
    this.widen(scan, part.firstTime, part.firstSource, part.firstFrame, part.lastTime, part.lastSource, part.lastFrame);
    for (const target of part.targets) if (scan.targets.length < LISTED_TARGETS) scan.targets.push(target);
    for (const id of part.flows) listFlow(scan.flows, id);
  }

  addTimeWait(host: string, side: Role, flowId: number, since: CaptureTime, until: CaptureTime): void {
    const holder = this.holder(host, side);
    holder.since.push(since);
    holder.until.push(until);
    listFlow(holder.flows, flowId);
  }

  /** What has been gathered, as plain data (JSON), flow ids as they are. */
  parts(): AggregateParts {
    const listed = (kind: AggregateKind): AggregatePart[] => [...this.maps[kind].values()].map((a) => ({ ...a, sources: [...a.sources] }));
    return {
      closeWait: listed('closeWait'),
      refused: listed('refused'),
      halfOpen: listed('halfOpen'),
      unanswered: listed('unanswered'),
      timeWait: this.timeWait,
      scans: [...this.scans.values()],
    };
  }

  /** Adds another gatherer's parts (a shard's), its flow ids renamed by `flowId`. */
  absorb(parts: AggregateParts, flowId: (id: number) => number): void {
    for (const kind of AGGREGATE_KINDS) {
      const map = this.maps[kind];
      for (const part of parts[kind]) {
        const key = keyOf(part.host, part.port, part.remote);
        const flows = part.flows.map(flowId);
        let a = map.get(key);
        if (!a) {
          a = { ...part, flows: [], sources: new Set() };
          map.set(key, a);
        } else {
          a.count += part.count;
          a.longestNs = Math.max(a.longestNs, part.longestNs);
          this.widen(a, part.firstTime, part.firstSource, part.firstFrame, part.lastTime, part.lastSource, part.lastFrame);
        }
        for (const id of flows) listFlow(a.flows, id);
        for (const source of part.sources) countSource(a, source);
      }
    }
    for (const part of parts.scans ?? []) {
      const key = scanKey(part.kind, part.source);
      const scan = this.scans.get(key);
      const flows = part.flows.map(flowId);
      if (!scan) this.scans.set(key, { ...part, targets: [...part.targets], flows });
      else this.absorbScan(scan, { ...part, flows });
    }
    for (const part of parts.timeWait) {
      const holder = this.holder(part.host, part.side);
      for (let i = 0; i < part.since.length; i++) {
        holder.since.push(part.since[i]);
        holder.until.push(part.until[i]);
      }
      for (const id of part.flows) listFlow(holder.flows, flowId(id));
    }
  }

  /**
   * The per-host findings, once every flow has been handed on. `span` is the
   * capture's duration in ns; `epochNs` turns a capture time into a record's.
   */
  finish(
    span: number,
    thresholds: DetectorThresholds,
    timeWaitNs: number,
    epochNs: (time: CaptureTime) => bigint,
    emit: (record: FindingRecord) => void,
  ): void {
    const finding = (kind: FindingKind, a: Aggregate, message: string, details: Details): void =>
      emit({
        kind,
        severity: FINDINGS[kind].severity,
        flowId: a.count === 1 ? a.flows[0] : null,
        endpoint: null,
        host: a.host,
        port: a.port,
        tsNs: epochNs(a.firstTime),
        source: a.firstSource,
        frame: a.firstFrame || null,
        message,
        details: {
          count: a.count,
          first_frame: a.firstFrame,
          last_frame: a.lastFrame,
          until_ns: String(epochNs(a.lastTime)),
          flows: a.flows,
          ...details,
          remedy: FINDINGS[kind].remedy,
        },
      });
    for (const a of this.maps.closeWait.values()) {
      const where = a.port !== null ? `on ${a.host}:${a.port}` : `from ${a.host} to ${a.remote}`;
      const who = a.port !== null ? 'the server application there' : `the client application on ${a.host}`;
      finding(
        'close-wait-leak',
        a,
        `${a.count} connection${a.count === 1 ? '' : 's'} ${where} sat in CLOSE_WAIT (longest ${secondsText(a.longestNs)}): ${who} does not close after the peer does`,
        { longest_ns: a.longestNs, threshold_s: thresholds.closeWaitSeconds, remote: a.remote },
      );
    }
    for (const a of this.maps.refused.values()) {
      finding('refused', a, `${a.count} connection${a.count === 1 ? '' : 's'} to ${a.host}:${a.port} refused (SYN answered by RST+ACK)`, {
        sources: a.sources.size,
      });
    }
    const flooded = new Set<string>();
    for (const [key, a] of this.maps.halfOpen) {
      const unanswered = this.maps.unanswered.get(key)?.count ?? 0;
      if (a.count + unanswered < thresholds.halfOpenCount) continue;
      flooded.add(key);
      const rate = span > 0 ? (a.count + unanswered) / (span / NS) : 0;
      const sources = a.sources.size;
      finding(
        'half-open-flood',
        a,
        `${a.count} handshakes to ${a.host}:${a.port} stayed half-open (SYN_RECV)${unanswered > 0 ? ` and ${unanswered} SYNs got no answer` : ''}, from ${sources} source address${sources === 1 ? '' : 'es'} (${rate.toFixed(1)}/s)`,
        { syn_recv: a.count, unanswered, sources, per_second: Number(rate.toFixed(3)) },
      );
    }
    for (const [key, a] of this.maps.unanswered) {
      if (flooded.has(key)) continue;
      const sources = a.sources.size;
      if (a.count >= thresholds.halfOpenCount && sources > 1) {
        flooded.add(key);
        finding('half-open-flood', a, `${a.count} SYNs to ${a.host}:${a.port} got no answer, from ${sources} source addresses`, {
          syn_recv: 0,
          unanswered: a.count,
          sources,
        });
        continue;
      }
      finding(
        'syn-unanswered',
        a,
        `${a.count} SYN${a.count === 1 ? '' : 's'} to ${a.host}:${a.port} got no answer in the capture (nothing listening and no RST, filtered, or the answer lost)`,
        {},
      );
    }
    for (const scan of this.scans.values()) emit(scanFinding(scan, epochNs));
    // Shards written before --time-wait-threshold existed carry no timeWaitCount.
    const warnAt = thresholds.timeWaitCount ?? DEFAULT_THRESHOLDS.timeWaitCount;
    for (const holder of this.timeWait) emit(timeWaitPressure(holder, span, timeWaitNs, warnAt, epochNs));
  }

  private holder(host: string, side: Role): TimeWaitHolder {
    const holders = this.timeWaitHolders[side];
    let holder = holders.get(host);
    if (!holder) {
      holder = { host, side, since: [], until: [], flows: [] };
      holders.set(host, holder);
      this.timeWait.push(holder);
    }
    return holder;
  }

  /** Stretches `a` to begin no later than the first moment and end no earlier than the last. */
  private widen(
    a: Pick<Aggregate, 'firstTime' | 'firstSource' | 'firstFrame' | 'lastTime' | 'lastSource' | 'lastFrame'>,
    firstTime: CaptureTime,
    firstSource: number,
    firstFrame: number,
    lastTime: CaptureTime,
    lastSource: number,
    lastFrame: number,
  ): void {
    if (before(firstTime, firstSource, firstFrame, a.firstTime, a.firstSource, a.firstFrame)) {
      a.firstTime = firstTime;
      a.firstSource = firstSource;
      a.firstFrame = firstFrame;
    }
    if (before(a.lastTime, a.lastSource, a.lastFrame, lastTime, lastSource, lastFrame)) {
      a.lastTime = lastTime;
      a.lastSource = lastSource;
      a.lastFrame = lastFrame;
    }
  }
}

/** A moment as both ends of a one-connection part. */
function moments(at: Moment): Pick<Scan, 'firstTime' | 'firstSource' | 'firstFrame' | 'lastTime' | 'lastSource' | 'lastFrame'> {
  return {
    firstTime: at.since,
    firstSource: at.source,
    firstFrame: at.frame,
    lastTime: at.since,
    lastSource: at.source,
    lastFrame: at.frame,
  };
}

/** One source's connections to targets beyond its first SCAN_TARGETS, as one finding of their kind, named by the source. */
function scanFinding(scan: Scan, epochNs: (time: CaptureTime) => bigint): FindingRecord {
  const kind: FindingKind = scan.kind === 'refused' ? 'refused' : 'syn-unanswered';
  const what = scan.kind === 'refused' ? 'refused (SYN answered by RST+ACK)' : 'got no answer in the capture';
  const plural = scan.count === 1 ? '' : 's';
  return {
    kind,
    severity: FINDINGS[kind].severity,
    flowId: scan.count === 1 ? scan.flows[0] : null,
    endpoint: Role.client,
    host: scan.source,
    port: null,
    tsNs: epochNs(scan.firstTime),
    source: scan.firstSource,
    frame: scan.firstFrame || null,
    message: `${scan.count} more connection${plural} from ${scan.source} ${what}, to targets beyond the first ${SCAN_TARGETS} (each of those has a finding of its own): a scan, or a client trying many addresses; e.g. ${scan.targets.slice(0, 3).join(', ')}`,
    details: {
      count: scan.count,
      first_frame: scan.firstFrame,
      last_frame: scan.lastFrame,
      until_ns: String(epochNs(scan.lastTime)),
      flows: scan.flows,
      targets: scan.targets,
      aggregated_by: 'source',
      per_target_findings: SCAN_TARGETS,
      remedy: FINDINGS[kind].remedy,
    },
  };
}

function countSource(a: Aggregate, source: string): void {
  if (a.sources.size < COUNTED_SOURCES) a.sources.add(source);
}

function timeWaitPressure(
  holder: TimeWaitHolder,
  span: number,
  timeWaitNs: number,
  warnAt: number,
  epochNs: (time: CaptureTime) => bigint,
): FindingRecord {
  // Starts and ends sorted apart and walked together, an end before a start at the same
  // time: two typed arrays, not an array per event, which held far more memory on big captures.
  const starts = Float64Array.from(holder.since).sort();
  const ends = Float64Array.from(holder.until).sort();
  let current = 0;
  let peak = 0;
  let peakTime = (starts[0] ?? 0) as CaptureTime;
  for (let s = 0, e = 0; s < starts.length;) {
    if (ends[e] <= starts[s]) {
      current--;
      e++;
      continue;
    }
    if (++current > peak) {
      peak = current;
      peakTime = starts[s] as CaptureTime;
    }
    s++;
  }
  const count = holder.since.length;
  const perSecond = span > 0 ? count / (span / NS) : 0;
  const serverSide = holder.side === Role.server;
  const mslNote = `TIME_WAIT lasts ${timeWaitNs / NS} s here`;
  const projected = Math.round(perSecond * WINDOWS_TIME_WAIT_SECONDS);
  const message = serverSide
    ? `${holder.host} closes first as a server: it went into TIME_WAIT ${count} time${count === 1 ? '' : 's'} (${perSecond.toFixed(1)}/s), up to ${peak} at once (${mslNote}); at this rate Windows' ${WINDOWS_TIME_WAIT_SECONDS} s would hold ${projected}`
    : `${holder.host} (client side) went into TIME_WAIT ${count} time${count === 1 ? '' : 's'} (${perSecond.toFixed(1)}/s), up to ${peak} at once (${mslNote})`;
  return {
    kind: 'time-wait-pressure',
    // Info by default (the catalogue); a warning only when a server that closes first holds
    // --time-wait-threshold of them at once: one server-side close is no pressure.
    severity: serverSide && peak >= warnAt ? Severity.warning : FINDINGS['time-wait-pressure'].severity,
    flowId: null,
    endpoint: holder.side,
    host: holder.host,
    port: null,
    tsNs: epochNs(peakTime),
    source: 0,
    frame: null,
    message,
    details: {
      side: holder.side,
      count,
      peak,
      per_second: Number(perSecond.toFixed(3)),
      time_wait_s: timeWaitNs / NS,
      projected_peak_240s: projected,
      flows: holder.flows,
      remedy: FINDINGS['time-wait-pressure'].remedy,
    },
  };
}
