// Captures that lack segments (loss at the capture point, one direction, a late start),
// one starting state at a time: what the captured segments still prove is used, and what
// they do not is marked inferred (docs/reconstruction.md, "Imperfect captures").
import { describe, expect, test } from 'vitest';
import { Connection, flowIn } from '../../test/helpers/tracker-harness.js';

const endOf = (c: Connection): { client: [string, boolean]; server: [string, boolean] } => {
  const [flow] = c.finish().flows;
  return { client: [flow.client.state, flow.client.stateInferred], server: [flow.server.state, flow.server.stateInferred] };
};

describe('from ESTABLISHED', () => {
  test('an ACK of data the capture never showed marks both ends inferred at once, not only later transitions', () => {
    const { c } = flowIn('ESTABLISHED');
    c.client('ACK', { ack: c.nextSeq('server') + 500 }); // the server's 500 bytes were lost at the capture point
    expect(endOf(c)).toEqual({ client: ['ESTABLISHED', true], server: ['ESTABLISHED', true] });
  });

  test('an RST beyond what the capture showed of its sender is not obeyed, counts as loss, and leaves the receiver inferred', () => {
    const { c } = flowIn('ESTABLISHED');
    c.client('RST ACK', { seq: c.nextSeq('client') + 3000 }); // 3000 bytes before it were not captured
    expect(c.stateNow('server')).toBe('ESTABLISHED');
    const [flow] = c.finish().flows;
    expect(flow.server).toMatchObject({ state: 'ESTABLISHED', stateInferred: true });
    expect(flow.captureLossEvents).toBeGreaterThan(0);
  });
});

describe('from SYN_SENT, one direction captured', () => {
  test('the client’s own segments: its ACK proves the SYN-ACK; every end state is inferred; one finding for the capture', () => {
    const { c } = flowIn('SYN_SENT');
    const serverIsn = 5000;
    c.client('ACK', { ack: serverIsn + 1 })
      .client('ACK PSH', { len: 100, ack: serverIsn + 1 })
      .client('ACK', { ack: serverIsn + 2001 }) // the server's 2000 bytes, not captured
      .client('FIN ACK', { ack: serverIsn + 2001 });
    const output = c.finish();
    const [flow] = output.flows;
    expect(flow.client).toMatchObject({ state: 'FIN_WAIT1', stateInferred: true });
    expect(flow.server.stateInferred).toBe(true);
    expect(output.findings.filter((f) => f.kind === 'one-direction-captured')).toHaveLength(1);
    expect(output.findings.filter((f) => f.kind === 'capture-loss' || f.kind === 'syn-unanswered')).toEqual([]);
  });

  test('a SYN alone, nothing after it: SYN_SENT, inferred (the capture may have missed the answer; nothing shows the client still waited)', () => {
    const { c } = flowIn('SYN_SENT');
    expect(endOf(c).client).toEqual(['SYN_SENT', true]);
  });

  test('a SYN resent: the client shows it was still waiting, so SYN_SENT is observed', () => {
    const { c } = flowIn('SYN_SENT');
    c.client('SYN', { seq: c.nextSeq('client') - 1, after: 1 });
    expect(endOf(c).client).toEqual(['SYN_SENT', false]);
  });
});

describe('waiting on an ACK at the end of the capture', () => {
  test('LAST_ACK whose FIN nothing after it answered or showed unanswered: inferred (the last ACK may be what the capture lost)', () => {
    const { c } = flowIn('CLOSE_WAIT');
    c.server('FIN ACK');
    expect(endOf(c).server).toEqual(['LAST_ACK', true]);
  });

  test('LAST_ACK whose FIN was resent: observed', () => {
    const { c } = flowIn('CLOSE_WAIT');
    c.server('FIN ACK');
    c.server('FIN ACK', { seq: c.nextSeq('server') - 1, after: 0.2 });
    expect(endOf(c).server).toEqual(['LAST_ACK', false]);
  });

  test('FIN_WAIT1 answered by a peer segment that does not acknowledge the FIN: observed', () => {
    const { c } = flowIn('ESTABLISHED');
    c.client('FIN ACK');
    c.server('ACK', { ack: c.nextSeq('client') - 1 });
    expect(endOf(c).client).toEqual(['FIN_WAIT1', false]);
  });

  test('a SYN-ACK nobody answered: the client’s ESTABLISHED rests on its arrival, which nothing shows: inferred, with that evidence', () => {
    const { c } = flowIn('SYN_SENT');
    c.server('SYN ACK');
    expect(c.state('client')).toBe('SYN_SENT');
    const out = c.finish();
    expect(out.flows[0].client).toMatchObject({ state: 'ESTABLISHED', stateInferred: true });
    const established = c.transitions('client').find((t) => t.toState === 'ESTABLISHED');
    expect(established).toMatchObject({ frame: 2, inferred: true });
    expect(established?.cause).toMatch(
      /SYN-ACK in frame 2 was sent, and nothing .* sent after it was captured to show it arrived: its arrival is assumed/,
    );
  });

  test('a SYN-ACK whose receiver resent its SYN: it never arrived, the client stays SYN_SENT', () => {
    const { c } = flowIn('SYN_SENT');
    c.server('SYN ACK');
    c.client('SYN', { seq: c.nextSeq('client') - 1, after: 1 });
    expect(endOf(c).client).toEqual(['SYN_SENT', true]);
  });
});

