/**
 * Zeek's view of one TCP connection: `conn_state`, `history`, and the byte
 * counts of its conn.log, rebuilt from the segments we already decode.
 *
 * We model Zeek's TCP analyzer as far as those fields need it: its seven
 * per-endpoint states (TCP_INACTIVE … TCP_RESET, which are not RFC 9293's),
 * its history letters, its sequence-number byte counts and its content gaps.
 * The rules follow Zeek's TCPSessionAdapter, TCP_Endpoint, TCP_Reassembler and
 * `base/protocols/conn/main.zeek`; the code is ours. docs/zeek.md lists where
 * we differ.
 *
 * Limitations, in plain words:
 * - Roles come from the caller. Zeek may swap them mid-connection (a SYN-ACK
 *   captured before its SYN); we only add the leading `^` when told to.
 * - Checksums are not verified here; a segment the caller marks
 *   `badChecksum` is treated as Zeek treats one: it adds C/c and is otherwise
 *   ignored.
 * - Gaps are found as Zeek finds them, when an ACK covers bytes we never saw,
 *   but we remember only one out-of-order block per direction: with several
 *   holes open at once, data seen above the second hole counts as missed.
 * - Payload cut by the snap length counts as seen (Zeek would report it as a
 *   gap once acknowledged).
 * - Zeek splits a connection on inactivity timeouts and port reuse; whatever
 *   the caller feeds one observer is one connection.
 */

/** Zeek's conn_state codes. */
export const ZeekConnState = {
  S0: 'S0',
  S1: 'S1',
  SF: 'SF',
  REJ: 'REJ',
  S2: 'S2',
  S3: 'S3',
  RSTO: 'RSTO',
  RSTR: 'RSTR',
  RSTOS0: 'RSTOS0',
  RSTRH: 'RSTRH',
  SH: 'SH',
  SHR: 'SHR',
  OTH: 'OTH',
} as const;
export type ZeekConnState = (typeof ZeekConnState)[keyof typeof ZeekConnState];

/** One line per code, in our words: for docs and `--help`. */
export const ZEEK_CONN_STATE_MEANING: Readonly<Record<ZeekConnState, string>> = {
  S0: 'The originator tried to connect (SYN) and nothing came back.',
  S1: 'The handshake completed; neither side closed or reset.',
  SF: 'Both sides closed with a FIN: a normal ending.',
  REJ: 'The connection attempt was refused with a RST.',
  S2: 'Established, then the originator closed; the responder never closed.',
  S3: 'Established, then the responder closed; the originator never closed.',
  RSTO: 'Established (or at least answered), then the originator reset it.',
  RSTR: 'The responder reset a connection that got past the attempt.',
  RSTOS0: 'The originator sent a SYN and then a RST; no SYN-ACK was seen.',
  RSTRH: 'The responder sent a SYN-ACK and then a RST; no SYN from the originator was seen.',
  SH: 'The originator sent a SYN and then a FIN; no SYN-ACK was seen (half open).',
  SHR: 'The responder sent a SYN-ACK and then a FIN; no SYN from the originator was seen.',
  OTH: 'No SYN seen, or a mix the other codes do not cover (e.g. midstream traffic).',
};

/**
 * The history letters. Upper case when the originator did it, lower case for
 * the responder. `counted`: 'once' letters appear at most once per direction,
 * except that S, H, F and R (`repeatsOnNewSeq`) appear again when a later
 * packet of the same kind carries a different sequence number; 'logarithmic'
 * letters appear at the 1st, 10th, 100th, 1000th… occurrence.
 */
