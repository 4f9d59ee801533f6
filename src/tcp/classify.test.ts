// Classification: all the sequence and ACK arithmetic that turns one segment into
// events for its sender and its receiver. Grouped by the receiver's state.
import { describe, expect, test } from 'vitest';
import { TcpFlag, TcpSegment } from '../decode/tcp-segment.js';
import {
  type EndpointFacts,
  classifyReceive,
  classifySend,
  finSeqOf,
  rstAcceptable,
  rstIgnored,
  rstInWindow,
  segmentLength,
} from './classify.js';
import { EVENT_ORDER, EndpointEvent as E, EventBit } from './endpoint-event.js';
import { type Seq, seq, seqAdd } from './seq.js';
import { FIN_SENT_STATES, SYNCHRONIZED, TcpState as S, type TcpState } from './tcp-state.js';
import { transition } from './transition-table.js';

// ------------------------------------------------------------------ builders

const CLIENT_ISS = 1000;
const SERVER_ISS = 5000;

/**
 * One endpoint as the tracker would know it after a plain exchange led to `state`:
 * its SYN (if any) at `iss`, no data, its FIN (if sent) right after the SYN, and
 * the peer's SYN at `peerIss`. Anything can be overridden.
 */
function endpointIn(state: TcpState, facts: Partial<EndpointFacts> & { peerIss?: number } = {}): EndpointFacts {
  const { peerIss = SERVER_ISS, ...overrides } = facts;
  const iss = overrides.iss ?? seq(CLIENT_ISS);
  const synSent = state !== S.CLOSED && state !== S.LISTEN && state !== S.UNKNOWN;
  const finSent = FIN_SENT_STATES.has(state);
  const peerSynReceived = state === S.SYN_RECV || SYNCHRONIZED.has(state);
  const peerFinReceived = state === S.CLOSE_WAIT || state === S.LAST_ACK || state === S.CLOSING || state === S.TIME_WAIT;
  const base: EndpointFacts = {
    state,
    synSent,
    iss,
    synAcked: SYNCHRONIZED.has(state),
    finSent,
    finSeq: seqAdd(iss, 1),
    finAcked: state === S.FIN_WAIT2 || state === S.TIME_WAIT,
    peerSynReceived,
    peerFinReceived,
    sentAnything: synSent,
    nextSeq: seqAdd(iss, (synSent ? 1 : 0) + (finSent ? 1 : 0)),
    ackedAnything: peerSynReceived,
    highestAck: seqAdd(seq(peerIss), (peerSynReceived ? 1 : 0) + (peerFinReceived ? 1 : 0)),
    window: 65535,
  };
  return { ...base, ...overrides };
}

/** The peer of `endpointIn`: same defaults seen from the other side. */
function peerIn(state: TcpState, facts: Partial<EndpointFacts> = {}): EndpointFacts {
  return endpointIn(state, { iss: seq(SERVER_ISS), peerIss: CLIENT_ISS, ...facts });
}

const FLAG_NAMES: Record<string, number> = {
  FIN: TcpFlag.FIN,
  SYN: TcpFlag.SYN,
  RST: TcpFlag.RST,
  PSH: TcpFlag.PSH,
  ACK: TcpFlag.ACK,
  URG: TcpFlag.URG,
};

/** `segment('FIN ACK', { seq, ack, len })`: a decoded segment with just these fields set. */
function segment(flags: string, fields: { seq?: number; ack?: number; len?: number; window?: number } = {}): TcpSegment {
  const s = new TcpSegment();
  s.flags = flags
    .split(/\s+/)
    .filter(Boolean)
    .reduce((bits, name) => {
      const bit = FLAG_NAMES[name];
      if (bit === undefined) throw new Error(`unknown flag ${name}`);
      return bits | bit;
    }, 0);
  s.seq = (fields.seq ?? 0) >>> 0;
  s.ack = (fields.ack ?? 0) >>> 0;
  s.payloadLength = fields.len ?? 0;
  s.capturedPayloadLength = s.payloadLength;
  s.window = fields.window ?? 65535;
  s.headerLength = 20;
  return s;
}

/** Event bits as names, in the order they apply: easier to read in a failing assertion than a number. */
function names(bits: number): string[] {
  return EVENT_ORDER.filter((event) => (bits & EventBit[event]) !== 0);
}

/** The state reached by applying `bits` to `state` in EVENT_ORDER, as the tracker does. */
function afterEvents(state: TcpState, bits: number): TcpState {
  for (const event of names(bits)) {
    const rule = transition(state, event as E);
    if (rule) state = rule.to;
  }
  return state;
}

/** An RST the receiver ignores: no event, but flagged for a finding. */
function expectIgnoredRst(receiver: EndpointFacts, sender: EndpointFacts, rst: TcpSegment): void {
  expect(names(classifyReceive(receiver, sender, rst))).toEqual([]);
  expect(rstIgnored(receiver, sender, rst)).toBe(true);
}

// ------------------------------------------------------------ sequence space

