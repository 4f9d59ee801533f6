// One conformance suite over every reader: the same traffic as pcap, pcapng,
// gzip and a round-trip conversion gives the same frames (captures/README.md
// says how each fixture was made from the same tcpdump session).
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { openCapture } from '../src/capture/open-capture.js';
import { forEachFrame } from '../src/capture/frame-stream.js';
import { CAPTURES } from './helpers/paths.js';

interface Frame {
  frame: number;
  time: string;
  linkType: number;
  capturedLength: number;
  originalLength: number;
  bytes: string;
}

async function frames(path: string): Promise<{ format: string; frames: Frame[] }> {
  const reader = await openCapture(path);
  const out: Frame[] = [];
  await forEachFrame([reader], (f) => {
    out.push({
      frame: f.frame,
      time: `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`,
      linkType: f.linkType,
      capturedLength: f.capturedLength,
      originalLength: f.originalLength,
      bytes: f.data.toString('base64', f.dataOffset, f.dataOffset + f.capturedLength),
    });
  }).finally(() => reader.close());
  return { format: reader.format + (reader.gzipped ? '+gzip' : ''), frames: out };
}

const SAME_TRAFFIC: ReadonlyArray<readonly [string, readonly string[], readonly string[]]> = [
  [
    'microsecond pcap',
    ['fmt-usec.pcap', 'fmt-usec.pcapng', 'fmt-usec-roundtrip.pcap', 'fmt-usec.pcap.gz'],
    ['pcap', 'pcapng', 'pcap', 'pcap+gzip'],
  ],
  ['nanosecond pcap', ['fmt-nsec.pcap', 'fmt-nsec.pcapng'], ['pcap-ns', 'pcapng']],
];

describe('the same traffic read by every reader gives the same frames', () => {
  test.each(SAME_TRAFFIC)('%s', async (_name, files, formats) => {
    const read = await Promise.all(files.map((f) => frames(join(CAPTURES, f))));
    expect(read.map((r) => r.format)).toEqual(formats);
    expect(read[0].frames.length).toBeGreaterThan(0);
    for (const other of read.slice(1)) expect(other.frames).toEqual(read[0].frames);
  });

  test('microsecond and nanosecond captures of one session hold the same packets; nanoseconds survive', async () => {
    const micro = await frames(join(CAPTURES, 'fmt-usec.pcap'));
    const nano = await frames(join(CAPTURES, 'fmt-nsec.pcap'));
    expect(nano.frames.map((f) => f.bytes)).toEqual(micro.frames.map((f) => f.bytes));
    expect(micro.frames.every((f) => f.time.endsWith('000'))).toBe(true);
    expect(nano.frames.some((f) => !f.time.endsWith('000'))).toBe(true);
  });

  test('snap length 96 keeps the original lengths; -i any is Linux cooked v2', async () => {
    const full = await frames(join(CAPTURES, 'fmt-usec.pcap'));
    const cut = await frames(join(CAPTURES, 'fmt-snap96.pcap'));
    expect(cut.frames.map((f) => f.originalLength)).toEqual(full.frames.map((f) => f.originalLength));
    expect(Math.max(...cut.frames.map((f) => f.capturedLength))).toBeLessThanOrEqual(96);
    const any = await frames(join(CAPTURES, 'fmt-any.pcap'));
    expect(new Set(any.frames.map((f) => f.linkType))).toEqual(new Set([276]));
    expect(any.frames.length).toBe(full.frames.length);
  });
});
