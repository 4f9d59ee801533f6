import { u32be, u32le } from './bytes.js';
import { CapturedFrame } from './captured-frame.js';
import { CaptureFormatError } from './capture-format-error.js';
import { CaptureFormat } from './frame-reader.js';
import { RecordReader } from './record-reader.js';
import type { RecordBuffer } from './record-buffer.js';

export const PCAPNG_SECTION_HEADER = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_INTERFACE_DESCRIPTION = 1;
const BLOCK_OBSOLETE_PACKET = 2;
const BLOCK_SIMPLE_PACKET = 3;
const BLOCK_ENHANCED_PACKET = 6;
const OPTION_END = 0;
const OPTION_IF_TSRESOL = 9;
const OPTION_IF_TSOFFSET = 14;
/** Larger blocks than this are corruption, not packets (Wireshark uses the same bound). */
const MAX_BLOCK_LENGTH = 16 * 1024 * 1024;
const BLOCK_HEADER_LENGTH = 8;
/**
 * Interface description blocks one section may hold (one per interface captured on),
 * 65,536 as the obsolete packet block's 16-bit interface id can name. Past it the file
 * is refused with a CaptureFormatError rather than the block skipped: a packet on a
 * skipped interface could not be read anyway (its link type unknown), and no capture
 * comes near it; a million such blocks took 245 MiB. Wireshark and libpcap keep
 * interfaces in arrays grown without a limit of their own.
 */
export const MAX_INTERFACES_PER_SECTION = 65_536;
const SECTION_HEADER_MINIMUM = 28;
/** Type, length, byte-order magic and version: what decides how to read the rest. */
const SECTION_HEADER_PREFIX = 16;

interface Interface {
  linkType: number;
  snapLength: number;
  /** Timestamp units per second as 10^decimalExponent, or 2^binaryExponent when binary. */
  binary: boolean;
  exponent: number;
  /** For decimal resolutions up to nanoseconds (10^exponent units a second): units a second, nanoseconds a unit. */
  unitsPerSecond: number;
  nanosPerUnit: number;
  offsetSeconds: number;
}

/** Streaming reader of pcapng files (draft-ietf-opsawg-pcapng): several sections, interfaces and link types. */
export class PcapngReader extends RecordReader {
  readonly format = CaptureFormat.pcapng;
  protected readonly unit = 'block';
  protected readonly recordHeaderBytes = BLOCK_HEADER_LENGTH;
  private readonly frame = new CapturedFrame();
  private interfaces: Interface[] = [];
  private littleEndian = true;

  constructor(input: RecordBuffer, sourceIndex: number) {
    super(input, BLOCK_HEADER_LENGTH);
    this.frame.source = sourceIndex;
  }

  nextSync(): CapturedFrame | null {
    const input = this.input;
    for (;;) {
      const headerLength = BLOCK_HEADER_LENGTH + 4;
      if (input.available < headerLength) {
        this.needed = headerLength;
        return null;
      }
      const bytes = input.bytes;
      const at = input.position;
      const type = this.readU32(bytes, at);
      if (type === PCAPNG_SECTION_HEADER) {
        if (input.available < SECTION_HEADER_PREFIX) {
          this.needed = SECTION_HEADER_PREFIX;
          return null;
        }
        this.startSection(bytes, at);
      }
      const le = this.littleEndian;
      const blockLength = le ? u32le(bytes, at + 4) : u32be(bytes, at + 4);
      if (blockLength < 12 || blockLength % 4 !== 0 || blockLength > MAX_BLOCK_LENGTH) {
        const why =
          blockLength % 4 !== 0 ? 'is not a multiple of 4' : blockLength < 12 ? 'is shorter than a block header' : 'is impossibly large';
        throw this.error(`block length ${blockLength} ${why}`);
      }
      if (input.available < blockLength) {
        this.needed = blockLength;
        return null;
      }
      const trailer = le ? u32le(bytes, at + blockLength - 4) : u32be(bytes, at + blockLength - 4);
      if (trailer !== blockLength) throw this.error(`block length ${blockLength} does not match its trailing copy ${trailer}`);
      const frame = this.readBlock(type, bytes, at, blockLength);
      input.position = at + blockLength;
      if (frame) return frame;
    }
  }

