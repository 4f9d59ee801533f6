// The tracker, one endpoint's starting state at a time: each test puts a
// connection in a state with the segments real stacks would send to get there
// (flowIn), drives the next segments, and asserts the states and transitions
// that follow. Whole captures (the kernel lab, Zeek's baselines) test the same
// code end to end; these reach what captures reach only by luck: a new SYN on a
// live 4-tuple, an RST after retirement, keepalive probes, queue compaction and
// eviction.
import { describe, expect, test } from 'vitest';
import { Connection, flowIn } from '../../test/helpers/tracker-harness.js';

describe('flowIn', () => {
  test.each([
    'SYN_SENT',
    'SYN_RECV',
    'ESTABLISHED',
    'FIN_WAIT1',
    'FIN_WAIT2',
    'CLOSE_WAIT',
    'LAST_ACK',
    'CLOSING',
    'TIME_WAIT',
    'CLOSED',
  ] as const)('brings an endpoint to %s with real segments', (state) => {
    const { c, side } = flowIn(state);
    expect(c.state(side)).toBe(state);
  });
});

describe('from nothing (the first segment of a 4-tuple)', () => {
  test('a bare SYN makes its sender the client, CLOSED → SYN_SENT', () => {
    const c = new Connection().client('SYN');
    expect(c.path('client')).toEqual(['CLOSED→SYN_SENT']);
    expect(c.state('server')).toBe('UNKNOWN');
  });

  test('a SYN-ACK first: its receiver is the client, and its SYN is inferred', () => {
    const c = new Connection().server('SYN ACK');
    expect(c.transitions('client')[0]).toMatchObject({ fromState: 'CLOSED', toState: 'SYN_SENT', inferred: true });
    expect(c.transitions('client')[0].cause).toMatch(/SYN not captured/);
    // The SYN-ACK moves the client when the client shows it arrived: its ACK.
    expect(c.path('client')).toEqual(['CLOSED→SYN_SENT']);
    c.client('ACK');
    expect(c.path('client')).toEqual(['CLOSED→SYN_SENT', 'SYN_SENT→ESTABLISHED']);
    expect(c.path('server')).toEqual(['UNKNOWN→SYN_RECV', 'SYN_RECV→ESTABLISHED']);
  });

  test('data first: both ends are picked up ESTABLISHED, inferred, with a midstream finding', () => {
    const c = new Connection().client('ACK', { len: 100 });
    expect(c.transitions('client')).toMatchObject([{ fromState: 'UNKNOWN', toState: 'ESTABLISHED', inferred: true }]);
    expect(c.path('server')).toEqual(['UNKNOWN→ESTABLISHED']);
    expect(c.findings('midstream-pickup')).toHaveLength(1);
  });
});