export const ZEEK_HISTORY_LETTERS: ReadonlyArray<{
  letter: string;
  meaning: string;
  counted: 'once' | 'logarithmic';
  /** The letter is written again for a new sequence number, as Zeek does. */
  repeatsOnNewSeq: boolean;
}> = [
  { letter: 'S', meaning: 'SYN without ACK', counted: 'once', repeatsOnNewSeq: true },
  { letter: 'H', meaning: 'SYN with ACK (the handshake reply)', counted: 'once', repeatsOnNewSeq: true },
  { letter: 'A', meaning: 'pure ACK: no payload, no SYN, FIN or RST', counted: 'once', repeatsOnNewSeq: false },
  { letter: 'D', meaning: 'payload, without SYN, FIN or RST', counted: 'once', repeatsOnNewSeq: false },
  { letter: 'F', meaning: 'FIN (without SYN or RST)', counted: 'once', repeatsOnNewSeq: true },
  { letter: 'R', meaning: 'RST (without SYN or FIN)', counted: 'once', repeatsOnNewSeq: true },
  { letter: 'C', meaning: 'bad checksum (the segment is otherwise ignored)', counted: 'logarithmic', repeatsOnNewSeq: false },
  { letter: 'G', meaning: 'content gap: the peer acknowledged bytes we never saw', counted: 'logarithmic', repeatsOnNewSeq: false },
  {
    letter: 'T',
    meaning: 'payload that did not advance the sequence space (retransmission)',
    counted: 'logarithmic',
    repeatsOnNewSeq: false,
  },
  { letter: 'W', meaning: 'zero window advertised', counted: 'logarithmic', repeatsOnNewSeq: false },
  { letter: 'I', meaning: 'inconsistent flags: FIN and RST together', counted: 'once', repeatsOnNewSeq: false },
  { letter: 'Q', meaning: 'multi-flag packet: SYN with FIN, or SYN with RST', counted: 'once', repeatsOnNewSeq: false },
  {
    letter: '^',
    meaning: 'roles were flipped: the originator was guessed, not the first packet sender',
    counted: 'once',
    repeatsOnNewSeq: false,
  },
];

/** Zeek's per-endpoint states, by the names its scripts use. */
export const ZeekEndpointState = {
  TCP_INACTIVE: 'TCP_INACTIVE',
  TCP_SYN_SENT: 'TCP_SYN_SENT',
  TCP_SYN_ACK_SENT: 'TCP_SYN_ACK_SENT',
  TCP_PARTIAL: 'TCP_PARTIAL',
  TCP_ESTABLISHED: 'TCP_ESTABLISHED',
  TCP_CLOSED: 'TCP_CLOSED',
  TCP_RESET: 'TCP_RESET',
} as const;
export type ZeekEndpointState = (typeof ZeekEndpointState)[keyof typeof ZeekEndpointState];

// Numeric codes on the hot path; the order is Zeek's.
const INACTIVE = 0;
const SYN_SENT = 1;
const SYN_ACK_SENT = 2;
const PARTIAL = 3;
const ESTABLISHED = 4;
const CLOSED = 5;
const RESET = 6;
const STATE_NAMES: readonly ZeekEndpointState[] = [
  ZeekEndpointState.TCP_INACTIVE,
  ZeekEndpointState.TCP_SYN_SENT,
  ZeekEndpointState.TCP_SYN_ACK_SENT,
  ZeekEndpointState.TCP_PARTIAL,
  ZeekEndpointState.TCP_ESTABLISHED,
  ZeekEndpointState.TCP_CLOSED,
  ZeekEndpointState.TCP_RESET,
];

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

/** Zeek distrusts SYN/RST sequence jumps and zero ACKs beyond this (1 MiB). */
const TOO_LARGE_SEQ_DELTA = 1_048_576;

// Bits of the once-only letters, per endpoint.
const SEEN_SYN = 1;
const SEEN_FIN = 2;
const SEEN_RST = 4;
const SEEN_FIN_RST = 8;
const SEEN_DATA = 16;
const SEEN_ACK = 32;
const SEEN_MULTI = 64;

// Logarithmic counters, by index into Side.counts.
const COUNT_CHECKSUM = 0;
const COUNT_RETRANSMIT = 1;
const COUNT_ZERO_WINDOW = 2;
const COUNT_GAP = 3;
const COUNT_LETTERS = [67 /* C */, 84 /* T */, 87 /* W */, 71 /* G */] as const;

const CHAR_S = 83;
const CHAR_H = 72;
const CHAR_A = 65;
const CHAR_D = 68;
const CHAR_F = 70;
const CHAR_R = 82;
const CHAR_I = 73;
const CHAR_Q = 81;
const CHAR_G = 71;

/**
 * One endpoint as Zeek's analyzer sees it. Sequence positions are kept both
 * raw (32 bits as a signed integer, to take signed differences against the wire) and relative to
 * the endpoint's start, unwrapped (plain numbers past 2^32), so byte counts
 * survive the wrap.
 */
