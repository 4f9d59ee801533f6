import { TcpState } from '../tcp/tcp-state.js';
import { type CaptureTime, later, NO_TIME, NS_PER_SECOND as NS } from './capture-time.js';
import { type Endpoint, type Flow, type StateVisit, VISIT_FIELDS } from './flow.js';
import { DEFAULT_THRESHOLDS, type DetectorThresholds, FINDINGS, type FindingKind } from './finding-catalogue.js';
import { type FindingRecord, Role, Severity, type TrackerOutput } from './records.js';

type Details = FindingRecord['details'];
/** Flow ids listed in an aggregate finding's details, at most. */
const LISTED_FLOWS = 20;
/** Distinct source addresses an aggregate counts, at most: a spoofed SYN flood must not grow the set without end. */
const COUNTED_SOURCES = 100_000;
/** Windows' default TIME_WAIT (TcpTimedWaitDelay): what the pressure finding projects a server's pile-up to. */
const WINDOWS_TIME_WAIT_SECONDS = 240;

interface Aggregate {
  host: string;
  /** The local port for a server; null for clients, whose ports are ephemeral: `remote` names what they talk to. */
  port: number | null;
  remote: string | null;
  count: number;
  longestNs: number;
  firstTime: CaptureTime;
  lastTime: CaptureTime;
  firstSource: number;
  firstFrame: number;
  lastFrame: number;
  flows: number[];
  sources: Set<string>;
}

interface TimeWaitHolder {
  host: string;
  side: Role;
  since: CaptureTime[];
  until: CaptureTime[];
  flows: number[];
}

const seconds = (ns: number): string => `${(ns / NS).toFixed(ns < 10 * NS ? 2 : 0)} s`;

/**
 * Turns the tracker's per-flow evidence into findings: per flow as each flow is
 * handed on, per host:port (aggregates) at the end. Pure in the sense that
 * matters: it only reads flows and writes findings.
 */
export class Detectors {
  private readonly thresholds: DetectorThresholds;
  private readonly closeWait = new Map<string, Aggregate>();
  private readonly refused = new Map<string, Aggregate>();
  private readonly halfOpen = new Map<string, Aggregate>();
  private readonly unanswered = new Map<string, Aggregate>();
  /** In the order first seen; found by host for each side (a "host|side" key cost a string a connection). */
  private readonly timeWait: TimeWaitHolder[] = [];
  private readonly timeWaitHolders = { client: new Map<string, TimeWaitHolder>(), server: new Map<string, TimeWaitHolder>() };
  /** The visit being judged, refilled for each (nothing keeps it). */
  private readonly cursor: StateVisit = { state: TcpState.CLOSED, since: NO_TIME, until: NO_TIME, source: 0, frame: 0 };

