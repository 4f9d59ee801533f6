import { loadFlows, walkStateIntervals, type StateIntervalVisitor, type StoredFlows } from '../store/state-intervals.js';
import type { DatabaseReader, ListenerRow } from '../store/database-reader.js';
import { ALL_STATES, STATE_INDEX, TcpState } from '../tcp/tcp-state.js';
import { UsageError } from '../errors.js';
import { formatCount, formatDuration } from './format-time.js';

/** Whose endpoints a timeline counts: those whose local address is `host` and/or whose local port is `port` (both absent: all). */
export interface TimelineGroup {
  label: string;
  host?: string;
  port?: number;
}

/** Endpoint counts per state at a row of instants, for one group. */
export interface GroupTimeline extends TimelineGroup {
  /** counts[i][s]: endpoints in ALL_STATES[s] at instant i. */
  counts: Int32Array[];
  /** inferred[i][s]: how many of counts[i][s] are in that state by inference, not seen (all 0 when observed only). */
  inferred: Int32Array[];
}

export interface StateTimeline {
  /** Epoch nanoseconds: the capture's first packet, every `everyNs` after it, and its last packet. */
  instantsNs: bigint[];
  everyNs: bigint;
  groups: GroupTimeline[];
}

const STATE_COUNT = ALL_STATES.length;
const LISTEN = STATE_INDEX.get(TcpState.LISTEN) as number;

/** 1, 2 or 5 times a power of ten nanoseconds: the smallest such step giving at most `rows` rows over `spanNs`. */
export function niceStep(spanNs: bigint, rows: number): bigint {
  const wanted = spanNs / BigInt(rows) + 1n;
  for (let decade = 1n; ; decade *= 10n) {
    for (const m of [1n, 2n, 5n]) if (m * decade >= wanted) return m * decade;
  }
}

/** The instants a timeline counts at: first, first + every, … while before last, then last. */
export function timelineInstants(firstNs: bigint, lastNs: bigint, everyNs: bigint): bigint[] {
  const instants: bigint[] = [];
  for (let t = firstNs; t < lastNs; t += everyNs) instants.push(t);
  instants.push(lastNs);
  return instants;
}

/**
 * Counts endpoints per state at each instant while the stored intervals are
 * walked (store/state-intervals.ts, the same walk as `netstat --at`): each
 * interval adds one at the first instant it holds and takes it back at the
 * first it no longer holds, and a running sum gives the counts. CLOSED is
 * counted too (`netstat --all` lists it); statesPresent leaves it out unless asked.
 * Each count says how many of it are inferred, as `netstat` marks them: the
 * interval's own mark, every listener, and at the last packet an evicted flow's
 * endpoints; `observedOnly` leaves the inferred ones out of the counts.
 */
export class TimelineCounter implements StateIntervalVisitor {
  private readonly instants: Float64Array;
  /** Per group, per instant, per state: the change in count at that instant. */
  private readonly deltas: Int32Array[];
  /** The same, for the inferred part of each count. */
  private readonly inferredDeltas: Int32Array[];
  private readonly everyone: number[] = [];
  private readonly byHost = new Map<string, number[]>();
  private readonly byPort = new Map<number, number[]>();
  private readonly byHostPort = new Map<string, number[]>();
  private matchesFlow = -1;
  private readonly matches: [number[], number[]] = [[], []];

  constructor(
    private readonly flows: StoredFlows,
    private readonly instantsNs: readonly bigint[],
    private readonly groups: readonly TimelineGroup[],
    private readonly observedOnly = false,
  ) {
    this.instants = Float64Array.from(instantsNs, (t) => Number(t - flows.origin));
    this.deltas = groups.map(() => new Int32Array((instantsNs.length + 1) * STATE_COUNT));
    this.inferredDeltas = groups.map(() => new Int32Array((instantsNs.length + 1) * STATE_COUNT));
    groups.forEach((group, index) => {
      const list =
        group.host !== undefined && group.port !== undefined
          ? listOf(this.byHostPort, `${group.host} ${group.port}`)
          : group.host !== undefined
            ? listOf(this.byHost, group.host)
            : group.port !== undefined
              ? listOf(this.byPort, group.port)
              : this.everyone;
      list.push(index);
    });
  }

  endpoint(flow: number, server: boolean, from: number, until: number, state: TcpState, inferred = false): void {
    const s = STATE_INDEX.get(state) as number;
    if (this.matchesFlow !== flow) this.match(flow);
    const groups = this.matches[server ? 1 : 0];
    // netstat marks an evicted flow's states inferred from the last packet on: the tracker stopped following it.
    const last = this.instants[this.instants.length - 1];
    if (!inferred && until === Infinity && this.flows.evicted[flow] && from < last) {
      this.add(groups, from, last, s, false);
      this.add(groups, last, until, s, true);
    } else this.add(groups, from, until, s, inferred || (this.flows.evicted[flow] && until === Infinity));
  }

