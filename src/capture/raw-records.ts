import { openByteSource } from './byte-source.js';
import { u32be, u32le } from './bytes.js';
import { CaptureFormatError } from './capture-format-error.js';
import { pcapMagic } from './pcap-reader.js';
import { PCAPNG_SECTION_HEADER } from './pcapng-reader.js';
import { OPTION_COMMENT, OPTION_IF_TSRESOL, encodeOption } from './pcapng-writer.js';
import { RecordBuffer } from './record-buffer.js';

/**
 * A capture's records as they are stored, for copying them into another file: each
 * packet's timestamp as the count of its interface's units (not converted), its
 * bytes, and its pcapng options; each interface's link type, snap length and options.
 * The frame readers (pcap-reader.ts, pcapng-reader.ts) hand on frames for analysis
 * and keep none of this; this walker does no more than copying needs, with the
 * same checks on the container, so that it counts the same frames.
 *
 * Everything comes out as little-endian pcapng: a big-endian section's option
 * headers and numeric option values are swapped; a classic pcap becomes one
 * interface with `if_tsresol` 6 (microseconds) or 9 (nanoseconds).
 */

const BLOCK_INTERFACE_DESCRIPTION = 1;
const BLOCK_OBSOLETE_PACKET = 2;
const BLOCK_SIMPLE_PACKET = 3;
const BLOCK_ENHANCED_PACKET = 6;
const OPTION_END = 0;
const OPTION_IF_FCSLEN = 13;
const OPTION_IF_TSOFFSET = 14;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** The frame readers' bounds (pcapng-reader.ts, pcap-reader.ts), so that both stop at the same record. */
const MAX_BLOCK_LENGTH = 16 * 1024 * 1024;
const MAX_RECORD_LENGTH = 262_144;
const LARGEST_PLAUSIBLE_RECORD = 16 * 1024 * 1024;
const PCAP_FILE_HEADER = 24;
const LINKTYPE_MASK = 0x0000ffff;
/** pcap-linktype(7): bit 28 says the FCS length is in bits 29–31. */
const LINKTYPE_FCS_PRESENT = 0x10000000;
/** Options whose value starts with a Private Enterprise Number (custom options). */
const CUSTOM_OPTIONS = new Set([2988, 2989, 19372, 19373]);
/** Numeric option values, by size, that a big-endian section stores the other way round. */
const PACKET_NUMBERS = new Map([
  [2, 4], // epb_flags
  [4, 8], // epb_dropcount
  [5, 8], // epb_packetid
  [6, 4], // epb_queue
]);
const INTERFACE_NUMBERS = new Map([
  [8, 8], // if_speed
  [10, 4], // if_tzone
  [14, 8], // if_tsoffset
  [16, 8], // if_txspeed
  [17, 8], // if_rxspeed
]);

export interface RawInterface {
  linkType: number;
  snapLength: number;
  /** The interface block's options, little-endian, without the end marker (empty for none). */
  options: Buffer;
  /** Timestamp units a second: 10^exponent, or 2^exponent when binary; and if_tsoffset. */
  binary: boolean;
  exponent: number;
  offsetSeconds: number;
  /** For decimal resolutions up to nanoseconds: units a second, nanoseconds a unit (0 otherwise). */
  unitsPerSecond: number;
  nanosPerUnit: number;
}

/** One packet record. The walker reuses one instance: copy what you keep before the next `nextSync`. */
export class RawPacket {
  source = 0;
  /** 1-based, as the frame readers number frames (every packet block of the file). */
  frame = 0;
  /** Index into the walker's `interfaces` (counted across the file's sections). */
  interfaceIndex = 0;
  /** The stored timestamp: a 64-bit count of the interface's units, in two 32-bit words. */
  tsHigh = 0;
  tsLow = 0;
  /** The same instant as the frame readers give it (for merging files by time). */
  tsSec = 0;
  tsNsec = 0;
  capturedLength = 0;
  originalLength = 0;
  data: Buffer = Buffer.alloc(0);
  dataOffset = 0;
  /** The packet block's own options (comments, flags, hashes…), little-endian, no end marker; undefined for none. */
  options: Buffer | undefined = undefined;
}

