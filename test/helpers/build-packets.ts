// Hand-built packets and capture files for the edge cases a kernel will not
// produce on demand: malformed headers, odd encapsulations, cut files, exotic
// pcapng timestamp resolutions. Everything here is plain bytes, written out
// field by field so that a test reads like the header diagram it exercises.
import { gzipSync } from 'node:zlib';
import { CapturedFrame } from '../../src/capture/captured-frame.js';

export type Bytes = Uint8Array | readonly number[];

function toBuffer(bytes: Bytes): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes as Uint8Array);
}

export function concat(...parts: Bytes[]): Buffer {
  return Buffer.concat(parts.map(toBuffer));
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value & 0xffff);
  return b;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

/** Pads to a multiple of `unit` with `fill` bytes. */
function pad(bytes: Buffer, unit: number, fill = 0): Buffer {
  const rest = bytes.length % unit;
  return rest === 0 ? bytes : Buffer.concat([bytes, Buffer.alloc(unit - rest, fill)]);
}

// ---------------------------------------------------------------- addresses

/** "10.0.0.1" → 4 bytes. */
export function ipv4Bytes(text: string): Buffer {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`bad IPv4 address ${text}`);
  return Buffer.from(parts);
}

/** "10.0.0.1" → the 32-bit word the decoder stores. */
export function ipv4Word(text: string): number {
  return ipv4Bytes(text).readUInt32BE(0);
}

/** "2001:db8::1" → 16 bytes. */
export function ipv6Bytes(text: string): Buffer {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const front = groups(head);
  const back = groups(tail);
  const zeros = tail === undefined ? 0 : 8 - front.length - back.length;
  const all = [...front, ...new Array<number>(zeros).fill(0), ...back];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`bad IPv6 address ${text}`);
  return Buffer.concat(all.map(u16));
}

/** "2001:db8::1" → the four 32-bit words the decoder stores. */
export function ipv6Words(text: string): [number, number, number, number] {
  const b = ipv6Bytes(text);
  return [b.readUInt32BE(0), b.readUInt32BE(4), b.readUInt32BE(8), b.readUInt32BE(12)];
}

// ---------------------------------------------------------------------- TCP

export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

/** TCP option encodings (RFC 9293 §3.2, RFC 7323, RFC 2018, RFC 7413). */
export const tcpOption = {
  eol: (): number[] => [0],
  nop: (): number[] => [1],
  mss: (value: number): number[] => [2, 4, value >> 8, value & 0xff],
  windowScale: (shift: number): number[] => [3, 3, shift],
  sackPermitted: (): number[] => [4, 2],
  sack: (blocks: ReadonlyArray<readonly [number, number]>): number[] => [
    5,
    2 + blocks.length * 8,
    ...blocks.flatMap(([l, r]) => [...u32(l), ...u32(r)]),
  ],
  timestamps: (value: number, echo: number): number[] => [8, 10, ...u32(value), ...u32(echo)],
  /** An empty cookie is a cookie request. */
  fastOpen: (cookie: Bytes = []): number[] => [34, 2 + cookie.length, ...cookie],
  raw: (kind: number, data: Bytes = []): number[] => [kind, 2 + data.length, ...data],
};

/** Options concatenated and padded to a 4-byte boundary with end-of-list bytes. */
export function tcpOptions(...options: number[][]): Buffer {
  return pad(Buffer.from(options.flat()), 4, 0);
}

export interface TcpFields {
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  /** The 12-bit flags field (TCP_FLAG bits; 0x100 is NS/AE). */
  flags?: number;
  window?: number;
  urgentPointer?: number;
  checksum?: number;
  /** Already padded options (see `tcpOptions`). */
  options?: Bytes;
  /** Data offset in 32-bit words; by default what the options make it. */
  dataOffset?: number;
  payload?: Bytes;
}

/** A TCP header (with options) followed by its payload. */
export function tcp(f: TcpFields = {}): Buffer {
  const options = toBuffer(f.options ?? []);
  const dataOffset = f.dataOffset ?? (20 + options.length) / 4;
  const flags = f.flags ?? TCP_FLAG.ACK;
  const header = Buffer.alloc(20);
  header.writeUInt16BE(f.srcPort ?? 40000, 0);
  header.writeUInt16BE(f.dstPort ?? 80, 2);
  header.writeUInt32BE((f.seq ?? 1000) >>> 0, 4);
  header.writeUInt32BE((f.ack ?? 0) >>> 0, 8);
  header[12] = ((dataOffset & 0x0f) << 4) | ((flags >> 8) & 0x0f);
  header[13] = flags & 0xff;
  header.writeUInt16BE(f.window ?? 65535, 14);
  header.writeUInt16BE(f.checksum ?? 0, 16);
  header.writeUInt16BE(f.urgentPointer ?? 0, 18);
  return concat(header, options, f.payload ?? []);
}

