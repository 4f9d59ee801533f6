// Drives the tracker one segment at a time, as a client and a server would send
// them, for tests that start a connection in a given state and assert what the
// next segments do to it. Each side keeps its own sequence numbers and
// acknowledges what it has received, as TCP does; any field can be overridden
// for a segment a real stack would not send.
import { CapturedFrame } from '../../src/capture/captured-frame.js';
import { ChecksumStatus, TcpFlag, TcpSegment } from '../../src/decode/tcp-segment.js';
import type { TcpState } from '../../src/tcp/tcp-state.js';
import { CollectedOutput } from '../../src/track/collect-output.js';
import type { Role, TransitionRecord } from '../../src/track/records.js';
import { Tracker, type TrackerOptions } from '../../src/track/tracker.js';
import { ipv4Word } from './build-packets.js';

export type Side = Role;

/** Flag names as Wireshark writes them, joined by spaces: 'SYN', 'SYN ACK', 'FIN ACK', 'RST'. */
export type Flags = string;

export interface SegmentFields {
  /** Payload bytes (default 0). */
  len?: number;
  /** Raw sequence number; default: the side's next one. Given, it is a resend, or on a SYN a new ISN. */
  seq?: number;
  /** Raw acknowledgement number; default: the peer's next sequence number (all it sent arrived). */
  ack?: number;
  window?: number;
  /** Seconds since the previous segment (default 0.001). */
  after?: number;
  /** Another client port: another connection from the same host (its sequence numbers are the caller's). */
  clientPort?: number;
  /** What the decoder found of its TCP checksum (default: not checked, as for a segment cut by the snap length). */
  checksum?: keyof typeof ChecksumStatus;
}

const CLIENT = { ip: '10.0.0.1', port: 40000, iss: 1000 };
const SERVER = { ip: '10.0.0.2', port: 80, iss: 5000 };
const NS = 1e9;
const START_SECOND = 1_700_000_000;

function flagBits(flags: Flags): number {
  let bits = 0;
  for (const name of flags.split(/\s+/).filter(Boolean)) {
    const bit = TcpFlag[name as keyof typeof TcpFlag];
    if (bit === undefined) throw new Error(`unknown TCP flag ${name}`);
    bits |= bit;
  }
  return bits;
}

/** One connection between 10.0.0.1:40000 (client) and 10.0.0.2:80 (server), fed to a Tracker. */
export class Connection {
  readonly output = new CollectedOutput();
  readonly tracker: Tracker;
  /** Both endpoints' states after each segment, as the tracker reports them. */
  readonly states: Array<{ client: TcpState; server: TcpState; flowId: number }> = [];
  /** Each side's next sequence number; everything sent is taken to arrive, so it is also what the peer acknowledges. */
  private readonly next = { client: CLIENT.iss, server: SERVER.iss };
  private timeNs = 0;
  private frameNumber = 0;
  private readonly frame = new CapturedFrame();
  private readonly segment = new TcpSegment();

  constructor(options: TrackerOptions = {}) {
    this.tracker = new Tracker(this.output, {
      ...options,
      onSegment: (flowId, _fromClient, _segment, _frame, client, server) => this.states.push({ client, server, flowId }),
    });
  }

  /** A side's next raw sequence number. */
  nextSeq(side: Side): number {
    return this.next[side] >>> 0;
  }

  client(flags: Flags, fields: SegmentFields = {}): this {
    return this.send('client', flags, fields);
  }

  server(flags: Flags, fields: SegmentFields = {}): this {
    return this.send('server', flags, fields);
  }

  /** Sends one segment from `side`; SYN and FIN take a sequence number, as does payload. */
  send(side: Side, flags: Flags, fields: SegmentFields = {}): this {
    const bits = flagBits(flags);
    const peer: Side = side === 'client' ? 'server' : 'client';
    const from = side === 'client' ? CLIENT : SERVER;
    const to = side === 'client' ? SERVER : CLIENT;
    const len = fields.len ?? 0;
    const seqNumber = fields.seq ?? this.next[side];
    const s = this.segment;
    s.ipVersion = 4;
    s.src0 = ipv4Word(from.ip);
    s.dst0 = ipv4Word(to.ip);
    s.src1 = s.src2 = s.src3 = s.dst1 = s.dst2 = s.dst3 = 0;
    const clientPort = fields.clientPort ?? CLIENT.port;
    s.srcPort = side === 'client' ? clientPort : from.port;
    s.dstPort = side === 'client' ? to.port : clientPort;
    s.flags = bits;
    s.seq = seqNumber >>> 0;
    s.ack = (bits & TcpFlag.ACK ? (fields.ack ?? this.next[peer]) : 0) >>> 0;
    s.window = fields.window ?? 65535;
    s.windowScale = -1;
    s.payloadLength = s.capturedPayloadLength = len;
    s.headerLength = 20;
    s.ipLength = 40 + len;
    s.checksumStatus = ChecksumStatus[fields.checksum ?? 'unverified'];
    const used = len + (bits & TcpFlag.SYN ? 1 : 0) + (bits & TcpFlag.FIN ? 1 : 0);
    // A given sequence number resends (the side's next stays), except a SYN's, which starts a new ISN.
    const newIsn = (bits & TcpFlag.SYN) !== 0 && fields.seq !== undefined;
    if (!(bits & TcpFlag.RST) && (fields.seq === undefined || newIsn) && fields.clientPort === undefined)
      this.next[side] = (seqNumber + used) >>> 0;
    this.timeNs += Math.round((fields.after ?? 0.001) * NS);
    const f = this.frame;
    f.frame = ++this.frameNumber;
    f.tsSec = START_SECOND + Math.floor(this.timeNs / NS);
    f.tsNsec = this.timeNs % NS;
    this.tracker.track(f, s);
    return this;
  }

