import { NS_PER_SECOND } from './capture-time.js';
import { Severity } from './records.js';

export interface FindingDefinition {
  severity: Severity;
  /** What it means, in one sentence. */
  meaning: string;
  /** What actually helps (docs/findings.md, "What flowstate never recommends"). */
  remedy: string;
}

/**
 * Every finding code flowstate writes: stable kebab-case names scripts can rely
 * on (`--fail-on`, `report`), each with its default severity, meaning and remedy.
 * A detector may raise or lower the severity of one finding (it says why).
 */
export const FINDINGS = {
  'close-wait-leak': {
    severity: Severity.error,
    meaning:
      'endpoints received the peer’s FIN and acknowledged it, but their application never closed: CLOSE_WAIT longer than the threshold or until the capture ended',
    remedy:
      'the application does not call close() after read() returns 0 (EOF): fix the code path that handles a peer closing; no kernel setting ends CLOSE_WAIT and keepalive does not either',
  },
  'time-wait-pressure': {
    severity: Severity.info,
    meaning: 'how many TIME_WAIT endpoints a host holds at once (with the 2×MSL in force) and which side closes first',
    remedy:
      'TIME_WAIT belongs to whoever closes first: use keep-alive / connection reuse, or let clients close first; tcp_tw_reuse helps only outgoing connections; never tcp_tw_recycle (removed in Linux 4.12, it broke clients behind NAT); tcp_fin_timeout does not shorten TIME_WAIT',
  },
  'fin-wait2-long': {
    severity: Severity.warning,
    meaning:
      'an endpoint’s FIN was acknowledged but the peer did not close for longer than the threshold (Linux drops orphaned FIN_WAIT2 after tcp_fin_timeout, 60 s)',
    remedy:
      'the peer application keeps its half of the connection open: make it close after it has sent everything; tcp_fin_timeout bounds only orphaned FIN_WAIT2 sockets',
  },
  'half-open-flood': {
    severity: Severity.error,
    meaning:
      'many handshakes toward one listener never completed (SYN_RECV, or SYNs with no answer), from many sources: a SYN flood or a broken return path',
    remedy:
      'enable SYN cookies (net.ipv4.tcp_syncookies=1), size the backlog (listen() backlog, net.core.somaxconn, net.ipv4.tcp_max_syn_backlog), filter spoofed sources upstream',
  },
  'syn-unanswered': {
    severity: Severity.warning,
    meaning: 'SYNs toward a port got no answer in the capture: nothing listening and no RST, a filter dropping them, or the SYN-ACK lost',
    remedy: 'check that the service listens and that no firewall drops SYNs (or their answers) between the hosts',
  },
  'simultaneous-open': {
    severity: Severity.info,
    meaning: 'both ends sent a SYN before seeing the other’s: the SYNs crossed (RFC 9293 §3.5)',
    remedy: 'usually deliberate (NAT hole punching); otherwise two peers connecting to each other at once',
  },
  'simultaneous-close': {
    severity: Severity.info,
    meaning: 'both ends sent FIN before seeing the other’s: the FINs crossed and the endpoint passed through CLOSING',
    remedy: 'harmless: both sides end in TIME_WAIT',
  },
  'closing-stuck': {
    severity: Severity.warning,
    meaning: 'an endpoint stayed in CLOSING: its FIN crossed the peer’s, and the ACK of its FIN never came',
    remedy: 'the ACK of the FIN was lost or filtered: look for loss or a middlebox on the path',
  },
  'abortive-close': {
    severity: Severity.warning,
    meaning: 'the connection ended with RST instead of FIN (for example SO_LINGER {1,0}), and data still in flight was discarded',
    remedy: 'close with FIN unless aborting is intended; SO_LINGER {1,0} trades TIME_WAIT for an RST that loses unacknowledged data',
  },
  refused: {
    severity: Severity.info,
    meaning: 'a SYN was answered by RST+ACK: nothing listens on that port',
    remedy: 'start the service, or point the client at the right port',
  },
  'rst-out-of-window': {
    severity: Severity.warning,
    meaning:
      'an RST not at the sequence number the receiver expects next was ignored, as RFC 5961 §3 requires: outside the window it is dropped, inside it Linux answers with a challenge ACK; stale, spoofed or injected',
    remedy: 'if frequent, look for an RST injector or a middlebox resetting connections',
  },
  'dead-peer': {
    severity: Severity.warning,
    meaning: 'an endpoint retransmitted repeatedly without any answer, then reset or fell silent: the peer is gone or unreachable',
    remedy: 'the peer crashed, rebooted or lost its route; keepalive or application timeouts detect it sooner',
  },
  keepalive: {
    severity: Severity.info,
    meaning:
      'keepalive probes (a zero- or one-byte segment one below the next sequence number) and how the peer answered: ACK = alive, RST = restarted, nothing = gone',
    remedy: 'an unanswered or reset probe means the peer is gone or restarted: the application will get an error and must reconnect',
  },
  'zero-window': {
    severity: Severity.warning,
    meaning: 'an endpoint advertised a zero receive window: its application stopped reading; the peer sent persist probes',
    remedy: 'the receiving application is not reading fast enough (or is blocked): look at it, not at the network',
  },
  'port-reuse': {
    severity: Severity.info,
    meaning: 'a new connection reused a 4-tuple still in TIME_WAIT',
    remedy: 'normal under load (Linux accepts it when the ISN or timestamp is higher); frequent reuse means ephemeral ports run short',
  },
  'midstream-pickup': {
    severity: Severity.info,
    meaning: 'the capture started inside the connection: no SYN seen, states assumed ESTABLISHED and roles guessed',
    remedy: 'start the capture before the connections of interest open',
  },
  'one-direction-captured': {
    severity: Severity.warning,
    meaning:
      'the capture holds one direction of its connections (a SPAN port, an asymmetric route): an endpoint acknowledged segments its peer sent that the capture never showed; the ends’ states are inferred from the side captured',
    remedy: 'capture where both directions pass (both SPAN directions, a tap, or on one of the hosts)',
  },
  'capture-loss': {
    severity: Severity.warning,
    meaning: 'an endpoint acknowledged data the capture never contained: the capture dropped packets, so later states are inferred',
    remedy: 'capture with a larger buffer (tcpdump -B), a smaller snap length, or closer to the hosts',
  },
  'unexpected-segment': {
    severity: Severity.info,
    meaning: 'a segment that the endpoint’s state does not expect (RFC 9293); the state was kept',
    remedy: 'often a sign of capture loss, reordering, or a peer bug',
  },
  'half-open-evicted': {
    severity: Severity.warning,
    meaning:
      'more handshakes were unfinished at once than flowstate keeps in memory (--half-open-limit); the oldest were dropped and end as evicted',
    remedy: 'expected under a SYN flood; raise --half-open-limit if the capture is legitimate',
  },
  'memory-evicted': {
    severity: Severity.warning,
    meaning:
      'more connections were open at once than fit the memory budget (--memory); the least recently seen were written as they stood and dropped from memory (evicted); a later segment of one starts a new, midstream flow',
    remedy: 'raise --memory if the machine has it, or split the capture by connection (--shard K/N) or by time',
  },
} as const satisfies Record<string, FindingDefinition>;

