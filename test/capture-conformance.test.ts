// The decoder against tshark, and our pcap reader against pcap-parser, on every
// committed capture and every file of ../shared/wild. Expected files are made by
// scripts/tshark-expected.mjs (tshark is not needed to run this test).
import { describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { createRequire } from 'node:module';
import { decodeFile } from './helpers/decode-file.js';
import { CAPTURES, HAS_WILD, NO_WILD_MESSAGE, ROOT, WILD, listCaptures } from './helpers/paths.js';
import { openCapture } from '../src/capture/open-capture.js';
import { forEachFrame } from '../src/capture/frame-stream.js';

const EXPECTED = join(ROOT, 'test/expected/tshark');

interface TsharkExpectation {
  error: string | undefined;
  /** Frames tshark decodes TCP in: on the outermost IP ("tcp") or inside a tunnel ("tunnel", the innermost IP's addresses). */
  direct: string[][];
  /** Frames where tshark finds a TCP header quoted in an ICMP error: never a segment. */
  quoted: Set<string>;
}

function expectationFor(capture: string): TsharkExpectation | undefined {
  const rel = capture.startsWith(WILD) ? join('wild', relative(WILD, capture)) : relative(ROOT, capture);
  const path = join(EXPECTED, `${rel}.tsv.gz`);
  if (!existsSync(path)) return undefined;
  const lines = gunzipSync(readFileSync(path)).toString('utf8').split('\n');
  const error = lines.find((l) => l.startsWith('# tshark error: '))?.slice('# tshark error: '.length);
  const rows = lines.filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));
  return {
    error,
    direct: rows.filter((r) => r[0] === 'tcp' || r[0] === 'tunnel').map((r) => r.slice(1)),
    quoted: new Set(rows.filter((r) => r[0] === 'quoted').map((r) => r[1])),
  };
}

const committed = listCaptures(CAPTURES);
const wild = listCaptures(WILD);

/** Formats tshark reads and we deliberately do not: we must refuse them with the hint that fits (convert, or decompress). */
const REFUSED_FORMATS: ReadonlyArray<[RegExp, RegExp]> = [
  [/\.snoop$/, /does not read: convert it first, e.g. 'editcap -F pcap/],
  [/\.zst$/, /does not read: decompress it first \('zstd -d'\)$/],
];

async function checkAgainstTshark(capture: string): Promise<void> {
  const expected = expectationFor(capture);
  expect(expected, `no tshark expectation for ${capture}: run node scripts/tshark-expected.mjs`).toBeDefined();
  if (!expected) return;
  const decoded = await decodeFile(capture);
  const refused = REFUSED_FORMATS.find(([name]) => name.test(capture));
  if (refused) {
    expect(decoded.error?.reason).toMatch(refused[1]);
    return;
  }
  if (expected.error && !/cut short/.test(expected.error)) {
    // tshark refuses the file as corrupt or unsupported; so must we, with a position.
    expect(decoded.error?.message, `tshark said: ${expected.error}`).toMatch(/byte offset \d+/);
    expect(decoded.rows).toEqual([]);
    return;
  }
  expect(decoded.error, decoded.error?.message).toBeUndefined();
  if (expected.error) expect(decoded.reader?.warnings.map((w) => w.message).join('\n')).toMatch(/ends inside frame \d+/);
  const ours = new Map(decoded.rows.map((row) => [row.split('\t')[0], row.split('\t')]));
  for (const theirs of expected.direct) {
    const frame = theirs[0];
    const mine = ours.get(frame);
    ours.delete(frame);
    if (theirs[5] === '') {
      // tshark saw only the ports: the TCP header is cut short, which we count and skip.
      expect(mine, `frame ${frame}: a TCP header cut short must not be decoded`).toBeUndefined();
      continue;
    }
    expect(mine, `frame ${frame} is TCP to tshark`).toBeDefined();
    if (theirs[8] === '') {
      // tshark leaves tcp.len empty for FabricPath-encapsulated frames; we report the payload bytes this packet carries.
      expect(mine?.slice(0, 8)).toEqual(theirs.slice(0, 8));
      expect(mine?.[9]).toEqual(theirs[9]);
    } else if (theirs[10] === '') {
      // tshark left the checksum unjudged (FabricPath-encapsulated frames): the rest must agree.
      expect(mine?.slice(0, 10), `frame ${frame}`).toEqual(theirs.slice(0, 10));
    } else {
      expect(mine, `frame ${frame}`).toEqual(theirs);
    }
  }
  for (const frame of ours.keys()) {
    expect(expected.quoted.has(frame) ? `frame ${frame} is a TCP header quoted by ICMP` : `frame ${frame} is not TCP to tshark`).toBe(
      'decoded only where tshark decodes a TCP segment',
    );
  }
}

describe('decoded TCP segments equal tshark’s on every committed capture', () => {
  test.each(committed.map((c) => [relative(ROOT, c), c]))('%s', async (_name, capture) => checkAgainstTshark(capture));
});

describe.skipIf(!HAS_WILD)('decoded TCP segments equal tshark’s on every wild capture', () => {
  test.each(wild.map((c) => [relative(WILD, c), c]))('%s', async (_name, capture) => checkAgainstTshark(capture));
});
if (!HAS_WILD) test.skip(NO_WILD_MESSAGE, () => undefined);

// pcap-parser, the independent second reader, reads classic little/big-endian microsecond pcap only.
const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser') as {
  parse(input: NodeJS.ReadableStream): NodeJS.EventEmitter;
};