export class RawRecordWalker {
  readonly interfaces: RawInterface[] = [];
  /** The comments of the first section header (none for pcap). */
  readonly sectionComments: string[] = [];
  /** pcapng blocks not copied (name resolution, statistics, secrets, custom…), by type; section headers after the first count as 0x0a0d0d0a. */
  readonly skippedBlocks = new Map<number, number>();
  frames = 0;
  private readonly packet = new RawPacket();
  private needed = 12;
  private littleEndian = true;
  /** Where the current section's interfaces start in `interfaces`. */
  private sectionBase = 0;
  private sections = 0;
  private readonly nanoseconds: boolean;
  private readonly recordHeader: number;
  private readonly maxRecordLength: number;

  private constructor(
    private readonly input: RecordBuffer,
    readonly format: 'pcap' | 'pcapng',
    source: number,
    pcap?: { littleEndian: boolean; nanoseconds: boolean; modified: boolean; snapLength: number },
  ) {
    this.packet.source = source;
    this.littleEndian = pcap?.littleEndian ?? true;
    this.nanoseconds = pcap?.nanoseconds ?? false;
    this.recordHeader = pcap?.modified ? 24 : 16;
    this.maxRecordLength = Math.max(MAX_RECORD_LENGTH, Math.min(pcap?.snapLength ?? 0, LARGEST_PLAUSIBLE_RECORD));
    if (pcap !== undefined) this.needed = this.recordHeader;
  }

  /** Opens a capture (pcap or pcapng, gzip too; not standard input) and reads its header. */
  static async open(path: string, source: number): Promise<RawRecordWalker> {
    const input = new RecordBuffer(await openByteSource(path));
    try {
      await input.fill(PCAP_FILE_HEADER, 0);
      const at = input.position;
      const head = input.bytes.subarray(at, input.end);
      if (head.length >= 12 && head.readUInt32BE(0) === PCAPNG_SECTION_HEADER) {
        const walker = new RawRecordWalker(input, 'pcapng', source);
        await walker.readFirstSection();
        return walker;
      }
      const magic = pcapMagic(head);
      if (magic === undefined || head.length < PCAP_FILE_HEADER) throw new CaptureFormatError(path, 0, 0, 'not a pcap or pcapng capture');
      const le = magic.littleEndian;
      const snapLength = le ? head.readUInt32LE(16) : head.readUInt32BE(16);
      const linkField = le ? head.readUInt32LE(20) : head.readUInt32BE(20);
      const walker = new RawRecordWalker(input, 'pcap', source, {
        littleEndian: le,
        nanoseconds: magic.nanoseconds,
        modified: magic.format === 'pcap-modified',
        snapLength,
      });
      const resolution = Buffer.from([magic.nanoseconds ? 9 : 6]);
      const options = [encodeOption(OPTION_IF_TSRESOL, resolution)];
      if ((linkField & LINKTYPE_FCS_PRESENT) !== 0)
        options.push(encodeOption(OPTION_IF_FCSLEN, Buffer.from([((linkField >>> 29) & 7) * 2])));
      walker.interfaces.push({
        linkType: linkField & LINKTYPE_MASK,
        snapLength,
        options: Buffer.concat(options),
        binary: false,
        exponent: magic.nanoseconds ? 9 : 6,
        offsetSeconds: 0,
        unitsPerSecond: magic.nanoseconds ? 1e9 : 1e6,
        nanosPerUnit: magic.nanoseconds ? 1 : 1000,
      });
      input.position += PCAP_FILE_HEADER;
      return walker;
    } catch (error) {
      await input.source.close().catch(() => undefined);
      throw error;
    }
  }

  get path(): string {
    return this.input.source.path;
  }

  /** The next packet from what is buffered, or null when more input is needed (`refill`). */
  nextSync(): RawPacket | null {
    return this.format === 'pcap' ? this.nextPcap() : this.nextPcapng();
  }

  /** Reads more input; false at its end (a partial record left at the end is ignored, as the frame readers do). */
  refill(): Promise<boolean> {
    return this.input.fill(this.needed, this.frames + 1);
  }

  close(): Promise<void> {
    return this.input.source.close();
  }

