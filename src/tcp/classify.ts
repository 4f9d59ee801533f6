import type { TcpSegment } from '../decode/tcp-segment.js';
import { TcpFlag } from '../decode/tcp-segment.js';
import { EndpointEvent } from './endpoint-event.js';
import { type Seq, seq, seqAdd, seqDiff, seqGe, seqGt } from './seq.js';
import { TcpState } from './tcp-state.js';

/**
 * What classification needs to know of one endpoint: the facts of its own
 * sequence space and of the peer's as the wire showed them. The tracker owns
 * and updates these; classification only reads them.
 */
export interface EndpointFacts {
  state: TcpState;
  /** This endpoint's SYN was seen (its initial sequence number is `iss`). */
  synSent: boolean;
  iss: Seq;
  synAcked: boolean;
  finSent: boolean;
  /** Sequence number the FIN occupies. */
  finSeq: Seq;
  finAcked: boolean;
  peerSynReceived: boolean;
  peerFinReceived: boolean;
  /** Whether `nextSeq` is known: this endpoint sent something with a sequence number. */
  sentAnything: boolean;
  /** One past the highest sequence number this endpoint sent (SYN and FIN count one). */
  nextSeq: Seq;
  /** Whether this endpoint sent an ACK, and the highest ACK value it sent. */
  ackedAnything: boolean;
  highestAck: Seq;
  /** Last advertised window in bytes (scaled). */
  readonly window: number;
}

/** Events as bits, applied in this order: an RST first and alone, the opening, ACKs, then the FIN. */
export const EventBit = {
  SEND_RST: 1 << 0,
  SEND_SYN: 1 << 1,
  SEND_SYN_ACK: 1 << 2,
  SEND_FIN: 1 << 3,
  RECV_RST: 1 << 4,
  RECV_SYN: 1 << 5,
  RECV_SYN_ACK: 1 << 6,
  RECV_ACK_OF_SYN: 1 << 7,
  RECV_ACK_OF_FIN: 1 << 8,
  RECV_FIN: 1 << 9,
  RECV_FIN_WITH_ACK_OF_FIN: 1 << 10,
  /** Not an event: an RST that was not acceptable and is to be ignored (a finding). */
  RST_IGNORED: 1 << 11,
} as const;

export const EVENT_ORDER: ReadonlyArray<readonly [number, EndpointEvent]> = [
  [EventBit.SEND_RST, EndpointEvent.SEND_RST],
  [EventBit.SEND_SYN, EndpointEvent.SEND_SYN],
  [EventBit.SEND_SYN_ACK, EndpointEvent.SEND_SYN_ACK],
  [EventBit.SEND_FIN, EndpointEvent.SEND_FIN],
  [EventBit.RECV_RST, EndpointEvent.RECV_RST],
  [EventBit.RECV_SYN, EndpointEvent.RECV_SYN],
  [EventBit.RECV_SYN_ACK, EndpointEvent.RECV_SYN_ACK],
  [EventBit.RECV_ACK_OF_SYN, EndpointEvent.RECV_ACK_OF_SYN],
  [EventBit.RECV_ACK_OF_FIN, EndpointEvent.RECV_ACK_OF_FIN],
  [EventBit.RECV_FIN, EndpointEvent.RECV_FIN],
  [EventBit.RECV_FIN_WITH_ACK_OF_FIN, EndpointEvent.RECV_FIN_WITH_ACK_OF_FIN],
];

/** Sequence space a segment occupies: payload, plus one each for SYN and FIN. */
export function segmentLength(segment: TcpSegment): number {
  const flags = segment.flags;
  return segment.payloadLength + (flags & TcpFlag.SYN ? 1 : 0) + (flags & TcpFlag.FIN ? 1 : 0);
}

/** Sequence number a segment's FIN occupies (after SYN and payload). */
export function finSeqOf(segment: TcpSegment): Seq {
  return seqAdd(seq(segment.seq), segment.payloadLength + (segment.flags & TcpFlag.SYN ? 1 : 0));
}

/** What sending `segment` means to its sender. */
export function classifySend(sender: EndpointFacts, segment: TcpSegment): number {
  const flags = segment.flags;
  if (flags & TcpFlag.RST) return sender.state === TcpState.CLOSED ? 0 : EventBit.SEND_RST;
  let events = 0;
  if (flags & TcpFlag.SYN && !sender.synSent) events |= flags & TcpFlag.ACK ? EventBit.SEND_SYN_ACK : EventBit.SEND_SYN;
  if (flags & TcpFlag.FIN && !sender.finSent) events |= EventBit.SEND_FIN;
  return events;
}

/** What receiving `segment` means to its receiver, given what the sender had sent. */
export function classifyReceive(receiver: EndpointFacts, sender: EndpointFacts, segment: TcpSegment): number {
  const flags = segment.flags;
  const ack = seq(segment.ack);
  if (flags & TcpFlag.RST) {
    if (receiver.state === TcpState.CLOSED) return 0;
    return rstAcceptable(receiver, sender, segment) ? EventBit.RECV_RST : EventBit.RST_IGNORED;
  }
  const hasAck = (flags & TcpFlag.ACK) !== 0;
  let events = 0;
  if (flags & TcpFlag.SYN && !receiver.peerSynReceived) {
    if (!hasAck) events |= EventBit.RECV_SYN;
    else if (receiver.synSent && seqGt(ack, receiver.iss)) events |= EventBit.RECV_SYN_ACK;
  } else if (hasAck && receiver.synSent && !receiver.synAcked && seqGt(ack, receiver.iss)) {
    events |= EventBit.RECV_ACK_OF_SYN;
  }
  const acksFin = hasAck && receiver.finSent && !receiver.finAcked && seqGe(ack, seqAdd(receiver.finSeq, 1));
  if (flags & TcpFlag.FIN && !receiver.peerFinReceived) {
    events |= acksFin ? EventBit.RECV_FIN_WITH_ACK_OF_FIN : EventBit.RECV_FIN;
  } else if (acksFin) {
    events |= EventBit.RECV_ACK_OF_FIN;
  }
  return events;
}

/**
 * RFC 9293 §3.10.7 with RFC 5961: in SYN_SENT an RST counts only when its ACK
 * covers our SYN; elsewhere its sequence number must fall in the receive window,
 * which the observer places between the receiver's highest ACK and the sender's
 * highest sequence number plus the receiver's window.
 */
export function rstAcceptable(receiver: EndpointFacts, sender: EndpointFacts, segment: TcpSegment): boolean {
  if (receiver.state === TcpState.SYN_SENT) {
    if (!(segment.flags & TcpFlag.ACK)) return false;
    const ack = seq(segment.ack);
    return seqGt(ack, receiver.iss) && seqGe(receiver.nextSeq, ack);
  }
  // Nothing shows a connection at the receiver: there is no window to judge the RST against.
  if (receiver.state === TcpState.UNKNOWN || receiver.state === TcpState.LISTEN) return true;
  const rstSeq = seq(segment.seq);
  const low = receiver.ackedAnything ? receiver.highestAck : sender.sentAnything ? sender.nextSeq : undefined;
  if (low === undefined) return true; // nothing known of the window: cannot judge, so believe the RST
  const high = sender.sentAnything && seqGt(sender.nextSeq, low) ? sender.nextSeq : low;
  // The window is half-open (RCV.NXT =< SEG.SEQ < RCV.NXT + RCV.WND); a zero window admits RCV.NXT alone.
  return seqDiff(rstSeq, low) >= 0 && seqDiff(rstSeq, high) < Math.max(receiver.window, 1);
}
