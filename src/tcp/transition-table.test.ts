// One test per row of RFC 9293's state diagram (§3.3.2, Figure 5), as the wire
// shows it, plus the rows the table adds for what an observer must handle
// (RSTs, UNKNOWN, midstream pickup, port reuse, no-op repeats). Grouped by the
// state the endpoint starts in.
import { describe, expect, test } from 'vitest';
import { EVENT_CAUSE, EVENT_INDEX, EndpointEvent as E } from './endpoint-event.js';
import { ALL_STATES, TcpState as S, type TcpState } from './tcp-state.js';
import { TRANSITIONS, type TransitionRule, transition, transitionAt } from './transition-table.js';

function ruleFor(from: TcpState, event: E): TransitionRule {
  const rule = transition(from, event);
  expect(rule, `${from} has a rule for ${event}`).toBeDefined();
  return rule as TransitionRule;
}

function expectMove(from: TcpState, event: E, to: TcpState): TransitionRule {
  const rule = ruleFor(from, event);
  expect(rule.to).toBe(to);
  return rule;
}

/** A known no-op: the rule exists (nothing is recorded as unexpected) and the state stays. */
function expectStay(state: TcpState, event: E): TransitionRule {
  return expectMove(state, event, state);
}

const ALL_EVENTS = Object.values(E);

describe('from CLOSED', () => {
  test('moves from CLOSED to SYN_SENT when it sends a SYN (active open)', () => {
    expect(expectMove(S.CLOSED, E.SEND_SYN, S.SYN_SENT).rfc).toBe('3.5');
  });
  test('moves from CLOSED to SYN_RECV when it sends a SYN-ACK (a listener took the SYN)', () => {
    expectMove(S.CLOSED, E.SEND_SYN_ACK, S.SYN_RECV);
  });
  test('stays CLOSED when a SYN arrives: only the answer shows whether anything listens', () => {
    expectStay(S.CLOSED, E.RECV_SYN);
  });
  test('stays CLOSED when it answers with an RST (a closed port)', () => {
    expectStay(S.CLOSED, E.SEND_RST);
  });
  test('stays CLOSED when an RST arrives', () => {
    expectStay(S.CLOSED, E.RECV_RST);
  });
});

describe('from UNKNOWN (nothing captured of this endpoint yet)', () => {
  test('moves from UNKNOWN to SYN_SENT when it sends a SYN', () => {
    expectMove(S.UNKNOWN, E.SEND_SYN, S.SYN_SENT);
  });
  test('moves from UNKNOWN to SYN_RECV when it sends a SYN-ACK, saying it was listening', () => {
    const rule = expectMove(S.UNKNOWN, E.SEND_SYN_ACK, S.SYN_RECV);
    expect(rule.cause).toMatch(/listening/);
  });
  test('stays UNKNOWN when a SYN arrives', () => {
    expectStay(S.UNKNOWN, E.RECV_SYN);
  });
  test('moves from UNKNOWN to CLOSED when it sends an RST', () => {
    expectMove(S.UNKNOWN, E.SEND_RST, S.CLOSED);
  });
  test('moves from UNKNOWN to CLOSED on an acceptable RST', () => {
    expectMove(S.UNKNOWN, E.RECV_RST, S.CLOSED);
  });
  test('moves from UNKNOWN to ESTABLISHED on a midstream pickup (no SYN captured)', () => {
    expectMove(S.UNKNOWN, E.MIDSTREAM_PICKUP, S.ESTABLISHED);
  });
});

