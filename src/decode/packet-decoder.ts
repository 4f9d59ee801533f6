import type { CapturedFrame } from '../capture/captured-frame.js';
import { u32be } from '../capture/bytes.js';
import { DecodeIssue, DecodeStats } from './decode-stats.js';
import { IpReassembler } from './ip-reassembly.js';
import { LinkType } from './link-types.js';
import { ChecksumStatus, MAX_SACK_BLOCKS, MAX_UNKNOWN_OPTIONS, TcpFlag, TcpSegment, type Tunnel } from './tcp-segment.js';
import { formatDestination, formatSource } from './format-address.js';
import type { TunnelKind } from './tunnels.js';

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
const ETHERTYPE_QINQ_OLD2 = 0x9200;
const ETHERTYPE_MPLS = 0x8847;
const ETHERTYPE_MPLS_MULTICAST = 0x8848;
const ETHERTYPE_PPPOE_SESSION = 0x8864;
const ETHERTYPE_PBB = 0x88e7;
const ETHERTYPE_CISCO_FABRICPATH = 0x8903;
const ETHERTYPE_MAX_LENGTH = 0x05ff;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
const PROTOCOL_TCP = 6;
const PROTOCOL_IPIP = 4;
const PROTOCOL_IPV6 = 41;
const PROTOCOL_GRE = 47;
const PROTOCOL_UDP = 17;
const UDP_VXLAN = 4789;
const UDP_GENEVE = 6081;
const UDP_GTP_U = 2152;
const UDP_TEREDO = 3544;
const GRE_TRANSPARENT_ETHERNET = 0x6558;
const GRE_ERSPAN_2 = 0x88be;
const GRE_ERSPAN_3 = 0x22eb;
const GRE_PPP = 0x880b;
const GRE_ARUBA_WLAN = 0x8200;
/** Tunnels inside tunnels followed at most. */
const MAX_TUNNEL_DEPTH = 4;
const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_DESTINATION = 60;
const IPV6_AUTHENTICATION = 51;
const IPV6_JUMBO_OPTION = 0xc2;
const NFLOG_PAYLOAD = 9;
/** Bounds the encapsulation loop against crafted endless tag chains. */
const MAX_ENCAPSULATIONS = 16;
const TCP_MINIMUM_HEADER = 20;
/**
 * A frame longer than this on the wire is a corrupt record header, not a frame: twice
 * the largest packet Linux builds (BIG TCP's GSO_MAX_SIZE, 8 × 65,535 bytes), which
 * leaves room for the link and tunnel headers around it.
 */
export const MAX_ORIGINAL_LENGTH = 1 << 20;
/**
 * Tunnels (kind, outer endpoints and id) kept at most: each costs about 800 bytes for
 * the run, and a capture of a million VXLAN ids took 784 MiB. A packet in a tunnel
 * first seen past the limit is counted (`tunnel-limit-reached`) and skipped: giving it
 * no tunnel, or another's, would merge connections of different tunnels.
 */
export const MAX_TUNNELS = 65_536;

const NOT_TCP = false;

export interface PacketDecoderOptions {
  /**
   * Reads the TCP options of SYN segments alone; the others read as carrying none.
   * The tracker needs only the window scale, which only a SYN carries, and most
   * segments carry timestamps: skipping them saves a loop a packet.
   */
  synOptionsOnly?: boolean;
}

/** TCP option kinds (IANA "TCP Option Kind Numbers"; RFC 9293, 7323, 2018, 7413). */
const TcpOption = {
  END: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
  FAST_OPEN: 34,
} as const;

/**
 * Frame → TCP segment, for every link type flowstate reads. Never throws on packet
 * content: problems become counted issues. Decodes into one reused TcpSegment.
 */
export class PacketDecoder {
  readonly segment = new TcpSegment();
  readonly stats = new DecodeStats();
  private readonly synOptionsOnly: boolean;
  private readonly reassembler = new IpReassembler(this.stats.fragments);
  private readonly tunnels = new Map<string, Tunnel>();
  private tunnelDepth = 0;
  private frame: CapturedFrame | null = null;
  /** One past the last captured byte of the current frame. */
  private end = 0;
  /**
   * One past the last byte the current layer had on the wire (captured or not). IP
   * lengths are capped by it, as Wireshark does, so a lying length cannot invent bytes.
   */
  private wireEnd = 0;

  constructor(options: PacketDecoderOptions = {}) {
    this.synOptionsOnly = options.synOptionsOnly ?? false;
  }

