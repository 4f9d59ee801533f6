// The impaired corpus: the kernel lab's captures with defects made afterwards (frames
// removed at random, one direction kept, a late start), each scored against the
// kernel's answer, which the defect leaves unchanged. Used by `npm run scores`
// (scripts/scores.mjs) and test/impaired-captures.test.ts. Reads the built library (dist/).
//
// A decidable endpoint (docs/reconstruction.md, "Decidable endpoints"): one whose end state
// the captured segments prove. Every segment at which the reconstruction of the complete
// capture (which agrees with the kernel) moved the endpoint must be in the impaired copy,
// or be proven there by another kept segment:
// - a SYN, FIN or RST by its retransmission (same sender, same sequence number);
// - a SYN (and a SYN-ACK whole) by the receiver's ACK covering it; a FIN only by itself;
// - the ACK a segment carries by a later segment of the same sender acknowledging as much;
// a copy begun later decides an endpoint when its opening moves are proven so (a SYN-ACK
// proves the SYN it acknowledges), or when it begins where both ends were ESTABLISHED (the
// midstream assumption holds) and every move after that is.
// An endpoint whose last segment is its own RST, kept, is decided (CLOSED) by it.
// The kernel lab's `unrevealable` endpoints are never decidable.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../dist/analyze.js';
import { CollectedOutput } from '../dist/track/collect-output.js';
import { openCapture } from '../dist/capture/open-capture.js';
import { forEachFrame } from '../dist/capture/frame-stream.js';
import { PacketDecoder } from '../dist/decode/packet-decoder.js';
import { AddressNames, formatEndpoint } from '../dist/decode/format-address.js';

const SYN = 0x002;
const FIN = 0x001;
const RST = 0x004;
const ACK = 0x010;

/** The defects: a name, and which frames of the capture it keeps. */
export const IMPAIRMENTS = [
  ...[1, 2, 3].map((seed) => ({ name: `loss-1%#${seed}`, kind: 'loss 1 %', keep: lossKeeper(0.01, seed) })),
  ...[1, 2, 3].map((seed) => ({ name: `loss-5%#${seed}`, kind: 'loss 5 %', keep: lossKeeper(0.05, seed) })),
  { name: 'client-side-only', kind: 'one direction (client → server)', keep: (f) => f.fromClient !== false },
  { name: 'server-side-only', kind: 'one direction (server → client)', keep: (f) => f.fromClient !== true },
  ...[10, 30, 50].map((pct) => ({ name: `late-start-${pct}%`, kind: 'late start', keep: (f, i, n) => i >= Math.floor((n * pct) / 100) })),
];

/** Removes each frame with probability `rate`, from a seeded generator (mulberry32): the same frames every run. */
function lossKeeper(rate, seed) {
  return (_frame, index, _count, scenario) => random(`${scenario}#${seed}`, index) >= rate;
}

