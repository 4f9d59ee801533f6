import type { CapturedFrame } from '../capture/captured-frame.js';
import { ChecksumStatus, TcpFlag, type TcpSegment } from '../decode/tcp-segment.js';
import { classifyReceive, classifySend, finSeqOf, rstIgnored, rstInWindow, segmentLength } from '../tcp/classify.js';
import { EndpointEvent, EventBit } from '../tcp/endpoint-event.js';
import { type Seq, seq, seqAdd, seqGe, seqGt, seqLt } from '../tcp/seq.js';
import { TcpState, WAITING_STATES } from '../tcp/tcp-state.js';
import { type CaptureTime, NO_TIME } from './capture-time.js';
import { type Endpoint, EndpointEvidence, type Flow } from './flow.js';
import { type RecordsOut, unacked } from './records-out.js';
import type { StateDoor } from './state-door.js';

/** The largest window scale (RFC 7323): assumed when the handshake was not seen. */
const MAX_WINDOW_SHIFT = 14;

/** Receive events that wait for the receiver's own next segment (see `deliverPending`). */
const DEFERRED_EVENTS = EventBit.RECV_SYN | EventBit.RECV_SYN_ACK | EventBit.RECV_FIN | EventBit.RECV_FIN_WITH_ACK_OF_FIN;

const PendingVerdict = { open: 0, confirmed: 1, contradicted: 2 } as const;
type PendingVerdict = (typeof PendingVerdict)[keyof typeof PendingVerdict];

/**
 * One segment of a live flow, in the phases whose order matters (as Zeek's
 * `init_endpoint` / `update_history` / `update_last_seq`): count it, gather the
 * detectors' evidence, notice capture loss, settle what was pending, apply the
 * sender's events, update the sender's sequence facts, apply (or defer) the
 * receiver's events, then note the handshake's and the ACK's facts. Each phase
 * reads the facts as the phases before it left them.
 */
export class SegmentStep {
  /** The capture so far showed loss: some endpoint acknowledged what it never contained. */
  private captureLoss = false;
  /** Connections with segments from both ends seen so far. */
  private twoSidedFlows = 0;
  /** Some endpoint sent an ACK to a peer that had sent nothing captured: something of that peer's was not captured. */
  private unseenPeerAcked = false;
  /** Connections judged as captured in one direction only; the first draws the capture's one finding. */
  oneSidedFlows = 0;

  constructor(
    private readonly door: StateDoor,
    private readonly records: RecordsOut,
  ) {}

  /** Whether the capture so far showed loss. */
  get showedLoss(): boolean {
    return this.captureLoss;
  }

  process(flow: Flow, segment: TcpSegment, fromClient: boolean, frame: CapturedFrame, time: CaptureTime): void {
    const sender = fromClient ? flow.client : flow.server;
    const receiver = fromClient ? flow.server : flow.client;
    countSegment(flow, sender, segment, fromClient, frame, time);
    if (receiver.packets === 0) {
      if (segment.flags & TcpFlag.ACK) this.unseenPeerAcked = true;
    } else if (sender.packets === 1) this.twoSidedFlows++;
    const length = segmentLength(segment);
    const start = seq(segment.seq);
    const end = seqAdd(start, length);
    const retransmission = gatherEvidence(sender, receiver, segment, frame, time, start, end, length);
    noteWaitShown(sender, receiver, segment, retransmission);
    this.noteCaptureLoss(flow, sender, receiver, segment, frame, time);
    if (
      sender.state === TcpState.SYN_SENT &&
      sender.pendingEvents === 0 &&
      (segment.flags & (TcpFlag.ACK | TcpFlag.SYN | TcpFlag.RST)) === TcpFlag.ACK
    )
      this.inferHandshake(flow, sender, receiver, segment, frame, time);
    this.settlePendingOnSegment(flow, sender, receiver, segment, frame, time, retransmission, length);

    const sendEvents = classifySend(sender, segment, receiver);
    const receiveEvents = takenEarlier(receiver, segment, classifyReceive(receiver, sender, segment));
    if (rstIgnored(receiver, sender, segment)) {
      this.reportIgnoredRst(flow, sender, receiver, segment, frame, time);
      // An RST carries its sender's SND.NXT: one beyond what the capture showed of it proves segments the
      // capture lost, and whether the receiver had them (and so took the RST) is unknown.
      if (sender.sentAnything && seqGt(seq(segment.seq), sender.nextSeq)) {
        flow.captureLossEvents++;
        this.captureLoss = true;
        receiver.stateInferred = true;
      }
    }
    const inferred = flow.midstream || flow.captureLossEvents > 0;
    if (sendEvents & EventBit.SEND_RST) sender.rstLostBytes = unacked(sender, receiver) + unacked(receiver, sender);
    // A FIN that proves the peer's FIN had not arrived corrects what was assumed: inferred.
    const crossing = sendEvents & EventBit.SEND_FIN_CROSSING;
    if (sendEvents !== crossing) this.door.applyMask(flow, sender, sendEvents & ~crossing, frame.source, frame.frame, time, inferred);
    if (crossing !== 0) this.door.applyMask(flow, sender, crossing, frame.source, frame.frame, time, true);

    updateSenderSequence(flow, sender, segment, start, end);
    this.applyReceive(flow, receiver, receiveEvents, segment, frame, time, start, inferred);
    noteHandshakeAndAcks(flow, receiver, segment);
  }

