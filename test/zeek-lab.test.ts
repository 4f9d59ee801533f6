// Zeek's conn_state and history for the lab captures (captures/, docs/lab.md),
// each expectation reasoned from Zeek's documented rules (docs/zeek.md, which
// follows Zeek's TCPSessionAdapter and conn/main.zeek) and from the packets as
// tcpdump shows them (tcpdump -nr FILE -S -#). History letters: upper case for
// the originator (the client: sender of the first bare SYN), lower case for the
// responder; S/H share a slot (once per direction, again only for a new
// sequence number), A/D once per direction, F/R once (again only at a new
// place), W logarithmic (1st, 10th, 100th …).
import { describe, expect, test } from 'vitest';
import { TcpFlag } from '../src/decode/tcp-segment.js';
import { analyzeCapture } from '../src/analyze.js';
import { CollectedOutput } from '../src/track/collect-output.js';
import type { FlowRecord } from '../src/track/records.js';
import { type DecodedPacket, packetsOf } from './helpers/decode-file.js';
import { LAB_SCENARIOS, lab } from './helpers/paths.js';

const flowsCache = new Map<string, Promise<FlowRecord[]>>();

/** The flows of a lab capture, in the order of their first packet. */
function flowsOf(scenario: string): Promise<FlowRecord[]> {
  let flows = flowsCache.get(scenario);
  if (!flows) {
    flows = (async () => {
      const out = new CollectedOutput();
      const analysis = await analyzeCapture([lab(scenario)], out);
      if (analysis.error) throw analysis.error;
      return [...out.flows].sort((a, b) => a.firstFrame - b.firstFrame);
    })();
    flowsCache.set(scenario, flows);
  }
  return flows;
}

/** The single flow of a one-connection capture. */
async function onlyFlow(scenario: string): Promise<FlowRecord> {
  const flows = await flowsOf(scenario);
  expect(flows, scenario).toHaveLength(1);
  return flows[0];
}

const zeekOf = (flow: FlowRecord): { connState: string; history: string } => ({
  connState: flow.zeek!.connState,
  history: flow.zeek!.history,
});

type Segment = DecodedPacket;

function segmentsOf(scenario: string): Promise<Segment[]> {
  return packetsOf(lab(scenario));
}

// ---------------------------------------------------------------- SF

