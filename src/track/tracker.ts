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
 * - Memory is bounded by settings, not by the input: past the half-open bound the
 *   oldest unfinished handshakes, past the memory budget (`memoryBytes`, estimated
 *   as connections in memory × their measured size) the least recently seen
 *   connections are handed on as they stand, marked evicted, their states those
 *   they had then (inferred: what came after is unknown). A later segment of an
 *   evicted connection starts a new flow, midstream, as if the capture began there.
 *
 * Its parts: FlowLifecycle (slots, reuse, queues, retirement), SegmentStep (one
 * segment of a live flow, in phases), StateDoor (the only code that assigns a
 * state) and RecordsOut (what is handed on). This file puts them together:
 * which flow a segment belongs to, how a flow starts and ends, and the clock.
 */
import type { CapturedFrame } from '../capture/captured-frame.js';
import { AddressNames } from '../decode/format-address.js';
import { ChecksumStatus, TcpFlag, type TcpSegment } from '../decode/tcp-segment.js';
import { EndpointEvent } from '../tcp/endpoint-event.js';
import { seq, seqAdd } from '../tcp/seq.js';
import { isSynchronized, TcpState } from '../tcp/tcp-state.js';
import { CaptureClock, type CaptureTime, later, NS_PER_SECOND } from './capture-time.js';
import type { AggregateParts } from './aggregates.js';
import { Detectors } from './detectors.js';
import type { DetectorThresholds } from './finding-catalogue.js';
import type { Flow, RetiredFlow, StatefulFlow } from './flow.js';
import { DEFAULT_QUEUE_COMPACTION, FlowLifecycle, Phase, type QueueCompaction } from './flow-lifecycle.js';
import { Listeners } from './listeners.js';
import { EvictionCause, type Role, type TrackerOutput } from './records.js';
import { RecordsOut, unacked } from './records-out.js';
import { countChecksum, observeZeek, SegmentStep } from './segment-step.js';
import { StateDoor } from './state-door.js';
import { IdleOrder } from './idle-order.js';
import { TimeWaitQueue } from './time-wait-queue.js';

export interface TrackerOptions {
  /** How long TIME_WAIT lasts (2×MSL): 60 s on Linux, 240 s Windows' default, 30 s macOS/BSD. */
  timeWaitSeconds?: number;
  /** Most connections with an unfinished handshake kept at once; the oldest idle are evicted beyond it. */
  halfOpenLimit?: number;
  /**
   * The memory budget of connection state, in bytes (default: none; `analyze` sizes it to the
   * machine, memory-budget.ts). Estimated as live connections × BYTES_PER_LIVE_FLOW + retired ones
   * (TIME_WAIT rows) × BYTES_PER_RETIRED_FLOW; past it the least recently seen live connections are
   * handed on as they stand and evicted.
   */
  memoryBytes?: number;
  /** Called once, when the memory budget is first reached (the CLI says so on stderr). */
  onMemoryBudget?: () => void;
  /** How long a closed connection stays to absorb late segments before it is handed on. */
  closedLingerSeconds?: number;
  /** Called after every segment with both endpoints' states after it (the flow ladder uses it). */
  onSegment?: SegmentObserver;
  /** Where the detectors draw their lines (finding-catalogue.ts). */
  thresholds?: Partial<DetectorThresholds>;
  /** When the internal queues drop passed entries (tests make it small). */
  queueCompaction?: QueueCompaction;
  /**
   * Segments with a bad TCP checksum: `keep` (the default) tracks them, as a capture taken on a
   * sending host shows every outgoing segment "bad" (checksum offload); `drop` ignores them, as Zeek does.
   */
  checksums?: ChecksumPolicy;
  /**
   * Keep the per-host findings' parts instead of making the findings at the end
   * (`shardResult()`): a shard holds only some of each host's connections, and the
   * findings are made once the shards are merged.
   */
  keepAggregates?: boolean;
}