  /**
   * A SYN or FIN still pending as the flow is handed on: it arrived, unless the endpoint's own
   * resends said otherwise, or its duplicate ACKs showed a hole before the FIN that no ACK showed filled.
   */
  settlePending(flow: Flow, endpoint: Endpoint): void {
    if (endpoint.pendingEvents !== 0) {
      // Nothing the endpoint sent after it shows the SYN or FIN arrived: assumed, so inferred, with that evidence.
      if (!endpoint.pendingRefuted && !endpoint.pendingHole)
        this.deliverPending(flow, endpoint, undefined, undefined, undefined, unconfirmedArrival(endpoint));
      else endpoint.stateInferred = true; // the peer's SYN or FIN never arrived, or waits behind a hole
    }
    this.judgeEnd(flow, endpoint);
  }

  /**
   * What the capture as a whole says of an end state as the flow is handed on (docs/reconstruction.md,
   * "Imperfect captures"). A connection seen in one direction only, where the capture shows that
   * direction's peer existed (an ACK to a peer that sent nothing captured): both ends' states rest on
   * segments the capture lacks, so they are inferred. And in a capture that showed loss anywhere, an end
   * state that a lost segment could have moved on (anything but CLOSED and TIME_WAIT) is inferred:
   * the capture cannot vouch that no such segment was lost.
   */
  private judgeEnd(flow: Flow, endpoint: Endpoint): void {
    const peer = endpoint === flow.client ? flow.server : flow.client;
    const state = endpoint.state;
    const oneSided = endpoint.packets === 0 || peer.packets === 0;
    if (oneSided && this.unseenPeerAcked && (this.twoSidedFlows === 0 || endpoint.ackedAnything || peer.ackedAnything)) {
      if (state !== TcpState.UNKNOWN) endpoint.stateInferred = true;
      if (endpoint === flow.client) this.noteOneSided(flow);
    } else if (this.captureLoss && state !== TcpState.CLOSED && state !== TcpState.TIME_WAIT && state !== TcpState.UNKNOWN)
      endpoint.stateInferred = true;
    // A state that holds only because no answer was captured is proven only where the capture showed the wait.
    else if (WAITING_STATES.has(state) && !endpoint.waitShown) endpoint.stateInferred = true;
  }

  /** One finding for the capture: the first connection seen in one direction only. */
  private noteOneSided(flow: Flow): void {
    if (this.oneSidedFlows++ !== 0) return;
    const seen = flow.client.packets > 0 ? flow.client : flow.server;
    const peer = seen === flow.client ? flow.server : flow.client;
    this.records.finding(
      'one-direction-captured',
      flow,
      null,
      flow.firstSource,
      flow.firstFrame,
      flow.firstTime,
      `only ${seen.ip}:${seen.port} → ${peer.ip}:${peer.port} was captured, though its ACKs show ${peer.ip}:${peer.port} sent segments: this capture (a SPAN port, an asymmetric route) holds one direction of its connections; the states of their ends are inferred from the side captured`,
      {},
    );
  }

