// Each detector against the lab captures (captures/, docs/lab.md) and the wild
// corpus (../shared/wild): it fires where the capture holds its phenomenon, with
// the endpoint, count and frames the packets show, and stays silent elsewhere.
// Every expectation below is worked out from the packets (tcpdump -nr FILE -S -#,
// frame numbers are tcpdump's / Wireshark's), never copied from flowstate's output;
// where the packets need arithmetic (durations, lost bytes, probe frames), the test
// does it from its own decoding of the capture.
import { describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { TcpFlag } from '../src/decode/tcp-segment.js';
import { analyzeCapture, type AnalyzeCaptureOptions } from '../src/analyze.js';
import { CollectedOutput } from '../src/track/collect-output.js';
import { DEFAULT_THRESHOLDS, FINDINGS } from '../src/track/finding-catalogue.js';
import type { FindingRecord, FlowRecord } from '../src/track/records.js';
import { HAS_WILD, LAB_SCENARIOS, NO_WILD_MESSAGE, WILD, lab, listCaptures } from './helpers/paths.js';
import { type DecodedPacket, packetsOf } from './helpers/decode-file.js';

// ---------------------------------------------------------------- helpers

type Packet = DecodedPacket;

const FIN = TcpFlag.FIN;
const SYN = TcpFlag.SYN;
const RST = TcpFlag.RST;
const ACK = TcpFlag.ACK;

/** a ≥ b in 32-bit sequence space. */
const seqGe = (a: number, b: number): boolean => ((a - b) | 0) >= 0;
const has = (p: Packet, flag: number): boolean => (p.flags & flag) !== 0;
const from = (p: Packet, ip: string, port: number): boolean => p.src === ip && p.sport === port;
const tuple = (p: Packet): string => [`${p.src}:${p.sport}`, `${p.dst}:${p.dport}`].sort().join(' ');
const frameTime = (packets: Packet[], frame: number): bigint => packets.find((p) => p.frame === frame)!.tsNs;

interface Run {
  out: CollectedOutput;
  /** The capture could not be opened or read at all (unsupported or broken file). */
  unreadable: boolean;
}

const runs = new Map<string, Promise<Run>>();

/** Analyses a capture once per set of options (cached: the wild corpus is read by several tests). */
function analyse(path: string, options: AnalyzeCaptureOptions = {}): Promise<Run> {
  const key = `${path}|${JSON.stringify(options)}`;
  let run = runs.get(key);
  if (!run) {
    run = (async () => {
      const out = new CollectedOutput();
      try {
        const analysis = await analyzeCapture([path], out, options);
        return { out, unreadable: analysis.error !== undefined && analysis.decode.packets === 0 };
      } catch {
        return { out, unreadable: true };
      }
    })();
    runs.set(key, run);
  }
  return run;
}

async function labRun(scenario: string, options: AnalyzeCaptureOptions = {}): Promise<CollectedOutput> {
  return (await analyse(lab(scenario), options)).out;
}

const ofKind = (out: CollectedOutput, kind: string): FindingRecord[] => out.findings.filter((f) => f.kind === kind);
const flowById = (out: CollectedOutput, id: number | null): FlowRecord => out.flows.find((f) => f.id === id)!;
const clientPortOf = (out: CollectedOutput, f: FindingRecord): number => flowById(out, f.flowId).client.port;

/** The lab scenarios in which `kind` fires with default thresholds. */
async function labScenariosWith(kind: string): Promise<string[]> {
  const hits: string[] = [];
  for (const s of LAB_SCENARIOS) if (ofKind(await labRun(s), kind).length > 0) hits.push(s);
  return hits;
}

const WILD_FILES = HAS_WILD ? listCaptures(WILD) : [];
const wildName = (path: string): string => relative(WILD, path);
function wildPath(name: string): string {
  const path = join(WILD, name);
  if (!existsSync(path)) throw new Error(`wild capture ${name} is missing`);
  return path;
}

/** The wild files in which `kind` fires, with the findings. */
async function wildWith(kind: string): Promise<Map<string, FindingRecord[]>> {
  const hits = new Map<string, FindingRecord[]>();
  for (const path of WILD_FILES) {
    const found = ofKind((await analyse(path)).out, kind);
    if (found.length > 0) hits.set(wildName(path), found);
  }
  return hits;
}

/**
 * The endpoints a close-wait-leak finding counts, each with whether the packets
 * show it acknowledging the peer's FIN (docs/findings.md: the peer's FIN received
 * and acknowledged, its own FIN never sent).
 */
async function closeWaitEvidence(
  path: string,
  out: CollectedOutput,
  finding: FindingRecord,
): Promise<Array<{ endpoint: string; finFrame: number | null; ackFrame: number | null }>> {
  const packets = await packetsOf(path);
  const result: Array<{ endpoint: string; finFrame: number | null; ackFrame: number | null }> = [];
  for (const id of finding.details.flows as number[]) {
    const flow = flowById(out, id);
    const entered = out.transitions.find((t) => t.flowId === id && t.toState === 'CLOSE_WAIT')!;
    const me = flow[entered.endpoint];
    const peer = entered.endpoint === 'client' ? flow.server : flow.client;
    const fin = packets.find((p) => from(p, peer.ip, peer.port) && p.dst === me.ip && p.dport === me.port && has(p, FIN));
    const finEnd = fin ? (fin.seq + fin.len + 1) >>> 0 : 0;
    const ackOfFin = fin
      ? packets.find(
          (p) => p.frame > fin.frame && from(p, me.ip, me.port) && p.dst === peer.ip && has(p, ACK) && !has(p, RST) && seqGe(p.ack, finEnd),
        )
      : undefined;
    result.push({ endpoint: `${me.ip}:${me.port}`, finFrame: fin?.frame ?? null, ackFrame: ackOfFin?.frame ?? null });
  }
  return result;
}

// ---------------------------------------------------------------- close-wait-leak

describe('close-wait-leak', () => {
  test('close-wait-leak: the 20 clients that never close after the server’s FIN, as one aggregate toward 127.42.3.1:8080', async () => {
    const packets = await packetsOf(lab('close-wait-leak'));
    // Wire: 20 connections from 127.42.3.2 to 127.42.3.1:8080; the server sends a FIN in each
    // (frames 8, 16, …, 160), the client ACKs each one (frames 161-180, delayed ACKs) and
    // never sends a FIN of its own: 20 clients in CLOSE_WAIT until the capture ends.
    const serverFins = packets.filter((p) => from(p, '127.42.3.1', 8080) && has(p, FIN));
    expect(serverFins.map((p) => p.frame)).toEqual(Array.from({ length: 20 }, (_, i) => 8 * (i + 1)));
    expect(packets.filter((p) => p.src === '127.42.3.2' && has(p, FIN))).toEqual([]);
    for (const fin of serverFins) {
      expect(
        packets.some((p) => p.sport === fin.dport && p.frame > fin.frame && seqGe(p.ack, (fin.seq + 1) >>> 0)),
        `ACK of the FIN in frame ${fin.frame}`,
      ).toBe(true);
    }
    const out = await labRun('close-wait-leak');
    const leaks = ofKind(out, 'close-wait-leak');
    expect(leaks).toHaveLength(1);
    const [leak] = leaks;
    // The leaking sockets are clients (ephemeral ports): named by host and the server they talk to.
    expect(leak).toMatchObject({ severity: 'error', host: '127.42.3.2', port: null, flowId: null, endpoint: null, frame: 8 });
    expect(leak.details).toMatchObject({
      count: 20,
      first_frame: 8,
      last_frame: 160,
      remote: '127.42.3.1:8080',
      threshold_s: DEFAULT_THRESHOLDS.closeWaitSeconds,
    });
    expect(leak.tsNs).toBe(frameTime(packets, 8));
    expect(leak.details.until_ns).toBe(String(frameTime(packets, 160)));
    // The longest: the first connection, from its FIN (frame 8) to the end of the capture (frame 180).
    expect(leak.details.longest_ns).toBe(Number(packets.at(-1)!.tsNs - frameTime(packets, 8)));
    expect([...(leak.details.flows as number[])].sort((a, b) => a - b)).toEqual(out.flows.map((f) => f.id).sort((a, b) => a - b));
    // The remedy: fix the application; no kernel setting (nor keepalive) ends CLOSE_WAIT (docs/findings.md).
    const remedy = String(leak.details.remedy);
    expect(remedy).toBe(FINDINGS['close-wait-leak'].remedy);
    expect(remedy).toMatch(/close\(\)/);
    expect(remedy).toMatch(/no kernel setting/);
    expect(remedy).not.toMatch(/tcp_tw_recycle|tcp_fin_timeout|SO_REUSEADDR/);
  });

  test('close-wait-leak stays silent on CLOSE_WAITs that end quickly (last-ack 56 ms, half-close 318 ms) and on the clean captures', async () => {
    // last-ack: the server is in CLOSE_WAIT from the client's FIN (frame 8) to its own FIN
    // (frame 10); half-close: from frame 6 to frame 18. Both far below the 5 s default.
    for (const s of [
      'last-ack',
      'half-close',
      'client-close',
      'server-close',
      'ipv6',
      'any-interface',
      'pcapng',
      'many-short',
      'midstream',
      'port-reuse',
    ]) {
      expect(ofKind(await labRun(s), 'close-wait-leak'), s).toEqual([]);
    }
  });

  test('close-wait-leak threshold edge: half-close’s 317.984 ms CLOSE_WAIT fires at closeWaitSeconds just below it, not just above', async () => {
    const packets = await packetsOf(lab('half-close'));
    // The client half-closes (FIN, frame 6); the server keeps sending and closes at frame 18.
    const clientFin = packets.find((p) => p.sport !== 8080 && has(p, FIN))!;
    const serverFin = packets.find((p) => p.sport === 8080 && has(p, FIN))!;
    expect([clientFin.frame, serverFin.frame]).toEqual([6, 18]);
    const duration = Number(serverFin.tsNs - clientFin.tsNs);
    expect(duration).toBe(317_984_000);
    const below = ofKind(await labRun('half-close', { thresholds: { closeWaitSeconds: (duration - 500) / 1e9 } }), 'close-wait-leak');
    expect(below).toHaveLength(1);
    expect(below[0]).toMatchObject({ host: '127.42.18.1', port: 8080, frame: 6 });
    expect(below[0].details).toMatchObject({ count: 1, longest_ns: duration, first_frame: 6, remote: null });
    expect(ofKind(await labRun('half-close', { thresholds: { closeWaitSeconds: (duration + 500) / 1e9 } }), 'close-wait-leak')).toEqual([]);
  });

  test('close-wait-leak does not fire on fin-wait1, whose FIN was never acknowledged on the wire', async () => {
    const packets = await packetsOf(lab('fin-wait1'));
    const fins = packets.filter((p) => from(p, '127.42.5.2', 59726) && has(p, FIN));
    expect(fins.map((p) => p.frame)).toEqual([8, 9, 10]);
    expect(packets.filter((p) => from(p, '127.42.5.1', 8080) && p.frame > 7)).toEqual([]);
    expect(ofKind(await labRun('fin-wait1'), 'close-wait-leak')).toEqual([]);
  });
});

// ---------------------------------------------------------------- time-wait-pressure

describe('time-wait-pressure', () => {
  test('client-close: the client (127.42.1.2) closes first and holds one TIME_WAIT: info', async () => {
    const packets = await packetsOf(lab('client-close'));
    expect(packets.find((p) => has(p, FIN))).toMatchObject({ frame: 8, src: '127.42.1.2' });
    const found = ofKind(await labRun('client-close'), 'time-wait-pressure');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'info', endpoint: 'client', host: '127.42.1.2', port: null, frame: null });
    expect(found[0].details).toMatchObject({ side: 'client', count: 1, peak: 1, time_wait_s: 60 });
  });

  test('server-close: the server (127.42.2.1) closes first and holds one TIME_WAIT: info, as the catalogue says (one is no pressure)', async () => {
    const packets = await packetsOf(lab('server-close'));
    expect(packets.find((p) => has(p, FIN))).toMatchObject({ frame: 8, src: '127.42.2.1' });
    const found = ofKind(await labRun('server-close'), 'time-wait-pressure');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'info', endpoint: 'server', host: '127.42.2.1', port: null });
    expect(found[0].details).toMatchObject({ side: 'server', count: 1, peak: 1 });
    expect(String(found[0].details.remedy)).toMatch(/closes first|close first/);
    expect(String(found[0].details.remedy)).not.toMatch(/set tcp_tw_recycle|enable tcp_tw_recycle/);
  });

  test('many-short: 70 client-first and 70 server-first closes (and 70 RSTs) give one finding per side, peak 70 with the 60 s TIME_WAIT', async () => {
    const packets = await packetsOf(lab('many-short'));
    const firstFin = new Map<string, Packet>();
    const rst = new Set<string>();
    for (const p of packets) {
      if (has(p, FIN) && !firstFin.has(tuple(p))) firstFin.set(tuple(p), p);
      if (has(p, RST)) rst.add(tuple(p));
    }
    const clientFirst = [...firstFin.values()].filter((p) => p.src === '127.42.20.2').length;
    const serverFirst = [...firstFin.values()].filter((p) => p.src === '127.42.20.1').length;
    expect([clientFirst, serverFirst, rst.size]).toEqual([70, 70, 70]);
    // The capture lasts ~30 ms, far less than TIME_WAIT's 60 s: every TIME_WAIT is still there at the end.
    expect(packets.at(-1)!.tsNs - packets[0].tsNs).toBeLessThan(60_000_000_000n);
    const found = ofKind(await labRun('many-short'), 'time-wait-pressure');
    expect(found).toHaveLength(2);
    const client = found.find((f) => f.endpoint === 'client')!;
    const server = found.find((f) => f.endpoint === 'server')!;
    expect(client).toMatchObject({ severity: 'info', host: '127.42.20.2' });
    expect(client.details).toMatchObject({ side: 'client', count: clientFirst, peak: clientFirst });
    expect(server).toMatchObject({ severity: 'warning', host: '127.42.20.1' });
    expect(server.details).toMatchObject({ side: 'server', count: serverFirst, peak: serverFirst });
  });

  test('many-short with a 2 ms TIME_WAIT: the peak per side is the most TIME_WAITs overlapping on the wire', async () => {
    const timeWaitNs = 2_000_000n;
    const packets = await packetsOf(lab('many-short'));
    const end = packets.at(-1)!.tsNs;
    // TIME_WAIT belongs to the first FIN's sender and begins when the peer's FIN reaches it.
    const fins = new Map<string, Packet[]>();
    for (const p of packets) if (has(p, FIN)) fins.set(tuple(p), [...(fins.get(tuple(p)) ?? []), p]);
    const intervals: Record<string, Array<[bigint, bigint]>> = { '127.42.20.1': [], '127.42.20.2': [] };
    for (const list of fins.values()) {
      const second = list.find((p) => p.src !== list[0].src)!;
      const until = second.tsNs + timeWaitNs < end ? second.tsNs + timeWaitNs : end;
      intervals[list[0].src].push([second.tsNs, until]);
    }
    const peak = (list: Array<[bigint, bigint]>): number => {
      let best = 0;
      for (const [at] of list) best = Math.max(best, list.filter(([s, u]) => s <= at && at < u).length);
      return best;
    };
    const expected = { server: peak(intervals['127.42.20.1']), client: peak(intervals['127.42.20.2']) };
    expect(expected.server).toBeGreaterThan(1);
    expect(expected.server).toBeLessThan(70);
    const found = ofKind(await labRun('many-short', { timeWaitSeconds: 0.002 }), 'time-wait-pressure');
    expect(found.find((f) => f.endpoint === 'server')!.details).toMatchObject({ count: 70, peak: expected.server, time_wait_s: 0.002 });
    expect(found.find((f) => f.endpoint === 'client')!.details).toMatchObject({ count: 70, peak: expected.client });
  });

  test('--time-wait-threshold: a server that closed first is a warning from that many TIME_WAITs at once (server-close with 1)', async () => {
    const found = ofKind(await labRun('server-close', { thresholds: { timeWaitCount: 1 } }), 'time-wait-pressure');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warning', endpoint: 'server', host: '127.42.2.1' });
    expect(ofKind(await labRun('server-close', { thresholds: { timeWaitCount: 2 } }), 'time-wait-pressure')[0].severity).toBe('info');
  });

  test('crossing-fins-delayed: the client (127.42.23.2) sent the first FIN, the FINs crossed; the server’s TIME_WAIT is not a server closing first', async () => {
    const packets = await packetsOf(lab('crossing-fins-delayed'));
    expect(packets.find((p) => has(p, FIN))).toMatchObject({ src: '127.42.23.2' });
    const out = await labRun('crossing-fins-delayed', { thresholds: { timeWaitCount: 1 } });
    expect(out.flows[0]).toMatchObject({ closedFirstBy: 'client', server: { state: 'TIME_WAIT' } });
    const found = ofKind(out, 'time-wait-pressure');
    expect(found.map((f) => `${f.endpoint} ${f.host} ${f.severity}`)).toEqual(['client 127.42.23.2 info']);
  });

  test('time-wait-pressure peak counts a TIME_WAIT entered at the last frame (simultaneous-close-time-wait client: peak 1)', async () => {
    const packets = await packetsOf(lab('simultaneous-close-time-wait'));
    expect(packets.at(-1)).toMatchObject({ frame: 11, src: '127.42.7.1', ack: 2798619294 });
    const client = ofKind(await labRun('simultaneous-close-time-wait'), 'time-wait-pressure').find((f) => f.endpoint === 'client')!;
    expect(client.details).toMatchObject({ count: 1, peak: 1 });
  });
});