  constructor(
    private readonly output: TrackerOutput,
    private readonly epochNs: (time: CaptureTime) => bigint,
    private readonly timeWaitNs: number,
    thresholds: Partial<DetectorThresholds> = {},
  ) {
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...thresholds };
  }

  /** Called as a flow is handed on; `end` is the time up to which open states count. */
  flow(flow: Flow, end: CaptureTime): void {
    this.endpoint(flow, flow.client, flow.server, end);
    this.endpoint(flow, flow.server, flow.client, end);
    this.abortiveClose(flow);
    this.openings(flow);
  }

  private endpoint(flow: Flow, endpoint: Endpoint, peer: Endpoint, end: CaptureTime): void {
    const log = endpoint.visits;
    for (let at = 0; at < log.length; at += VISIT_FIELDS) this.visit(flow, endpoint, log.read(at, this.cursor), end);
    this.keepalive(flow, endpoint, peer);
    this.zeroWindow(flow, endpoint, peer, end);
    this.deadPeer(flow, endpoint, peer);
  }

  private visit(flow: Flow, endpoint: Endpoint, visit: StateVisit, end: CaptureTime): void {
    const stillThere = visit.until < 0;
    const duration = (stillThere ? end : visit.until) - visit.since;
    const t = this.thresholds;
    switch (visit.state) {
      case TcpState.CLOSE_WAIT:
        // Only once the peer's FIN is acknowledged does the wire show the endpoint holding it (domain §4).
        if ((stillThere || duration >= t.closeWaitSeconds * NS) && peerOf(flow, endpoint).finAcked) {
          if (endpoint.role === Role.server)
            this.add(this.closeWait, endpoint.ip, endpoint.port, null, flow, visit, duration, flow.client.ip);
          else this.add(this.closeWait, endpoint.ip, null, `${flow.server.ip}:${flow.server.port}`, flow, visit, duration, flow.server.ip);
        }
        break;
      case TcpState.FIN_WAIT2:
        if (duration > t.finWait2Seconds * NS) {
          this.emit(
            'fin-wait2-long',
            flow,
            endpoint,
            visit.since,
            visit.source,
            visit.frame,
            `${endpoint.ip}:${endpoint.port} sat in FIN_WAIT2 for ${seconds(duration)}${stillThere ? ' (until the capture ended)' : ''}: its FIN was acknowledged but ${peerOf(flow, endpoint).ip}:${peerOf(flow, endpoint).port} did not close; longer than Linux's ${t.finWait2Seconds} s orphan timeout`,
            { duration_ns: duration, until_end: stillThere },
          );
        }
        break;
      case TcpState.CLOSING:
        this.emit(
          'simultaneous-close',
          flow,
          endpoint,
          visit.since,
          visit.source,
          visit.frame,
          `the FINs of ${flow.client.ip}:${flow.client.port} and ${flow.server.ip}:${flow.server.port} crossed: ${endpoint.role} passed through CLOSING`,
          {},
        );
        if (stillThere || duration >= t.closingSeconds * NS) {
          this.emit(
            'closing-stuck',
            flow,
            endpoint,
            visit.since,
            visit.source,
            visit.frame,
            `${endpoint.ip}:${endpoint.port} stayed in CLOSING for ${seconds(duration)}${stillThere ? ' (until the capture ended)' : ''}: the ACK of its FIN never came`,
            { duration_ns: duration, until_end: stillThere },
          );
        }
        break;
      case TcpState.SYN_RECV:
        if (endpoint.role === Role.client) {
          this.emit(
            'simultaneous-open',
            flow,
            endpoint,
            visit.since,
            visit.source,
            visit.frame,
            `${flow.client.ip}:${flow.client.port} and ${flow.server.ip}:${flow.server.port} sent SYNs that crossed (simultaneous open)`,
            {},
          );
        } else if (stillThere) {
          this.add(this.halfOpen, endpoint.ip, endpoint.port, null, flow, visit, duration, flow.client.ip);
        }
        break;
      case TcpState.TIME_WAIT: {
        const holders = this.timeWaitHolders[endpoint.role];
        let holder = holders.get(endpoint.ip);
        if (!holder) {
          holder = { host: endpoint.ip, side: endpoint.role, since: [], until: [], flows: [] };
          holders.set(endpoint.ip, holder);
          this.timeWait.push(holder);
        }
        holder.since.push(visit.since);
        // One still there at the end holds on for its full 2×MSL.
        holder.until.push(stillThere ? later(visit.since, this.timeWaitNs) : visit.until);
        if (holder.flows.length < LISTED_FLOWS) holder.flows.push(flow.id);
        break;
      }
    }
  }

  private openings(flow: Flow): void {
    const { client, server } = flow;
    if (
      client.state === TcpState.CLOSED &&
      !server.synSent &&
      client.visits.length === 0 &&
      flow.closedFirstBy === null &&
      server.rstLostBytes >= 0
    ) {
      // The client's SYN was answered by RST+ACK without any SYN-ACK: refused.
      this.add(
        this.refused,
        server.ip,
        server.port,
        null,
        flow,
        { state: TcpState.CLOSED, since: flow.lastTime, until: flow.lastTime, source: flow.lastSource, frame: flow.lastFrame },
        0,
        client.ip,
      );
    }
    if (client.state === TcpState.SYN_SENT && (server.state === TcpState.UNKNOWN || server.state === TcpState.CLOSED)) {
      this.add(
        this.unanswered,
        server.ip,
        server.port,
        null,
        flow,
        { state: TcpState.SYN_SENT, since: flow.firstTime, until: NO_TIME, source: flow.firstSource, frame: flow.firstFrame },
        flow.lastTime - flow.firstTime,
        client.ip,
      );
    }
  }

  private keepalive(flow: Flow, endpoint: Endpoint, peer: Endpoint): void {
    const e = endpoint.evidence;
    if (e === null || e.keepaliveProbes === 0) return;
    const gone = endpoint.keepalivePending ? 1 : 0;
    const answer =
      e.keepaliveReset > 0
        ? 'RST: the peer restarted and lost the connection'
        : gone
          ? 'nothing to the last one: the peer is gone or unreachable'
          : 'ACK: the peer is alive';
    const severity = e.keepaliveReset > 0 || gone ? Severity.warning : Severity.info;
    this.emit(
      'keepalive',
      flow,
      endpoint,
      e.keepaliveFirstTime,
      flow.firstSource,
      e.keepaliveFirstFrame,
      `${endpoint.ip}:${endpoint.port} sent ${e.keepaliveProbes} keepalive probe${e.keepaliveProbes === 1 ? '' : 's'} to ${peer.ip}:${peer.port}; answered by ${answer}`,
      { probes: e.keepaliveProbes, acked: e.keepaliveAcked, reset: e.keepaliveReset, unanswered: gone },
      severity,
    );
  }

  private zeroWindow(flow: Flow, endpoint: Endpoint, peer: Endpoint, end: CaptureTime): void {
    const e = endpoint.evidence;
    if (e === null || e.zeroWindowEpisodes === 0) return;
    const open = endpoint.zeroWindowSince >= 0;
    const total = e.zeroWindowNs + (open ? end - endpoint.zeroWindowSince : 0);
    const severity = total >= this.thresholds.zeroWindowSeconds * NS || open ? Severity.warning : Severity.info;
    this.emit(
      'zero-window',
      flow,
      endpoint,
      e.zeroWindowFirstTime,
      flow.firstSource,
      e.zeroWindowFirstFrame,
      `${endpoint.ip}:${endpoint.port} advertised a zero window ${e.zeroWindowEpisodes} time${e.zeroWindowEpisodes === 1 ? '' : 's'}, ${seconds(total)} in all${open ? ' (still closed at the end)' : ''}; ${peer.ip}:${peer.port} sent ${e.persistProbes} persist probe${e.persistProbes === 1 ? '' : 's'}`,
      { episodes: e.zeroWindowEpisodes, duration_ns: total, persist_probes: e.persistProbes, open_at_end: open },
      severity,
    );
  }

  private deadPeer(flow: Flow, endpoint: Endpoint, peer: Endpoint): void {
    const e = endpoint.evidence;
    if (e === null || endpoint.unansweredRetransmissions < this.thresholds.deadPeerRetransmissions) return;
    const ending = endpoint.rstLostBytes >= 0 ? 'then reset the connection' : 'then fell silent';
    this.emit(
      'dead-peer',
      flow,
      endpoint,
      e.firstUnansweredTime,
      flow.firstSource,
      e.firstUnansweredFrame,
      `${endpoint.ip}:${endpoint.port} retransmitted ${endpoint.unansweredRetransmissions} times with no answer from ${peer.ip}:${peer.port}, ${ending}`,
      { retransmissions: endpoint.unansweredRetransmissions, reset: endpoint.rstLostBytes >= 0 },
    );
  }

  private abortiveClose(flow: Flow): void {
    if (flow.closeKind !== 'RST' || flow.closedFirstBy === null) return;
    const endpoint = flow.closedFirstBy === Role.client ? flow.client : flow.server;
    const lost = Math.max(endpoint.rstLostBytes, 0);
    this.emit(
      'abortive-close',
      flow,
      endpoint,
      flow.lastTime,
      flow.lastSource,
      flow.lastFrame,
      `${endpoint.ip}:${endpoint.port} ended the connection to ${peerOf(flow, endpoint).ip}:${peerOf(flow, endpoint).port} with RST instead of FIN; ${lost} byte${lost === 1 ? '' : 's'} in flight ${lost === 1 ? 'was' : 'were'} lost`,
      { lost_bytes: lost },
      lost > 0 ? Severity.warning : Severity.info,
    );
  }

  private add(
    map: Map<string, Aggregate>,
    host: string,
    port: number | null,
    remote: string | null,
    flow: Flow,
    visit: StateVisit,
    duration: number,
    source: string,
  ): void {
    const key = `${host}|${port}|${remote}`;
    let a = map.get(key);
    if (!a) {
      a = {
        host,
        port,
        remote,
        count: 0,
        longestNs: 0,
        firstTime: visit.since,
        lastTime: visit.since,
        firstSource: visit.source,
        firstFrame: visit.frame,
        lastFrame: visit.frame,
        flows: [],
        sources: new Set(),
      };
      map.set(key, a);
    }
    a.count++;
    a.longestNs = Math.max(a.longestNs, duration);
    if (visit.since < a.firstTime) {
      a.firstTime = visit.since;
      a.firstSource = visit.source;
      a.firstFrame = visit.frame;
    }
    if (visit.since >= a.lastTime) {
      a.lastTime = visit.since;
      a.lastFrame = visit.frame;
    }
    if (a.flows.length < LISTED_FLOWS) a.flows.push(flow.id);
    if (a.sources.size < COUNTED_SOURCES) a.sources.add(source);
  }

  /** Aggregates, once every flow has been handed on. `span` is the capture's duration in ns. */
  finish(span: number): void {
    for (const a of this.closeWait.values()) {
      const where = a.port !== null ? `on ${a.host}:${a.port}` : `from ${a.host} to ${a.remote}`;
      const who = a.port !== null ? 'the server application there' : `the client application on ${a.host}`;
      this.aggregate(
        'close-wait-leak',
        a,
        `${a.count} connection${a.count === 1 ? '' : 's'} ${where} sat in CLOSE_WAIT (longest ${seconds(a.longestNs)}): ${who} does not close after the peer does`,
        { longest_ns: a.longestNs, threshold_s: this.thresholds.closeWaitSeconds, remote: a.remote },
      );
    }
    for (const a of this.refused.values()) {
      this.aggregate(
        'refused',
        a,
        `${a.count} connection${a.count === 1 ? '' : 's'} to ${a.host}:${a.port} refused (SYN answered by RST+ACK)`,
        { sources: a.sources.size },
      );
    }
    const flooded = new Set<string>();
    for (const [key, a] of this.halfOpen) {
      const unanswered = this.unanswered.get(key)?.count ?? 0;
      if (a.count + unanswered < this.thresholds.halfOpenCount) continue;
      flooded.add(key);
      const rate = span > 0 ? (a.count + unanswered) / (span / NS) : 0;
      this.aggregate(
        'half-open-flood',
        a,
        `${a.count} handshakes to ${a.host}:${a.port} stayed half-open (SYN_RECV)${unanswered > 0 ? ` and ${unanswered} SYNs got no answer` : ''}, from ${a.sources.size} source address${a.sources.size === 1 ? '' : 'es'} (${rate.toFixed(1)}/s)`,
        { syn_recv: a.count, unanswered, sources: a.sources.size, per_second: Number(rate.toFixed(3)) },
      );
    }
    for (const [key, a] of this.unanswered) {
      if (flooded.has(key)) continue;
      if (a.count >= this.thresholds.halfOpenCount && a.sources.size > 1) {
        flooded.add(key);
        this.aggregate(
          'half-open-flood',
          a,
          `${a.count} SYNs to ${a.host}:${a.port} got no answer, from ${a.sources.size} source addresses`,
          { syn_recv: 0, unanswered: a.count, sources: a.sources.size },
        );
        continue;
      }
      this.aggregate(
        'syn-unanswered',
        a,
        `${a.count} SYN${a.count === 1 ? '' : 's'} to ${a.host}:${a.port} got no answer in the capture (nothing listening and no RST, filtered, or the answer lost)`,
        {},
      );
    }
    for (const holder of this.timeWait) this.timeWaitPressure(holder, span);
  }

  private timeWaitPressure(holder: TimeWaitHolder, span: number): void {
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
    const mslNote = `TIME_WAIT lasts ${this.timeWaitNs / NS} s here`;
    const projected = Math.round(perSecond * WINDOWS_TIME_WAIT_SECONDS);
    const message = serverSide
      ? `${holder.host} closes first as a server: it went into TIME_WAIT ${count} time${count === 1 ? '' : 's'} (${perSecond.toFixed(1)}/s), up to ${peak} at once (${mslNote}); at this rate Windows' ${WINDOWS_TIME_WAIT_SECONDS} s would hold ${projected}`
      : `${holder.host} (client side) went into TIME_WAIT ${count} time${count === 1 ? '' : 's'} (${perSecond.toFixed(1)}/s), up to ${peak} at once (${mslNote})`;
    this.output.finding({
      kind: 'time-wait-pressure',
      severity: serverSide ? Severity.warning : Severity.info,
      flowId: null,
      endpoint: holder.side,
      host: holder.host,
      port: null,
      tsNs: this.epochNs(peakTime),
      source: 0,
      frame: null,
      message,
      details: {
        side: holder.side,
        count,
        peak,
        per_second: Number(perSecond.toFixed(3)),
        time_wait_s: this.timeWaitNs / NS,
        projected_peak_240s: projected,
        flows: holder.flows,
        remedy: FINDINGS['time-wait-pressure'].remedy,
      },
    });
  }

  private aggregate(kind: FindingKind, a: Aggregate, message: string, details: Details): void {
    this.output.finding({
      kind,
      severity: FINDINGS[kind].severity,
      flowId: a.count === 1 ? a.flows[0] : null,
      endpoint: null,
      host: a.host,
      port: a.port,
      tsNs: this.epochNs(a.firstTime),
      source: a.firstSource,
      frame: a.firstFrame || null,
      message,
      details: {
        count: a.count,
        first_frame: a.firstFrame,
        last_frame: a.lastFrame,
        until_ns: String(this.epochNs(a.lastTime)),
        flows: a.flows,
        ...details,
        remedy: FINDINGS[kind].remedy,
      },
    });
  }

  private emit(
    kind: FindingKind,
    flow: Flow,
    endpoint: Endpoint,
    time: CaptureTime,
    source: number,
    frame: number,
    message: string,
    details: Details,
    severity: Severity = FINDINGS[kind].severity,
  ): void {
    this.output.finding({
      kind,
      severity,
      flowId: flow.id,
      endpoint: endpoint.role,
      host: endpoint.ip,
      port: endpoint.port,
      tsNs: this.epochNs(time),
      source,
      frame: frame || null,
      message,
      details: { ...details, remedy: FINDINGS[kind].remedy },
    });
  }
}

function peerOf(flow: Flow, endpoint: Endpoint): Endpoint {
  return endpoint === flow.client ? flow.server : flow.client;
}