/** What a shard's merge needs of its tracker: the per-host findings' parts, and the times they are counted in. */
export interface ShardTracking {
  /** Epoch ns of capture time 0 (the first TCP segment's whole second). */
  baseNs: bigint;
  /** From the first TCP segment to the last, ns. */
  spanNs: number;
  thresholds: DetectorThresholds;
  timeWaitNs: number;
  parts: AggregateParts;
}

export type ChecksumPolicy = 'keep' | 'drop';

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
/**
 * What a live connection costs the process, so that peak RSS stays within the budget
 * plus Node's own base (docs/scale.md): 2,100 bytes of live state (V8 heap after a full
 * collection plus typed arrays, on 500,000 established connections of
 * scripts/bench/make-established-pcap.mjs), and the room V8 takes before it collects
 * (--heap-growing-percent=50) and the writer's batches. Measured on 2 M connections under
 * --memory 1G: 2,100 peaked at 1,571 MiB, 3,200 at 1,232, 3,600 at 1,153, 3,800 at 1,110
 * (Node's base, a tiny capture: 93 MiB).
 */
export const BYTES_PER_LIVE_FLOW = 3_800;
/** What a retired connection (a TIME_WAIT row, its key, its timer) costs, measured the same way. */
export const BYTES_PER_RETIRED_FLOW = 200;

export interface TrackerStats {
  segments: number;
  flows: number;
  /** Connections dropped by the half-open bound before they completed or closed. */
  evictedHalfOpen: number;
  /** Connections dropped by the memory budget (the least recently seen) before they ended. */
  evictedConnections: number;
  /** Most flows held in memory at once. */
  peakFlowsInMemory: number;
  /** Segments whose checksum could be checked (captured whole), and those of them that were bad. */
  verifiedChecksums: number;
  badChecksums: number;
  /** Bad ones left out of tracking (`checksums: 'drop'`). */
  droppedBadChecksums: number;
}

export class Tracker {
  readonly stats: TrackerStats = {
    segments: 0,
    flows: 0,
    evictedHalfOpen: 0,
    evictedConnections: 0,
    peakFlowsInMemory: 0,
    verifiedChecksums: 0,
    badChecksums: 0,
    droppedBadChecksums: 0,
  };
  /** Ports that answered a SYN with SYN-ACK. */
  readonly listeners = new Listeners();
  private readonly clock = new CaptureClock();
  private readonly lifecycle: FlowLifecycle;
  private readonly timeWaits = new TimeWaitQueue();
  private readonly records: RecordsOut;
  private readonly door: StateDoor;
  private readonly step: SegmentStep;
  private readonly detectors: Detectors;
  private readonly addressNames = new AddressNames();
  private readonly timeWaitNs: number;
  private readonly lingerNs: number;
  private readonly halfOpenLimit: number;
  private readonly memoryBytes: number;
  private readonly onMemoryBudget: (() => void) | undefined;
  /** Live flows from least to most recently seen: the memory budget evicts the head. */
  private readonly idle = new IdleOrder();
  private readonly onSegment: SegmentObserver | undefined;
  private readonly dropBadChecksums: boolean;
  private readonly keepAggregates: boolean;
  private nextFlowId = 1;
  /** Latest capture time seen: timers fire against it. */
  private now = 0 as CaptureTime;
  private firstTime = 0 as CaptureTime;

  constructor(output: TrackerOutput, options: TrackerOptions = {}) {
    this.timeWaitNs = (options.timeWaitSeconds ?? DEFAULT_TIME_WAIT_SECONDS) * NS_PER_SECOND;
    this.lingerNs = (options.closedLingerSeconds ?? DEFAULT_CLOSED_LINGER_SECONDS) * NS_PER_SECOND;
    this.halfOpenLimit = options.halfOpenLimit ?? DEFAULT_HALF_OPEN_LIMIT;
    this.memoryBytes = options.memoryBytes ?? Infinity;
    this.onMemoryBudget = options.onMemoryBudget;
    this.onSegment = options.onSegment;
    this.dropBadChecksums = options.checksums === 'drop';
    this.keepAggregates = options.keepAggregates ?? false;
    this.lifecycle = new FlowLifecycle(options.queueCompaction ?? DEFAULT_QUEUE_COMPACTION);
    this.records = new RecordsOut(output, this.clock);
    this.door = new StateDoor(this.records, this.timeWaits, this.timeWaitNs);
    this.step = new SegmentStep(this.door, this.records);
    this.detectors = new Detectors(output, (time) => this.clock.epochNs(time), this.timeWaitNs, options.thresholds);
  }