  private async readFirstSection(): Promise<void> {
    if (!(await this.input.fill(12, 0))) throw this.error('the section header is cut short');
    const bytes = this.input.bytes;
    const at = this.input.position;
    this.startSection(bytes, at);
    const length = this.readU32(bytes, at + 4);
    if (length < 28 || length % 4 !== 0 || length > MAX_BLOCK_LENGTH)
      throw this.error(`section header block length ${length} is impossible`);
    if (!(await this.input.fill(length, 0))) throw this.error('the section header is cut short');
    this.walkOptions(this.input.bytes, this.input.position + 24, this.input.position + length - 4, true, (code, value, valueLength) => {
      if (code === OPTION_COMMENT) this.sectionComments.push(this.input.bytes.toString('utf8', value, value + valueLength));
    });
    this.input.position += length;
  }

  private nextPcap(): RawPacket | null {
    const input = this.input;
    const headerLength = this.recordHeader;
    if (input.available < headerLength) {
      this.needed = headerLength;
      return null;
    }
    const bytes = input.bytes;
    const at = input.position;
    const le = this.littleEndian;
    const capturedLength = le ? u32le(bytes, at + 8) : u32be(bytes, at + 8);
    if (capturedLength > this.maxRecordLength)
      throw new CaptureFormatError(
        this.path,
        input.offset,
        this.frames + 1,
        `record length ${capturedLength} is larger than the largest possible packet`,
      );
    if (input.available < headerLength + capturedLength) {
      this.needed = headerLength + capturedLength;
      return null;
    }
    const p = this.packet;
    const seconds = le ? u32le(bytes, at) : u32be(bytes, at);
    const fraction = le ? u32le(bytes, at + 4) : u32be(bytes, at + 4);
    if (this.nanoseconds) {
      const units = BigInt(seconds) * 1_000_000_000n + BigInt(fraction);
      p.tsHigh = Number(units >> 32n);
      p.tsLow = Number(units & 0xffffffffn);
      const carry = Math.floor(fraction / 1_000_000_000);
      p.tsSec = seconds + carry;
      p.tsNsec = fraction - carry * 1_000_000_000;
    } else {
      // Below 2^53: exact as one double.
      const units = seconds * 1_000_000 + fraction;
      p.tsHigh = Math.floor(units / TWO_POW_32);
      p.tsLow = units - p.tsHigh * TWO_POW_32;
      const nanos = fraction * 1000;
      const carry = Math.floor(nanos / 1_000_000_000);
      p.tsSec = seconds + carry;
      p.tsNsec = nanos - carry * 1_000_000_000;
    }
    p.frame = ++this.frames;
    p.interfaceIndex = 0;
    p.capturedLength = capturedLength;
    p.originalLength = le ? u32le(bytes, at + 12) : u32be(bytes, at + 12);
    p.data = bytes;
    p.dataOffset = at + headerLength;
    p.options = undefined;
    input.position = at + headerLength + capturedLength;
    return p;
  }

  private nextPcapng(): RawPacket | null {
    const input = this.input;
    for (;;) {
      if (input.available < 12) {
        this.needed = 12;
        return null;
      }
      const bytes = input.bytes;
      const at = input.position;
      const type = this.readU32(bytes, at);
      if (type === PCAPNG_SECTION_HEADER) {
        if (input.available < 16) {
          this.needed = 16;
          return null;
        }
        this.startSection(bytes, at);
      }
      const blockLength = this.readU32(bytes, at + 4);
      if (blockLength < 12 || blockLength % 4 !== 0 || blockLength > MAX_BLOCK_LENGTH)
        throw this.error(`block length ${blockLength} is impossible`);
      if (input.available < blockLength) {
        this.needed = blockLength;
        return null;
      }
      if (this.readU32(bytes, at + blockLength - 4) !== blockLength)
        throw this.error(`block length ${blockLength} does not match its trailing copy`);
      const packet = this.readBlock(type, bytes, at, blockLength);
      input.position = at + blockLength;
      if (packet !== null) return packet;
    }
  }