class Side {
  declare state: number;
  declare prev: number;
  /** Once-only letters already written (SEEN_* bits). */
  declare seen: number;
  /** Zeek's start_seq: the ISN, or one before the first byte seen when no SYN was. */
  declare start: number;
  /** One past the highest sequence number sent, raw and relative to `start`. */
  declare lastSeq: number;
  declare lastRel: number;
  /** Highest ACK the peer sent for this side's data, raw and relative. */
  declare ackSeq: number;
  declare ackRel: number;
  /** Relative sequence of the last SYN, FIN end and RST, to repeat S/H/F/R only for new ones. */
  declare histSyn: number;
  declare histFin: number;
  declare histRst: number;
  declare finCount: number;
  /** Relative position one past the last FIN. */
  declare finRel: number;
  /** Reassembly, relative: data before `next` is delivered or written off as a gap. */
  declare next: number;
  declare trim: number;
  /** One remembered out-of-order block [oooLo, oooHi); empty when equal. */
  declare oooLo: number;
  declare oooHi: number;
  /** C/T/W/G events so far, by COUNT_* index; allocated at the first (most connections have none). */
  declare counts: number[] | null;

  /** 0 for the originator's upper-case letters, 32 for the responder's lower case. */
  constructor(readonly caseOffset: 0 | 32) {
    this.reset();
  }

  reset(): void {
    this.state = INACTIVE;
    this.prev = INACTIVE;
    this.seen = 0;
    this.start = 0;
    this.lastSeq = 0;
    this.lastRel = 0;
    this.ackSeq = 0;
    this.ackRel = 0;
    this.histSyn = 0;
    this.histFin = 0;
    this.histRst = 0;
    this.finCount = 0;
    this.finRel = 0;
    this.next = 1;
    this.trim = 1;
    this.oooLo = 0;
    this.oooHi = 0;
    this.counts = null;
  }
}

function isPowerOfTen(n: number): boolean {
  while (n % 10 === 0) n /= 10;
  return n === 1;
}

function setState(side: Side, next: number): void {
  if (next !== side.state) {
    side.prev = side.state;
    side.state = next;
  }
}

/** Zeek's InitStartSeq/InitAckSeq/InitLastSeq together. */
function initSequence(side: Side, start: number, last: number): void {
  side.start = start | 0;
  side.ackSeq = side.start;
  side.ackRel = 0;
  side.lastSeq = last | 0;
  side.lastRel = (side.lastSeq - side.start) >>> 0;
}

/** Zeek's ESTABLISHED-or-cleanly-closing test for reporting a gap. */
function isClean(side: Side): boolean {
  return side.state === ESTABLISHED || (side.state === CLOSED && side.prev === ESTABLISHED);
}

/** Per-connection accumulator, fed every TCP segment of the connection in capture order. Pure: no I/O. */
export class ZeekConnObserver {
  private readonly orig = new Side(0);
  private readonly resp = new Side(32);
  /** The history so far (a string: a typed array cost each connection more memory). */
  declare private letters: string;
  declare private missed: number;

  constructor() {
    this.reset();
  }

  /** As new: the tracker reuses the observers of flows it is done with. */
  reset(): void {
    this.orig.reset();
    this.resp.reset();
    this.letters = '';
    this.missed = 0;
  }

