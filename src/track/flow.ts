import type { Tunnel } from '../decode/tcp-segment.js';
import type { EndpointFacts } from '../tcp/classify.js';
import { type Seq, seq } from '../tcp/seq.js';
import { ALL_STATES, STATE_INDEX, TcpState } from '../tcp/tcp-state.js';
import { type CaptureTime, NO_TIME } from './capture-time.js';
import { type CloseKind, type EvictionCause, Role } from './records.js';
import { ZeekConnObserver } from './zeek-conn.js';

/** A stay in a state, with the frame that began it; `until` is -1 while it lasts. */
export interface StateVisit {
  state: TcpState;
  since: CaptureTime;
  until: CaptureTime;
  source: number;
  frame: number;
}

/** Numbers a visit takes in a VisitLog. */
export const VISIT_FIELDS = 5;

/**
 * An endpoint's visits to the timed states (isTimed), VISIT_FIELDS numbers each: the
 * state's index in ALL_STATES, since, until (-1 while it lasts), source, frame.
 * Flat numbers are stored unboxed, where a StateVisit object and its two times
 * cost every connection memory for each visit. The numbers outlive `clear()`:
 * a reused endpoint writes over them instead of growing a new array, which
 * spares the garbage collector most of its copying (docs/design-choices.md).
 */
export class VisitLog {
  readonly #fields: number[] = [];
  /** Numbers in use: VISIT_FIELDS a visit. */
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** Starts a visit to `state` (the one before, if timed, is ended by `endLast`). */
  start(state: TcpState, since: CaptureTime, source: number, frame: number): void {
    const fields = this.#fields;
    const at = this.#length;
    if (at === fields.length) fields.push(0, 0, 0, 0, 0);
    fields[at] = STATE_INDEX.get(state) as number;
    fields[at + 1] = since;
    fields[at + 2] = -1;
    fields[at + 3] = source;
    fields[at + 4] = frame;
    this.#length = at + VISIT_FIELDS;
  }