function random(key, index) {
  let h = 2166136261;
  for (const c of `${key}:${index}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  let t = h + 0x6d2b79f5;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Every frame of a capture, copied, with its TCP segment's facts. */
async function readFrames(path) {
  const reader = await openCapture(path, 0);
  const decoder = new PacketDecoder();
  const names = new AddressNames();
  const frames = [];
  try {
    await forEachFrame([reader], (frame) => {
      const bytes = Buffer.from(frame.data.subarray(frame.dataOffset, frame.dataOffset + frame.capturedLength));
      const entry = {
        frame: frame.frame,
        tsSec: frame.tsSec,
        tsNsec: frame.tsNsec,
        linkType: frame.linkType,
        originalLength: frame.originalLength,
        bytes,
        segment: null,
        fromClient: undefined,
        flowId: undefined,
      };
      if (decoder.decode(frame)) {
        const s = decoder.segment;
        entry.segment = {
          src: formatEndpoint(names.source(s), s.srcPort),
          dst: formatEndpoint(names.destination(s), s.dstPort),
          flags: s.flags,
          seq: s.seq >>> 0,
          ack: s.ack >>> 0,
          length: s.payloadLength,
        };
      }
      frames.push(entry);
    });
  } finally {
    await reader.close();
  }
  return frames;
}

/** A classic pcap (nanosecond) of `frames`. */
function pcapOf(frames) {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b23c4d, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(frames[0]?.linkType ?? 1, 20);
  const parts = [header];
  for (const f of frames) {
    const record = Buffer.alloc(16);
    record.writeUInt32LE(f.tsSec, 0);
    record.writeUInt32LE(f.tsNsec, 4);
    record.writeUInt32LE(f.bytes.length, 8);
    record.writeUInt32LE(f.originalLength, 12);
    parts.push(record, f.bytes);
  }
  return Buffer.concat(parts);
}

/** flowstate on one capture: the flows, transitions and which flow each frame belonged to. */
async function reconstruct(path) {
  const collected = new CollectedOutput();
  const byFrame = new Map();
  await analyzeCapture([path], collected, {
    onSegment: (flowId, fromClient, _segment, frame) => byFrame.set(frame.frame, { flowId, fromClient }),
  });
  const endpoints = new Map(); // "local|remote" → latest instance
  for (const flow of [...collected.flows].sort((a, b) => a.id - b.id)) {
    for (const role of ['client', 'server']) {
      const me = flow[role];
      const peer = role === 'client' ? flow.server : flow.client;
      endpoints.set(`${formatEndpoint(me.ip, me.port)}|${formatEndpoint(peer.ip, peer.port)}`, {
        flow,
        role,
        state: me.state,
        inferred: me.stateInferred,
      });
    }
  }
  return { collected, byFrame, endpoints };
}

/** The kernel's end state of every connection endpoint it had: ss, else CLOSED after its last transition. */
function kernelEndStates(expectation) {
  const states = new Map();
  for (const t of expectation.kernel_transitions) if (!t.remote.endsWith(':*')) states.set(`${t.local}|${t.remote}`, 'CLOSED');
  for (const s of expectation.ss) if (s.state !== 'LISTEN') states.set(`${s.local}|${s.remote}`, s.state);
  return states;
}

const seqGe = (a, b) => ((a - b) | 0) >= 0;

/** Whether the facts of the (removed) segment at `f` are proven by the kept segments of its flow. */
function proven(f, kept, flowFrames) {
  if (kept.has(f.frame)) return true;
  const s = f.segment;
  const same = (g) => g.fromClient === f.fromClient;
  const others = flowFrames.filter((g) => kept.has(g.frame));
  const ctrlSeq = (seg) => (seg.seq + seg.length + (seg.flags & SYN ? 1 : 0)) >>> 0;
  const receiverAcks = (point) =>
    others.some((g) => !same(g) && g.segment.flags & ACK && !(g.segment.flags & RST) && seqGe(g.segment.ack, point));
  // An RST resets only at the receiver's RCV.NXT: its sender's data before it must be there to judge it.
  if (s.flags & RST) return false;
  if (s.flags & SYN) {
    const resent = others.some((g) => same(g) && g.segment.flags & SYN && g.segment.seq === s.seq);
    // A SYN-ACK is proven whole by the client's ACK of it: SYN_SENT answers nothing else with an ACK (RFC 9293 §3.10.7.3).
    if (resent || receiverAcks((s.seq + 1) >>> 0)) return true;
    return false;
  }
  if (s.flags & FIN) {
    const finSeq = ctrlSeq(s);
    // Only the FIN itself proves a FIN: an ACK covering its sequence number proves only that something
    // was sent there (a lost one-byte segment looks the same).
    const finProven = others.some((g) => same(g) && g.segment.flags & FIN && ctrlSeq(g.segment) === finSeq);
    if (!finProven) return false;
  }
  if (s.flags & ACK) return others.some((g) => same(g) && g.segment.flags & ACK && !(g.segment.flags & RST) && seqGe(g.segment.ack, s.ack));
  return true;
}

/**
 * Scores one scenario: the complete capture's reconstruction, then each impaired copy's,
 * per kernel endpoint. Copies are written under `dir`.
 */
export async function scoreScenario(capturePath, expectationPath, dir, impairments = IMPAIRMENTS) {
  const expectation = JSON.parse(readFileSync(expectationPath, 'utf8'));
  const frames = await readFrames(capturePath);
  const clean = await reconstruct(capturePath);
  for (const f of frames) Object.assign(f, clean.byFrame.get(f.frame) ?? {});
  const kernel = kernelEndStates(expectation);
  const unrevealable = new Set(expectation.unrevealable.map((u) => `${u.local}|${u.remote}`));
  const framesOfFlow = new Map();
  for (const f of frames) if (f.flowId !== undefined) framesOfFlow.set(f.flowId, [...(framesOfFlow.get(f.flowId) ?? []), f]);
  const byNumber = new Map(frames.map((f) => [f.frame, f]));
  const transitionsOf = new Map();
  for (const t of clean.collected.transitions) {
    const k = `${t.flowId}:${t.endpoint}`;
    transitionsOf.set(k, [...(transitionsOf.get(k) ?? []), t]);
  }
  const results = [];
  for (const impairment of impairments) {
    const keptFrames = frames.filter((f, i) => impairment.keep(f, i, frames.length, expectation.scenario));
    const kept = new Set(keptFrames.map((f) => f.frame));
    const path = join(dir, `${expectation.scenario}.${impairment.name.replace(/[^a-z0-9-]/gi, '_')}.pcap`);
    writeFileSync(path, pcapOf(keptFrames));
    const ours = keptFrames.length > 0 ? await reconstruct(path) : { endpoints: new Map(), collected: new CollectedOutput() };
    const endpoints = [];
    for (const [key, kernelState] of kernel) {
      const before = clean.endpoints.get(key);
      const known = before !== undefined && before.state === kernelState && !unrevealable.has(key);
      const decision = known ? decides(before, kept, framesOfFlow.get(before.flow.id) ?? [], transitionsOf, byNumber) : NOT_DECIDED;
      const after = ours.endpoints.get(key);
      endpoints.push({
        key,
        kernel: kernelState,
        decidable: decision.end,
        historyDecided: decision.history,
        state: after?.state ?? 'UNKNOWN',
        inferred: after?.inferred ?? true,
      });
    }
    // netstat --at T needs each state along the way, not only the end one.
    const decided = new Set(endpoints.filter((e) => e.historyDecided).map((e) => e.key));
    results.push({
      scenario: expectation.scenario,
      impairment: impairment.name,
      kind: impairment.kind,
      frames: frames.length,
      kept: kept.size,
      endpoints,
      netstatError: netstatError(kernel, ours),
      instants: netstatAtInstants(ours, decided, frames, kept, clean),
    });
  }
  return results;
}

const NOT_DECIDED = { end: false, history: false };

/**
 * The decidable-endpoint rule, for one endpoint of the complete capture's reconstruction: whether the
 * copy decides its end state, and whether it decides every state along the way.
 */
function decides(endpoint, kept, flowFrames, transitionsOf, byNumber) {
  const history = historyProven(endpoint, kept, flowFrames, transitionsOf, byNumber);
  // Its own RST, kept and its last segment, decides it CLOSED whatever came before: a sender of an RST
  // keeps no connection (an abort, or the reply of a socket already gone).
  const lastOwn = flowFrames.filter((f) => f.fromClient === (endpoint.role === 'client')).at(-1);
  const endByRst = lastOwn !== undefined && (lastOwn.segment.flags & RST) !== 0 && kept.has(lastOwn.frame);
  return { end: history || endByRst, history };
}

/** Whether the copy proves every move of the endpoint (from where it can begin the connection). */
function historyProven(endpoint, kept, flowFrames, transitionsOf, byNumber) {
  const first = flowFrames.find((f) => kept.has(f.frame));
  if (first === undefined) return false;
  const mine = transitionsOf.get(`${endpoint.flow.id}:${endpoint.role}`) ?? [];
  const peer = transitionsOf.get(`${endpoint.flow.id}:${endpoint.role === 'client' ? 'server' : 'client'}`) ?? [];
  if (movesProven(endpoint, mine, 0, kept, flowFrames, byNumber)) return true;
  if (first === flowFrames[0]) return false;
  // Begun later, its opening not proven: only where both ends were ESTABLISHED may the copy start (the midstream assumption).
  const stateAt = (list) => list.filter((t) => t.frame !== null && t.frame < first.frame).at(-1)?.toState ?? 'UNKNOWN';
  if (stateAt(mine) !== 'ESTABLISHED' || stateAt(peer) !== 'ESTABLISHED') return false;
  return movesProven(endpoint, mine, first.frame, kept, flowFrames, byNumber);
}

/** Whether every move of the endpoint from frame `from` on is in the copy or proven there, and no FIN it waited on is left in doubt. */
function movesProven(endpoint, mine, from, kept, flowFrames, byNumber) {
  const isMine = (f) => f.fromClient === (endpoint.role === 'client');
  for (const t of mine) {
    if (t.frame === null || t.frame < from) continue; // a timer, or before the copy begins
    const f = byNumber.get(t.frame);
    if (f === undefined || f.segment === null || !proven(f, kept, flowFrames)) return false;
    if (
      f.segment.flags & RST &&
      flowFrames.some((g) => g.frame < f.frame && g.fromClient === f.fromClient && g.segment.length > 0 && !kept.has(g.frame))
    )
      return false;
    // Taken when its own segment showed it (crossing FINs): the peer's FIN must be there too.
    if (t.event.startsWith('RECV_FIN') && isMine(f) && !flowFrames.some((g) => !isMine(g) && g.segment.flags & FIN && kept.has(g.frame)))
      return false;
  }
  // A FIN that did not move it (held behind a hole, never arrived) is decided by its own segments after it.
  const peerFin = flowFrames.find((g) => !isMine(g) && g.segment.flags & FIN);
  if (peerFin !== undefined && !mine.some((t) => t.event.startsWith('RECV_FIN')))
    if (flowFrames.some((g) => isMine(g) && g.frame > peerFin.frame && !kept.has(g.frame))) return false;
  return true;
}

/** netstat at the capture's end, per state: Σ |ours − kernel's| over the states (LISTEN left out). */
function netstatError(kernel, ours) {
  const count = (states) => {
    const m = new Map();
    for (const s of states) if (s !== 'CLOSED' && s !== 'UNKNOWN' && s !== 'LISTEN') m.set(s, (m.get(s) ?? 0) + 1);
    return m;
  };
  const k = count(kernel.values());
  const o = count([...ours.endpoints.values()].map((e) => e.state));
  let error = 0;
  for (const s of new Set([...k.keys(), ...o.keys()])) error += Math.abs((k.get(s) ?? 0) - (o.get(s) ?? 0));
  return error;
}

/** The states `netstat --at T --summary` is held to (docs/impaired-captures.md). */
const INSTANT_STATES = new Set(['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSING']);
const SLACK_NS = 50_000_000n;

/** The moves of the endpoints `keys` ("local|remote", their latest connection on that 4-tuple) in a reconstruction. */
function movesOf(reconstruction, keys) {
  const wanted = new Map();
  for (const key of keys) {
    const e = reconstruction.endpoints.get(key);
    if (e !== undefined) wanted.set(`${e.flow.id}:${e.role}`, key);
  }
  const moves = [];
  for (const t of reconstruction.collected.transitions) {
    const key = wanted.get(`${t.flowId}:${t.endpoint}`);
    if (key !== undefined) moves.push({ key, at: t.tsNs, to: t.toState });
  }
  return moves;
}

/**
 * `netstat --at T --summary` on the copy against what a perfect wire-only observer counts: the complete
 * capture's reconstruction (which agrees with the kernel), over the endpoints the copy decides, each from the
 * copy's first segment of its connection (before it the copy shows nothing to count). At instants
 * halfway between consecutive frames of the complete capture and at its end: Σ over INSTANT_STATES of
 * |the copy's count − the complete capture's|, and the allowance: the segments of those endpoints'
 * connections within 50 ms of the instant.
 */
function netstatAtInstants(ours, decided, frames, kept, clean) {
  const reference = movesOf(clean, decided);
  const observed = movesOf(ours, decided);
  const decidedFlows = new Set([...decided].map((key) => clean.endpoints.get(key)?.flow.id));
  const timeOf = (f) => BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec);
  // An observer of the copy can count a connection only once the copy shows it.
  const shownFrom = new Map();
  for (const key of decided) {
    const flowId = clean.endpoints.get(key)?.flow.id;
    const first = frames.find((f) => f.flowId === flowId && kept.has(f.frame));
    if (first !== undefined) shownFrom.set(key, timeOf(first));
  }
  const times = frames.map(timeOf);
  const segmentTimes = frames.filter((f) => decidedFlows.has(f.flowId)).map(timeOf);
  const instants = times.slice(1).map((t, i) => (times[i] + t) / 2n);
  if (times.length > 0) instants.push(times.at(-1));
  const countAt = (moves, at) => {
    const state = new Map();
    for (const m of moves) if (m.at <= at && shownFrom.get(m.key) <= at) state.set(m.key, m.to);
    const counts = new Map();
    for (const s of state.values()) if (INSTANT_STATES.has(s)) counts.set(s, (counts.get(s) ?? 0) + 1);
    return counts;
  };
  return instants.map((at) => {
    const want = countAt(reference, at);
    const got = countAt(observed, at);
    let error = 0;
    for (const s of INSTANT_STATES) error += Math.abs((want.get(s) ?? 0) - (got.get(s) ?? 0));
    const allowance = segmentTimes.filter((t) => t >= at - SLACK_NS && t <= at + SLACK_NS).length;
    return { at, error, allowance };
  });
}

/** How an endpoint scores: decidable ones right, inferred-right, unknown or wrong; undecidable ones marked or not. */
export function verdict(e) {
  const unknown = e.state === 'UNKNOWN';
  if (e.decidable) {
    if (unknown) return 'unknown';
    if (e.state !== e.kernel) return 'wrong';
    return e.inferred ? 'inferred-right' : 'right';
  }
  if (unknown || e.inferred) return 'undecidable-marked';
  return e.state === e.kernel ? 'undecidable-unmarked-right' : 'undecidable-unmarked-wrong';
}

/** Every lab scenario with its kernel answer, scored. */
export async function scoreCorpus(capturesDir, dir, impairments = IMPAIRMENTS) {
  mkdirSync(dir, { recursive: true });
  const all = [];
  for (const file of readdirSync(capturesDir)
    .filter((f) => f.endsWith('.expected.json'))
    .sort()) {
    const expectation = JSON.parse(readFileSync(join(capturesDir, file), 'utf8'));
    all.push(...(await scoreScenario(join(capturesDir, expectation.capture), join(capturesDir, file), dir, impairments)));
  }
  return all;
}
