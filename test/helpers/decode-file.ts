import { openCapture } from '../../src/capture/open-capture.js';
import { forEachFrame } from '../../src/capture/frame-stream.js';
import { CaptureFormatError } from '../../src/capture/capture-format-error.js';
import { PacketDecoder } from '../../src/decode/packet-decoder.js';
import { formatDestination, formatSource } from '../../src/decode/format-address.js';
import type { DecodeStats } from '../../src/decode/decode-stats.js';
import type { FrameReader } from '../../src/capture/frame-reader.js';

export interface DecodedFile {
  /** "frame src dst sport dport seq ack flags len window", tab-separated, as tshark-expected.mjs writes. */
  rows: string[];
  stats: DecodeStats;
  reader: FrameReader | undefined;
  error: CaptureFormatError | undefined;
}

/** Decodes a capture the way the conformance test compares it with tshark. */
export async function decodeFile(paths: string | string[]): Promise<DecodedFile> {
  const list = Array.isArray(paths) ? paths : [paths];
  const decoder = new PacketDecoder();
  const rows: string[] = [];
  let reader: FrameReader | undefined;
  const readers: FrameReader[] = [];
  try {
    for (const [i, path] of list.entries()) readers.push(await openCapture(path, i));
    reader = readers[0];
    await forEachFrame(readers, (frame) => {
      if (!decoder.decode(frame)) return;
      const s = decoder.segment;
      rows.push(
        [frame.frame, formatSource(s), formatDestination(s), s.srcPort, s.dstPort, s.seq, s.ack, `0x${s.flags.toString(16).padStart(4, '0')}`, s.payloadLength, s.window].join('\t'),
      );
    });
  } catch (error) {
    if (!(error instanceof CaptureFormatError)) throw error;
    return { rows, stats: decoder.stats, reader, error };
  } finally {
    await Promise.all(readers.map((r) => r.close()));
  }
  return { rows, stats: decoder.stats, reader, error: undefined };
}