  /** Ends the last visit at `until`. */
  endLast(until: CaptureTime): void {
    if (this.#length > 0) this.#fields[this.#length - VISIT_FIELDS + 2] = until;
  }

  /** Reads the visit at `at` (a multiple of VISIT_FIELDS) into `into`, which the caller reuses: no object per visit. */
  read(at: number, into: StateVisit): StateVisit {
    const fields = this.#fields;
    into.state = ALL_STATES[fields[at]];
    into.since = fields[at + 1] as CaptureTime;
    into.until = fields[at + 2] as CaptureTime;
    into.source = fields[at + 3];
    into.frame = fields[at + 4];
    return into;
  }

  clear(): void {
    this.#length = 0;
  }
}

/** A state whose stays findings depend on (CLOSE_WAIT, FIN_WAIT2, CLOSING, SYN_RECV, TIME_WAIT): its visits are logged. */
export function isTimed(state: TcpState): boolean {
  return (
    state === TcpState.CLOSE_WAIT ||
    state === TcpState.FIN_WAIT2 ||
    state === TcpState.CLOSING ||
    state === TcpState.SYN_RECV ||
    state === TcpState.TIME_WAIT
  );
}

/**
 * What changing a state needs of an endpoint: the one handle the state door works
 * through, whether the flow is live or retired.
 */
export interface StatefulEndpoint {
  readonly role: Role;
  readonly ip: string;
  readonly port: number;
  state: TcpState;
  stateSince: CaptureTime;
  stateInferred: boolean;
  /** Null where nothing will judge the visits (a retired flow's were judged as it was handed on). */
  readonly visits: VisitLog | null;
}

/** What changing a state needs of a flow: live and retired flows both have it. */
export interface StatefulFlow {
  readonly id: number;
  readonly instance: number;
  readonly slot: number;
  /** Where the flow's last segment was captured (a timer's transition names no frame of its own). */
  readonly lastSource: number;
  closedFirstBy: Role | null;
  closeKind: CloseKind | null;
  endpoint(role: Role): StatefulEndpoint;
}

/** What the detectors need of an endpoint's retransmissions, keepalives and zero windows. */
export class EndpointEvidence {
  /** The first retransmission of the current unanswered run. */
  firstUnansweredFrame = 0;
  firstUnansweredTime = NO_TIME;
  /** Keepalive probes sent, and how the peer answered (an ACK: alive; an RST: restarted; nothing: gone). */
  keepaliveProbes = 0;
  keepaliveAcked = 0;
  keepaliveReset = 0;
  keepaliveFirstFrame = 0;
  keepaliveFirstTime = NO_TIME;
  /** Zero-window episodes this endpoint advertised, and their time in all (closed ones). */
  zeroWindowNs = 0;
  zeroWindowEpisodes = 0;
  zeroWindowFirstFrame = 0;
  zeroWindowFirstTime = NO_TIME;
  /** Probes the peer sent into this endpoint's zero window. */
  persistProbes = 0;
}

/**
 * One side of a connection: its state and what the wire showed of its sequence space.
 * Fields are declared here and given their values in reset() alone, so that a new and
 * a reused endpoint start from the same values, written once (so are Flow's).
 */
export class Endpoint implements EndpointFacts, StatefulEndpoint {
  declare ip: string;
  declare port: number;
  declare state: TcpState;
  declare stateInferred: boolean;
  /** When the current state began. */
  declare stateSince: CaptureTime;
  declare synSent: boolean;
  declare iss: Seq;
  declare synAcked: boolean;
  declare finSent: boolean;
  declare finSeq: Seq;
  /** The peer's sequence space this endpoint had acknowledged when it sent its first FIN (finAckKnown: it had acknowledged any). */
  declare finAck: Seq;
  declare finAckKnown: boolean;
  declare finAcked: boolean;
  declare peerSynReceived: boolean;
  declare peerFinReceived: boolean;
  declare sentAnything: boolean;
  declare nextSeq: Seq;
  declare ackedAnything: boolean;
  declare highestAck: Seq;
  /** Window field as last sent, and the shift that scales it (RFC 7323). */
  declare rawWindow: number;
  declare windowShift: number;
  /** Window scale announced in this endpoint's SYN, -1 for none or unseen. */
  declare windowScale: number;
  declare packets: number;
  declare bytes: number;
  declare ipBytes: number;
  declare retransmissions: number;
  /** Sequence space of this endpoint that the peer acknowledged but the capture never showed. */
  declare missedBytes: number;
  /** Segments sent whose TCP checksum could be checked (captured whole), and those of them that were bad. */
  declare verifiedChecksums: number;
  declare badChecksums: number;

  // Evidence for the detectors (findings-catalogue.ts).
  /** Retransmissions since the peer last sent anything: a dead peer shows as a long run. */
  declare unansweredRetransmissions: number;
  /** A keepalive probe is waiting for the peer's answer. */
  declare keepalivePending: boolean;
  /** Since when this endpoint has advertised a zero window, NO_TIME while it is open. */
  declare zeroWindowSince: CaptureTime;
  /** The rest of the evidence, made at the first retransmission, probe or zero window: most connections have none. */
  declare evidence: EndpointEvidence | null;
  /** Bytes in flight either way when this endpoint sent its RST, lost with the abort; -1 when it sent none. */
  declare rstLostBytes: number;
  /** A SYN or FIN from the peer not yet known to have arrived: its events (EventBit), when and where it was captured, and the ACK that confirms it. */
  declare pendingEvents: number;
  declare pendingTime: CaptureTime;
  declare pendingSource: number;
  declare pendingFrame: number;
  declare pendingAckPoint: Seq;
  /** This endpoint's own SYN or FIN left before the pending one arrived (they crossed). */
  declare pendingCrossed: boolean;
  /** This endpoint resent without acknowledging it: the pending one never arrived. */
  declare pendingRefuted: boolean;
  /** A pending FIN waits behind a hole: this endpoint's duplicate ACK showed data before the FIN missing. */
  declare pendingHole: boolean;
  /** The capture showed this endpoint still waiting on the ACK of its latest SYN or FIN: it resent it, or the peer sent after it without acknowledging it. */
  declare waitShown: boolean;
  /** Visits to the states detectors time. */
  readonly visits = new VisitLog();