// ---------------------------------------------------------------- fin-wait2-long

describe('fin-wait2-long', () => {
  test('no lab capture lasts Linux’s 60 s: fin-wait2-long never fires with the default threshold', async () => {
    expect(await labScenariosWith('fin-wait2-long')).toEqual([]);
  });

  test('fin-wait2-long threshold edge on close-wait-leak: the longest FIN_WAIT2 (140 µs) fires just below, nothing just above', async () => {
    const packets = await packetsOf(lab('close-wait-leak'));
    const end = packets.at(-1)!.tsNs;
    // Each server enters FIN_WAIT2 when the client's ACK of its FIN arrives (frames 161-180)
    // and stays there (the client never closes) until the capture ends (frame 180).
    const stays = packets
      .filter((p) => from(p, '127.42.3.1', 8080) && has(p, FIN))
      .map((fin) => {
        const ack = packets.find((p) => p.frame > fin.frame && p.sport === fin.dport && seqGe(p.ack, (fin.seq + 1) >>> 0))!;
        return { clientPort: fin.dport, ackFrame: ack.frame, duration: Number(end - ack.tsNs) };
      })
      .sort((a, b) => b.duration - a.duration);
    expect(stays[0]).toEqual({ clientPort: 44134, ackFrame: 161, duration: 140_000 });
    expect(stays[1].duration).toBeLessThan(stays[0].duration);
    const longest = stays[0].duration;
    const out = await labRun('close-wait-leak', { thresholds: { finWait2Seconds: (longest - 500) / 1e9 } });
    const found = ofKind(out, 'fin-wait2-long');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warning', endpoint: 'server', host: '127.42.3.1', port: 8080, frame: 161 });
    expect(clientPortOf(out, found[0])).toBe(44134);
    expect(found[0].details).toMatchObject({ duration_ns: longest, until_end: true });
    expect(ofKind(await labRun('close-wait-leak', { thresholds: { finWait2Seconds: (longest + 500) / 1e9 } }), 'fin-wait2-long')).toEqual(
      [],
    );
  });
});