  /** True when `segment` now holds the frame's TCP segment. */
  decode(frame: CapturedFrame): boolean {
    this.stats.packets++;
    this.frame = frame;
    this.segment.tunnel = null;
    this.tunnelDepth = 0;
    const data = frame.data;
    const start = frame.dataOffset;
    const end = start + frame.capturedLength;
    this.end = end;
    if (frame.originalLength > MAX_ORIGINAL_LENGTH) return this.issue(DecodeIssue.originalLengthImplausible);
    this.wireEnd = start + Math.max(frame.originalLength, frame.capturedLength);
    switch (frame.linkType) {
      case LinkType.ETHERNET:
        if (end - start < 14) return this.issue(DecodeIssue.linkHeaderTruncated);
        return this.ethertype(data, start + 14, (data[start + 12] << 8) | data[start + 13]);
      case LinkType.LINUX_SLL:
        if (end - start < 16) return this.issue(DecodeIssue.linkHeaderTruncated);
        return this.ethertype(data, start + 16, (data[start + 14] << 8) | data[start + 15]);
      case LinkType.LINUX_SLL2:
        if (end - start < 20) return this.issue(DecodeIssue.linkHeaderTruncated);
        return this.ethertype(data, start + 20, (data[start] << 8) | data[start + 1]);
      case LinkType.RAW:
      case LinkType.RAW_12:
      case LinkType.RAW_14:
        return this.ipByVersion(data, start);
      case LinkType.IPV4:
        return this.ipv4(data, start);
      case LinkType.IPV6:
        return this.ipv6(data, start);
      case LinkType.NULL:
        return this.bsdLoopback(data, start, false);
      case LinkType.LOOP:
        return this.bsdLoopback(data, start, true);
      case LinkType.PPP:
      case LinkType.PPP_HDLC:
        return this.ppp(data, start);
      case LinkType.C_HDLC:
        if (end - start < 4) return this.issue(DecodeIssue.linkHeaderTruncated);
        return this.ethertype(data, start + 4, (data[start + 2] << 8) | data[start + 3]);
      case LinkType.NFLOG:
        return this.nflog(data, start);
      default:
        this.stats.addUnsupported(frame.linkType);
        return NOT_TCP;
    }
  }

  private issue(issue: DecodeIssue): boolean {
    const frame = this.frame as CapturedFrame;
    this.stats.addIssue(issue, frame.source, frame.frame);
    return NOT_TCP;
  }

  private notIp(): boolean {
    this.stats.notIp++;
    return NOT_TCP;
  }

  /** Follows VLAN tags, MPLS labels, PPPoE, PBB and LLC/SNAP down to IP. */
  private ethertype(data: Buffer, at: number, type: number): boolean {
    const end = this.end;
    for (let depth = 0; depth < MAX_ENCAPSULATIONS; depth++) {
      switch (type) {
        case ETHERTYPE_IPV4:
          return this.ipv4(data, at);
        case ETHERTYPE_IPV6:
          return this.ipv6(data, at);
        case ETHERTYPE_VLAN:
        case ETHERTYPE_QINQ:
        case ETHERTYPE_QINQ_OLD:
        case ETHERTYPE_QINQ_OLD2:
          if (at + 4 > end) return this.issue(DecodeIssue.linkHeaderTruncated);
          type = (data[at + 2] << 8) | data[at + 3];
          at += 4;
          continue;
        case ETHERTYPE_MPLS:
        case ETHERTYPE_MPLS_MULTICAST: {
          let bottom = false;
          while (!bottom) {
            if (at + 4 > end) return this.issue(DecodeIssue.linkHeaderTruncated);
            bottom = (data[at + 2] & 1) === 1;
            at += 4;
          }
          // MPLS does not say what it carries; IP is recognised by its version nibble.
          if (at >= end) return this.issue(DecodeIssue.linkHeaderTruncated);
          const version = data[at] >> 4;
          if (version === 4 || version === 6) return this.ipByVersion(data, at);
          return this.notIp();
        }
        case ETHERTYPE_PPPOE_SESSION:
          if (at + 6 > end) return this.issue(DecodeIssue.linkHeaderTruncated);
          this.wireEnd = Math.min(this.wireEnd, at + 6 + ((data[at + 4] << 8) | data[at + 5]));
          return this.ppp(data, at + 6);
        case ETHERTYPE_CISCO_FABRICPATH:
          // FTag and TTL, then the whole classical Ethernet frame of the host.
          if (at + 16 > end) return this.issue(DecodeIssue.linkHeaderTruncated);
          type = (data[at + 14] << 8) | data[at + 15];
          at += 16;
          continue;
        case ETHERTYPE_PBB:
          // I-TAG, then the customer's destination and source MAC, then their ethertype.
          if (at + 18 > end) return this.issue(DecodeIssue.linkHeaderTruncated);
          type = (data[at + 16] << 8) | data[at + 17];
          at += 18;
          continue;
        default:
          if (type <= ETHERTYPE_MAX_LENGTH) {
            // 802.3 length field: only LLC/SNAP can carry an ethertype on.
            if (at + 8 > end) return this.issue(DecodeIssue.linkHeaderTruncated);
            if (data[at] !== 0xaa || data[at + 1] !== 0xaa || data[at + 2] !== 0x03) return this.notIp();
            type = (data[at + 6] << 8) | data[at + 7];
            at += 8;
            continue;
          }
          return this.notIp();
      }
    }
    return this.notIp();
  }

