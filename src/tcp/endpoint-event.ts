/**
 * What a segment (or the clock) means to one endpoint, after classification. Each
 * is a new fact about the connection: a retransmitted or duplicated segment yields none.
 */
export const EndpointEvent = {
  SEND_SYN: 'SEND_SYN',
  SEND_SYN_ACK: 'SEND_SYN_ACK',
  SEND_FIN: 'SEND_FIN',
  SEND_RST: 'SEND_RST',
  RECV_SYN: 'RECV_SYN',
  /** A SYN-ACK whose ACK covers this endpoint's SYN. */
  RECV_SYN_ACK: 'RECV_SYN_ACK',
  RECV_ACK_OF_SYN: 'RECV_ACK_OF_SYN',
  RECV_ACK_OF_FIN: 'RECV_ACK_OF_FIN',
  /** The peer's FIN; its ACK does not cover this endpoint's FIN (or there is none). */
  RECV_FIN: 'RECV_FIN',
  /** The peer's FIN in a segment whose ACK also covers this endpoint's FIN. */
  RECV_FIN_WITH_ACK_OF_FIN: 'RECV_FIN_WITH_ACK_OF_FIN',
  /** An acceptable RST (RFC 9293 §3.10.7, RFC 5961). */
  RECV_RST: 'RECV_RST',
  /** 2×MSL after entering TIME_WAIT. */
  TIME_WAIT_EXPIRED: 'TIME_WAIT_EXPIRED',
  /** A new connection on the same 4-tuple replaces this one (port reuse). */
  REPLACED_BY_NEW_CONNECTION: 'REPLACED_BY_NEW_CONNECTION',
  /** The capture starts after the handshake: the connection is assumed open. */
  MIDSTREAM_PICKUP: 'MIDSTREAM_PICKUP',
} as const;
export type EndpointEvent = (typeof EndpointEvent)[keyof typeof EndpointEvent];

/** Words for the transitions' `cause` column. */
export const EVENT_CAUSE: Readonly<Record<EndpointEvent, string>> = {
  SEND_SYN: 'sent SYN',
  SEND_SYN_ACK: 'sent SYN-ACK',
  SEND_FIN: 'sent FIN',
  SEND_RST: 'sent RST',
  RECV_SYN: 'received SYN',
  RECV_SYN_ACK: 'received SYN-ACK',
  RECV_ACK_OF_SYN: 'received ACK of SYN',
  RECV_ACK_OF_FIN: 'received ACK of FIN',
  RECV_FIN: 'received FIN',
  RECV_FIN_WITH_ACK_OF_FIN: 'received FIN with ACK of FIN',
  RECV_RST: 'received RST',
  TIME_WAIT_EXPIRED: '2MSL elapsed',
  REPLACED_BY_NEW_CONNECTION: 'new SYN on the 4-tuple (port reuse)',
  MIDSTREAM_PICKUP: 'midstream: assumed established',
};