  private readBlock(type: number, bytes: Buffer, at: number, blockLength: number): RawPacket | null {
    switch (type) {
      case PCAPNG_SECTION_HEADER:
        if (blockLength < 28) throw this.error(`section header block length ${blockLength} is too short`);
        if (this.sections++ > 0) this.skippedBlocks.set(type, (this.skippedBlocks.get(type) ?? 0) + 1);
        this.walkOptions(bytes, at + 24, at + blockLength - 4, true, () => undefined);
        return null;
      case BLOCK_INTERFACE_DESCRIPTION:
        this.addInterface(bytes, at, blockLength);
        return null;
      case BLOCK_ENHANCED_PACKET:
      case BLOCK_OBSOLETE_PACKET: {
        if (blockLength < 32) throw this.error(`packet block length ${blockLength} is too short`);
        const capturedLength = this.readU32(bytes, at + 20);
        if (capturedLength > blockLength - 32)
          throw this.error(`captured length ${capturedLength} overruns its block of ${blockLength} bytes`);
        const interfaceId =
          type === BLOCK_ENHANCED_PACKET
            ? this.readU32(bytes, at + 8)
            : this.littleEndian
              ? bytes.readUInt16LE(at + 8)
              : bytes.readUInt16BE(at + 8);
        const p = this.packetOn(interfaceId, this.readU32(bytes, at + 12), this.readU32(bytes, at + 16));
        p.capturedLength = capturedLength;
        p.originalLength = this.readU32(bytes, at + 24);
        p.data = bytes;
        p.dataOffset = at + 28;
        p.options = this.packetOptions(bytes, at + 28 + ((capturedLength + 3) & ~3), at + blockLength - 4);
        return p;
      }
      case BLOCK_SIMPLE_PACKET: {
        if (blockLength < 16) throw this.error(`simple packet block length ${blockLength} is too short`);
        const originalLength = this.readU32(bytes, at + 8);
        const snap =
          (this.interfaces.length > this.sectionBase ? this.interfaces[this.sectionBase].snapLength : 0) || Number.MAX_SAFE_INTEGER;
        // No timestamp (time 0, as Wireshark shows it) and no options; interface 0 of the section.
        const p = this.packetOn(0, 0, 0);
        p.capturedLength = Math.min(originalLength, blockLength - 16, snap);
        p.originalLength = originalLength;
        p.data = bytes;
        p.dataOffset = at + 12;
        p.options = undefined;
        return p;
      }
      default:
        this.skippedBlocks.set(type, (this.skippedBlocks.get(type) ?? 0) + 1);
        return null;
    }
  }

  private packetOn(interfaceId: number, high: number, low: number): RawPacket {
    const count = this.interfaces.length - this.sectionBase;
    if (interfaceId >= count)
      throw this.error(`packet refers to interface ${interfaceId}, but the section describes ${count}`, this.frames + 1);
    const p = this.packet;
    p.frame = ++this.frames;
    p.interfaceIndex = this.sectionBase + interfaceId;
    p.tsHigh = high;
    p.tsLow = low;
    setTime(p, high, low, this.interfaces[p.interfaceIndex]);
    return p;
  }

  private startSection(bytes: Buffer, at: number): void {
    if (bytes.readUInt32LE(at + 8) === BYTE_ORDER_MAGIC) this.littleEndian = true;
    else if (bytes.readUInt32BE(at + 8) === BYTE_ORDER_MAGIC) this.littleEndian = false;
    else throw this.error('section header has no valid byte-order magic');
    const major = this.littleEndian ? bytes.readUInt16LE(at + 12) : bytes.readUInt16BE(at + 12);
    if (major !== 1) throw this.error(`unsupported pcapng version ${major}`);
    this.sectionBase = this.interfaces.length;
  }

  private addInterface(bytes: Buffer, at: number, blockLength: number): void {
    if (blockLength < 20) throw this.error(`interface description block length ${blockLength} is too short`);
    const le = this.littleEndian;
    const iface: RawInterface = {
      linkType: le ? bytes.readUInt16LE(at + 8) : bytes.readUInt16BE(at + 8),
      snapLength: this.readU32(bytes, at + 12),
      options: Buffer.alloc(0),
      binary: false,
      exponent: 6,
      offsetSeconds: 0,
      unitsPerSecond: 0,
      nanosPerUnit: 0,
    };
    const end = this.walkOptions(bytes, at + 16, at + blockLength - 4, true, (code, value, length) => {
      if (code === OPTION_IF_TSRESOL && length >= 1) {
        iface.binary = (bytes[value] & 0x80) !== 0;
        iface.exponent = bytes[value] & 0x7f;
      } else if (code === OPTION_IF_TSOFFSET && length >= 8) {
        iface.offsetSeconds = Number(le ? bytes.readBigInt64LE(value) : bytes.readBigInt64BE(value));
      }
    });
    if (!iface.binary && iface.exponent <= 9) {
      iface.unitsPerSecond = 10 ** iface.exponent;
      iface.nanosPerUnit = 10 ** (9 - iface.exponent);
    }
    iface.options = this.littleEndianOptions(bytes, at + 16, end, INTERFACE_NUMBERS, true);
    this.interfaces.push(iface);
  }