// ---------------------------------------------------------------- half-open-flood

describe('half-open-flood', () => {
  test('syn-flood: 200 handshakes to 127.42.11.1:8080 left in SYN_RECV, from 50 source addresses', async () => {
    const packets = await packetsOf(lab('syn-flood'));
    const syns = packets.filter((p) => has(p, SYN) && !has(p, ACK));
    const synAcks = packets.filter((p) => has(p, SYN) && has(p, ACK));
    const firstSynAck = new Map<string, Packet>();
    for (const p of synAcks) if (!firstSynAck.has(tuple(p))) firstSynAck.set(tuple(p), p);
    // 200 SYNs, each answered by a SYN-ACK (and its retransmission); no handshake ACK was captured.
    expect(syns).toHaveLength(200);
    expect(firstSynAck.size).toBe(200);
    expect(packets.filter((p) => p.dport === 8080 && !has(p, SYN))).toEqual([]);
    const sources = new Set(syns.map((p) => p.src));
    expect(sources.size).toBe(50);
    const frames = [...firstSynAck.values()].map((p) => p.frame);
    const found = ofKind(await labRun('syn-flood'), 'half-open-flood');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', host: '127.42.11.1', port: 8080, flowId: null });
    expect(found[0].details).toMatchObject({
      count: 200,
      syn_recv: 200,
      unanswered: 0,
      sources: sources.size,
      first_frame: Math.min(...frames),
      last_frame: Math.max(...frames),
    });
    expect(String(found[0].details.remedy)).toMatch(/tcp_syncookies/);
  });

  test('syn-recv: one half-open handshake is far below the threshold: no half-open-flood', async () => {
    expect(ofKind(await labRun('syn-recv'), 'half-open-flood')).toEqual([]);
    expect(await labScenariosWith('half-open-flood')).toEqual(['syn-flood']);
  });

  test('half-open-flood threshold edge: halfOpenCount 200 fires on syn-flood, 201 does not; halfOpenCount 1 fires on syn-recv', async () => {
    expect(ofKind(await labRun('syn-flood', { thresholds: { halfOpenCount: 200 } }), 'half-open-flood')).toHaveLength(1);
    expect(ofKind(await labRun('syn-flood', { thresholds: { halfOpenCount: 201 } }), 'half-open-flood')).toEqual([]);
    const out = await labRun('syn-recv', { thresholds: { halfOpenCount: 1 } });
    const found = ofKind(out, 'half-open-flood');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ host: '127.42.10.1', port: 8080, flowId: out.flows[0].id });
    expect(found[0].details).toMatchObject({ count: 1, syn_recv: 1, sources: 1 });
  });
});