describe('SF: both sides closed with a FIN', () => {
  test('client-close: SF, ShADadFf', async () => {
    // S SYN (1), h SYN-ACK (2), A handshake ACK (3), D request (4), a pure ACK (5), d reply (6),
    // client's ACK (7) adds nothing, F client FIN (8), f server FIN (9). Both endpoints CLOSED → SF.
    const flow = await onlyFlow('client-close');
    expect(zeekOf(flow)).toEqual({ connState: 'SF', history: 'ShADadFf' });
    // Bytes from sequence numbers: the 18-byte request, the 25-byte reply (SYN and FIN octets excluded).
    expect([flow.zeek!.originatorBytes, flow.zeek!.responderBytes, flow.zeek!.missedBytes]).toEqual([18, 25, 0]);
  });

  test('ipv6, any-interface and pcapng (client-close over ::1, -i any, dumpcap): SF, ShADadFf', async () => {
    // The same exchange as client-close; link type and address family do not change a letter.
    for (const s of ['ipv6', 'any-interface', 'pcapng'])
      expect(zeekOf(await onlyFlow(s)), s).toEqual({ connState: 'SF', history: 'ShADadFf' });
  });

  test('server-close: SF, ShADadfF', async () => {
    // As client-close up to d (6); then the server's FIN (8) comes first: f, and the client's (9): F.
    const flow = await onlyFlow('server-close');
    expect(zeekOf(flow)).toEqual({ connState: 'SF', history: 'ShADadfF' });
    expect([flow.zeek!.originatorBytes, flow.zeek!.responderBytes]).toEqual([18, 25]);
  });

  test('half-close: SF, ShADaFdf', async () => {
    // The client's request (D, 4) is ACKed (a, 5), then the client half-closes at once (F, 6);
    // the server's five 21-byte chunks come after it (d, 8), then its FIN (f, 18).
    const flow = await onlyFlow('half-close');
    expect(zeekOf(flow)).toEqual({ connState: 'SF', history: 'ShADaFdf' });
    expect([flow.zeek!.originatorBytes, flow.zeek!.responderBytes]).toEqual([23, 5 * 21]);
  });

  test('last-ack: SF, ShADadFf (the server’s FIN retransmissions sit at the same place: no second f)', async () => {
    // Client FIN (F, 8), server ACK (9) and FIN (f, 10), then the FIN again at 11 and 12 with the
    // same sequence number: Zeek writes F/f again only for a FIN at a new place.
    expect(zeekOf(await onlyFlow('last-ack'))).toEqual({ connState: 'SF', history: 'ShADadFf' });
  });

  test('simultaneous-close-closing and -time-wait: SF, ShADadfF', async () => {
    // The crossing FINs: the server's is captured first (f, 8), the client's second (F, 9). Zeek
    // does not care that they crossed: each side sent a FIN, so both are CLOSED → SF.
    for (const s of ['simultaneous-close-closing', 'simultaneous-close-time-wait']) {
      expect(zeekOf(await onlyFlow(s)), s).toEqual({ connState: 'SF', history: 'ShADadfF' });
    }
  });

  test('midstream: SF (not OTH), DdAFf: both sides PARTIAL, then each FIN makes its sender CLOSED', async () => {
    // No SYN: each side becomes PARTIAL with its first data (D 1, d 2); Zeek's established-state
    // update handles PARTIAL too, so a FIN makes its sender CLOSED (F 8, f 9) and rule 3 (both
    // CLOSED) gives SF. OTH is for a partial connection that never closes. The client
    // (127.42.17.2, the higher port) sent the first packet: no ^.
    const flow = await onlyFlow('midstream');
    expect(flow.client).toMatchObject({ ip: '127.42.17.2', port: 33018 });
    expect(zeekOf(flow)).toEqual({ connState: 'SF', history: 'DdAFf' });
  });

  test('port-reuse first instances: SF, ShADadFf for :40001 (client closed first), ShADadfF for :40002 (server first)', async () => {
    const flows = await flowsOf('port-reuse');
    const first = (port: number): FlowRecord => flows.find((f) => f.client.port === port && f.instance === 1)!;
    expect(zeekOf(first(40001))).toEqual({ connState: 'SF', history: 'ShADadFf' });
    expect(zeekOf(first(40002))).toEqual({ connState: 'SF', history: 'ShADadfF' });
  });
});

// ---------------------------------------------------------------- S0, REJ

describe('S0 and REJ: attempts', () => {
  test('syn-sent: S0, S for both clients (their retransmitted SYNs carry the same sequence number)', async () => {
    // Frames 1-6: two clients' SYNs, each sent three times, never answered. The originator is
    // SYN_SENT, the responder INACTIVE → S0; one S each, as a repeated SYN at the same sequence
    // number writes no new letter.
    const flows = await flowsOf('syn-sent');
    expect(flows.map((f) => [f.server.port, f.zeek!.connState, f.zeek!.history])).toEqual([
      [8080, 'S0', 'S'],
      [8081, 'S0', 'S'],
    ]);
    for (const f of flows) expect([f.zeek!.originatorBytes, f.zeek!.responderBytes]).toEqual([0, 0]);
  });

  test('refused: REJ, Sr', async () => {
    // SYN (S, 1) answered by RST+ACK (r, 2): the responder is RESET while the originator is still
    // SYN_SENT → rule 1 gives REJ.
    expect(zeekOf(await onlyFlow('refused'))).toEqual({ connState: 'REJ', history: 'Sr' });
  });
});

// ---------------------------------------------------------------- S1