// --------------------------------------------------------------------- IPv4

export const IP_PROTOCOL = { ICMP: 1, IPIP: 4, TCP: 6, UDP: 17, IPV6: 41, GRE: 47, ESP: 50, AH: 51, ICMPV6: 58, NONE: 59 } as const;

export interface Ipv4Fields {
  src?: string;
  dst?: string;
  protocol?: number;
  ttl?: number;
  /** Header length in 32-bit words; by default what the options make it. */
  ihl?: number;
  /** Total length field; by default header plus payload. */
  totalLength?: number;
  id?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** Fragment offset in 8-byte units. */
  fragmentOffset?: number;
  /** Raw IP options (padded to 4 bytes with end-of-options). */
  options?: Bytes;
  /** Overrides the version nibble (4). */
  version?: number;
  payload?: Bytes;
}

export function ipv4(f: Ipv4Fields = {}): Buffer {
  const options = pad(toBuffer(f.options ?? []), 4, 0);
  const payload = toBuffer(f.payload ?? []);
  const ihl = f.ihl ?? (20 + options.length) / 4;
  const header = Buffer.alloc(20);
  header[0] = ((f.version ?? 4) << 4) | (ihl & 0x0f);
  header.writeUInt16BE(f.totalLength ?? 20 + options.length + payload.length, 2);
  header.writeUInt16BE(f.id ?? 0x1234, 4);
  header.writeUInt16BE((f.dontFragment ? 0x4000 : 0) | (f.moreFragments ? 0x2000 : 0) | ((f.fragmentOffset ?? 0) & 0x1fff), 6);
  header[8] = f.ttl ?? 64;
  header[9] = f.protocol ?? IP_PROTOCOL.TCP;
  ipv4Bytes(f.src ?? '192.0.2.1').copy(header, 12);
  ipv4Bytes(f.dst ?? '198.51.100.2').copy(header, 16);
  const full = concat(header, options);
  let sum = 0;
  for (let i = 0; i < full.length; i += 2) sum += full.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  full.writeUInt16BE(~sum & 0xffff, 10);
  return concat(full, payload);
}

// --------------------------------------------------------------------- IPv6

/** One IPv6 extension header: its Next Header value, and its bytes once the following header is known. */
export interface Ipv6Extension {
  type: number;
  build(next: number): Buffer;
}

/** A generic 8-octet-unit extension header (hop-by-hop, routing, destination options). */
function eightOctetExtension(type: number, body: Buffer): Ipv6Extension {
  // First two bytes are Next Header and Hdr Ext Len (8-byte units beyond the first 8).
  return {
    type,
    build(next: number): Buffer {
      const content = pad(concat([0, 0], body), 8, 0);
      content[0] = next;
      content[1] = content.length / 8 - 1;
      return content;
    },
  };
}

export const ipv6Extension = {
  /** Hop-by-hop options; by default one PadN filling the 8 bytes. */
  hopByHop: (options: Bytes = [1, 4, 0, 0, 0, 0]): Ipv6Extension => eightOctetExtension(0, toBuffer(options)),
  /** Jumbo Payload option (RFC 2675), as BIG TCP sends it. */
  jumbo: (payloadLength: number): Ipv6Extension => eightOctetExtension(0, concat([0xc2, 4], u32(payloadLength))),
  /** A type-2 routing header with one address (24 bytes). */
  routing: (): Ipv6Extension => eightOctetExtension(43, concat([2, 1, 0, 0, 0, 0], ipv6Bytes('2001:db8::99'))),
  destinationOptions: (options: Bytes = [1, 4, 0, 0, 0, 0]): Ipv6Extension => eightOctetExtension(60, toBuffer(options)),
  /** Fragment header; `offset` in 8-byte units. */
  fragment: (offset = 0, more = false, id = 0xabcd): Ipv6Extension => ({
    type: 44,
    build: (next) => concat([next, 0], u16((offset << 3) | (more ? 1 : 0)), u32(id)),
  }),
  /** Authentication Header (RFC 4302) with an ICV of `icvLength` bytes: length in 4-byte units minus 2. */
  authentication: (icvLength = 12): Ipv6Extension => ({
    type: 51,
    build: (next) => {
      const total = 12 + icvLength;
      return concat([next, total / 4 - 2, 0, 0], u32(0x1000), u32(1), Buffer.alloc(icvLength, 0xaa));
    },
  }),
};