// ---------------------------------------------------------------- simultaneous open/close, CLOSING

describe('simultaneous open, simultaneous close, closing-stuck', () => {
  test('simultaneous-open: the bare SYNs of 127.42.8.2:5002 (frame 1) and 127.42.8.1:5001 (frame 2) cross; only there', async () => {
    const packets = await packetsOf(lab('simultaneous-open'));
    const bareSyns = packets.filter((p) => has(p, SYN) && !has(p, ACK));
    expect(bareSyns.map((p) => [p.frame, p.src])).toEqual([
      [1, '127.42.8.2'],
      [2, '127.42.8.1'],
    ]);
    const out = await labRun('simultaneous-open');
    const found = ofKind(out, 'simultaneous-open');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'info', flowId: out.flows[0].id, frame: 2 });
    expect(await labScenariosWith('simultaneous-open')).toEqual(['simultaneous-open']);
  });

  test('simultaneous-close: both endpoints pass through CLOSING in both simultaneous-close captures (the FINs of frames 8 and 9 cross), and nowhere else', async () => {
    for (const s of ['simultaneous-close-closing', 'simultaneous-close-time-wait']) {
      const packets = await packetsOf(lab(s));
      const [first, second] = packets.filter((p) => has(p, FIN));
      // Frame 9's FIN does not acknowledge frame 8's: neither side had the other's FIN.
      expect([first.frame, second.frame], s).toEqual([8, 9]);
      expect(second.ack, s).toBe(first.seq);
      const found = ofKind(await labRun(s), 'simultaneous-close');
      expect(found.map((f) => f.endpoint).sort(), s).toEqual(['client', 'server']);
      for (const f of found) expect(f, s).toMatchObject({ severity: 'info', frame: 9 });
    }
    expect(await labScenariosWith('simultaneous-close')).toEqual(['simultaneous-close-closing', 'simultaneous-close-time-wait']);
  });

  test('closing-stuck: both ends of simultaneous-close-closing stay in CLOSING to the end (nothing after frame 9); no other lab capture', async () => {
    const packets = await packetsOf(lab('simultaneous-close-closing'));
    expect(packets.at(-1)!.frame).toBe(9);
    const found = ofKind(await labRun('simultaneous-close-closing'), 'closing-stuck');
    expect(found.map((f) => `${f.endpoint} ${f.host}:${f.port}`).sort()).toEqual(['client 127.42.6.2:42536', 'server 127.42.6.1:8080']);
    for (const f of found) {
      expect(f).toMatchObject({ severity: 'warning', frame: 9 });
      expect(f.details).toMatchObject({ until_end: true });
    }
    expect(await labScenariosWith('closing-stuck')).toEqual(['simultaneous-close-closing']);
  });

  test('closing-stuck threshold edge on simultaneous-close-time-wait: server 4 µs (frames 9→10), client 22 µs (frames 9→11) in CLOSING', async () => {
    const packets = await packetsOf(lab('simultaneous-close-time-wait'));
    // Frame 9: the client's FIN reaches the server (in FIN_WAIT1) → server CLOSING; the client had
    // sent it before seeing the server's FIN of frame 8 → client CLOSING. Frame 10: the client ACKs
    // the server's FIN → server TIME_WAIT. Frame 11: the server ACKs the client's FIN → client TIME_WAIT.
    const t = (frame: number): bigint => frameTime(packets, frame);
    expect(packets.find((p) => p.frame === 10)).toMatchObject({ src: '127.42.7.2', ack: 29966128 });
    expect(packets.find((p) => p.frame === 11)).toMatchObject({ src: '127.42.7.1', ack: 2798619294 });
    const server = Number(t(10) - t(9));
    const client = Number(t(11) - t(9));
    expect([server, client]).toEqual([4_000, 22_000]);
    const stuck = async (ns: number): Promise<string[]> =>
      ofKind(await labRun('simultaneous-close-time-wait', { thresholds: { closingSeconds: ns / 1e9 } }), 'closing-stuck')
        .map((f) => `${f.endpoint}`)
        .sort();
    expect(await stuck(server - 500)).toEqual(['client', 'server']);
    expect(await stuck(server + 500)).toEqual(['client']);
    expect(await stuck(client - 500)).toEqual(['client']);
    expect(await stuck(client + 500)).toEqual([]);
  });
});