  private readBlock(type: number, bytes: Buffer, at: number, blockLength: number): CapturedFrame | null {
    switch (type) {
      case PCAPNG_SECTION_HEADER:
        if (blockLength < SECTION_HEADER_MINIMUM) throw this.error(`section header block length ${blockLength} is too short`);
        this.forEachOption(bytes, at + 24, at + blockLength - 4, () => undefined);
        return null;
      case BLOCK_INTERFACE_DESCRIPTION:
        this.addInterface(bytes, at, blockLength);
        return null;
      case BLOCK_ENHANCED_PACKET: {
        if (blockLength < 32) throw this.error(`enhanced packet block length ${blockLength} is too short`);
        const capturedLength = this.readU32(bytes, at + 20);
        if (capturedLength > blockLength - 32)
          throw this.error(`captured length ${capturedLength} overruns its block of ${blockLength} bytes`);
        return this.packet(
          this.readU32(bytes, at + 8),
          this.readU32(bytes, at + 12),
          this.readU32(bytes, at + 16),
          capturedLength,
          this.readU32(bytes, at + 24),
          at + 28,
        );
      }
      case BLOCK_OBSOLETE_PACKET: {
        if (blockLength < 32) throw this.error(`packet block length ${blockLength} is too short`);
        const capturedLength = this.readU32(bytes, at + 20);
        if (capturedLength > blockLength - 32)
          throw this.error(`captured length ${capturedLength} overruns its block of ${blockLength} bytes`);
        const interfaceId = this.littleEndian ? bytes.readUInt16LE(at + 8) : bytes.readUInt16BE(at + 8);
        return this.packet(
          interfaceId,
          this.readU32(bytes, at + 12),
          this.readU32(bytes, at + 16),
          capturedLength,
          this.readU32(bytes, at + 24),
          at + 28,
        );
      }
      case BLOCK_SIMPLE_PACKET: {
        if (blockLength < 16) throw this.error(`simple packet block length ${blockLength} is too short`);
        const originalLength = this.readU32(bytes, at + 8);
        const snap = this.interfaces[0]?.snapLength || Number.MAX_SAFE_INTEGER;
        const capturedLength = Math.min(originalLength, blockLength - 16, snap);
        // Simple packet blocks carry no timestamp; Wireshark shows them at time 0 too.
        return this.packet(0, 0, 0, capturedLength, originalLength, at + 12);
      }
      default:
        this.skippedBlocks.set(type, (this.skippedBlocks.get(type) ?? 0) + 1);
        return null;
    }
  }

  private packet(
    interfaceId: number,
    high: number,
    low: number,
    capturedLength: number,
    originalLength: number,
    dataAt: number,
  ): CapturedFrame {
    const iface = this.interfaces[interfaceId];
    if (!iface)
      throw this.error(`packet refers to interface ${interfaceId}, but the section describes ${this.interfaces.length}`, this.frames + 1);
    const frame = this.frame;
    frame.frame = ++this.frames;
    frame.offset = this.input.offset;
    setTimestamp(frame, high, low, iface);
    frame.linkType = iface.linkType;
    frame.interfaceId = interfaceId;
    frame.capturedLength = capturedLength;
    frame.originalLength = originalLength;
    frame.data = this.input.bytes;
    frame.dataOffset = dataAt;
    return frame;
  }

  private startSection(bytes: Buffer, at: number): void {
    const magic = bytes.readUInt32LE(at + 8);
    if (magic === BYTE_ORDER_MAGIC) this.littleEndian = true;
    else if (bytes.readUInt32BE(at + 8) === BYTE_ORDER_MAGIC) this.littleEndian = false;
    else throw this.error(`section header has no valid byte-order magic (0x${magic.toString(16)})`);
    const major = this.littleEndian ? bytes.readUInt16LE(at + 12) : bytes.readUInt16BE(at + 12);
    const minor = this.littleEndian ? bytes.readUInt16LE(at + 14) : bytes.readUInt16BE(at + 14);
    if (major !== 1) throw this.error(`unsupported pcapng version ${major}.${minor} (only 1.x exists)`);
    this.interfaces = [];
  }