describe('a SYN-ACK that did not arrive, resent', () => {
  test('the client resent its SYN after the first SYN-ACK: its ESTABLISHED is dated at the SYN-ACK resent after that', () => {
    const { c } = flowIn('SYN_SENT');
    const isn = c.nextSeq('client') - 1;
    c.server('SYN ACK'); // frame 2: lost after the capture point
    c.client('SYN', { seq: isn, after: 1 }); // frame 3: the client never had it
    c.server('SYN ACK', { seq: c.nextSeq('server') - 1, after: 0.01 }); // frame 4
    c.client('ACK'); // frame 5
    expect(c.transitions('client').find((t) => t.toState === 'ESTABLISHED')).toMatchObject({ frame: 4 });
  });

  test('the SYN-ACK resend crossed the client’s SYN resend: dated at the client’s ACK, the first moment it shows it', () => {
    const { c } = flowIn('SYN_SENT');
    const isn = c.nextSeq('client') - 1;
    c.server('SYN ACK'); // frame 2
    c.server('SYN ACK', { seq: c.nextSeq('server') - 1, after: 1 }); // frame 3, in flight as the client resends
    c.client('SYN', { seq: isn, after: 0.00003 }); // frame 4
    c.client('ACK'); // frame 5
    expect(c.transitions('client').find((t) => t.toState === 'ESTABLISHED')).toMatchObject({ frame: 5 });
  });
});

describe('one direction captured, a 4-tuple reused', () => {
  test('a SYN-ACK with a new ISS from a server that already sent its FIN is a new connection, its SYN not captured', () => {
    const { c } = flowIn('ESTABLISHED');
    const first = c.flowId();
    c.server('FIN ACK');
    c.server('SYN ACK', { seq: 7_000_000, ack: 9_000_001, after: 1 });
    expect(c.flowId()).not.toBe(first);
    expect(c.finish().flows.map((f) => f.instance)).toEqual([1, 2]);
  });
});

describe('from FIN_WAIT1', () => {
  test('a bare SYN from the client that sent its FIN starts a new connection on the 4-tuple', () => {
    const { c } = flowIn('FIN_WAIT1');
    const first = c.flowId();
    c.client('SYN', { seq: 900_000 });
    expect(c.flowId()).not.toBe(first);
    expect(c.state('client')).toBe('SYN_SENT');
    expect(c.finish().flows.map((f) => f.instance)).toEqual([1, 2]);
  });
});

describe('a FIN the capture lost, resent', () => {
  test('the server’s FIN acknowledged it: the server took it before closing, so it ends LAST_ACK → CLOSED, not CLOSING → TIME_WAIT', () => {
    const { c } = flowIn('ESTABLISHED');
    const clientFin = c.nextSeq('client');
    // The client's FIN (clientFin) was lost at the capture point; the server's FIN acknowledges it.
    c.server('FIN ACK', { ack: clientFin + 1 });
    c.client('FIN ACK', { seq: clientFin, ack: c.nextSeq('server') - 1, after: 0.2 }); // its resend, before the server's FIN arrived
    expect(c.transitions('server').at(-1)).toMatchObject({ fromState: 'FIN_WAIT1', toState: 'LAST_ACK', inferred: true });
    expect(c.transitions('server').at(-1)?.cause).toMatch(/first copy was not captured/);
    c.client('ACK', { seq: clientFin + 1, ack: c.nextSeq('server') });
    expect(endOf(c).server).toEqual(['CLOSED', true]);
  });
});

describe('an RST first', () => {
  test('a lone RST (its connection began before the capture, or is gone): both ends’ moves are inferred, the flow is midstream', () => {
    const c = new Connection().server('RST', { seq: 4242 });
    const [flow] = c.finish().flows;
    expect(flow.midstream).toBe(true);
    expect(c.transitions('server').every((t) => t.inferred)).toBe(true);
    expect(c.transitions('client').every((t) => t.inferred)).toBe(true);
  });
});

describe('TIME_WAIT in a capture that lost frames', () => {
  test('a TIME_WAIT that answers a late segment may draw an RST the capture lost: its end state is inferred', () => {
    const { c } = flowIn('ESTABLISHED');
    c.client('ACK', { ack: c.nextSeq('server') + 100 }); // loss: 100 bytes of the server never captured
    c.client('FIN ACK').server('FIN ACK').client('ACK');
    expect(c.state('client')).toBe('TIME_WAIT');
    c.client('ACK', { after: 0.5 }); // its answer to a late segment
    expect(endOf(c).client).toEqual(['TIME_WAIT', true]);
  });
});