describe('from LISTEN', () => {
  test('moves from LISTEN to SYN_RECV when it answers a SYN with SYN-ACK', () => {
    expectMove(S.LISTEN, E.SEND_SYN_ACK, S.SYN_RECV);
  });
  test('stays LISTEN when a SYN arrives (the SYN-ACK moves it)', () => {
    expectStay(S.LISTEN, E.RECV_SYN);
  });
  test('moves from LISTEN to CLOSED when it refuses with an RST', () => {
    expectMove(S.LISTEN, E.SEND_RST, S.CLOSED);
  });
  test('stays LISTEN when an RST arrives (a listener ignores RST)', () => {
    expectStay(S.LISTEN, E.RECV_RST);
  });
  test('has no row for sending a SYN from LISTEN (Figure 5’s SEND call; sockets cannot do it): unexpected there', () => {
    expect(transition(S.LISTEN, E.SEND_SYN)).toBeUndefined();
  });
});

describe('from SYN_SENT', () => {
  test('moves from SYN_SENT to ESTABLISHED on a SYN-ACK covering its SYN', () => {
    expect(expectMove(S.SYN_SENT, E.RECV_SYN_ACK, S.ESTABLISHED).rfc).toBe('3.10.7.3');
  });
  test('moves from SYN_SENT to SYN_RECV on a bare SYN (simultaneous open)', () => {
    const rule = expectMove(S.SYN_SENT, E.RECV_SYN, S.SYN_RECV);
    expect(rule.cause).toMatch(/simultaneous open/);
  });
  test('stays SYN_SENT while answering a crossing SYN with its SYN-ACK', () => {
    expectStay(S.SYN_SENT, E.SEND_SYN_ACK);
  });
  test('moves from SYN_SENT to CLOSED when it sends an RST', () => {
    expectMove(S.SYN_SENT, E.SEND_RST, S.CLOSED);
  });
  test('moves from SYN_SENT to CLOSED on an RST whose ACK covers its SYN (refused)', () => {
    const rule = expectMove(S.SYN_SENT, E.RECV_RST, S.CLOSED);
    expect(rule.rule).toMatch(/refused/);
  });
});

describe('from SYN_RECV', () => {
  test('moves from SYN_RECV to ESTABLISHED on the ACK of its SYN', () => {
    expect(expectMove(S.SYN_RECV, E.RECV_ACK_OF_SYN, S.ESTABLISHED).rfc).toBe('3.10.7.4');
  });
  test('moves from SYN_RECV to ESTABLISHED on the peer’s SYN-ACK (simultaneous open)', () => {
    expectMove(S.SYN_RECV, E.RECV_SYN_ACK, S.ESTABLISHED);
  });
  test('stays SYN_RECV when the peer’s SYN arrives after its SYN-ACK went out', () => {
    expectStay(S.SYN_RECV, E.RECV_SYN);
  });
  test('stays SYN_RECV when its SYN-ACK answers a crossing SYN', () => {
    expectStay(S.SYN_RECV, E.SEND_SYN_ACK);
  });
  test('moves from SYN_RECV to FIN_WAIT1 when it closes before the handshake completed', () => {
    expect(expectMove(S.SYN_RECV, E.SEND_FIN, S.FIN_WAIT1).rfc).toBe('3.10.4');
  });
  test('moves from SYN_RECV to CLOSE_WAIT on the peer’s FIN', () => {
    expectMove(S.SYN_RECV, E.RECV_FIN, S.CLOSE_WAIT);
  });
  test('moves from SYN_RECV to CLOSED when it sends an RST', () => {
    expectMove(S.SYN_RECV, E.SEND_RST, S.CLOSED);
  });
  test('moves a half-open connection from SYN_RECV to CLOSED on an acceptable RST (the listener, a socket of its own, stays)', () => {
    // RFC 9293 returns a passively opened TCB to LISTEN; per connection the instance is over.
    expectMove(S.SYN_RECV, E.RECV_RST, S.CLOSED);
  });
});

