/**
 * What each host's TCP stack was set to, read from what it did on the wire
 * (issue 32). Pure: FlowFacts (host-observer.ts) in, one HostProfile per host out.
 *
 * The schedules are Linux's, as in net/ipv4/tcp_timer.c (6.x):
 * - SYN: initial RTO 1 s; the first `tcp_syn_linear_timeouts` (default 4)
 *   retransmissions keep it, then it doubles (at most 120 s). Before each
 *   retransmission `tcp_write_timeout` gives up when the retransmissions reach
 *   tcp_syn_retries + tcp_syn_linear_timeouts, or when the time since the first
 *   SYN reaches the budget `tcp_model_timeout(tcp_syn_retries, 1 s)` =
 *   (2^(N+1) − 1) s for N ≤ 6, 127 s + (N − 6) × 120 s above. The give-up sends
 *   nothing: it is visible only as the next SYN missing from a capture that
 *   goes on past its time.
 * - SYN-ACK (reqsk_timer_handler): 1 s doubling each time; the request is
 *   dropped after tcp_synack_retries retransmissions (fewer when the listen
 *   queue is more than half full).
 * - Keepalive (tcp_keepalive_timer): the first probe once nothing was received
 *   for tcp_keepalive_time, then one every tcp_keepalive_intvl while
 *   unanswered; an RST when tcp_keepalive_probes went unanswered. An answered
 *   probe starts the idle time again.
 * - Timers fire late: the timer wheel rounds an expiry up to its level's
 *   granularity, at most 1/8 of the timeout, plus a tick or two.
 */
import type { FlowFacts, KeepaliveProbe, Sent, SideFacts, SynFacts } from './host-observer.js';

export type Certainty = 'exact' | 'lower_bound' | 'consistent';

export interface SettingEvidence {
  flow: number;
  /** Frame numbers (1-based, in their capture file) that show it. */
  frames: number[];
}

export interface HostSetting {
  value: number;
  certainty: Certainty;
  evidence: SettingEvidence[];
  /** Linux's default for the setting, where there is one. */
  linux_default?: number;
  note?: string;
}

export interface OsGuess {
  /** "Linux", "macOS or FreeBSD", "Windows", …; null when the evidence fits none. */
  family: string | null;
  initial_ttl: number;
  hops: number;
  basis: string;
  evidence: SettingEvidence[];
}

export interface SynAnnouncement {
  mss: number | null;
  window: number;
  window_scale: number | null;
  sack: boolean;
  timestamps: boolean;
  ecn: boolean;
  ttl: number;
  /** "SYN" (the host connected) or "SYN-ACK" (it answered: its options follow what the client offered). */
  from: 'SYN' | 'SYN-ACK';
  flow: number;
  frame: number;
}

export interface HostProfile {
  host: string;
  settings: Record<string, HostSetting>;
  os: OsGuess | null;
  syn: SynAnnouncement | null;
}

export const LINUX_DEFAULTS: Readonly<Record<string, number>> = {
  tcp_syn_retries: 6,
  tcp_synack_retries: 5,
  tcp_syn_linear_timeouts: 4,
  tcp_keepalive_time: 7200,
  tcp_keepalive_intvl: 75,
  tcp_keepalive_probes: 9,
  tcp_timestamps: 1,
  tcp_sack: 1,
  tcp_window_scaling: 1,
  tcp_ecn: 2,
};

/** How late a Linux timer of `seconds` may fire: 1/8 of it (timer-wheel granularity) plus ticks and capture jitter. */
const lateBy = (seconds: number): number => seconds / 8 + 0.06;
/** How early it may look: capture timestamps jitter a little. */
const EARLY = 0.02;
const RTO_MAX = 120;
const MAX_SYN_RETRIES = 40;
const MAX_LINEAR_TIMEOUTS = 10;

interface Claim {
  value: number;
  certainty: Certainty;
  evidence: SettingEvidence;
  note?: string;
}

const evidenceOf = (flow: number, sent: readonly Sent[]): SettingEvidence => ({ flow, frames: sent.map((s) => s.frame) });

/** Whole seconds V a timer of V s could have produced after `gap` seconds: [low, high]. */
function timerRange(gap: number): [number, number] {
  return [Math.max(1, Math.ceil((gap - 0.06) / 1.125 - 1e-9)), Math.floor(gap + EARLY)];
}

