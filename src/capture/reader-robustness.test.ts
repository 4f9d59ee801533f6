// The capture readers on damaged input: hand-built files for each container
// edge case, then a fuzz pass that truncates and byte-flips real and hand-built
// captures and checks that reading fails only the documented way.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { CaptureFormatError } from './capture-format-error.js';
import type { CapturedFrame } from './captured-frame.js';
import { forEachFrame } from './frame-stream.js';
import type { CaptureWarning, FrameReader } from './frame-reader.js';
import { openCapture } from './open-capture.js';
import { PacketDecoder } from '../decode/packet-decoder.js';
import { LinkType } from '../decode/link-types.js';
import { CAPTURES, HAS_WILD, WILD, listCaptures } from '../../test/helpers/paths.js';
import {
  ETHERTYPE,
  PcapngBuilder,
  type PcapRecord,
  ethernet,
  gzip,
  ipv4,
  ipv6,
  linuxSll2,
  pcapFile,
  pcapRecordOffsets,
  seededBytes,
  tcp,
} from '../../test/helpers/build-packets.js';

let dir: string;
let fileCount = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-reader-robustness-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `bytes` to a fresh file in the temporary directory. */
function write(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, `${++fileCount}-${name}`);
  writeFileSync(path, bytes);
  return path;
}

interface SeenFrame {
  source: number;
  frame: number;
  offset: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  interfaceId: number;
  capturedLength: number;
  originalLength: number;
  bytes: Buffer;
}

interface ReadResult {
  frames: SeenFrame[];
  /** Frames the decoder found TCP in. */
  tcp: number;
  error: CaptureFormatError | undefined;
  warnings: CaptureWarning[];
  readers: FrameReader[];
}

function copyFrame(frame: CapturedFrame): SeenFrame {
  expect(frame.dataOffset + frame.capturedLength, 'a frame’s bytes lie inside its buffer').toBeLessThanOrEqual(frame.data.length);
  return {
    source: frame.source,
    frame: frame.frame,
    offset: frame.offset,
    tsSec: frame.tsSec,
    tsNsec: frame.tsNsec,
    linkType: frame.linkType,
    interfaceId: frame.interfaceId,
    capturedLength: frame.capturedLength,
    originalLength: frame.originalLength,
    bytes: Buffer.from(frame.data.subarray(frame.dataOffset, frame.dataOffset + frame.capturedLength)),
  };
}

/**
 * Opens and reads every path as one merged capture, decoding each frame. A
 * CaptureFormatError is returned with the frames read before it; anything else
 * escapes (and fails the test).
 */
async function readAll(paths: string | string[]): Promise<ReadResult> {
  const list = Array.isArray(paths) ? paths : [paths];
  const decoder = new PacketDecoder();
  const frames: SeenFrame[] = [];
  const readers: FrameReader[] = [];
  let tcpCount = 0;
  let error: CaptureFormatError | undefined;
  try {
    for (const [i, path] of list.entries()) readers.push(await openCapture(path, i));
    const errors = await forEachFrame(readers, (frame) => {
      frames.push(copyFrame(frame));
      if (decoder.decode(frame)) tcpCount++;
    });
    error = errors.find((e) => e !== undefined);
  } catch (caught) {
    if (!(caught instanceof CaptureFormatError)) throw caught;
    error = caught;
  } finally {
    await Promise.all(readers.map((r) => r.close()));
  }
  return { frames, tcp: tcpCount, error, warnings: readers.flatMap((r) => [...r.warnings]), readers };
}

// ------------------------------------------------------------ sample packets

function packet(i: number, version: 4 | 6 = 4): Buffer {
  const segment = tcp({ srcPort: 40000 + i, dstPort: 80, seq: 1000 * i, ack: 1, payload: Buffer.alloc(i % 7, 0x41 + i) });
  return version === 4 ? ipv4({ payload: segment }) : ipv6({ payload: segment });
}

function ethernetPacket(i: number): Buffer {
  return ethernet(ETHERTYPE.IPV4, packet(i));
}