describe('from SYN_SENT', () => {
  test('the SYN-ACK covering its SYN establishes it; the server on the ACK', () => {
    const { c } = flowIn('SYN_SENT');
    c.server('SYN ACK');
    // Taken when the client shows it arrived (its ACK), dated at the SYN-ACK's frame.
    expect(c.state('client')).toBe('SYN_SENT');
    expect(c.state('server')).toBe('SYN_RECV');
    c.client('ACK');
    expect(c.state('client')).toBe('ESTABLISHED');
    expect(c.transitions('client')[1]).toMatchObject({ toState: 'ESTABLISHED', frame: 2, inferred: false });
    expect(c.state('server')).toBe('ESTABLISHED');
    expect(c.path('client')).toEqual(['CLOSED→SYN_SENT', 'SYN_SENT→ESTABLISHED']);
    expect(c.path('server')).toEqual(['UNKNOWN→SYN_RECV', 'SYN_RECV→ESTABLISHED']);
  });

  test('its ACK proves a SYN-ACK the capture lacks: the handshake is inferred from that frame, and the close goes on', () => {
    const { c } = flowIn('SYN_SENT');
    const serverIsn = 5000;
    c.client('ACK', { ack: serverIsn + 1 }); // frame 2: the SYN-ACK (frame "1.5") was not captured
    expect([c.state('client'), c.state('server')]).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    expect(c.transitions('client')[1]).toMatchObject({ fromState: 'SYN_SENT', toState: 'ESTABLISHED', frame: 2, inferred: true });
    expect(c.transitions('client')[1].cause).toMatch(/SYN-ACK not captured.*frame 2/);
    expect(c.transitions('server')[0]).toMatchObject({ fromState: 'UNKNOWN', toState: 'SYN_RECV', frame: 2, inferred: true });
    c.client('ACK PSH', { len: 10, ack: serverIsn + 1 })
      .server('ACK PSH', { seq: serverIsn + 1, len: 20 })
      .client('FIN ACK', { ack: serverIsn + 21 })
      .server('FIN ACK', { seq: serverIsn + 21 })
      .client('ACK', { ack: serverIsn + 22 });
    expect([c.state('client'), c.state('server')]).toEqual(['TIME_WAIT', 'CLOSED']);
    expect(c.path('server')).toEqual([
      'UNKNOWN→SYN_RECV',
      'SYN_RECV→ESTABLISHED',
      'ESTABLISHED→CLOSE_WAIT',
      'CLOSE_WAIT→LAST_ACK',
      'LAST_ACK→CLOSED',
    ]);
  });

  test('RST+ACK covering its SYN: refused, CLOSED', () => {
    const { c } = flowIn('SYN_SENT');
    c.server('RST ACK', { seq: 0 });
    expect(c.state('client')).toBe('CLOSED');
    expect(c.transitions('client').at(-1)?.cause).toBe('received RST');
  });

  test('an RST whose ACK misses its SYN is ignored, with a finding', () => {
    const { c } = flowIn('SYN_SENT');
    c.server('RST ACK', { seq: 0, ack: 999 });
    expect(c.state('client')).toBe('SYN_SENT');
    expect(c.findings('rst-out-of-window')).toHaveLength(1);
  });

  test('a resent SYN (same ISN) changes nothing and is the same flow', () => {
    const { c } = flowIn('SYN_SENT');
    const id = c.flowId();
    c.client('SYN', { seq: 1000, after: 1 });
    expect(c.flowId()).toBe(id);
    expect(c.path('client')).toEqual(['CLOSED→SYN_SENT']);
  });

  test('a new SYN (another ISN) after an unanswered one starts instance 2', () => {
    const { c } = flowIn('SYN_SENT');
    const first = c.flowId();
    c.client('SYN', { seq: 777_000, after: 3 });
    expect(c.flowId()).not.toBe(first);
    const flows = c.finish().flows;
    expect(flows.map((f) => f.instance)).toEqual([1, 2]);
  });

  test('a FIN before any answer is unexpected there: a finding, SYN_SENT kept', () => {
    const { c } = flowIn('SYN_SENT');
    c.client('FIN');
    expect(c.state('client')).toBe('SYN_SENT');
    expect(c.findings('unexpected-segment')).toMatchObject([{ endpoint: 'client', details: { state: 'SYN_SENT', event: 'sent FIN' } }]);
  });

  test('a FIN sent before the answer and never acknowledged takes effect no earlier than the state it ends (found by the property test)', () => {
    const { c } = flowIn('SYN_SENT');
    c.client('FIN', { seq: c.nextSeq('client'), after: 61 }).server('SYN ACK', { ack: c.nextSeq('client'), after: 61 });
    c.finish();
    const [recvSynAck, finArrives] = c.transitions('server');
    expect([recvSynAck.toState, finArrives.fromState, finArrives.toState]).toEqual(['SYN_RECV', 'SYN_RECV', 'CLOSE_WAIT']);
    expect(finArrives.tsNs).toBe(recvSynAck.tsNs);
  });

  test('crossing SYNs: simultaneous open through SYN_RECV on both sides', () => {
    const { c } = flowIn('SYN_SENT');
    c.server('SYN').client('SYN ACK', { seq: 1000 }).server('SYN ACK', { seq: 5000 });
    expect(c.state('client')).toBe('ESTABLISHED');
    expect(c.state('server')).toBe('ESTABLISHED');
    expect(c.path('client')).toContain('SYN_SENT→SYN_RECV');
  });
});

