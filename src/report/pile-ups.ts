import type { StateIntervalVisitor, StoredFlows } from '../store/state-intervals.js';
import { formatEndpoint } from '../decode/format-address.js';
import { TcpState } from '../tcp/tcp-state.js';

/** The two states that pile up when one side does not close: the seeds' TIME_WAIT and CLOSE_WAIT. */
export const PILE_UP_STATES = [TcpState.TIME_WAIT, TcpState.CLOSE_WAIT] as const;
export type PileUpState = (typeof PILE_UP_STATES)[number];

/**
 * The endpoints one host held in TIME_WAIT or CLOSE_WAIT for one service: a
 * server's own port ("10.0.0.1:80"), or a client's connections to one server
 * port ("10.0.0.2 → 10.0.0.1:80"), since a client's own ports are ephemeral.
 */
export interface PileUp {
  state: PileUpState;
  role: 'client' | 'server';
  host: string;
  service: string;
  label: string;
  /** Endpoints that entered the state. */
  total: number;
  /** The most at one time, and the first time it was reached (ns after the origin). */
  peak: number;
  peakAt: number;
  /** The longest stay, ended or not, and its flow id. */
  longest: number;
  longestFlow: number;
  /** Endpoints still in the state at the last packet. */
  atEnd: number;
  /** The count at each of the timeline's instants. */
  counts: number[];
}

interface Stays {
  state: PileUpState;
  role: 'client' | 'server';
  host: string;
  service: string;
  from: number[];
  until: number[];
  longest: number;
  longestFlow: number;
}

/**
 * Gathers every stay in TIME_WAIT and CLOSE_WAIT while the stored intervals are
 * walked, per host and service, and measures the piles exactly (peak from the
 * stays themselves, not from the sampled instants).
 */
export class PileUpCounter implements StateIntervalVisitor {
  private readonly stays = new Map<string, Stays>();

  constructor(
    private readonly flows: StoredFlows,
    /** The last packet, ns after the origin: stays still open are measured to it. */
    private readonly end: number,
  ) {}

  endpoint(flow: number, server: boolean, from: number, until: number, state: TcpState): void {
    if (state !== TcpState.TIME_WAIT && state !== TcpState.CLOSE_WAIT) return;
    const f = this.flows;
    const host = server ? f.serverIp[flow] : f.clientIp[flow];
    const service = formatEndpoint(f.serverIp[flow], f.serverPort[flow]);
    const key = `${state} ${server ? 's' : 'c'} ${host} ${service}`;
    let stays = this.stays.get(key);
    if (stays === undefined) {
      stays = { state, role: server ? 'server' : 'client', host, service, from: [], until: [], longest: -1, longestFlow: 0 };
      this.stays.set(key, stays);
    }
    stays.from.push(from);
    stays.until.push(until);
    const length = Math.min(until, this.end) - from;
    if (length > stays.longest) {
      stays.longest = length;
      stays.longestFlow = f.id[flow];
    }
  }

  listener(): void {}

  /** The `limit` biggest piles of each state (by peak, then total), counted at `instants` (ns after the origin). */
  result(instants: readonly number[], limit: number): PileUp[] {
    const piles: PileUp[] = [];
    for (const state of PILE_UP_STATES) {
      const measured = [...this.stays.values()].filter((s) => s.state === state).map((s) => measure(s, this.end));
      measured.sort((a, b) => b.peak - a.peak || b.stays.from.length - a.stays.from.length || a.label.localeCompare(b.label));
      for (const { stays, peak, peakAt, label, from, until } of measured.slice(0, limit)) {
        piles.push({
          state,
          role: stays.role,
          host: stays.host,
          service: stays.service,
          label,
          total: from.length,
          peak,
          peakAt,
          longest: stays.longest,
          longestFlow: stays.longestFlow,
          atEnd: from.length - countAtOrBefore(until, this.end),
          counts: instants.map((t) => countAtOrBefore(from, t) - countAtOrBefore(until, t)),
        });
      }
    }
    return piles;
  }
}

function measure(stays: Stays, end: number) {
  const from = Float64Array.from(stays.from).sort();
  const until = Float64Array.from(stays.until).sort();
  // A stay holds from `from` up to, not at, `until`: at equal times the ending one goes first.
  let peak = 0;
  let peakAt = 0;
  let open = 0;
  for (let i = 0, j = 0; i < from.length;) {
    if (until[j] <= from[i]) {
      open--;
      j++;
    } else {
      open++;
      if (open > peak) {
        peak = open;
        peakAt = from[i];
      }
      i++;
    }
  }
  const label = stays.role === 'server' ? stays.service : `${stays.host} → ${stays.service}`;
  return { stays, peak, peakAt: Math.min(peakAt, end), label, from, until };
}

/** How many of the sorted `times` are at or before `t`. */
function countAtOrBefore(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