/** Linux's SYN give-up budget in seconds for tcp_syn_retries = n (tcp_model_timeout with a 1 s base). */
function synBudget(n: number): number {
  const linearThresh = Math.floor(Math.log2(RTO_MAX));
  return n <= linearThresh ? 2 ** (n + 1) - 1 : 2 ** (linearThresh + 1) - 1 + (n - linearThresh) * RTO_MAX;
}

type GiveUp = 'yes' | 'no' | 'maybe';

/**
 * Whether the SYN times `times` (seconds since the first) fit Linux with tcp_syn_retries = n and
 * tcp_syn_linear_timeouts = l, given when the SYN was answered (or the capture ended: `answered` false).
 */
function synFits(times: readonly number[], n: number, l: number, until: number, answered: boolean): { fits: boolean; gaveUp: boolean } {
  let rto = 1;
  let retransmissions = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    if (gap < rto - EARLY || gap > rto + lateBy(rto)) return { fits: false, gaveUp: false };
    // The check before this retransmission did not give up.
    if (retransmissions >= n + l || times[i] >= synBudget(n) + EARLY) return { fits: false, gaveUp: false };
    retransmissions++;
    if (retransmissions > l) rto = Math.min(rto * 2, RTO_MAX);
  }
  const last = times[times.length - 1];
  const earliest = last + rto;
  const latest = last + rto + lateBy(rto);
  const giveUp: GiveUp = retransmissions >= n + l || earliest >= synBudget(n) ? 'yes' : latest + EARLY < synBudget(n) ? 'no' : 'maybe';
  if (giveUp === 'no' && until > latest) return { fits: false, gaveUp: false }; // a SYN is missing
  return { fits: true, gaveUp: !answered && giveUp !== 'no' && until > latest };
}

function synClaims(flow: FlowFacts, captureEnd: number): Array<[string, Claim]> {
  const syns = flow.client.syns;
  // One SYN shows no timer: its "give-up" may be the application closing, or an answer the capture missed.
  if (syns.length < 2) return [];
  const t0 = syns[0].t;
  const times = syns.map((s) => s.t - t0);
  const answered = flow.serverAnswered !== null;
  const until = (answered ? flow.serverAnswered!.t : captureEnd) - t0;
  const fitting: Array<[number, number, boolean]> = [];
  for (let l = 0; l <= MAX_LINEAR_TIMEOUTS; l++)
    for (let n = 0; n <= MAX_SYN_RETRIES; n++) {
      const fit = synFits(times, n, l, until, answered);
      if (fit.fits) fitting.push([n, l, fit.gaveUp]);
    }
  const evidence = evidenceOf(flow.flowId, syns);
  const schedule = `SYNs at ${times.map((t) => t.toFixed(2)).join(', ')} s`;
  // No Linux schedule fits (another system, or a socket's own initial RTO): no claim.
  if (fitting.length === 0) return [];
  const claims: Array<[string, Claim]> = [];
  const ns = [...new Set(fitting.map((f) => f[0]))].sort((a, b) => a - b);
  const ls = [...new Set(fitting.map((f) => f[1]))].sort((a, b) => a - b);
  const gaveUp = fitting.every((f) => f[2]);
  const ending = answered
    ? 'then the connection was answered'
    : gaveUp
      ? `then no SYN though the capture goes on ${(until - times[times.length - 1]).toFixed(1)} s after the last: the kernel gave up (an application's own connect timeout at that moment would look the same)`
      : 'then the capture ends before a give-up could show';
  const override = '; a per-socket TCP_SYNCNT overrides it and looks the same';
  const n = 'tcp_syn_retries';
  if (gaveUp && ns.length === 1)
    claims.push([n, { value: ns[0], certainty: 'exact', evidence, note: `${schedule}, ${ending}${override}` }]);
  else if (gaveUp)
    claims.push([n, { value: ns[0], certainty: 'consistent', evidence, note: `${schedule}, ${ending}; fits ${ns.join(', ')}${override}` }]);
  else if (syns.length > 1 && ns[0] > 0)
    claims.push([n, { value: ns[0], certainty: 'lower_bound', evidence, note: `${schedule}, ${ending}${override}` }]);
  // The linear phase shows once the doubling starts, or once the give-up ends it.
  if (syns.length > 1 && (ls.length === 1 || ls[0] > 0)) {
    const lNote = `${schedule}: the first retransmissions 1 s apart, then doubling`;
    const l = 'tcp_syn_linear_timeouts';
    // One value fits: the doubling (or the give-up) after the linear retransmissions is in the capture.
    if (ls.length === 1) claims.push([l, { value: ls[0], certainty: 'exact', evidence, note: lNote }]);
    else claims.push([l, { value: ls[0], certainty: 'lower_bound', evidence, note: lNote }]);
  }
  return claims;
}