  /**
   * `fromOriginator`: the segment was sent by the originator (our "client").
   * flags: the 12-bit TCP flags field (FIN=0x01, SYN=0x02, RST=0x04, PSH=0x08,
   * ACK=0x10, URG=0x20, ECE=0x40, CWR=0x80, NS=0x100). seq/ack: raw 32-bit
   * values. payloadLength: TCP payload bytes on the wire. window: the raw
   * window field. badChecksum: the caller verified the checksum and it failed.
   */
  observe(
    fromOriginator: boolean,
    flags: number,
    seq: number,
    ack: number,
    payloadLength: number,
    window: number,
    badChecksum = false,
  ): void {
    const side = fromOriginator ? this.orig : this.resp;
    const peer = fromOriginator ? this.resp : this.orig;
    if (badChecksum) {
      // Zeek drops such a segment after noting it: nothing else may change.
      this.bump(side, COUNT_CHECKSUM);
      return;
    }
    // Raw positions are kept as signed 32-bit integers, which V8 stores unboxed; differences are taken | 0.
    seq |= 0;
    ack |= 0;
    const syn = (flags & SYN) !== 0;
    const fin = (flags & FIN) !== 0;
    const rst = (flags & RST) !== 0;
    const hasAck = (flags & ACK) !== 0;
    // Sequence space used: SYN and FIN count one; a RST's payload is not stream data.
    const segLen = (rst ? 0 : payloadLength) + (syn ? 1 : 0) + (fin ? 1 : 0);
    const end = (seq + segLen) | 0;

    this.initEndpoint(side, syn, seq, end);
    const relSeq = side.lastRel + ((seq - side.lastSeq) | 0);

    this.recordFlags(side, syn, fin, rst, hasAck, relSeq, payloadLength);

    // A zero window matters unless it comes with or after our RST, or after the peer's FIN.
    if (window === 0 && !rst && peer.state !== CLOSED && side.state !== RESET) this.bump(side, COUNT_ZERO_WINDOW);

    if (fin) {
      side.finCount++;
      side.finRel = relSeq + segLen;
    }

    let relAck = 0;
    if (hasAck) {
      if (peer.state === INACTIVE) {
        // Number the silent peer's space as if its SYN had been at ack - 1.
        initSequence(peer, ack - 1, ack - 1);
        relAck = 1;
      } else {
        const delta = (ack - peer.ackSeq) | 0;
        relAck = peer.ackRel + delta;
        if (relAck < 0) relAck = 0;
        // ACKs in RSTs are not trusted; a zero ACK far ahead is more likely broken than a wrap.
        else if (!rst && delta > 0 && !(ack === 0 && delta > TOO_LARGE_SEQ_DELTA)) {
          peer.ackSeq = ack;
          peer.ackRel += delta;
        }
      }
    }

    this.updateLastSeq(side, syn, fin, rst, end, payloadLength);
    this.transition(side, peer, fromOriginator, syn, fin, rst, hasAck, payloadLength);

    // After the transition, so a gap revealed by a closing FIN or RST is judged by the new states.
    if (hasAck) this.ackReceived(peer, side, relAck);
    if (payloadLength > 0 && !rst && relSeq >= 0) this.dataSent(side, syn ? relSeq + 1 : relSeq, payloadLength);
  }

  /** Zeek's conn_state for what was observed. */
  connState(): ZeekConnState {
    const os = this.orig.state;
    const rs = this.resp.state;
    const origInactive = os === INACTIVE || os === PARTIAL;
    const respInactive = rs === INACTIVE || rs === PARTIAL;
    if (rs === RESET) {
      if (os === SYN_SENT || os === SYN_ACK_SENT || (os === RESET && this.originatorBytes() === 0 && this.responderBytes() === 0)) {
        return ZeekConnState.REJ;
      }
      return origInactive ? ZeekConnState.RSTRH : ZeekConnState.RSTR;
    }
    if (os === RESET) {
      if (respInactive) return this.synThenReset() ? ZeekConnState.RSTOS0 : ZeekConnState.OTH;
      return ZeekConnState.RSTO;
    }
    if (rs === CLOSED && os === CLOSED) return ZeekConnState.SF;
    if (os === CLOSED) return respInactive ? ZeekConnState.SH : ZeekConnState.S2;
    if (rs === CLOSED) return origInactive ? ZeekConnState.SHR : ZeekConnState.S3;
    if (os === SYN_SENT && rs === INACTIVE) return ZeekConnState.S0;
    if (os === ESTABLISHED && rs === ESTABLISHED) return ZeekConnState.S1;
    return ZeekConnState.OTH;
  }

  /** Zeek's history string; `flipped` adds the leading '^' (the originator was not the first packet's sender / roles were guessed). */
  history(flipped: boolean): string {
    return flipped ? `^${this.letters}` : this.letters;
  }

  /**
   * Zeek's orig_bytes: from sequence numbers, not from payload seen. The
   * larger of the highest sequence sent and the highest acknowledged, minus
   * the start, minus the SYN and FIN octets; so bytes lost before the capture
   * point but acknowledged still count, and retransmissions do not.
   */
  originatorBytes(): number {
    return this.size(this.orig, this.resp);
  }

  /** Zeek's resp_bytes; see originatorBytes. */
  responderBytes(): number {
    return this.size(this.resp, this.orig);
  }

  /** Zeek's missed_bytes: bytes acknowledged but never seen, in both directions, while both sides were established or cleanly closing. */
  missedBytes(): number {
    return this.missed;
  }

  /** Zeek's state of one endpoint (c$orig$state / c$resp$state). */
  endpointState(originator: boolean): ZeekEndpointState {
    return STATE_NAMES[(originator ? this.orig : this.resp).state];
  }

