import { EVENT_ORDER, EndpointEvent as E } from './endpoint-event.js';
import { TcpState as S, type TcpState } from './tcp-state.js';

export interface TransitionRule {
  to: TcpState;
  /** The rule in one line; `cause` overrides the event's usual wording where the state adds meaning. */
  rule: string;
  cause?: string;
  rfc?: string;
  /** The wire can never show this move happened (nothing follows it either way): always inferred, `cause` saying why. */
  unconfirmable?: true;
}

type Row = Partial<Record<E, TransitionRule>>;

const stay = (state: TcpState, rule: string): TransitionRule => ({ to: state, rule });
const reset = (rule = 'an RST ends the connection at once'): TransitionRule => ({ to: S.CLOSED, rule, rfc: '3.10.7' });

/**
 * One endpoint's state machine: state × event → next state. Typed so that every
 * state has a row; an event missing from a row is unexpected there: the state
 * stays and the tracker records a finding. A rule whose `to` equals its state is
 * a known no-op (nothing recorded).
 */
export const TRANSITIONS: Readonly<Record<TcpState, Row>> = {
  [S.CLOSED]: {
    [E.SEND_SYN]: { to: S.SYN_SENT, rule: 'active open: a SYN leaves a closed endpoint', rfc: '3.5' },
    [E.SEND_SYN_ACK]: { to: S.SYN_RECV, rule: 'a SYN-ACK proves a listener took the SYN' },
    [E.RECV_SYN]: stay(S.CLOSED, 'whether anything listens shows only in the answer'),
    [E.SEND_RST]: stay(S.CLOSED, 'a closed port answers with RST and stays closed'),
    [E.RECV_RST]: stay(S.CLOSED, 'an RST to a closed endpoint changes nothing'),
  },
  [S.UNKNOWN]: {
    [E.SEND_SYN]: { to: S.SYN_SENT, rule: 'active open' },
    [E.SEND_SYN_ACK]: { to: S.SYN_RECV, rule: 'a SYN-ACK proves a listener took the SYN', cause: 'sent SYN-ACK (was listening)' },
    [E.RECV_SYN]: stay(S.UNKNOWN, 'a SYN arrives: whether anything listens shows only in the answer'),
    [E.SEND_RST]: { to: S.CLOSED, rule: 'an endpoint that sends RST has no connection left', rfc: '3.10.7.1' },
    [E.RECV_RST]: { to: S.CLOSED, rule: 'an acceptable RST removes whatever half-open state there was' },
    [E.MIDSTREAM_PICKUP]: { to: S.ESTABLISHED, rule: 'no SYN captured: data flowing means the connection was open' },
  },
  [S.LISTEN]: {
    [E.SEND_SYN_ACK]: { to: S.SYN_RECV, rule: 'a listener answers a SYN with SYN-ACK', rfc: '3.10.7.2' },
    [E.RECV_SYN]: stay(S.LISTEN, 'a listener receives a SYN'),
    [E.SEND_RST]: { to: S.CLOSED, rule: 'a listener refusing the connection keeps no state for it' },
    [E.RECV_RST]: stay(S.LISTEN, 'a listener ignores RST'),
  },
  [S.SYN_SENT]: {
    [E.RECV_SYN_ACK]: { to: S.ESTABLISHED, rule: 'a SYN-ACK covering our SYN completes the active open', rfc: '3.10.7.3' },
    [E.RECV_SYN]: {
      to: S.SYN_RECV,
      rule: 'a bare SYN in SYN_SENT is a simultaneous open',
      cause: 'received SYN (simultaneous open)',
      rfc: '3.10.7.3',
    },
    [E.SEND_SYN_ACK]: stay(S.SYN_SENT, 'answering a crossing SYN; the state moved when it arrived'),
    [E.SEND_RST]: reset(),
    [E.RECV_RST]: reset('an RST whose ACK covers our SYN: the connection was refused'),
  },
  [S.SYN_RECV]: {
    [E.RECV_ACK_OF_SYN]: { to: S.ESTABLISHED, rule: 'an ACK covering our SYN completes the passive open', rfc: '3.10.7.4' },
    [E.RECV_SYN_ACK]: { to: S.ESTABLISHED, rule: 'simultaneous open: the peer’s SYN-ACK covers our SYN', rfc: '3.10.7.4' },
    [E.RECV_SYN]: stay(S.SYN_RECV, 'the peer’s SYN, seen after our SYN-ACK went out'),
    [E.SEND_SYN_ACK]: stay(S.SYN_RECV, 'simultaneous open: our SYN-ACK answers the crossing SYN'),
    [E.SEND_FIN]: { to: S.FIN_WAIT1, rule: 'close before the handshake completed', rfc: '3.10.4' },
    [E.RECV_FIN]: { to: S.CLOSE_WAIT, rule: 'a FIN in SYN_RECV', rfc: '3.10.7.4' },
    [E.SEND_RST]: reset(),
    [E.RECV_RST]: reset(),
  },
  [S.ESTABLISHED]: {
    [E.SEND_FIN]: { to: S.FIN_WAIT1, rule: 'active close: this endpoint sends FIN first', rfc: '3.10.4' },
    [E.RECV_FIN]: { to: S.CLOSE_WAIT, rule: 'passive close: the peer’s FIN arrives first', rfc: '3.10.7.4' },
    [E.RECV_FIN_WITH_ACK_OF_FIN]: { to: S.CLOSE_WAIT, rule: 'passive close (the ACK field covers nothing of ours to close)' },
    [E.SEND_RST]: reset(),
    [E.RECV_RST]: reset(),
  },
  [S.FIN_WAIT1]: {
    [E.RECV_ACK_OF_SYN]: stay(S.FIN_WAIT1, 'closed from SYN_RECV: the ACK of our SYN arrives after our FIN left (RFC 9293 §3.10.7.4)'),
    [E.RECV_ACK_OF_FIN]: { to: S.FIN_WAIT2, rule: 'our FIN is acknowledged', rfc: '3.10.7.4' },
    [E.RECV_FIN]: {
      to: S.CLOSING,
      rule: 'the peer’s FIN does not acknowledge ours: the FINs crossed',
      cause: 'FINs crossed',
      rfc: '3.10.7.4',
    },
    [E.RECV_FIN_WITH_ACK_OF_FIN]: { to: S.TIME_WAIT, rule: 'the peer’s FIN also acknowledges ours (FIN+ACK)', rfc: '3.10.7.4' },
    [E.RECV_FIN_TAKEN_EARLIER]: {
      to: S.LAST_ACK,
      rule: 'our FIN had acknowledged this FIN: it arrived before we closed, so this end went CLOSE_WAIT → LAST_ACK (a passive close), not FIN_WAIT1; its first copy was lost before the capture point',
      rfc: '3.10.7.4',
    },
    [E.SEND_RST]: reset(),
    [E.RECV_RST]: reset(),
  },
  [S.FIN_WAIT2]: {
    [E.RECV_FIN]: { to: S.TIME_WAIT, rule: 'the peer’s FIN after ours was acknowledged', rfc: '3.10.7.4' },
    [E.RECV_FIN_WITH_ACK_OF_FIN]: { to: S.TIME_WAIT, rule: 'the peer’s FIN after ours was acknowledged', rfc: '3.10.7.4' },
    [E.RECV_FIN_TAKEN_EARLIER]: {
      to: S.CLOSED,
      rule: 'our FIN had acknowledged this FIN, and ours is acknowledged: this end was LAST_ACK, not FIN_WAIT2, and is closed; the FIN’s first copy was lost before the capture point',
      rfc: '3.10.7.4',
    },
    [E.SEND_RST]: reset(),
    [E.RECV_RST]: reset(),
  },
  [S.CLOSE_WAIT]: {
    [E.SEND_FIN]: { to: S.LAST_ACK, rule: 'the application closed after the peer did', rfc: '3.10.4' },
    [E.SEND_FIN_CROSSING]: {
      to: S.CLOSING,
      rule: 'our FIN does not acknowledge the peer’s: it left before the peer’s FIN arrived, so this end was in FIN_WAIT1 and the FINs crossed (simultaneous close), not a passive close',
      cause: 'sent FIN without ACK of the peer’s FIN: the FINs crossed',
      rfc: '3.6',
    },
    [E.SEND_RST]: reset(),
    [E.RECV_RST]: reset(),
  },
  [S.CLOSING]: {
    [E.RECV_ACK_OF_FIN]: { to: S.TIME_WAIT, rule: 'after crossing FINs, our FIN is acknowledged', rfc: '3.10.7.4' },
    [E.SEND_RST]: reset(),
    [E.RECV_RST]: reset(),
  },
  [S.LAST_ACK]: {
    [E.RECV_ACK_OF_FIN]: { to: S.CLOSED, rule: 'the last ACK: our FIN is acknowledged', rfc: '3.10.7.4' },
    [E.SEND_RST]: reset(),
    [E.RECV_RST]: reset(),
  },
  [S.TIME_WAIT]: {
    [E.TIME_WAIT_EXPIRED]: { to: S.CLOSED, rule: 'TIME_WAIT ends 2×MSL after it began', rfc: '3.10.7.4' },
    [E.REPLACED_BY_NEW_CONNECTION]: {
      to: S.CLOSED,
      rule: 'a new SYN may take over a TIME_WAIT 4-tuple (Linux: when its ISN or timestamp is higher)',
      rfc: '3.10.7.4 (RFC 6191)',
    },
    [E.SEND_RST]: reset(),
    [E.RECV_RST]: {
      ...reset('an RST at exactly RCV.NXT ends TIME_WAIT (Linux, tcp_rfc1337=0); any other is ignored'),
      cause:
        'received RST at its RCV.NXT, which Linux takes in TIME_WAIT (tcp_rfc1337=0); that it arrived is assumed: a TIME_WAIT sends nothing after it either way',
      unconfirmable: true,
    },
  },
};

/**
 * The table read by event index (EVENT_INDEX): each state's row as an array, so
 * the tracker's lookup is two array loads, not two property lookups by name.
 */
const RULES_BY_INDEX: ReadonlyMap<TcpState, ReadonlyArray<TransitionRule | undefined>> = new Map(
  (Object.keys(TRANSITIONS) as TcpState[]).map((state) => [state, EVENT_ORDER.map((event) => TRANSITIONS[state][event])]),
);

/** The next state for `event` in `state`, or undefined when the event is unexpected there. */
export function transition(state: TcpState, event: E): TransitionRule | undefined {
  return TRANSITIONS[state][event];
}

/** `transition` by the event's index in EVENT_ORDER: the tracker's way in. */
export function transitionAt(state: TcpState, eventIndex: number): TransitionRule | undefined {
  return (RULES_BY_INDEX.get(state) as ReadonlyArray<TransitionRule | undefined>)[eventIndex];
}