export type FindingKind = keyof typeof FINDINGS;

export const FINDING_KINDS = Object.keys(FINDINGS) as FindingKind[];

/** Where the detectors draw their lines; each is a CLI option with this default. */
export interface DetectorThresholds {
  /** --close-wait-threshold: CLOSE_WAIT at least this long is a leak. */
  closeWaitSeconds: number;
  /** --fin-wait2-threshold: Linux's orphan timeout. */
  finWait2Seconds: number;
  /** --closing-threshold: CLOSING at least this long is stuck. */
  closingSeconds: number;
  /** --half-open-threshold: unfinished handshakes toward one listener that make a flood. */
  halfOpenCount: number;
  /** --dead-peer-retransmissions: unanswered retransmissions in a row. */
  deadPeerRetransmissions: number;
  /** --zero-window-threshold: zero-window time that is worth a warning (shorter ones are info). */
  zeroWindowSeconds: number;
  /** --time-wait-threshold: TIME_WAITs a server that closed first holds at once that make time-wait-pressure a warning (fewer: info). */
  timeWaitCount: number;
}

export const DEFAULT_THRESHOLDS: Readonly<DetectorThresholds> = {
  closeWaitSeconds: 5,
  finWait2Seconds: 60,
  closingSeconds: 5,
  halfOpenCount: 50,
  deadPeerRetransmissions: 3,
  zeroWindowSeconds: 1,
  timeWaitCount: 50,
};

/** A duration as a finding's message writes it: 2 decimals under 10 s, whole seconds above. */
export function secondsText(ns: number): string {
  return `${(ns / NS_PER_SECOND).toFixed(ns < 10 * NS_PER_SECOND ? 2 : 0)} s`;
}
