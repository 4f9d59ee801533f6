import { describe, expect, test } from 'vitest';
import type { CaptureTime } from './capture-time.js';
import { TcpState } from '../tcp/tcp-state.js';
import { EndpointEvidence, Flow } from './flow.js';

/** Gives every own number, boolean and string field of `object` a value unlike a new one's (but the endpoint's role, which is its place in the flow). */
function scribble(object: object): void {
  const fields = object as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'role') continue;
    if (typeof value === 'number') fields[key] = value + 7;
    else if (typeof value === 'boolean') fields[key] = !value;
    else if (typeof value === 'string') fields[key] = `${value}x`;
  }
}

describe('Flow.reset', () => {
  test('leaves a used flow, its endpoints and its Zeek observer exactly as a new flow', () => {
    const used = new Flow(1, 1, 4, true);
    used.client.reset('10.0.0.1', 40000, TcpState.CLOSED);
    used.server.reset('10.0.0.2', 80, TcpState.UNKNOWN);
    // Traffic through the observer, then every field changed by hand.
    used.zeek.observe(true, 0x02, 1000, 0, 0, 64240);
    used.zeek.observe(false, 0x12, 5000, 1001, 0, 0);
    used.zeek.observe(true, 0x11, 1001, 5001, 10, 0);
    for (const endpoint of [used.client, used.server]) {
      scribble(endpoint);
      endpoint.evidence = new EndpointEvidence();
      endpoint.visits.start(TcpState.CLOSE_WAIT, 5 as CaptureTime, 0, 3);
    }
    scribble(used);
    used.closedFirstBy = 'server';
    used.closeKind = 'RST';

    used.reset(9, 2, 6, false);
    used.client.reset('::1', 50000, TcpState.UNKNOWN);
    used.server.reset('::2', 443, TcpState.UNKNOWN);

    const fresh = new Flow(9, 2, 6, false);
    fresh.client.reset('::1', 50000, TcpState.UNKNOWN);
    fresh.server.reset('::2', 443, TcpState.UNKNOWN);
    expect(used).toEqual(fresh);
    // The visit logs keep their numbers private (a reused log writes over them): none is in use.
    expect([used.client.visits.length, used.server.visits.length]).toEqual([0, 0]);
    expect(used.zeek.history(false)).toBe('');
    expect(used.zeek.connState()).toBe(fresh.zeek.connState());
  });
});