describe('S1: established, nobody closed', () => {
  test('syn-recv: S1, Sh: the SYN-ACK lifts the originator to ESTABLISHED although its ACK never shows', async () => {
    // SYN (S, 1), SYN-ACK (h, 2) and the same SYN-ACK again (3, same sequence number: no letter).
    // Zeek: the responder's SYN-ACK makes it ESTABLISHED and lifts the SYN_SENT originator too → S1.
    expect(zeekOf(await onlyFlow('syn-recv'))).toEqual({ connState: 'S1', history: 'Sh' });
  });

  test('syn-flood: all 200 half-open handshakes are S1, Sh', async () => {
    const flows = await flowsOf('syn-flood');
    expect(flows).toHaveLength(200);
    expect(new Set(flows.map((f) => `${f.zeek!.connState} ${f.zeek!.history}`))).toEqual(new Set(['S1 Sh']));
  });

  test('keepalive, the answered connection (:50066): S1, ShADad (probes carry no payload: no T)', async () => {
    // Handshake (1-3), request D (7), a (8), reply d (9), A. The probes (16, 18, 22) are zero-length
    // ACKs at seq = next-1 and their answers pure ACKs: nothing new. T needs payload.
    const flow = (await flowsOf('keepalive')).find((f) => f.client.port === 50066)!;
    expect(zeekOf(flow)).toEqual({ connState: 'S1', history: 'ShADad' });
  });

  test('zero-window: S1, ShADaw: the responder’s three zero windows (frames 7, 9, 12) write one w', async () => {
    const segments = await segmentsOf('zero-window');
    expect(segments.filter((s) => s.win === 0).map((s) => [s.frame, s.sport])).toEqual([
      [7, 8080],
      [9, 8080],
      [12, 8080],
    ]);
    // S 1, h 2, A 3, D 4 (2048 bytes; frame 6 is more data: no letter), a 5 (the server's pure ACK),
    // w 7 (first zero window; the 2nd and 3rd are below the next mark, 10). The persist probes
    // (8, 10, 11) are zero-length pure ACKs.
    const flow = await onlyFlow('zero-window');
    expect(zeekOf(flow)).toEqual({ connState: 'S1', history: 'ShADaw' });
    expect([flow.zeek!.originatorBytes, flow.zeek!.responderBytes]).toEqual([2 * 2048, 0]);
  });

  test('simultaneous-open: S1, SsAadD: the responder’s bare SYN is s; the SYN-ACKs repeat a slot already written', async () => {
    // 127.42.8.2:5002 sent the first bare SYN (S, 1): originator. 127.42.8.1's bare SYN (s, 2);
    // both SYN-ACKs (3, 4) reuse the same sequence numbers: no h, no H. ACKs (A 5, a 6), then
    // the responder's data first (d, 7) and the originator's (D, 9). The responder's SYN lifts the
    // SYN_SENT originator: both ESTABLISHED → S1.
    const flow = await onlyFlow('simultaneous-open');
    expect(flow.client).toMatchObject({ ip: '127.42.8.2', port: 5002 });
    expect(zeekOf(flow)).toEqual({ connState: 'S1', history: 'SsAadD' });
  });

  test('port-reuse second instances: S1, ShADad (a fresh handshake and one exchange, still open)', async () => {
    const flows = (await flowsOf('port-reuse')).filter((f) => f.instance === 2);
    expect(flows.map((f) => [f.client.port, f.zeek!.connState, f.zeek!.history]).sort()).toEqual([
      [40001, 'S1', 'ShADad'],
      [40002, 'S1', 'ShADad'],
    ]);
  });
});

// ---------------------------------------------------------------- S2, S3

describe('S2 and S3: one side closed', () => {
  test('fin-wait1: S2, ShADadF: the originator closed (FIN 8, retransmitted at 9 and 10), the responder never did', async () => {
    // os CLOSED, rs ESTABLISHED (not inactive) → rule 4 gives S2. Retransmitted FINs at the same
    // place write no second F.
    expect(zeekOf(await onlyFlow('fin-wait1'))).toEqual({ connState: 'S2', history: 'ShADadF' });
  });

  test('close-wait-leak: all 20 connections S3, ShADadf: the responder closed, the originator never did', async () => {
    // Per connection: S, h, A, D (request), a, d (reply), A (client ACK), f (server FIN); the
    // client's delayed ACK of the FIN (161-180) is another pure ACK. rs CLOSED, os ESTABLISHED → S3.
    const flows = await flowsOf('close-wait-leak');
    expect(flows).toHaveLength(20);
    for (const f of flows) expect(zeekOf(f), `client port ${f.client.port}`).toEqual({ connState: 'S3', history: 'ShADadf' });
    expect([flows[0].zeek!.originatorBytes, flows[0].zeek!.responderBytes]).toEqual([6, 4]);
  });
});

// ---------------------------------------------------------------- RSTO

