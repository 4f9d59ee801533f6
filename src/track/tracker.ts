/**
 * The tracker: segments in, both endpoints' state machines, transitions, flows out.
 *
 * What it cannot know, in plain words:
 * - Loss before or after the capture point: a captured segment is assumed to have
 *   reached its receiver. Where the wire later contradicts that (an ACK for data
 *   never captured), the flow counts capture loss and later transitions are marked
 *   inferred.
 * - Reordering: segments are taken in capture order, which at a capture point
 *   between the hosts is not always the order each host saw them.
 * - Midstream pickup: without the handshake both endpoints are assumed ESTABLISHED
 *   (inferred) and roles come from the port heuristic (marked guessed).
 * - Timers other than TIME_WAIT's 2×MSL (FIN_WAIT2 orphan timeout, SYN retries,
 *   keepalive) depend on settings the wire does not show; they never move a state.
 * - Instances of a 4-tuple are counted while the previous one is still in memory
 *   (until its TIME_WAIT expires, or `closedLingerSeconds` after it closed).
 */
import type { CapturedFrame } from '../capture/captured-frame.js';
import { AddressNames } from '../decode/format-address.js';
import { TcpFlag, type TcpSegment } from '../decode/tcp-segment.js';
import { EVENT_ORDER, EventBit, classifyReceive, classifySend, finSeqOf, segmentLength } from '../tcp/classify.js';
import { EVENT_CAUSE, EndpointEvent } from '../tcp/endpoint-event.js';
import { type Seq, seq, seqAdd, seqGe, seqGt } from '../tcp/seq.js';
import { SYNCHRONIZED, TcpState } from '../tcp/tcp-state.js';
import { transition } from '../tcp/transition-table.js';
import { Detectors } from './detectors.js';
import { type DetectorThresholds, FINDINGS, type FindingKind } from './finding-catalogue.js';
import { type Endpoint, EndpointEvidence, Flow, RetiredFlow, type StatefulEndpoint, type StatefulFlow, TIMED_STATES } from './flow.js';
import { RetiredFlows } from './retired-flows.js';
import { TimeWaitQueue } from './time-wait-queue.js';
import { FlowTable, KEY_WORDS } from './flow-table.js';
import { Listeners } from './listeners.js';
import { CloseKind, type FlowRecord, Role, type TrackerOutput, type TransitionEvent } from './records.js';

export interface TrackerOptions {
  /** How long TIME_WAIT lasts (2×MSL): 60 s on Linux, 240 s Windows' default, 30 s macOS/BSD. */
  timeWaitSeconds?: number;
  /** Most connections with an unfinished handshake kept at once; the oldest idle are evicted beyond it. */
  halfOpenLimit?: number;
  /** How long a closed connection stays to absorb late segments before it is handed on. */
  closedLingerSeconds?: number;
  /** Called after every segment with both endpoints' states after it (the flow ladder uses it). */
  onSegment?: SegmentObserver;
  /** Where the detectors draw their lines (finding-catalogue.ts). */
  thresholds?: Partial<DetectorThresholds>;
}

export type SegmentObserver = (
  flowId: number,
  fromClient: boolean,
  segment: TcpSegment,
  frame: CapturedFrame,
  clientState: TcpState,
  serverState: TcpState,
) => void;

export const DEFAULT_TIME_WAIT_SECONDS = 60;
export const DEFAULT_HALF_OPEN_LIMIT = 100_000;
export const DEFAULT_CLOSED_LINGER_SECONDS = 5;
const NS_PER_SECOND = 1e9;
/** The largest window scale (RFC 7323): assumed when the handshake was not seen. */
const MAX_WINDOW_SHIFT = 14;

/** Marks a slot whose flow has retired: its row is in RetiredFlows. */
const RETIRED: unique symbol = Symbol('retired');

interface CloseEntry {
  flow: Flow;
  due: number;
}

export interface TrackerStats {
  segments: number;
  flows: number;
  /** Connections dropped by the half-open bound before they completed or closed. */
  evictedHalfOpen: number;
  /** Most flows held in memory at once. */
  peakFlowsInMemory: number;
}

export class Tracker {
  readonly stats: TrackerStats = { segments: 0, flows: 0, evictedHalfOpen: 0, peakFlowsInMemory: 0 };
  private readonly table = new FlowTable();
  /** A live flow, RETIRED (its row is in `retired`), or free. */
  private readonly slots: Array<Flow | typeof RETIRED | undefined> = [];
  private readonly retired = new RetiredFlows();
  private readonly freeSlots: number[] = [];
  private readonly timeWaitNs: number;
  private readonly lingerNs: number;
  private readonly halfOpenLimit: number;
  private readonly onSegment: SegmentObserver | undefined;
  private readonly detectors: Detectors;
  private readonly timeWaits = new TimeWaitQueue();
  /** Handed to the output for every transition, refilled each time. */
  private readonly transitionEvent: TransitionEvent = {
    flowId: 0,
    endpoint: Role.client,
    second: 0,
    nanos: 0,
    source: 0,
    frame: null,
    fromState: TcpState.CLOSED,
    toState: TcpState.CLOSED,
    cause: '',
    inferred: false,
  };
  private closing: CloseEntry[] = [];
  private closingHead = 0;
  private opening: Flow[] = [];
  /** Flows handed on and held by nothing else, to be reset for the next connection. */
  private readonly spareFlows: Flow[] = [];
  private readonly addressNames = new AddressNames();
  private openingHead = 0;
  private openingCount = 0;
  private nextFlowId = 1;
  /** Tracker time is integer nanoseconds since this second (exact for 104 days of capture). */
  private baseSecond = -1;
  private baseNs = 0n;
  /** Latest capture time seen: timers fire against it. */
  private now = 0;
  private firstTime = 0;
  /** Ports that answered a SYN with SYN-ACK. */
  readonly listeners = new Listeners();