  /** Integer nanoseconds since the Unix epoch of a tracker time. */
  epochNs(time: CaptureTime): bigint {
    return this.clock.epochNs(time);
  }

  /** Feeds one decoded segment of `frame`. */
  track(frame: CapturedFrame, segment: TcpSegment): void {
    this.stats.segments++;
    const time = this.elapse(frame);
    const lifecycle = this.lifecycle;
    const slot = lifecycle.find(segment);
    const forward = lifecycle.table.forward;
    const phase = slot < 0 ? Phase.free : lifecycle.phaseOf(slot);
    if (segment.checksumStatus !== ChecksumStatus.unverified) this.noteChecksum(segment.checksumStatus);
    if (this.dropBadChecksums && segment.checksumStatus === ChecksumStatus.bad) {
      this.stats.droppedBadChecksums++;
      if (phase === Phase.halfOpen || phase === Phase.open) this.noteDropped(lifecycle.liveFlow(slot), segment, forward);
      return;
    }
    let flow: Flow | undefined;
    let instance = 1;
    if (phase === Phase.retired) {
      const retired = lifecycle.retiredFlow(slot);
      if (!isBareSyn(segment)) {
        this.lateSegment(retired, segment, forward === retired.clientIsFirst, frame, time);
        return;
      }
      instance = this.replace(retired, frame, time);
      this.forgetRetired(retired);
    } else if (phase !== Phase.free) {
      flow = lifecycle.liveFlow(slot);
      if (this.startsNewInstance(flow, segment, forward === flow.clientIsFirst)) {
        instance = this.replace(flow, frame, time);
        this.handOn(flow);
        flow = undefined;
      }
    }
    if (flow === undefined) flow = this.startFlow(segment, forward, frame, time, instance);
    const fromClient = forward === flow.clientIsFirst;
    this.step.process(flow, segment, fromClient, frame, time);
    this.idle.touch(flow.slot);
    this.afterSegment(flow, segment, time);
    this.onSegment?.(flow.id, fromClient, segment, frame, flow.client.state, flow.server.state);
    if (this.retirable(flow)) this.retire(flow);
  }

  /** The capture's count of checked and bad checksums. */
  private noteChecksum(status: ChecksumStatus): void {
    this.stats.verifiedChecksums++;
    if (status === ChecksumStatus.bad) this.stats.badChecksums++;
  }

  /** A bad-checksum segment left out of tracking: counted on its sender, and Zeek's history notes it ('C'). */
  private noteDropped(flow: Flow, segment: TcpSegment, forward: boolean): void {
    const fromClient = forward === flow.clientIsFirst;
    countChecksum(fromClient ? flow.client : flow.server, segment.checksumStatus);
    observeZeek(flow, fromClient, segment, true);
  }

  /**
   * Lets capture time run on to `frame`'s (timers fire), for a segment of a
   * connection tracked elsewhere (another shard): the capture's span and every
   * timer are then what one run over all connections has. Returns its time.
   */
  elapse(frame: CapturedFrame): CaptureTime {
    if (!this.clock.started) this.firstTime = this.now = this.clock.start(frame);
    const time = this.clock.timeOf(frame);
    if (time > this.now) {
      this.now = time;
      this.fireTimers(time);
    }
    return time;
  }

  /** Lets capture time run on to `epochNs` (timers fire) without a packet. */
  advanceTo(epochNs: bigint): void {
    if (!this.clock.started) return;
    const time = this.clock.fromEpochNs(epochNs);
    if (time > this.now) {
      this.now = time;
      this.fireTimers(time);
    }
  }