// ---------------------------------------------------------------- abortive close, refused, RST out of window

describe('abortive-close, refused, rst-out-of-window', () => {
  test('abortive-close on rst-abort-linger: the client’s RST (frame 7) throws away the 3000 bytes of frame 6 the server never acknowledged', async () => {
    const packets = await packetsOf(lab('rst-abort-linger'));
    const rst = packets.find((p) => has(p, RST))!;
    expect(rst).toMatchObject({ frame: 7, src: '127.42.12.2', sport: 57542 });
    // In flight when the RST went out, both ways: what each side sent beyond what the other acknowledged.
    const before = packets.filter((p) => p.frame < rst.frame);
    const sentEnd = (ip: string): number =>
      Math.max(...before.filter((p) => p.src === ip).map((p) => (p.seq + p.len + (has(p, SYN) ? 1 : 0) + (has(p, FIN) ? 1 : 0)) >>> 0));
    const highestAck = (ip: string): number => Math.max(...before.filter((p) => p.src === ip && has(p, ACK)).map((p) => p.ack));
    const clientToServer = sentEnd('127.42.12.2') - highestAck('127.42.12.1');
    const serverToClient = sentEnd('127.42.12.1') - highestAck('127.42.12.2');
    expect([clientToServer, serverToClient]).toEqual([3000, 0]);
    const found = ofKind(await labRun('rst-abort-linger'), 'abortive-close');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warning', endpoint: 'client', host: '127.42.12.2', port: 57542, frame: 7, tsNs: rst.tsNs });
    expect(found[0].details).toMatchObject({ lost_bytes: clientToServer + serverToClient });
    expect(String(found[0].details.remedy)).toMatch(/SO_LINGER/);
  });

  test('abortive-close message agrees in number: "3000 bytes in flight were lost"', async () => {
    const [found] = ofKind(await labRun('rst-abort-linger'), 'abortive-close');
    expect(found.message).toMatch(/3000 bytes in flight were lost/);
  });

  test('abortive-close on many-short: the 70 client RSTs after a fully acknowledged exchange lose nothing (info)', async () => {
    const packets = await packetsOf(lab('many-short'));
    const rstFrames = packets.filter((p) => has(p, RST)).map((p) => p.frame);
    expect(rstFrames).toHaveLength(70);
    const found = ofKind(await labRun('many-short'), 'abortive-close');
    expect(found.map((f) => f.frame).sort((a, b) => a! - b!)).toEqual(rstFrames);
    for (const f of found) {
      expect(f).toMatchObject({ severity: 'info', endpoint: 'client', host: '127.42.20.2' });
      expect(f.details).toMatchObject({ lost_bytes: 0 });
    }
  });

  test('refused: the SYN of frame 1 answered by RST+ACK (frame 2): one refused connection to 127.42.13.1:8080, and no abortive-close', async () => {
    const packets = await packetsOf(lab('refused'));
    expect(packets.map((p) => [p.frame, p.flags & (SYN | RST | ACK)])).toEqual([
      [1, SYN],
      [2, RST | ACK],
    ]);
    const out = await labRun('refused');
    const found = ofKind(out, 'refused');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'info', host: '127.42.13.1', port: 8080, frame: 2, flowId: out.flows[0].id });
    expect(found[0].details).toMatchObject({ count: 1, sources: 1, first_frame: 2, last_frame: 2 });
    expect(ofKind(out, 'abortive-close')).toEqual([]);
    expect(await labScenariosWith('refused')).toEqual(['refused']);
  });

  test('rst-out-of-window never fires on the lab captures (every RST there is acceptable)', async () => {
    expect(await labScenariosWith('rst-out-of-window')).toEqual([]);
  });

  test.skipIf(!HAS_WILD)(
    'rst-out-of-window on zeek/rst-inject-rae.pcap: the injected RST (frame 2, ack = ISS, not ISS+1) is ignored and the handshake goes on',
    async () => {
      const path = wildPath('zeek/rst-inject-rae.pcap');
      const packets = await packetsOf(path);
      const [syn, injected] = packets;
      // RFC 9293 §3.10.7.3: in SYN-SENT an RST is acceptable only if it acknowledges the SYN (ack = ISS+1).
      expect(has(injected, RST)).toBe(true);
      expect(injected.ack).toBe(syn.seq);
      const out = (await analyse(path)).out;
      const found = ofKind(out, 'rst-out-of-window');
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ endpoint: 'client', host: '1.2.0.2', port: 2527, frame: 2, tsNs: injected.tsNs });
      // Ignored: the client (its receiver) makes no transition at frame 2 and still completes the
      // handshake with the real SYN-ACK of frame 3.
      expect(out.transitions.filter((t) => t.endpoint === 'client' && t.frame === 2)).toEqual([]);
      expect(out.transitions.some((t) => t.endpoint === 'client' && t.toState === 'ESTABLISHED' && (t.frame ?? 0) >= 3)).toBe(true);
    },
  );
});

// ---------------------------------------------------------------- dead peer, keepalive, zero window

