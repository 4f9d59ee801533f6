import { TcpState } from '../tcp/tcp-state.js';
import { type CaptureTime, later, NO_TIME, NS_PER_SECOND as NS } from './capture-time.js';
import { type Endpoint, type Flow, type StateVisit, VISIT_FIELDS } from './flow.js';
import { Aggregates } from './aggregates.js';
import { DEFAULT_THRESHOLDS, type DetectorThresholds, FINDINGS, type FindingKind, secondsText } from './finding-catalogue.js';
import { type FindingRecord, Role, Severity, type TrackerOutput } from './records.js';

type Details = FindingRecord['details'];

/**
 * Turns the tracker's per-flow evidence into findings: per flow as each flow is
 * handed on, per host:port (aggregates) at the end. Pure in the sense that
 * matters: it only reads flows and writes findings.
 */
export class Detectors {
  readonly thresholds: DetectorThresholds;
  /** The per-host findings' inputs (aggregates.ts). */
  readonly aggregates = new Aggregates();
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
            this.aggregates.add('closeWait', endpoint.ip, endpoint.port, null, flow.id, visit, duration, flow.client.ip);
          else
            this.aggregates.add(
              'closeWait',
              endpoint.ip,
              null,
              `${flow.server.ip}:${flow.server.port}`,
              flow.id,
              visit,
              duration,
              flow.server.ip,
            );
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
            `${endpoint.ip}:${endpoint.port} sat in FIN_WAIT2 for ${secondsText(duration)}${stillThere ? ' (until the capture ended)' : ''}: its FIN was acknowledged but ${peerOf(flow, endpoint).ip}:${peerOf(flow, endpoint).port} did not close; longer than Linux's ${t.finWait2Seconds} s orphan timeout`,
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
            `${endpoint.ip}:${endpoint.port} stayed in CLOSING for ${secondsText(duration)}${stillThere ? ' (until the capture ended)' : ''}: the ACK of its FIN never came`,
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
          this.aggregates.add('halfOpen', endpoint.ip, endpoint.port, null, flow.id, visit, duration, flow.client.ip);
        }
        break;
      case TcpState.TIME_WAIT:
        // A server's TIME_WAIT from FINs that crossed after the client's came first is not
        // the server closing first: the pressure finding counts a server's active closes only.
        if (endpoint.role === Role.server && flow.closedFirstBy === Role.client) break;
        // One still there at the end holds on for its full 2×MSL.
        this.aggregates.addTimeWait(
          endpoint.ip,
          endpoint.role,
          flow.id,
          visit.since,
          stillThere ? later(visit.since, this.timeWaitNs) : visit.until,
        );
        break;
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
      this.aggregates.add(
        'refused',
        server.ip,
        server.port,
        null,
        flow.id,
        { since: flow.lastTime, source: flow.lastSource, frame: flow.lastFrame },
        0,
        client.ip,
      );
    }
    if (client.state === TcpState.SYN_SENT && (server.state === TcpState.UNKNOWN || server.state === TcpState.CLOSED)) {
      this.aggregates.add(
        'unanswered',
        server.ip,
        server.port,
        null,
        flow.id,
        { since: flow.firstTime, source: flow.firstSource, frame: flow.firstFrame },
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
      `${endpoint.ip}:${endpoint.port} advertised a zero window ${e.zeroWindowEpisodes} time${e.zeroWindowEpisodes === 1 ? '' : 's'}, ${secondsText(total)} in all${open ? ' (still closed at the end)' : ''}; ${peer.ip}:${peer.port} sent ${e.persistProbes} persist probe${e.persistProbes === 1 ? '' : 's'}`,
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

  /** The per-host findings, once every flow has been handed on. `span` is the capture's duration in ns. */
  finish(span: number): void {
    this.aggregates.finish(span, this.thresholds, this.timeWaitNs, this.epochNs, (record) => this.output.finding(record));
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