export interface Ipv6Fields {
  src?: string;
  dst?: string;
  hopLimit?: number;
  /** Payload length field; by default the extensions plus the payload. */
  payloadLength?: number;
  extensions?: Ipv6Extension[];
  /** Next header after the extensions. */
  protocol?: number;
  version?: number;
  payload?: Bytes;
}

export function ipv6(f: Ipv6Fields = {}): Buffer {
  const extensions = f.extensions ?? [];
  const protocol = f.protocol ?? IP_PROTOCOL.TCP;
  const built = extensions.map((e, i) => e.build(i + 1 < extensions.length ? extensions[i + 1].type : protocol));
  const body = concat(...built, f.payload ?? []);
  const header = Buffer.alloc(40);
  header.writeUInt32BE(((f.version ?? 6) << 28) >>> 0, 0);
  header.writeUInt16BE(f.payloadLength ?? body.length, 4);
  header[6] = extensions.length > 0 ? extensions[0].type : protocol;
  header[7] = f.hopLimit ?? 64;
  ipv6Bytes(f.src ?? '2001:db8::1').copy(header, 8);
  ipv6Bytes(f.dst ?? '2001:db8::2').copy(header, 24);
  return concat(header, body);
}

// ------------------------------------------------------------------ tunnels

/** A UDP header (checksum 0: none) and its payload. */
export function udp(srcPort: number, dstPort: number, payload: Bytes): Buffer {
  const body = toBuffer(payload);
  return concat(u16(srcPort), u16(dstPort), u16(8 + body.length), u16(0), body);
}

/** GRE (RFC 2784/2890): optional checksum, key and sequence number, then the payload. */
export function gre(
  protocolType: number,
  payload: Bytes,
  f: { key?: number; sequence?: number; checksum?: boolean; version?: number } = {},
): Buffer {
  const flags = (f.checksum ? 0x80 : 0) | (f.key !== undefined ? 0x20 : 0) | (f.sequence !== undefined ? 0x10 : 0);
  return concat(
    [flags, f.version ?? 0],
    u16(protocolType),
    f.checksum ? u32(0) : [],
    f.key !== undefined ? u32(f.key) : [],
    f.sequence !== undefined ? u32(f.sequence) : [],
    payload,
  );
}

/** VXLAN (RFC 7348): flags with I set, the 24-bit VNI, then an Ethernet frame. */
export function vxlan(vni: number, frame: Bytes): Buffer {
  return concat([0x08, 0, 0, 0], u32((vni << 8) >>> 0), frame);
}

/** Geneve (RFC 8926): `optionWords` 4-byte words of options, the protocol type, the VNI. */
export function geneve(vni: number, protocolType: number, payload: Bytes, optionWords = 0): Buffer {
  return concat([optionWords & 0x3f, 0], u16(protocolType), u32((vni << 8) >>> 0), Buffer.alloc(optionWords * 4), payload);
}

/** GTPv1-U G-PDU (3GPP TS 29.281), with a sequence number and one extension header when asked. */
export function gtpU(teid: number, payload: Bytes, withExtension = false): Buffer {
  const body = toBuffer(payload);
  const optional = withExtension ? concat(u16(1), [0, 0x85], [1, 0x09, 0, 0]) : [];
  const length = toBuffer(optional).length + body.length;
  return concat([withExtension ? 0x36 : 0x30, 0xff], u16(length), u32(teid), optional, body);
}

// ---------------------------------------------------------------- link layers

export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  MPLS: 0x8847,
  PPPOE_SESSION: 0x8864,
  QINQ: 0x88a8,
  QINQ_OLD: 0x9100,
} as const;

export interface VlanTag {
  /** Tag protocol identifier: 0x8100, 0x88a8, 0x9100… */
  tpid: number;
  vid: number;
  pcp?: number;
}

/** Ethernet II: destination, source, any VLAN tags, ethertype, payload. */
export function ethernet(ethertype: number, payload: Bytes, tags: VlanTag[] = []): Buffer {
  const macs = Buffer.from([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]);
  const tagBytes = tags.map((t) => concat(u16(t.tpid), u16(((t.pcp ?? 0) << 13) | (t.vid & 0x0fff))));
  return concat(macs, ...tagBytes, u16(ethertype), payload);
}