  private ppp(data: Buffer, at: number): boolean {
    const end = this.end;
    if (at + 2 > end) return this.issue(DecodeIssue.linkHeaderTruncated);
    // Address 0xff and control 0x03 may be present (HDLC-like framing) or compressed away.
    if (data[at] === 0xff && data[at + 1] === 0x03) at += 2;
    if (at + 1 > end) return this.issue(DecodeIssue.linkHeaderTruncated);
    // Protocol-field compression: an odd first byte is a one-byte protocol.
    if ((data[at] & 1) === 1) return this.pppProtocol(data, at + 1, data[at]);
    if (at + 2 > end) return this.issue(DecodeIssue.linkHeaderTruncated);
    return this.pppProtocol(data, at + 2, (data[at] << 8) | data[at + 1]);
  }

  private pppProtocol(data: Buffer, at: number, protocol: number): boolean {
    if (protocol === PPP_IPV4) return this.ipv4(data, at);
    if (protocol === PPP_IPV6) return this.ipv6(data, at);
    return this.notIp();
  }

  private bsdLoopback(data: Buffer, at: number, networkOrder: boolean): boolean {
    if (at + 4 > this.end) return this.issue(DecodeIssue.linkHeaderTruncated);
    // DLT_NULL's family is in the writer's byte order; AF_INET6 differs per OS (10, 24, 28, 30).
    const family = networkOrder || data[at] === 0 ? u32be(data, at) : data.readUInt32LE(at);
    if (family === 2) return this.ipv4(data, at + 4);
    if (family === 10 || family === 24 || family === 28 || family === 30) return this.ipv6(data, at + 4);
    return this.notIp();
  }

  private nflog(data: Buffer, at: number): boolean {
    const end = this.end;
    if (at + 4 > end) return this.issue(DecodeIssue.linkHeaderTruncated);
    const family = data[at];
    let tlv = at + 4;
    // TLVs: 16-bit length and type in host (little-endian) order, padded to 4 bytes.
    while (tlv + 4 <= end) {
      const length = data.readUInt16LE(tlv);
      const type = data.readUInt16LE(tlv + 2);
      if (length < 4) return this.issue(DecodeIssue.linkHeaderTruncated);
      if (type === NFLOG_PAYLOAD) {
        this.end = Math.min(end, tlv + length);
        this.wireEnd = Math.min(this.wireEnd, tlv + length);
        if (family === 2) return this.ipv4(data, tlv + 4);
        if (family === 10) return this.ipv6(data, tlv + 4);
        return this.ipByVersion(data, tlv + 4);
      }
      tlv += (length + 3) & ~3;
    }
    return this.notIp();
  }

  private ipByVersion(data: Buffer, at: number): boolean {
    if (at >= this.end) return this.issue(DecodeIssue.ipv4HeaderTruncated);
    const version = data[at] >> 4;
    if (version === 4) return this.ipv4(data, at);
    if (version === 6) return this.ipv6(data, at);
    return this.notIp();
  }