  /** Every endpoint of the flows in memory now, with its state and unacknowledged bytes (netstat's Send-Q). */
  snapshot(): Array<{ flowId: number; role: Role; state: TcpState; unackedBytes: number }> {
    const out: Array<{ flowId: number; role: Role; state: TcpState; unackedBytes: number }> = [];
    const lifecycle = this.lifecycle;
    for (let slot = 0; slot < lifecycle.slotCount; slot++) {
      const phase = lifecycle.phaseOf(slot);
      if (phase === Phase.free) continue;
      if (phase === Phase.retired) {
        const retired = lifecycle.retiredFlow(slot);
        for (const endpoint of [retired.client, retired.server])
          out.push({ flowId: retired.id, role: endpoint.role, state: endpoint.state, unackedBytes: 0 });
        continue;
      }
      const flow = lifecycle.liveFlow(slot);
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
    const lifecycle = this.lifecycle;
    for (let slot = 0; slot < lifecycle.slotCount; slot++) {
      const phase = lifecycle.phaseOf(slot);
      // Unchanged retired flows are as their rows say: nothing to load or tell.
      if (phase === Phase.retired) {
        if (lifecycle.retired.changed(slot)) this.forgetRetired(lifecycle.retiredFlow(slot));
      } else if (phase !== Phase.free) this.handOn(lifecycle.liveFlow(slot));
    }
    if (!this.keepAggregates) this.detectors.finish(this.now - this.firstTime);
  }

  /** After `finish`, with `keepAggregates`: what merging this shard with the others needs. */
  shardResult(): ShardTracking {
    return {
      baseNs: this.clock.epochNs(0 as CaptureTime),
      spanNs: this.now - this.firstTime,
      thresholds: this.detectors.thresholds,
      timeWaitNs: this.timeWaitNs,
      parts: this.detectors.aggregates.parts(),
    };
  }

  // ---------------------------------------------------------------- how a flow starts

  private startFlow(segment: TcpSegment, forward: boolean, frame: CapturedFrame, time: CaptureTime, instance: number): Flow {
    const flags = segment.flags;
    const syn = (flags & TcpFlag.SYN) !== 0;
    const ack = (flags & TcpFlag.ACK) !== 0;
    const rst = (flags & TcpFlag.RST) !== 0;
    // Client: the sender of a bare SYN; the receiver of a SYN-ACK; otherwise guessed from the ports.
    const senderIsClient = syn ? !ack : this.guessSenderIsClient(segment);
    const src = this.addressNames.source(segment);
    const dst = this.addressNames.destination(segment);
    const [clientIp, clientPort, serverIp, serverPort] = senderIsClient
      ? [src, segment.srcPort, dst, segment.dstPort]
      : [dst, segment.dstPort, src, segment.srcPort];
    const id = this.nextFlowId++;
    const flow = this.lifecycle.admit(id, instance, segment.ipVersion, forward === senderIsClient, syn, time);
    this.idle.add(flow.slot);
    flow.tunnel = segment.tunnel;
    const { client, server } = flow;
    client.reset(clientIp, clientPort, syn ? TcpState.CLOSED : TcpState.UNKNOWN);
    server.reset(serverIp, serverPort, TcpState.UNKNOWN);
    client.stateSince = server.stateSince = time;
    this.stats.flows++;
    this.stats.peakFlowsInMemory = this.lifecycle.peakFlows;
    flow.rolesGuessed = !syn;
    flow.scalingUnknown = !syn;
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
      this.door.apply(
        flow,
        client,
        EndpointEvent.SEND_SYN,
        frame.source,
        frame.frame,
        time,
        true,
        'SYN not captured; the SYN-ACK proves it was sent',
      );
    } else if (!syn && !rst) this.pickUpMidstream(flow, frame, time);
    // An RST first: the connection it belonged to began before the capture, or is already gone; whether
    // its receiver took it is unknown (RCV.NXT unseen), so what it does is inferred.
    else if (rst) flow.midstream = true;
    if (syn) this.enforceHalfOpenLimit(frame, time);
    this.enforceMemoryBudget(flow, frame, time);
    return flow;
  }