function synackClaim(flow: FlowFacts, captureEnd: number): Claim | null {
  const sent = flow.server.syns;
  if (sent.length < 2 || flow.server.synsAnsweringPeer > 0 || flow.client.syns.length > 1) return null;
  const t0 = sent[0].t;
  let rto = 1;
  for (let i = 1; i < sent.length; i++) {
    const gap = sent[i].t - sent[i - 1].t;
    if (gap < rto - EARLY || gap > rto + lateBy(rto)) return null;
    rto = Math.min(rto * 2, RTO_MAX);
  }
  const retransmissions = sent.length - 1;
  const last = sent[sent.length - 1].t;
  const acked = flow.clientAcked !== null;
  const gaveUp = !acked && captureEnd > last + rto + lateBy(rto);
  const schedule = `SYN-ACKs at ${sent.map((s) => (s.t - t0).toFixed(2)).join(', ')} s`;
  const note = `${schedule}, ${gaveUp ? 'then none though the capture goes on: the request was dropped' : acked ? 'then the client acknowledged' : 'then the capture ends'}; a listener under load (queue more than half full) retries less, and TCP_SYNCNT on the listener overrides it`;
  return { value: retransmissions, certainty: gaveUp ? 'exact' : 'lower_bound', evidence: evidenceOf(flow.flowId, sent), note };
}

/** The keepalive settings one prober's probes in one flow show. */
function keepaliveClaims(flow: FlowFacts, prober: SideFacts): Map<string, Claim> {
  const out = new Map<string, Claim>();
  const probes = prober.probes;
  if (probes.length === 0) return out;
  const id = flow.flowId;
  const override = 'per-socket TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT override the sysctls and look the same';
  // Idle before a probe that starts a run: after an answered probe it is exact, else at most.
  for (let i = 0; i < probes.length; i++) {
    const previous = i > 0 ? probes[i - 1] : undefined;
    if (previous !== undefined && previous.answer === undefined) continue;
    const p = probes[i];
    const [low, high] = timerRange(p.idle);
    if (low > high) continue;
    const afterAnswer = previous?.answer === 'ack';
    const claim: Claim = {
      value: high,
      certainty: afterAnswer && low === high ? 'exact' : 'consistent',
      evidence: { flow: id, frames: afterAnswer && previous.answerAt ? [previous.answerAt.frame, p.frame] : [p.frame] },
      note: `${p.idle.toFixed(2)} s without a segment from the peer before the probe${afterAnswer ? ' (after an answered probe)' : ': at most this, as the keepalive timer may have been armed after the last segment'}; ${override}`,
    };
    const known = out.get('tcp_keepalive_time');
    if (known === undefined || rank(claim) > rank(known)) out.set('tcp_keepalive_time', claim);
  }
  // Intervals between unanswered probes, and from the last unanswered one to the RST at give-up.
  const gaps: number[] = [];
  const frames: number[] = [];
  let run: KeepaliveProbe[] = [];
  let runs: KeepaliveProbe[][] = [];
  for (const p of probes) {
    if (run.length > 0 && run[run.length - 1].answer !== undefined) {
      runs.push(run);
      run = [];
    }
    run.push(p);
  }
  runs.push(run);
  runs = runs.filter((r) => r.length > 0);
  for (const r of runs)
    for (let i = 1; i < r.length; i++) {
      gaps.push(r[i].t - r[i - 1].t);
      frames.push(r[i - 1].frame, r[i].frame);
    }
  const lastRun = runs[runs.length - 1];
  const lastProbe = lastRun[lastRun.length - 1];
  const reset = prober.rst !== null && prober.rst.t > lastProbe.t && lastProbe.answer === undefined ? prober.rst : null;
  if (reset !== null) {
    gaps.push(reset.t - lastProbe.t);
    frames.push(lastProbe.frame, reset.frame);
  }
  if (gaps.length > 0) {
    let low = 1;
    let high = Infinity;
    for (const g of gaps) {
      const [l, h] = timerRange(g);
      low = Math.max(low, l);
      high = Math.min(high, h);
    }
    if (low <= high)
      out.set('tcp_keepalive_intvl', {
        value: high,
        certainty: low === high ? 'exact' : 'consistent',
        evidence: { flow: id, frames: [...new Set(frames)] },
        note: `unanswered probes ${gaps.map((g) => g.toFixed(2)).join(', ')} s apart${low < high ? ` (a late timer allows ${low}–${high} s)` : ''}; ${override}`,
      });
  }
  const count = lastRun.filter((p) => p.answer === undefined).length + (lastProbe.answer === 'ack' ? 1 : 0);
  if (reset !== null)
    out.set('tcp_keepalive_probes', {
      value: count,
      certainty: 'exact',
      evidence: { flow: id, frames: [...lastRun.map((p) => p.frame), reset.frame] },
      note: `${count} unanswered probe${count === 1 ? '' : 's'}, then an RST from the prober: it gave up; ${override}; TCP_USER_TIMEOUT would end it by time instead`,
    });
  else if (count > 0)
    out.set('tcp_keepalive_probes', {
      value: count,
      certainty: 'lower_bound',
      evidence: { flow: id, frames: lastRun.map((p) => p.frame) },
      note: `${count} probe${count === 1 ? '' : 's'} in a run, ${lastProbe.answer === 'ack' ? 'the last answered' : 'then the capture ends without a give-up'}; ${override}`,
    });
  return out;
}