/** An MPLS label stack (bottom-of-stack bit on the last), then the payload. */
export function mpls(labels: number[], payload: Bytes): Buffer {
  const entries = labels.map((label, i) => u32(((label & 0xfffff) << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64));
  return concat(...entries, payload);
}

export const PPP_PROTOCOL = { IPV4: 0x0021, IPV6: 0x0057, LCP: 0xc021 } as const;

/** PPPoE session stage (RFC 2516): ver/type, code, session, length (PPP protocol + payload). */
export function pppoeSession(pppProtocol: number, payload: Bytes, length?: number): Buffer {
  const body = concat(u16(pppProtocol), payload);
  return concat([0x11, 0x00], u16(0x0042), u16(length ?? body.length), body);
}

/** PPP (LINKTYPE_PPP): optionally with HDLC address/control bytes. */
export function ppp(protocol: number, payload: Bytes, hdlc = true): Buffer {
  return concat(hdlc ? [0xff, 0x03] : [], u16(protocol), payload);
}

/** Linux cooked capture v1 (16 bytes; protocol at 14). */
export function linuxSll(protocol: number, payload: Bytes): Buffer {
  return concat(u16(0), u16(1), u16(6), [2, 0, 0, 0, 0, 1, 0, 0], u16(protocol), payload);
}

/** Linux cooked capture v2 (20 bytes; protocol first). */
export function linuxSll2(protocol: number, payload: Bytes): Buffer {
  return concat(u16(protocol), u16(0), u32(2), u16(1), [0, 6], [2, 0, 0, 0, 0, 1, 0, 0], payload);
}

/** BSD loopback (LINKTYPE_NULL): the address family in the writer's byte order. */
export function bsdNull(family: number, payload: Bytes, littleEndian: boolean): Buffer {
  const header = Buffer.alloc(4);
  if (littleEndian) header.writeUInt32LE(family);
  else header.writeUInt32BE(family);
  return concat(header, payload);
}

// ------------------------------------------------------------------- frames

export interface FrameOptions {
  /** Bytes kept (the snap length cut); the rest of the buffer is filled with junk the decoder must not read. */
  capturedLength?: number;
  /** Length on the wire; by default the whole packet. */
  originalLength?: number;
  frame?: number;
  source?: number;
}

/**
 * A CapturedFrame as a reader would hand it on, with junk bytes before and after
 * the captured bytes so that a decoder reading outside them shows.
 */
export function frameOf(linkType: number, packet: Bytes, options: FrameOptions = {}): CapturedFrame {
  const bytes = toBuffer(packet);
  const captured = Math.min(options.capturedLength ?? bytes.length, bytes.length);
  const lead = 5;
  const data = Buffer.alloc(lead + captured + 64, 0xee);
  bytes.copy(data, lead, 0, captured);
  const frame = new CapturedFrame();
  frame.frame = options.frame ?? 1;
  frame.source = options.source ?? 0;
  frame.linkType = linkType;
  frame.data = data;
  frame.dataOffset = lead;
  frame.capturedLength = captured;
  frame.originalLength = options.originalLength ?? bytes.length;
  return frame;
}

// --------------------------------------------------------------- pcap files

export interface PcapRecord {
  tsSec: number;
  /** Microseconds, or nanoseconds in a nanosecond file. */
  tsFrac?: number;
  data: Bytes;
  originalLength?: number;
  /** Overrides the captured-length field (for impossible records). */
  capturedLengthField?: number;
}

export interface PcapFileOptions {
  linkType?: number;
  snapLength?: number;
  bigEndian?: boolean;
  nanoseconds?: boolean;
  versionMajor?: number;
  records: PcapRecord[];
}

export const PCAP_FILE_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

/** A classic libpcap file (pcap(5)). */
export function pcapFile(o: PcapFileOptions): Buffer {
  const le = !o.bigEndian;
  const w32 = (b: Buffer, v: number, at: number): void => {
    if (le) b.writeUInt32LE(v >>> 0, at);
    else b.writeUInt32BE(v >>> 0, at);
  };
  const header = Buffer.alloc(PCAP_FILE_HEADER_LENGTH);
  w32(header, o.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  if (le) {
    header.writeUInt16LE(o.versionMajor ?? 2, 4);
    header.writeUInt16LE(4, 6);
  } else {
    header.writeUInt16BE(o.versionMajor ?? 2, 4);
    header.writeUInt16BE(4, 6);
  }
  w32(header, o.snapLength ?? 262144, 16);
  w32(header, o.linkType ?? 1, 20);
  const parts: Buffer[] = [header];
  for (const r of o.records) {
    const data = toBuffer(r.data);
    const rh = Buffer.alloc(PCAP_RECORD_HEADER_LENGTH);
    w32(rh, r.tsSec, 0);
    w32(rh, r.tsFrac ?? 0, 4);
    w32(rh, r.capturedLengthField ?? data.length, 8);
    w32(rh, r.originalLength ?? data.length, 12);
    parts.push(rh, data);
  }
  return Buffer.concat(parts);
}

/** Byte offset of each record header in `pcapFile(o)`. */
export function pcapRecordOffsets(records: readonly PcapRecord[]): number[] {
  const offsets: number[] = [];
  let at = PCAP_FILE_HEADER_LENGTH;
  for (const r of records) {
    offsets.push(at);
    at += PCAP_RECORD_HEADER_LENGTH + r.data.length;
  }
  return offsets;
}

// ------------------------------------------------------------- pcapng files

export interface PcapngOption {
  code: number;
  value: Bytes;
}

export interface InterfaceOptions {
  linkType: number;
  snapLength?: number;
  /** if_tsresol byte: 6 = microseconds (default), 9 = nanoseconds, 0x80 | n = 2^-n. */
  tsresol?: number;
  /** if_tsoffset, seconds. */
  tsoffset?: number;
  name?: string;
}

/** Writes pcapng blocks in one byte order, remembering where each block starts. */
export class PcapngBuilder {
  private readonly parts: Buffer[] = [];
  private length = 0;
  /** Byte offset of every block, in order. */
  readonly offsets: number[] = [];

  constructor(readonly bigEndian = false) {}

  private u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.bigEndian) b.writeUInt16BE(v & 0xffff);
    else b.writeUInt16LE(v & 0xffff);
    return b;
  }

  private u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.bigEndian) b.writeUInt32BE(v >>> 0);
    else b.writeUInt32LE(v >>> 0);
    return b;
  }

  encodeOptions(options: readonly PcapngOption[]): Buffer {
    if (options.length === 0) return Buffer.alloc(0);
    const parts = options.map((o) => concat(this.u16(o.code), this.u16(o.value.length), pad(toBuffer(o.value), 4)));
    return Buffer.concat([...parts, Buffer.alloc(4)]);
  }

  /** Any block: type, total length, body padded to 4 bytes, total length again. */
  block(type: number, body: Bytes, totalLengthOverride?: number): this {
    const padded = pad(toBuffer(body), 4);
    const total = totalLengthOverride ?? padded.length + 12;
    return this.raw(concat(this.u32(type), this.u32(total), padded, this.u32(total)));
  }

  /** Bytes appended as they are. */
  raw(bytes: Bytes): this {
    const b = toBuffer(bytes);
    this.offsets.push(this.length);
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  sectionHeader(options: readonly PcapngOption[] = [], versionMajor = 1): this {
    const body = concat(
      this.u32(0x1a2b3c4d),
      this.u16(versionMajor),
      this.u16(0),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      this.encodeOptions(options),
    );
    return this.block(0x0a0d0d0a, body);
  }

  interface(o: InterfaceOptions): this {
    const options: PcapngOption[] = [];
    if (o.name !== undefined) options.push({ code: 2, value: Buffer.from(o.name) });
    if (o.tsresol !== undefined) options.push({ code: 9, value: [o.tsresol] });
    if (o.tsoffset !== undefined) {
      const v = Buffer.alloc(8);
      if (this.bigEndian) v.writeBigInt64BE(BigInt(o.tsoffset));
      else v.writeBigInt64LE(BigInt(o.tsoffset));
      options.push({ code: 14, value: v });
    }
    const body = concat(this.u16(o.linkType), this.u16(0), this.u32(o.snapLength ?? 262144), this.encodeOptions(options));
    return this.block(1, body);
  }

  /** Enhanced packet block; `timestamp` in the interface's units. */
  enhancedPacket(interfaceId: number, timestamp: bigint, data: Bytes, originalLength?: number): this {
    const high = Number(timestamp >> 32n);
    const low = Number(timestamp & 0xffffffffn);
    const body = concat(
      this.u32(interfaceId),
      this.u32(high),
      this.u32(low),
      this.u32(data.length),
      this.u32(originalLength ?? data.length),
      pad(toBuffer(data), 4),
    );
    return this.block(6, body);
  }

  simplePacket(data: Bytes, originalLength?: number): this {
    return this.block(3, concat(this.u32(originalLength ?? data.length), pad(toBuffer(data), 4)));
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export function gzip(bytes: Bytes): Buffer {
  return gzipSync(toBuffer(bytes));
}

// --------------------------------------------------------------- determinism

/** A small seeded PRNG (mulberry32): the same seed gives the same bytes on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` pseudo-random bytes from `seed`. */
export function seededBytes(seed: number, length: number): Buffer {
  const random = seededRandom(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}