describe('from ESTABLISHED', () => {
  test('moves from ESTABLISHED to FIN_WAIT1 when it sends FIN first (active close)', () => {
    expectMove(S.ESTABLISHED, E.SEND_FIN, S.FIN_WAIT1);
  });
  test('moves from ESTABLISHED to CLOSE_WAIT on the peer’s FIN (passive close)', () => {
    expectMove(S.ESTABLISHED, E.RECV_FIN, S.CLOSE_WAIT);
  });
  test('moves from ESTABLISHED to CLOSE_WAIT on a FIN whose ACK field covers no FIN of its own', () => {
    expectMove(S.ESTABLISHED, E.RECV_FIN_WITH_ACK_OF_FIN, S.CLOSE_WAIT);
  });
  test('moves from ESTABLISHED to CLOSED when it sends an RST (abortive close)', () => {
    expectMove(S.ESTABLISHED, E.SEND_RST, S.CLOSED);
  });
  test('moves from ESTABLISHED to CLOSED on an acceptable RST', () => {
    expect(expectMove(S.ESTABLISHED, E.RECV_RST, S.CLOSED).rfc).toBe('3.10.7');
  });
  test('treats a second SYN in ESTABLISHED as unexpected', () => {
    expect(transition(S.ESTABLISHED, E.SEND_SYN)).toBeUndefined();
    expect(transition(S.ESTABLISHED, E.RECV_SYN)).toBeUndefined();
  });
});

describe('from FIN_WAIT1', () => {
  test('moves from FIN_WAIT1 to FIN_WAIT2 when its FIN is acknowledged', () => {
    expectMove(S.FIN_WAIT1, E.RECV_ACK_OF_FIN, S.FIN_WAIT2);
  });
  test('moves from FIN_WAIT1 to CLOSING when the FINs cross (the peer’s FIN does not acknowledge its own)', () => {
    const rule = expectMove(S.FIN_WAIT1, E.RECV_FIN, S.CLOSING);
    expect(rule.cause).toBe('FINs crossed');
  });
  test('moves from FIN_WAIT1 straight to TIME_WAIT on a FIN+ACK covering its FIN', () => {
    expectMove(S.FIN_WAIT1, E.RECV_FIN_WITH_ACK_OF_FIN, S.TIME_WAIT);
  });
  test('moves from FIN_WAIT1 to CLOSED when it sends an RST', () => {
    expectMove(S.FIN_WAIT1, E.SEND_RST, S.CLOSED);
  });
  test('moves from FIN_WAIT1 to CLOSED on an acceptable RST', () => {
    expectMove(S.FIN_WAIT1, E.RECV_RST, S.CLOSED);
  });
  test('keeps FIN_WAIT1 without complaint on the ACK of its SYN after closing from SYN_RECV', () => {
    expectStay(S.FIN_WAIT1, E.RECV_ACK_OF_SYN);
  });
});

describe('from FIN_WAIT2', () => {
  test('moves from FIN_WAIT2 to TIME_WAIT on the peer’s FIN', () => {
    expectMove(S.FIN_WAIT2, E.RECV_FIN, S.TIME_WAIT);
  });
  test('moves from FIN_WAIT2 to TIME_WAIT on a FIN whose ACK (again) covers its FIN', () => {
    expectMove(S.FIN_WAIT2, E.RECV_FIN_WITH_ACK_OF_FIN, S.TIME_WAIT);
  });
  test('moves from FIN_WAIT2 to CLOSED when it sends an RST', () => {
    expectMove(S.FIN_WAIT2, E.SEND_RST, S.CLOSED);
  });
  test('moves from FIN_WAIT2 to CLOSED on an acceptable RST', () => {
    expectMove(S.FIN_WAIT2, E.RECV_RST, S.CLOSED);
  });
  test('treats sending a second FIN in FIN_WAIT2 as unexpected', () => {
    expect(transition(S.FIN_WAIT2, E.SEND_FIN)).toBeUndefined();
  });
});

