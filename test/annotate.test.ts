// flowstate annotate: the captures again as pcapng, every state change and finding a packet
// comment on its frame. Proof, on every kernel-lab capture: tshark reads back exactly the
// transitions the database holds, frame for frame; capinfos and editcap accept the file;
// every frame's bytes, lengths and time are the input's. And a pcapng of its own (big-endian,
// two interfaces of different resolutions, comments and flags) keeps all of it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { analyzeToDatabase } from '../src/analyze.js';
import { annotateCapture, defaultAnnotatedPath, isFlowstateCapture } from '../src/annotate.js';
import { forEachFrame } from '../src/capture/frame-stream.js';
import { openCapture } from '../src/capture/open-capture.js';
import { NOTE_PREFIX, findingNote, transitionNote } from '../src/report/frame-notes.js';
import { formatEndpoint } from '../src/decode/format-address.js';
import { ETHERTYPE, PcapngBuilder, TCP_FLAG, ethernet, ipv4, tcp } from './helpers/build-packets.js';
import { CAPTURES, HAS_WILD, LAB_SCENARIOS, NO_WILD_MESSAGE, WILD, lab } from './helpers/paths.js';
import { flowstate } from './helpers/run-cli.js';

const HAS_TSHARK = spawnSync('tshark', ['--version']).status === 0;
const NO_TSHARK = 'skipped: tshark is not installed (CI installs it): the file is not read back by Wireshark here';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-annotate-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Frame {
  tsSec: number;
  tsNsec: number;
  linkType: number;
  capturedLength: number;
  originalLength: number;
  data: string;
}

/** Every frame of the captures, merged as analyze reads them, through flowstate's own readers. */
async function framesOf(paths: string[]): Promise<Frame[]> {
  const readers = [];
  for (const [i, path] of paths.entries()) readers.push(await openCapture(path, i));
  const frames: Frame[] = [];
  try {
    await forEachFrame(readers, (f) => {
      frames.push({
        tsSec: f.tsSec,
        tsNsec: f.tsNsec,
        linkType: f.linkType,
        capturedLength: f.capturedLength,
        originalLength: f.originalLength,
        data: f.data.toString('hex', f.dataOffset, f.dataOffset + f.capturedLength),
      });
    });
  } finally {
    await Promise.all(readers.map((r) => r.close()));
  }
  return frames;
}