  constructor(
    private readonly output: TrackerOutput,
    options: TrackerOptions = {},
  ) {
    this.timeWaitNs = (options.timeWaitSeconds ?? DEFAULT_TIME_WAIT_SECONDS) * NS_PER_SECOND;
    this.lingerNs = (options.closedLingerSeconds ?? DEFAULT_CLOSED_LINGER_SECONDS) * NS_PER_SECOND;
    this.halfOpenLimit = options.halfOpenLimit ?? DEFAULT_HALF_OPEN_LIMIT;
    this.onSegment = options.onSegment;
    this.detectors = new Detectors(output, (time) => this.epochNs(time), this.timeWaitNs, options.thresholds);
  }

  /** Integer nanoseconds since the Unix epoch of a tracker time. */
  epochNs(time: number): bigint {
    return this.baseNs + BigInt(time);
  }

  /** Feeds one decoded segment of `frame`. */
  track(frame: CapturedFrame, segment: TcpSegment): void {
    this.stats.segments++;
    if (this.baseSecond < 0) {
      this.baseSecond = frame.tsSec;
      this.baseNs = BigInt(frame.tsSec) * 1_000_000_000n;
      this.firstTime = this.now = frame.tsNsec;
    }
    const time = (frame.tsSec - this.baseSecond) * NS_PER_SECOND + frame.tsNsec;
    if (time > this.now) {
      this.now = time;
      this.fireTimers(time);
    }
    const table = this.table;
    const handle = table.lookup(segment);
    const forward = table.forward;
    const found = handle >= 0 ? this.slots[handle] : undefined;
    let flow: Flow | undefined;
    let instance = 1;
    if (found === RETIRED) {
      const retired = this.loadRetired(handle);
      if ((segment.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) !== TcpFlag.SYN) {
        this.lateSegment(retired, segment, forward === retired.clientIsFirst, frame, time);
        return;
      }
      instance = this.replace(retired, frame, time);
    } else if (found !== undefined) {
      flow = found;
      if (this.startsNewInstance(flow, segment, forward === flow.clientIsFirst)) {
        instance = this.replace(flow, frame, time);
        flow = undefined;
      }
    }
    if (flow === undefined) flow = this.createFlow(segment, forward, frame, time, instance);
    const fromClient = forward === flow.clientIsFirst;
    this.process(flow, segment, fromClient, frame, time);
    this.onSegment?.(flow.id, fromClient, segment, frame, flow.client.state, flow.server.state);
    if (this.retirable(flow)) this.retire(flow);
  }

  /** A new SYN on the 4-tuple: the old connection ends (its TIME_WAIT taken over); returns the new instance number. */
  private replace(old: Flow | RetiredFlow, frame: CapturedFrame, time: number): number {
    const instance = old.instance + 1;
    this.reportPortReuse(old, frame, time, instance);
    for (const role of [Role.client, Role.server]) {
      const endpoint = old.endpoint(role);
      if (endpoint.state === TcpState.TIME_WAIT)
        this.apply(old, endpoint, EndpointEvent.REPLACED_BY_NEW_CONNECTION, frame.source, frame.frame, time, false);
    }
    if (old instanceof RetiredFlow) this.forgetRetired(old);
    else this.handOn(old);
    return instance;
  }

  /** A segment after the flow retired (a resent FIN, its ACK, an RST): counted; an RST ends TIME_WAIT. */
  private lateSegment(retired: RetiredFlow, segment: TcpSegment, fromClient: boolean, frame: CapturedFrame, time: number): void {
    const sender = fromClient ? retired.client : retired.server;
    const receiver = fromClient ? retired.server : retired.client;
    retired.changed = true;
    sender.packetsAfter++;
    sender.bytesAfter += segment.payloadLength;
    retired.lastTime = time;
    retired.lastSource = frame.source;
    retired.lastFrame = frame.frame;
    if (segment.flags & TcpFlag.RST) {
      // Linux lets an RST end TIME_WAIT (tcp_rfc1337=0); a timewait socket keeps no window to judge it by.
      if (sender.state === TcpState.TIME_WAIT) this.apply(retired, sender, EndpointEvent.SEND_RST, frame.source, frame.frame, time, false);
      if (receiver.state === TcpState.TIME_WAIT)
        this.apply(retired, receiver, EndpointEvent.RECV_RST, frame.source, frame.frame, time, false);
    }
    this.onSegment?.(retired.id, fromClient, segment, frame, retired.client.state, retired.server.state);
    if (isGone(retired.client.state) && isGone(retired.server.state)) this.forgetRetired(retired);
    else this.retired.store(retired);
  }