  private ipv4(data: Buffer, at: number): boolean {
    const end = this.end;
    if (at + 20 > end) return this.issue(DecodeIssue.ipv4HeaderTruncated);
    const versionAndLength = data[at];
    if (versionAndLength >> 4 !== 4) return this.issue(DecodeIssue.ipVersionMismatch);
    const headerLength = (versionAndLength & 0x0f) * 4;
    if (headerLength < 20) return this.issue(DecodeIssue.ipv4HeaderLength);
    if (at + headerLength > end) return this.issue(DecodeIssue.ipv4HeaderTruncated);
    let totalLength = (data[at + 2] << 8) | data[at + 3];
    const wireLength = this.wireEnd - at;
    if (totalLength === 0) {
      // Captured before segmentation offload split it: the length is what was on the wire.
      totalLength = wireLength;
    } else if (totalLength > wireLength) {
      this.stats.ipLengthBeyondFrame++;
      totalLength = wireLength;
    }
    if (totalLength < headerLength) return this.issue(DecodeIssue.ipv4TotalLength);
    const protocol = data[at + 9];
    if (protocol !== PROTOCOL_TCP && !carriesTunnel(protocol)) return this.notTcp();
    const segment = this.segment;
    segment.ipVersion = 4;
    segment.src0 = u32be(data, at + 12);
    segment.dst0 = u32be(data, at + 16);
    segment.src1 = segment.src2 = segment.src3 = 0;
    segment.dst1 = segment.dst2 = segment.dst3 = 0;
    segment.ttl = data[at + 8];
    segment.ipLength = totalLength;
    // More-fragments, or an offset: one piece of a datagram (the flags' other bits are DF and reserved).
    if ((data[at + 6] & 0x3f) !== 0 || data[at + 7] !== 0) {
      const offset = (((data[at + 6] & 0x1f) << 8) | data[at + 7]) * 8;
      const key = `4 ${segment.src0} ${segment.dst0} ${(data[at + 4] << 8) | data[at + 5]} ${protocol}`;
      return this.fragment(data, key, offset, (data[at + 6] & 0x20) !== 0, at + headerLength, at + totalLength, headerLength, protocol);
    }
    if (protocol !== PROTOCOL_TCP) return this.tunnel(data, at + headerLength, at + totalLength, protocol);
    return this.tcp(data, at + headerLength, totalLength - headerLength);
  }

  /**
   * One fragment of a datagram carrying TCP, its payload at [from, to): held, or,
   * when it completes the datagram, the TCP segment decoded from the whole payload
   * at this (the last) fragment's frame. `headerBytes`: the IP headers before the payload.
   */
  private fragment(
    data: Buffer,
    key: string,
    offset: number,
    more: boolean,
    from: number,
    to: number,
    headerBytes: number,
    protocol: number,
  ): boolean {
    const frame = this.frame as CapturedFrame;
    if (to > this.end) {
      this.stats.fragments.fragments++;
      this.stats.fragments.cut++;
      return NOT_TCP;
    }
    const whole = this.reassembler.add(key, offset, data.subarray(from, to), more, frame.tsSec);
    if (whole === undefined) return NOT_TCP;
    this.segment.ipLength = headerBytes + whole.length;
    this.end = this.wireEnd = whole.length;
    if (protocol !== PROTOCOL_TCP) return this.tunnel(whole, 0, whole.length, protocol);
    return this.tcp(whole, 0, whole.length);
  }

  /** The end of the capture: fragments still waiting for the rest are counted as incomplete. */
  finish(): void {
    this.reassembler.finish();
  }