  /**
   * The client in SYN_SENT sends an ACK: it had a SYN-ACK, which the capture lacks (RFC 9293
   * §3.10.7.3: SYN_SENT answers nothing else with a bare ACK). The handshake is inferred from
   * this segment, its ACK giving the server's ISS when its SYN was not seen either.
   */
  private inferHandshake(
    flow: Flow,
    client: Endpoint,
    server: Endpoint,
    segment: TcpSegment,
    frame: CapturedFrame,
    time: CaptureTime,
  ): void {
    const ack = seq(segment.ack);
    if (!server.synSent) {
      server.synSent = true;
      server.iss = seqAdd(ack, -1);
      if (!server.sentAnything || seqGt(ack, server.nextSeq)) server.nextSeq = ack;
      server.sentAnything = true;
      // The SYN-ACK answered the client's SYN: that SYN arrived.
      if (server.pendingEvents !== 0) this.deliverPending(flow, server);
      server.peerSynReceived = true;
      this.door.apply(
        flow,
        server,
        EndpointEvent.SEND_SYN_ACK,
        frame.source,
        frame.frame,
        time,
        true,
        `SYN-ACK not captured; the client's ACK in frame ${frame.frame} proves it was sent`,
      );
    }
    client.peerSynReceived = true;
    client.synAcked = true;
    this.door.apply(
      flow,
      client,
      EndpointEvent.RECV_SYN_ACK,
      frame.source,
      frame.frame,
      time,
      true,
      `SYN-ACK not captured; the client's ACK in frame ${frame.frame} proves it arrived`,
    );
  }