  /** No handshake captured: both ends are taken as ESTABLISHED, inferred. */
  private pickUpMidstream(flow: Flow, frame: CapturedFrame, time: CaptureTime): void {
    flow.midstream = true;
    for (const endpoint of [flow.client, flow.server]) {
      endpoint.synSent = endpoint.synAcked = endpoint.peerSynReceived = true;
      this.door.apply(flow, endpoint, EndpointEvent.MIDSTREAM_PICKUP, frame.source, frame.frame, time, true);
    }
    const { server } = flow;
    this.records.finding(
      'midstream-pickup',
      flow,
      null,
      frame.source,
      frame.frame,
      time,
      `${this.stats.evictedConnections > 0 ? 'no SYN seen: the capture starts inside this connection, or the memory budget evicted it earlier' : 'the capture starts inside this connection (no SYN seen)'}; ${server.ip}:${server.port} is taken as the server by the port heuristic`,
      {},
    );
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
    const synAck = isSynAck(segment);
    if (!synAck && !isBareSyn(segment)) return false;
    const sender = fromClient ? flow.client : flow.server;
    if (sender.synSent && sender.iss === seq(segment.seq)) return false; // a retransmitted SYN or SYN-ACK
    if (isFinished(flow.client.state) && isFinished(flow.server.state)) return true;
    // An endpoint that sent its FIN never sends a SYN or SYN-ACK on that connection again: a new connection
    // (its old socket is gone, or in a TIME_WAIT the capture did not show the end of), its SYN not captured.
    if (sender.finSent) return true;
    if (synAck) return false;
    // A new connect() from the same port after an attempt nobody answered.
    return (
      fromClient && flow.client.state === TcpState.SYN_SENT && !isSynchronized(flow.server.state) && flow.server.state !== TcpState.SYN_RECV
    );
  }

  /** A new SYN on the 4-tuple: the old connection's TIME_WAIT is taken over; returns the new instance number (the caller drops the old). */
  private replace(old: StatefulFlow, frame: CapturedFrame, time: CaptureTime): number {
    const instance = old.instance + 1;
    const client = old.endpoint('client');
    const server = old.endpoint('server');
    if (client.state === TcpState.TIME_WAIT || server.state === TcpState.TIME_WAIT) {
      this.records.finding(
        'port-reuse',
        old,
        null,
        frame.source,
        frame.frame,
        time,
        `a new connection (instance ${instance}) reuses ${client.ip}:${client.port} → ${server.ip}:${server.port} while the previous one is in TIME_WAIT`,
        { instance },
      );
    }
    for (const endpoint of [client, server]) {
      if (endpoint.state === TcpState.TIME_WAIT)
        this.door.apply(old, endpoint, EndpointEvent.REPLACED_BY_NEW_CONNECTION, frame.source, frame.frame, time, false);
    }
    return instance;
  }

  // ---------------------------------------------------------------- after a segment

  /** What the segment means to the flow's life: a listener seen, the handshake done, both ends closed. */
  private afterSegment(flow: Flow, segment: TcpSegment, time: CaptureTime): void {
    if ((segment.flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK) && !flow.rolesGuessed) this.noteListener(flow, time);
    if (this.lifecycle.isHalfOpen(flow) && (isSynchronized(flow.client.state) || isSynchronized(flow.server.state)))
      this.lifecycle.handshakeDone(flow);
    if (bothGone(flow)) this.lifecycle.queueHandOn(flow, later(time, this.lingerNs));
  }

