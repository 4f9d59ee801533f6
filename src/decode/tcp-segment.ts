/** TCP header flags, as bits of the 12-bit flags field (RFC 9293 §3.1, RFC 3540, RFC 3168). */
export const TcpFlag = {
  FIN: 0x001,
  SYN: 0x002,
  RST: 0x004,
  PSH: 0x008,
  ACK: 0x010,
  URG: 0x020,
  ECE: 0x040,
  CWR: 0x080,
  /** NS (RFC 3540, historic), now AE (accurate ECN). */
  NS: 0x100,
} as const;
export type TcpFlag = (typeof TcpFlag)[keyof typeof TcpFlag];

/** Whether the TCP checksum (pseudo-header included) was checked and what it said. */
export const ChecksumStatus = {
  /** Not all of the segment was captured (snap length): nothing to check it against. */
  unverified: 0,
  good: 1,
  /** Wrong, or left for the network card to fill in (checksum offload on the capturing host). */
  bad: 2,
} as const;
export type ChecksumStatus = (typeof ChecksumStatus)[keyof typeof ChecksumStatus];

export const MAX_SACK_BLOCKS = 4;
/** A 60-byte header has room for at most 20 two-byte options. */
export const MAX_UNKNOWN_OPTIONS = 20;

/**
 * A tunnel TCP was found inside (GRE, VXLAN, …): one object per tunnel, the same for
 * every packet through it, so that the inner connection's key can include it.
 */
export interface Tunnel {
  /** 1, 2, …: in the flow key. */
  readonly index: number;
  /** The kind, outermost first when tunnels nest: "gre", "vxlan", "gre>vxlan". */
  readonly kind: string;
  /** The innermost tunnel's outer IP endpoints, the lower address first: "192.0.2.1-192.0.2.2". */
  readonly endpoints: string;
  /** VXLAN or Geneve VNI, GTP-U TEID (of the first packet), GRE key, ERSPAN session, PPTP call id; null when none. */
  readonly id: number | null;
}

/**
 * One decoded TCP segment. The decoder reuses a single instance (no allocation per
 * packet): copy what you keep. Addresses are 32-bit words in network order; IPv4
 * uses only word 0.
 */
export class TcpSegment {
  ipVersion: 4 | 6 = 4;
  /** The tunnel the segment came through, or null on the outermost IP. */
  tunnel: Tunnel | null = null;
  src0 = 0;
  src1 = 0;
  src2 = 0;
  src3 = 0;
  dst0 = 0;
  dst1 = 0;
  dst2 = 0;
  dst3 = 0;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl = 0;
  /** Length of the IP packet (header and payload) as the IP header states it. */
  ipLength = 0;
  srcPort = 0;
  dstPort = 0;
  /** Raw 32-bit sequence number, 0..2^32-1. */
  seq = 0;
  /** Raw 32-bit acknowledgement number (meaningful when ACK is set). */
  ack = 0;
  /** The 12-bit flags field: the nine flags of TcpFlag plus three reserved bits. */
  flags = 0;
  /** Window field as sent (not scaled). */
  window = 0;
  urgentPointer = 0;
  checksum = 0;
  checksumStatus: ChecksumStatus = ChecksumStatus.unverified;
  /** TCP header length in bytes (data offset × 4). */
  headerLength = 0;
  /** Payload length on the wire, from the IP lengths (snaplen cuts do not shrink it). */
  payloadLength = 0;
  /** Payload bytes present in the capture: data[payloadOffset, payloadOffset + capturedPayloadLength). */
  capturedPayloadLength = 0;
  payloadOffset = 0;

  /** Options: -1 where absent. */
  mss = -1;
  windowScale = -1;
  sackPermitted = false;
  sackBlockCount = 0;
  /** left0, right0, left1, right1, …: raw 32-bit edges. */
  readonly sackBlocks = new Float64Array(MAX_SACK_BLOCKS * 2);
  hasTimestamp = false;
  tsVal = 0;
  tsEcr = 0;
  /** TCP Fast Open cookie length (0 for a cookie request), -1 where absent. */
  fastOpenCookieLength = -1;
  /** Option kinds we do not interpret, in order of appearance: the first `unknownOptionCount` entries. */
  readonly unknownOptionKinds = new Uint8Array(MAX_UNKNOWN_OPTIONS);
  unknownOptionCount = 0;
  /** The options area was cut by the snap length or ran past the header. */
  optionsTruncated = false;
}