describe('segmentLength', () => {
  test('is 0 for a pure ACK', () => {
    expect(segmentLength(segment('ACK', { len: 0 }))).toBe(0);
  });
  test('counts the payload', () => {
    expect(segmentLength(segment('ACK PSH', { len: 1448 }))).toBe(1448);
  });
  test('counts a SYN as one', () => {
    expect(segmentLength(segment('SYN'))).toBe(1);
    expect(segmentLength(segment('SYN ACK'))).toBe(1);
  });
  test('counts a FIN as one', () => {
    expect(segmentLength(segment('FIN ACK'))).toBe(1);
  });
  test('counts SYN, data and FIN together (TCP Fast Open with FIN)', () => {
    expect(segmentLength(segment('SYN FIN', { len: 100 }))).toBe(102);
  });
  test('does not count an RST', () => {
    expect(segmentLength(segment('RST ACK', { len: 0 }))).toBe(0);
    expect(segmentLength(segment('RST', { len: 20 }))).toBe(20);
  });
});

describe('finSeqOf', () => {
  test('is the sequence number itself for a bare FIN', () => {
    expect(finSeqOf(segment('FIN ACK', { seq: 7000 }))).toBe(7000);
  });
  test('comes after the data for a FIN on data', () => {
    expect(finSeqOf(segment('FIN ACK PSH', { seq: 7000, len: 500 }))).toBe(7500);
  });
  test('comes after the SYN and the data when all three share a segment', () => {
    expect(finSeqOf(segment('SYN FIN', { seq: 7000, len: 10 }))).toBe(7011);
  });
  test('wraps past 2^32', () => {
    expect(finSeqOf(segment('FIN ACK', { seq: 0xffffff00, len: 0x200 }))).toBe(0x100);
    expect(finSeqOf(segment('SYN FIN', { seq: 0xffffffff }))).toBe(0);
  });
});

// ------------------------------------------------------------------- sending

describe('classifySend', () => {
  test('yields SEND_SYN for the first SYN from CLOSED', () => {
    expect(names(classifySend(endpointIn(S.CLOSED), segment('SYN', { seq: CLIENT_ISS })))).toEqual(['SEND_SYN']);
  });
  test('yields nothing for a retransmitted SYN', () => {
    expect(classifySend(endpointIn(S.SYN_SENT), segment('SYN', { seq: CLIENT_ISS }))).toBe(0);
  });
  test('yields SEND_SYN_ACK for the first SYN-ACK from LISTEN', () => {
    expect(
      names(classifySend(endpointIn(S.LISTEN, { iss: seq(SERVER_ISS) }), segment('SYN ACK', { seq: SERVER_ISS, ack: CLIENT_ISS + 1 }))),
    ).toEqual(['SEND_SYN_ACK']);
  });
  test('yields nothing for a retransmitted SYN-ACK', () => {
    expect(classifySend(peerIn(S.SYN_RECV), segment('SYN ACK', { seq: SERVER_ISS, ack: CLIENT_ISS + 1 }))).toBe(0);
  });
  test('yields SEND_FIN for the first FIN, bare or on data', () => {
    expect(names(classifySend(endpointIn(S.ESTABLISHED), segment('FIN ACK', { seq: CLIENT_ISS + 1 })))).toEqual(['SEND_FIN']);
    expect(names(classifySend(endpointIn(S.CLOSE_WAIT), segment('FIN ACK PSH', { seq: CLIENT_ISS + 1, len: 300 })))).toEqual(['SEND_FIN']);
  });
  test('yields SEND_FIN_CROSSING for a first FIN whose ACK misses the peer’s FIN, sent by an end taken to have that FIN', () => {
    const peer = peerIn(S.FIN_WAIT1, { finSeq: seq(SERVER_ISS + 1) });
    const closeWait = endpointIn(S.CLOSE_WAIT);
    expect(names(classifySend(closeWait, segment('FIN ACK', { seq: CLIENT_ISS + 1, ack: SERVER_ISS + 1 }), peer))).toEqual([
      'SEND_FIN_CROSSING',
    ]);
    // Its ACK covers the peer's FIN: the ordinary passive close.
    expect(names(classifySend(closeWait, segment('FIN ACK', { seq: CLIENT_ISS + 1, ack: SERVER_ISS + 2 }), peer))).toEqual(['SEND_FIN']);
    // The peer's FIN not (yet) taken to have arrived: an ordinary FIN; its arrival is judged later.
    expect(names(classifySend(endpointIn(S.ESTABLISHED), segment('FIN ACK', { seq: CLIENT_ISS + 1, ack: SERVER_ISS + 1 }), peer))).toEqual([
      'SEND_FIN',
    ]);
  });
  test('yields nothing for a retransmitted FIN', () => {
    for (const state of [S.FIN_WAIT1, S.FIN_WAIT2, S.CLOSING, S.LAST_ACK, S.TIME_WAIT]) {
      expect(classifySend(endpointIn(state), segment('FIN ACK', { seq: CLIENT_ISS + 1 })), state).toBe(0);
    }
  });
  test('yields nothing for data or a pure ACK', () => {
    expect(classifySend(endpointIn(S.ESTABLISHED), segment('ACK PSH', { seq: CLIENT_ISS + 1, len: 100 }))).toBe(0);
    expect(classifySend(endpointIn(S.ESTABLISHED), segment('ACK', { seq: CLIENT_ISS + 1 }))).toBe(0);
  });
  test('yields SEND_RST alone for an RST, whatever else is set', () => {
    expect(names(classifySend(endpointIn(S.ESTABLISHED), segment('RST ACK FIN', { seq: CLIENT_ISS + 1 })))).toEqual(['SEND_RST']);
    expect(names(classifySend(endpointIn(S.SYN_SENT), segment('RST')))).toEqual(['SEND_RST']);
  });
  test('yields nothing for an RST sent by a CLOSED endpoint (a closed port answering)', () => {
    expect(classifySend(endpointIn(S.CLOSED), segment('RST ACK'))).toBe(0);
  });
  test('yields both SEND_SYN and SEND_FIN for a first SYN carrying a FIN', () => {
    expect(names(classifySend(endpointIn(S.CLOSED), segment('SYN FIN', { seq: CLIENT_ISS })))).toEqual(['SEND_SYN', 'SEND_FIN']);
  });
});