  private addInterface(bytes: Buffer, at: number, blockLength: number): void {
    if (blockLength < 20) throw this.error(`interface description block length ${blockLength} is too short`);
    if (this.interfaces.length >= MAX_INTERFACES_PER_SECTION)
      throw this.error(`the section describes more than ${MAX_INTERFACES_PER_SECTION} interfaces`);
    const le = this.littleEndian;
    const iface: Interface = {
      linkType: le ? bytes.readUInt16LE(at + 8) : bytes.readUInt16BE(at + 8),
      snapLength: this.readU32(bytes, at + 12),
      binary: false,
      exponent: 6,
      unitsPerSecond: 0,
      nanosPerUnit: 0,
      offsetSeconds: 0,
    };
    this.forEachOption(bytes, at + 16, at + blockLength - 4, (code, value, length) => {
      if (code === OPTION_IF_TSRESOL && length >= 1) {
        const resolution = bytes[value];
        iface.binary = (resolution & 0x80) !== 0;
        iface.exponent = resolution & 0x7f;
      } else if (code === OPTION_IF_TSOFFSET && length >= 8) {
        iface.offsetSeconds = Number(le ? bytes.readBigInt64LE(value) : bytes.readBigInt64BE(value));
      }
    });
    if (!iface.binary && iface.exponent <= 9) {
      iface.unitsPerSecond = 10 ** iface.exponent;
      iface.nanosPerUnit = 10 ** (9 - iface.exponent);
    }
    this.interfaces.push(iface);
    this.linkTypes.add(iface.linkType);
  }

  /** Walks a block's options (code, length, value padded to 4 bytes) and rejects one that overruns the block. */
  private forEachOption(bytes: Buffer, at: number, end: number, visit: (code: number, value: number, length: number) => void): void {
    const le = this.littleEndian;
    while (at + 4 <= end) {
      const code = le ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at);
      const length = le ? bytes.readUInt16LE(at + 2) : bytes.readUInt16BE(at + 2);
      if (code === OPTION_END) return;
      const value = at + 4;
      if (value + length > end) throw this.error(`option ${code} of ${length} bytes overruns its block`);
      visit(code, value, length);
      at = value + ((length + 3) & ~3);
    }
  }

  private readU32(bytes: Buffer, at: number): number {
    // Per packet: unchecked reads (bounds are checked against the block length first).
    return this.littleEndian ? u32le(bytes, at) : u32be(bytes, at);
  }

  /** Errors name the frame being read (0 while no packet has been read: the file header). */
  private error(reason: string, frame = this.frames > 0 ? this.frames + 1 : 0): CaptureFormatError {
    return new CaptureFormatError(this.path, this.input.offset, frame, `cannot read pcapng block: ${reason}`);
  }
}

const TWO_POW_32 = 4294967296;

/** Counts of time units below 2^53 (high word below 2^21) are exact as one double. */
const EXACT_HIGH_WORD = 0x200000;

/** Converts a 64-bit count of interface time units into seconds and nanoseconds, without losing precision. */
function setTimestamp(frame: CapturedFrame, high: number, low: number, iface: Interface): void {
  if (!iface.binary && iface.exponent <= 9) {
    const unitsPerSecond = iface.unitsPerSecond;
    let seconds: number;
    let rest: number;
    if (high < EXACT_HIGH_WORD) {
      // Microseconds since 1970 fit, as most captures count. One division is exact: below
      // 2^53 the quotient's rounding error is under 1/unitsPerSecond, too little to reach
      // the next whole number, and the remainder is a difference of exact integers.
      const units = high * TWO_POW_32 + low;
      seconds = Math.floor(units / unitsPerSecond);
      rest = units - seconds * unitsPerSecond;
    } else {
      // Long division of high*2^32 + low in 16-bit steps keeps every intermediate below 2^53.
      const quotientHigh = Math.floor(high / unitsPerSecond);
      rest = high - quotientHigh * unitsPerSecond;
      let part = rest * 65536 + (low >>> 16);
      const quotientMiddle = Math.floor(part / unitsPerSecond);
      rest = part - quotientMiddle * unitsPerSecond;
      part = rest * 65536 + (low & 0xffff);
      const quotientLow = Math.floor(part / unitsPerSecond);
      rest = part - quotientLow * unitsPerSecond;
      seconds = quotientHigh * TWO_POW_32 + quotientMiddle * 65536 + quotientLow;
    }
    frame.tsSec = seconds + iface.offsetSeconds;
    frame.tsNsec = rest * iface.nanosPerUnit;
    return;
  }
  const units = (BigInt(high) << 32n) | BigInt(low);
  const perSecond = iface.binary ? 1n << BigInt(iface.exponent) : 10n ** BigInt(iface.exponent);
  frame.tsSec = Number(units / perSecond) + iface.offsetSeconds;
  frame.tsNsec = Number(((units % perSecond) * 1_000_000_000n) / perSecond);
}