  /** Zeek's init_endpoint: when a side's sequence space is (re)based. */
  private initEndpoint(side: Side, syn: boolean, seq: number, end: number): void {
    switch (side.state) {
      case INACTIVE:
        // Without a SYN, pretend one sat just before this segment so relative numbering starts at 1.
        if (syn) initSequence(side, seq, end);
        else initSequence(side, seq - 1, seq);
        break;
      case SYN_SENT:
      case SYN_ACK_SENT:
        if (syn && seq !== side.start) initSequence(side, seq, end);
        break;
      case ESTABLISHED:
      case PARTIAL:
        // A SYN here means the connection probably never got going; let it set things up.
        if (syn) initSequence(side, seq, end);
        break;
      case RESET:
        // The numbers came from a (perhaps injected) RST; a SYN is better evidence.
        if (syn && side.prev === INACTIVE) initSequence(side, seq, end);
        break;
      default:
        break;
    }
  }

  /** Zeek's update_history: the flag letters of one segment. */
  private recordFlags(side: Side, syn: boolean, fin: boolean, rst: boolean, hasAck: boolean, relSeq: number, len: number): void {
    const controls = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (controls > 1) {
      if (fin && rst) this.once(side, SEEN_FIN_RST, CHAR_I);
      else this.once(side, SEEN_MULTI, CHAR_Q);
    } else if (controls === 1) {
      if (syn) {
        const letter = hasAck ? CHAR_H : CHAR_S;
        if (this.once(side, SEEN_SYN, letter) && relSeq !== side.histSyn) this.push(side, letter);
        side.histSyn = relSeq;
      } else if (fin) {
        // A FIN's place is the end of its payload.
        if (this.once(side, SEEN_FIN, CHAR_F) && relSeq + len !== side.histFin) this.push(side, CHAR_F);
        side.histFin = relSeq + len;
      } else {
        if (this.once(side, SEEN_RST, CHAR_R) && relSeq !== side.histRst) this.push(side, CHAR_R);
        side.histRst = relSeq;
      }
    } else if (len > 0) {
      this.once(side, SEEN_DATA, CHAR_D);
    } else if (hasAck) {
      this.once(side, SEEN_ACK, CHAR_A);
    }
  }

  /** Zeek's update_last_seq, which is also where it spots retransmissions. */
  private updateLastSeq(side: Side, syn: boolean, fin: boolean, rst: boolean, end: number, len: number): void {
    const delta = (end - side.lastSeq) | 0;
    if ((syn || rst) && (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA)) return;
    if (fin && side.lastRel === 1) {
      // Only the SYN came before: trust the FIN even over 2 GiB away (a huge transfer we saw none of).
      side.lastRel += (end - side.lastSeq) >>> 0;
      side.lastSeq = end;
    } else if (side.state === RESET) {
      // Nothing after our own RST is trusted.
    } else if (delta > 0) {
      side.lastSeq = end;
      side.lastRel += delta;
    } else if (len > 0) {
      this.bump(side, COUNT_RETRANSMIT);
    }
  }

  /** Zeek's UpdateStateMachine: the endpoint states conn_state is decided from. */
  private transition(
    side: Side,
    peer: Side,
    isOrig: boolean,
    syn: boolean,
    fin: boolean,
    rst: boolean,
    hasAck: boolean,
    len: number,
  ): void {
    switch (side.state) {
      case INACTIVE:
        if (syn) {
          if (isOrig) setState(side, hasAck ? SYN_ACK_SENT : SYN_SENT);
          else {
            // The reply to a SYN (or a simultaneous open) establishes both.
            if (peer.state === SYN_SENT) setState(peer, ESTABLISHED);
            setState(side, ESTABLISHED);
          }
        }
        if (fin) setState(side, CLOSED);
        if (rst) setState(side, RESET);
        if (side.state === INACTIVE) {
          if (!isOrig && len === 0 && peer.state === SYN_SENT) {
            // Some stacks ACK a SYN before answering it; that is not a partial connection.
          } else if (hasAck && peer.state === ESTABLISHED) {
            // We missed this side's SYN but saw the SYN-ACK it acknowledges.
            setState(side, ESTABLISHED);
          } else {
            setState(side, PARTIAL);
          }
        }
        break;
      case SYN_SENT:
      case SYN_ACK_SENT:
        if (fin) setState(side, CLOSED);
        if (rst) setState(side, RESET);
        break;
      case ESTABLISHED:
      case PARTIAL:
        if (syn && side.state === PARTIAL && peer.state === INACTIVE && !hasAck) setState(side, SYN_SENT);
        if (fin && !rst) {
          setState(side, CLOSED);
          // The peer's earlier FIN-then-RST was a normal close after all.
          if (peer.state === RESET && peer.prev === CLOSED) setState(peer, CLOSED);
        }
        if (rst) setState(side, RESET);
        break;
      case CLOSED:
        // After a FIN exchange on both sides a RST changes nothing.
        if (rst && peer.state !== CLOSED) setState(side, RESET);
        break;
      default:
        break;
    }
  }