// ----------------------------------------------------------------- receiving

describe('classifyReceive in SYN_SENT', () => {
  const client = (facts: Partial<EndpointFacts> = {}): EndpointFacts => endpointIn(S.SYN_SENT, facts);
  const server = peerIn(S.SYN_RECV);

  test('yields RECV_SYN_ACK for a SYN-ACK whose ACK covers its SYN, and the client becomes ESTABLISHED', () => {
    const bits = classifyReceive(client(), server, segment('SYN ACK', { seq: SERVER_ISS, ack: CLIENT_ISS + 1 }));
    expect(names(bits)).toEqual(['RECV_SYN_ACK']);
    expect(afterEvents(S.SYN_SENT, bits)).toBe(S.ESTABLISHED);
  });
  test('yields nothing for a SYN-ACK whose ACK does not cover its SYN', () => {
    expect(classifyReceive(client(), server, segment('SYN ACK', { seq: SERVER_ISS, ack: CLIENT_ISS }))).toBe(0);
    expect(classifyReceive(client(), server, segment('SYN ACK', { seq: SERVER_ISS, ack: CLIENT_ISS - 100 }))).toBe(0);
  });
  test('judges the SYN-ACK’s ACK across the 2^32 wrap', () => {
    const wrapped = client({ iss: seq(0xffffffff), nextSeq: seq(0) });
    expect(names(classifyReceive(wrapped, server, segment('SYN ACK', { seq: SERVER_ISS, ack: 0 })))).toEqual(['RECV_SYN_ACK']);
    expect(classifyReceive(wrapped, server, segment('SYN ACK', { seq: SERVER_ISS, ack: 0xffffffff }))).toBe(0);
  });
  test('yields RECV_SYN for a bare SYN (simultaneous open), and the client moves to SYN_RECV', () => {
    const bits = classifyReceive(client(), peerIn(S.SYN_SENT), segment('SYN', { seq: SERVER_ISS }));
    expect(names(bits)).toEqual(['RECV_SYN']);
    expect(afterEvents(S.SYN_SENT, bits)).toBe(S.SYN_RECV);
  });
  test('yields nothing for a SYN-ACK retransmitted after the first one arrived', () => {
    const established = endpointIn(S.ESTABLISHED);
    expect(classifyReceive(established, peerIn(S.ESTABLISHED), segment('SYN ACK', { seq: SERVER_ISS, ack: CLIENT_ISS + 1 }))).toBe(0);
  });
});

