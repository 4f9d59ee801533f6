import { describe, expect, test } from 'vitest';
import { ZEEK_CONN_STATE_MEANING, ZEEK_HISTORY_LETTERS, ZeekConnObserver, ZeekConnState } from './zeek-conn.js';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

/** Initial sequence numbers of the originator and the responder. */
const O = 1000;
const R = 5000;

/** A connection under test: `o` and `r` send one segment each from originator and responder. */
function connection() {
  const zeek = new ZeekConnObserver();
  const send =
    (fromOriginator: boolean) =>
    (flags: number, seq: number, ack: number, len = 0, window = 65535, badChecksum = false): void =>
      zeek.observe(fromOriginator, flags, seq >>> 0, ack >>> 0, len, window, badChecksum);
  return { zeek, o: send(true), r: send(false) };
}

/** SYN, SYN-ACK, ACK from isn `o` to isn `r`. */
function established(o = O, r = R) {
  const c = connection();
  c.o(SYN, o, 0);
  c.r(SYN | ACK, r, o + 1);
  c.o(ACK, o + 1, r + 1);
  return c;
}

function occurrences(text: string, letter: string): number {
  return text.split(letter).length - 1;
}

describe('conn_state', () => {
  test('S0: a SYN with no answer', () => {
    const { zeek, o } = connection();
    o(SYN, O, 0);
    expect(zeek.connState()).toBe(ZeekConnState.S0);
    expect(zeek.history(false)).toBe('S');
    expect(zeek.endpointState(true)).toBe('TCP_SYN_SENT');
    expect(zeek.endpointState(false)).toBe('TCP_INACTIVE');
  });

  test('REJ: the responder answers the SYN with a RST', () => {
    const { zeek, o, r } = connection();
    o(SYN, O, 0);
    r(RST | ACK, 0, O + 1);
    expect(zeek.connState()).toBe(ZeekConnState.REJ);
    expect(zeek.history(false)).toBe('Sr');
  });

  test('REJ: both sides reset and no byte moved', () => {
    const { zeek, o, r } = connection();
    o(SYN, O, 0);
    r(RST | ACK, 0, O + 1);
    o(RST, O + 1, 0);
    expect(zeek.connState()).toBe(ZeekConnState.REJ);
    expect(zeek.history(false)).toBe('SrR');
  });

  test('S1: the handshake completes and nothing closes', () => {
    const { zeek } = established();
    expect(zeek.connState()).toBe(ZeekConnState.S1);
    expect(zeek.history(false)).toBe('ShA');
  });

  test('S1: an ACK of a SYN-ACK establishes a connection whose SYN was missed', () => {
    const { zeek, o, r } = connection();
    r(SYN | ACK, R, O + 1);
    o(ACK, O + 1, R + 1);
    expect(zeek.connState()).toBe(ZeekConnState.S1);
    expect(zeek.history(false)).toBe('hA');
  });

  test('S1: a responder that ACKs the SYN before its SYN-ACK is not a partial connection', () => {
    const { zeek, o, r } = connection();
    o(SYN, O, 0);
    r(ACK, R, O + 1);
    expect(zeek.endpointState(false)).toBe('TCP_INACTIVE');
    r(SYN | ACK, R, O + 1);
    o(ACK, O + 1, R + 1);
    expect(zeek.connState()).toBe(ZeekConnState.S1);
    expect(zeek.history(false)).toBe('SahA');
  });

  test('SF: data both ways and a FIN from each side', () => {
    const { zeek, o, r } = established();
    o(PSH | ACK, O + 1, R + 1, 100);
    r(ACK, R + 1, O + 101);
    r(PSH | ACK, R + 1, O + 101, 50);
    o(ACK, O + 101, R + 51);
    o(FIN | ACK, O + 101, R + 51);
    r(FIN | ACK, R + 51, O + 102);
    o(ACK, O + 102, R + 52);
    expect(zeek.connState()).toBe(ZeekConnState.SF);
    expect(zeek.history(false)).toBe('ShADadFf');
    expect(zeek.originatorBytes()).toBe(100);
    expect(zeek.responderBytes()).toBe(50);
    expect(zeek.missedBytes()).toBe(0);
  });

  test('S2: the originator closes, the responder only acknowledges', () => {
    const { zeek, o, r } = established();
    o(FIN | ACK, O + 1, R + 1);
    r(ACK, R + 1, O + 2);
    expect(zeek.connState()).toBe(ZeekConnState.S2);
    expect(zeek.history(false)).toBe('ShAFa');
  });

  test('S3: the responder closes, the originator only acknowledges', () => {
    const { zeek, o, r } = established();
    r(FIN | ACK, R + 1, O + 1);
    o(ACK, O + 1, R + 2);
    expect(zeek.connState()).toBe(ZeekConnState.S3);
    expect(zeek.history(false)).toBe('ShAf');
  });

  test('RSTO: the originator resets an established connection', () => {
    const { zeek, o } = established();
    o(RST | ACK, O + 1, R + 1);
    expect(zeek.connState()).toBe(ZeekConnState.RSTO);
    expect(zeek.history(false)).toBe('ShAR');
  });

  test('RSTR: the responder resets an established connection', () => {
    const { zeek, r } = established();
    r(RST, R + 1, 0);
    expect(zeek.connState()).toBe(ZeekConnState.RSTR);
    expect(zeek.history(false)).toBe('ShAr');
  });

  test('SF survives a RST sent after both FINs', () => {
    const { zeek, o, r } = established();
    o(FIN | ACK, O + 1, R + 1);
    r(FIN | ACK, R + 1, O + 2);
    r(RST, R + 2, 0);
    expect(zeek.connState()).toBe(ZeekConnState.SF);
  });

  test('RSTOS0: the originator sends a SYN, then a RST, and no SYN-ACK is seen', () => {
    const { zeek, o } = connection();
    o(SYN, O, 0);
    o(RST, O + 1, 0);
    expect(zeek.connState()).toBe(ZeekConnState.RSTOS0);
    expect(zeek.history(false)).toBe('SR');
  });

  test('OTH: a lone RST from the originator, without a SYN before it, is not RSTOS0', () => {
    const { zeek, o } = connection();
    o(RST, O, 0);
    expect(zeek.connState()).toBe(ZeekConnState.OTH);
    expect(zeek.history(false)).toBe('R');
  });

  test('RSTRH: the responder sends a SYN-ACK, then a RST, and no SYN is seen', () => {
    const { zeek, r } = connection();
    r(SYN | ACK, R, O + 1);
    r(RST, R + 1, 0);
    expect(zeek.connState()).toBe(ZeekConnState.RSTRH);
    expect(zeek.history(false)).toBe('hr');
  });

  test('SH: the originator sends a SYN, then a FIN, and no SYN-ACK is seen', () => {
    const { zeek, o } = connection();
    o(SYN, O, 0);
    o(FIN, O + 1, 0);
    expect(zeek.connState()).toBe(ZeekConnState.SH);
    expect(zeek.history(false)).toBe('SF');
  });

  test('SH: a single SYN+FIN packet is half open and writes Q', () => {
    const { zeek, o } = connection();
    o(SYN | FIN, O, 0);
    expect(zeek.connState()).toBe(ZeekConnState.SH);
    expect(zeek.history(false)).toBe('Q');
  });

  test('SHR: the responder sends a SYN-ACK, then a FIN, and no SYN is seen', () => {
    const { zeek, r } = connection();
    r(SYN | ACK, R, O + 1);
    r(FIN | ACK, R + 1, O + 1);
    expect(zeek.connState()).toBe(ZeekConnState.SHR);
    expect(zeek.history(false)).toBe('hf');
  });

  test('OTH: midstream traffic with no SYN', () => {
    const { zeek, o, r } = connection();
    o(PSH | ACK, O + 1, R + 1, 10);
    r(ACK, R + 1, O + 11);
    expect(zeek.connState()).toBe(ZeekConnState.OTH);
    expect(zeek.history(false)).toBe('Da');
    expect(zeek.endpointState(true)).toBe('TCP_PARTIAL');
    expect(zeek.endpointState(false)).toBe('TCP_PARTIAL');
  });

  test('every code has a meaning', () => {
    for (const code of Object.values(ZeekConnState)) expect(ZEEK_CONN_STATE_MEANING[code]).toMatch(/\w/);
  });
});

