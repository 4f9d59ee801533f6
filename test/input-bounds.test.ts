// Memory and time bounded by settings, not by the input (issue 28): for each input that
// once made reading or decoding grow without limit, a crafted capture and the bound it meets.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ByteSource } from '../src/capture/byte-source.js';
import { CaptureFormatError } from '../src/capture/capture-format-error.js';
import { forEachFrame } from '../src/capture/frame-stream.js';
import { openCapture } from '../src/capture/open-capture.js';
import { MAX_INTERFACES_PER_SECTION } from '../src/capture/pcapng-reader.js';
import { GROWTH_BUDGET, INITIAL_SIZE, RecordBuffer, STREAMING_SIZE, recordBufferGrowth } from '../src/capture/record-buffer.js';
import { DecodeIssue } from '../src/decode/decode-stats.js';
import { LinkType } from '../src/decode/link-types.js';
import { MAX_ORIGINAL_LENGTH, MAX_TUNNELS, PacketDecoder } from '../src/decode/packet-decoder.js';
import { analyze } from '../src/analyze.js';
import {
  ETHERTYPE,
  IP_PROTOCOL,
  PcapngBuilder,
  TCP_FLAG,
  ethernet,
  frameOf,
  gzip,
  ipv4,
  tcp,
  udp,
  vxlan,
} from './helpers/build-packets.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-input-bounds-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const issueCount = (decoder: PacketDecoder, issue: DecodeIssue): number => decoder.stats.issues.get(issue)?.count ?? 0;