function records(count: number, start = 1_700_000_000): PcapRecord[] {
  return Array.from({ length: count }, (_, i) => ({ tsSec: start + i, tsFrac: 1000 * i + 7, data: ethernetPacket(i) }));
}

function framesOf(result: ReadResult): Array<[number, number]> {
  return result.frames.map((f) => [f.source, f.frame]);
}

// ---------------------------------------------------------------- pcap files

describe('classic pcap', () => {
  test('reads every record with its frame number, offset, time and bytes', async () => {
    const recs = records(4);
    const result = await readAll(write('plain.pcap', pcapFile({ records: recs })));
    expect(result.error).toBeUndefined();
    expect(result.warnings).toEqual([]);
    expect(result.frames.map((f) => f.frame)).toEqual([1, 2, 3, 4]);
    expect(result.frames.map((f) => f.offset)).toEqual(pcapRecordOffsets(recs));
    expect(result.frames.map((f) => [f.tsSec, f.tsNsec])).toEqual(recs.map((r) => [r.tsSec, (r.tsFrac ?? 0) * 1000]));
    expect(result.frames.map((f) => f.bytes)).toEqual(recs.map((r) => Buffer.from(r.data)));
    expect(result.tcp).toBe(4);
  });

  test('keeps nanoseconds from a nanosecond-magic file', async () => {
    const recs: PcapRecord[] = [
      { tsSec: 1_700_000_000, tsFrac: 123_456_789, data: ethernetPacket(1) },
      { tsSec: 1_700_000_001, tsFrac: 999_999_999, data: ethernetPacket(2) },
    ];
    const result = await readAll(write('nano.pcap', pcapFile({ nanoseconds: true, records: recs })));
    expect(result.readers[0].format).toBe('pcap-ns');
    expect(result.frames.map((f) => [f.tsSec, f.tsNsec])).toEqual([
      [1_700_000_000, 123_456_789],
      [1_700_000_001, 999_999_999],
    ]);
  });

  test('reads a big-endian file (microseconds and nanoseconds) like a little-endian one', async () => {
    const recs = records(3);
    const little = await readAll(write('le.pcap', pcapFile({ records: recs })));
    const big = await readAll(write('be.pcap', pcapFile({ bigEndian: true, records: recs })));
    expect(big.error).toBeUndefined();
    expect(big.frames).toEqual(little.frames);
    const nano = await readAll(
      write('be-nano.pcap', pcapFile({ bigEndian: true, nanoseconds: true, records: [{ tsSec: 5, tsFrac: 42, data: ethernetPacket(1) }] })),
    );
    expect(nano.frames.map((f) => [f.tsSec, f.tsNsec])).toEqual([[5, 42]]);
    expect(nano.tcp).toBe(1);
  });

  test('takes the link type from the file header', async () => {
    const result = await readAll(
      write(
        'raw.pcap',
        pcapFile({
          linkType: LinkType.RAW,
          records: [
            { tsSec: 1, data: packet(1) },
            { tsSec: 2, data: packet(2, 6) },
          ],
        }),
      ),
    );
    expect(result.frames.map((f) => f.linkType)).toEqual([LinkType.RAW, LinkType.RAW]);
    expect(result.tcp).toBe(2);
  });

  test('warns, naming offset and frame, when the file ends inside a record, and keeps the frames before it', async () => {
    const recs = records(3);
    const offsets = pcapRecordOffsets(recs);
    const whole = pcapFile({ records: recs });
    const result = await readAll(write('cut-in-data.pcap', whole.subarray(0, offsets[2] + 16 + 10)));
    expect(result.error).toBeUndefined();
    expect(result.frames.map((f) => f.frame)).toEqual([1, 2]);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatchObject({ offset: offsets[2], frame: 3 });
    expect(result.warnings[0].message).toMatch(/ends inside frame 3: 26 of \d+ bytes of its record present/);
  });

  test('warns when the file ends inside a record header', async () => {
    const recs = records(2);
    const offsets = pcapRecordOffsets(recs);
    const result = await readAll(write('cut-in-header.pcap', pcapFile({ records: recs }).subarray(0, offsets[1] + 9)));
    expect(result.error).toBeUndefined();
    expect(result.frames.map((f) => f.frame)).toEqual([1]);
    expect(result.warnings[0]).toMatchObject({ offset: offsets[1], frame: 2 });
    expect(result.warnings[0].message).toMatch(/9 of 16 bytes of its record present/);
  });

  test('reads a file of just a header as no frames, quietly', async () => {
    const result = await readAll(write('header-only.pcap', pcapFile({ records: [] })));
    expect(result.error).toBeUndefined();
    expect(result.frames).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  test('refuses an impossible record length with a CaptureFormatError naming offset and frame, after the frames before it', async () => {
    const recs = records(3);
    recs[1] = { ...recs[1], capturedLengthField: 0x7fffffff };
    const offsets = pcapRecordOffsets(recs);
    const path = write('impossible-length.pcap', pcapFile({ snapLength: 65535, records: recs }));
    const result = await readAll(path);
    expect(result.frames.map((f) => f.frame)).toEqual([1]);
    expect(result.error).toBeInstanceOf(CaptureFormatError);
    expect(result.error).toMatchObject({ path, offset: offsets[1], frame: 2 });
    expect(result.error?.message).toMatch(/record length 2147483647 is larger than the largest possible packet/);
    expect(result.error?.message).toContain(`(byte offset ${offsets[1]}, frame 2)`);
  });

  test('refuses a header cut short, naming how much was there', async () => {
    const result = await readAll(write('short-header.pcap', pcapFile({ records: [] }).subarray(0, 10)));
    expect(result.error?.message).toMatch(/pcap file header is cut short: 10 of 24 bytes/);
    expect(result.error?.message).toMatch(/byte offset \d+/);
  });

  test('refuses a version other than 2.x', async () => {
    const result = await readAll(write('version-3.pcap', pcapFile({ versionMajor: 3, records: records(1) })));
    expect(result.error?.message).toMatch(/unsupported pcap version 3\.4/);
    expect(result.error?.offset).toBe(4);
  });

  test('refuses a 4 GiB record under a corrupt snap length with a CaptureFormatError, not a RangeError', async () => {
    const recs: PcapRecord[] = [
      { tsSec: 1, data: ethernetPacket(1) },
      { tsSec: 2, data: Buffer.alloc(64), capturedLengthField: 0xffffffff },
    ];
    // More than the reader's first 2 MiB read, so the record is not already all in memory.
    const file = Buffer.concat([pcapFile({ snapLength: 0xffffffff, records: recs }), Buffer.alloc(3 << 20)]);
    const path = write('corrupt-snaplen.pcap', file);
    let escaped: unknown;
    try {
      const result = await readAll(path);
      expect(result.error).toBeInstanceOf(CaptureFormatError);
    } catch (error) {
      escaped = error;
    }
    expect(escaped).toBeUndefined();
  });
});

// -------------------------------------------------------------- pcapng files

describe('pcapng', () => {
  test('reads two interfaces of different link types, with nanosecond, binary 2^-20 and microsecond resolution and if_tsoffset', async () => {
    const ng = new PcapngBuilder()
      .sectionHeader()
      .interface({ linkType: LinkType.ETHERNET, tsresol: 9 })
      .interface({ linkType: LinkType.RAW, tsresol: 0x80 | 20, tsoffset: 100 })
      .interface({ linkType: LinkType.LINUX_SLL2 })
      .enhancedPacket(0, 1_700_000_000n * 1_000_000_000n + 123_456_789n, ethernetPacket(1))
      .enhancedPacket(1, (1_700_000_000n << 20n) + (1n << 19n), packet(2))
      .enhancedPacket(1, (1_700_000_001n << 20n) + 1024n, packet(3, 6))
      .enhancedPacket(2, 1_700_000_002n * 1_000_000n + 654_321n, linuxSll2(ETHERTYPE.IPV4, packet(4)));
    const result = await readAll(write('two-links.pcapng', ng.bytes()));
    expect(result.error).toBeUndefined();
    expect(result.readers[0].format).toBe('pcapng');
    expect([...result.readers[0].linkTypes].sort((a, b) => a - b)).toEqual([LinkType.ETHERNET, LinkType.RAW, LinkType.LINUX_SLL2]);
    expect(result.frames.map((f) => [f.frame, f.interfaceId, f.linkType, f.tsSec, f.tsNsec])).toEqual([
      [1, 0, LinkType.ETHERNET, 1_700_000_000, 123_456_789],
      [2, 1, LinkType.RAW, 1_700_000_100, 500_000_000],
      [3, 1, LinkType.RAW, 1_700_000_101, 976_562], // 1024 / 2^20 s = 976562.5 ns, truncated
      [4, 2, LinkType.LINUX_SLL2, 1_700_000_002, 654_321_000],
    ]);
    expect(result.frames.map((f) => f.offset)).toEqual(ng.offsets.slice(4));
    expect(result.tcp).toBe(4);
  });

  test('converts decimal timestamps exactly at every resolution, across second boundaries and past 2^53 units', async () => {
    for (let exponent = 0; exponent <= 9; exponent++) {
      const perSecond = 10n ** BigInt(exponent);
      const edges = [0n, 1n, perSecond - 1n, perSecond, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n];
      for (const second of [1_700_000_000n, 1_799_999_999n])
        edges.push(second * perSecond - 1n, second * perSecond, second * perSecond + perSecond - 1n);
      const random = fc.sample(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { numRuns: 200, seed: exponent });
      const units = [...edges, ...random];
      const ng = new PcapngBuilder().sectionHeader().interface({ linkType: LinkType.ETHERNET, tsresol: exponent });
      units.forEach((u, i) => ng.enhancedPacket(0, u, ethernetPacket(i)));
      const result = await readAll(write(`resolution-${exponent}.pcapng`, ng.bytes()));
      expect(result.error).toBeUndefined();
      const expected = units.map((u) => [Number(u / perSecond), Number((u % perSecond) * 10n ** BigInt(9 - exponent))]);
      expect(
        result.frames.map((f) => [f.tsSec, f.tsNsec]),
        `10^-${exponent} s`,
      ).toEqual(expected);
    }
  });

  test('reads a big-endian section like a little-endian one', async () => {
    const build = (bigEndian: boolean): Buffer =>
      new PcapngBuilder(bigEndian)
        .sectionHeader()
        .interface({ linkType: LinkType.ETHERNET })
        .enhancedPacket(0, 1_700_000_000_000_001n, ethernetPacket(1))
        .simplePacket(ethernetPacket(2))
        .bytes();
    const little = await readAll(write('le.pcapng', build(false)));
    const big = await readAll(write('be.pcapng', build(true)));
    expect(big.error).toBeUndefined();
    expect(big.frames).toEqual(little.frames);
    expect(big.frames).toHaveLength(2);
    expect(big.tcp).toBe(2);
  });

  test('refuses a block length that is not a multiple of 4, naming the block’s offset', async () => {
    const ng = new PcapngBuilder().sectionHeader().interface({ linkType: LinkType.ETHERNET }).enhancedPacket(0, 1n, ethernetPacket(1));
    ng.block(6, Buffer.alloc(20), 13);
    const result = await readAll(write('length-13.pcapng', ng.bytes()));
    expect(result.frames.map((f) => f.frame)).toEqual([1]);
    expect(result.error).toBeInstanceOf(CaptureFormatError);
    expect(result.error?.offset).toBe(ng.offsets[3]);
    expect(result.error?.message).toMatch(/cannot read pcapng block: block length 13 is not a multiple of 4/);
    expect(result.error?.message).toMatch(new RegExp(`byte offset ${ng.offsets[3]}\\b`));
  });

  test('names the frame being read when a pcapng block after the first frame is corrupt', async () => {
    const ng = new PcapngBuilder().sectionHeader().interface({ linkType: LinkType.ETHERNET }).enhancedPacket(0, 1n, ethernetPacket(1));
    ng.block(6, Buffer.alloc(20), 13);
    const result = await readAll(write('length-13-frame.pcapng', ng.bytes()));
    expect(result.error?.frame).toBe(2);
  });

  test('refuses a block whose trailing length differs', async () => {
    const ng = new PcapngBuilder().sectionHeader().interface({ linkType: LinkType.ETHERNET });
    const bad = new PcapngBuilder().enhancedPacket(0, 1n, ethernetPacket(1)).bytes();
    bad.writeUInt32LE(bad.length + 4, bad.length - 4);
    ng.raw(bad);
    const result = await readAll(write('trailer.pcapng', ng.bytes()));
    expect(result.error?.message).toMatch(/does not match its trailing copy/);
  });

  test('refuses a packet on an interface the section does not describe', async () => {
    const ng = new PcapngBuilder().sectionHeader().interface({ linkType: LinkType.ETHERNET }).enhancedPacket(3, 1n, ethernetPacket(1));
    const result = await readAll(write('no-such-interface.pcapng', ng.bytes()));
    expect(result.error?.message).toMatch(/packet refers to interface 3, but the section describes 1/);
    expect(result.error?.frame).toBe(1);
  });

  test('refuses an option that overruns its block', async () => {
    const ng = new PcapngBuilder().sectionHeader();
    const idb = new PcapngBuilder().interface({ linkType: LinkType.ETHERNET, tsresol: 6 }).bytes();
    idb.writeUInt16LE(200, 16 + 2); // if_tsresol claims 200 bytes
    ng.raw(idb);
    const result = await readAll(write('option-overrun.pcapng', ng.bytes()));
    expect(result.error?.message).toMatch(/option 9 of 200 bytes overruns its block/);
  });

  test('warns when the file ends inside a block, and keeps the frames before it', async () => {
    const ng = new PcapngBuilder()
      .sectionHeader()
      .interface({ linkType: LinkType.ETHERNET })
      .enhancedPacket(0, 1n, ethernetPacket(1))
      .enhancedPacket(0, 2n, ethernetPacket(2));
    const result = await readAll(write('cut.pcapng', ng.bytes().subarray(0, ng.offsets[3] + 20)));
    expect(result.error).toBeUndefined();
    expect(result.frames.map((f) => f.frame)).toEqual([1]);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatchObject({ offset: ng.offsets[3], frame: 2 });
    expect(result.warnings[0].message).toMatch(/ends inside frame \d+: 20 of \d+ bytes of its block present/);
  });

  test('skips blocks that carry no packets and counts them by type', async () => {
    const ng = new PcapngBuilder()
      .sectionHeader()
      .interface({ linkType: LinkType.ETHERNET })
      .block(5, Buffer.alloc(16))
      .block(0x0bad, Buffer.alloc(4))
      .enhancedPacket(0, 1n, ethernetPacket(1));
    const result = await readAll(write('skipped.pcapng', ng.bytes()));
    expect(result.frames).toHaveLength(1);
    expect(result.readers[0].skippedBlocks.get(5)).toBe(1);
    expect(result.readers[0].skippedBlocks.get(0x0bad)).toBe(1);
  });

  test('starts interface numbering afresh in a second section', async () => {
    const ng = new PcapngBuilder()
      .sectionHeader()
      .interface({ linkType: LinkType.ETHERNET })
      .enhancedPacket(0, 1n, ethernetPacket(1))
      .sectionHeader()
      .interface({ linkType: LinkType.RAW })
      .enhancedPacket(0, 2n, packet(2));
    const result = await readAll(write('two-sections.pcapng', ng.bytes()));
    expect(result.frames.map((f) => [f.frame, f.linkType])).toEqual([
      [1, LinkType.ETHERNET],
      [2, LinkType.RAW],
    ]);
    expect(result.tcp).toBe(2);
  });
});

// -------------------------------------------------- not a capture, and gzip

describe('what is not a capture', () => {
  test('refuses an empty file', async () => {
    const result = await readAll(write('empty.pcap', ''));
    expect(result.error?.message).toMatch(/the file is empty, not a capture \(byte offset 0\)/);
    expect(result.frames).toEqual([]);
  });

  test('refuses a text file, showing how it starts', async () => {
    const result = await readAll(write('notes.pcap', 'hello world\nthis is not a capture\n'));
    expect(result.error).toBeInstanceOf(CaptureFormatError);
    expect(result.error?.message).toMatch(/not a pcap or pcapng capture: it starts with 68 65 6c 6c 6f 20 77 6f \(text "hello wo"\)/);
    expect(result.error?.message).toMatch(/byte offset 0/);
  });

  test('refuses a binary file that is no capture, in hex', async () => {
    const result = await readAll(write('binary.bin', Buffer.from([0, 1, 2, 3, 0xfe, 0xff, 0x80, 0x7f, 9, 9])));
    expect(result.error?.message).toMatch(/it starts with 00 01 02 03 fe ff 80 7f \(byte offset 0\)/);
  });

  test('names a foreign format it recognises and says how to convert it', async () => {
    const result = await readAll(write('trace.snoop', Buffer.concat([Buffer.from('snoop\0\0\0', 'latin1'), Buffer.alloc(16)])));
    expect(result.error?.message).toMatch(/Solaris snoop capture, which flowstate does not read: convert it first/);
    expect(result.error?.message).not.toMatch(/decompress/);
    const zstd = await readAll(write('trace.pcap.zst', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0])));
    expect(zstd.error?.reason).toBe("this is zstd-compressed, which flowstate does not read: decompress it first ('zstd -d')");
  });
});

