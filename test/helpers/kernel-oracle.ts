// Compares what flowstate reconstructs from a lab capture with the kernel's own
// answer recorded beside it (captures/<scenario>.expected.json, docs/lab.md).
import { readFileSync } from 'node:fs';
import { analyzeCapture } from '../../src/analyze.js';
import { CollectedOutput } from '../../src/track/collect-output.js';
import { formatEndpoint } from '../../src/decode/format-address.js';
import type { FlowRecord, Role, TransitionRecord } from '../../src/track/records.js';

export interface KernelExpectation {
  scenario: string;
  description: string;
  capture: string;
  ss: Array<{ local: string; remote: string; state: string }>;
  kernel_transitions: Array<{ ts_ns: string; local: string; remote: string; from: string; to: string }>;
  unrevealable: Array<{ local: string; remote: string; reason: string }>;
  trace_clock?: string;
  /**
   * Every socket the kernel listed in TIME_WAIT at some moment of the run (inet_diag dumps
   * every ~2 ms; scripts/lab/scenarios.py, watch_time_wait), one entry per sighting episode;
   * first/last_seen_ns on CLOCK_TAI, the clock of ts_ns when trace_clock is "tai".  Only in
   * the expectations of scenarios that record it.
   */
  time_wait_seen?: Array<{ local: string; remote: string; first_seen_ns: string; last_seen_ns: string }>;
}

export interface OurEndpoint {
  flow: FlowRecord;
  role: Role;
  state: string;
  inferred: boolean;
  transitions: TransitionRecord[];
}

export interface OracleResult {
  expectation: KernelExpectation;
  /** "local|remote" → our endpoint (the latest instance on that 4-tuple). */
  endpoints: Map<string, OurEndpoint[]>;
  collected: CollectedOutput;
  problems: string[];
}

const key = (local: string, remote: string): string => `${local}|${remote}`;

/**
 * Kernel and wire disagree in known, documented ways; both sequences are put in
 * one canonical form before comparing:
 * - entering TIME_WAIT is traced as FIN_WAIT2/CLOSING → CLOSE (a timewait socket
 *   replaces the full one); ss tells what followed: TIME_WAIT, FIN_WAIT2 (an orphan,
 *   no change) or nothing: a real close, unless the expectation's time_wait_seen shows
 *   the kernel listed that socket in TIME_WAIT after its previous traced event (a
 *   timewait socket ended early, e.g. by an RST at its RCV.NXT with tcp_rfc1337=0,
 *   which no tracepoint shows); without time_wait_seen, nothing in ss means CLOSED;
 * - the end of TIME_WAIT (2MSL, a reusing SYN or such an RST) is not traced, so ours
 *   is dropped;
 * - a FIN_WAIT2 directly before TIME_WAIT is optional: the kernel passes through it
 *   even when one segment acknowledges our FIN and carries the peer's (RFC 9293 and
 *   flowstate go FIN_WAIT1 → TIME_WAIT);
 * - a server's LISTEN → SYN_RECV is traced only once the handshake completes: a
 *   half-open SYN_RECV (listed by ss) has no event;
 * - midstream: kernel events before the first captured packet are not on the wire,
 *   and our assumed ESTABLISHED is an inference, not an event.
 */
function canonical(states: string[]): string[] {
  return states.filter((s, i) => !(s === 'FIN_WAIT2' && states[i + 1] === 'TIME_WAIT'));
}

