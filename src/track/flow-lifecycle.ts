import type { TcpSegment } from '../decode/tcp-segment.js';
import { seq } from '../tcp/seq.js';
import { type CaptureTime, NO_TIME } from './capture-time.js';
import { Flow, type RetiredFlow } from './flow.js';
import { FlowTable, KEY_WORDS } from './flow-table.js';
import { RetiredFlows } from './retired-flows.js';

/** Where a flow-table slot is in a connection's life: the one lifecycle field. */
export const Phase = {
  /** No flow. */
  free: 0,
  /** A live flow whose handshake has not completed: counted against the half-open bound. */
  halfOpen: 1,
  /** A live flow past its handshake (or begun without one). */
  open: 2,
  /** Handed on; a small row in RetiredFlows until its TIME_WAIT ends. */
  retired: 3,
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** When the lifecycle's queues drop the entries they have passed: injectable so tests can reach it with a few flows. */
export interface QueueCompaction {
  /** A queue compacts once this many entries at its head are passed (and they are half of it, or more). */
  passedEntries: number;
}
export const DEFAULT_QUEUE_COMPACTION: QueueCompaction = { passedEntries: 4096 };

/**
 * Flows in order, each with the id it had when queued: a flow object reused
 * for a later connection has another id, so a stale entry is known as one
 * without the flow having to remember which queues hold it.
 */
class FlowQueue {
  private flows: Flow[] = [];
  private ids: number[] = [];
  private times: CaptureTime[] = [];
  private head = 0;

  constructor(private readonly compaction: QueueCompaction) {}

  get length(): number {
    return this.flows.length - this.head;
  }

  push(flow: Flow, time: CaptureTime): void {
    this.flows.push(flow);
    this.ids.push(flow.id);
    this.times.push(time);
  }

  /** The time of the entry at the head, Infinity when empty. */
  headTime(): number {
    return this.head < this.flows.length ? this.times[this.head] : Infinity;
  }

  /** Takes the head entry: its flow, or undefined when that flow has moved on to another connection. */
  take(): Flow | undefined {
    const at = this.head++;
    const flow = this.flows[at];
    const current = flow.id === this.ids[at];
    if (this.head > this.compaction.passedEntries && this.head * 2 > this.flows.length) this.dropPassed();
    return current ? flow : undefined;
  }

  /** Keeps only the entries `keep` holds to (in order). */
  filter(keep: (flow: Flow, id: number) => boolean): void {
    const flows: Flow[] = [];
    const ids: number[] = [];
    const times: CaptureTime[] = [];
    for (let i = this.head; i < this.flows.length; i++) {
      if (!keep(this.flows[i], this.ids[i])) continue;
      flows.push(this.flows[i]);
      ids.push(this.ids[i]);
      times.push(this.times[i]);
    }
    this.flows = flows;
    this.ids = ids;
    this.times = times;
    this.head = 0;
  }

  private dropPassed(): void {
    this.flows = this.flows.slice(this.head);
    this.ids = this.ids.slice(this.head);
    this.times = this.times.slice(this.head);
    this.head = 0;
  }
}

/**
 * Flow lifecycle and memory: which slot holds which flow and in what phase, the
 * flow objects kept for reuse, the retired rows, the queue of unfinished
 * handshakes (the half-open bound) and the queue of closed flows waiting to be
 * handed on. No TCP here: the tracker says when a flow moves on.
 */
export class FlowLifecycle {
  readonly table = new FlowTable();
  readonly retired = new RetiredFlows();
  /** Most flows held in memory at once (live and retired). */
  peakFlows = 0;
  private phases = new Uint8Array(1024);
  /**
   * Each retired slot's RCV.NXT at either end (the peer's next sequence number as the
   * flow retired), to judge an RST in TIME_WAIT as Linux does: bit 1 of `rcvNxtKnown`
   * for the client's, bit 2 for the server's. Kept beside RetiredFlows' row, as long as `phases`.
   */
  private clientRcvNxt = new Int32Array(1024);
  private serverRcvNxt = new Int32Array(1024);
  private rcvNxtKnown = new Uint8Array(1024);
  /** The live flow in a slot (Phase.halfOpen or Phase.open). */
  private readonly flows: Array<Flow | undefined> = [];
  private readonly freeSlots: number[] = [];
  /** Flows handed on, to be reset for the next connection. */
  private readonly spareFlows: Flow[] = [];
  private readonly halfOpenQueue: FlowQueue;
  private readonly handOnQueue: FlowQueue;
  private halfOpen = 0;

  constructor(private readonly compaction: QueueCompaction = DEFAULT_QUEUE_COMPACTION) {
    this.halfOpenQueue = new FlowQueue(compaction);
    this.handOnQueue = new FlowQueue(compaction);
  }

  /** Slots ever used (an upper bound for `phaseOf`). */
  get slotCount(): number {
    return this.flows.length;
  }

  /** The slot of the segment's connection, or -1; `table.forward` then tells the direction. */
  find(segment: TcpSegment): number {
    return this.table.lookup(segment);
  }

  phaseOf(slot: number): Phase {
    return this.phases[slot] as Phase;
  }

  /** The live flow in `slot` (its phase is halfOpen or open). */
  liveFlow(slot: number): Flow {
    return this.flows[slot] as Flow;
  }

  /** The retired flow in `slot`, loaded into the shared view. */
  retiredFlow(slot: number): RetiredFlow {
    const view = this.retired.load(slot, this.table.keys, slot * KEY_WORDS);
    const known = this.rcvNxtKnown[slot];
    view.client.rcvNxtKnown = (known & 1) !== 0;
    view.client.rcvNxt = seq(this.clientRcvNxt[slot]);
    view.server.rcvNxtKnown = (known & 2) !== 0;
    view.server.rcvNxt = seq(this.serverRcvNxt[slot]);
    return view;
  }

  /** Whether `flow` still holds its slot as the connection it was when queued under `id`. */
  isLive(flow: Flow, id = flow.id): boolean {
    return flow.id === id && this.flows[flow.slot] === flow;
  }

  /**
   * A flow, new or reused and reset, in a free slot under the key of the segment
   * last passed to `find`.
   */
  admit(id: number, instance: number, ipVersion: 4 | 6, clientIsFirst: boolean, halfOpen: boolean, time: CaptureTime): Flow {
    const spare = this.spareFlows.pop();
    const flow = spare ?? new Flow(id, instance, ipVersion, clientIsFirst);
    if (spare !== undefined) spare.reset(id, instance, ipVersion, clientIsFirst);
    const slot = this.freeSlots.pop() ?? this.flows.length;
    if (slot >= this.phases.length) {
      const length = this.phases.length * 2;
      this.phases = grownTo(this.phases, new Uint8Array(length));
      this.clientRcvNxt = grownTo(this.clientRcvNxt, new Int32Array(length));
      this.serverRcvNxt = grownTo(this.serverRcvNxt, new Int32Array(length));
      this.rcvNxtKnown = grownTo(this.rcvNxtKnown, new Uint8Array(length));
    }
    flow.slot = slot;
    this.flows[slot] = flow;
    this.phases[slot] = halfOpen ? Phase.halfOpen : Phase.open;
    this.table.insertLast(slot);
    if (this.table.size > this.peakFlows) this.peakFlows = this.table.size;
    if (halfOpen) {
      this.halfOpen++;
      this.halfOpenQueue.push(flow, time);
    }
    return flow;
  }

  /** Whether the connection queued under `id` is still live and still half-open. */
  private stillHalfOpen(flow: Flow, id = flow.id): boolean {
    return this.isLive(flow, id) && this.phases[flow.slot] === Phase.halfOpen;
  }

  isHalfOpen(flow: Flow): boolean {
    return this.phases[flow.slot] === Phase.halfOpen;
  }

  /** The handshake completed: the flow no longer counts against the half-open bound. */
  handshakeDone(flow: Flow): void {
    this.phases[flow.slot] = Phase.open;
    this.halfOpen--;
  }

  /** The oldest flow still half-open, taken off the queue, once more than `limit` are; undefined when none is to go. */
  oldestHalfOpenBeyond(limit: number): Flow | undefined {
    while (this.halfOpen > limit && this.halfOpenQueue.length > 0) {
      const flow = this.halfOpenQueue.take();
      if (flow !== undefined && this.stillHalfOpen(flow)) return flow;
    }
    // Most handshakes complete: drop them from the queue before it holds every flow ever opened.
    if (this.halfOpenQueue.length > 2 * this.halfOpen + this.compaction.passedEntries) {
      this.halfOpenQueue.filter((flow, id) => this.stillHalfOpen(flow, id));
    }
    return undefined;
  }

  /** Both ends closed: the flow waits until `due` for late segments, then the tracker hands it on. */
  queueHandOn(flow: Flow, due: CaptureTime): void {
    if (flow.handOnAt !== NO_TIME) return;
    flow.handOnAt = due;
    this.handOnQueue.push(flow, due);
  }

  /** The next flow whose wait ended by `now` (its handOnAt cleared), or undefined. Stale entries are skipped. */
  nextHandOnDue(now: CaptureTime): Flow | undefined {
    while (this.handOnQueue.headTime() <= now) {
      const flow = this.handOnQueue.take();
      if (flow === undefined || !this.isLive(flow)) continue;
      flow.handOnAt = NO_TIME;
      return flow;
    }
    return undefined;
  }

  /** The flow was handed on and is forgotten: its slot is free and the object kept for reuse. */
  release(flow: Flow): void {
    this.leaveLive(flow);
    this.table.remove(flow.slot);
    this.phases[flow.slot] = Phase.free;
    this.freeSlots.push(flow.slot);
  }

  /** The flow was handed on and keeps only a small row in its slot until its TIME_WAIT ends. */
  retire(flow: Flow): void {
    this.retired.retire(flow);
    const { client, server, slot } = flow;
    this.clientRcvNxt[slot] = server.nextSeq;
    this.serverRcvNxt[slot] = client.nextSeq;
    this.rcvNxtKnown[slot] = (server.sentAnything ? 1 : 0) | (client.sentAnything ? 2 : 0);
    this.leaveLive(flow);
    this.phases[flow.slot] = Phase.retired;
  }

  /** Drops a retired flow: its slot is free. */
  forgetRetired(view: RetiredFlow): void {
    this.table.remove(view.slot);
    this.retired.clear(view.slot);
    this.phases[view.slot] = Phase.free;
    this.freeSlots.push(view.slot);
  }

  private leaveLive(flow: Flow): void {
    if (this.phases[flow.slot] === Phase.halfOpen) this.halfOpen--;
    this.flows[flow.slot] = undefined;
    this.spareFlows.push(flow);
  }
}

/** `grown` with `old` copied into its start. */
function grownTo<T extends Uint8Array | Int32Array>(old: T, grown: T): T {
  grown.set(old);
  return grown;
}
