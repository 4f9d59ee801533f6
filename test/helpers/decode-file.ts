import { openCapture } from '../../src/capture/open-capture.js';
import { forEachFrame } from '../../src/capture/frame-stream.js';
import { CaptureFormatError } from '../../src/capture/capture-format-error.js';
import { PacketDecoder } from '../../src/decode/packet-decoder.js';
import { formatDestination, formatSource } from '../../src/decode/format-address.js';
import type { DecodeStats } from '../../src/decode/decode-stats.js';
import type { FrameReader } from '../../src/capture/frame-reader.js';

const CHECKSUM_WORDS = ['unverified', 'good', 'bad'] as const;

/** One TCP segment as our decoder reads it, for tests that reason from the packets. */
export interface DecodedPacket {
  frame: number;
  tsNs: bigint;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  len: number;
  win: number;
  checksum: 'unverified' | 'good' | 'bad';
}

export interface DecodedFile {
  packets: DecodedPacket[];
  /** "frame src dst sport dport seq ack flags len window checksum", tab-separated, as tshark-expected.mjs writes. */
  rows: string[];
  stats: DecodeStats;
  reader: FrameReader | undefined;
  error: CaptureFormatError | undefined;
}

/** Decodes a capture (several files merged); a container error is returned with what was read before it. */
export async function decodeFile(paths: string | string[]): Promise<DecodedFile> {
  const list = Array.isArray(paths) ? paths : [paths];
  const decoder = new PacketDecoder();
  const packets: DecodedPacket[] = [];
  let reader: FrameReader | undefined;
  const readers: FrameReader[] = [];
  let error: CaptureFormatError | undefined;
  try {
    for (const [i, path] of list.entries()) readers.push(await openCapture(path, i));
    reader = readers[0];
    const errors = await forEachFrame(readers, (frame) => {
      if (!decoder.decode(frame)) return;
      const s = decoder.segment;
      packets.push({
        frame: frame.frame,
        tsNs: BigInt(frame.tsSec) * 1_000_000_000n + BigInt(frame.tsNsec),
        src: formatSource(s),
        dst: formatDestination(s),
        sport: s.srcPort,
        dport: s.dstPort,
        seq: s.seq,
        ack: s.ack,
        flags: s.flags,
        len: s.payloadLength,
        win: s.window,
        checksum: CHECKSUM_WORDS[s.checksumStatus],
      });
    });
    error = errors.find((e) => e !== undefined);
  } catch (caught) {
    if (!(caught instanceof CaptureFormatError)) throw caught;
    error = caught;
  } finally {
    await Promise.all(readers.map((r) => r.close()));
  }
  const rows = packets.map((p) =>
    [p.frame, p.src, p.dst, p.sport, p.dport, p.seq, p.ack, `0x${p.flags.toString(16).padStart(4, '0')}`, p.len, p.win, p.checksum].join(
      '\t',
    ),
  );
  return { packets, rows, stats: decoder.stats, reader, error };
}

/** The TCP segments of a capture that must read cleanly. */
export async function packetsOf(path: string): Promise<DecodedPacket[]> {
  const decoded = await decodeFile(path);
  if (decoded.error) throw decoded.error;
  return decoded.packets;
}