interface Record {
  seconds: number;
  nanoseconds: number;
  captured: number;
  original: number;
  bytes: string;
}

async function recordsByPcapParser(capture: string): Promise<Record[] | string> {
  const raw = readFileSync(capture);
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  const magic = bytes.readUInt32LE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xd4c3b2a1) return 'pcap-parser reads only microsecond classic pcap';
  const stream = new PassThrough();
  const parser = pcapParser.parse(stream);
  const records: Record[] = [];
  const done = new Promise<void>((resolve, reject) => {
    parser.on(
      'packet',
      (p: {
        header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
        data: Buffer;
      }) => {
        records.push({
          seconds: p.header.timestampSeconds,
          nanoseconds: p.header.timestampMicroseconds * 1000,
          captured: p.header.capturedLength,
          original: p.header.originalLength,
          bytes: p.data.toString('base64'),
        });
      },
    );
    parser.on('end', resolve);
    parser.on('error', reject);
  });
  stream.end(bytes);
  await done;
  return records;
}

async function recordsByUs(capture: string): Promise<Record[]> {
  const reader = await openCapture(capture);
  const records: Record[] = [];
  await forEachFrame([reader], (f) => {
    records.push({
      seconds: f.tsSec,
      nanoseconds: f.tsNsec,
      captured: f.capturedLength,
      original: f.originalLength,
      bytes: f.data.toString('base64', f.dataOffset, f.dataOffset + f.capturedLength),
    });
  }).finally(() => reader.close());
  return records;
}

const classicPcaps = [...committed, ...wild].filter((c) => /\.pcap(\.gz)?$/.test(c));

describe('our pcap reader returns the frames pcap-parser returns', () => {
  test.each(classicPcaps.map((c) => [relative(ROOT, c).replace(/^\.\.\/shared\//, ''), c]))('%s', async (_name, capture) => {
    const theirs = await recordsByPcapParser(capture).catch((error: Error) => `pcap-parser failed: ${error.message}`);
    if (typeof theirs === 'string') {
      // Nanosecond, modified or corrupt files: pcap-parser has no say; the tshark test covers them.
      expect(theirs).toMatch(/reads only microsecond|unsupported version|unknown magic|pcap-parser failed/);
      return;
    }
    const ours = await recordsByUs(capture).catch(() => undefined);
    if (ours === undefined) return; // corrupt: covered by the tshark comparison and the bad-input tests
    expect(ours.length).toBe(theirs.length);
    expect(ours).toEqual(theirs);
  });
});
