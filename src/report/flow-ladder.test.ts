import { describe, expect, test } from 'vitest';
import { TcpFlag } from '../decode/tcp-segment.js';
import type { TransitionRow } from '../store/database-reader.js';
import { TcpState } from '../tcp/tcp-state.js';
import { type SegmentSeen, flagNames, ladderSteps } from './flow-ladder.js';

const segment = (
  frame: number,
  fromClient: boolean,
  flags: number,
  seq: number,
  ack: number,
  states: [TcpState, TcpState],
): SegmentSeen => ({
  tsNs: 1_000n + BigInt(frame),
  captureId: 1,
  frame,
  fromClient,
  flags,
  seq,
  ack,
  length: 0,
  window: 512,
  clientState: states[0],
  serverState: states[1],
});

let nextId = 1;
const transition = (frame: number, endpoint: 'client' | 'server', from: TcpState, to: TcpState): TransitionRow => ({
  id: nextId++,
  flow_id: 1,
  endpoint,
  ts_ns: 1_000n + BigInt(frame),
  capture_id: 1,
  frame,
  from_state: from,
  to_state: to,
  cause: '',
  event: '',
  inferred: 0,
});

describe('ladderSteps', () => {
  // A handshake whose initial sequence numbers sit near the 2^32 wrap, then the client's FIN.
  const { SYN, ACK, FIN } = TcpFlag;
  const S = TcpState;
  const segments = [
    segment(1, true, SYN, 0xffff_fff0, 0, [S.SYN_SENT, S.UNKNOWN]),
    segment(2, false, SYN | ACK, 7, 0xffff_fff1, [S.ESTABLISHED, S.SYN_RECV]),
    segment(3, true, ACK, 0xffff_fff1, 8, [S.ESTABLISHED, S.ESTABLISHED]),
    // The replay cannot know yet that the FIN reached the server.
    segment(4, true, FIN | ACK, 0xffff_fff1, 8, [S.FIN_WAIT1, S.ESTABLISHED]),
    segment(5, false, ACK, 8, 0xffff_fff2, [S.FIN_WAIT2, S.CLOSE_WAIT]),
  ];
  const transitions = [
    transition(1, 'client', S.CLOSED, S.SYN_SENT),
    transition(2, 'server', S.UNKNOWN, S.SYN_RECV),
    transition(2, 'client', S.SYN_SENT, S.ESTABLISHED),
    transition(3, 'server', S.SYN_RECV, S.ESTABLISHED),
    transition(4, 'client', S.ESTABLISHED, S.FIN_WAIT1),
    transition(4, 'server', S.ESTABLISHED, S.CLOSE_WAIT),
    transition(5, 'client', S.FIN_WAIT1, S.FIN_WAIT2),
  ];
  const steps = ladderSteps(segments, transitions);

  test('numbers each side from its own first sequence number, across the wrap', () => {
    expect(steps.map((s) => [s.flags, s.relativeSeq, s.relativeAck])).toEqual([
      ['SYN', 0, null],
      ['SYN,ACK', 0, 1],
      ['ACK', 1, 1],
      ['FIN,ACK', 1, 1],
      ['ACK', 1, 2],
    ]);
  });

  test('settles the states from the stored transitions: the FIN moves the server at its own frame', () => {
    expect(steps.map((s) => [s.frame, s.clientState, s.serverState])).toEqual([
      [1, S.SYN_SENT, S.UNKNOWN],
      [2, S.ESTABLISHED, S.SYN_RECV],
      [3, S.ESTABLISHED, S.ESTABLISHED],
      [4, S.FIN_WAIT1, S.CLOSE_WAIT],
      [5, S.FIN_WAIT2, S.CLOSE_WAIT],
    ]);
  });

  test('keeps the replay’s states for a side with no stored transitions', () => {
    const clientOnly = ladderSteps(
      segments,
      transitions.filter((t) => t.endpoint === 'client'),
    );
    expect(clientOnly.map((s) => s.serverState)).toEqual(segments.map((s) => s.serverState));
  });
});

test('flagNames names the flags in a fixed order, "-" for none', () => {
  expect(flagNames(TcpFlag.SYN | TcpFlag.ACK)).toBe('SYN,ACK');
  expect(flagNames(TcpFlag.RST | TcpFlag.ACK)).toBe('RST,ACK');
  expect(flagNames(0)).toBe('-');
});