  /** Lets `seconds` of capture time pass with no segment (timers fire). */
  wait(seconds: number): this {
    this.timeNs += Math.round(seconds * NS);
    this.tracker.advanceTo(BigInt(START_SECOND) * 1_000_000_000n + BigInt(this.timeNs));
    return this;
  }

  /** The state of `side` after the last segment (or timer, once `snapshot` is taken). */
  state(side: Side): TcpState {
    const last = this.states[this.states.length - 1];
    if (last === undefined) throw new Error('no segment sent yet');
    return last[side];
  }

  /** `side`'s state in the tracker's memory now (after timers), or undefined once the flow is gone. */
  stateNow(side: Side, flowId = this.flowId()): TcpState | undefined {
    return this.tracker.snapshot().find((e) => e.flowId === flowId && e.role === side)?.state;
  }

  flowId(): number {
    return this.states[this.states.length - 1]?.flowId ?? 0;
  }

  /** The transitions of `side` recorded so far, as "FROM→TO". */
  path(side: Side, flowId = this.flowId()): string[] {
    return this.transitions(side, flowId).map((t) => `${t.fromState}→${t.toState}`);
  }

  transitions(side: Side, flowId = this.flowId()): TransitionRecord[] {
    return this.output.transitions.filter((t) => t.endpoint === side && t.flowId === flowId);
  }

  findings(kind: string): CollectedOutput['findings'] {
    return this.output.findings.filter((f) => f.kind === kind);
  }

  /** Ends the capture: every flow is handed on. */
  finish(): CollectedOutput {
    this.tracker.finish();
    return this.output;
  }
}

/**
 * A connection brought to `state` by the segments a real pair of stacks would
 * exchange to get there, with the endpoint that holds it: the client for the
 * states of the side that opens and closes first, the server for SYN_RECV,
 * CLOSE_WAIT and LAST_ACK (the passive side). Both states are listed in the comment
 * of each case.
 */
export function flowIn(state: TcpState, options: TrackerOptions = {}): { c: Connection; side: Side } {
  const c = new Connection(options);
  const open = (): void => void c.client('SYN').server('SYN ACK').client('ACK');
  switch (state) {
    case 'SYN_SENT': // client SYN_SENT, server UNKNOWN (its SYN not yet shown to arrive)
      c.client('SYN');
      return { c, side: 'client' };
    case 'SYN_RECV': // client SYN_SENT, server SYN_RECV
      c.client('SYN').server('SYN ACK');
      return { c, side: 'server' };
    case 'ESTABLISHED': // both ESTABLISHED
      open();
      return { c, side: 'client' };
    case 'FIN_WAIT1': // client FIN_WAIT1, server ESTABLISHED (the FIN not yet shown to arrive)
      open();
      c.client('FIN ACK');
      return { c, side: 'client' };
    case 'FIN_WAIT2': // client FIN_WAIT2, server CLOSE_WAIT
      open();
      c.client('FIN ACK').server('ACK');
      return { c, side: 'client' };
    case 'CLOSE_WAIT': // client FIN_WAIT2, server CLOSE_WAIT
      open();
      c.client('FIN ACK').server('ACK');
      return { c, side: 'server' };
    case 'LAST_ACK': // client FIN_WAIT2 (the server's FIN not yet shown to arrive), server LAST_ACK
      open();
      c.client('FIN ACK').server('ACK').server('FIN ACK');
      return { c, side: 'server' };
    case 'CLOSING': // client CLOSING (the FINs crossed), server TIME_WAIT (its FIN acknowledged)
      open();
      c.client('FIN ACK')
        .server('FIN ACK', { ack: c.nextSeq('client') - 1 })
        .client('ACK');
      return { c, side: 'client' };
    case 'TIME_WAIT': // client TIME_WAIT, server CLOSED: the flow is retired
      open();
      c.client('FIN ACK').server('ACK').server('FIN ACK').client('ACK');
      return { c, side: 'client' };
    case 'CLOSED': // client CLOSED after its RST, server CLOSED
      open();
      c.client('RST ACK');
      return { c, side: 'client' };
    default:
      throw new Error(`flowIn: no builder for ${state}`);
  }
}