  /** Last advertised window in bytes. */
  get window(): number {
    return this.rawWindow * 2 ** this.windowShift;
  }

  constructor(
    readonly role: Role,
    ip: string,
    port: number,
    initial: TcpState,
  ) {
    this.reset(ip, port, initial);
  }

  /** Every field as a new endpoint's: the tracker reuses the endpoints of flows it is done with. */
  reset(ip: string, port: number, initial: TcpState): void {
    this.ip = ip;
    this.port = port;
    this.state = initial;
    this.stateInferred = false;
    this.stateSince = NO_TIME;
    this.synSent = false;
    this.iss = seq(0);
    this.synAcked = false;
    this.finSent = false;
    this.finSeq = seq(0);
    this.finAck = seq(0);
    this.finAckKnown = false;
    this.finAcked = false;
    this.peerSynReceived = false;
    this.peerFinReceived = false;
    this.sentAnything = false;
    this.nextSeq = seq(0);
    this.ackedAnything = false;
    this.highestAck = seq(0);
    this.rawWindow = 0;
    this.windowShift = 0;
    this.windowScale = -1;
    this.packets = 0;
    this.bytes = 0;
    this.ipBytes = 0;
    this.retransmissions = 0;
    this.missedBytes = 0;
    this.verifiedChecksums = 0;
    this.badChecksums = 0;
    this.unansweredRetransmissions = 0;
    this.keepalivePending = false;
    this.waitShown = false;
    this.zeroWindowSince = NO_TIME;
    this.evidence = null;
    this.rstLostBytes = -1;
    this.pendingEvents = 0;
    this.pendingTime = NO_TIME;
    this.pendingSource = 0;
    this.pendingFrame = 0;
    this.pendingAckPoint = seq(0);
    this.pendingCrossed = false;
    this.pendingRefuted = false;
    this.pendingHole = false;
    this.visits.clear();
  }
}

/** One connection instance while it is tracked. */
export class Flow implements StatefulFlow {
  /** Index into the tracker's flow slots (the flow table's value). */
  declare slot: number;
  declare rolesGuessed: boolean;
  /** The first captured segment came from the client (otherwise Zeek would flip the roles: '^'). */
  declare firstFromClient: boolean;
  declare midstream: boolean;
  /** Zeek's conn_state and history, fed every segment. */
  readonly zeek = new ZeekConnObserver();
  /** Window scaling is in force: both SYNs carried the option (RFC 7323 §2.2). */
  declare windowScaling: boolean;
  /** Neither SYN seen, so scaling is unknown; RST checks stay lenient. */
  declare scalingUnknown: boolean;
  declare firstTime: CaptureTime;
  declare lastTime: CaptureTime;
  declare firstSource: number;
  declare firstFrame: number;
  declare lastSource: number;
  declare lastFrame: number;
  declare closedFirstBy: Role | null;
  declare closeKind: CloseKind | null;
  declare captureLossEvents: number;
  /** Dropped from memory before it ended (half-open bound, memory budget): its state at capture end is unknown. */
  declare evicted: boolean;
  declare evictedBy: EvictionCause | null;
  /** When both ends closed, it waits in the close queue until this time to absorb late segments; NO_TIME when not waiting. */
  declare handOnAt: CaptureTime;
  declare id: number;
  declare instance: number;
  declare ipVersion: 4 | 6;
  /** The tunnel its segments came through (part of its key), or null. */
  declare tunnel: Tunnel | null;
  /** Whether the client is the key's first endpoint (the table's `forward` direction). */
  declare clientIsFirst: boolean;
  readonly client = new Endpoint(Role.client, '', 0, TcpState.UNKNOWN);
  readonly server = new Endpoint(Role.server, '', 0, TcpState.UNKNOWN);

