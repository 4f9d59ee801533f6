/**
 * One record of a capture file, as the reader hands it on. Readers reuse a single
 * instance per file (no per-packet allocation): copy what you keep before asking
 * the reader for the next frame.
 */
export class CapturedFrame {
  /** Index of the input file among those given (0-based). */
  source = 0;
  /** 1-based record number within its file, as Wireshark's `frame.number`. */
  frame = 0;
  /** 0-based byte offset of the record header in the (decompressed) file. */
  offset = 0;
  /** Whole seconds since the Unix epoch. */
  tsSec = 0;
  /** Nanoseconds within the second, 0..999_999_999. */
  tsNsec = 0;
  /** LINKTYPE_* value of the interface the packet was captured on. */
  linkType = 0;
  /** pcapng interface id (0 for classic pcap). */
  interfaceId = 0;
  /** Bytes captured (may be less than origLen when the snap length cut the packet). */
  capturedLength = 0;
  /** Length of the packet on the wire. */
  originalLength = 0;
  /** The captured bytes are data[dataOffset, dataOffset + capturedLength). */
  data: Buffer = Buffer.alloc(0);
  dataOffset = 0;
}

/** Integer nanoseconds since the Unix epoch, lossless. */
export function frameTimeNs(frame: Pick<CapturedFrame, 'tsSec' | 'tsNsec'>): bigint {
  return BigInt(frame.tsSec) * 1_000_000_000n + BigInt(frame.tsNsec);
}
