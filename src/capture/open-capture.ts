import { openByteSource } from './byte-source.js';
import { CaptureFormatError } from './capture-format-error.js';
import type { FrameReader } from './frame-reader.js';
import { PcapReader, pcapMagic } from './pcap-reader.js';
import { PCAPNG_SECTION_HEADER, PcapngReader } from './pcapng-reader.js';
import { RecordBuffer } from './record-buffer.js';

/** Formats people hand us that we do not read, with how to read them after all. */
const CONVERT_HINT = "convert it first, e.g. 'editcap -F pcap IN OUT.pcap'";
const DECOMPRESS_HINT = 'decompress it first';
const FOREIGN_FORMATS: ReadonlyArray<{ magic: Buffer; name: string; hint: string }> = [
  { magic: Buffer.from('snoop\0\0\0', 'latin1'), name: 'a Solaris snoop capture', hint: CONVERT_HINT },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), name: 'zstd-compressed', hint: `${DECOMPRESS_HINT} ('zstd -d')` },
  { magic: Buffer.from([0x04, 0x22, 0x4d, 0x18]), name: 'lz4-compressed', hint: `${DECOMPRESS_HINT} ('lz4 -d')` },
  { magic: Buffer.from('BZh', 'latin1'), name: 'bzip2-compressed', hint: `${DECOMPRESS_HINT} ('bunzip2')` },
  { magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), name: 'xz-compressed', hint: `${DECOMPRESS_HINT} ('unxz')` },
  { magic: Buffer.from('XCP\0', 'latin1'), name: 'a NetXray/Sniffer capture', hint: CONVERT_HINT },
];

/** Opens one capture (pcap, pcapng, either gzip-compressed; "-" is standard input) by its content. */
export async function openCapture(path: string, sourceIndex = 0, stdin?: NodeJS.ReadableStream): Promise<FrameReader> {
  const source = await openByteSource(path, stdin);
  const input = new RecordBuffer(source);
  try {
    await input.fill(8, 0);
    const head = input.bytes.subarray(input.position, input.end);
    if (head.length >= 4 && head.readUInt32BE(0) === PCAPNG_SECTION_HEADER) return new PcapngReader(input, sourceIndex);
    if (pcapMagic(head)) return await PcapReader.open(input, sourceIndex);
    const foreign = FOREIGN_FORMATS.find(({ magic }) => head.length >= magic.length && head.subarray(0, magic.length).equals(magic));
    const what = source.gzipped ? 'gzip-compressed, but what is inside is not' : 'not';
    if (foreign) throw new CaptureFormatError(path, 0, 0, `this is ${foreign.name}, which flowstate does not read: ${foreign.hint}`);
    if (head.length === 0) throw new CaptureFormatError(path, 0, 0, 'the file is empty, not a capture');
    throw new CaptureFormatError(path, 0, 0, `${what} a pcap or pcapng capture: it starts with ${describeStart(head)}`);
  } catch (error) {
    await source.close().catch(() => undefined);
    throw error;
  }
}

function describeStart(head: Buffer): string {
  const first = head.subarray(0, 8);
  const hex = [...first].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const printable = [...first].every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));
  return printable ? `${hex} (text "${first.toString('latin1').replace(/\s+/g, ' ').trim()}")` : hex;
}