  constructor(id: number, instance: number, ipVersion: 4 | 6, clientIsFirst: boolean) {
    this.reset(id, instance, ipVersion, clientIsFirst);
  }

  /**
   * Every field as a new flow's, its Zeek observer included: the tracker reuses
   * flows it is done with, which spares the collector 1.7 KB a connection that
   * lives long enough to be copied (set the endpoints' addresses after).
   */
  reset(id: number, instance: number, ipVersion: 4 | 6, clientIsFirst: boolean): void {
    this.id = id;
    this.instance = instance;
    this.ipVersion = ipVersion;
    this.tunnel = null;
    this.clientIsFirst = clientIsFirst;
    this.zeek.reset();
    this.slot = -1;
    this.rolesGuessed = false;
    this.firstFromClient = true;
    this.midstream = false;
    this.windowScaling = false;
    this.scalingUnknown = false;
    this.firstTime = NO_TIME;
    this.lastTime = NO_TIME;
    this.firstSource = 0;
    this.firstFrame = 0;
    this.lastSource = 0;
    this.lastFrame = 0;
    this.closedFirstBy = null;
    this.closeKind = null;
    this.captureLossEvents = 0;
    this.evicted = false;
    this.evictedBy = null;
    this.handOnAt = NO_TIME;
  }

  endpoint(role: Role): Endpoint {
    return role === 'client' ? this.client : this.server;
  }
}

/** An endpoint of a retired flow: its state, and what it sent after the flow was handed on. */
export class RetiredEndpoint implements StatefulEndpoint {
  readonly visits = null;
  packetsAfter = 0;
  bytesAfter = 0;
  port = 0;
  stateSince = NO_TIME;
  stateInferred = false;
  /** RCV.NXT as the flow retired (the peer's next sequence number), to judge an RST in TIME_WAIT; unknown when false. */
  rcvNxtKnown = false;
  rcvNxt: Seq = seq(0);
  #state: TcpState = TcpState.CLOSED;

  constructor(
    readonly role: Role,
    private readonly flow: RetiredFlow,
  ) {}

  get state(): TcpState {
    return this.#state;
  }

  /** A state set after the flow's row was written makes the row stale. */
  set state(state: TcpState) {
    this.#state = state;
    this.flow.changed = true;
  }

  /** Loads the state as stored, which changes nothing. */
  load(state: TcpState, since: CaptureTime, inferred: boolean, port: number): void {
    this.#state = state;
    this.stateSince = since;
    this.stateInferred = inferred;
    this.port = port;
  }

  /** Made only when a message names the endpoint: most retired flows are loaded just to end their TIME_WAIT. */
  get ip(): string {
    return this.flow.addressOf(this.role);
  }
}

/**
 * A connection whose ends are all in TIME_WAIT or CLOSED, already handed on:
 * kept small until its TIME_WAIT ends, as the kernel swaps in a timewait socket,
 * so that a busy server's 2×MSL of closed connections does not hold full flows.
 * Late segments are counted; a new SYN starts the next instance. One instance
 * is a view that RetiredFlows loads a row into and reuses: nothing is allocated
 * per timer or late segment.
 */
export class RetiredFlow implements StatefulFlow {
  /** Something changed since the flow's row was written (a state, a late segment): it needs an update. */
  changed = false;
  id = 0;
  instance = 0;
  clientIsFirst = true;
  slot = -1;
  closedFirstBy: Role | null = null;
  closeKind: CloseKind | null = null;
  lastTime = NO_TIME;
  lastSource = 0;
  lastFrame = 0;
  readonly client = new RetiredEndpoint(Role.client, this);
  readonly server = new RetiredEndpoint(Role.server, this);

  constructor(
    /** The address of an endpoint of the flow loaded now. */
    readonly addressOf: (role: Role) => string,
  ) {}

  endpoint(role: Role): RetiredEndpoint {
    return role === 'client' ? this.client : this.server;
  }
}