describe('from CLOSE_WAIT', () => {
  test('moves from CLOSE_WAIT to LAST_ACK when the application closes and its FIN goes out', () => {
    expectMove(S.CLOSE_WAIT, E.SEND_FIN, S.LAST_ACK);
  });
  test('moves from CLOSE_WAIT to CLOSING when its FIN does not acknowledge the peer’s: the FINs crossed, it was never a passive close', () => {
    expect(expectMove(S.CLOSE_WAIT, E.SEND_FIN_CROSSING, S.CLOSING).cause).toMatch(/crossed/);
  });
  test('moves from CLOSE_WAIT to CLOSED when it sends an RST', () => {
    expectMove(S.CLOSE_WAIT, E.SEND_RST, S.CLOSED);
  });
  test('moves from CLOSE_WAIT to CLOSED on an acceptable RST', () => {
    expectMove(S.CLOSE_WAIT, E.RECV_RST, S.CLOSED);
  });
  test('has no timer: CLOSE_WAIT does not expire on its own', () => {
    expect(transition(S.CLOSE_WAIT, E.TIME_WAIT_EXPIRED)).toBeUndefined();
  });
});

describe('from CLOSING', () => {
  test('moves from CLOSING to TIME_WAIT when its FIN is acknowledged after the FINs crossed', () => {
    expectMove(S.CLOSING, E.RECV_ACK_OF_FIN, S.TIME_WAIT);
  });
  test('moves from CLOSING to CLOSED when it sends an RST', () => {
    expectMove(S.CLOSING, E.SEND_RST, S.CLOSED);
  });
  test('moves from CLOSING to CLOSED on an acceptable RST', () => {
    expectMove(S.CLOSING, E.RECV_RST, S.CLOSED);
  });
});

describe('from LAST_ACK', () => {
  test('moves from LAST_ACK to CLOSED on the last ACK (its FIN acknowledged)', () => {
    expectMove(S.LAST_ACK, E.RECV_ACK_OF_FIN, S.CLOSED);
  });
  test('moves from LAST_ACK to CLOSED when it sends an RST', () => {
    expectMove(S.LAST_ACK, E.SEND_RST, S.CLOSED);
  });
  test('moves from LAST_ACK to CLOSED on an acceptable RST', () => {
    expectMove(S.LAST_ACK, E.RECV_RST, S.CLOSED);
  });
});

describe('from TIME_WAIT', () => {
  test('moves from TIME_WAIT to CLOSED when 2×MSL has elapsed', () => {
    expectMove(S.TIME_WAIT, E.TIME_WAIT_EXPIRED, S.CLOSED);
  });
  test('moves from TIME_WAIT to CLOSED when a new SYN takes over the 4-tuple (port reuse)', () => {
    expect(expectMove(S.TIME_WAIT, E.REPLACED_BY_NEW_CONNECTION, S.CLOSED).rfc).toMatch(/RFC 6191/);
  });
  test('moves from TIME_WAIT to CLOSED when it sends an RST', () => {
    expectMove(S.TIME_WAIT, E.SEND_RST, S.CLOSED);
  });
  test('moves from TIME_WAIT to CLOSED on an RST at exactly RCV.NXT (Linux, tcp_rfc1337=0)', () => {
    expect(expectMove(S.TIME_WAIT, E.RECV_RST, S.CLOSED).rule).toMatch(/exactly RCV\.NXT.*rfc1337/);
  });
  test('only TIME_WAIT expires by the clock', () => {
    for (const state of ALL_STATES) {
      if (state !== S.TIME_WAIT) expect(transition(state, E.TIME_WAIT_EXPIRED), state).toBeUndefined();
    }
  });
});