  /** A packet block's options, little-endian; a malformed tail (the frame readers do not look at it) is left out. */
  private packetOptions(bytes: Buffer, start: number, end: number): Buffer | undefined {
    if (start >= end) return undefined;
    const validEnd = this.walkOptions(bytes, start, end, false, () => undefined);
    if (validEnd <= start) return undefined;
    if (this.littleEndian) return bytes.subarray(start, validEnd);
    return this.littleEndianOptions(bytes, start, validEnd, PACKET_NUMBERS, false);
  }

  /** A copy of well-formed options in [start, end) as little-endian. */
  private littleEndianOptions(bytes: Buffer, start: number, end: number, numbers: ReadonlyMap<number, number>, copy: boolean): Buffer {
    if (this.littleEndian) return copy ? Buffer.from(bytes.subarray(start, end)) : bytes.subarray(start, end);
    const out = Buffer.from(bytes.subarray(start, end));
    let at = 0;
    while (at + 4 <= out.length) {
      out.subarray(at, at + 4).swap16(); // code and length
      const code = out.readUInt16LE(at);
      const length = out.readUInt16LE(at + 2);
      const value = at + 4;
      const size = CUSTOM_OPTIONS.has(code) ? 4 : numbers.get(code);
      if (size !== undefined && length >= size) {
        const field = out.subarray(value, value + size);
        if (size === 4) field.swap32();
        else field.swap64();
      }
      at = value + ((length + 3) & ~3);
    }
    return out;
  }

  /**
   * Walks options (code, length, value padded to 4 bytes) up to the end marker;
   * returns where the well-formed options end (the end marker excluded). An option
   * that overruns the block throws when `strict` (as the frame readers do for
   * section and interface blocks), and otherwise ends the walk.
   */
  private walkOptions(
    bytes: Buffer,
    at: number,
    end: number,
    strict: boolean,
    visit: (code: number, value: number, length: number) => void,
  ): number {
    const le = this.littleEndian;
    while (at + 4 <= end) {
      const code = le ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at);
      const length = le ? bytes.readUInt16LE(at + 2) : bytes.readUInt16BE(at + 2);
      if (code === OPTION_END) return at;
      const value = at + 4;
      if (value + length > end) {
        if (strict) throw this.error(`option ${code} of ${length} bytes overruns its block`);
        return at;
      }
      visit(code, value, length);
      at = Math.min(end, value + ((length + 3) & ~3));
    }
    return at;
  }

  private readU32(bytes: Buffer, at: number): number {
    return this.littleEndian ? u32le(bytes, at) : u32be(bytes, at);
  }

  private error(reason: string, frame = this.frames > 0 ? this.frames + 1 : 0): CaptureFormatError {
    return new CaptureFormatError(this.path, this.input.offset, frame, `cannot read pcapng block: ${reason}`);
  }
}

const TWO_POW_32 = 4294967296;

/** The instant of a count of interface units, as the pcapng frame reader computes it. */
function setTime(p: RawPacket, high: number, low: number, iface: RawInterface): void {
  const units = high * TWO_POW_32 + low;
  const perSecond = iface.unitsPerSecond;
  if (perSecond > 0 && units <= Number.MAX_SAFE_INTEGER) {
    const seconds = Math.floor(units / perSecond);
    p.tsSec = seconds + iface.offsetSeconds;
    p.tsNsec = (units - seconds * perSecond) * iface.nanosPerUnit;
    return;
  }
  const big = (BigInt(high) << 32n) | BigInt(low);
  const unitsPerSecond = iface.binary ? 1n << BigInt(iface.exponent) : 10n ** BigInt(iface.exponent);
  p.tsSec = Number(big / unitsPerSecond) + iface.offsetSeconds;
  p.tsNsec = Number(((big % unitsPerSecond) * 1_000_000_000n) / unitsPerSecond);
}