describe('dead-peer, keepalive, zero-window', () => {
  test('dead-peer: the longest unanswered run in the lab is 2 retransmissions, so nothing fires at the default of 3', async () => {
    // last-ack: the server's FIN (frame 10) retransmitted at 11 and 12, no client packet after 8.
    // fin-wait1: the client's FIN (8) retransmitted at 9 and 10, no server packet after 7.
    // syn-sent: each SYN retransmitted twice (frames 3/6 and 4/5). keepalive probes are probes.
    expect(DEFAULT_THRESHOLDS.deadPeerRetransmissions).toBe(3);
    expect(await labScenariosWith('dead-peer')).toEqual([]);
  });

  test('dead-peer threshold edge: with 2, the unanswered FIN and SYN retransmissions fire at their first retransmission; with 3 nothing', async () => {
    const expected: Record<string, Array<{ endpoint: string; host: string; port: number; frame: number }>> = {
      'last-ack': [{ endpoint: 'server', host: '127.42.4.1', port: 8080, frame: 11 }],
      'fin-wait1': [{ endpoint: 'client', host: '127.42.5.2', port: 59726, frame: 9 }],
      'syn-sent': [
        { endpoint: 'client', host: '127.42.9.2', port: 49270, frame: 4 },
        { endpoint: 'client', host: '127.42.9.2', port: 51158, frame: 3 },
      ],
    };
    for (const s of LAB_SCENARIOS) {
      const found = ofKind(await labRun(s, { thresholds: { deadPeerRetransmissions: 2 } }), 'dead-peer');
      expect(
        found
          .map((f) => ({ endpoint: f.endpoint, host: f.host, port: f.port, frame: f.frame }))
          .sort((a, b) => (a.port ?? 0) - (b.port ?? 0)),
        s,
      ).toEqual(expected[s] ?? []);
      for (const f of found) expect(f.details, s).toMatchObject({ retransmissions: 2, reset: false });
      expect(ofKind(await labRun(s, { thresholds: { deadPeerRetransmissions: 3 } }), 'dead-peer'), s).toEqual([]);
    }
  });

  test('syn-sent: each unanswered SYN is a syn-unanswered toward its port (8080 and 8081), not a flood', async () => {
    const found = ofKind(await labRun('syn-sent'), 'syn-unanswered');
    expect(found.map((f) => [f.host, f.port, f.details.count, f.frame]).sort()).toEqual([
      ['127.42.9.1', 8080, 1, 1],
      ['127.42.9.1', 8081, 1, 2],
    ]);
  });

  test('keepalive: 50066’s three probes are each ACKed (alive); 50068’s two get no answer, then its own RST (gone)', async () => {
    const packets = await packetsOf(lab('keepalive'));
    // A probe: no payload (or one byte), only ACK, at seq = the sender's next sequence number − 1.
    const next = new Map<string, number>();
    const probes: Packet[] = [];
    for (const p of packets) {
      const key = `${p.src}:${p.sport}`;
      const end = (p.seq + p.len + (has(p, SYN) ? 1 : 0) + (has(p, FIN) ? 1 : 0)) >>> 0;
      if (p.flags === ACK && p.len <= 1 && next.has(key) && p.seq === (next.get(key)! - 1) >>> 0) probes.push(p);
      else if (!has(p, RST) && (!next.has(key) || seqGe(end, next.get(key)!))) next.set(key, end);
    }
    const answered = (probe: Packet): boolean =>
      packets.some(
        (p) =>
          p.frame > probe.frame &&
          p.src === probe.dst &&
          p.sport === probe.dport &&
          p.dport === probe.sport &&
          packets.filter((q) => q.sport === probe.sport && q.frame > probe.frame && q.frame < p.frame).length === 0,
      );
    const byPort = (port: number) => probes.filter((p) => p.sport === port);
    expect(byPort(50066).map((p) => p.frame)).toEqual([16, 18, 22]);
    expect(byPort(50066).every(answered)).toBe(true);
    expect(byPort(50068).map((p) => p.frame)).toEqual([15, 19]);
    expect(byPort(50068).some(answered)).toBe(false);
    expect(packets.find((p) => has(p, RST))).toMatchObject({ frame: 21, src: '127.42.14.2', sport: 50068 });

    const found = ofKind(await labRun('keepalive'), 'keepalive');
    expect(found).toHaveLength(2);
    const alive = found.find((f) => f.port === 50066)!;
    const gone = found.find((f) => f.port === 50068)!;
    expect(alive).toMatchObject({ severity: 'info', endpoint: 'client', host: '127.42.14.2', frame: 16 });
    expect(alive.details).toMatchObject({ probes: 3, acked: 3, reset: 0, unanswered: 0 });
    expect(gone).toMatchObject({ severity: 'warning', endpoint: 'client', host: '127.42.14.2', frame: 15 });
    // The RST of frame 21 is the prober giving up, not the peer answering: "gone", not "restarted".
    expect(gone.details).toMatchObject({ probes: 2, acked: 0, reset: 0, unanswered: 1 });
    expect(gone.message).toMatch(/gone/);
    expect(gone.message).not.toMatch(/restarted/);
    expect(await labScenariosWith('keepalive')).toEqual(['keepalive']);
  });

  test('zero-window: 127.42.15.1:8080 closes its window at frame 7 and keeps it closed; 127.42.15.2 sends three persist probes (8, 10, 11)', async () => {
    const packets = await packetsOf(lab('zero-window'));
    const zero = packets.filter((p) => p.win === 0 && !has(p, RST));
    expect(zero.map((p) => p.frame)).toEqual([7, 9, 12]);
    expect(new Set(zero.map((p) => `${p.src}:${p.sport}`))).toEqual(new Set(['127.42.15.1:8080']));
    // Persist probes: zero-length, at the client's next sequence number − 1 (3839931064).
    const probes = packets.filter((p) => p.sport === 40756 && p.len === 0 && p.seq === 3839931064);
    expect(probes.map((p) => p.frame)).toEqual([8, 10, 11]);
    const found = ofKind(await labRun('zero-window'), 'zero-window');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warning', endpoint: 'server', host: '127.42.15.1', port: 8080, frame: 7 });
    expect(found[0].details).toMatchObject({
      episodes: 1,
      persist_probes: probes.length,
      open_at_end: true,
      duration_ns: Number(packets.at(-1)!.tsNs - frameTime(packets, 7)),
    });
    // The refused capture's RST+ACK carries window 0: not a zero window.
    expect(await labScenariosWith('zero-window')).toEqual(['zero-window']);
  });
});

// ---------------------------------------------------------------- port reuse, midstream, capture loss