  private ipv6(data: Buffer, at: number): boolean {
    const end = this.end;
    if (at + 40 > end) return this.issue(DecodeIssue.ipv6HeaderTruncated);
    if (data[at] >> 4 !== 6) return this.issue(DecodeIssue.ipVersionMismatch);
    let payloadLength = (data[at + 4] << 8) | data[at + 5];
    let next = data[at + 6];
    let header = at + 40;
    let payloadEnd = payloadLength === 0 ? -1 : header + payloadLength;
    let fragment: { offset: number; more: boolean; id: number } | undefined;
    for (let depth = 0; depth < MAX_ENCAPSULATIONS; depth++) {
      if (next === PROTOCOL_TCP) break;
      if (next === IPV6_HOP_BY_HOP || next === IPV6_ROUTING || next === IPV6_DESTINATION) {
        if (header + 8 > end) return this.issue(DecodeIssue.ipv6ExtensionTruncated);
        const length = (data[header + 1] + 1) * 8;
        if (next === IPV6_HOP_BY_HOP && payloadLength === 0) {
          const jumbo = findJumboLength(data, header + 2, Math.min(header + length, end));
          if (jumbo > 0) {
            payloadLength = jumbo;
            payloadEnd = at + 40 + jumbo;
          }
        }
        next = data[header];
        header += length;
      } else if (next === IPV6_FRAGMENT) {
        if (header + 8 > end) return this.issue(DecodeIssue.ipv6ExtensionTruncated);
        const offset = ((data[header + 2] << 8) | data[header + 3]) & 0xfff8;
        const more = (data[header + 3] & 1) === 1;
        next = data[header];
        // An atomic fragment (offset 0, no more) is a whole datagram: read on.
        if (offset !== 0 || more) {
          if (next !== PROTOCOL_TCP && !carriesTunnel(next)) return this.notTcp();
          fragment = { offset, more, id: u32be(data, header + 4) };
        }
        header += 8;
      } else if (next === IPV6_AUTHENTICATION) {
        if (header + 8 > end) return this.issue(DecodeIssue.ipv6ExtensionTruncated);
        const length = (data[header + 1] + 2) * 4;
        next = data[header];
        header += length;
      } else if (carriesTunnel(next)) {
        break;
      } else return this.notTcp();
    }
    if (next !== PROTOCOL_TCP && !carriesTunnel(next)) return this.notTcp();
    if (payloadEnd < 0) payloadEnd = this.wireEnd;
    else if (payloadEnd > this.wireEnd) {
      this.stats.ipLengthBeyondFrame++;
      payloadEnd = this.wireEnd;
    }
    if (payloadEnd < header) return this.issue(DecodeIssue.ipv6PayloadLength);
    const segment = this.segment;
    segment.ipVersion = 6;
    segment.src0 = u32be(data, at + 8);
    segment.src1 = u32be(data, at + 12);
    segment.src2 = u32be(data, at + 16);
    segment.src3 = u32be(data, at + 20);
    segment.dst0 = u32be(data, at + 24);
    segment.dst1 = u32be(data, at + 28);
    segment.dst2 = u32be(data, at + 32);
    segment.dst3 = u32be(data, at + 36);
    segment.ttl = data[at + 7];
    segment.ipLength = payloadEnd - at;
    if (fragment !== undefined) {
      const key = `6 ${segment.src0} ${segment.src1} ${segment.src2} ${segment.src3} ${segment.dst0} ${segment.dst1} ${segment.dst2} ${segment.dst3} ${fragment.id}`;
      return this.fragment(data, key, fragment.offset, fragment.more, header, payloadEnd, header - at, next);
    }
    if (next !== PROTOCOL_TCP) return this.tunnel(data, header, payloadEnd, next);
    return this.tcp(data, header, payloadEnd - header);
  }

  // ------------------------------------------------------------ tunnels

  /**
   * The payload [at, end) of an IP packet whose protocol carries another packet
   * (IP in IP, GRE, UDP to a tunnel port): the tunnel is named, interned, and the
   * packet inside decoded, at most MAX_TUNNEL_DEPTH deep. The outer addresses are
   * still in the segment: the inner IP header overwrites them.
   */
  private tunnel(data: Buffer, at: number, end: number, protocol: number): boolean {
    if (this.tunnelDepth >= MAX_TUNNEL_DEPTH) return this.notTcp();
    this.tunnelDepth++;
    this.wireEnd = Math.min(this.wireEnd, end);
    this.end = Math.min(this.end, end);
    const outerV6 = this.segment.ipVersion === 6;
    switch (protocol) {
      case PROTOCOL_IPIP:
        if (!this.enter(outerV6 ? '4in6' : 'ipip', null)) return NOT_TCP;
        return this.ipv4(data, at);
      case PROTOCOL_IPV6:
        if (!this.enter(outerV6 ? '6in6' : '6in4', null)) return NOT_TCP;
        return this.ipv6(data, at);
      case PROTOCOL_GRE:
        return this.gre(data, at);
      default:
        return this.udp(data, at);
    }
  }