describe('history letters', () => {
  test('writes D and A once per direction however many are seen', () => {
    const { zeek, o, r } = established();
    for (let i = 0; i < 5; i++) {
      o(PSH | ACK, O + 1 + i * 10, R + 1, 10);
      r(ACK, R + 1, O + 11 + i * 10);
    }
    expect(zeek.history(false)).toBe('ShADa');
  });

  test('puts the responder in lower case and the originator in upper case', () => {
    const { zeek, r } = established();
    r(PSH | ACK, R + 1, O + 1, 5);
    expect(zeek.history(false)).toBe('ShAd');
  });

  test('prefixes ^ when the roles were flipped or guessed', () => {
    const { zeek } = established();
    expect(zeek.history(true)).toBe('^ShA');
  });

  test('writes T at the 1st, 10th and 100th retransmission', () => {
    const { zeek, o } = established();
    o(PSH | ACK, O + 1, R + 1, 100);
    const retransmit = (): void => o(PSH | ACK, O + 1, R + 1, 100);
    retransmit();
    expect(occurrences(zeek.history(false), 'T')).toBe(1);
    for (let i = 2; i <= 9; i++) retransmit();
    expect(occurrences(zeek.history(false), 'T')).toBe(1);
    retransmit();
    expect(occurrences(zeek.history(false), 'T')).toBe(2);
    for (let i = 11; i <= 99; i++) retransmit();
    expect(occurrences(zeek.history(false), 'T')).toBe(2);
    retransmit();
    expect(zeek.history(false)).toBe('ShADTTT');
  });

  test('writes t for the responder retransmitting', () => {
    const { zeek, r } = established();
    r(PSH | ACK, R + 1, O + 1, 20);
    r(PSH | ACK, R + 1, O + 1, 20);
    expect(zeek.history(false)).toBe('ShAdt');
  });

  test('counts a keep-alive probe (one old byte) as a retransmission, as Zeek does', () => {
    const { zeek, o } = established();
    o(ACK, O, R + 1, 1);
    expect(zeek.history(false)).toBe('ShADT');
  });

  test('does not count a segment that overlaps old data but reaches new bytes', () => {
    const { zeek, o } = established();
    o(PSH | ACK, O + 1, R + 1, 100);
    o(PSH | ACK, O + 51, R + 1, 100);
    expect(zeek.history(false)).toBe('ShAD');
    expect(zeek.originatorBytes()).toBe(150);
  });

  test('writes w at the 1st, 10th and 100th zero window', () => {
    const { zeek, r } = established();
    const zeroWindow = (): void => r(ACK, R + 1, O + 1, 0, 0);
    zeroWindow();
    expect(occurrences(zeek.history(false), 'w')).toBe(1);
    for (let i = 2; i <= 10; i++) zeroWindow();
    expect(occurrences(zeek.history(false), 'w')).toBe(2);
    for (let i = 11; i <= 100; i++) zeroWindow();
    expect(zeek.history(false)).toBe('ShAawww');
  });

  test('counts zero windows per direction', () => {
    const { zeek, o, r } = established();
    for (let i = 0; i < 10; i++) o(ACK, O + 1, R + 1, 0, 0);
    r(ACK, R + 1, O + 1, 0, 0);
    expect(zeek.history(false)).toBe('ShAWWaw');
  });

  test('ignores a zero window in a RST or after the peer closed', () => {
    const { zeek, o, r } = established();
    o(FIN | ACK, O + 1, R + 1);
    r(ACK, R + 1, O + 2, 0, 0);
    expect(zeek.history(false)).toBe('ShAFa');
    r(RST, R + 1, 0, 0, 0);
    expect(zeek.history(false)).toBe('ShAFar');
  });

  test('counts a zero window sent by a side that already closed', () => {
    const { zeek, o } = established();
    o(FIN | ACK, O + 1, R + 1);
    o(ACK, O + 2, R + 1, 0, 0);
    expect(zeek.history(false)).toBe('ShAFW');
  });

  test('writes C for a bad checksum and otherwise ignores the segment', () => {
    const { zeek, o } = connection();
    o(SYN, O, 0, 0, 65535, true);
    expect(zeek.history(false)).toBe('C');
    expect(zeek.connState()).toBe(ZeekConnState.OTH);
    for (let i = 2; i <= 10; i++) o(SYN, O, 0, 0, 65535, true);
    expect(zeek.history(false)).toBe('CC');
    o(SYN, O, 0);
    expect(zeek.history(false)).toBe('CCS');
    expect(zeek.connState()).toBe(ZeekConnState.S0);
  });

  test('writes c for a bad checksum from the responder', () => {
    const { zeek, r } = established();
    r(PSH | ACK, R + 1, O + 1, 10, 65535, true);
    expect(zeek.history(false)).toBe('ShAc');
    expect(zeek.responderBytes()).toBe(0);
  });

  test('writes I once for FIN+RST together', () => {
    const { zeek, o } = established();
    o(FIN | RST | ACK, O + 1, R + 1);
    o(FIN | RST | ACK, O + 1, R + 1);
    expect(zeek.history(false)).toBe('ShAI');
    expect(zeek.connState()).toBe(ZeekConnState.RSTO);
  });

  test('writes Q once for SYN+RST and SYN+FIN', () => {
    const { zeek, o } = connection();
    o(SYN | RST, O, 0);
    o(SYN | FIN, O, 0);
    expect(zeek.history(false)).toBe('Q');
  });

  test('writes I, not Q, when SYN, FIN and RST are all set', () => {
    const { zeek, o } = connection();
    o(SYN | FIN | RST, O, 0);
    expect(zeek.history(false)).toBe('I');
  });

  test('writes R again for a RST with a new sequence number, not for a repeat', () => {
    const { zeek, o } = established();
    o(RST, O + 1, 0);
    o(RST, O + 1, 0);
    expect(zeek.history(false)).toBe('ShAR');
    o(RST, O + 1461, 0);
    expect(zeek.history(false)).toBe('ShARR');
  });

  test('writes F once for a retransmitted FIN', () => {
    const { zeek, o } = established();
    o(FIN | ACK, O + 1, R + 1);
    o(FIN | ACK, O + 1, R + 1);
    expect(zeek.history(false)).toBe('ShAF');
  });

  // Zeek itself would open a new connection (IsReuse) for the SYN with a new ISN;
  // fed to one observer, the new SYN rebases the sequence space and adds no letter.
  test('writes S once for a retransmitted SYN, and once for a SYN with a new ISN in the same observer', () => {
    const { zeek, o } = connection();
    o(SYN, O, 0);
    o(SYN, O, 0);
    o(SYN, O + 77_777, 0);
    expect(zeek.history(false)).toBe('S');
    expect(zeek.connState()).toBe(ZeekConnState.S0);
  });

  test('lists each letter once with how it is counted', () => {
    const letters = ZEEK_HISTORY_LETTERS.map((l) => l.letter);
    expect(new Set(letters).size).toBe(letters.length);
    const logarithmic = ZEEK_HISTORY_LETTERS.filter((l) => l.counted === 'logarithmic').map((l) => l.letter);
    expect(logarithmic.sort()).toEqual(['C', 'G', 'T', 'W']);
    const repeating = ZEEK_HISTORY_LETTERS.filter((l) => l.repeatsOnNewSeq).map((l) => l.letter);
    expect(repeating.sort()).toEqual(['F', 'H', 'R', 'S']);
  });
});

