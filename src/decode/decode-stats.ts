import { FragmentStats } from './ip-reassembly.js';

/** Why a packet was not decoded as TCP although it tried to be: stable codes, counted. */
export const DecodeIssue = {
  linkHeaderTruncated: 'link-header-truncated',
  ipv4HeaderTruncated: 'ipv4-header-truncated',
  ipv4HeaderLength: 'ipv4-header-length-invalid',
  ipv4TotalLength: 'ipv4-total-length-invalid',
  ipVersionMismatch: 'ip-version-mismatch',
  ipv6HeaderTruncated: 'ipv6-header-truncated',
  ipv6ExtensionTruncated: 'ipv6-extension-header-truncated',
  ipv6PayloadLength: 'ipv6-payload-length-invalid',
  tcpHeaderTruncated: 'tcp-header-truncated',
  tcpDataOffset: 'tcp-data-offset-invalid',
  tcpHeaderOverrunsIp: 'tcp-header-overruns-ip-packet',
  /** A tunnel's own header (GRE, UDP, VXLAN, GTP-U, …) cut short or inconsistent. */
  tunnelHeaderTruncated: 'tunnel-header-truncated',
  /**
   * A record whose original (on-the-wire) length is past MAX_ORIGINAL_LENGTH: no link carries such a
   * frame, so its record header is corrupt. Skipped, since an IP header that defers to the frame's
   * length (IPv4 total length 0, IPv6 payload length 0) would make it a TCP segment of up to 4 GiB.
   */
  originalLengthImplausible: 'original-length-implausible',
  /** A packet inside a tunnel first seen after MAX_TUNNELS others (packet-decoder.ts): skipped, to bound the memory they take. */
  tunnelLimit: 'tunnel-limit-reached',
  /**
   * A record time before 1970 or past 2262 (beyond 64-bit nanoseconds): a bad clock or a corrupt
   * record header. Not skipped: the frame is tracked in capture order at the time of the frame before it.
   */
  timestampOutOfRange: 'timestamp-out-of-range',
} as const;
export type DecodeIssue = (typeof DecodeIssue)[keyof typeof DecodeIssue];

/** Cut by the snap length (the packet was fine on the wire) as opposed to malformed. */
export const TRUNCATION_ISSUES: ReadonlySet<DecodeIssue> = new Set([
  DecodeIssue.linkHeaderTruncated,
  DecodeIssue.ipv4HeaderTruncated,
  DecodeIssue.ipv6HeaderTruncated,
  DecodeIssue.ipv6ExtensionTruncated,
  DecodeIssue.tcpHeaderTruncated,
  DecodeIssue.tunnelHeaderTruncated,
]);

export interface IssueCount {
  count: number;
  /** Where it first happened: input index and 1-based frame. */
  firstSource: number;
  firstFrame: number;
}

/** What the decoder saw, by kind of packet. */
export class DecodeStats {
  packets = 0;
  tcpSegments = 0;
  /** Link payload that is not IP (ARP, LLDP, …). */
  notIp = 0;
  /** IP packets that carry something other than TCP (UDP, ICMP, tunnels, …). */
  notTcp = 0;
  /** IP fragments of datagrams carrying TCP, and what became of them (ip-reassembly.ts). */
  readonly fragments = new FragmentStats();
  /** IP headers that claim more bytes than the frame had on the wire (decoded with the frame's length). */
  ipLengthBeyondFrame = 0;
  /** Packets on link types the decoder does not read, by link type. */
  readonly unsupportedLinkTypes = new Map<number, number>();
  readonly issues = new Map<DecodeIssue, IssueCount>();

  addIssue(issue: DecodeIssue, source: number, frame: number): void {
    const entry = this.issues.get(issue);
    if (entry) entry.count++;
    else this.issues.set(issue, { count: 1, firstSource: source, firstFrame: frame });
  }

  addUnsupported(linkType: number): void {
    this.unsupportedLinkTypes.set(linkType, (this.unsupportedLinkTypes.get(linkType) ?? 0) + 1);
  }

  get malformed(): number {
    let total = 0;
    for (const [issue, { count }] of this.issues) if (!TRUNCATION_ISSUES.has(issue)) total += count;
    return total;
  }

  get truncated(): number {
    let total = 0;
    for (const [issue, { count }] of this.issues) if (TRUNCATION_ISSUES.has(issue)) total += count;
    return total;
  }
}