describe('from SYN_RECV', () => {
  test('the ACK of its SYN establishes it', () => {
    const { c } = flowIn('SYN_RECV');
    c.client('ACK');
    expect(c.state('server')).toBe('ESTABLISHED');
  });

  test('an acceptable RST from the client ends the half-open connection', () => {
    const { c } = flowIn('SYN_RECV');
    c.client('RST', { seq: c.nextSeq('client') });
    expect(c.state('server')).toBe('CLOSED');
    expect(c.state('client')).toBe('CLOSED');
  });

  test('a half-open connection still there at the end is in the flow row as SYN_RECV', () => {
    const { c } = flowIn('SYN_RECV');
    const [flow] = c.finish().flows;
    expect(flow.server.state).toBe('SYN_RECV');
  });
});

describe('from ESTABLISHED', () => {
  test('sending FIN first is the active close; the peer moves when it shows the FIN arrived', () => {
    const { c } = flowIn('ESTABLISHED');
    c.client('FIN ACK');
    expect(c.state('client')).toBe('FIN_WAIT1');
    expect(c.state('server')).toBe('ESTABLISHED');
    c.server('ACK');
    expect(c.state('server')).toBe('CLOSE_WAIT');
    expect(c.state('client')).toBe('FIN_WAIT2');
  });

  test('FINs crossing after a delay: a peer FIN whose ACK misses its own FIN was sent from FIN_WAIT1, resends of the first FIN notwithstanding', () => {
    const { c } = flowIn('ESTABLISHED');
    c.client('FIN ACK');
    const clientFin = c.nextSeq('client') - 1;
    c.client('FIN ACK', { seq: clientFin, after: 0.2 }); // resent: the first is still on its way
    expect(c.state('server')).toBe('ESTABLISHED');
    c.server('FIN ACK', { ack: clientFin }); // the server closed before the client's FIN arrived
    c.client('ACK').server('ACK');
    expect(c.path('server')).toEqual([
      'UNKNOWN→SYN_RECV',
      'SYN_RECV→ESTABLISHED',
      'ESTABLISHED→FIN_WAIT1',
      'FIN_WAIT1→CLOSING',
      'CLOSING→TIME_WAIT',
    ]);
    expect(c.path('client').slice(-3)).toEqual(['ESTABLISHED→FIN_WAIT1', 'FIN_WAIT1→CLOSING', 'CLOSING→TIME_WAIT']);
  });

  test('a FIN ahead of a hole waits until the hole is filled; the ACK that covers it shows when', () => {
    const { c } = flowIn('ESTABLISHED');
    const a = c.nextSeq('client');
    const serverNext = c.nextSeq('server');
    // Segment A (100 bytes at `a`) was lost before the capture point; B and the FIN follow it.
    c.client('ACK PSH', { seq: a + 100, len: 100 }).client('FIN ACK', { seq: a + 200 });
    c.server('ACK', { ack: a }).server('ACK', { ack: a }); // duplicate ACKs: A is missing
    expect(c.state('server')).toBe('ESTABLISHED');
    c.client('ACK PSH', { seq: a, len: 100, after: 0.2 }); // A resent fills the hole
    expect(c.state('server')).toBe('ESTABLISHED');
    c.server('ACK', { ack: a + 201 }); // frame 9: covers the FIN
    expect(c.state('server')).toBe('CLOSE_WAIT');
    expect(c.transitions('server').at(-1)).toMatchObject({ fromState: 'ESTABLISHED', toState: 'CLOSE_WAIT', frame: 9 });
    expect(c.nextSeq('server')).toBe(serverNext);
  });

  test('a FIN behind a hole never filled is not taken: ESTABLISHED at the end, inferred', () => {
    const { c } = flowIn('ESTABLISHED');
    const a = c.nextSeq('client');
    c.client('ACK PSH', { seq: a, len: 100 }) // A: captured, lost after the capture point
      .client('ACK PSH', { seq: a + 100, len: 100 })
      .client('FIN ACK', { seq: a + 200 });
    c.server('ACK', { ack: a }).server('ACK', { ack: a });
    c.client('ACK PSH', { seq: a, len: 100, after: 0.2 }).server('ACK', { ack: a });
    const [flow] = c.finish().flows;
    expect(flow.server).toMatchObject({ state: 'ESTABLISHED', stateInferred: true });
    expect(flow.client.state).toBe('FIN_WAIT1');
  });

  test('an RST in the window but past RCV.NXT draws a challenge ACK: ignored, with a finding', () => {
    const { c } = flowIn('ESTABLISHED');
    c.server('RST', { seq: c.nextSeq('server') + 500 });
    expect(c.state('client')).toBe('ESTABLISHED');
    expect(c.findings('rst-out-of-window')[0].message).toMatch(/challenge ACK/);
    c.server('RST', { seq: c.nextSeq('server') });
    expect(c.state('client')).toBe('CLOSED');
  });

  test('a FIN never acknowledged is taken as arrived when the flow is handed on', () => {
    const { c } = flowIn('ESTABLISHED');
    c.client('FIN ACK');
    const [flow] = c.finish().flows;
    expect(flow.server.state).toBe('CLOSE_WAIT');
  });

  test('an RST is an abortive close: both CLOSED, with the bytes in flight counted', () => {
    const { c } = flowIn('ESTABLISHED');
    c.client('ACK', { len: 500 }).client('RST ACK');
    expect([c.state('client'), c.state('server')]).toEqual(['CLOSED', 'CLOSED']);
    const output = c.finish();
    expect(output.flows[0]).toMatchObject({ closedFirstBy: 'client', closeKind: 'RST' });
    expect(output.findings.find((f) => f.kind === 'abortive-close')?.details.lost_bytes).toBe(500);
  });

  test('an RST far outside the window is ignored (RFC 5961)', () => {
    const { c } = flowIn('ESTABLISHED');
    c.server('RST', { seq: c.nextSeq('server') + 10_000_000 });
    expect(c.state('client')).toBe('ESTABLISHED');
    expect(c.findings('rst-out-of-window')).toMatchObject([{ endpoint: 'client' }]);
  });

  test('an ACK of data the capture never showed counts capture loss and marks later states inferred', () => {
    const { c } = flowIn('ESTABLISHED');
    c.client('ACK', { ack: c.nextSeq('server') + 3000 });
    c.server('FIN ACK', { seq: c.nextSeq('server') + 3000 }).client('ACK', { ack: c.nextSeq('server') + 3001 });
    expect(c.findings('capture-loss')).toHaveLength(1);
    expect(c.transitions('client').at(-1)).toMatchObject({ toState: 'CLOSE_WAIT', inferred: true });
    expect(c.finish().flows[0].server.missedBytes).toBe(3000);
  });

  test('keepalive probes answered by ACK: the peer is alive', () => {
    const { c } = flowIn('ESTABLISHED');
    for (let i = 0; i < 3; i++) c.client('ACK', { seq: c.nextSeq('client') - 1, after: 75 }).server('ACK', { after: 0.001 });
    const [keepalive] = c.finish().findings.filter((f) => f.kind === 'keepalive');
    expect(keepalive).toMatchObject({ severity: 'info', details: { probes: 3, acked: 3, reset: 0 } });
  });

  test('a keepalive probe answered by RST: the peer restarted, both ends CLOSED', () => {
    const { c } = flowIn('ESTABLISHED');
    c.client('ACK', { seq: c.nextSeq('client') - 1, after: 7200 }).server('RST', { seq: c.nextSeq('server') });
    expect([c.state('client'), c.state('server')]).toEqual(['CLOSED', 'CLOSED']);
    const [keepalive] = c.finish().findings.filter((f) => f.kind === 'keepalive');
    expect(keepalive).toMatchObject({ severity: 'warning', details: { probes: 1, reset: 1 } });
    expect(keepalive.message).toMatch(/RST: the peer restarted/);
  });

  test('probes into a zero window are persist probes, not keepalives', () => {
    const { c } = flowIn('ESTABLISHED');
    c.server('ACK', { window: 0 });
    // Linux probes a zero window as it probes for keepalive: no data, one below the next sequence number.
    for (let i = 0; i < 4; i++) c.client('ACK', { seq: c.nextSeq('client') - 1, after: 1 }).server('ACK', { window: 0 });
    c.server('ACK', { window: 65535, after: 1 });
    const findings = c.finish().findings;
    expect(findings.filter((f) => f.kind === 'keepalive')).toEqual([]);
    expect(findings.find((f) => f.kind === 'zero-window')?.details).toMatchObject({ episodes: 1, persist_probes: 4, open_at_end: false });
  });

  test('retransmissions with no answer at all: a dead peer', () => {
    const { c } = flowIn('ESTABLISHED');
    c.client('ACK', { len: 100 });
    const resend = c.nextSeq('client') - 100;
    for (let i = 0; i < 8; i++) c.client('ACK', { len: 100, seq: resend, after: 2 ** i });
    const [flow] = c.finish().flows;
    expect(flow.client.retransmissions).toBe(8);
    expect(c.findings('dead-peer')).toMatchObject([{ endpoint: 'client', details: { retransmissions: 8 } }]);
  });
});