  /** RFC 2784/2890 GRE, PPTP's enhanced GRE (RFC 2637), ERSPAN II/III and Aruba's 802.11-in-GRE. */
  private gre(data: Buffer, at: number): boolean {
    const end = this.end;
    if (at + 4 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
    const flags = data[at];
    const version = data[at + 1] & 7;
    const type = (data[at + 2] << 8) | data[at + 3];
    let header = at + 4;
    if (flags & 0x40 && version === 0) return this.notTcp(); // source routing: obsolete
    if (flags & 0x80) header += 4; // checksum and reserved
    let key: number | null = null;
    if (flags & 0x20) {
      if (header + 4 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
      // PPTP's key field is the payload length and the call id.
      key = version === 1 ? (data[header + 2] << 8) | data[header + 3] : u32be(data, header);
      header += 4;
    }
    const sequenced = (flags & 0x10) !== 0;
    if (sequenced) header += 4;
    if (version === 1 && data[at + 1] & 0x80) header += 4; // acknowledgment number
    if (header > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
    switch (type) {
      case ETHERTYPE_IPV4:
      case ETHERTYPE_IPV6:
        if (!this.enter('gre', key)) return NOT_TCP;
        return this.ethertype(data, header, type);
      case GRE_TRANSPARENT_ETHERNET:
        if (!this.enter('gre', key)) return NOT_TCP;
        return this.innerEthernet(data, header);
      case GRE_PPP:
        if (!this.enter('pptp', key)) return NOT_TCP;
        return this.ppp(data, header);
      case GRE_ERSPAN_2: {
        // Type I has no sequence number and no header of its own.
        if (!sequenced) {
          if (!this.enter('erspan', null)) return NOT_TCP;
          return this.innerEthernet(data, header);
        }
        if (header + 8 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
        if (!this.enter('erspan', ((data[header + 2] & 0x03) << 8) | data[header + 3])) return NOT_TCP;
        return this.innerEthernet(data, header + 8);
      }
      case GRE_ERSPAN_3: {
        if (header + 12 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
        if (!this.enter('erspan', ((data[header + 2] & 0x03) << 8) | data[header + 3])) return NOT_TCP;
        // The O flag: an 8-byte platform-specific subheader follows.
        return this.innerEthernet(data, header + 12 + (data[header + 11] & 1 ? 8 : 0));
      }
      case GRE_ARUBA_WLAN:
        if (!this.enter('gre', key)) return NOT_TCP;
        return this.ieee80211(data, header);
      default:
        return this.notTcp();
    }
  }

  /** UDP to a tunnel port: VXLAN, Geneve, GTP-U, Teredo (by port, or by an IPv6 header that fills the datagram exactly). */
  private udp(data: Buffer, at: number): boolean {
    const end = this.end;
    if (at + 8 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
    const source = (data[at] << 8) | data[at + 1];
    const destination = (data[at + 2] << 8) | data[at + 3];
    const payload = at + 8;
    const is = (port: number): boolean => source === port || destination === port;
    if (destination === UDP_VXLAN) {
      if (payload + 8 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
      if (!this.enter('vxlan', data[payload] & 0x08 ? (data[payload + 4] << 16) | (data[payload + 5] << 8) | data[payload + 6] : null))
        return NOT_TCP;
      return this.innerEthernet(data, payload + 8);
    }
    if (destination === UDP_GENEVE) {
      if (payload + 8 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
      const inner = payload + 8 + (data[payload] & 0x3f) * 4;
      const type = (data[payload + 2] << 8) | data[payload + 3];
      if (!this.enter('geneve', (data[payload + 4] << 16) | (data[payload + 5] << 8) | data[payload + 6])) return NOT_TCP;
      if (type === GRE_TRANSPARENT_ETHERNET) return this.innerEthernet(data, inner);
      if (type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6) return this.ethertype(data, inner, type);
      return this.notTcp();
    }
    if (is(UDP_GTP_U)) return this.gtpU(data, payload);
    if (is(UDP_TEREDO) || looksLikeTeredo(data, payload, end)) return this.teredo(data, payload);
    return this.notTcp();
  }

  /** GTPv1-U (3GPP TS 29.281): a G-PDU carries a user's IP packet after the header and its extension headers. */
  private gtpU(data: Buffer, at: number): boolean {
    const end = this.end;
    if (at + 8 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
    const flags = data[at];
    if (flags >> 5 !== 1 || (flags & 0x10) === 0 || data[at + 1] !== 0xff) return this.notTcp();
    const teid = u32be(data, at + 4);
    let header = at + 8;
    if (flags & 0x07) {
      if (header + 4 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
      let next = flags & 0x04 ? data[header + 3] : 0;
      header += 4;
      while (next !== 0) {
        if (header + 1 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
        const length = data[header] * 4;
        if (length === 0 || header + length > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
        next = data[header + length - 1];
        header += length;
      }
    }
    if (!this.enter('gtp-u', teid)) return NOT_TCP;
    return this.ipByVersion(data, header);
  }

  /** Teredo (RFC 4380): IPv6 in UDP, after an optional authentication and origin indication. */
  private teredo(data: Buffer, at: number): boolean {
    const end = this.end;
    if (at + 2 <= end && data[at] === 0 && data[at + 1] === 1) {
      if (at + 4 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
      at += 4 + data[at + 2] + data[at + 3] + 9;
    }
    if (at + 2 <= end && data[at] === 0 && data[at + 1] === 0) at += 8;
    if (at >= end || data[at] >> 4 !== 6) return this.notTcp();
    if (!this.enter('teredo', null)) return NOT_TCP;
    return this.ipv6(data, at);
  }

  /** An Ethernet frame inside a tunnel (VXLAN, Geneve, GRE bridging, ERSPAN). */
  private innerEthernet(data: Buffer, at: number): boolean {
    if (at + 14 > this.end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
    return this.ethertype(data, at + 14, (data[at + 12] << 8) | data[at + 13]);
  }

  /** An 802.11 data frame (Aruba's GRE): its header, then LLC/SNAP naming the ethertype. */
  private ieee80211(data: Buffer, at: number): boolean {
    const end = this.end;
    if (at + 24 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
    const control = data[at];
    const flags = data[at + 1];
    // Data frames only, unencrypted, and not the null-data subtypes (no payload).
    if (((control >> 2) & 3) !== 2 || flags & 0x40 || (control >> 4) & 4) return this.notTcp();
    const qos = ((control >> 4) & 8) !== 0;
    const header = at + 24 + ((flags & 3) === 3 ? 6 : 0) + (qos ? 2 : 0) + (qos && flags & 0x80 ? 4 : 0);
    if (header + 8 > end) return this.issue(DecodeIssue.tunnelHeaderTruncated);
    if (data[header] !== 0xaa || data[header + 1] !== 0xaa || data[header + 2] !== 0x03) return this.notTcp();
    return this.ethertype(data, header + 8, (data[header + 6] << 8) | data[header + 7]);
  }

  /**
   * The segment now travels inside a tunnel of this kind and id, from the outer addresses
   * still in the segment. False, the issue counted, when that tunnel is new and MAX_TUNNELS are known.
   */
  private enter(kind: TunnelKind, id: number | null): boolean {
    const s = this.segment;
    const v4 = s.ipVersion === 4;
    // Keyed on the address words, either direction: text is made once, for a new tunnel.
    const src = v4 ? `${s.src0}` : `${s.src0} ${s.src1} ${s.src2} ${s.src3}`;
    const dst = v4 ? `${s.dst0}` : `${s.dst0} ${s.dst1} ${s.dst2} ${s.dst3}`;
    const outer = s.tunnel;
    // GTP-U's TEID differs per direction: the tunnel is its endpoints, the TEID only shown.
    const key = `${outer?.index ?? 0} ${kind} ${src < dst ? `${src} ${dst}` : `${dst} ${src}`} ${kind === 'gtp-u' ? '' : id}`;
    let tunnel = this.tunnels.get(key);
    if (tunnel === undefined) {
      if (this.tunnels.size >= MAX_TUNNELS) {
        this.issue(DecodeIssue.tunnelLimit);
        return false;
      }
      const a = formatSource(s);
      const b = formatDestination(s);
      tunnel = {
        index: this.tunnels.size + 1,
        kind: outer === null ? kind : `${outer.kind}>${kind}`,
        endpoints: a < b ? `${a}-${b}` : `${b}-${a}`,
        id,
      };
      this.tunnels.set(key, tunnel);
    }
    s.tunnel = tunnel;
    return true;
  }

  /** IP that carries something other than TCP or a tunnel flowstate follows. */
  private notTcp(): boolean {
    this.stats.notTcp++;
    return NOT_TCP;
  }

  /** `length` is the TCP header plus payload as the IP layer states it. */
  private tcp(data: Buffer, at: number, length: number): boolean {
    const end = this.end;
    if (at + TCP_MINIMUM_HEADER > end) return this.issue(DecodeIssue.tcpHeaderTruncated);
    const headerLength = (data[at + 12] >> 4) * 4;
    if (headerLength < TCP_MINIMUM_HEADER) return this.issue(DecodeIssue.tcpDataOffset);
    if (headerLength > length) return this.issue(DecodeIssue.tcpHeaderOverrunsIp);
    const segment = this.segment;
    segment.srcPort = (data[at] << 8) | data[at + 1];
    segment.dstPort = (data[at + 2] << 8) | data[at + 3];
    segment.seq = u32be(data, at + 4);
    segment.ack = u32be(data, at + 8);
    segment.flags = ((data[at + 12] & 0x0f) << 8) | data[at + 13];
    segment.window = (data[at + 14] << 8) | data[at + 15];
    segment.checksum = (data[at + 16] << 8) | data[at + 17];
    segment.urgentPointer = (data[at + 18] << 8) | data[at + 19];
    segment.headerLength = headerLength;
    segment.payloadLength = length - headerLength;
    segment.payloadOffset = at + headerLength;
    segment.capturedPayloadLength = Math.max(0, Math.min(end, at + length) - segment.payloadOffset);
    this.options(data, at + TCP_MINIMUM_HEADER, Math.min(at + headerLength, end), at + headerLength > end);
    segment.checksumStatus =
      at + length > end
        ? ChecksumStatus.unverified
        : checksumVerifies(data, at, length, segment)
          ? ChecksumStatus.good
          : ChecksumStatus.bad;
    this.stats.tcpSegments++;
    return true;
  }

  private options(data: Buffer, at: number, end: number, cut: boolean): void {
    const segment = this.segment;
    segment.mss = -1;
    segment.windowScale = -1;
    segment.sackPermitted = false;
    segment.sackBlockCount = 0;
    segment.hasTimestamp = false;
    segment.fastOpenCookieLength = -1;
    segment.unknownOptionCount = 0;
    segment.optionsTruncated = cut;
    if (this.synOptionsOnly && (segment.flags & TcpFlag.SYN) === 0) return;
    while (at < end) {
      const kind = data[at];
      if (kind === TcpOption.END) return;
      if (kind === TcpOption.NOP) {
        at++;
        continue;
      }
      if (at + 2 > end) break;
      const length = data[at + 1];
      if (length < 2 || at + length > end) break;
      switch (kind) {
        case TcpOption.MSS:
          if (length === 4) segment.mss = (data[at + 2] << 8) | data[at + 3];
          break;
        case TcpOption.WINDOW_SCALE:
          if (length === 3) segment.windowScale = data[at + 2];
          break;
        case TcpOption.SACK_PERMITTED:
          segment.sackPermitted = true;
          break;
        case TcpOption.SACK: {
          const blocks = Math.min(MAX_SACK_BLOCKS, (length - 2) >> 3);
          for (let i = 0; i < blocks; i++) {
            segment.sackBlocks[i * 2] = u32be(data, at + 2 + i * 8);
            segment.sackBlocks[i * 2 + 1] = u32be(data, at + 6 + i * 8);
          }
          segment.sackBlockCount = blocks;
          break;
        }
        case TcpOption.TIMESTAMPS:
          if (length === 10) {
            segment.hasTimestamp = true;
            segment.tsVal = u32be(data, at + 2);
            segment.tsEcr = u32be(data, at + 6);
          }
          break;
        case TcpOption.FAST_OPEN:
          segment.fastOpenCookieLength = length - 2;
          break;
        default:
          if (segment.unknownOptionCount < MAX_UNKNOWN_OPTIONS) segment.unknownOptionKinds[segment.unknownOptionCount++] = kind;
      }
      at += length;
    }
    if (at < end) segment.optionsTruncated = true;
  }
}

/** The Jumbo Payload option (RFC 2675) in a hop-by-hop header, as BIG TCP uses it; 0 when absent. */
function findJumboLength(data: Buffer, at: number, end: number): number {
  while (at < end) {
    const type = data[at];
    if (type === 0) {
      at++;
      continue;
    }
    if (at + 2 > end) return 0;
    const length = data[at + 1];
    if (type === IPV6_JUMBO_OPTION && length === 4 && at + 6 <= end) return u32be(data, at + 2);
    at += 2 + length;
  }
  return 0;
}

/** The one's-complement sum of two 16-bit halves of an address word. */
function wordSum(word: number): number {
  return (word >>> 16) + (word & 0xffff);
}

/**
 * Whether the TCP checksum of the `length` bytes at `at` (header and payload, all
 * captured) verifies over the pseudo-header of RFC 9293 §3.1 (IPv4) or RFC 8200 §8.1 (IPv6).
 */
function checksumVerifies(data: Buffer, at: number, length: number, s: TcpSegment): boolean {
  let sum = PROTOCOL_TCP + wordSum(length) + wordSum(s.src0) + wordSum(s.dst0);
  if (s.ipVersion === 6) sum += wordSum(s.src1) + wordSum(s.src2) + wordSum(s.src3) + wordSum(s.dst1) + wordSum(s.dst2) + wordSum(s.dst3);
  const last = at + length - 1;
  let i = at;
  for (; i < last; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (i === last) sum += data[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

/** IP protocols whose payload is another packet flowstate follows. */
function carriesTunnel(protocol: number): boolean {
  return protocol === PROTOCOL_GRE || protocol === PROTOCOL_UDP || protocol === PROTOCOL_IPIP || protocol === PROTOCOL_IPV6;
}

/**
 * Teredo relays use any UDP port: a payload that is exactly one IPv6 packet (after
 * an optional origin indication) is taken as Teredo, as Wireshark's heuristic does.
 */
function looksLikeTeredo(data: Buffer, at: number, end: number): boolean {
  if (at + 8 <= end && data[at] === 0 && data[at + 1] === 0) at += 8;
  return at + 40 <= end && data[at] >> 4 === 6 && at + 40 + ((data[at + 4] << 8) | data[at + 5]) === end;
}