describe('classifyReceive in SYN_RECV', () => {
  const server = (facts: Partial<EndpointFacts> = {}): EndpointFacts => peerIn(S.SYN_RECV, facts);
  const client = endpointIn(S.ESTABLISHED);

  test('yields RECV_ACK_OF_SYN for the handshake’s final ACK, and the server becomes ESTABLISHED', () => {
    const bits = classifyReceive(server(), client, segment('ACK', { seq: CLIENT_ISS + 1, ack: SERVER_ISS + 1 }));
    expect(names(bits)).toEqual(['RECV_ACK_OF_SYN']);
    expect(afterEvents(S.SYN_RECV, bits)).toBe(S.ESTABLISHED);
  });
  test('yields nothing for an ACK that does not reach its SYN', () => {
    expect(classifyReceive(server(), client, segment('ACK', { seq: CLIENT_ISS + 1, ack: SERVER_ISS }))).toBe(0);
  });
  test('judges the ACK of its SYN across the 2^32 wrap', () => {
    const wrapped = server({ iss: seq(0xfffffffe), nextSeq: seq(0xffffffff) });
    expect(names(classifyReceive(wrapped, client, segment('ACK', { seq: CLIENT_ISS + 1, ack: 0xffffffff })))).toEqual(['RECV_ACK_OF_SYN']);
    expect(classifyReceive(wrapped, client, segment('ACK', { seq: CLIENT_ISS + 1, ack: 0xfffffffe }))).toBe(0);
  });
  test('yields nothing for the client’s retransmitted SYN', () => {
    expect(classifyReceive(server(), endpointIn(S.SYN_SENT), segment('SYN', { seq: CLIENT_ISS }))).toBe(0);
  });
  test('yields RECV_ACK_OF_SYN for the peer’s SYN-ACK in a simultaneous open (its SYN was already seen)', () => {
    const bits = classifyReceive(server(), endpointIn(S.SYN_RECV), segment('SYN ACK', { seq: CLIENT_ISS, ack: SERVER_ISS + 1 }));
    expect(names(bits)).toEqual(['RECV_ACK_OF_SYN']);
    expect(afterEvents(S.SYN_RECV, bits)).toBe(S.ESTABLISHED);
  });
  test('yields the ACK of its SYN before the FIN when both come in one segment: SYN_RECV → ESTABLISHED → CLOSE_WAIT', () => {
    const bits = classifyReceive(server(), client, segment('FIN ACK', { seq: CLIENT_ISS + 1, ack: SERVER_ISS + 1 }));
    expect(names(bits)).toEqual(['RECV_ACK_OF_SYN', 'RECV_FIN']);
    expect(afterEvents(S.SYN_RECV, bits)).toBe(S.CLOSE_WAIT);
  });
  test('yields nothing for a duplicate of the final ACK once the SYN is acknowledged', () => {
    expect(classifyReceive(peerIn(S.ESTABLISHED), client, segment('ACK', { seq: CLIENT_ISS + 1, ack: SERVER_ISS + 1 }))).toBe(0);
  });
});