describe('gaps and missed bytes', () => {
  test('reproduces Zeek baseline core.tcp.miss-end-data: ShADafgF, SF, 538/2902 bytes, 2902 missed', () => {
    const { zeek, o, r } = established();
    o(PSH | ACK, O + 1, R + 1, 538);
    r(ACK, R + 1, O + 539);
    // The responder's 2902 bytes of data are not in the capture; its FIN is.
    r(FIN | ACK, R + 1 + 2902, O + 539);
    o(ACK, O + 539, R + 2904);
    o(FIN | ACK, O + 539, R + 2904);
    r(ACK, R + 2904, O + 540);
    expect(zeek.history(false)).toBe('ShADafgF');
    expect(zeek.connState()).toBe(ZeekConnState.SF);
    expect(zeek.originatorBytes()).toBe(538);
    expect(zeek.responderBytes()).toBe(2902);
    expect(zeek.missedBytes()).toBe(2902);
  });

  test('counts only the hole when data above it was seen', () => {
    const { zeek, o, r } = established();
    o(PSH | ACK, O + 1, R + 1, 100);
    o(PSH | ACK, O + 201, R + 1, 100);
    r(ACK, R + 1, O + 301);
    expect(zeek.missedBytes()).toBe(100);
    // The ACK writes its own letter first, then the gap it reveals.
    expect(zeek.history(false)).toBe('ShADaG');
  });

  test('writes G at the 1st and 10th gap', () => {
    const { zeek, o, r } = established();
    let next = O + 1;
    const holeThenAck = (): void => {
      o(PSH | ACK, next, R + 1, 10);
      next += 20; // 10 bytes never seen
      r(ACK, R + 1, next);
    };
    holeThenAck();
    expect(zeek.history(false)).toBe('ShADaG');
    for (let i = 2; i <= 9; i++) holeThenAck();
    expect(occurrences(zeek.history(false), 'G')).toBe(1);
    holeThenAck();
    expect(zeek.history(false)).toBe('ShADaGG');
    expect(zeek.missedBytes()).toBe(100);
  });

  test('reports no gap when the hole is filled before it is acknowledged', () => {
    const { zeek, o, r } = established();
    o(PSH | ACK, O + 1, R + 1, 100);
    o(PSH | ACK, O + 201, R + 1, 100);
    o(PSH | ACK, O + 101, R + 1, 100);
    r(ACK, R + 1, O + 301);
    expect(zeek.missedBytes()).toBe(0);
    // Zeek calls any payload below the highest sequence sent a retransmission, reordering too.
    expect(zeek.history(false)).toBe('ShADTa');
  });

  test('reports no gap for a partial (midstream) connection', () => {
    const { zeek, o, r } = connection();
    o(PSH | ACK, O + 1, R + 1, 10);
    r(ACK, R + 1, O + 5000);
    expect(zeek.missedBytes()).toBe(0);
    expect(zeek.history(false)).toBe('Da');
  });

  test('reports no gap revealed by the ACK in a RST', () => {
    const { zeek, o, r } = established();
    o(PSH | ACK, O + 1, R + 1, 10);
    r(RST | ACK, R + 1, O + 500);
    expect(zeek.missedBytes()).toBe(0);
    expect(zeek.connState()).toBe(ZeekConnState.RSTR);
  });
});

