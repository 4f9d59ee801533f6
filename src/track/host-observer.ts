/**
 * What each connection shows of its endpoints' TCP stacks, gathered from every
 * segment in a separate pass (an `onSegment` hook of a replay): the SYN and
 * SYN-ACK transmissions with their times, the options of the first of each,
 * and keepalive probes with their answers. host-settings.ts turns it into
 * settings; nothing here touches the tracker's hot path.
 *
 * A keepalive probe (Linux tcp_write_wakeup / tcp_xmit_probe_skb) is a segment
 * with ACK and no SYN/FIN/RST, at most one byte, at seq = snd.una − 1, sent
 * with nothing outstanding (the peer has acknowledged everything sent:
 * snd.una = snd.nxt) into an open window, after an idle time. A resend of an
 * unacknowledged byte at snd.nxt − 1 is a retransmission, not a probe.
 */
import type { CapturedFrame } from '../capture/captured-frame.js';
import { formatDestination, formatSource } from '../decode/format-address.js';
import { TcpFlag, type TcpSegment } from '../decode/tcp-segment.js';

/** A segment as evidence: where it was captured and when (seconds since the epoch). */
export interface Sent {
  /** 1-based frame number in its capture file, and the file's index among the inputs. */
  frame: number;
  source: number;
  t: number;
}

/** The options and header fields of a SYN or SYN-ACK: what the stack announces about itself. */
export interface SynFacts extends Sent {
  mss: number;
  windowScale: number;
  sackPermitted: boolean;
  timestamps: boolean;
  /** ECE and CWR on a SYN (RFC 3168 ECN-setup SYN), ECE alone on a SYN-ACK. */
  ece: boolean;
  cwr: boolean;
  ttl: number;
  ipVersion: 4 | 6;
  window: number;
  fastOpen: boolean;
}

export interface KeepaliveProbe extends Sent {
  /** Seconds since the last segment from the peer (Linux times keepalive from the last segment received). */
  idle: number;
  /** The peer's answer: an ACK, an RST, or nothing (undefined). */
  answer?: 'ack' | 'rst';
  answerAt?: Sent;
}

/** One endpoint of one connection, as the host observer sees it. */
export interface SideFacts {
  ip: string;
  port: number;
  /** Every transmission of the endpoint's SYN (or SYN-ACK) with its initial sequence number. */
  syns: Sent[];
  firstSyn: SynFacts | null;
  /** SYN-ACKs sent right after a retransmitted SYN of the peer arrived: answers, not timer-driven. */
  synsAnsweringPeer: number;
  probes: KeepaliveProbe[];
  /** An RST the endpoint sent, the first one. */
  rst: Sent | null;
  /** Something other than a probe was sent after the last probe: the probe run ended there. */
  sentAfterProbe: boolean;
}

export interface FlowFacts {
  flowId: number;
  client: SideFacts;
  server: SideFacts;
  /** The first segment from the server (SYN-ACK or RST): the client's SYN was answered. */
  serverAnswered: Sent | null;
  /** The client acknowledged the server's SYN: the server's SYN-ACK was answered. */
  clientAcked: Sent | null;
  lastT: number;
}

/** Per endpoint, the sequence facts probe detection needs. */
interface SeqTrack {
  issKnown: boolean;
  iss: number;
  /** snd.nxt as seen: end of the highest sequence space sent (raw 32-bit). */
  nxt: number;
  nxtKnown: boolean;
  /** snd.una as seen: the highest ACK the peer sent (raw 32-bit). */
  una: number;
  unaKnown: boolean;
  /** Last window the endpoint advertised (raw field). */
  window: number;
  lastSentT: number;
}

const EVIDENCE_LIMIT = 64;
/** Linux's smallest keepalive idle is 1 s: anything sooner after the last segment is not a probe. */
const MIN_PROBE_IDLE_SECONDS = 0.9;

function newSide(ip: string, port: number): SideFacts {
  return { ip, port, syns: [], firstSyn: null, synsAnsweringPeer: 0, probes: [], rst: null, sentAfterProbe: false };
}

function newTrack(): SeqTrack {
  return { issKnown: false, iss: 0, nxt: 0, nxtKnown: false, una: 0, unaKnown: false, window: 1, lastSentT: 0 };
}

const diff = (a: number, b: number): number => (a - b) | 0;

/** Collects FlowFacts from the segments a replay hands over. */
export class HostObserver {
  private readonly flows = new Map<number, { facts: FlowFacts; tracks: [SeqTrack, SeqTrack]; lastSynFromClient: boolean }>();
  /** Time of the last segment of any flow: how far the capture goes. */
  captureEnd = 0;

