import { seqGt } from '../tcp/seq.js';
import type { EndpointEvent } from '../tcp/endpoint-event.js';
import type { TcpState } from '../tcp/tcp-state.js';
import type { CaptureClock, CaptureTime } from './capture-time.js';
import { FINDINGS, type FindingKind } from './finding-catalogue.js';
import type { Endpoint, Flow, RetiredFlow, StatefulFlow } from './flow.js';
import { type FindingRecord, type FlowRecord, Role, type TrackerOutput, type TransitionEvent } from './records.js';

/**
 * The tracker's records as they are handed on: transitions, findings and flow
 * rows (with their updates). The one place tracker state becomes a record, and
 * tracker time (CaptureTime) becomes epoch time.
 */
export class RecordsOut {
  /** Handed to the output for every transition, refilled each time. */
  private readonly transitionEvent: TransitionEvent = {
    flowId: 0,
    endpoint: Role.client,
    second: 0,
    nanos: 0,
    source: 0,
    frame: null,
    fromState: 'CLOSED',
    toState: 'CLOSED',
    event: 'SEND_SYN',
    cause: '',
    inferred: false,
  };

  constructor(
    private readonly output: TrackerOutput,
    private readonly clock: CaptureClock,
  ) {}

  transition(
    flowId: number,
    endpoint: Role,
    from: TcpState,
    to: TcpState,
    source: number,
    frame: number | null,
    time: CaptureTime,
    event: EndpointEvent,
    cause: string,
    inferred: boolean,
  ): void {
    const out = this.transitionEvent;
    out.flowId = flowId;
    out.endpoint = endpoint;
    this.clock.split(time, out);
    out.source = source;
    out.frame = frame;
    out.fromState = from;
    out.toState = to;
    out.event = event;
    out.cause = cause;
    out.inferred = inferred;
    this.output.transition(out);
  }

  finding(
    kind: FindingKind,
    flow: StatefulFlow,
    endpoint: Role | null,
    source: number,
    frame: number,
    time: CaptureTime,
    message: string,
    details: FindingRecord['details'],
  ): void {
    const at = endpoint === null ? null : flow.endpoint(endpoint);
    this.output.finding({
      kind,
      severity: FINDINGS[kind].severity,
      flowId: flow.id,
      endpoint,
      host: at?.ip ?? null,
      port: at?.port ?? null,
      tsNs: this.clock.epochNs(time),
      source,
      frame,
      message,
      details: { ...details, remedy: FINDINGS[kind].remedy },
    });
  }

  /** The flow's row, as it is handed on. */
  flow(flow: Flow): void {
    this.output.flow(this.flowRecord(flow));
  }

  /** What changed of a retired flow since its row was handed on. */
  flowUpdate(retired: RetiredFlow): void {
    const { client, server } = retired;
    this.output.flowUpdate?.({
      id: retired.id,
      clientState: client.state,
      serverState: server.state,
      clientStateInferred: client.stateInferred,
      serverStateInferred: server.stateInferred,
      clientPacketsAfter: client.packetsAfter,
      serverPacketsAfter: server.packetsAfter,
      clientBytesAfter: client.bytesAfter,
      serverBytesAfter: server.bytesAfter,
      lastNs: this.clock.epochNs(retired.lastTime),
      lastSource: retired.lastSource,
      lastFrame: retired.lastFrame,
    });
  }

  private flowRecord(flow: Flow): FlowRecord {
    const summary = (e: Endpoint, peer: Endpoint): FlowRecord['client'] => ({
      ip: e.ip,
      port: e.port,
      state: e.state,
      stateInferred: e.stateInferred || flow.evicted,
      packets: e.packets,
      bytes: e.bytes,
      ipBytes: e.ipBytes,
      unackedBytes: unacked(e, peer),
      retransmissions: e.retransmissions,
      missedBytes: e.missedBytes,
      windowScale: e.windowScale,
      badChecksums: e.badChecksums,
    });
    return {
      id: flow.id,
      ipVersion: flow.ipVersion,
      instance: flow.instance,
      client: summary(flow.client, flow.server),
      server: summary(flow.server, flow.client),
      firstNs: this.clock.epochNs(flow.firstTime),
      lastNs: this.clock.epochNs(flow.lastTime),
      firstSource: flow.firstSource,
      firstFrame: flow.firstFrame,
      lastSource: flow.lastSource,
      lastFrame: flow.lastFrame,
      rolesGuessed: flow.rolesGuessed,
      midstream: flow.midstream,
      closedFirstBy: flow.closedFirstBy,
      closeKind: flow.closeKind,
      captureLossEvents: flow.captureLossEvents,
      evicted: flow.evicted,
      evictedBy: flow.evictedBy,
      tunnel: flow.tunnel,
      zeek: {
        connState: flow.zeek.connState(),
        history: flow.zeek.history(!flow.firstFromClient),
        originatorBytes: flow.zeek.originatorBytes(),
        responderBytes: flow.zeek.responderBytes(),
        missedBytes: flow.zeek.missedBytes(),
      },
    };
  }
}

/** Sequence space an endpoint sent that its peer has not acknowledged (netstat's Send-Q). */
export function unacked(endpoint: Endpoint, peer: Endpoint): number {
  return endpoint.sentAnything && peer.ackedAnything && seqGt(endpoint.nextSeq, peer.highestAck)
    ? (endpoint.nextSeq - peer.highestAck) >>> 0
    : 0;
}
