import type { Tunnel } from '../decode/tcp-segment.js';
import { frameTimeNs } from '../capture/captured-frame.js';
import type { EndpointEvent } from '../tcp/endpoint-event.js';
import type { TcpState } from '../tcp/tcp-state.js';
import type { FindingKind } from './finding-catalogue.js';

export const Role = { client: 'client', server: 'server' } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** How an endpoint ended the connection first. */
export const CloseKind = { FIN: 'FIN', RST: 'RST' } as const;
export type CloseKind = (typeof CloseKind)[keyof typeof CloseKind];

/** Why a connection was dropped from memory before it ended. */
export const EvictionCause = {
  /** More unfinished handshakes at once than the half-open bound (a SYN flood). */
  halfOpenLimit: 'half-open-limit',
  /** The memory budget was reached and it was the least recently seen connection. */
  memory: 'memory',
} as const;
export type EvictionCause = (typeof EvictionCause)[keyof typeof EvictionCause];

/** What every change of one endpoint's state says, whatever its form. */
export interface TransitionFacts {
  flowId: number;
  endpoint: Role;
  /** Input file index (0-based) and 1-based frame in it; frame null for timer transitions. */
  source: number;
  frame: number | null;
  fromState: TcpState;
  toState: TcpState;
  /** The event that caused it: a stable code, where `cause` is words (which a rule may vary). */
  event: EndpointEvent;
  cause: string;
  /** True when the wire did not show it directly (midstream start, timers, after capture loss, guessed roles). */
  inferred: boolean;
}

/**
 * One change of one endpoint's state, as the tracker hands it on: a single object
 * reused for every transition (valid only during the call), with the time in two
 * numbers so that millions of transitions cost no allocation. Keep a copy with
 * `toTransitionRecord`.
 */
export interface TransitionEvent extends TransitionFacts {
  /** Whole seconds since the Unix epoch, and nanoseconds within that second. */
  second: number;
  nanos: number;
}

/** One change of one endpoint's state. */
export interface TransitionRecord extends TransitionFacts {
  /** Integer nanoseconds since the Unix epoch. */
  tsNs: bigint;
}

export interface EndpointSummary {
  ip: string;
  port: number;
  /** State at capture end (after TIME_WAIT expiry up to the last packet's time). */
  state: TcpState;
  stateInferred: boolean;
  packets: number;
  /** Payload bytes sent. */
  bytes: number;
  /** IP-layer bytes sent (headers included), as Zeek's orig_ip_bytes. */
  ipBytes: number;
  /** Sequence space sent and not acknowledged by the peer at capture end (netstat's Send-Q). */
  unackedBytes: number;
  retransmissions: number;
  /** Sequence space the peer acknowledged that the capture never showed (capture loss). */
  missedBytes: number;
  /** Highest window scale the endpoint announced, -1 for none. */
  windowScale: number;
  /** Segments sent with a bad TCP checksum (of those captured whole). */
  badChecksums: number;
}

/** One connection instance, as handed on when it ends (or when the capture ends). */
export interface FlowRecord {
  id: number;
  ipVersion: 4 | 6;
  /** 1 for the first connection on a 4-tuple in this capture, 2 for the next (port reuse), … */
  instance: number;
  client: EndpointSummary;
  server: EndpointSummary;
  firstNs: bigint;
  lastNs: bigint;
  firstSource: number;
  firstFrame: number;
  lastSource: number;
  lastFrame: number;
  /** No SYN was seen: client and server come from the port heuristic. */
  rolesGuessed: boolean;
  /** The capture began after the handshake. */
  midstream: boolean;
  closedFirstBy: Role | null;
  closeKind: CloseKind | null;
  /** ACKs of data that the capture never showed (capture loss): later states are inferred. */
  captureLossEvents: number;
  /** Dropped from memory before it ended (half-open bound, memory budget): its states are those it had then, and its state at capture end is unknown. */
  evicted: boolean;
  /** Why it was evicted, null when it was not. */
  evictedBy: EvictionCause | null;
  /** The tunnel the connection ran inside (GRE, VXLAN, …), or null on the outermost IP. */
  tunnel: Tunnel | null;
  /** Zeek's view of the same connection (docs/zeek.md). */
  zeek?: { connState: string; history: string; originatorBytes: number; responderBytes: number; missedBytes: number };
}

export const Severity = { info: 'info', warning: 'warning', error: 'error' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** One diagnosis. Per-flow findings name the flow; aggregates name a host (and port). */
export interface FindingRecord {
  /** A code of the catalogue (finding-catalogue.ts): the compiler refuses any other. */
  kind: FindingKind;
  severity: Severity;
  flowId: number | null;
  endpoint: Role | null;
  host: string | null;
  port: number | null;
  tsNs: bigint;
  source: number;
  frame: number | null;
  message: string;
  details: Record<string, string | number | boolean | null | Array<string | number>>;
}

/**
 * A flow already handed on, changed again: its TIME_WAIT ended (or a new SYN or
 * an RST ended it) and segments may have come after it was handed on.
 */
export interface FlowUpdate {
  id: number;
  clientState: TcpState;
  serverState: TcpState;
  clientStateInferred: boolean;
  serverStateInferred: boolean;
  /** Segments and payload bytes each side sent after the flow was handed on. */
  clientPacketsAfter: number;
  serverPacketsAfter: number;
  clientBytesAfter: number;
  serverBytesAfter: number;
  lastNs: bigint;
  lastSource: number;
  lastFrame: number;
}

/** Where the tracker hands on what it reconstructs, as soon as it is final. */
export interface TrackerOutput {
  transition(event: TransitionEvent): void;
  finding(record: FindingRecord): void;
  flow(record: FlowRecord): void;
  /** Outputs that keep flow rows apply these; outputs that only count may leave it out. */
  flowUpdate?(update: FlowUpdate): void;
}

/** A lasting copy of the tracker's reused transition event. */
export function toTransitionRecord(event: TransitionEvent): TransitionRecord {
  const { second, nanos, ...facts } = event;
  return { ...facts, tsNs: frameTimeNs({ tsSec: second, tsNsec: nanos }) };
}
