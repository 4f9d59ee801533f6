/** The eleven states of RFC 9293 §3.3.2 in netstat's spelling, plus UNKNOWN where the wire cannot tell. */
export const TcpState = {
  LISTEN: 'LISTEN',
  SYN_SENT: 'SYN_SENT',
  SYN_RECV: 'SYN_RECV',
  ESTABLISHED: 'ESTABLISHED',
  FIN_WAIT1: 'FIN_WAIT1',
  FIN_WAIT2: 'FIN_WAIT2',
  CLOSE_WAIT: 'CLOSE_WAIT',
  CLOSING: 'CLOSING',
  LAST_ACK: 'LAST_ACK',
  TIME_WAIT: 'TIME_WAIT',
  CLOSED: 'CLOSED',
  UNKNOWN: 'UNKNOWN',
} as const;
export type TcpState = (typeof TcpState)[keyof typeof TcpState];

export const ALL_STATES: readonly TcpState[] = Object.values(TcpState);

/** Each state's position in ALL_STATES: states stored as small numbers (writer batches, retired flows). */
export const STATE_INDEX: ReadonlyMap<TcpState, number> = new Map(ALL_STATES.map((state, index) => [state, index]));

/** Both sequence spaces are synchronized (RFC 9293 §3.5.2): compared, not looked up, as the tracker asks it of most segments. */
export function isSynchronized(state: TcpState): boolean {
  return (
    state !== TcpState.CLOSED &&
    state !== TcpState.UNKNOWN &&
    state !== TcpState.LISTEN &&
    state !== TcpState.SYN_SENT &&
    state !== TcpState.SYN_RECV
  );
}

/** States in which both sequence spaces are synchronized. */
export const SYNCHRONIZED: ReadonlySet<TcpState> = new Set(ALL_STATES.filter(isSynchronized));

/** States in which this endpoint has sent its FIN. */
export const FIN_SENT_STATES: ReadonlySet<TcpState> = new Set([
  TcpState.FIN_WAIT1,
  TcpState.FIN_WAIT2,
  TcpState.CLOSING,
  TcpState.LAST_ACK,
  TcpState.TIME_WAIT,
]);

/** States an endpoint reaches only after taking its peer's FIN (or, CLOSED, with nothing left to take). */
export const PEER_FIN_TAKEN_STATES: ReadonlySet<TcpState> = new Set([
  TcpState.CLOSE_WAIT,
  TcpState.LAST_ACK,
  TcpState.CLOSING,
  TcpState.TIME_WAIT,
  TcpState.CLOSED,
]);

/**
 * States an endpoint leaves only when the SYN or FIN it sent is acknowledged: at the end of a capture
 * only the absence of that ACK keeps it there, and a capture may simply have missed it.
 */
export const WAITING_STATES: ReadonlySet<TcpState> = new Set([
  TcpState.SYN_SENT,
  TcpState.SYN_RECV,
  TcpState.FIN_WAIT1,
  TcpState.CLOSING,
  TcpState.LAST_ACK,
]);