describe('from FIN_WAIT1', () => {
  test('the ACK of its FIN moves it to FIN_WAIT2', () => {
    const { c } = flowIn('FIN_WAIT1');
    c.server('ACK');
    expect(c.state('client')).toBe('FIN_WAIT2');
    expect(c.transitions('client').at(-1)?.cause).toBe('received ACK of FIN');
  });

  test('a FIN+ACK covering its FIN moves it straight to TIME_WAIT', () => {
    const { c } = flowIn('FIN_WAIT1');
    c.server('FIN ACK').client('ACK');
    expect(c.path('client').slice(-1)).toEqual(['FIN_WAIT1→TIME_WAIT']);
  });

  test('the peer’s FIN without the ACK of its own: the FINs crossed, CLOSING', () => {
    const { c } = flowIn('FIN_WAIT1');
    c.server('FIN ACK', { ack: c.nextSeq('client') - 1 }).client('ACK');
    expect(c.transitions('client').at(-1)).toMatchObject({ fromState: 'FIN_WAIT1', toState: 'CLOSING', cause: 'FINs crossed' });
    expect(c.finish().findings.some((f) => f.kind === 'simultaneous-close')).toBe(true);
  });
});

describe('from FIN_WAIT2', () => {
  test('the peer’s FIN moves it to TIME_WAIT once its ACK shows the FIN arrived', () => {
    const { c } = flowIn('FIN_WAIT2');
    c.server('FIN ACK');
    expect(c.state('client')).toBe('FIN_WAIT2');
    c.client('ACK');
    expect(c.state('client')).toBe('TIME_WAIT');
  });

  test('a peer that never closes leaves it in FIN_WAIT2, and a long stay is a finding', () => {
    const { c } = flowIn('FIN_WAIT2');
    c.server('ACK', { len: 10, after: 90 });
    expect(c.state('client')).toBe('FIN_WAIT2');
    expect(c.finish().findings.find((f) => f.kind === 'fin-wait2-long')?.endpoint).toBe('client');
  });
});