const rank = (c: Claim): number => (c.certainty === 'exact' ? 2 : c.certainty === 'consistent' ? 1 : 0);

/** The better of two claims on one setting: exact over consistent over lower bound; the larger lower bound. */
function better(a: Claim, b: Claim): boolean {
  if (rank(a) !== rank(b)) return rank(a) > rank(b);
  return a.certainty === 'lower_bound' && a.value > b.value;
}

function initialTtl(ttl: number): number {
  return ttl <= 32 ? 32 : ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
}

function osGuess(syn: SynFacts, from: 'SYN' | 'SYN-ACK', flow: number): OsGuess {
  const initial = initialTtl(syn.ttl);
  const ttlName = syn.ipVersion === 6 ? 'hop limit' : 'TTL';
  let family: string | null = null;
  let basis = `initial ${ttlName} ${initial}`;
  if (initial === 64 && syn.timestamps && syn.sackPermitted && syn.windowScale >= 2 && syn.window !== 65535) {
    family = 'Linux';
    basis += `, SACK, timestamps and window scale ${syn.windowScale} announced, window ${syn.window}: consistent with Linux (2.6 or later), not proof of it`;
  } else if (initial === 64 && syn.timestamps && syn.window === 65535 && syn.windowScale >= 0) {
    family = 'macOS or FreeBSD';
    basis += `, window 65535 with scale ${syn.windowScale} and timestamps: consistent with macOS or FreeBSD`;
  } else if (initial === 128) {
    family = 'Windows';
    basis += `: consistent with Windows${syn.timestamps ? '' : ' (no timestamps, as Windows by default)'}`;
  } else if (initial === 255) {
    family = 'network equipment or Solaris';
    basis += ': consistent with Solaris or network equipment (load balancers, routers)';
  } else basis += ': fits no family we know';
  if (from === 'SYN-ACK') basis += '; read from a SYN-ACK, whose options answer what the client offered';
  return { family, initial_ttl: initial, hops: initial - syn.ttl, basis, evidence: [{ flow, frames: [syn.frame] }] };
}

function announcement(syn: SynFacts, from: 'SYN' | 'SYN-ACK', flow: number): SynAnnouncement {
  return {
    mss: syn.mss >= 0 ? syn.mss : null,
    window: syn.window,
    window_scale: syn.windowScale >= 0 ? syn.windowScale : null,
    sack: syn.sackPermitted,
    timestamps: syn.timestamps,
    ecn: from === 'SYN' ? syn.ece && syn.cwr : syn.ece,
    ttl: syn.ttl,
    from,
    flow,
    frame: syn.frame,
  };
}