export async function checkAgainstKernel(capturePath: string, expectationPath: string): Promise<OracleResult> {
  const expectation = JSON.parse(readFileSync(expectationPath, 'utf8')) as KernelExpectation;
  const collected = new CollectedOutput();
  const analysis = await analyzeCapture([capturePath], collected);
  const problems: string[] = [];
  if (analysis.error) problems.push(`capture error: ${analysis.error.message}`);
  const firstPacketNs = analysis.captures[0]?.firstNs ?? 0n;

  const transitionsByFlow = new Map<number, TransitionRecord[]>();
  for (const t of collected.transitions) transitionsByFlow.set(t.flowId, [...(transitionsByFlow.get(t.flowId) ?? []), t]);
  const endpoints = new Map<string, OurEndpoint[]>();
  for (const flow of [...collected.flows].sort((a, b) => a.id - b.id)) {
    for (const role of ['client', 'server'] as const) {
      const me = flow[role];
      const peer = role === 'client' ? flow.server : flow.client;
      const k = key(formatEndpoint(me.ip, me.port), formatEndpoint(peer.ip, peer.port));
      const list = endpoints.get(k) ?? [];
      list.push({
        flow,
        role,
        state: me.state,
        inferred: me.stateInferred,
        transitions: (transitionsByFlow.get(flow.id) ?? []).filter((t) => t.endpoint === role),
      });
      endpoints.set(k, list);
    }
  }
  const unrevealable = new Map(expectation.unrevealable.map((u) => [key(u.local, u.remote), u.reason]));
  const ssByKey = new Map(expectation.ss.filter((s) => s.state !== 'LISTEN').map((s) => [key(s.local, s.remote), s.state]));

  // 1. End states: every connection the kernel lists.
  for (const [k, kernelState] of ssByKey) {
    const ours = endpoints.get(k)?.at(-1);
    const reason = unrevealable.get(k);
    if (reason !== undefined) {
      if (ours && ours.state !== 'UNKNOWN' && !ours.inferred && ours.state !== kernelState)
        problems.push(`${k}: unrevealable (${reason}) but we claim ${ours.state} as observed`);
      continue;
    }
    if (!ours) problems.push(`${k}: kernel lists ${kernelState}, we have no such endpoint`);
    else if (ours.state !== kernelState)
      problems.push(`${k}: kernel ${kernelState}, ours ${ours.state}${ours.inferred ? ' (inferred)' : ''}`);
  }
  // ...and nothing we call open that the kernel does not list.
  for (const [k, list] of endpoints) {
    const ours = list.at(-1) as OurEndpoint;
    if (ours.state === 'CLOSED' || ours.state === 'UNKNOWN' || ssByKey.has(k)) continue;
    if (!ours.inferred) problems.push(`${k}: we say ${ours.state} (observed) but the kernel lists no such socket`);
  }

  // 2. Transition sequences, per kernel socket.
  const kernelBySocket = new Map<string, typeof expectation.kernel_transitions>();
  for (const t of expectation.kernel_transitions) {
    if (t.remote.endsWith(':*')) continue; // listening sockets
    const midstream = endpoints.get(key(t.local, t.remote))?.[0]?.flow.midstream ?? false;
    if (midstream && BigInt(t.ts_ns) < firstPacketNs - 1_000_000n) continue; // before a midstream capture began
    kernelBySocket.set(key(t.local, t.remote), [...(kernelBySocket.get(key(t.local, t.remote)) ?? []), t]);
  }
  // The kernel's sightings of TIME_WAIT sockets (when recorded): "local|remote" → first-seen times.
  const timeWaitSeen = new Map<string, bigint[]>();
  for (const t of expectation.time_wait_seen ?? [])
    timeWaitSeen.set(key(t.local, t.remote), [...(timeWaitSeen.get(key(t.local, t.remote)) ?? []), BigInt(t.first_seen_ns)]);
  const sameClock = expectation.trace_clock === 'tai';
  for (const [k, events] of kernelBySocket) {
    if (unrevealable.has(k)) continue;
    const ssState = ssByKey.get(k);
    const kernel: string[] = [];
    events.forEach((e, i) => {
      const timewaitSwap = e.to === 'CLOSED' && (e.from === 'FIN_WAIT2' || e.from === 'CLOSING');
      if (!timewaitSwap) kernel.push(e.to);
      else if (i < events.length - 1) kernel.push('TIME_WAIT');
      else if (ssState === 'TIME_WAIT') kernel.push('TIME_WAIT');
      else if (ssState === undefined) {
        // Gone by the end: a real close, or a timewait socket ended early (not traced). Only the
        // kernel's own listing of this socket in TIME_WAIT, seen after its previous event (not
        // an earlier connection on the same 4-tuple), makes it a TIME_WAIT.
        const after = i > 0 && sameClock ? BigInt(events[i - 1].ts_ns) : undefined;
        const seen = (timeWaitSeen.get(k) ?? []).some((ns) => after === undefined || ns > after);
        kernel.push(seen ? 'TIME_WAIT' : 'CLOSED');
      }
    });
    const ours = (endpoints.get(k) ?? [])
      .flatMap((e) => e.transitions)
      .filter((t) => !(t.fromState === 'TIME_WAIT' && t.toState === 'CLOSED'))
      .filter((t) => !(t.inferred && t.cause.startsWith('midstream')))
      .map((t) => t.toState);
    const a = canonical(kernel).join(' → ');
    const b = canonical(ours).join(' → ');
    if (a !== b) problems.push(`${k}: kernel ${a || '(none)'}; ours ${b || '(none)'}`);
  }
  // A half-open server endpoint (ss SYN_RECV) has no kernel event; ours must say SYN_RECV.
  for (const [k, state] of ssByKey) {
    if (state !== 'SYN_RECV' || kernelBySocket.has(k) || unrevealable.has(k)) continue;
    const ours = endpoints.get(k)?.at(-1);
    const seq = canonical((ours?.transitions ?? []).map((t) => t.toState)).join(' → ');
    if (seq !== 'SYN_RECV') problems.push(`${k}: half-open in the kernel (no event); ours ${seq || '(none)'}`);
  }
  return { expectation, endpoints, collected, problems };
}
