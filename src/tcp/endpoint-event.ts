/**
 * What a segment (or the clock) means to one endpoint, after classification. Each
 * is a new fact about the connection: a retransmitted or duplicated segment yields none.
 *
 * This list is the only place events are spelled. Their names, the words of the
 * transitions' `cause` column, their bits in a segment's event mask and the order a
 * segment's events are applied in all come from it: a segment's events are applied
 * in list order (an RST first and alone, the opening, ACKs, then the FIN).
 */
const EVENTS = [
  { name: 'SEND_RST', cause: 'sent RST' },
  { name: 'SEND_SYN', cause: 'sent SYN' },
  { name: 'SEND_SYN_ACK', cause: 'sent SYN-ACK' },
  { name: 'SEND_FIN', cause: 'sent FIN' },
  /** A FIN whose ACK does not cover the peer's FIN, sent by an endpoint the peer's FIN was taken to have reached. */
  { name: 'SEND_FIN_CROSSING', cause: 'sent FIN before the peer’s FIN arrived' },
  /** An acceptable RST (RFC 9293 §3.10.7, RFC 5961). */
  { name: 'RECV_RST', cause: 'received RST' },
  { name: 'RECV_SYN', cause: 'received SYN' },
  /** A SYN-ACK whose ACK covers this endpoint's SYN. */
  { name: 'RECV_SYN_ACK', cause: 'received SYN-ACK' },
  { name: 'RECV_ACK_OF_SYN', cause: 'received ACK of SYN' },
  { name: 'RECV_ACK_OF_FIN', cause: 'received ACK of FIN' },
  /** The peer's FIN; its ACK does not cover this endpoint's FIN (or there is none). */
  { name: 'RECV_FIN', cause: 'received FIN' },
  /** The peer's FIN in a segment whose ACK also covers this endpoint's FIN. */
  { name: 'RECV_FIN_WITH_ACK_OF_FIN', cause: 'received FIN with ACK of FIN' },
  /** 2×MSL after entering TIME_WAIT. */
  { name: 'TIME_WAIT_EXPIRED', cause: '2MSL elapsed' },
  /** A new connection on the same 4-tuple replaces this one (port reuse). */
  { name: 'REPLACED_BY_NEW_CONNECTION', cause: 'new SYN on the 4-tuple (port reuse)' },
  /** The capture starts after the handshake: the connection is assumed open. */
  { name: 'MIDSTREAM_PICKUP', cause: 'midstream: assumed established' },
  /**
   * The peer's FIN, at a sequence number this endpoint had already acknowledged on its own FIN: it had
   * taken that FIN before closing (a passive close), and the FIN's first copy was not captured.
   */
  { name: 'RECV_FIN_TAKEN_EARLIER', cause: 'received FIN it had acknowledged with its own FIN: the FIN’s first copy was not captured' },
] as const;

export type EndpointEvent = (typeof EVENTS)[number]['name'];

/** Each event by name, as its own value. */
export const EndpointEvent = Object.freeze(Object.fromEntries(EVENTS.map(({ name }) => [name, name]))) as {
  readonly [E in EndpointEvent]: E;
};

/** The events in application order: bit i of an event mask is EVENT_ORDER[i]. */
export const EVENT_ORDER: readonly EndpointEvent[] = EVENTS.map(({ name }) => name);

/** Each event's position in EVENT_ORDER (the index the transition table is read by). */
export const EVENT_INDEX = Object.freeze(Object.fromEntries(EVENT_ORDER.map((name, index) => [name, index]))) as {
  readonly [E in EndpointEvent]: number;
};

/** Each event's bit in an event mask: 1 << its position in EVENT_ORDER. */
export const EventBit = Object.freeze(Object.fromEntries(EVENT_ORDER.map((name, index) => [name, 1 << index]))) as {
  readonly [E in EndpointEvent]: number;
};

/** Words for the transitions' `cause` column. */
export const EVENT_CAUSE = Object.freeze(Object.fromEntries(EVENTS.map(({ name, cause }) => [name, cause]))) as Readonly<
  Record<EndpointEvent, string>
>;