describe('RFC 9293 Figure 5, walked end to end', () => {
  function walk(start: TcpState, events: E[]): TcpState[] {
    const states = [start];
    for (const event of events) {
      const rule = transition(states[states.length - 1], event);
      expect(rule, `${states[states.length - 1]} on ${event}`).toBeDefined();
      states.push((rule as TransitionRule).to);
    }
    return states;
  }

  test('takes the client through the active open and the active close', () => {
    expect(walk(S.CLOSED, [E.SEND_SYN, E.RECV_SYN_ACK, E.SEND_FIN, E.RECV_ACK_OF_FIN, E.RECV_FIN, E.TIME_WAIT_EXPIRED])).toEqual([
      S.CLOSED,
      S.SYN_SENT,
      S.ESTABLISHED,
      S.FIN_WAIT1,
      S.FIN_WAIT2,
      S.TIME_WAIT,
      S.CLOSED,
    ]);
  });

  test('takes the server through the passive open and the passive close', () => {
    expect(walk(S.LISTEN, [E.RECV_SYN, E.SEND_SYN_ACK, E.RECV_ACK_OF_SYN, E.RECV_FIN, E.SEND_FIN, E.RECV_ACK_OF_FIN])).toEqual([
      S.LISTEN,
      S.LISTEN,
      S.SYN_RECV,
      S.ESTABLISHED,
      S.CLOSE_WAIT,
      S.LAST_ACK,
      S.CLOSED,
    ]);
  });

  test('takes both sides of a simultaneous open and a simultaneous close through SYN_RECV and CLOSING', () => {
    expect(
      walk(S.CLOSED, [E.SEND_SYN, E.RECV_SYN, E.RECV_SYN_ACK, E.SEND_FIN, E.RECV_FIN, E.RECV_ACK_OF_FIN, E.TIME_WAIT_EXPIRED]),
    ).toEqual([S.CLOSED, S.SYN_SENT, S.SYN_RECV, S.ESTABLISHED, S.FIN_WAIT1, S.CLOSING, S.TIME_WAIT, S.CLOSED]);
  });
});

describe('the table as a whole', () => {
  test('never leads to UNKNOWN (only UNKNOWN’s own no-ops stay there)', () => {
    for (const state of ALL_STATES) {
      if (state === S.UNKNOWN) continue; // its no-ops stay there; nothing enters it
      for (const rule of Object.values(TRANSITIONS[state])) expect(rule?.to, state).not.toBe(S.UNKNOWN);
    }
  });

  test('never moves an endpoint into LISTEN: a passive open is invisible on the wire', () => {
    for (const state of ALL_STATES) {
      if (state === S.LISTEN) continue;
      for (const rule of Object.values(TRANSITIONS[state])) expect(rule?.to, state).not.toBe(S.LISTEN);
    }
  });

  test('gives every rule a non-empty one-line rule, a known target, and sane cause and RFC section', () => {
    for (const state of ALL_STATES) {
      for (const [event, rule] of Object.entries(TRANSITIONS[state])) {
        const where = `${state} ${event}`;
        expect(ALL_EVENTS, where).toContain(event);
        expect(rule?.rule.trim().length, where).toBeGreaterThan(0);
        expect(rule?.rule, where).not.toMatch(/\n/);
        expect(ALL_STATES, where).toContain(rule?.to);
        if (rule?.cause !== undefined) expect(rule.cause.trim().length, where).toBeGreaterThan(0);
        if (rule?.rfc !== undefined) expect(rule.rfc, where).toMatch(/^\d+(\.\d+)*( \(RFC \d+\))?$/);
      }
    }
  });

  test('reads the same rules by event index as by name (the tracker’s way in)', () => {
    for (const state of ALL_STATES)
      for (const event of ALL_EVENTS) expect(transitionAt(state, EVENT_INDEX[event]), `${state} ${event}`).toBe(transition(state, event));
  });

  test('has words for every event’s cause', () => {
    for (const event of ALL_EVENTS) expect(EVENT_CAUSE[event]?.length, event).toBeGreaterThan(0);
  });

  test('lets an RST end every synchronized or opening state', () => {
    for (const state of [
      S.SYN_SENT,
      S.SYN_RECV,
      S.ESTABLISHED,
      S.FIN_WAIT1,
      S.FIN_WAIT2,
      S.CLOSE_WAIT,
      S.CLOSING,
      S.LAST_ACK,
      S.TIME_WAIT,
    ]) {
      expect(transition(state, E.SEND_RST)?.to, state).toBe(S.CLOSED);
      expect(transition(state, E.RECV_RST)?.to, state).toBe(S.CLOSED);
    }
  });
});