describe('port-reuse, midstream-pickup, capture-loss', () => {
  test('port-reuse: new SYNs on 4-tuples still in TIME_WAIT, :40002 (server side, frame 21) and :40001 (client side, frame 28)', async () => {
    const packets = await packetsOf(lab('port-reuse'));
    const syns = packets.filter((p) => has(p, SYN) && !has(p, ACK)).map((p) => [p.frame, p.sport]);
    expect(syns).toEqual([
      [1, 40001],
      [11, 40002],
      [21, 40002],
      [28, 40001],
    ]);
    const out = await labRun('port-reuse');
    const found = ofKind(out, 'port-reuse');
    expect(found.map((f) => [f.frame, clientPortOf(out, f), f.details.instance]).sort()).toEqual([
      [21, 40002, 2],
      [28, 40001, 2],
    ]);
    for (const f of found) {
      expect(f.severity).toBe('info');
      expect(flowById(out, f.flowId).instance).toBe(1);
    }
    expect(out.flows.map((f) => `${f.client.port}#${f.instance}`).sort()).toEqual(['40001#1', '40001#2', '40002#1', '40002#2']);
    expect(await labScenariosWith('port-reuse')).toEqual(['port-reuse']);
  });

  test('midstream-pickup: the midstream capture starts with data (frame 1), no SYN anywhere; only there', async () => {
    const packets = await packetsOf(lab('midstream'));
    expect(packets.some((p) => has(p, SYN))).toBe(false);
    const out = await labRun('midstream');
    const found = ofKind(out, 'midstream-pickup');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'info', frame: 1, flowId: out.flows[0].id });
    expect(out.flows[0]).toMatchObject({ midstream: true, rolesGuessed: true });
    expect(await labScenariosWith('midstream-pickup')).toEqual(['midstream']);
  });

  test('capture-loss never fires on the lab captures (tcpdump dropped nothing)', async () => {
    expect(await labScenariosWith('capture-loss')).toEqual([]);
  });

  test.skipIf(!HAS_WILD)(
    'capture-loss on zeek/gap-data-missing.pcapng: frame 9 ACKs 1342 bytes of the server’s that were never captured',
    async () => {
      const path = wildPath('zeek/gap-data-missing.pcapng');
      const packets = await packetsOf(path);
      const server = (p: Packet): boolean => p.sport === 389;
      const sentBefore = (frame: number): number =>
        Math.max(...packets.filter((p) => server(p) && p.frame < frame).map((p) => (p.seq + p.len + (has(p, SYN) ? 1 : 0)) >>> 0));
      const firstGap = packets.find((p) => !server(p) && has(p, ACK) && p.ack > sentBefore(p.frame))!;
      expect(firstGap.frame).toBe(9);
      const missed = firstGap.ack - sentBefore(9);
      expect(missed).toBe(1342);
      const out = (await analyse(path)).out;
      const found = ofKind(out, 'capture-loss');
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ severity: 'warning', frame: 9, flowId: out.flows[0].id });
      expect(out.flows[0].server).toMatchObject({ port: 389, missedBytes: missed });
    },
  );

  test.skipIf(!HAS_WILD)(
    'capture-loss stays silent on zeek/missing-syn.pcap: the SYN-ACK proves the missing SYN, and every ACK covers captured data',
    async () => {
      const path = wildPath('zeek/missing-syn.pcap');
      const packets = await packetsOf(path);
      expect(has(packets[0], SYN) && has(packets[0], ACK)).toBe(true);
      expect(ofKind((await analyse(path)).out, 'capture-loss')).toEqual([]);
    },
  );
});

// ---------------------------------------------------------------- silence on clean captures

describe('silence on clean closes', () => {
  test('client-close (and its ipv6, -i any and pcapng twins) raise no warning or error', async () => {
    for (const s of ['client-close', 'ipv6', 'any-interface', 'pcapng']) {
      expect(
        (await labRun(s)).findings.filter((f) => f.severity !== 'info'),
        s,
      ).toEqual([]);
    }
  });

  test('server-close raises no warning or error: one TIME_WAIT on the server is below --time-wait-threshold', async () => {
    const serious = (await labRun('server-close')).findings.filter((f) => f.severity !== 'info');
    expect(serious.map((f) => `${f.kind}/${f.severity}`)).toEqual([]);
  });
});

// ---------------------------------------------------------------- the wild corpus