  private loadRetired(slot: number): RetiredFlow {
    return this.retired.load(slot, this.table.keys, slot * KEY_WORDS);
  }

  /** Both ends in TIME_WAIT or CLOSED, nothing pending: all that is left is the 2×MSL clock. */
  private retirable(flow: Flow): boolean {
    const { client, server } = flow;
    return (
      (client.state === TcpState.TIME_WAIT || server.state === TcpState.TIME_WAIT) &&
      isFinished(client.state) &&
      isFinished(server.state) &&
      client.pendingEvents === 0 &&
      server.pendingEvents === 0
    );
  }

  /** Hands the flow on now and keeps only a small stand-in in its slot until its TIME_WAIT ends. */
  private retire(flow: Flow): void {
    this.handOn(flow, false);
    this.retired.store(flow);
    this.slots[flow.slot] = RETIRED;
  }

  /** Drops a retired flow, telling the output how it ended if that differs from its row. */
  private forgetRetired(retired: RetiredFlow): void {
    if (this.slots[retired.slot] !== RETIRED || this.retired.flowId(retired.slot) !== retired.id) return;
    this.table.remove(retired.slot);
    this.retired.clear(retired.slot);
    this.slots[retired.slot] = undefined;
    this.freeSlots.push(retired.slot);
    // Most are still in TIME_WAIT when the capture ends, just as their rows say.
    if (!retired.changed) return;
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
      lastNs: this.epochNs(retired.lastTime),
      lastSource: retired.lastSource,
      lastFrame: retired.lastFrame,
    });
  }

  /** Lets capture time run on to `epochNs` (timers fire) without a packet. */
  advanceTo(epochNs: bigint): void {
    if (this.baseSecond < 0) return;
    const time = Number(epochNs - this.baseNs);
    if (time > this.now) {
      this.now = time;
      this.fireTimers(time);
    }
  }

  /** Every endpoint of the flows in memory now, with its state and unacknowledged bytes (netstat's Send-Q). */
  snapshot(): Array<{ flowId: number; role: Role; state: TcpState; unackedBytes: number }> {
    const out: Array<{ flowId: number; role: Role; state: TcpState; unackedBytes: number }> = [];
    for (const [slot, flow] of this.slots.entries()) {
      if (flow === undefined) continue;
      if (flow === RETIRED) {
        const retired = this.loadRetired(slot);
        for (const endpoint of [retired.client, retired.server])
          out.push({ flowId: retired.id, role: endpoint.role, state: endpoint.state, unackedBytes: 0 });
        continue;
      }
      if (flow.done) continue;
      for (const [endpoint, peer] of [
        [flow.client, flow.server],
        [flow.server, flow.client],
      ] as const) {
        out.push({ flowId: flow.id, role: endpoint.role, state: endpoint.state, unackedBytes: unacked(endpoint, peer) });
      }
    }
    return out;
  }

  /** Ends the capture: timers run up to the last packet's time, every remaining flow is handed on. */
  finish(): void {
    this.fireTimers(this.now);
    const slots = this.slots;
    for (let slot = 0; slot < slots.length; slot++) {
      const flow = slots[slot];
      // Unchanged retired flows are as their rows say: nothing to load or tell.
      if (flow === RETIRED) {
        if (this.retired.changed(slot)) this.forgetRetired(this.loadRetired(slot));
      } else if (flow !== undefined && !flow.done) this.handOn(flow);
    }
    this.detectors.finish(this.now - this.firstTime);
  }

  // ---------------------------------------------------------------- flows

  private createFlow(segment: TcpSegment, forward: boolean, frame: CapturedFrame, time: number, instance: number): Flow {
    const flags = segment.flags;
    const syn = (flags & TcpFlag.SYN) !== 0;
    const ack = (flags & TcpFlag.ACK) !== 0;
    // Client: the sender of a bare SYN; the receiver of a SYN-ACK; otherwise guessed from the ports.
    let senderIsClient: boolean;
    let rolesGuessed = false;
    if (syn) senderIsClient = !ack;
    else {
      rolesGuessed = true;
      senderIsClient = this.guessSenderIsClient(segment);
    }
    const src = this.addressNames.source(segment);
    const dst = this.addressNames.destination(segment);
    const [clientIp, clientPort, serverIp, serverPort] = senderIsClient
      ? [src, segment.srcPort, dst, segment.dstPort]
      : [dst, segment.dstPort, src, segment.srcPort];
    const rst = (flags & TcpFlag.RST) !== 0;
    const startUnknown = syn || rst;
    const id = this.nextFlowId++;
    const clientIsFirst = forward === senderIsClient;
    const spare = this.spareFlows.pop();
    const flow = spare ?? new Flow(id, instance, segment.ipVersion, clientIsFirst);
    if (spare !== undefined) spare.reset(id, instance, segment.ipVersion, clientIsFirst);
    const { client, server } = flow;
    client.reset(clientIp, clientPort, startUnknown && syn ? TcpState.CLOSED : TcpState.UNKNOWN);
    server.reset(serverIp, serverPort, TcpState.UNKNOWN);
    client.stateSince = server.stateSince = time;
    const slot = this.freeSlots.pop() ?? this.slots.length;
    flow.slot = slot;
    this.slots[slot] = flow;
    this.table.insertLast(slot);
    this.stats.flows++;
    if (this.table.size > this.stats.peakFlowsInMemory) this.stats.peakFlowsInMemory = this.table.size;
    flow.rolesGuessed = rolesGuessed;
    flow.firstFromClient = senderIsClient;
    flow.firstTime = time;
    flow.firstSource = frame.source;
    flow.firstFrame = frame.frame;
    if (syn && ack) {
      // The SYN was not captured; the SYN-ACK proves the client had sent it.
      client.synSent = true;
      client.iss = seqAdd(seq(segment.ack), -1);
      client.sentAnything = true;
      client.nextSeq = seq(segment.ack);
      this.apply(
        flow,
        client,
        EndpointEvent.SEND_SYN,
        frame.source,
        frame.frame,
        time,
        true,
        'SYN not captured; the SYN-ACK proves it was sent',
      );
    } else if (!syn && !rst) {
      flow.midstream = true;
      flow.scalingUnknown = true;
      for (const endpoint of [client, server]) {
        endpoint.synSent = endpoint.synAcked = endpoint.peerSynReceived = true;
        this.apply(flow, endpoint, EndpointEvent.MIDSTREAM_PICKUP, frame.source, frame.frame, time, true);
      }
      this.finding(
        'midstream-pickup',
        flow,
        null,
        frame.source,
        frame.frame,
        time,
        `the capture starts inside this connection (no SYN seen); ${serverIp}:${serverPort} is taken as the server by the port heuristic`,
        {},
      );
    }
    if (syn) {
      flow.opening = true;
      flow.inOpeningQueue = true;
      this.openingCount++;
      this.opening.push(flow);
      this.enforceHalfOpenLimit(frame, time);
    } else if (rst) {
      flow.rolesGuessed = true;
      flow.scalingUnknown = true;
    }
    return flow;
  }

  /** Port heuristic: the well-known or lower port, or a port seen answering SYNs, is the server's. */
  private guessSenderIsClient(segment: TcpSegment): boolean {
    const src = segment.srcPort;
    const dst = segment.dstPort;
    const srcListens = this.listeners.has(this.addressNames.source(segment), src);
    const dstListens = this.listeners.has(this.addressNames.destination(segment), dst);
    if (srcListens !== dstListens) return dstListens;
    if (src !== dst) return dst < src;
    return true;
  }

  private startsNewInstance(flow: Flow, segment: TcpSegment, fromClient: boolean): boolean {
    if ((segment.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) !== TcpFlag.SYN) return false;
    const sender = fromClient ? flow.client : flow.server;
    if (sender.synSent && sender.iss === seq(segment.seq)) return false; // a retransmitted SYN
    if (isFinished(flow.client.state) && isFinished(flow.server.state)) return true;
    // A new connect() from the same port after an attempt nobody answered.
    return (
      fromClient &&
      flow.client.state === TcpState.SYN_SENT &&
      !SYNCHRONIZED.has(flow.server.state) &&
      flow.server.state !== TcpState.SYN_RECV
    );
  }

  /** Hands a flow on to the output and (unless it retires into its slot) forgets it. */
  private handOn(flow: Flow, forget = true): void {
    if (flow.done) return;
    flow.done = true;
    if (flow.client.pendingEvents !== 0) this.settlePending(flow, flow.client);
    if (flow.server.pendingEvents !== 0) this.settlePending(flow, flow.server);
    if (flow.opening) {
      flow.opening = false;
      this.openingCount--;
    }
    if (forget) {
      this.table.remove(flow.slot);
      this.slots[flow.slot] = undefined;
      this.freeSlots.push(flow.slot);
    }
    this.detectors.flow(flow, this.now);
    this.output.flow(this.record(flow));
    this.release(flow);
  }

  /** Keeps a flow that was handed on for reuse, once no queue holds it any more. */
  private release(flow: Flow): void {
    if (flow.done && !flow.closeQueued && !flow.inOpeningQueue) this.spareFlows.push(flow);
  }

  /** A SYN or FIN still pending as the flow is handed on: it arrived, unless the endpoint's own resends said otherwise. */
  private settlePending(flow: Flow, endpoint: Endpoint): void {
    if (!endpoint.pendingRefuted) this.deliverPending(flow, endpoint, endpoint.pendingSource, endpoint.pendingFrame, endpoint.pendingTime);
    else endpoint.stateInferred = true; // its own resends say the peer's SYN or FIN never arrived
  }

  private record(flow: Flow): FlowRecord {
    const summary = (e: Endpoint, peer: Endpoint) => ({
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
    });
    return {
      id: flow.id,
      ipVersion: flow.ipVersion,
      instance: flow.instance,
      client: summary(flow.client, flow.server),
      server: summary(flow.server, flow.client),
      firstNs: this.epochNs(flow.firstTime),
      lastNs: this.epochNs(flow.lastTime),
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
      zeek: {
        connState: flow.zeek.connState(),
        history: flow.zeek.history(!flow.firstFromClient),
        originatorBytes: flow.zeek.originatorBytes(),
        responderBytes: flow.zeek.responderBytes(),
        missedBytes: flow.zeek.missedBytes(),
      },
    };
  }

  // ---------------------------------------------------------------- segments

  private process(flow: Flow, segment: TcpSegment, fromClient: boolean, frame: CapturedFrame, time: number): void {
    const sender = fromClient ? flow.client : flow.server;
    const receiver = fromClient ? flow.server : flow.client;
    const flags = segment.flags;
    flow.lastTime = time;
    flow.lastSource = frame.source;
    flow.lastFrame = frame.frame;
    sender.packets++;
    sender.bytes += segment.payloadLength;
    sender.ipBytes += segment.ipLength;
    // As signed 32-bit integers: a number above 2^31 passed to a function is boxed, once per packet.
    flow.zeek.observe(fromClient, flags, segment.seq | 0, segment.ack | 0, segment.payloadLength, segment.window);

    const length = segmentLength(segment);
    const start = seq(segment.seq);
    const end = seqAdd(start, length);
    const retransmission = this.gatherEvidence(sender, receiver, segment, frame, time, start, end, length);

    if (flags & TcpFlag.ACK && receiver.sentAnything && seqGt(seq(segment.ack), receiver.nextSeq) && !(flags & TcpFlag.RST)) {
      // The sender acknowledges sequence space the capture never showed.
      flow.captureLossEvents++;
      receiver.missedBytes += (segment.ack - receiver.nextSeq) >>> 0;
      receiver.nextSeq = seq(segment.ack);
      if (flow.captureLossEvents === 1) {
        this.finding(
          'capture-loss',
          flow,
          null,
          frame.source,
          frame.frame,
          time,
          `${sender.ip}:${sender.port} acknowledges data from ${receiver.ip}:${receiver.port} that the capture does not contain; states after this are inferred`,
          { frame: frame.frame },
        );
      }
    }

    // A later segment from the same sender reaches the receiver after the earlier one did.
    if (receiver.pendingEvents !== 0)
      this.deliverPending(flow, receiver, receiver.pendingSource, receiver.pendingFrame, receiver.pendingTime);
    // The sender's own segment shows whether it had what its peer sent before.
    if (sender.pendingEvents !== 0) {
      const verdict = judgePending(sender, segment);
      if (verdict === PendingVerdict.confirmed)
        this.deliverPending(flow, sender, sender.pendingSource, sender.pendingFrame, sender.pendingTime);
      else if (verdict === PendingVerdict.contradicted && !sender.pendingCrossed) {
        // They crossed: its own SYN or FIN left first, the peer's arrives after it.
        sender.pendingCrossed = true;
        sender.pendingTime = time;
        sender.pendingSource = frame.source;
        sender.pendingFrame = frame.frame;
      } else if (retransmission) {
        // Resending without acknowledging it, after its timer fired: the peer's SYN or FIN never arrived.
        sender.pendingRefuted = true;
      }
    }

    const sendEvents = classifySend(sender, segment);
    const receiveEvents = classifyReceive(receiver, sender, segment);
    if (receiveEvents & EventBit.RST_IGNORED) {
      this.finding(
        'rst-out-of-window',
        flow,
        receiver.role,
        frame.source,
        frame.frame,
        time,
        `RST from ${sender.ip}:${sender.port} is outside ${receiver.ip}:${receiver.port}'s receive window and was ignored (RFC 5961)`,
        { seq: segment.seq },
      );
    }
    const inferred = flow.midstream || flow.captureLossEvents > 0;
    if (sendEvents & EventBit.SEND_RST) sender.rstLostBytes = unacked(sender, receiver) + unacked(receiver, sender);
    if (sendEvents !== 0) this.applyAll(flow, sender, sendEvents, frame.source, frame.frame, time, inferred);

    // The sender's own sequence space, after its events were judged against the old facts.
    if (flags & TcpFlag.SYN && !sender.synSent) {
      sender.synSent = true;
      sender.iss = start;
      if (segment.windowScale >= 0) sender.windowScale = segment.windowScale;
    }
    if (flags & TcpFlag.FIN && !sender.finSent && !(flags & TcpFlag.RST)) {
      sender.finSent = true;
      sender.finSeq = finSeqOf(segment);
    }
    if (!(flags & TcpFlag.RST) && (!sender.sentAnything || seqGt(end, sender.nextSeq))) {
      sender.nextSeq = end;
      sender.sentAnything = true;
    }
    if (flags & TcpFlag.ACK && !(flags & TcpFlag.RST) && (!sender.ackedAnything || seqGt(seq(segment.ack), sender.highestAck))) {
      sender.highestAck = seq(segment.ack);
      sender.ackedAnything = true;
    }
    if (!(flags & TcpFlag.RST)) {
      sender.rawWindow = segment.window;
      // A SYN's window is never scaled; without the handshake the scale is unknown, so assume the largest.
      sender.windowShift = flags & TcpFlag.SYN ? 0 : flow.scalingUnknown ? MAX_WINDOW_SHIFT : flow.windowScaling ? sender.windowScale : 0;
    }

    const immediate = receiveEvents & ~(DEFERRED_EVENTS | EventBit.RST_IGNORED);
    if (immediate !== 0) this.applyAll(flow, receiver, immediate, frame.source, frame.frame, time, inferred);
    const deferred = receiveEvents & DEFERRED_EVENTS;
    if (deferred !== 0) {
      receiver.pendingEvents = deferred;
      receiver.pendingTime = time;
      receiver.pendingSource = frame.source;
      receiver.pendingFrame = frame.frame;
      receiver.pendingCrossed = false;
      receiver.pendingRefuted = false;
      receiver.pendingAckPoint = flags & TcpFlag.FIN ? seqAdd(finSeqOf(segment), 1) : seqAdd(start, 1);
    }

    if (flags & TcpFlag.SYN) {
      if (flags & TcpFlag.ACK) receiver.peerSynReceived = true;
      flow.windowScaling = flow.client.windowScale >= 0 && flow.server.windowScale >= 0;
      if (flags & TcpFlag.ACK && !flow.rolesGuessed) this.noteListener(flow, time);
    }
    if (flags & TcpFlag.ACK && !(flags & TcpFlag.RST)) {
      const ack = seq(segment.ack);
      if (receiver.synSent && seqGt(ack, receiver.iss)) receiver.synAcked = true;
      if (receiver.finSent && seqGe(ack, seqAdd(receiver.finSeq, 1))) receiver.finAcked = true;
    }

    if (flow.opening && (SYNCHRONIZED.has(flow.client.state) || SYNCHRONIZED.has(flow.server.state))) {
      flow.opening = false;
      this.openingCount--;
    }
    this.queueIfClosed(flow, time);
  }

  /**
   * Retransmissions, keepalives and zero windows, for the detectors: judged before
   * this segment updates the sender's facts. True when the segment resent
   * sequence space already seen (a retransmission).
   */
  private gatherEvidence(
    sender: Endpoint,
    receiver: Endpoint,
    segment: TcpSegment,
    frame: CapturedFrame,
    time: number,
    start: Seq,
    end: Seq,
    length: number,
  ): boolean {
    const flags = segment.flags;
    // The sender is alive: whatever the receiver retransmitted or probed has an answer.
    receiver.unansweredRetransmissions = 0;
    if (receiver.keepalivePending) {
      receiver.keepalivePending = false;
      const evidence = evidenceOf(receiver);
      if (flags & TcpFlag.RST) evidence.keepaliveReset++;
      else evidence.keepaliveAcked++;
    }
    // An ACK that advances shows the peer's data arriving: the peer is alive even if its segments were not captured.
    if (flags & TcpFlag.ACK && sender.ackedAnything && seqGt(seq(segment.ack), sender.highestAck)) sender.unansweredRetransmissions = 0;
    let retransmission = false;
    if (flags & (TcpFlag.SYN | TcpFlag.FIN | TcpFlag.RST)) {
      retransmission =
        (flags & TcpFlag.SYN && sender.synSent && start === sender.iss) ||
        (flags & TcpFlag.FIN && sender.finSent && !seqGt(end, sender.nextSeq))
          ? true
          : false;
    } else if (flags & TcpFlag.ACK && segment.payloadLength <= 1 && sender.sentAnything && start === seqAdd(sender.nextSeq, -1)) {
      // One byte below the next sequence number: a probe. Into a zero window it is a persist probe, else a keepalive.
      if (receiver.zeroWindowSince >= 0) evidenceOf(receiver).persistProbes++;
      else {
        const evidence = evidenceOf(sender);
        if (evidence.keepaliveProbes++ === 0) {
          evidence.keepaliveFirstFrame = frame.frame;
          evidence.keepaliveFirstTime = time;
        }
        sender.keepalivePending = true;
      }
    } else if (length > 0 && sender.sentAnything && !seqGt(end, sender.nextSeq)) {
      if (receiver.zeroWindowSince >= 0 && length <= 1) evidenceOf(receiver).persistProbes++;
      else retransmission = true;
    } else if (length > 0) {
      sender.unansweredRetransmissions = 0; // new data ends a run of retransmissions
    }
    if (retransmission) {
      sender.retransmissions++;
      if (sender.unansweredRetransmissions++ === 0) {
        const evidence = evidenceOf(sender);
        evidence.firstUnansweredFrame = frame.frame;
        evidence.firstUnansweredTime = time;
      }
    }
    if (!(flags & (TcpFlag.RST | TcpFlag.SYN))) {
      if (segment.window === 0) {
        if (sender.zeroWindowSince < 0) {
          sender.zeroWindowSince = time;
          const evidence = evidenceOf(sender);
          if (evidence.zeroWindowEpisodes++ === 0) {
            evidence.zeroWindowFirstFrame = frame.frame;
            evidence.zeroWindowFirstTime = time;
          }
        }
      } else if (sender.zeroWindowSince >= 0) {
        evidenceOf(sender).zeroWindowNs += time - sender.zeroWindowSince;
        sender.zeroWindowSince = -1;
      }
    }
    return retransmission;
  }

  private applyAll(
    flow: Flow,
    endpoint: Endpoint,
    events: number,
    source: number,
    frame: number | null,
    time: number,
    inferred: boolean,
  ): void {
    for (let i = 0; i < EVENT_ORDER.length; i++) {
      const entry = EVENT_ORDER[i];
      if (events & entry[0]) this.apply(flow, endpoint, entry[1], source, frame, time, inferred);
    }
  }

  /**
   * A SYN or FIN takes effect at its receiver once the receiver shows it arrived
   * (its ACK covers it) or shows it had not when it sent its own (crossing SYNs or
   * FINs, RFC 9293 §3.5, §3.6); otherwise when the flow is handed on.
   */
  private deliverPending(flow: Flow, endpoint: Endpoint, source: number, frame: number, time: number): void {
    const events = endpoint.pendingEvents;
    endpoint.pendingEvents = 0;
    this.applyAll(flow, endpoint, events, source, frame, time, flow.midstream || flow.captureLossEvents > 0);
    if (events & EventBit.RECV_SYN) endpoint.peerSynReceived = true;
    if (events & (EventBit.RECV_FIN | EventBit.RECV_FIN_WITH_ACK_OF_FIN)) endpoint.peerFinReceived = true;
  }

  /** The one place an endpoint's state changes: looks the event up and records the transition. */
  private apply(
    flow: StatefulFlow,
    endpoint: StatefulEndpoint,
    event: EndpointEvent,
    source: number,
    frame: number | null,
    time: number,
    inferred: boolean,
    cause?: string,
  ): void {
    const from = endpoint.state;
    const rule = transition(from, event);
    if (rule === undefined) {
      if (frame !== null) {
        this.finding(
          'unexpected-segment',
          flow,
          endpoint.role,
          source,
          frame,
          time,
          `${endpoint.ip}:${endpoint.port} in ${from}: ${EVENT_CAUSE[event]} is unexpected there; its state is kept`,
          { state: from, event: EVENT_CAUSE[event] },
        );
      }
      return;
    }
    const to = rule.to;
    if (to === from) return;
    const visits = endpoint.visits;
    if (visits !== null) {
      if (TIMED_STATES.has(from)) visits.endLast(time);
      if (TIMED_STATES.has(to)) visits.start(to, time, source, frame ?? 0);
    }
    endpoint.state = to;
    endpoint.stateSince = time;
    endpoint.stateInferred = inferred;
    if (flow instanceof RetiredFlow) flow.changed = true;
    if (
      flow.closedFirstBy === null &&
      (event === EndpointEvent.SEND_FIN || event === EndpointEvent.SEND_RST) &&
      from !== TcpState.UNKNOWN
    ) {
      flow.closedFirstBy = endpoint.role;
      flow.closeKind = event === EndpointEvent.SEND_FIN ? CloseKind.FIN : CloseKind.RST;
    }
    const out = this.transitionEvent;
    const seconds = Math.floor(time / NS_PER_SECOND);
    out.flowId = flow.id;
    out.endpoint = endpoint.role;
    out.second = this.baseSecond + seconds;
    out.nanos = time - seconds * NS_PER_SECOND;
    out.source = source;
    out.frame = frame;
    out.fromState = from;
    out.toState = to;
    out.cause = cause ?? rule.cause ?? EVENT_CAUSE[event];
    out.inferred = inferred;
    this.output.transition(out);
    if (to === TcpState.TIME_WAIT) this.timeWaits.add(flow.slot, flow.id, endpoint.role, time, time + this.timeWaitNs);
  }

  private noteListener(flow: Flow, time: number): void {
    const server = flow.server;
    if (!this.listeners.has(server.ip, server.port))
      this.listeners.add({ ip: server.ip, port: server.port, ipVersion: flow.ipVersion, firstNs: this.epochNs(time), flowId: flow.id });
  }

  // ---------------------------------------------------------------- timers and memory

  private fireTimers(now: number): void {
    const waits = this.timeWaits;
    while (waits.nextExpiry() <= now) {
      waits.take();
      const { slot, flowId, role, since, expires } = waits;
      const found = this.slots[slot];
      const flow = found === RETIRED ? (this.retired.flowId(slot) === flowId ? this.loadRetired(slot) : undefined) : found;
      if (flow === undefined || flow.id !== flowId) continue;
      const endpoint = flow.endpoint(role);
      if (endpoint.state !== TcpState.TIME_WAIT || endpoint.stateSince !== since) continue;
      this.apply(flow, endpoint, EndpointEvent.TIME_WAIT_EXPIRED, flow.lastSource, null, expires, true);
      const gone = isGone(flow.client.state) && isGone(flow.server.state);
      if (flow instanceof RetiredFlow) {
        if (gone) this.forgetRetired(flow);
        else this.retired.store(flow);
      } else if (gone) this.handOn(flow);
    }
    const closing = this.closing;
    while (this.closingHead < closing.length && closing[this.closingHead].due <= now) {
      const { flow } = closing[this.closingHead++];
      flow.closeQueued = false;
      if (!flow.done && this.bothClosed(flow)) this.handOn(flow);
      else this.release(flow);
    }
    if (this.closingHead > 4096 && this.closingHead * 2 > closing.length) {
      this.closing = closing.slice(this.closingHead);
      this.closingHead = 0;
    }
  }

  private bothClosed(flow: Flow): boolean {
    return isGone(flow.client.state) && isGone(flow.server.state);
  }

  private queueIfClosed(flow: Flow, time: number): void {
    if (flow.closeQueued || !this.bothClosed(flow)) return;
    flow.closeQueued = true;
    this.closing.push({ flow, due: time + this.lingerNs });
  }

  /** Keeps at most `halfOpenLimit` unfinished handshakes: a SYN flood must not exhaust memory. */
  private enforceHalfOpenLimit(frame: CapturedFrame, time: number): void {
    while (this.openingCount > this.halfOpenLimit && this.openingHead < this.opening.length) {
      const oldest = this.opening[this.openingHead++];
      oldest.inOpeningQueue = false;
      if (oldest.done || !oldest.opening) {
        this.release(oldest);
        continue;
      }
      oldest.evicted = true;
      this.stats.evictedHalfOpen++;
      if (this.stats.evictedHalfOpen === 1) {
        this.finding(
          'half-open-evicted',
          oldest,
          null,
          frame.source,
          frame.frame,
          time,
          `more than ${this.halfOpenLimit} handshakes were unfinished at once; the oldest are dropped from memory and end as evicted`,
          { limit: this.halfOpenLimit },
        );
      }
      this.handOn(oldest);
    }
    // Most handshakes complete: drop them from the queue before it holds every flow ever opened.
    if (this.opening.length - this.openingHead > 2 * this.openingCount + 4096) {
      const still: Flow[] = [];
      for (let i = this.openingHead; i < this.opening.length; i++) {
        const flow = this.opening[i];
        if (flow.opening && !flow.done) still.push(flow);
        else {
          flow.inOpeningQueue = false;
          this.release(flow);
        }
      }
      this.opening = still;
      this.openingHead = 0;
    }
  }

  // ---------------------------------------------------------------- findings

  private reportPortReuse(previous: Flow | RetiredFlow, frame: CapturedFrame, time: number, instance: number): void {
    const inTimeWait = previous.client.state === TcpState.TIME_WAIT || previous.server.state === TcpState.TIME_WAIT;
    if (!inTimeWait) return;
    this.finding(
      'port-reuse',
      previous,
      null,
      frame.source,
      frame.frame,
      time,
      `a new connection (instance ${instance}) reuses ${previous.client.ip}:${previous.client.port} → ${previous.server.ip}:${previous.server.port} while the previous one is in TIME_WAIT`,
      { instance },
    );
  }

  private finding(
    kind: FindingKind,
    flow: StatefulFlow,
    endpoint: Role | null,
    source: number,
    frame: number,
    time: number,
    message: string,
    details: Record<string, string | number | boolean | null>,
  ): void {
    const at = endpoint === null ? null : flow.endpoint(endpoint);
    this.output.finding({
      kind,
      severity: FINDINGS[kind].severity,
      flowId: flow.id,
      endpoint,
      host: at?.ip ?? null,
      port: at?.port ?? null,
      tsNs: this.epochNs(time),
      source,
      frame,
      message,
      details: { ...details, remedy: FINDINGS[kind].remedy },
    });
  }
}