  /** A listener is inferred (from its SYN-ACKs), as netstat marks it. */
  listener(row: ListenerRow, from: number): void {
    this.add(this.groupsOf(row.ip, row.port), from, Infinity, LISTEN, true);
  }

  result(everyNs: bigint): StateTimeline {
    const groups = this.groups.map((group, g): GroupTimeline => {
      const runningSum = (deltas: Int32Array): Int32Array[] => {
        const running = new Int32Array(STATE_COUNT);
        return this.instantsNs.map((_, i) => {
          for (let s = 0; s < STATE_COUNT; s++) running[s] += deltas[i * STATE_COUNT + s];
          return running.slice();
        });
      };
      return { ...group, counts: runningSum(this.deltas[g]), inferred: runningSum(this.inferredDeltas[g]) };
    });
    return { instantsNs: [...this.instantsNs], everyNs, groups };
  }

  private add(groups: readonly number[], from: number, until: number, s: number, inferred: boolean): void {
    if (groups.length === 0 || (inferred && this.observedOnly)) return;
    const start = firstAtOrAfter(this.instants, from);
    const end = firstAtOrAfter(this.instants, until);
    if (start === end) return;
    for (const g of groups) {
      this.deltas[g][start * STATE_COUNT + s]++;
      this.deltas[g][end * STATE_COUNT + s]--;
      if (inferred) {
        this.inferredDeltas[g][start * STATE_COUNT + s]++;
        this.inferredDeltas[g][end * STATE_COUNT + s]--;
      }
    }
  }

  /** Intervals of one flow arrive together: its sides' groups are looked up once. */
  private match(flow: number): void {
    this.matchesFlow = flow;
    this.matches[0] = this.groupsOf(this.flows.clientIp[flow], this.flows.clientPort[flow]);
    this.matches[1] = this.groupsOf(this.flows.serverIp[flow], this.flows.serverPort[flow]);
  }

  private groupsOf(ip: string, port: number): number[] {
    const found = [...this.everyone];
    found.push(...(this.byHost.get(ip) ?? []), ...(this.byPort.get(port) ?? []), ...(this.byHostPort.get(`${ip} ${port}`) ?? []));
    return found;
  }
}

function listOf<K>(map: Map<K, number[]>, key: K): number[] {
  let list = map.get(key);
  if (list === undefined) map.set(key, (list = []));
  return list;
}

/** The index of the first instant at or after `t` (instants.length when none). */
function firstAtOrAfter(instants: Float64Array, t: number): number {
  let lo = 0;
  let hi = instants.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (instants[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The states that any instant of any group counts, in ALL_STATES order; CLOSED only with `all`, as netstat lists it. */
export function statesPresent(timeline: StateTimeline, all = false): TcpState[] {
  return ALL_STATES.filter(
    (state, s) => (all || state !== TcpState.CLOSED) && timeline.groups.some((g) => g.counts.some((row) => row[s] > 0)),
  );
}

/**
 * The state counts of `groups` (default: all endpoints, one group) at the
 * capture's first packet, every `everyNs` after it (default: a round step giving
 * about 100 rows) and its last packet. Undefined when the database holds no packets.
 */
export function stateTimeline(
  reader: DatabaseReader,
  groups: readonly TimelineGroup[] = [{ label: 'all' }],
  everyNs?: bigint,
  observedOnly = false,
): StateTimeline | undefined {
  const { first_ns: firstNs, last_ns: lastNs } = reader.span();
  if (firstNs === null || lastNs === null) return undefined;
  const step = everyNs ?? niceStep(lastNs - firstNs, DEFAULT_ROWS);
  const rows = (lastNs - firstNs) / step + 2n;
  if (rows > BigInt(MAX_ROWS))
    throw new UsageError(
      `--every ${formatDuration(step)} over ${formatDuration(lastNs - firstNs)} of capture would be ${formatCount(Number(rows))} rows; at most ${formatCount(MAX_ROWS)}: take a longer step`,
    );
  const flows = loadFlows(reader, lastNs);
  const counter = new TimelineCounter(flows, timelineInstants(firstNs, lastNs, step), groups, observedOnly);
  walkStateIntervals(reader, flows, lastNs, counter);
  return counter.result(step);
}

const DEFAULT_ROWS = 100;
/** Rows a timeline may have: each is a row of counts in memory and on the screen. */
const MAX_ROWS = 1_000_000;