describe('classifyReceive in ESTABLISHED', () => {
  const receiver = endpointIn(S.ESTABLISHED);
  const sender = peerIn(S.ESTABLISHED);

  test('yields RECV_FIN for the peer’s FIN, and the receiver moves to CLOSE_WAIT', () => {
    const bits = classifyReceive(receiver, sender, segment('FIN ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 1 }));
    expect(names(bits)).toEqual(['RECV_FIN']);
    expect(afterEvents(S.ESTABLISHED, bits)).toBe(S.CLOSE_WAIT);
  });
  test('yields RECV_FIN for a FIN riding on data', () => {
    expect(
      names(classifyReceive(receiver, sender, segment('FIN ACK PSH', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 1, len: 1200 }))),
    ).toEqual(['RECV_FIN']);
  });
  test('yields nothing for data and ACKs', () => {
    expect(classifyReceive(receiver, sender, segment('ACK PSH', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 1, len: 100 }))).toBe(0);
    expect(classifyReceive(receiver, sender, segment('ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 1 }))).toBe(0);
  });
  test('yields nothing for a retransmitted FIN (already in CLOSE_WAIT)', () => {
    expect(
      classifyReceive(endpointIn(S.CLOSE_WAIT), peerIn(S.FIN_WAIT1), segment('FIN ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 1 })),
    ).toBe(0);
  });
});

describe('classifyReceive in FIN_WAIT1', () => {
  // Our FIN occupies CLIENT_ISS + 1; an ACK covers it from CLIENT_ISS + 2 on.
  const finWait1 = (facts: Partial<EndpointFacts> = {}): EndpointFacts => endpointIn(S.FIN_WAIT1, facts);
  const sender = peerIn(S.ESTABLISHED);

  test('yields RECV_ACK_OF_FIN for an ACK covering its FIN, and moves to FIN_WAIT2', () => {
    const bits = classifyReceive(finWait1(), sender, segment('ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 2 }));
    expect(names(bits)).toEqual(['RECV_ACK_OF_FIN']);
    expect(afterEvents(S.FIN_WAIT1, bits)).toBe(S.FIN_WAIT2);
  });
  test('yields nothing for an ACK that stops at its FIN', () => {
    expect(classifyReceive(finWait1(), sender, segment('ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 1 }))).toBe(0);
  });
  test('yields RECV_FIN_WITH_ACK_OF_FIN for a FIN+ACK covering its FIN, and moves straight to TIME_WAIT', () => {
    const bits = classifyReceive(finWait1(), sender, segment('FIN ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 2 }));
    expect(names(bits)).toEqual(['RECV_FIN_WITH_ACK_OF_FIN']);
    expect(afterEvents(S.FIN_WAIT1, bits)).toBe(S.TIME_WAIT);
  });
  test('yields RECV_FIN for a FIN whose ACK does not cover its FIN (crossed FINs), and moves to CLOSING', () => {
    const bits = classifyReceive(finWait1(), peerIn(S.FIN_WAIT1), segment('FIN ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 1 }));
    expect(names(bits)).toEqual(['RECV_FIN']);
    expect(afterEvents(S.FIN_WAIT1, bits)).toBe(S.CLOSING);
  });
  test('finishes the crossed-FIN close on the ACK of its FIN: CLOSING → TIME_WAIT', () => {
    const closing = endpointIn(S.CLOSING);
    const bits = classifyReceive(closing, peerIn(S.CLOSING), segment('ACK', { seq: SERVER_ISS + 2, ack: CLIENT_ISS + 2 }));
    expect(names(bits)).toEqual(['RECV_ACK_OF_FIN']);
    expect(afterEvents(S.CLOSING, bits)).toBe(S.TIME_WAIT);
  });
  test('takes a retransmitted peer FIN that now covers its FIN as the ACK of its FIN, not a second FIN', () => {
    const bits = classifyReceive(
      endpointIn(S.CLOSING),
      peerIn(S.CLOSING),
      segment('FIN ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 2 }),
    );
    expect(names(bits)).toEqual(['RECV_ACK_OF_FIN']);
  });
  test('places its FIN after its data: only an ACK past data and FIN covers it', () => {
    const withData = finWait1({ finSeq: seq(CLIENT_ISS + 1 + 4000), nextSeq: seq(CLIENT_ISS + 1 + 4000 + 1) });
    expect(classifyReceive(withData, sender, segment('FIN ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 1 + 4000 }))).toBe(
      EventBit.RECV_FIN,
    );
    expect(classifyReceive(withData, sender, segment('FIN ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 1 + 4001 }))).toBe(
      EventBit.RECV_FIN_WITH_ACK_OF_FIN,
    );
  });
  test('judges the ACK of its FIN across the 2^32 wrap', () => {
    const wrapped = finWait1({ finSeq: seq(0xffffffff), nextSeq: seq(0) });
    expect(names(classifyReceive(wrapped, sender, segment('FIN ACK', { seq: SERVER_ISS + 1, ack: 0 })))).toEqual([
      'RECV_FIN_WITH_ACK_OF_FIN',
    ]);
    expect(names(classifyReceive(wrapped, sender, segment('FIN ACK', { seq: SERVER_ISS + 1, ack: 0xffffffff })))).toEqual(['RECV_FIN']);
    expect(names(classifyReceive(wrapped, sender, segment('ACK', { seq: SERVER_ISS + 1, ack: 0 })))).toEqual(['RECV_ACK_OF_FIN']);
  });
  test('ignores the ACK field of a FIN without the ACK flag', () => {
    expect(names(classifyReceive(finWait1(), sender, segment('FIN', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 2 })))).toEqual(['RECV_FIN']);
  });
});

describe('classifyReceive in FIN_WAIT2, LAST_ACK and TIME_WAIT', () => {
  test('yields RECV_FIN in FIN_WAIT2 (its FIN is already acknowledged), and moves to TIME_WAIT', () => {
    const bits = classifyReceive(
      endpointIn(S.FIN_WAIT2),
      peerIn(S.CLOSE_WAIT),
      segment('FIN ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 2 }),
    );
    expect(names(bits)).toEqual(['RECV_FIN']);
    expect(afterEvents(S.FIN_WAIT2, bits)).toBe(S.TIME_WAIT);
  });
  test('yields nothing in FIN_WAIT2 for a repeated ACK of its FIN', () => {
    expect(
      classifyReceive(endpointIn(S.FIN_WAIT2), peerIn(S.CLOSE_WAIT), segment('ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 2 })),
    ).toBe(0);
  });
  test('yields RECV_ACK_OF_FIN in LAST_ACK for the last ACK, and the endpoint is CLOSED', () => {
    const lastAck = peerIn(S.LAST_ACK);
    const bits = classifyReceive(lastAck, endpointIn(S.TIME_WAIT), segment('ACK', { seq: CLIENT_ISS + 2, ack: SERVER_ISS + 2 }));
    expect(names(bits)).toEqual(['RECV_ACK_OF_FIN']);
    expect(afterEvents(S.LAST_ACK, bits)).toBe(S.CLOSED);
  });
  test('yields nothing in LAST_ACK for an ACK short of its FIN', () => {
    expect(classifyReceive(peerIn(S.LAST_ACK), endpointIn(S.FIN_WAIT2), segment('ACK', { seq: CLIENT_ISS + 2, ack: SERVER_ISS + 1 }))).toBe(
      0,
    );
  });
  test('yields nothing in TIME_WAIT for the peer’s retransmitted FIN', () => {
    expect(
      classifyReceive(endpointIn(S.TIME_WAIT), peerIn(S.LAST_ACK), segment('FIN ACK', { seq: SERVER_ISS + 1, ack: CLIENT_ISS + 2 })),
    ).toBe(0);
  });
});

// ---------------------------------------------------------------------- RSTs

describe('RST in SYN_SENT (RFC 9293 §3.10.7.3: acceptable only with an ACK covering the SYN)', () => {
  const client = (facts: Partial<EndpointFacts> = {}): EndpointFacts => endpointIn(S.SYN_SENT, facts);
  const server = endpointIn(S.UNKNOWN, { iss: seq(0), sentAnything: false, ackedAnything: false });

  test('accepts RST+ACK whose ACK covers the SYN (a refused connect), and the client is CLOSED', () => {
    const rst = segment('RST ACK', { seq: 0, ack: CLIENT_ISS + 1 });
    expect(rstAcceptable(client(), server, rst)).toBe(true);
    const bits = classifyReceive(client(), server, rst);
    expect(names(bits)).toEqual(['RECV_RST']);
    expect(afterEvents(S.SYN_SENT, bits)).toBe(S.CLOSED);
  });
  test('ignores an RST without ACK', () => {
    expectIgnoredRst(client(), server, segment('RST', { seq: 0 }));
  });
  test('ignores an RST whose ACK does not reach the SYN', () => {
    expectIgnoredRst(client(), server, segment('RST ACK', { ack: CLIENT_ISS }));
    expectIgnoredRst(client(), server, segment('RST ACK', { ack: CLIENT_ISS - 5000 }));
  });
  test('ignores an RST whose ACK is beyond anything sent (SEG.ACK > SND.NXT)', () => {
    expectIgnoredRst(client(), server, segment('RST ACK', { ack: CLIENT_ISS + 2 }));
  });
  test('judges the ACK across the 2^32 wrap', () => {
    const wrapped = client({ iss: seq(0xffffffff), nextSeq: seq(0) });
    expect(rstAcceptable(wrapped, server, segment('RST ACK', { ack: 0 }))).toBe(true);
    expect(rstAcceptable(wrapped, server, segment('RST ACK', { ack: 0xffffffff }))).toBe(false);
    expect(rstAcceptable(wrapped, server, segment('RST ACK', { ack: 1 }))).toBe(false);
  });
  test('counts data sent on the SYN (TCP Fast Open) as covered', () => {
    const tfo = client({ nextSeq: seq(CLIENT_ISS + 1 + 200) });
    expect(rstAcceptable(tfo, server, segment('RST ACK', { ack: CLIENT_ISS + 1 + 200 }))).toBe(true);
  });
});

describe('RST in a synchronized state (RFC 5961: in the receive window)', () => {
  // The receiver acknowledged the sender up to RCV_NXT; the sender sent nothing beyond it.
  const RCV_NXT = SERVER_ISS + 1;
  const WINDOW = 1000;
  const receiver = (state: TcpState = S.ESTABLISHED, facts: Partial<EndpointFacts> = {}): EndpointFacts =>
    endpointIn(state, { highestAck: seq(RCV_NXT), window: WINDOW, ...facts });
  const sender = (facts: Partial<EndpointFacts> = {}): EndpointFacts => peerIn(S.ESTABLISHED, { nextSeq: seq(RCV_NXT), ...facts });
  const rstAt = (at: number): TcpSegment => segment('RST', { seq: at });

  test('accepts an RST at exactly RCV.NXT, and the receiver is CLOSED', () => {
    const bits = classifyReceive(receiver(), sender(), rstAt(RCV_NXT));
    expect(names(bits)).toEqual(['RECV_RST']);
    expect(afterEvents(S.ESTABLISHED, bits)).toBe(S.CLOSED);
  });
  test('ignores an RST inside the window but not at RCV.NXT: Linux sends a challenge ACK and stays (RFC 5961 §3.2)', () => {
    expectIgnoredRst(receiver(), sender(), rstAt(RCV_NXT + 500));
    expectIgnoredRst(receiver(), sender(), rstAt(RCV_NXT + WINDOW - 1));
    expect(rstInWindow(receiver(), sender(), rstAt(RCV_NXT + 500))).toBe(true);
    expect(rstInWindow(receiver(), sender(), rstAt(RCV_NXT + WINDOW))).toBe(false);
  });
  test('takes an RST at RCV.NXT−1 once the peer’s FIN is in (CLOSE_WAIT, LAST_ACK, CLOSING: tcp_reset_check), not before', () => {
    for (const state of [S.CLOSE_WAIT, S.LAST_ACK, S.CLOSING]) {
      expect(rstAcceptable(receiver(state, { peerFinReceived: true }), sender(), rstAt(RCV_NXT - 1)), state).toBe(true);
    }
    expectIgnoredRst(receiver(S.ESTABLISHED), sender(), rstAt(RCV_NXT - 1));
    expectIgnoredRst(receiver(S.FIN_WAIT2, { peerFinReceived: false }), sender(), rstAt(RCV_NXT - 1));
  });
  test('takes an RST in TIME_WAIT only at exactly RCV.NXT, the sender’s next sequence number (tcp_timewait_state_process)', () => {
    const timeWait = receiver(S.TIME_WAIT, { peerFinReceived: true });
    expect(names(classifyReceive(timeWait, sender(), rstAt(RCV_NXT)))).toEqual(['RECV_RST']);
    // A stale RST, answering an old duplicate ACK: one below what TIME_WAIT expects.
    expectIgnoredRst(timeWait, sender(), rstAt(RCV_NXT - 1));
    // Even with the receiver's last ACK below the sender's next: everything up to the FIN arrived.
    const behind = receiver(S.TIME_WAIT, { peerFinReceived: true, highestAck: seq(RCV_NXT - 10) });
    expectIgnoredRst(behind, sender(), rstAt(RCV_NXT - 10));
    expect(rstAcceptable(behind, sender(), rstAt(RCV_NXT))).toBe(true);
  });
  test('ignores an RST below RCV.NXT (old sequence number)', () => {
    expectIgnoredRst(receiver(), sender(), rstAt(RCV_NXT - 1));
    expectIgnoredRst(receiver(), sender(), rstAt(RCV_NXT - 100000));
  });
  test('ignores an RST far beyond the window (a blind injection)', () => {
    expectIgnoredRst(receiver(), sender(), rstAt(RCV_NXT + 100000));
  });
  test('stretches the window over data the sender has in flight', () => {
    const inFlight = sender({ nextSeq: seq(RCV_NXT + 3000) });
    expect(rstAcceptable(receiver(), inFlight, rstAt(RCV_NXT + 2500))).toBe(true);
    expect(rstAcceptable(receiver(), inFlight, rstAt(RCV_NXT + 3000))).toBe(true);
    expect(rstAcceptable(receiver(), inFlight, rstAt(RCV_NXT + 3000 + 5000))).toBe(false);
  });
  test('judges the window across the 2^32 wrap', () => {
    const low = 0xfffffe00;
    const r = receiver(S.ESTABLISHED, { highestAck: seq(low), window: 0x1000 });
    const s = sender({ nextSeq: seq(low) });
    expect(rstAcceptable(r, s, rstAt(low))).toBe(true);
    expect(rstAcceptable(r, s, rstAt(0x100))).toBe(false);
    expect(rstInWindow(r, s, rstAt(0x100))).toBe(true);
    expect(rstAcceptable(r, sender({ nextSeq: seq(0x200) }), rstAt(0x100))).toBe(true);
    expect(rstAcceptable(r, s, rstAt(0xfffffd00))).toBe(false);
    expect(rstAcceptable(r, s, rstAt(0x2000))).toBe(false);
  });
  test('judges the RST by its sequence number alone, whatever its ACK says', () => {
    expect(rstAcceptable(receiver(), sender(), segment('RST ACK', { seq: RCV_NXT, ack: 12345 }))).toBe(true);
    expect(rstAcceptable(receiver(), sender(), segment('RST ACK', { seq: RCV_NXT + 100000, ack: CLIENT_ISS + 1 }))).toBe(false);
  });
  test('yields RECV_RST alone for an RST that also carries FIN', () => {
    expect(names(classifyReceive(receiver(), sender(), segment('RST FIN ACK', { seq: RCV_NXT, ack: CLIENT_ISS + 1 })))).toEqual([
      'RECV_RST',
    ]);
  });
  test('applies the same window in every synchronized state', () => {
    for (const state of [S.ESTABLISHED, S.FIN_WAIT1, S.FIN_WAIT2, S.CLOSE_WAIT, S.CLOSING, S.LAST_ACK, S.TIME_WAIT, S.SYN_RECV]) {
      const r = receiver(state);
      expect(names(classifyReceive(r, sender(), rstAt(RCV_NXT))), state).toEqual(['RECV_RST']);
      expectIgnoredRst(r, sender(), rstAt(RCV_NXT + 100000));
      expect(afterEvents(state, EventBit.RECV_RST), state).toBe(S.CLOSED);
    }
  });
  test('takes the window from the sender’s next sequence number when the receiver never acknowledged anything', () => {
    const r = receiver(S.ESTABLISHED, { ackedAnything: false });
    expect(rstAcceptable(r, sender({ nextSeq: seq(9000) }), rstAt(9000))).toBe(true);
    expect(rstAcceptable(r, sender({ nextSeq: seq(9000) }), rstAt(8000))).toBe(false);
  });
  test('believes the RST when nothing is known of the window', () => {
    const r = receiver(S.ESTABLISHED, { ackedAnything: false });
    expect(rstAcceptable(r, sender({ sentAnything: false }), rstAt(123))).toBe(true);
  });
  test('believes any RST to an UNKNOWN or LISTEN endpoint (no window to judge by)', () => {
    expect(names(classifyReceive(endpointIn(S.UNKNOWN), sender(), rstAt(1)))).toEqual(['RECV_RST']);
    expect(
      names(classifyReceive(endpointIn(S.LISTEN, { ackedAnything: true, highestAck: seq(RCV_NXT) }), sender(), rstAt(RCV_NXT + 100000))),
    ).toEqual(['RECV_RST']);
  });
  test('yields nothing at all for an RST to a CLOSED endpoint', () => {
    expect(classifyReceive(endpointIn(S.CLOSED), sender(), rstAt(RCV_NXT + 100000))).toBe(0);
    expect(classifyReceive(endpointIn(S.CLOSED), sender(), rstAt(RCV_NXT))).toBe(0);
  });

  test('ignores an RST at exactly RCV.NXT + RCV.WND (the window is half-open)', () => {
    expectIgnoredRst(receiver(), sender(), rstAt(RCV_NXT + WINDOW));
  });
  test('accepts only an RST at exactly RCV.NXT when the receive window is zero', () => {
    const zero = receiver(S.ESTABLISHED, { window: 0 });
    expect(rstAcceptable(zero, sender(), rstAt(RCV_NXT))).toBe(true);
    expect(rstAcceptable(zero, sender(), rstAt(RCV_NXT + 1))).toBe(false);
  });
});

describe('events and the table agree', () => {
  test('applies an RST first, the opening before the ACKs, and the FIN after them', () => {
    const at = (event: E): number => EVENT_ORDER.indexOf(event);
    expect(at(E.SEND_RST)).toBe(0);
    expect(at(E.SEND_SYN)).toBeLessThan(at(E.SEND_FIN));
    expect(at(E.RECV_RST)).toBeLessThan(at(E.RECV_SYN));
    expect(at(E.RECV_SYN_ACK)).toBeLessThan(at(E.RECV_ACK_OF_FIN));
    expect(at(E.RECV_ACK_OF_SYN)).toBeLessThan(at(E.RECV_FIN));
    expect(at(E.RECV_ACK_OF_FIN)).toBeLessThan(at(E.RECV_FIN));
    // A SYN-ACK and the FIN in one segment at a simultaneous opener: ESTABLISHED first, then CLOSE_WAIT.
    expect(afterEvents(S.SYN_SENT, EventBit.RECV_SYN_ACK | EventBit.RECV_FIN)).toBe(S.CLOSE_WAIT);
  });

  test('takes a whole three-way handshake and four-way close through both endpoints', () => {
    let client = endpointIn(S.CLOSED, { synSent: false, sentAnything: false });
    let server = peerIn(S.LISTEN);
    const states: Array<[TcpState, TcpState]> = [];
    const step = (fromClient: boolean, s: TcpSegment, update: () => void): void => {
      const sender = fromClient ? client : server;
      const receiver = fromClient ? server : client;
      const sent = afterEvents(sender.state, classifySend(sender, s));
      const received = afterEvents(receiver.state, classifyReceive(receiver, sender, s));
      if (fromClient) {
        client = { ...client, state: sent };
        server = { ...server, state: received };
      } else {
        server = { ...server, state: sent };
        client = { ...client, state: received };
      }
      update();
      states.push([client.state, server.state]);
    };
    const cIss: Seq = seq(CLIENT_ISS);
    const sIss: Seq = seq(SERVER_ISS);
    step(true, segment('SYN', { seq: cIss }), () => {
      client = { ...client, synSent: true, iss: cIss, sentAnything: true, nextSeq: seqAdd(cIss, 1) };
      server = { ...server, peerSynReceived: true };
    });
    step(false, segment('SYN ACK', { seq: sIss, ack: cIss + 1 }), () => {
      server = {
        ...server,
        synSent: true,
        iss: sIss,
        sentAnything: true,
        nextSeq: seqAdd(sIss, 1),
        ackedAnything: true,
        highestAck: seqAdd(cIss, 1),
      };
      client = { ...client, synAcked: true, peerSynReceived: true };
    });
    step(true, segment('ACK', { seq: cIss + 1, ack: sIss + 1 }), () => {
      client = { ...client, ackedAnything: true, highestAck: seqAdd(sIss, 1) };
      server = { ...server, synAcked: true };
    });
    step(true, segment('FIN ACK', { seq: cIss + 1, ack: sIss + 1 }), () => {
      client = { ...client, finSent: true, finSeq: seqAdd(cIss, 1), nextSeq: seqAdd(cIss, 2) };
      server = { ...server, peerFinReceived: true };
    });
    step(false, segment('ACK', { seq: sIss + 1, ack: cIss + 2 }), () => {
      client = { ...client, finAcked: true };
    });
    step(false, segment('FIN ACK', { seq: sIss + 1, ack: cIss + 2 }), () => {
      server = { ...server, finSent: true, finSeq: seqAdd(sIss, 1), nextSeq: seqAdd(sIss, 2) };
      client = { ...client, peerFinReceived: true };
    });
    step(true, segment('ACK', { seq: cIss + 2, ack: sIss + 2 }), () => undefined);
    expect(states).toEqual([
      [S.SYN_SENT, S.LISTEN],
      [S.ESTABLISHED, S.SYN_RECV],
      [S.ESTABLISHED, S.ESTABLISHED],
      [S.FIN_WAIT1, S.CLOSE_WAIT],
      [S.FIN_WAIT2, S.CLOSE_WAIT],
      [S.TIME_WAIT, S.LAST_ACK],
      [S.TIME_WAIT, S.CLOSED],
    ]);
  });
});