/** Each frame's comments as tshark reads them (JSON keeps several comments apart), by frame number. */
function tsharkComments(path: string): Map<number, string[]> {
  const json = execFileSync('tshark', ['-r', path, '-T', 'json', '-e', 'frame.number', '-e', 'frame.comment'], {
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString('utf8');
  const out = new Map<number, string[]>();
  for (const packet of JSON.parse(json) as Array<{ _source: { layers: Record<string, string[]> } }>) {
    const layers = packet._source.layers;
    if (layers['frame.comment'] !== undefined) out.set(Number(layers['frame.number'][0]), layers['frame.comment']);
  }
  return out;
}

function tsharkFields(path: string, fields: string[]): string {
  return execFileSync('tshark', ['-r', path, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString('utf8');
}

/** What the database says each frame's flowstate comments must hold: the state changes (order-free) and the findings. */
function expectedFromDatabase(db: string): Map<number, { transitions: string[]; findings: string[] }> {
  const reader = new Database(db, { readonly: true });
  try {
    const out = new Map<number, { transitions: string[]; findings: string[] }>();
    const at = (frame: number): { transitions: string[]; findings: string[] } => {
      let entry = out.get(frame);
      if (entry === undefined) out.set(frame, (entry = { transitions: [], findings: [] }));
      return entry;
    };
    const rows = reader
      .prepare(
        `SELECT t.frame, t.endpoint, t.from_state, t.to_state, t.cause, t.inferred,
                f.client_ip, f.client_port, f.server_ip, f.server_port
         FROM transitions t JOIN flows f ON f.id = t.flow_id WHERE t.frame IS NOT NULL`,
      )
      .all() as Array<Record<string, string | number>>;
    for (const r of rows) {
      const endpoint =
        r.endpoint === 'client'
          ? formatEndpoint(String(r.client_ip), Number(r.client_port))
          : formatEndpoint(String(r.server_ip), Number(r.server_port));
      at(Number(r.frame)).transitions.push(
        transitionNote(endpoint, String(r.from_state), String(r.to_state), String(r.cause), r.inferred === 1),
      );
    }
    const findings = reader.prepare('SELECT frame, kind, severity, message FROM findings WHERE frame IS NOT NULL').all() as Array<
      Record<string, string | number>
    >;
    for (const f of findings) at(Number(f.frame)).findings.push(findingNote(String(f.kind), String(f.severity), String(f.message)));
    return out;
  } finally {
    reader.close();
  }
}

/** One frame's flowstate comments, split the way they were built: the state changes (sorted) and the findings (sorted). */
function split(comments: readonly string[]): { transitions: string[]; findings: string[] } {
  const ours = comments.filter((c) => c.startsWith(NOTE_PREFIX));
  const findings = ours.filter((c) => /^flowstate: [a-z0-9-]+ \((error|warning|info)\): /.test(c));
  const transitions = ours.filter((c) => !findings.includes(c)).flatMap((c) => c.slice(NOTE_PREFIX.length).split('; '));
  return { transitions: transitions.sort(), findings: findings.sort() };
}

describe('annotate on every kernel-lab capture', () => {
  test.each(LAB_SCENARIOS)('%s: same frames, and the comments are the database’s transitions frame for frame', async (scenario) => {
    const capture = lab(scenario);
    const out = join(dir, `${scenario}.pcapng`);
    const db = join(dir, `${scenario}.db`);
    const result = await annotateCapture([capture], out);
    await analyzeToDatabase([capture], db, { threads: 1 });
    expect(isFlowstateCapture(out)).toBe(true);

    // Our readers: the same frames, bytes, lengths, link types and instants, in the same order.
    const [before, after] = [await framesOf([capture]), await framesOf([out])];
    expect(after.length).toBe(before.length);
    expect(after).toEqual(before);
    expect(result.frames).toBe(before.length);

    const expected = expectedFromDatabase(db);
    let transitions = 0;
    for (const e of expected.values()) transitions += e.transitions.length;
    expect(result.frameTransitions).toBe(transitions);
    if (!HAS_TSHARK) return console.warn(NO_TSHARK);

    const comments = tsharkComments(out);
    const got = new Map([...comments].map(([frame, list]) => [frame, split(list)]));
    const want = new Map(
      [...expected].map(([frame, e]) => [frame, { transitions: [...e.transitions].sort(), findings: [...e.findings].sort() }]),
    );
    expect(new Map([...got].sort(([a], [b]) => a - b))).toEqual(new Map([...want].sort(([a], [b]) => a - b)));

    // Wireshark's view of time and lengths is the input's, to the nanosecond.
    const fields = ['frame.number', 'frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.protocols'];
    expect(tsharkFields(out, fields)).toBe(tsharkFields(capture, fields));
    // capinfos accepts it; editcap copies it.
    const info = execFileSync('capinfos', ['-c', '-M', out], { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
    expect(info).toMatch(new RegExp(`Number of packets:\\s+${before.length}\\b`));
    const copy = join(dir, `${scenario}.copy.pcapng`);
    execFileSync('editcap', [out, copy], { stdio: 'ignore' });
    expect(tsharkFields(copy, ['frame.number', 'frame.comment'])).toBe(tsharkFields(out, ['frame.number', 'frame.comment']));
  });
});

/** A frame of a TCP segment from 10.0.0.1:40000 to 10.0.0.2:80 (or back). */
function segment(fromClient: boolean, flags: number, seq: number, ack: number): Buffer {
  const [src, dst] = fromClient ? ['10.0.0.1', '10.0.0.2'] : ['10.0.0.2', '10.0.0.1'];
  const [srcPort, dstPort] = fromClient ? [40000, 80] : [80, 40000];
  return ethernet(ETHERTYPE.IPV4, ipv4({ src, dst, payload: tcp({ srcPort, dstPort, flags, seq, ack }) }));
}

/** An enhanced packet block with options (the builder's has none), in the builder's byte order. */
function packetWithOptions(
  b: PcapngBuilder,
  iface: number,
  units: bigint,
  data: Buffer,
  options: Array<{ code: number; value: Buffer }>,
): void {
  const word = (v: number): Buffer => {
    const x = Buffer.alloc(4);
    if (b.bigEndian) x.writeUInt32BE(v >>> 0);
    else x.writeUInt32LE(v >>> 0);
    return x;
  };
  const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
  b.block(
    6,
    Buffer.concat([
      word(iface),
      word(Number(units >> 32n)),
      word(Number(units & 0xffffffffn)),
      word(data.length),
      word(data.length),
      padded,
      b.encodeOptions(options),
    ]),
  );
}

describe('annotate on a pcapng of its own', () => {
  test('a big-endian file keeps both interfaces (resolution, offset, name), its own comments and flags, and every frame', async () => {
    const b = new PcapngBuilder(true);
    b.sectionHeader([{ code: 1, value: Buffer.from('the capture’s own section comment') }]);
    b.interface({ linkType: 1, name: 'eth-ns', tsresol: 9 });
    b.interface({ linkType: 1, name: 'eth-us', tsresol: 6, tsoffset: 1000 });
    const flags = (): Buffer => Buffer.from([0, 0, 0, 1]); // epb_flags, inbound (big-endian)
    const t0 = 1_700_000_000n;
    packetWithOptions(b, 0, t0 * 1_000_000_000n + 123_456_789n, segment(true, TCP_FLAG.SYN, 100, 0), [
      { code: 1, value: Buffer.from('first: the SYN') },
      { code: 2, value: flags() },
    ]);
    packetWithOptions(b, 1, (t0 - 1000n) * 1_000_000n + 123_500n, segment(false, TCP_FLAG.SYN | TCP_FLAG.ACK, 500, 101), []);
    packetWithOptions(b, 0, t0 * 1_000_000_000n + 123_600_001n, segment(true, TCP_FLAG.ACK, 101, 501), [
      { code: 1, value: Buffer.from('one') },
      { code: 1, value: Buffer.from('two, with a comma') },
    ]);
    packetWithOptions(b, 0, t0 * 1_000_000_000n + 200_000_000n, segment(true, TCP_FLAG.FIN | TCP_FLAG.ACK, 101, 501), []);
    const input = join(dir, 'own.pcapng');
    writeFileSync(input, b.bytes());
    const out = join(dir, 'own.annotated.pcapng');
    const result = await annotateCapture([input], out);
    expect(result.interfaces).toBe(2);
    expect(await framesOf([out])).toEqual(await framesOf([input]));
    if (!HAS_TSHARK) return console.warn(NO_TSHARK);
    const comments = tsharkComments(out);
    expect(comments.get(1)).toEqual(['first: the SYN', 'flowstate: 10.0.0.1:40000 CLOSED→SYN_SENT (sent SYN)']);
    expect(comments.get(3)?.slice(0, 2)).toEqual(['one', 'two, with a comma']);
    expect(comments.get(4)?.[0]).toMatch(/^flowstate: 10\.0\.0\.1:40000 ESTABLISHED→FIN_WAIT1 \(sent FIN\)/);
    const fields = [
      'frame.number',
      'frame.time_epoch',
      'frame.len',
      'frame.cap_len',
      'frame.interface_id',
      'frame.interface_name',
      'frame.packet_flags',
    ];
    expect(tsharkFields(out, fields)).toBe(tsharkFields(input, fields));
    const info = execFileSync('capinfos', [out], { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
    expect(info).toContain('the capture’s own section comment');
    expect(info).toMatch(/flowstate \S+ annotate: 4 packets \(4 TCP segments\), 1 connections/);
    expect(info).toMatch(/Time precision = nanoseconds \(9\)[\s\S]*Time precision = microseconds \(6\)/);
  });

  test.skipIf(!HAS_WILD || !HAS_TSHARK)(
    'Wireshark’s pcapng example (two interfaces, 100 comments) keeps every comment and byte',
    async () => {
      const input = join(WILD, 'formats/ppp-pcapng-example.pcapng');
      const out = join(dir, 'example.pcapng');
      await annotateCapture([input], out);
      const fields = ['frame.number', 'frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.interface_id'];
      expect(tsharkFields(out, fields)).toBe(tsharkFields(input, fields));
      const own = tsharkComments(input);
      const got = tsharkComments(out);
      expect(own.size).toBe(100);
      for (const [frame, list] of own) expect(got.get(frame)?.slice(0, list.length)).toEqual(list);
      expect(execFileSync('tshark', ['-r', out, '-x'], { stdio: ['ignore', 'pipe', 'ignore'] })).toEqual(
        execFileSync('tshark', ['-r', input, '-x'], { stdio: ['ignore', 'pipe', 'ignore'] }),
      );
    },
  );
  if (!HAS_WILD) test.skip(NO_WILD_MESSAGE, () => undefined);
});

describe('annotate on several captures and at the command line', () => {
  test('two captures are merged by time, one interface each, the comments on the merged frames', async () => {
    const inputs = [join(CAPTURES, 'fmt-usec.pcap'), join(CAPTURES, 'fmt-nsec.pcap')];
    const out = join(dir, 'two.pcapng');
    const result = await annotateCapture(inputs, out);
    expect(result.interfaces).toBe(2);
    expect(await framesOf([out])).toEqual(await framesOf(inputs));
  });

  test('writes beside the first capture by default, refuses an input and a foreign file, replaces its own', async () => {
    expect(defaultAnnotatedPath('/x/leak.pcap.gz')).toBe('/x/leak.flowstate.pcapng');
    const input = join(dir, 'leak.pcap');
    writeFileSync(input, execFileSync('cat', [lab('close-wait-leak')]));
    let run = await flowstate(['annotate', input]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^wrote .*leak\.flowstate\.pcapng: 180 frames on 1 interface, 100 frames commented/);
    run = await flowstate(['annotate', input]);
    expect(run.status).toBe(0);
    run = await flowstate(['annotate', input, '--out', input, '--force']);
    expect(run.status).toBe(2);
    const foreign = join(dir, 'notes.txt');
    writeFileSync(foreign, 'keep me');
    run = await flowstate(['annotate', input, '--out', foreign]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/exists and is not/);
    run = await flowstate(['annotate', '-']);
    expect(run.status).toBe(2);
  });
});