function optionClaims(syn: SynFacts, flow: number): Map<string, Claim> {
  const out = new Map<string, Claim>();
  const evidence = { flow, frames: [syn.frame] };
  const say = (name: string, value: number, note: string): void => {
    out.set(name, {
      value,
      certainty: 'consistent',
      evidence,
      note: `${note}; a middlebox may rewrite SYN options, and routes may override`,
    });
  };
  say('tcp_timestamps', syn.timestamps ? 1 : 0, syn.timestamps ? 'the SYN carries timestamps' : 'the SYN carries no timestamps');
  say('tcp_sack', syn.sackPermitted ? 1 : 0, syn.sackPermitted ? 'the SYN offers SACK' : 'the SYN does not offer SACK');
  say(
    'tcp_window_scaling',
    syn.windowScale >= 0 ? 1 : 0,
    syn.windowScale >= 0 ? `the SYN announces window scale ${syn.windowScale}` : 'the SYN announces no window scale',
  );
  if (syn.ece && syn.cwr) say('tcp_ecn', 1, 'the SYN requests ECN (ECE and CWR): tcp_ecn = 1 (or ECN enabled on the route)');
  else say('tcp_ecn', 2, 'the SYN does not request ECN: tcp_ecn is 0 or 2 (2, the default, answers ECN without requesting it)');
  return out;
}

/** One profile per host seen in `flows`, addresses in first-seen order; `captureEnd` in seconds since the epoch. */
export function inferHostProfiles(flows: readonly FlowFacts[], captureEnd: number): HostProfile[] {
  const claims = new Map<string, Map<string, Claim[]>>();
  const syns = new Map<string, { syn: SynFacts; from: 'SYN' | 'SYN-ACK'; flow: number }>();
  const order: string[] = [];
  const host = (ip: string): Map<string, Claim[]> => {
    let m = claims.get(ip);
    if (m === undefined) {
      m = new Map();
      claims.set(ip, m);
      order.push(ip);
    }
    return m;
  };
  const add = (ip: string, name: string, claim: Claim): void => {
    const m = host(ip);
    const list = m.get(name) ?? [];
    list.push(claim);
    m.set(name, list);
  };
  for (const flow of flows) {
    host(flow.client.ip);
    host(flow.server.ip);
    for (const [name, claim] of synClaims(flow, captureEnd)) add(flow.client.ip, name, claim);
    const synack = synackClaim(flow, captureEnd);
    if (synack !== null) add(flow.server.ip, 'tcp_synack_retries', synack);
    for (const side of [flow.client, flow.server]) for (const [name, claim] of keepaliveClaims(flow, side)) add(side.ip, name, claim);
    if (flow.client.firstSyn !== null) {
      const known = syns.get(flow.client.ip);
      if (known === undefined || known.from === 'SYN-ACK')
        syns.set(flow.client.ip, { syn: flow.client.firstSyn, from: 'SYN', flow: flow.flowId });
      if (known === undefined || known.from === 'SYN-ACK')
        for (const [name, claim] of optionClaims(flow.client.firstSyn, flow.flowId)) add(flow.client.ip, name, claim);
    }
    if (flow.server.firstSyn !== null && !syns.has(flow.server.ip))
      syns.set(flow.server.ip, { syn: flow.server.firstSyn, from: 'SYN-ACK', flow: flow.flowId });
  }
  return order.map((ip) => {
    const settings: Record<string, HostSetting> = {};
    for (const [name, list] of [...claims.get(ip)!].sort(([a], [b]) => a.localeCompare(b))) {
      let best = list[0];
      for (const c of list) if (better(c, best)) best = c;
      const agreeing = list.filter((c) => c.value === best.value && c.certainty === best.certainty);
      const disagreeing = list.filter((c) => c.certainty !== 'lower_bound' && best.certainty !== 'lower_bound' && c.value !== best.value);
      const setting: HostSetting = {
        value: best.value,
        certainty: best.certainty,
        evidence: agreeing.slice(0, 5).map((c) => c.evidence),
      };
      if (LINUX_DEFAULTS[name] !== undefined) setting.linux_default = LINUX_DEFAULTS[name];
      let note = best.note ?? '';
      if (agreeing.length > 1) note += `; ${agreeing.length} connections agree`;
      if (disagreeing.length > 0)
        note += `; ${disagreeing.length} other connection${disagreeing.length === 1 ? '' : 's'} showed ${[...new Set(disagreeing.map((c) => c.value))].join(', ')} (per-socket options?)`;
      if (note !== '') setting.note = note;
      settings[name] = setting;
    }
    const syn = syns.get(ip);
    return {
      host: ip,
      settings,
      os: syn === undefined ? null : osGuess(syn.syn, syn.from, syn.flow),
      syn: syn === undefined ? null : announcement(syn.syn, syn.from, syn.flow),
    };
  });
}