describe('from CLOSE_WAIT', () => {
  test('its FIN moves it to LAST_ACK, the ACK of that FIN to CLOSED', () => {
    const { c } = flowIn('CLOSE_WAIT');
    c.server('FIN ACK');
    expect(c.state('server')).toBe('LAST_ACK');
    c.client('ACK');
    expect(c.state('server')).toBe('CLOSED');
  });

  test('its FIN without the ACK of the peer’s FIN: that FIN had not arrived after all, the FINs crossed: CLOSING, inferred', () => {
    const { c } = flowIn('CLOSE_WAIT');
    c.server('FIN ACK', { ack: c.nextSeq('client') - 1 });
    expect(c.transitions('server').at(-1)).toMatchObject({ fromState: 'CLOSE_WAIT', toState: 'CLOSING', inferred: true });
    c.client('ACK');
    expect([c.state('client'), c.state('server')]).toEqual(['TIME_WAIT', 'TIME_WAIT']);
  });

  test('a server that never closes: CLOSE_WAIT at the end, and a close-wait-leak', () => {
    const { c } = flowIn('CLOSE_WAIT');
    c.wait(30);
    const output = c.finish();
    expect(output.flows[0].server.state).toBe('CLOSE_WAIT');
    expect(output.findings.find((f) => f.kind === 'close-wait-leak')).toMatchObject({ host: '10.0.0.2', port: 80 });
  });

  test('no timer ends CLOSE_WAIT', () => {
    const { c } = flowIn('CLOSE_WAIT');
    c.wait(3600);
    expect(c.stateNow('server')).toBe('CLOSE_WAIT');
  });
});