describe('RSTO: the originator reset', () => {
  test('rst-abort-linger: RSTO, ShADaR; the 3000 unacknowledged bytes still count in orig_bytes', async () => {
    // S 1, h 2, A 3, D 4 (2000 bytes), a 5, frame 6 (3000 more bytes) adds nothing, R 7 (the
    // client's RST). os RESET, the responder answered (ESTABLISHED) → rule 2 gives RSTO. Bytes
    // come from sequence numbers: 1580067889 - 1580062888 - 1 (SYN) = 5000.
    const flow = await onlyFlow('rst-abort-linger');
    expect(zeekOf(flow)).toEqual({ connState: 'RSTO', history: 'ShADaR' });
    expect([flow.zeek!.originatorBytes, flow.zeek!.responderBytes]).toEqual([5000, 0]);
  });

  test('keepalive, the unanswered connection (:50068): RSTO, ShADadR (the client gave up and reset, frame 21)', async () => {
    const flow = (await flowsOf('keepalive')).find((f) => f.client.port === 50068)!;
    expect(zeekOf(flow)).toEqual({ connState: 'RSTO', history: 'ShADadR' });
  });

  test('many-short: each of the 210 connections by how it ended on the wire: client FIN first, server FIN first, client RST', async () => {
    const segments = await segmentsOf('many-short');
    const ending = new Map<number, string>();
    for (const s of segments) {
      const clientPort = s.sport === 8080 ? s.dport : s.sport;
      if (ending.has(clientPort)) continue;
      if (s.flags & TcpFlag.RST) ending.set(clientPort, 'rst');
      else if (s.flags & TcpFlag.FIN) ending.set(clientPort, s.sport === 8080 ? 'server-first' : 'client-first');
    }
    const expected: Record<string, { connState: string; history: string }> = {
      'client-first': { connState: 'SF', history: 'ShADadFf' },
      'server-first': { connState: 'SF', history: 'ShADadfF' },
      rst: { connState: 'RSTO', history: 'ShADadR' },
    };
    const flows = await flowsOf('many-short');
    expect(flows).toHaveLength(210);
    const counts: Record<string, number> = {};
    for (const f of flows) {
      const how = ending.get(f.client.port)!;
      counts[how] = (counts[how] ?? 0) + 1;
      expect(zeekOf(f), `client port ${f.client.port} (${how})`).toEqual(expected[how]);
    }
    expect(counts).toEqual({ 'client-first': 70, 'server-first': 70, rst: 70 });
  });
});

// ---------------------------------------------------------------- coverage of the lab

describe('what the lab shows of Zeek’s codes and letters', () => {
  test('the lab produces exactly REJ, RSTO, S0, S1, S2, S3 and SF', async () => {
    // Not producible here: RSTR (no responder ever resets an established connection), RSTOS0/SH
    // (no originator resets or closes before an answer), RSTRH/SHR (every SYN-ACK follows its SYN),
    // OTH (the only SYN-less connection, midstream, closes cleanly).
    const states = new Set<string>();
    for (const s of LAB_SCENARIOS) for (const f of await flowsOf(s)) states.add(f.zeek!.connState);
    expect([...states].sort()).toEqual(['REJ', 'RSTO', 'S0', 'S1', 'S2', 'S3', 'SF']);
  });

  test('the lab’s history letters are exactly A D F R S a d f h r s w: no H, T, W, G, I, Q, C or ^', async () => {
    // H: the only originator SYN-ACK (simultaneous-open, frame 4) repeats the SYN's sequence number.
    // T: no payload is ever retransmitted (the probes are zero-length). W: only the responder ever
    // advertises a zero window. G: no gap (no capture loss). ^: every flow's first packet comes
    // from its originator, midstream's included.
    const letters = new Set<string>();
    for (const s of LAB_SCENARIOS) for (const f of await flowsOf(s)) for (const c of f.zeek!.history) letters.add(c);
    expect([...letters].sort().join(' ')).toBe('A D F R S a d f h r s w');
  });

  test('no lab flow misses bytes (no ACK of uncaptured data)', async () => {
    for (const s of LAB_SCENARIOS) for (const f of await flowsOf(s)) expect(f.zeek!.missedBytes, `${s} flow ${f.id}`).toBe(0);
  });
});