describe('byte counts', () => {
  test('count bytes from sequence numbers, so unseen but acknowledged bytes count', () => {
    const { zeek, r } = established();
    r(ACK, R + 1, O + 1 + 10_000);
    expect(zeek.originatorBytes()).toBe(10_000);
  });

  test('do not count retransmitted bytes twice', () => {
    const { zeek, o } = established();
    o(PSH | ACK, O + 1, R + 1, 100);
    o(PSH | ACK, O + 1, R + 1, 100);
    expect(zeek.originatorBytes()).toBe(100);
  });

  test('report zero for a half-open connection found and reset, as Zeek does', () => {
    const { zeek, o, r } = connection();
    o(SYN, O, 0);
    r(ACK, R, O + 5000); // an ACK from a stale peer, not a SYN-ACK
    o(RST, O + 5000, 0);
    expect(zeek.originatorBytes()).toBe(0);
    expect(zeek.connState()).toBe(ZeekConnState.RSTOS0);
  });
});

describe('sequence numbers across the 2^32 wrap', () => {
  const nearTop = 0xffff_ff00;

  test('count bytes and close normally when the originator wraps', () => {
    const { zeek, o, r } = established(nearTop, R);
    o(PSH | ACK, nearTop + 1, R + 1, 1000);
    r(ACK, R + 1, nearTop + 1001);
    o(FIN | ACK, nearTop + 1001, R + 1);
    r(FIN | ACK, R + 1, nearTop + 1002);
    o(ACK, nearTop + 1002, R + 2);
    expect(zeek.connState()).toBe(ZeekConnState.SF);
    expect(zeek.originatorBytes()).toBe(1000);
    expect(zeek.missedBytes()).toBe(0);
    expect(zeek.history(false)).toBe('ShADaFf');
  });

  test('see a retransmission of a segment that crosses zero, but not the next new segment', () => {
    const { zeek, o } = established(nearTop, R);
    o(PSH | ACK, nearTop + 1, R + 1, 1000);
    o(PSH | ACK, nearTop + 1, R + 1, 1000);
    expect(zeek.history(false)).toBe('ShADT');
    o(PSH | ACK, nearTop + 1001, R + 1, 1000);
    expect(zeek.history(false)).toBe('ShADT');
    expect(zeek.originatorBytes()).toBe(2000);
  });

  test('find a gap across the wrap', () => {
    const { zeek, o, r } = established(nearTop, R);
    o(PSH | ACK, nearTop + 1, R + 1, 100);
    r(ACK, R + 1, nearTop + 1 + 100 + 400);
    expect(zeek.missedBytes()).toBe(400);
    expect(zeek.originatorBytes()).toBe(500);
  });

  test('count a responder whose ISN is 2^32 - 1', () => {
    const { zeek, o, r } = established(O, 0xffff_ffff);
    r(PSH | ACK, 0, O + 1, 300);
    o(ACK, O + 1, 300);
    expect(zeek.responderBytes()).toBe(300);
    expect(zeek.connState()).toBe(ZeekConnState.S1);
  });
});