  /** The onSegment hook: call with each segment after the tracker has seen it. */
  segment(flowId: number, fromClient: boolean, segment: TcpSegment, frame: CapturedFrame): void {
    const t = frame.tsSec + frame.tsNsec / 1e9;
    if (t > this.captureEnd) this.captureEnd = t;
    let entry = this.flows.get(flowId);
    if (entry === undefined) {
      const src = formatSource(segment);
      const dst = formatDestination(segment);
      const client = fromClient ? newSide(src, segment.srcPort) : newSide(dst, segment.dstPort);
      const server = fromClient ? newSide(dst, segment.dstPort) : newSide(src, segment.srcPort);
      entry = {
        facts: { flowId, client, server, serverAnswered: null, clientAcked: null, lastT: t },
        tracks: [newTrack(), newTrack()],
        lastSynFromClient: false,
      };
      this.flows.set(flowId, entry);
    }
    const { facts, tracks } = entry;
    const side = fromClient ? facts.client : facts.server;
    const peer = fromClient ? facts.server : facts.client;
    const own = tracks[fromClient ? 0 : 1];
    const theirs = tracks[fromClient ? 1 : 0];
    const sent: Sent = { frame: frame.frame, source: frame.source, t };
    const flags = segment.flags;
    const idle = t - facts.lastT;
    facts.lastT = t;

    // The peer's answer to a pending probe: whatever it sends next.
    const pending = peer.probes.at(-1);
    if (pending !== undefined && pending.answer === undefined && !peer.sentAfterProbe) {
      pending.answer = flags & TcpFlag.RST ? 'rst' : 'ack';
      pending.answerAt = sent;
    }

    if (flags & TcpFlag.SYN) {
      if (!own.issKnown || own.iss !== segment.seq) {
        if (side.syns.length === 0) {
          own.issKnown = true;
          own.iss = segment.seq;
          side.firstSyn = synFacts(segment, sent);
        }
      }
      if (own.iss === segment.seq && side.syns.length < EVIDENCE_LIMIT) {
        side.syns.push(sent);
        // A SYN-ACK sent in answer to the client's retransmitted SYN is not the server's timer.
        if (!fromClient && entry.lastSynFromClient && side.syns.length > 1) side.synsAnsweringPeer++;
      }
      entry.lastSynFromClient = fromClient;
      if (!fromClient && facts.serverAnswered === null) facts.serverAnswered = sent;
    } else if (!fromClient && facts.serverAnswered === null) facts.serverAnswered = sent;
    if (fromClient && !(flags & TcpFlag.SYN) && flags & TcpFlag.ACK && facts.clientAcked === null && theirs.issKnown) {
      if (diff(segment.ack, theirs.iss) > 0) facts.clientAcked = sent;
    }
    if (flags & TcpFlag.RST && side.rst === null) side.rst = sent;

    // A keepalive probe: judged before this segment updates the sender's snd.nxt.
    const isProbe =
      (flags & (TcpFlag.SYN | TcpFlag.FIN | TcpFlag.RST)) === 0 &&
      flags & TcpFlag.ACK &&
      segment.payloadLength <= 1 &&
      own.nxtKnown &&
      own.unaKnown &&
      own.una === own.nxt &&
      (segment.seq + 1) >>> 0 === own.nxt &&
      theirs.window !== 0 &&
      idle >= MIN_PROBE_IDLE_SECONDS;
    if (isProbe) {
      const lastFromPeer = side.probes.length > 0 && side.probes.at(-1)!.answer === undefined ? undefined : theirs.lastSentT;
      if (side.probes.length < EVIDENCE_LIMIT)
        side.probes.push({ ...sent, idle: lastFromPeer === undefined ? t - side.probes.at(-1)!.t : t - lastFromPeer });
      side.sentAfterProbe = false;
    } else if (side.probes.length > 0) {
      // Data, a FIN or the prober's RST (its give-up) ends a run of probes: what the peer sends later answers none.
      if (segment.payloadLength > 1 || flags & (TcpFlag.FIN | TcpFlag.SYN | TcpFlag.RST)) side.sentAfterProbe = true;
    }

    // Sequence facts after the segment.
    const end = (segment.seq + segment.payloadLength + (flags & TcpFlag.SYN ? 1 : 0) + (flags & TcpFlag.FIN ? 1 : 0)) >>> 0;
    if (!(flags & TcpFlag.RST)) {
      if (!own.nxtKnown || diff(end, own.nxt) > 0) {
        own.nxt = end;
        own.nxtKnown = true;
      }
      own.window = segment.window;
    }
    if (flags & TcpFlag.ACK && !(flags & TcpFlag.RST)) {
      if (!theirs.unaKnown || diff(segment.ack, theirs.una) > 0) {
        theirs.una = segment.ack >>> 0;
        theirs.unaKnown = true;
      }
    }
    own.lastSentT = t;
  }

  /** Every flow's facts, in flow order. */
  facts(): FlowFacts[] {
    return [...this.flows.values()].map((e) => e.facts).sort((a, b) => a.flowId - b.flowId);
  }
}

function synFacts(segment: TcpSegment, sent: Sent): SynFacts {
  return {
    ...sent,
    mss: segment.mss,
    windowScale: segment.windowScale,
    sackPermitted: segment.sackPermitted,
    timestamps: segment.hasTimestamp,
    ece: (segment.flags & TcpFlag.ECE) !== 0,
    cwr: (segment.flags & TcpFlag.CWR) !== 0,
    ttl: segment.ttl,
    ipVersion: segment.ipVersion,
    window: segment.window,
    fastOpen: segment.fastOpenCookieLength >= 0,
  };
}
