import type { TcpSegment } from '../decode/tcp-segment.js';
import { TcpFlag } from '../decode/tcp-segment.js';
import { EventBit } from './endpoint-event.js';
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
    return receiver.state !== TcpState.CLOSED && rstAcceptable(receiver, sender, segment) ? EventBit.RECV_RST : 0;
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

/** An RST its receiver ignores, being outside its window (RFC 5961): not an event, but worth a finding. */
export function rstIgnored(receiver: EndpointFacts, sender: EndpointFacts, segment: TcpSegment): boolean {
  return (segment.flags & TcpFlag.RST) !== 0 && receiver.state !== TcpState.CLOSED && !rstAcceptable(receiver, sender, segment);
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