describe('from LAST_ACK', () => {
  test('the last ACK closes it; the other end reaches TIME_WAIT', () => {
    const { c } = flowIn('LAST_ACK');
    c.client('ACK');
    expect([c.state('client'), c.state('server')]).toEqual(['TIME_WAIT', 'CLOSED']);
  });

  test('an RST instead of the last ACK closes both', () => {
    const { c } = flowIn('LAST_ACK');
    c.client('RST', { seq: c.nextSeq('client') });
    expect([c.state('client'), c.state('server')]).toEqual(['CLOSED', 'CLOSED']);
  });
});

describe('from CLOSING', () => {
  test('the ACK of its FIN moves it to TIME_WAIT', () => {
    const { c } = flowIn('CLOSING');
    c.server('ACK');
    expect(c.state('client')).toBe('TIME_WAIT');
  });
});

describe('from TIME_WAIT (the flow is retired: handed on, a small row kept)', () => {
  test('the flow row is handed on at once, TIME_WAIT in it', () => {
    const { c } = flowIn('TIME_WAIT');
    expect(c.output.flows).toMatchObject([{ client: { state: 'TIME_WAIT' }, server: { state: 'CLOSED' } }]);
  });

  test('2×MSL later it is CLOSED, and the row is updated', () => {
    const { c } = flowIn('TIME_WAIT', { timeWaitSeconds: 30 });
    c.wait(29);
    expect(c.stateNow('client')).toBe('TIME_WAIT');
    c.wait(2);
    expect(c.stateNow('client')).toBeUndefined();
    expect(c.transitions('client').at(-1)).toMatchObject({ fromState: 'TIME_WAIT', toState: 'CLOSED', cause: '2MSL elapsed', frame: null });
    expect(c.output.flows[0].client.state).toBe('CLOSED');
  });

  test('a resent FIN and its ACK are counted on the row, and TIME_WAIT goes on', () => {
    const { c } = flowIn('TIME_WAIT');
    c.server('FIN ACK', { seq: c.nextSeq('server') - 1, after: 0.2 }).client('ACK');
    expect(c.state('client')).toBe('TIME_WAIT');
    c.finish();
    expect(c.output.flows[0]).toMatchObject({ client: { packets: 5, state: 'TIME_WAIT' }, server: { packets: 4 } });
  });

  test('a stale RST one below RCV.NXT (answering a delayed old ACK) is ignored: TIME_WAIT goes on', () => {
    const { c } = flowIn('TIME_WAIT');
    c.client('ACK', { ack: c.nextSeq('server') - 1, after: 0.5 }).server('RST', { seq: c.nextSeq('server') - 1 });
    expect(c.state('client')).toBe('TIME_WAIT');
    c.finish();
    expect(c.output.flows[0].client.state).toBe('TIME_WAIT');
    expect(c.transitions('client').at(-1)?.toState).toBe('TIME_WAIT');
  });

  test('an RST at exactly RCV.NXT while retired ends TIME_WAIT (Linux, tcp_rfc1337=0)', () => {
    const { c } = flowIn('TIME_WAIT');
    c.server('RST', { seq: c.nextSeq('server') });
    expect(c.state('client')).toBe('CLOSED');
    // Inferred: a TIME_WAIT sends nothing after it either way, so its arrival is never shown.
    expect(c.transitions('client').at(-1)).toMatchObject({ fromState: 'TIME_WAIT', toState: 'CLOSED', inferred: true });
    expect(c.transitions('client').at(-1)?.cause).toMatch(/received RST at its RCV.NXT.*that it arrived is assumed/);
    expect(c.finish().flows[0].client).toMatchObject({ state: 'CLOSED', stateInferred: true });
  });

  test('a second copy of that RST (a duplicate, or delayed) is a late segment of the same connection, not a new one', () => {
    const { c } = flowIn('TIME_WAIT');
    const rst = c.nextSeq('server');
    c.server('RST', { seq: rst });
    c.server('RST', { seq: rst, after: 0.05 });
    const out = c.finish();
    expect(out.flows.map((f) => f.instance)).toEqual([1]);
    expect(c.path('client').at(-1)).toBe('TIME_WAIT→CLOSED');
    expect(c.path('client').filter((p) => p.endsWith('→CLOSED'))).toHaveLength(1);
  });

  test('a new SYN on the 4-tuple takes it over: port reuse, instance 2', () => {
    const { c } = flowIn('TIME_WAIT');
    const first = c.flowId();
    c.client('SYN', { seq: 900_000, after: 1 });
    expect(c.path('client', first).at(-1)).toBe('TIME_WAIT→CLOSED');
    expect(c.transitions('client', first).at(-1)?.cause).toMatch(/port reuse/);
    expect(c.findings('port-reuse')).toMatchObject([{ flowId: first, details: { instance: 2 } }]);
    expect(c.state('client')).toBe('SYN_SENT');
    expect(c.finish().flows.map((f) => f.instance)).toEqual([1, 2]);
  });
});