  /** The sender acknowledges sequence space the capture never showed. */
  private noteCaptureLoss(
    flow: Flow,
    sender: Endpoint,
    receiver: Endpoint,
    segment: TcpSegment,
    frame: CapturedFrame,
    time: CaptureTime,
  ): void {
    const flags = segment.flags;
    if (!(flags & TcpFlag.ACK) || flags & TcpFlag.RST || !receiver.sentAnything || !seqGt(seq(segment.ack), receiver.nextSeq)) return;
    flow.captureLossEvents++;
    this.captureLoss = true;
    // What was assumed of both ends may rest on a segment the capture lost: it is inferred from here on.
    sender.stateInferred = receiver.stateInferred = true;
    receiver.missedBytes += (segment.ack - receiver.nextSeq) >>> 0;
    receiver.nextSeq = seq(segment.ack);
    // A peer that sent nothing captured is one direction of the capture missing, not loss: judged as the flow ends.
    if (flow.captureLossEvents === 1 && receiver.packets > 0) {
      this.records.finding(
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

  private settlePendingOnSegment(
    flow: Flow,
    sender: Endpoint,
    receiver: Endpoint,
    segment: TcpSegment,
    frame: CapturedFrame,
    time: CaptureTime,
    retransmission: boolean,
    length: number,
  ): void {
    // A later segment from the same sender reaches the receiver after the earlier one did: when it
    // carries something new to the receiver. A resend, or an ACK of nothing the receiver waits for,
    // shows nothing of when the earlier one arrived (a delayed FIN is resent before it arrives).
    if (
      receiver.pendingEvents !== 0 &&
      ((!retransmission && (length > 0 || (segment.flags & TcpFlag.RST) !== 0)) || acksNews(receiver, segment))
    )
      this.deliverPending(flow, receiver);
    if (sender.pendingEvents === 0) return;
    // The sender's own segment shows whether it had what its peer sent before.
    const verdict = judgePending(sender, segment);
    if (verdict === PendingVerdict.confirmed) {
      // A FIN held behind a hole was taken when the hole filled, shown first by this ACK; one whose first copy
      // the endpoint showed it lacked (it resent its own), when a later copy arrived: by this ACK at the latest.
      if (sender.pendingHole || sender.pendingRefuted) this.deliverPending(flow, sender, frame.source, frame.frame, time);
      else this.deliverPending(flow, sender);
    } else if (verdict === PendingVerdict.open && showsHoleBeforeFin(sender, segment)) {
      // A duplicate ACK below the FIN: data before it is missing, and a receiver takes a FIN only in order.
      sender.pendingHole = true;
    } else if (verdict === PendingVerdict.contradicted && !sender.pendingCrossed) {
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

  private reportIgnoredRst(
    flow: Flow,
    sender: Endpoint,
    receiver: Endpoint,
    segment: TcpSegment,
    frame: CapturedFrame,
    time: CaptureTime,
  ): void {
    const detail = rstInWindow(receiver, sender, segment)
      ? `is inside ${receiver.ip}:${receiver.port}'s receive window but not at the sequence number it expects next: Linux answers it with a challenge ACK and ignores it (RFC 5961 §3.2)`
      : `is outside ${receiver.ip}:${receiver.port}'s receive window and was ignored (RFC 5961)`;
    this.records.finding(
      'rst-out-of-window',
      flow,
      receiver.role,
      frame.source,
      frame.frame,
      time,
      `RST from ${sender.ip}:${sender.port} ${detail}`,
      { seq: segment.seq },
    );
  }

  /** The receiver's events: at once, except a SYN or FIN, which waits for the receiver to show it arrived. */
  private applyReceive(
    flow: Flow,
    receiver: Endpoint,
    receiveEvents: number,
    segment: TcpSegment,
    frame: CapturedFrame,
    time: CaptureTime,
    start: Seq,
    inferred: boolean,
  ): void {
    const immediate = receiveEvents & ~DEFERRED_EVENTS;
    if (immediate !== 0) this.door.applyMask(flow, receiver, immediate, frame.source, frame.frame, time, inferred);
    const deferred = receiveEvents & DEFERRED_EVENTS;
    if (deferred === 0) return;
    if (receiver.pendingEvents !== 0) {
      // A resend while the first still waits: the first copy's time and evidence stand, unless the receiver
      // showed the first never arrived (it resent its own instead): then this copy is the one that may.
      if (receiver.pendingRefuted && (deferred & receiver.pendingEvents) !== 0) {
        receiver.pendingTime = time;
        receiver.pendingSource = frame.source;
        receiver.pendingFrame = frame.frame;
        receiver.pendingRefuted = false;
      }
      return;
    }
    receiver.pendingEvents = deferred;
    receiver.pendingTime = time;
    receiver.pendingSource = frame.source;
    receiver.pendingFrame = frame.frame;
    receiver.pendingCrossed = false;
    receiver.pendingRefuted = false;
    receiver.pendingHole = false;
    receiver.pendingAckPoint = segment.flags & TcpFlag.FIN ? seqAdd(finSeqOf(segment), 1) : seqAdd(start, 1);
  }

  /**
   * A SYN or FIN takes effect at its receiver once the receiver shows it arrived
   * (its ACK covers it) or shows it had not when it sent its own (crossing SYNs or
   * FINs, RFC 9293 §3.5, §3.6); otherwise when the flow is handed on.
   */
  private deliverPending(
    flow: Flow,
    endpoint: Endpoint,
    source = endpoint.pendingSource,
    frame = endpoint.pendingFrame,
    time = endpoint.pendingTime,
    unconfirmed?: string,
  ): void {
    const events = endpoint.pendingEvents;
    endpoint.pendingEvents = 0;
    endpoint.pendingHole = false;
    // It arrived when it was captured (or, had they crossed, when the endpoint's own segment left),
    // unless the endpoint changed state since: then not before that change.
    const at = time < endpoint.stateSince ? endpoint.stateSince : time;
    if (unconfirmed === undefined)
      this.door.applyMask(flow, endpoint, events, source, frame, at, flow.midstream || flow.captureLossEvents > 0);
    else this.door.applyMask(flow, endpoint, events, source, frame, at, true, unconfirmed);
    if (events & (EventBit.RECV_SYN | EventBit.RECV_SYN_ACK)) endpoint.peerSynReceived = true;
    if (events & (EventBit.RECV_FIN | EventBit.RECV_FIN_WITH_ACK_OF_FIN)) endpoint.peerFinReceived = true;
  }
}

/**
 * Whether this segment shows an endpoint still waiting on the ACK of its SYN or FIN: its sender resent
 * one, or its receiver is sent a segment (not an RST) whose ACK does not cover the receiver's latest.
 * A first SYN or FIN begins a new wait.
 */
function noteWaitShown(sender: Endpoint, receiver: Endpoint, segment: TcpSegment, retransmission: boolean): void {
  const flags = segment.flags;
  if (flags & (TcpFlag.SYN | TcpFlag.FIN)) sender.waitShown = retransmission;
  if (flags & TcpFlag.RST || !(receiver.synSent || receiver.finSent)) return;
  const awaited = receiver.finSent ? seqAdd(receiver.finSeq, 1) : seqAdd(receiver.iss, 1);
  if (!(flags & TcpFlag.ACK) || seqLt(seq(segment.ack), awaited)) receiver.waitShown = true;
}

/** The flow's last segment and the sender's counts; Zeek's view sees every segment. */
function countSegment(
  flow: Flow,
  sender: Endpoint,
  segment: TcpSegment,
  fromClient: boolean,
  frame: CapturedFrame,
  time: CaptureTime,
): void {
  flow.lastTime = time;
  flow.lastSource = frame.source;
  flow.lastFrame = frame.frame;
  sender.packets++;
  sender.bytes += segment.payloadLength;
  sender.ipBytes += segment.ipLength;
  countChecksum(sender, segment.checksumStatus);
  observeZeek(flow, fromClient, segment, false);
}

/** Zeek's view sees every segment, one with a bad checksum (dropped by the tracker) too. */
export function observeZeek(flow: Flow, fromClient: boolean, segment: TcpSegment, badChecksum: boolean): void {
  // As signed 32-bit integers: a number above 2^31 passed to a function is boxed, once per packet.
  flow.zeek.observe(fromClient, segment.flags, segment.seq | 0, segment.ack | 0, segment.payloadLength, segment.window, badChecksum);
}

/** A checksum checked (the segment was captured whole), and whether it was bad. */
export function countChecksum(sender: Endpoint, status: ChecksumStatus): void {
  if (status === ChecksumStatus.unverified) return;
  sender.verifiedChecksums++;
  if (status === ChecksumStatus.bad) sender.badChecksums++;
}

/**
 * Retransmissions, keepalives and zero windows, for the detectors: judged before
 * this segment updates the sender's facts. True when the segment resent
 * sequence space already seen (a retransmission).
 */
function gatherEvidence(
  sender: Endpoint,
  receiver: Endpoint,
  segment: TcpSegment,
  frame: CapturedFrame,
  time: CaptureTime,
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
  } else if (
    flags & TcpFlag.ACK &&
    segment.payloadLength <= 1 &&
    sender.sentAnything &&
    start === seqAdd(sender.nextSeq, -1) &&
    receiver.ackedAnything &&
    receiver.highestAck === sender.nextSeq
  ) {
    // One byte below the next sequence number with nothing outstanding (snd.una = snd.nxt): a probe. Into a zero
    // window it is a persist probe, else a keepalive. A resend of an unacknowledged last byte is a retransmission.
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
  if (!(flags & (TcpFlag.RST | TcpFlag.SYN))) noteWindow(sender, segment.window, frame, time);
  return retransmission;
}

/** Zero-window episodes: when one opens and how long it lasted once it closes. */
function noteWindow(sender: Endpoint, window: number, frame: CapturedFrame, time: CaptureTime): void {
  if (window === 0) {
    if (sender.zeroWindowSince >= 0) return;
    sender.zeroWindowSince = time;
    const evidence = evidenceOf(sender);
    if (evidence.zeroWindowEpisodes++ === 0) {
      evidence.zeroWindowFirstFrame = frame.frame;
      evidence.zeroWindowFirstTime = time;
    }
  } else if (sender.zeroWindowSince >= 0) {
    evidenceOf(sender).zeroWindowNs += time - sender.zeroWindowSince;
    sender.zeroWindowSince = NO_TIME;
  }
}

/** The sender's own sequence space, after its events were judged against the old facts. */
function updateSenderSequence(flow: Flow, sender: Endpoint, segment: TcpSegment, start: Seq, end: Seq): void {
  const flags = segment.flags;
  if (flags & TcpFlag.SYN && !sender.synSent) {
    sender.synSent = true;
    sender.iss = start;
    if (segment.windowScale >= 0) sender.windowScale = segment.windowScale;
  }
  if (flags & TcpFlag.RST) return;
  if (flags & TcpFlag.FIN && !sender.finSent) {
    sender.finSent = true;
    sender.finSeq = finSeqOf(segment);
    sender.finAck = flags & TcpFlag.ACK ? seq(segment.ack) : sender.highestAck;
    sender.finAckKnown = (flags & TcpFlag.ACK) !== 0 || sender.ackedAnything;
  }
  if (!sender.sentAnything || seqGt(end, sender.nextSeq)) {
    sender.nextSeq = end;
    sender.sentAnything = true;
  }
  if (flags & TcpFlag.ACK && (!sender.ackedAnything || seqGt(seq(segment.ack), sender.highestAck))) {
    sender.highestAck = seq(segment.ack);
    sender.ackedAnything = true;
  }
  sender.rawWindow = segment.window;
  // A SYN's window is never scaled; without the handshake the scale is unknown, so assume the largest.
  sender.windowShift = flags & TcpFlag.SYN ? 0 : flow.scalingUnknown ? MAX_WINDOW_SHIFT : flow.windowScaling ? sender.windowScale : 0;
}

/** What a SYN says of window scaling and what an ACK says of the receiver's SYN and FIN. */
function noteHandshakeAndAcks(flow: Flow, receiver: Endpoint, segment: TcpSegment): void {
  const flags = segment.flags;
  if (flags & TcpFlag.SYN) {
    flow.windowScaling = flow.client.windowScale >= 0 && flow.server.windowScale >= 0;
  }
  if (flags & TcpFlag.ACK && !(flags & TcpFlag.RST)) {
    const ack = seq(segment.ack);
    if (receiver.synSent && seqGt(ack, receiver.iss)) receiver.synAcked = true;
    if (receiver.finSent && seqGe(ack, seqAdd(receiver.finSeq, 1))) receiver.finAcked = true;
  }
}

/** The segment's ACK newly covers the receiver's SYN or FIN: an event the receiver's state must be ready for. */
function acksNews(receiver: Endpoint, segment: TcpSegment): boolean {
  if (!(segment.flags & TcpFlag.ACK)) return false;
  const ack = seq(segment.ack);
  return (
    (receiver.synSent && !receiver.synAcked && seqGt(ack, receiver.iss)) ||
    (receiver.finSent && !receiver.finAcked && seqGe(ack, seqAdd(receiver.finSeq, 1)))
  );
}

/**
 * A pure duplicate ACK (no data, no SYN, FIN or RST, acknowledging nothing new) from the
 * receiver of a pending FIN, below that FIN: the receiver is missing data before it.
 */
function showsHoleBeforeFin(endpoint: Endpoint, segment: TcpSegment): boolean {
  if (!(endpoint.pendingEvents & (EventBit.RECV_FIN | EventBit.RECV_FIN_WITH_ACK_OF_FIN))) return false;
  if ((segment.flags & (TcpFlag.ACK | TcpFlag.SYN | TcpFlag.FIN | TcpFlag.RST)) !== TcpFlag.ACK || segment.payloadLength > 0) return false;
  const ack = seq(segment.ack);
  // Its first ACK in the capture counts too (a capture begun late has no earlier one to repeat).
  return (!endpoint.ackedAnything || ack === endpoint.highestAck) && seqLt(ack, seqAdd(endpoint.pendingAckPoint, -1));
}

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

/**
 * The peer's FIN at a sequence number the receiver had already acknowledged on its own first FIN:
 * the receiver took it before closing (its ACK says so), so this copy is a resend of a FIN the capture
 * lost, and the receiver's close was a passive one. Taken at once: the receiver's own ACK showed it.
 */
function takenEarlier(receiver: Endpoint, segment: TcpSegment, events: number): number {
  const fin = events & (EventBit.RECV_FIN | EventBit.RECV_FIN_WITH_ACK_OF_FIN);
  if (fin === 0 || !receiver.finAckKnown || !seqGt(receiver.finAck, finSeqOf(segment))) return events;
  receiver.peerFinReceived = true;
  const ackOfFin = fin & EventBit.RECV_FIN_WITH_ACK_OF_FIN ? EventBit.RECV_ACK_OF_FIN : 0;
  return (events & ~fin) | ackOfFin | EventBit.RECV_FIN_TAKEN_EARLIER;
}

/** Why a SYN or FIN delivered as its flow is handed on is inferred. */
function unconfirmedArrival(endpoint: Endpoint): string {
  const pending = endpoint.pendingEvents;
  const what = pending & EventBit.RECV_SYN ? 'SYN' : pending & EventBit.RECV_SYN_ACK ? 'SYN-ACK' : 'FIN';
  return `the ${what} in frame ${endpoint.pendingFrame} was sent, and nothing ${endpoint.ip}:${endpoint.port} sent after it was captured to show it arrived: its arrival is assumed`;
}

/** The endpoint's detector evidence, made on first use. */
function evidenceOf(endpoint: Endpoint): EndpointEvidence {
  return (endpoint.evidence ??= new EndpointEvidence());
}