describe.skipIf(!HAS_WILD)('serious detectors on the wild corpus (../shared/wild)', () => {
  test('the corpus is there and most of it reads', async () => {
    expect(WILD_FILES.length).toBeGreaterThan(50);
    let readable = 0;
    for (const path of WILD_FILES) if (!(await analyse(path)).unreadable) readable++;
    expect(readable).toBeGreaterThan(WILD_FILES.length / 2);
  });

  test('half-open-flood never fires: no wild capture holds 50 unfinished handshakes toward one listener', async () => {
    expect([...(await wildWith('half-open-flood')).keys()]).toEqual([]);
  });

  test('closing-stuck fires only where FINs crossed and one FIN stayed unacknowledged: fpcap-RICS2021’s server, 17.9 s until the client’s RST', async () => {
    const hits = await wildWith('closing-stuck');
    hits.delete('zeek/pppoe-over-qinq.pcap'); // judged separately below
    expect([...hits.keys()]).toEqual(['formats/fpcap-RICS2021_787__fwscada_20200625_160926.pcap']);
    const path = wildPath('formats/fpcap-RICS2021_787__fwscada_20200625_160926.pcap');
    const packets = await packetsOf(path);
    // 56.3.101.10:2404 → 192.168.197.8:50627: server FIN (1500), client FIN (1501, ack 1485176481 does
    // not cover the server's FIN at 1485176481), server ACKs it (1502) and keeps retransmitting its
    // FIN; the client's ACK never moves past 1485176481 until its RST (1556).
    const conv = packets.filter((p) => p.sport === 50627 || p.dport === 50627);
    const serverFin = conv.find((p) => p.sport === 2404 && has(p, FIN))!;
    const clientFin = conv.find((p) => p.sport === 50627 && has(p, FIN))!;
    const clientRst = conv.find((p) => p.sport === 50627 && has(p, RST))!;
    expect([serverFin.frame, clientFin.frame, clientRst.frame]).toEqual([1500, 1501, 1556]);
    expect(conv.filter((p) => p.sport === 50627 && p.frame > 1500).every((p) => !seqGe(p.ack, (serverFin.seq + 1) >>> 0))).toBe(true);
    const found = hits.get('formats/fpcap-RICS2021_787__fwscada_20200625_160926.pcap')!;
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ endpoint: 'server', host: '56.3.101.10', port: 2404, frame: 1501 });
    expect(found[0].details).toMatchObject({ until_end: false, duration_ns: Number(clientRst.tsNs - clientFin.tsNs) });
  });

  test('closing-stuck is not reported for pppoe-over-qinq’s server, whose FIN retransmissions never acknowledge the client’s FIN', async () => {
    const path = wildPath('zeek/pppoe-over-qinq.pcap');
    const packets = await packetsOf(path);
    const clientFin = packets.find((p) => p.src === '1.1.1.1' && has(p, FIN))!;
    const serverFins = packets.filter((p) => p.src === '2.2.2.2' && has(p, FIN));
    expect(clientFin.frame).toBe(80);
    expect(serverFins.map((p) => p.frame)).toEqual([82, 83, 84, 85, 86]);
    for (const p of serverFins) expect(seqGe(p.ack, (clientFin.seq + 1) >>> 0)).toBe(false);
    const found = ofKind((await analyse(path)).out, 'closing-stuck');
    expect(found.filter((f) => f.host === '2.2.2.2')).toEqual([]);
  });

  test('close-wait-leak is right on Teredo.pcap and zeek-206_example_b.pcap: the FIN was acknowledged and the own FIN/RST came 7-26 s later', async () => {
    const expected: Record<string, Array<{ endpoint: string; finFrame: number; ackFrame: number }>> = {
      // 192.168.2.16:1576 ACKs the FIN of frame 2 at frame 3 and resets at frame 18, 10.27 s later;
      // 192.168.2.16:1577 ACKs the FIN of frame 4 at frame 5 and sends its own FIN at frame 8, 6.97 s later.
      'zeek/Teredo.pcap': [
        { endpoint: '192.168.2.16:1576', finFrame: 2, ackFrame: 3 },
        { endpoint: '192.168.2.16:1577', finFrame: 4, ackFrame: 5 },
      ],
      // 192.168.72.14:3257 ACKs the server's FIN (frame 1554) at once and resets 26.2 s later (1556).
      'formats/zeek-206_example_b.pcap': [{ endpoint: '192.168.72.14:3257', finFrame: 1554, ackFrame: 1555 }],
    };
    for (const [name, endpoints] of Object.entries(expected)) {
      const path = wildPath(name);
      const out = (await analyse(path)).out;
      const evidence = [];
      for (const f of ofKind(out, 'close-wait-leak')) {
        expect(f.severity).toBe('error');
        expect(Number(f.details.longest_ns)).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.closeWaitSeconds * 1e9);
        evidence.push(...(await closeWaitEvidence(path, out, f)));
      }
      expect(
        evidence.sort((a, b) => a.endpoint.localeCompare(b.endpoint)),
        name,
      ).toEqual(endpoints);
    }
  });

  test('close-wait-leak in the wild only ever counts endpoints that acknowledged the peer’s FIN', async () => {
    const unacknowledged: string[] = [];
    for (const [name, found] of await wildWith('close-wait-leak')) {
      const path = wildPath(name);
      const out = (await analyse(path)).out;
      for (const f of found)
        for (const e of await closeWaitEvidence(path, out, f))
          if (e.ackFrame === null) unacknowledged.push(`${name} ${e.endpoint} (FIN frame ${e.finFrame})`);
    }
    expect(unacknowledged).toEqual([]);
  });

  test('dead-peer on pppoe-over-qinq: the server retransmits its FIN four times (frames 83-86) with no answer and falls silent', async () => {
    const path = wildPath('zeek/pppoe-over-qinq.pcap');
    const packets = await packetsOf(path);
    expect(packets.filter((p) => p.frame > 81).map((p) => [p.frame, p.src, has(p, FIN)])).toEqual(
      [82, 83, 84, 85, 86].map((f) => [f, '2.2.2.2', true]),
    );
    const found = ofKind((await analyse(path)).out, 'dead-peer');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ endpoint: 'server', host: '2.2.2.2', port: 443, frame: 83 });
    expect(found[0].details).toMatchObject({ retransmissions: 4, reset: false });
  });

  test('dead-peer does not fire on ssh.client-side-half-duplex, whose client ACKs show the server answering', async () => {
    const path = wildPath('zeek/ssh.client-side-half-duplex.pcap');
    const packets = (await packetsOf(path)).filter((p) => p.sport === 51489);
    const acks = packets.filter((p) => has(p, ACK)).map((p) => p.ack);
    expect(acks.at(-1)! - acks[0]).toBeGreaterThan(2000);
    expect(ofKind((await analyse(path)).out, 'dead-peer').filter((f) => f.port === 51489)).toEqual([]);
  });
});
if (!HAS_WILD) test.skip(NO_WILD_MESSAGE, () => undefined);

// ---------------------------------------------------------------- catalogue invariants

describe('every finding against the catalogue', () => {
  test('every kind emitted on the lab and wild captures is a FINDINGS code, with a non-empty message and the catalogue’s remedy', async () => {
    const paths = [...LAB_SCENARIOS.map(lab), ...WILD_FILES];
    const kinds = new Set<string>();
    for (const path of paths) {
      for (const f of (await analyse(path)).out.findings) {
        const where = `${basename(path)} ${f.kind} frame ${f.frame}`;
        expect(Object.keys(FINDINGS), where).toContain(f.kind);
        kinds.add(f.kind);
        expect(['info', 'warning', 'error'], where).toContain(f.severity);
        expect(f.message.trim().length, where).toBeGreaterThan(0);
        expect(typeof f.details.remedy, where).toBe('string');
        expect(String(f.details.remedy).length, where).toBeGreaterThan(0);
        expect(f.details.remedy, where).toBe(FINDINGS[f.kind].remedy);
      }
    }
    // The lab alone shows 13 of the catalogue's kinds; the wild captures (absent from a user's clone) add more.
    expect(kinds.size).toBeGreaterThanOrEqual(WILD_FILES.length > 0 ? 14 : 13);
  });

  test('no remedy repeats what docs/findings.md says flowstate never recommends', () => {
    for (const [kind, def] of Object.entries(FINDINGS)) {
      expect(def.remedy, kind).not.toMatch(/(set|enable|use) (net\.ipv4\.)?tcp_tw_recycle/);
      expect(def.remedy, kind).not.toMatch(/(lower|reduce|shorten) (net\.ipv4\.)?tcp_fin_timeout/);
    }
  });

  test('a finding that names a frame carries that frame’s time', async () => {
    const mismatches: string[] = [];
    for (const s of LAB_SCENARIOS) {
      const packets = await packetsOf(lab(s));
      for (const f of (await labRun(s)).findings) {
        if (f.frame === null) continue;
        if (f.tsNs !== frameTime(packets, f.frame)) mismatches.push(`${s} ${f.kind} frame ${f.frame}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
