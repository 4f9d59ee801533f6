/** pcapng block types and option codes the writer uses (draft-ietf-opsawg-pcapng). */
export const PcapngBlock = { section: 0x0a0d0d0a, interface: 1, enhancedPacket: 6 } as const;
export const OPTION_END = 0;
/** opt_comment: a UTF-8 comment, allowed in every block; Wireshark shows a packet's as `frame.comment`. */
export const OPTION_COMMENT = 1;
/** shb_userappl: the application that wrote the section. */
export const OPTION_SHB_USERAPPL = 4;
/** if_tsresol: the interface's timestamp resolution (10^-n, or 2^-n with the high bit). */
export const OPTION_IF_TSRESOL = 9;

const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** An option's value is at most 65,535 bytes (its length is 16 bits). */
export const MAX_OPTION_VALUE = 0xffff;
const BUFFER_SIZE = 1 << 20;

/** One option, encoded: code, length, value padded to 4 bytes (little-endian). */
export function encodeOption(code: number, value: Buffer): Buffer {
  const length = Math.min(value.length, MAX_OPTION_VALUE);
  const out = Buffer.alloc(4 + ((length + 3) & ~3));
  out.writeUInt16LE(code, 0);
  out.writeUInt16LE(length, 2);
  value.copy(out, 4, 0, length);
  return out;
}

/** A text option (opt_comment, shb_userappl); UTF-8 cut at a character boundary to fit 65,535 bytes. */
export function encodeTextOption(code: number, text: string): Buffer {
  let value = Buffer.from(text, 'utf8');
  if (value.length > MAX_OPTION_VALUE) {
    let end = MAX_OPTION_VALUE;
    while (end > 0 && (value[end] & 0xc0) === 0x80) end--;
    value = value.subarray(0, end);
  }
  return encodeOption(code, value);
}

/**
 * Writes a pcapng file (one section, little-endian) to `sink` through a
 * 1 MiB buffer: blocks are laid out in the buffer in place, a packet's bytes copied
 * once. Options are handed in already encoded (little-endian TLVs without the
 * end-of-options marker, which the writer adds).
 */
export class PcapngWriter {
  private buffer = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;
  /** Bytes handed to the file so far. */
  written = 0;

  /** `sink` takes all of `bytes[offset, offset + length)` or throws. */
  constructor(private readonly sink: (bytes: Buffer, offset: number, length: number) => void) {}

  sectionHeader(options: readonly Buffer[]): void {
    const optionBytes = optionsLength(options);
    const at = this.block(PcapngBlock.section, 28 + optionBytes);
    const b = this.buffer;
    b.writeUInt32LE(BYTE_ORDER_MAGIC, at + 8);
    b.writeUInt16LE(1, at + 12);
    b.writeUInt16LE(0, at + 14);
    // Section length unknown (-1): the file is written as a stream.
    b.writeInt32LE(-1, at + 16);
    b.writeInt32LE(-1, at + 20);
    this.putOptions(at + 24, options);
  }

  interfaceDescription(linkType: number, snapLength: number, options: readonly Buffer[]): void {
    const optionBytes = optionsLength(options);
    const at = this.block(PcapngBlock.interface, 20 + optionBytes);
    const b = this.buffer;
    b.writeUInt16LE(linkType, at + 8);
    b.writeUInt16LE(0, at + 10);
    b.writeUInt32LE(snapLength >>> 0, at + 12);
    this.putOptions(at + 16, options);
  }

  /**
   * One enhanced packet block: the timestamp as the interface's 64-bit count of units
   * (high and low words), the captured bytes `data[dataOffset, dataOffset + capturedLength)`,
   * and its options: `kept` (the original block's, already little-endian) then `added`.
   */
  enhancedPacket(
    interfaceId: number,
    tsHigh: number,
    tsLow: number,
    capturedLength: number,
    originalLength: number,
    data: Buffer,
    dataOffset: number,
    kept: Buffer | undefined,
    added: readonly Buffer[] | undefined,
  ): void {
    const padded = (capturedLength + 3) & ~3;
    const keptLength = kept === undefined ? 0 : kept.length;
    let addedLength = 0;
    if (added !== undefined) for (const option of added) addedLength += option.length;
    const optionBytes = keptLength + addedLength === 0 ? 0 : keptLength + addedLength + 4;
    const at = this.block(PcapngBlock.enhancedPacket, 32 + padded + optionBytes);
    const b = this.buffer;
    b.writeUInt32LE(interfaceId, at + 8);
    b.writeUInt32LE(tsHigh >>> 0, at + 12);
    b.writeUInt32LE(tsLow >>> 0, at + 16);
    b.writeUInt32LE(capturedLength, at + 20);
    b.writeUInt32LE(originalLength >>> 0, at + 24);
    data.copy(b, at + 28, dataOffset, dataOffset + capturedLength);
    let o = at + 28 + capturedLength;
    while (o < at + 28 + padded) b[o++] = 0;
    if (optionBytes > 0) {
      if (kept !== undefined) o += kept.copy(b, o);
      if (added !== undefined) for (const option of added) o += option.copy(b, o);
      b.writeUInt32LE(OPTION_END, o); // code 0, length 0
    }
  }

  /** Hands everything buffered to the file. */
  flush(): void {
    if (this.used > 0) this.sink(this.buffer, 0, this.used);
    this.written += this.used;
    this.used = 0;
  }

  /** A block of `length` bytes in the buffer, its frame written (type, and its length at both ends): where it starts. */
  private block(type: number, length: number): number {
    const at = this.reserve(length);
    this.buffer.writeUInt32LE(type, at);
    this.buffer.writeUInt32LE(length, at + 4);
    this.buffer.writeUInt32LE(length, at + length - 4);
    this.used += length;
    return at;
  }

  /** Room for `length` bytes at the end of the buffer (flushing, or growing it for a block larger than it). */
  private reserve(length: number): number {
    if (this.used + length > this.buffer.length) {
      this.flush();
      if (length > this.buffer.length) this.buffer = Buffer.allocUnsafe(length);
    }
    return this.used;
  }

  private putOptions(at: number, options: readonly Buffer[]): void {
    if (options.length === 0) return;
    for (const option of options) at += option.copy(this.buffer, at);
    this.buffer.writeUInt32LE(OPTION_END, at);
  }
}

/** Bytes the options take with their end-of-options marker (none at all when there are none). */
function optionsLength(options: readonly Buffer[]): number {
  if (options.length === 0) return 0;
  let total = 4;
  for (const option of options) total += option.length;
  return total;
}