  /** The reassembler of `side`'s data hears the peer acknowledge up to `relAck`. */
  private ackReceived(side: Side, peer: Side, relAck: number): void {
    // The FIN octet is never data: never a gap.
    if (side.finCount > 0 && relAck >= side.finRel) relAck = side.finRel - 1;
    if (relAck <= side.trim) return;
    if (relAck > side.next) {
      if (side.oooHi > side.oooLo && side.oooLo < relAck) {
        this.gap(side, peer, side.oooLo - side.next);
        side.next = side.oooHi;
        side.oooLo = side.oooHi = 0;
      }
      if (relAck > side.next) {
        this.gap(side, peer, relAck - side.next);
        side.next = relAck;
      }
    }
    side.trim = relAck;
  }

  /** The reassembler of `side`'s data receives [lo, lo + len), relative. */
  private dataSent(side: Side, lo: number, len: number): void {
    const hi = lo + len;
    // Already acknowledged, or already trimmed: old news.
    if (lo < side.ackRel) lo = side.ackRel;
    if (lo < side.trim) lo = side.trim;
    if (hi <= lo) return;
    if (lo <= side.next) {
      if (hi > side.next) {
        side.next = hi;
        if (side.oooHi > side.oooLo && side.oooLo <= side.next) {
          if (side.oooHi > side.next) side.next = side.oooHi;
          side.oooLo = side.oooHi = 0;
        }
      }
    } else if (side.oooHi <= side.oooLo) {
      side.oooLo = lo;
      side.oooHi = hi;
    } else if (lo <= side.oooHi && hi >= side.oooLo) {
      if (lo < side.oooLo) side.oooLo = lo;
      if (hi > side.oooHi) side.oooHi = hi;
    } else if (hi < side.oooLo) {
      // Keep the block nearest the hole; the other one will count as missed.
      side.oooLo = lo;
      side.oooHi = hi;
    }
  }

  private gap(side: Side, peer: Side, bytes: number): void {
    if (bytes <= 0) return;
    // Zeek reports gaps only while both sides are established or cleanly closing.
    if (!isClean(side) || !isClean(peer)) return;
    this.bump(side, COUNT_GAP);
    this.missed += bytes;
  }

  /** Zeek's Size(). */
  private size(side: Side, peer: Side): number {
    const noDataAcked = side.ackRel === 0 || side.ackRel === 1;
    // A half-open connection found and aborted: its sequence numbers say nothing about data.
    if (side.prev === SYN_SENT && side.state === RESET && peer.state === INACTIVE && !noDataAcked) return 0;
    let bytes = side.lastRel > side.ackRel ? side.lastRel : side.ackRel;
    if (bytes > 0) bytes--; // the SYN octet, real or assumed
    if (side.finCount > 0 && bytes > 0) bytes--; // the FIN octet
    return bytes;
  }

  /** main.zeek's /^\^?S[^HAFGIQ]*R.*$/ on the history, without building it. */
  private synThenReset(): boolean {
    const letters = this.letters;
    if (letters.length === 0 || letters.charCodeAt(0) !== CHAR_S) return false;
    for (let i = 1; i < letters.length; i++) {
      const c = letters.charCodeAt(i);
      if (c === CHAR_R) return true;
      if (c === CHAR_H || c === CHAR_A || c === CHAR_F || c === CHAR_G || c === CHAR_I || c === CHAR_Q) return false;
    }
    return false;
  }

  /** Writes a once-only letter the first time; returns whether it had been seen before. */
  private once(side: Side, bit: number, letter: number): boolean {
    if ((side.seen & bit) !== 0) return true;
    side.seen |= bit;
    this.push(side, letter);
    return false;
  }

  /** Counts one event; writes its letter at the 1st, 10th, 100th… */
  private bump(side: Side, index: number): void {
    const counts = (side.counts ??= [0, 0, 0, 0]);
    if (isPowerOfTen(++counts[index])) this.push(side, COUNT_LETTERS[index]);
  }

  private push(side: Side, letter: number): void {
    this.letters += String.fromCharCode(letter + side.caseOffset);
  }
}
