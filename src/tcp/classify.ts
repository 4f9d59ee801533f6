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

/** What sending `segment` means to its sender; `receiver` (its peer) tells a FIN that left before the peer's FIN arrived. */
export function classifySend(sender: EndpointFacts, segment: TcpSegment, receiver?: EndpointFacts): number {
  const flags = segment.flags;
  if (flags & TcpFlag.RST) return sender.state === TcpState.CLOSED ? 0 : EventBit.SEND_RST;
  let events = 0;
  if (flags & TcpFlag.SYN && !sender.synSent) events |= flags & TcpFlag.ACK ? EventBit.SEND_SYN_ACK : EventBit.SEND_SYN;
  if (flags & TcpFlag.FIN && !sender.finSent) {
    events |=
      receiver !== undefined && sender.peerFinReceived && receiver.finSent && !acksPeerFin(segment, receiver)
        ? EventBit.SEND_FIN_CROSSING
        : EventBit.SEND_FIN;
  }
  return events;
}

/** The segment's ACK covers the FIN `peer` sent. */
function acksPeerFin(segment: TcpSegment, peer: EndpointFacts): boolean {
  return (segment.flags & TcpFlag.ACK) !== 0 && seqGe(seq(segment.ack), seqAdd(peer.finSeq, 1));
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
 * RFC 9293 §3.10.7 with RFC 5961 §3, as Linux applies them. In SYN_SENT an RST
 * counts only when its ACK covers our SYN (and nothing beyond what we sent).
 * Elsewhere only an RST at exactly RCV.NXT resets (tcp_validate_incoming; also
 * RCV.NXT−1 in CLOSE_WAIT, LAST_ACK and CLOSING, tcp_reset_check); one elsewhere
 * in the window draws a challenge ACK and changes nothing, and one outside it is
 * dropped. TIME_WAIT takes an RST only at exactly RCV.NXT (tcp_timewait_state_process,
 * with tcp_rfc1337=0, Linux's default). The observer does not see RCV.NXT, only that
 * it lies between the receiver's highest ACK and the sender's next sequence number:
 * an RST anywhere there is believed; in TIME_WAIT everything up to the peer's FIN
 * arrived, so RCV.NXT is the sender's next sequence number itself.
 */
export function rstAcceptable(receiver: EndpointFacts, sender: EndpointFacts, segment: TcpSegment): boolean {
  if (receiver.state === TcpState.SYN_SENT) {
    if (!(segment.flags & TcpFlag.ACK)) return false;
    const ack = seq(segment.ack);
    return seqGt(ack, receiver.iss) && seqGe(receiver.nextSeq, ack);
  }
  // Nothing shows a connection at the receiver: there is no window to judge the RST against.
  if (receiver.state === TcpState.UNKNOWN || receiver.state === TcpState.LISTEN) return true;
  const range = rcvNxtRange(receiver, sender);
  if (range === undefined) return true; // nothing known of the window: cannot judge, so believe the RST
  const rstSeq = seq(segment.seq);
  if (receiver.state === TcpState.TIME_WAIT) return rstSeq === range.high;
  const below = receiver.peerFinReceived && RCV_NXT_MINUS_ONE_STATES.has(receiver.state) ? -1 : 0;
  return seqDiff(rstSeq, range.low) >= below && seqDiff(rstSeq, range.high) <= 0;
}

/** States in which Linux also takes an RST at RCV.NXT−1 (the peer's FIN is in: tcp_reset_check). */
const RCV_NXT_MINUS_ONE_STATES: ReadonlySet<TcpState> = new Set([TcpState.CLOSE_WAIT, TcpState.LAST_ACK, TcpState.CLOSING]);

/**
 * An RST not acceptable but inside the receive window (RCV.NXT =< SEG.SEQ < RCV.NXT + RCV.WND):
 * Linux answers it with a challenge ACK (RFC 5961 §3.2). Outside the window it is dropped unanswered.
 */
export function rstInWindow(receiver: EndpointFacts, sender: EndpointFacts, segment: TcpSegment): boolean {
  const range = rcvNxtRange(receiver, sender);
  if (range === undefined) return true;
  const rstSeq = seq(segment.seq);
  return seqDiff(rstSeq, range.low) >= 0 && seqDiff(rstSeq, range.high) < Math.max(receiver.window, 1);
}

/** Where the receiver's RCV.NXT can be: from its highest ACK to the sender's next sequence number (undefined: nothing known). */
function rcvNxtRange(receiver: EndpointFacts, sender: EndpointFacts): { low: Seq; high: Seq } | undefined {
  const low = receiver.ackedAnything ? receiver.highestAck : sender.sentAnything ? sender.nextSeq : undefined;
  if (low === undefined) return undefined;
  const high = sender.sentAnything && seqGt(sender.nextSeq, low) ? sender.nextSeq : low;
  return { low, high };
}