describe('from CLOSED', () => {
  test('a closed flow lingers for late segments, then is handed on', () => {
    const { c } = flowIn('CLOSED', { closedLingerSeconds: 5 });
    c.server('ACK', { after: 1 });
    expect(c.output.flows).toEqual([]);
    c.wait(5);
    expect(c.output.flows).toHaveLength(1);
    expect(c.output.flows[0].server.packets).toBe(2);
  });

  test('a new SYN on a closed 4-tuple is a new connection, with no port-reuse finding', () => {
    const { c } = flowIn('CLOSED');
    const first = c.flowId();
    c.client('SYN', { seq: 42 });
    expect(c.flowId()).not.toBe(first);
    expect(c.findings('port-reuse')).toEqual([]);
  });
});

describe('TCP checksums', () => {
  test('bad ones are kept by default and counted on their sender', () => {
    const { c } = flowIn('ESTABLISHED');
    for (let i = 0; i < 4; i++) c.client('ACK', { len: 10, checksum: 'bad' }).server('ACK', { checksum: 'good' });
    expect(c.state('client')).toBe('ESTABLISHED');
    const output = c.finish();
    expect(output.flows[0]).toMatchObject({ client: { badChecksums: 4, bytes: 40 }, server: { badChecksums: 0 } });
    expect(c.tracker.stats).toMatchObject({ verifiedChecksums: 8, badChecksums: 4, droppedBadChecksums: 0 });
  });

  test('with checksums: drop, a bad segment moves no state and shows in Zeek history as C', () => {
    const { c } = flowIn('ESTABLISHED', { checksums: 'drop' });
    c.client('FIN ACK', { checksum: 'bad' });
    expect(c.stateNow('client')).toBe('ESTABLISHED');
    c.client('FIN ACK', { seq: c.nextSeq('client') - 1, checksum: 'good' }).server('ACK');
    expect(c.state('client')).toBe('FIN_WAIT2');
    const [flow] = c.finish().flows;
    expect(flow.client.badChecksums).toBe(1);
    expect(flow.zeek?.history).toContain('C');
    expect(c.tracker.stats.droppedBadChecksums).toBe(1);
  });
});