/** CPU time (user and system, ms) that `work` takes. */
function cpuMs(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

describe('IP fragments', () => {
  test('a stream of duplicates costs time linear in the fragments, not in fragments × pieces held', () => {
    // One datagram of 8,000 pieces of 8 bytes (never completed), then each piece again 50 times.
    const pieces = 8_000;
    const frames = Array.from({ length: pieces }, (_, k) =>
      frameOf(
        LinkType.ETHERNET,
        ethernet(ETHERTYPE.IPV4, ipv4({ id: 7, moreFragments: true, fragmentOffset: k, payload: Buffer.alloc(8, k & 0xff) })),
      ),
    );
    const decoder = new PacketDecoder();
    const rounds = 50;
    // Quadratic, this was about 400 thousand duplicates × 4,000 pieces looked at: seconds of CPU.
    const ms = cpuMs(() => {
      for (let round = 0; round <= rounds; round++) for (const frame of frames) decoder.decode(frame);
    });
    const s = decoder.stats.fragments;
    expect([s.fragments, s.duplicates, s.overlapping, s.reassembled]).toEqual([pieces * (rounds + 1), pieces * rounds, 0, 0]);
    expect(ms).toBeLessThan(2_000);
  });
});

describe('tunnels', () => {
  const inVni = (vni: number): Buffer =>
    ethernet(
      ETHERTYPE.IPV4,
      ipv4({
        src: '192.0.2.1',
        dst: '192.0.2.2',
        protocol: IP_PROTOCOL.UDP,
        payload: udp(
          50000,
          4789,
          vxlan(vni, ethernet(ETHERTYPE.IPV4, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', payload: tcp({ flags: TCP_FLAG.SYN }) }))),
        ),
      }),
    );

  test(`keeps at most ${MAX_TUNNELS} tunnels: a packet in a new one past that is counted and skipped, the known ones decode on`, () => {
    const decoder = new PacketDecoder();
    const over = 1_000;
    let decoded = 0;
    for (let vni = 0; vni < MAX_TUNNELS + over; vni++) if (decoder.decode(frameOf(LinkType.ETHERNET, inVni(vni)))) decoded++;
    expect(decoded).toBe(MAX_TUNNELS);
    expect(issueCount(decoder, DecodeIssue.tunnelLimit)).toBe(over);
    expect(decoder.decode(frameOf(LinkType.ETHERNET, inVni(17)))).toBe(true);
    expect(decoder.segment.tunnel?.id).toBe(17);
    expect(decoder.segment.tunnel?.index).toBe(18);
  });
});

describe('pcapng interfaces', () => {
  const epb = (b: PcapngBuilder, interfaceId: number): PcapngBuilder =>
    b.enhancedPacket(interfaceId, 1_700_000_000_000_000n, ethernet(ETHERTYPE.IPV4, ipv4({ payload: tcp() })));

  async function read(bytes: Buffer): Promise<{ frames: number[]; errors: Array<CaptureFormatError | undefined> }> {
    const path = join(dir, `interfaces-${bytes.length}.pcapng`);
    writeFileSync(path, bytes);
    const reader = await openCapture(path);
    const frames: number[] = [];
    try {
      const errors = await forEachFrame([reader], (frame) => void frames.push(frame.interfaceId));
      return { frames, errors };
    } finally {
      await reader.close();
    }
  }

  test(`reads a section of ${MAX_INTERFACES_PER_SECTION} interfaces, a packet on the last one included`, async () => {
    const b = new PcapngBuilder().sectionHeader();
    for (let i = 0; i < MAX_INTERFACES_PER_SECTION; i++) b.interface({ linkType: LinkType.ETHERNET });
    const { frames, errors } = await read(epb(b, MAX_INTERFACES_PER_SECTION - 1).bytes());
    expect(errors).toEqual([undefined]);
    expect(frames).toEqual([MAX_INTERFACES_PER_SECTION - 1]);
  });

  test('refuses one interface more in a section, by offset, after the packets before it; a new section starts the count again', async () => {
    const b = epb(new PcapngBuilder().sectionHeader().interface({ linkType: LinkType.ETHERNET }), 0);
    for (let i = 1; i < MAX_INTERFACES_PER_SECTION; i++) b.interface({ linkType: LinkType.ETHERNET });
    const fine = b.bytes();
    const again = epb(new PcapngBuilder().sectionHeader().interface({ linkType: LinkType.ETHERNET }), 0).bytes();
    expect((await read(Buffer.concat([fine, again]))).frames).toEqual([0, 0]);
    const { frames, errors } = await read(new PcapngBuilder().raw(fine).interface({ linkType: LinkType.ETHERNET }).bytes());
    expect(frames).toEqual([0]);
    expect(errors[0]).toBeInstanceOf(CaptureFormatError);
    expect(errors[0]?.message).toContain(`byte offset ${fine.length},`);
    expect(errors[0]?.message).toContain(`the section describes more than ${MAX_INTERFACES_PER_SECTION} interfaces`);
  });
});

describe('frames held for a time', () => {
  test('frames timed out of range before any in range are held up to 64 MiB; past it they are counted, not tracked', async () => {
    // 2,100 frames of 32 KiB timed past 2262 (68.8 MB, a few hundred KB gzipped), then one in range.
    const size = 32 << 10;
    const frame = Buffer.alloc(size);
    ethernet(ETHERTYPE.IPV4, ipv4({ payload: tcp({ flags: TCP_FLAG.SYN }) })).copy(frame);
    const b = new PcapngBuilder().sectionHeader().interface({ linkType: LinkType.ETHERNET });
    const count = 2_100;
    for (let i = 0; i < count; i++) b.enhancedPacket(0, 0xffffffff_00000000n, frame);
    b.enhancedPacket(0, 1_700_000_000_000_000n, ethernet(ETHERTYPE.IPV4, ipv4({ payload: tcp({ flags: TCP_FLAG.SYN }) })));
    const path = join(dir, 'out-of-range.pcapng.gz');
    writeFileSync(path, gzip(b.bytes()));
    const analysis = await analyze(path);
    const held = Math.floor((64 << 20) / (size + 256));
    expect(analysis.decode.packets).toBe(count + 1);
    expect(analysis.decode.issues.get(DecodeIssue.timestampOutOfRange)?.count).toBe(count);
    expect(analysis.captures[0].tcpPackets).toBe(held + 1);
  });
});

/** A source of `length` bytes (all zero) read in steps of at most `step`. */
function zeros(length: number, step = 1 << 30): ByteSource & { reads: number } {
  let position = 0;
  return {
    path: 'zeros',
    gzipped: false,
    storedSize: length,
    reads: 0,
    storedBytesRead: () => position,
    read(target: Buffer, offset: number, want: number): Promise<number> {
      this.reads++;
      const n = Math.min(want, length - position, step);
      target.fill(0, offset, offset + n);
      position += n;
      return Promise.resolve(n);
    },
    close: () => Promise.resolve(),
  };
}

/** Reads a whole source through `buffer` in records of `record` bytes (its length a multiple of them). */
async function drain(buffer: RecordBuffer, record: number): Promise<void> {
  while (await buffer.fill(record, 1)) buffer.position += record;
}

describe('the record buffer', () => {
  test(`starts at ${INITIAL_SIZE / 1024} KiB a file, grows to ${STREAMING_SIZE >> 20} MiB as a file is read on, and lets go at its end`, async () => {
    const before = recordBufferGrowth();
    const small = new RecordBuffer(zeros(1000));
    await small.fill(24, 0);
    expect(small.bytes.length).toBe(INITIAL_SIZE);
    const large = new RecordBuffer(zeros(64 << 20));
    await large.fill(24, 0);
    expect(large.bytes.length).toBe(INITIAL_SIZE);
    let largest = 0;
    while (await large.fill(1024, 1)) {
      largest = Math.max(largest, large.bytes.length);
      large.position += 1024;
    }
    expect(largest).toBe(STREAMING_SIZE);
    expect(large.bytes.length).toBe(0);
    expect(recordBufferGrowth()).toBe(before);
  });

  test('makes room for a record larger than itself, and comes back to its size after it', async () => {
    const buffer = new RecordBuffer(zeros(40 << 20));
    await buffer.fill(24, 0);
    expect(await buffer.fill(10 << 20, 1)).toBe(true);
    expect(buffer.bytes.length).toBeGreaterThanOrEqual(10 << 20);
    buffer.position += 10 << 20;
    while (buffer.available >= 1024) buffer.position += 1024;
    await buffer.fill(1024, 1);
    expect(buffer.bytes.length).toBeLessThanOrEqual(STREAMING_SIZE);
    await drain(buffer, 1024);
    expect(buffer.bytes.length).toBe(0);
  });

  test('many files read at once share a bounded growth', async () => {
    const before = recordBufferGrowth();
    const buffers = Array.from({ length: 40 }, () => new RecordBuffer(zeros(16 << 20)));
    for (const buffer of buffers) await buffer.fill(24, 0);
    // Round robin, as a merge by time of files covering the same time reads them.
    for (let round = 0; round < 200; round++)
      for (const buffer of buffers) if (await buffer.fill(1024, 1)) buffer.position += Math.min(buffer.available >> 10, 60) << 10;
    const total = buffers.reduce((sum, b) => sum + b.bytes.length, 0);
    expect(total).toBeLessThanOrEqual(buffers.length * INITIAL_SIZE + GROWTH_BUDGET);
    expect(recordBufferGrowth() - before).toBeLessThanOrEqual(GROWTH_BUDGET);
    expect(Math.max(...buffers.map((b) => b.bytes.length))).toBeGreaterThan(INITIAL_SIZE);
    for (const buffer of buffers) await drain(buffer, 1024);
    expect(recordBufferGrowth()).toBe(before);
  });
});

describe('the original length of a frame', () => {
  test(`past ${MAX_ORIGINAL_LENGTH} bytes it is a corrupt record: counted and skipped, never a 4 GiB segment`, () => {
    // An IPv4 total length of 0 (captured before segmentation offload) takes its length from the frame's.
    const packet = ethernet(ETHERTYPE.IPV4, ipv4({ totalLength: 0, payload: tcp({ flags: TCP_FLAG.ACK, payload: Buffer.alloc(10) }) }));
    const decoder = new PacketDecoder();
    expect(decoder.decode(frameOf(LinkType.ETHERNET, packet, { originalLength: 0xffffffff }))).toBe(false);
    expect(issueCount(decoder, DecodeIssue.originalLengthImplausible)).toBe(1);
    expect(decoder.decode(frameOf(LinkType.ETHERNET, packet, { originalLength: MAX_ORIGINAL_LENGTH }))).toBe(true);
    expect(decoder.segment.payloadLength).toBe(MAX_ORIGINAL_LENGTH - 14 - 20 - 20);
  });
});