  private noteListener(flow: Flow, time: CaptureTime): void {
    const server = flow.server;
    if (!this.listeners.has(server.ip, server.port))
      this.listeners.add({
        ip: server.ip,
        port: server.port,
        ipVersion: flow.ipVersion,
        firstNs: this.clock.epochNs(time),
        flowId: flow.id,
      });
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

  /** A segment after the flow retired (a resent FIN, its ACK, an RST): counted; an RST ends TIME_WAIT. */
  private lateSegment(retired: RetiredFlow, segment: TcpSegment, fromClient: boolean, frame: CapturedFrame, time: CaptureTime): void {
    const sender = fromClient ? retired.client : retired.server;
    const receiver = fromClient ? retired.server : retired.client;
    retired.changed = true;
    sender.packetsAfter++;
    sender.bytesAfter += segment.payloadLength;
    retired.lastTime = time;
    retired.lastSource = frame.source;
    retired.lastFrame = frame.frame;
    if (segment.flags & TcpFlag.RST) {
      if (sender.state === TcpState.TIME_WAIT)
        this.door.apply(retired, sender, EndpointEvent.SEND_RST, frame.source, frame.frame, time, false);
      // A timewait socket takes an RST only at exactly its RCV.NXT (tcp_timewait_state_process, tcp_rfc1337=0);
      // any other, a stale one answering an old duplicate, is dropped and TIME_WAIT goes on.
      if (receiver.state === TcpState.TIME_WAIT && (!receiver.rcvNxtKnown || seq(segment.seq) === receiver.rcvNxt))
        this.door.apply(retired, receiver, EndpointEvent.RECV_RST, frame.source, frame.frame, time, !receiver.rcvNxtKnown);
    } else if (sender.state === TcpState.TIME_WAIT && this.step.showedLoss) {
      // Its answer to a late segment may draw an RST that ends its TIME_WAIT: in a capture that loses frames, one unseen.
      sender.stateInferred = true;
    }
    this.onSegment?.(retired.id, fromClient, segment, frame, retired.client.state, retired.server.state);
    // Kept until its TIME_WAIT timer, even once an RST ended it: a duplicate or delayed segment of this
    // connection (a second copy of that RST) is still a late segment, not a new connection's first.
    this.lifecycle.retired.storeBack(retired);
  }

  // ---------------------------------------------------------------- how a flow ends

  /** Hands a live flow on to the output and forgets it. */
  private handOn(flow: Flow): void {
    this.recordEnd(flow);
    this.idle.remove(flow.slot);
    this.lifecycle.release(flow);
  }

  /** Hands the flow on now and keeps only a small row in its slot until its TIME_WAIT ends. */
  private retire(flow: Flow): void {
    this.recordEnd(flow);
    this.idle.remove(flow.slot);
    this.lifecycle.retire(flow);
  }

  private recordEnd(flow: Flow): void {
    this.step.settlePending(flow, flow.client);
    this.step.settlePending(flow, flow.server);
    this.detectors.flow(flow, this.now);
    this.records.flow(flow);
  }

  /** A retired flow whose ends are both gone is dropped; otherwise its row is written back. */
  private storeOrForget(retired: RetiredFlow): void {
    if (bothGone(retired)) this.forgetRetired(retired);
    else this.lifecycle.retired.storeBack(retired);
  }

  /** Drops a retired flow, telling the output how it ended if that differs from its row. */
  private forgetRetired(retired: RetiredFlow): void {
    this.lifecycle.forgetRetired(retired);
    // Most are still in TIME_WAIT when the capture ends, just as their rows say.
    if (retired.changed) this.records.flowUpdate(retired);
  }

  // ---------------------------------------------------------------- the clock

  private fireTimers(now: CaptureTime): void {
    const waits = this.timeWaits;
    const lifecycle = this.lifecycle;
    while (waits.nextExpiry() <= now) {
      waits.take();
      const { slot, flowId, role, since, expires } = waits;
      const phase = lifecycle.phaseOf(slot);
      if (phase === Phase.retired) {
        if (lifecycle.retired.flowId(slot) !== flowId) continue;
        const retired = lifecycle.retiredFlow(slot);
        this.expireTimeWait(retired, role, since, expires);
        this.storeOrForget(retired);
      } else if (phase !== Phase.free) {
        const flow = lifecycle.liveFlow(slot);
        if (flow.id === flowId && this.expireTimeWait(flow, role, since, expires) && bothGone(flow)) this.handOn(flow);
      }
    }
    for (let flow = lifecycle.nextHandOnDue(now); flow !== undefined; flow = lifecycle.nextHandOnDue(now)) {
      if (bothGone(flow)) this.handOn(flow);
    }
  }

  /** Ends the endpoint's TIME_WAIT if the timer is still its own (not of an earlier stay); true when it did. */
  private expireTimeWait(flow: StatefulFlow, role: Role, since: CaptureTime, expires: CaptureTime): boolean {
    const endpoint = flow.endpoint(role);
    if (endpoint.state !== TcpState.TIME_WAIT || endpoint.stateSince !== since) return false;
    this.door.apply(flow, endpoint, EndpointEvent.TIME_WAIT_EXPIRED, flow.lastSource, null, expires, true);
    return true;
  }

  /** Keeps at most `halfOpenLimit` unfinished handshakes: a SYN flood must not exhaust memory. */
  private enforceHalfOpenLimit(frame: CapturedFrame, time: CaptureTime): void {
    for (let oldest = this.lifecycle.oldestHalfOpenBeyond(this.halfOpenLimit); oldest !== undefined;) {
      oldest.evicted = true;
      oldest.evictedBy = EvictionCause.halfOpenLimit;
      if (++this.stats.evictedHalfOpen === 1) {
        this.records.finding(
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
      oldest = this.lifecycle.oldestHalfOpenBeyond(this.halfOpenLimit);
    }
  }

  /** Memory held by connection state now, as estimated from counts (no process.memoryUsage per packet). */
  private estimatedBytes(): number {
    const live = this.idle.size;
    return live * BYTES_PER_LIVE_FLOW + (this.lifecycle.table.size - live) * BYTES_PER_RETIRED_FLOW;
  }

  /**
   * Keeps the estimate within the memory budget: the least recently seen live connections
   * (never `admitted`, the one just made) are handed on as they stand, marked evicted.
   */
  private enforceMemoryBudget(admitted: Flow, frame: CapturedFrame, time: CaptureTime): void {
    while (this.estimatedBytes() > this.memoryBytes) {
      const slot = this.idle.idlest;
      if (slot < 0 || slot === admitted.slot) return;
      const idlest = this.lifecycle.liveFlow(slot);
      idlest.evicted = true;
      idlest.evictedBy = EvictionCause.memory;
      if (++this.stats.evictedConnections === 1) {
        this.onMemoryBudget?.();
        this.records.finding(
          'memory-evicted',
          idlest,
          null,
          frame.source,
          frame.frame,
          time,
          `the memory budget of ${(this.memoryBytes / 2 ** 20).toFixed(1)} MiB was reached; the least recently seen connections are handed on as they stand and end as evicted`,
          { budget_bytes: this.memoryBytes },
        );
      }
      this.handOn(idlest);
    }
  }
}

function isSynAck(segment: TcpSegment): boolean {
  return (segment.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === (TcpFlag.SYN | TcpFlag.ACK);
}

function isBareSyn(segment: TcpSegment): boolean {
  return (segment.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === TcpFlag.SYN;
}

/** No connection left at this endpoint (or none ever shown). */
function isGone(state: TcpState): boolean {
  return state === TcpState.CLOSED || state === TcpState.UNKNOWN;
}

function bothGone(flow: { readonly client: { readonly state: TcpState }; readonly server: { readonly state: TcpState } }): boolean {
  return isGone(flow.client.state) && isGone(flow.server.state);
}

/** Done with this connection: a new SYN on its 4-tuple starts another. */
function isFinished(state: TcpState): boolean {
  return state === TcpState.CLOSED || state === TcpState.TIME_WAIT || state === TcpState.UNKNOWN;
}