describe('memory', () => {
  test('beyond the half-open bound the oldest handshakes are evicted, ending as evicted', () => {
    const c = new Connection({ halfOpenLimit: 3 });
    // Each SYN from its own client port: a SYN flood from one host.
    for (let port = 1; port <= 5; port++) c.client('SYN', { clientPort: port, seq: port * 1000 });
    expect(c.tracker.stats.evictedHalfOpen).toBe(2);
    expect(c.findings('half-open-evicted')).toHaveLength(1);
    const flows = c.finish().flows;
    expect(flows.filter((f) => f.evicted).map((f) => f.client.port)).toEqual([1, 2]);
    expect(flows.find((f) => f.evicted)?.client.stateInferred).toBe(true);
  });

  test('completed handshakes leave the half-open queue as it compacts, and are never evicted', () => {
    const c = new Connection({ halfOpenLimit: 4, queueCompaction: { passedEntries: 2 } });
    for (let port = 1; port <= 40; port++) c.client('SYN', { clientPort: port, seq: port * 1000 });
    // Each of the 40 was evicted in turn only if still half-open: the first 36.
    expect(c.tracker.stats.evictedHalfOpen).toBe(36);
    const established = new Connection({ halfOpenLimit: 4, queueCompaction: { passedEntries: 2 } });
    for (let i = 0; i < 40; i++)
      established
        .client('SYN', { seq: i * 100_000 + 1, after: 1 })
        .server('SYN ACK')
        .client('ACK');
    expect(established.tracker.stats.evictedHalfOpen).toBe(0);
  });

  test('closed flows are handed on from the compacting hand-on queue in order', () => {
    const c = new Connection({ closedLingerSeconds: 1, queueCompaction: { passedEntries: 2 } });
    // Ten refused connections from ten client ports, each closed at both ends.
    for (let port = 1; port <= 10; port++)
      c.client('SYN', { clientPort: port, seq: port, after: 0.01 }).server('RST ACK', { clientPort: port, seq: 0, ack: port + 1 });
    c.wait(0.5);
    expect(c.output.flows).toEqual([]);
    c.wait(1);
    expect(c.output.flows.map((f) => f.client.port)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test('a flow object handed on is reused for the next connection, with nothing of the old one left', () => {
    const c = new Connection({ closedLingerSeconds: 0 });
    c.client('SYN').server('SYN ACK').client('ACK', { len: 300 }).client('RST ACK').wait(1);
    c.client('SYN', { seq: 77 }).server('SYN ACK', { seq: 9000 });
    const [first, second] = c.finish().flows;
    expect(first).toMatchObject({ closeKind: 'RST', client: { packets: 3, bytes: 300 } });
    // The first was gone from memory when the second began: a new connection, not instance 2 of the 4-tuple.
    expect(second).toMatchObject({ id: 2, instance: 1, closeKind: null, client: { packets: 1, bytes: 0, retransmissions: 0 } });
  });
});
