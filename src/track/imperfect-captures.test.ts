// Captures that lack segments (loss at the capture point, one direction, a late start),
// one starting state at a time: what the captured segments still prove is used, and what
// they do not is marked inferred (docs/reconstruction.md, "Imperfect captures").
import { describe, expect, test } from 'vitest';
import { type Connection, flowIn } from '../../test/helpers/tracker-harness.js';

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

  test('a SYN alone, with both directions elsewhere unseen but nothing acknowledged, stays an unanswered SYN, observed', () => {
    const { c } = flowIn('SYN_SENT');
    expect(endOf(c).client).toEqual(['SYN_SENT', false]);
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