/** Sequence space an endpoint sent that its peer has not acknowledged. */
function unacked(endpoint: Endpoint, peer: Endpoint): number {
  return endpoint.sentAnything && peer.ackedAnything && seqGt(endpoint.nextSeq, peer.highestAck)
    ? (endpoint.nextSeq - peer.highestAck) >>> 0
    : 0;
}

/** The endpoint's detector evidence, made on first use. */
function evidenceOf(endpoint: Endpoint): EndpointEvidence {
  return (endpoint.evidence ??= new EndpointEvidence());
}

/** No connection left at this endpoint (or none ever shown). */
function isGone(state: TcpState): boolean {
  return state === TcpState.CLOSED || state === TcpState.UNKNOWN;
}

/** Done with this connection: a new SYN on its 4-tuple starts another. */
function isFinished(state: TcpState): boolean {
  return state === TcpState.CLOSED || state === TcpState.TIME_WAIT || state === TcpState.UNKNOWN;
}

/** Receive events that wait for the receiver's own next segment (see deliverPending). */
const DEFERRED_EVENTS = EventBit.RECV_SYN | EventBit.RECV_FIN | EventBit.RECV_FIN_WITH_ACK_OF_FIN;

const PendingVerdict = { open: 0, confirmed: 1, contradicted: 2 } as const;
type PendingVerdict = (typeof PendingVerdict)[keyof typeof PendingVerdict];

/** What an endpoint's own segment says of the SYN or FIN it has pending from its peer. */
function judgePending(endpoint: Endpoint, segment: TcpSegment): PendingVerdict {
  const flags = segment.flags;
  if (flags & TcpFlag.RST) return PendingVerdict.confirmed;
  const acks = (flags & TcpFlag.ACK) !== 0 && seqGe(seq(segment.ack), endpoint.pendingAckPoint);
  if (acks) return PendingVerdict.confirmed;
  if (endpoint.pendingEvents & EventBit.RECV_SYN && (flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN)
    return PendingVerdict.contradicted;
  if (endpoint.pendingEvents & (EventBit.RECV_FIN | EventBit.RECV_FIN_WITH_ACK_OF_FIN) && flags & TcpFlag.FIN)
    return PendingVerdict.contradicted;
  return PendingVerdict.open;
}
