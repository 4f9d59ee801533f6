import { u32be, u32le } from './bytes.js';
import { CapturedFrame } from './captured-frame.js';
import { CaptureFormatError } from './capture-format-error.js';
import { CaptureFormat } from './frame-reader.js';
import { RecordReader } from './record-reader.js';
import type { RecordBuffer } from './record-buffer.js';

const FILE_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;
/** Kuznetsov's "modified" pcap adds ifindex, protocol, pkt_type and padding. */
const MODIFIED_RECORD_HEADER_LENGTH = 24;
/** libpcap refuses records above its largest snap length unless the file says more. */
const MAX_RECORD_LENGTH = 262_144;
/** No link carries a packet this large: a snap length above it is corruption, not permission. */
const LARGEST_PLAUSIBLE_RECORD = 16 * 1024 * 1024;
/** The link type is the low 16 bits; above them sit FCS-length flags and bits that must be zero (pcap-linktype(7)). */
const LINKTYPE_MASK = 0x0000ffff;
const LINKTYPE_RESERVED = 0x03ff0000;

const MAGICS: ReadonlyMap<number, { format: CaptureFormat; nanoseconds: boolean }> = new Map([
  [0xa1b2c3d4, { format: CaptureFormat.pcap, nanoseconds: false }],
  [0xa1b23c4d, { format: CaptureFormat.pcapNanosecond, nanoseconds: true }],
  [0xa1b2cd34, { format: CaptureFormat.pcapModified, nanoseconds: false }],
]);

/** Recognises a classic pcap magic in either byte order. */
export function pcapMagic(head: Buffer): { littleEndian: boolean; format: CaptureFormat; nanoseconds: boolean } | undefined {
  if (head.length < 4) return undefined;
  const big = MAGICS.get(head.readUInt32BE(0));
  if (big) return { littleEndian: false, ...big };
  const little = MAGICS.get(head.readUInt32LE(0));
  if (little) return { littleEndian: true, ...little };
  return undefined;
}

/** Streaming reader of classic libpcap files (pcap(5)). */
export class PcapReader extends RecordReader {
  protected readonly unit = 'record';
  protected get recordHeaderBytes(): number {
    return this.recordHeaderLength;
  }
  private readonly frame = new CapturedFrame();
  private readonly recordHeaderLength: number;
  private readonly maxRecordLength: number;

  private constructor(
    input: RecordBuffer,
    readonly format: CaptureFormat,
    private readonly littleEndian: boolean,
    private readonly nanoseconds: boolean,
    snapLength: number,
    linkType: number,
    sourceIndex: number,
  ) {
    super(input, 0);
    this.recordHeaderLength = format === CaptureFormat.pcapModified ? MODIFIED_RECORD_HEADER_LENGTH : RECORD_HEADER_LENGTH;
    this.maxRecordLength = Math.max(MAX_RECORD_LENGTH, Math.min(snapLength, LARGEST_PLAUSIBLE_RECORD));
    this.frame.source = sourceIndex;
    this.frame.linkType = linkType;
    this.linkTypes.add(linkType);
  }

  static async open(input: RecordBuffer, sourceIndex: number): Promise<PcapReader> {
    const path = input.source.path;
    if (!(await input.fill(FILE_HEADER_LENGTH, 0))) {
      throw new CaptureFormatError(
        path,
        input.available,
        0,
        `pcap file header is cut short: ${input.available} of ${FILE_HEADER_LENGTH} bytes`,
      );
    }
    const bytes = input.bytes;
    const at = input.position;
    const magic = pcapMagic(bytes.subarray(at, at + 4));
    if (!magic) throw new CaptureFormatError(path, 0, 0, 'not a pcap file (unknown magic number)');
    const le = magic.littleEndian;
    const major = le ? bytes.readUInt16LE(at + 4) : bytes.readUInt16BE(at + 4);
    const minor = le ? bytes.readUInt16LE(at + 6) : bytes.readUInt16BE(at + 6);
    if (major !== 2) {
      throw new CaptureFormatError(path, 4, 0, `unsupported pcap version ${major}.${minor} (only 2.x exists)`);
    }
    const snapLength = le ? bytes.readUInt32LE(at + 16) : bytes.readUInt32BE(at + 16);
    const linkField = le ? bytes.readUInt32LE(at + 20) : bytes.readUInt32BE(at + 20);
    if ((linkField & LINKTYPE_RESERVED) !== 0) {
      throw new CaptureFormatError(
        path,
        20,
        0,
        `link type field 0x${linkField.toString(16).padStart(8, '0')} has reserved bits set: the header is corrupt`,
      );
    }
    input.position += FILE_HEADER_LENGTH;
    return new PcapReader(input, magic.format, le, magic.nanoseconds, snapLength, linkField & LINKTYPE_MASK, sourceIndex);
  }

  nextSync(): CapturedFrame | null {
    const input = this.input;
    const headerLength = this.recordHeaderLength;
    if (input.available < headerLength) {
      this.needed = headerLength;
      return null;
    }
    const bytes = input.bytes;
    const at = input.position;
    const le = this.littleEndian;
    const capturedLength = le ? u32le(bytes, at + 8) : u32be(bytes, at + 8);
    if (capturedLength > this.maxRecordLength) {
      throw new CaptureFormatError(
        this.path,
        input.offset,
        this.frames + 1,
        `record length ${capturedLength} is larger than the largest possible packet (${this.maxRecordLength}): the file is corrupt`,
      );
    }
    const recordLength = headerLength + capturedLength;
    if (input.available < recordLength) {
      this.needed = recordLength;
      return null;
    }
    const frame = this.frame;
    let seconds = le ? u32le(bytes, at) : u32be(bytes, at);
    let fraction = le ? u32le(bytes, at + 4) : u32be(bytes, at + 4);
    if (!this.nanoseconds) fraction *= 1000;
    if (fraction >= 1_000_000_000) {
      // Some writers carry whole seconds in the fraction; keep the instant, normalise the form.
      seconds += Math.floor(fraction / 1_000_000_000);
      fraction %= 1_000_000_000;
    }
    frame.frame = ++this.frames;
    frame.offset = input.offset;
    frame.tsSec = seconds;
    frame.tsNsec = fraction;
    frame.capturedLength = capturedLength;
    frame.originalLength = le ? u32le(bytes, at + 12) : u32be(bytes, at + 12);
    frame.data = bytes;
    frame.dataOffset = at + headerLength;
    input.position = at + recordLength;
    return frame;
  }
}