describe('gzip', () => {
  test('reads a gzip of a pcap as the same frames as the pcap', async () => {
    const file = pcapFile({ records: records(5) });
    const plain = await readAll(write('plain.pcap', file));
    const zipped = await readAll(write('zipped.pcap.gz', gzip(file)));
    expect(zipped.error).toBeUndefined();
    expect(zipped.readers[0].gzipped).toBe(true);
    expect(zipped.frames).toEqual(plain.frames);
    expect(zipped.tcp).toBe(5);
  });

  test('reads a gzip of a pcapng as the same frames as the pcapng', async () => {
    const file = new PcapngBuilder()
      .sectionHeader()
      .interface({ linkType: LinkType.ETHERNET, tsresol: 9 })
      .enhancedPacket(0, 10n, ethernetPacket(1))
      .enhancedPacket(0, 20n, ethernetPacket(2))
      .bytes();
    const plain = await readAll(write('plain.pcapng', file));
    const zipped = await readAll(write('zipped.pcapng.gz', gzip(file)));
    expect(zipped.frames).toEqual(plain.frames);
  });

  test('says clearly when gzip data is cut short', async () => {
    const zipped = gzip(pcapFile({ records: records(20) }));
    const result = await readAll(write('cut.pcap.gz', zipped.subarray(0, zipped.length - 30)));
    expect(result.error).toBeInstanceOf(CaptureFormatError);
    expect(result.error?.message).toMatch(/gzip data is corrupt or cut short/);
    expect(result.error?.message).toMatch(/byte offset \d+/);
  });

  test('keeps the frames decompressed before a gzip stream breaks off', async () => {
    // About 3 MiB of incompressible records: more than one read of the record buffer.
    const recs: PcapRecord[] = Array.from({ length: 3000 }, (_, i) => ({ tsSec: i, data: seededBytes(i + 1, 1000) }));
    const zipped = gzip(pcapFile({ linkType: LinkType.RAW, records: recs }));
    const result = await readAll(write('big-cut.pcap.gz', zipped.subarray(0, Math.floor(zipped.length * 0.8))));
    expect(result.error).toBeInstanceOf(CaptureFormatError);
    expect(result.error?.message).toMatch(/gzip data is corrupt or cut short/);
    expect(result.frames.length).toBeGreaterThan(0);
    expect(result.frames.length).toBeLessThan(3000);
    // Every whole record zlib can decompress from the cut file, none lost with the buffer the error cut off.
    const prefix = gunzipSync(zipped.subarray(0, Math.floor(zipped.length * 0.8)), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    expect(result.frames.length).toBe(Math.floor((prefix.length - 24) / (16 + 1000)));
    expect(result.frames.map((f) => f.frame)).toEqual(result.frames.map((_, i) => i + 1));
    expect(result.error?.frame).toBe(result.frames.length + 1);
    expect(result.frames[result.frames.length - 1].bytes).toEqual(recs[result.frames.length - 1].data);
  });

  test('says when a gzip file holds something other than a capture', async () => {
    const result = await readAll(write('text.gz', gzip(Buffer.from('just some text, no capture'))));
    expect(result.error?.message).toMatch(/gzip-compressed, but what is inside is not a pcap or pcapng capture/);
  });
});

describe('several files merged by time', () => {
  test('interleaves frames by timestamp and keeps each frame’s source and frame number (ties in input order)', async () => {
    const a = pcapFile({ nanoseconds: true, records: [1, 3, 5, 7].map((t, i) => ({ tsSec: t, tsFrac: 0, data: ethernetPacket(i) })) });
    const b = new PcapngBuilder()
      .sectionHeader()
      .interface({ linkType: LinkType.RAW, tsresol: 9 })
      .enhancedPacket(0, 2_000_000_000n, packet(10))
      .enhancedPacket(0, 4_000_000_000n, packet(11))
      .enhancedPacket(0, 6_000_000_000n, packet(12))
      .enhancedPacket(0, 7_000_000_000n, packet(13))
      .enhancedPacket(0, 7_000_000_001n, packet(14))
      .bytes();
    const result = await readAll([write('a.pcap', a), write('b.pcapng', b)]);
    expect(result.error).toBeUndefined();
    expect(framesOf(result)).toEqual([
      [0, 1],
      [1, 1],
      [0, 2],
      [1, 2],
      [0, 3],
      [1, 3],
      [0, 4],
      [1, 4],
      [1, 5],
    ]);
    expect(result.frames.map((f) => f.tsSec)).toEqual([1, 2, 3, 4, 5, 6, 7, 7, 7]);
    expect(result.frames.map((f) => f.linkType)).toEqual([1, 101, 1, 101, 1, 101, 1, 101, 101]);
    expect(result.tcp).toBe(9);
  });

  test('keeps every frame of a file that ends before the other', async () => {
    const a = pcapFile({ records: [{ tsSec: 1, data: ethernetPacket(1) }] });
    const b = pcapFile({ records: [2, 3, 4].map((t) => ({ tsSec: t, data: ethernetPacket(t) })) });
    const result = await readAll([write('short.pcap', a), write('long.pcap', b)]);
    expect(framesOf(result)).toEqual([
      [0, 1],
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
  });
});

// -------------------------------------------------------------------- fuzz

/** Hand-built captures of every container shape, besides the real ones. */
function handBuiltCorpus(): Array<[string, Buffer]> {
  const ng = new PcapngBuilder()
    .sectionHeader([{ code: 4, value: Buffer.from('flowstate test') }])
    .interface({ linkType: LinkType.ETHERNET, tsresol: 9, name: 'eth0' })
    .interface({ linkType: LinkType.RAW, tsresol: 0x80 | 20, tsoffset: -5 })
    .enhancedPacket(0, 1_700_000_000_000_000_000n, ethernetPacket(1))
    .enhancedPacket(1, 123456789n, packet(2, 6))
    .simplePacket(ethernetPacket(3))
    .block(5, Buffer.alloc(12))
    .enhancedPacket(0, 1_700_000_000_000_000_001n, ethernetPacket(4), 1514);
  const bigNg = new PcapngBuilder(true)
    .sectionHeader()
    .interface({ linkType: LinkType.ETHERNET })
    .enhancedPacket(0, 5n, ethernetPacket(5))
    .enhancedPacket(0, 6n, ethernetPacket(6));
  const plain = pcapFile({ records: records(6) });
  return [
    ['hand-le.pcap', plain],
    ['hand-be-nano.pcap', pcapFile({ bigEndian: true, nanoseconds: true, records: records(4) })],
    [
      'hand-raw.pcap',
      pcapFile({
        linkType: LinkType.RAW,
        snapLength: 96,
        records: [
          { tsSec: 1, data: packet(1) },
          { tsSec: 2, data: packet(2, 6), originalLength: 2000 },
        ],
      }),
    ],
    ['hand.pcapng', ng.bytes()],
    ['hand-be.pcapng', bigNg.bytes()],
    ['hand.pcap.gz', gzip(plain)],
  ];
}

/** Real captures: the repository's own, and the small files of the shared wild corpus. */
function realCorpus(): Array<[string, Buffer]> {
  const wild = HAS_WILD ? listCaptures(WILD).filter((p) => statSync(p).size <= 32 * 1024) : [];
  const committed = listCaptures(CAPTURES).filter((p) => statSync(p).size <= 256 * 1024);
  return [...committed, ...wild].map((p) => [basename(p), readFileSync(p)]);
}

/** Deterministic by default; FLOWSTATE_FUZZ_RUNS and FLOWSTATE_FUZZ_SEED let a developer dig deeper. */
const FUZZ_RUNS = Number(process.env.FLOWSTATE_FUZZ_RUNS ?? 800);
const FUZZ_SEED = Number(process.env.FLOWSTATE_FUZZ_SEED ?? 0xf10a57a7);

describe('damaged captures (fuzz)', () => {
  const corpus = [...handBuiltCorpus(), ...realCorpus()];

  const mutation = fc.record({
    which: fc.nat({ max: corpus.length - 1 }),
    /** Keep this fraction of the file (undefined: all of it). */
    keep: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    /** Byte flips, half of them in the first 64 bytes where the headers are. */
    flips: fc.array(fc.record({ at: fc.oneof(fc.nat({ max: 63 }), fc.nat()), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 8 }),
  });

  test('uses real captures as well as hand-built ones', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(6);
    if (HAS_WILD) expect(corpus.length).toBeGreaterThan(50);
  });

  test('fails only with a CaptureFormatError naming a byte offset, and keeps the frames read before it', async () => {
    let errors = 0;
    let framesSeen = 0;
    await fc.assert(
      fc.asyncProperty(mutation, async ({ which, keep, flips }) => {
        const [name, original] = corpus[which];
        const bytes = Buffer.from(original.subarray(0, keep === undefined ? original.length : Math.floor(original.length * keep)));
        if (bytes.length > 0) for (const { at, xor } of flips) bytes[at % bytes.length] ^= xor;
        const path = write(`mutant-${name}`, bytes);
        const result = await readAll(path); // anything but a CaptureFormatError escapes and fails the property

        // Frames are numbered from 1 without gaps, in file order.
        expect(result.frames.map((f) => f.frame)).toEqual(result.frames.map((_, i) => i + 1));
        for (let i = 1; i < result.frames.length; i++) expect(result.frames[i].offset).toBeGreaterThan(result.frames[i - 1].offset);
        if (result.readers.length > 0) expect(result.readers[0].frames).toBe(result.frames.length);
        framesSeen += result.frames.length;

        if (result.error) {
          errors++;
          expect(result.error.message).toMatch(/\(byte offset \d+(, frame \d+)?\)$/);
          expect(result.error.path).toBe(path);
          expect(result.error.offset).toBeGreaterThanOrEqual(0);
          if (!result.readers[0]?.gzipped && !name.endsWith('.gz')) expect(result.error.offset).toBeLessThanOrEqual(bytes.length);
          expect(result.error.frame).toBeGreaterThanOrEqual(0);
          expect(result.error.frame).toBeLessThanOrEqual(result.frames.length + 1);
        }
        for (const warning of result.warnings) {
          expect(warning.offset).toBeGreaterThanOrEqual(0);
          expect(warning.frame).toBe(result.frames.length + 1);
          expect(warning.message.length).toBeGreaterThan(0);
        }
        rmSync(path);
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
    );
    // The fuzz exercised both outcomes, not just one of them.
    expect(errors).toBeGreaterThan(0);
    expect(framesSeen).toBeGreaterThan(0);
  });

  test('reads every undamaged real capture of the corpus without an unexpected exception', async () => {
    for (const [name, bytes] of corpus) {
      const result = await readAll(write(`whole-${name}`, bytes));
      expect(
        result.frames.map((f) => f.frame),
        name,
      ).toEqual(result.frames.map((_, i) => i + 1));
      if (result.error) expect(result.error.message, name).toMatch(/byte offset \d+/);
    }
  });
});
