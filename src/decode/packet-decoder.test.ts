// Hand-built packets for what a kernel will not produce on demand: malformed and
// cut headers, every encapsulation the decoder follows, every TCP option it reads.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import type { CapturedFrame } from '../capture/captured-frame.js';
import {
  ETHERTYPE,
  IP_PROTOCOL,
  PPP_PROTOCOL,
  TCP_FLAG,
  type Bytes,
  bsdNull,
  concat,
  ethernet,
  frameOf,
  type FrameOptions,
  geneve,
  gre,
  gtpU,
  ipv4,
  ipv4Word,
  ipv6,
  ipv6Extension,
  ipv6Words,
  linuxSll,
  linuxSll2,
  mpls,
  ppp,
  pppoeSession,
  tcp,
  tcpOption,
  tcpOptions,
  udp,
  vxlan,
} from '../../test/helpers/build-packets.js';
import { DecodeIssue, type DecodeStats } from './decode-stats.js';
import { LinkType } from './link-types.js';
import { PacketDecoder } from './packet-decoder.js';
import { TcpFlag } from './tcp-segment.js';
import { TUNNELS } from './tunnels.js';

/** Where frameOf puts the packet in its buffer (junk before it). */
const LEAD = 5;

function decodeOne(linkType: number, packet: Bytes, options: FrameOptions = {}): { ok: boolean; decoder: PacketDecoder } {
  const decoder = new PacketDecoder();
  const ok = decoder.decode(frameOf(linkType, packet, options));
  return { ok, decoder };
}

function issues(stats: DecodeStats): Record<string, number> {
  return Object.fromEntries([...stats.issues].map(([code, { count }]) => [code, count]));
}

/** Outcomes of every packet: each is counted exactly once. */
function outcomes(stats: DecodeStats): number {
  let unsupported = 0;
  for (const n of stats.unsupportedLinkTypes.values()) unsupported += n;
  let issueCount = 0;
  for (const { count } of stats.issues.values()) issueCount += count;
  return (
    stats.tcpSegments + stats.notIp + stats.notTcp + stats.fragments.fragments - stats.fragments.reassembled + unsupported + issueCount
  );
}

const SEGMENT = tcp({
  srcPort: 40000,
  dstPort: 80,
  seq: 0x11223344,
  ack: 0xaabbccdd,
  flags: TCP_FLAG.ACK | TCP_FLAG.PSH,
  window: 512,
  urgentPointer: 7,
  checksum: 0xbeef,
  payload: Buffer.from('hello'),
});
const IPV4_TCP = ipv4({ src: '192.0.2.1', dst: '198.51.100.2', ttl: 57, payload: SEGMENT });
const IPV6_TCP = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', hopLimit: 33, payload: SEGMENT });

/** Asserts the decoder found SEGMENT over IPv4 (or IPv6) and returns the segment for more checks. */
function expectSegment(result: { ok: boolean; decoder: PacketDecoder }, version: 4 | 6 = 4) {
  expect(issues(result.decoder.stats)).toEqual({});
  expect(result.ok).toBe(true);
  const s = result.decoder.segment;
  expect(s.ipVersion).toBe(version);
  expect([s.srcPort, s.dstPort, s.seq, s.ack]).toEqual([40000, 80, 0x11223344, 0xaabbccdd]);
  expect(s.payloadLength).toBe(5);
  return s;
}

describe('Ethernet, IPv4, TCP', () => {
  test('decodes every field of the IP and TCP headers', () => {
    const { ok, decoder } = decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.IPV4, IPV4_TCP));
    expect(ok).toBe(true);
    const s = decoder.segment;
    expect(s.ipVersion).toBe(4);
    expect(s.src0).toBe(ipv4Word('192.0.2.1'));
    expect(s.dst0).toBe(ipv4Word('198.51.100.2'));
    expect([s.src1, s.src2, s.src3, s.dst1, s.dst2, s.dst3]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(s.ttl).toBe(57);
    expect(s.ipLength).toBe(20 + 20 + 5);
    expect(s.srcPort).toBe(40000);
    expect(s.dstPort).toBe(80);
    expect(s.seq).toBe(0x11223344);
    expect(s.ack).toBe(0xaabbccdd);
    expect(s.flags).toBe(TcpFlag.ACK | TcpFlag.PSH);
    expect(s.window).toBe(512);
    expect(s.checksum).toBe(0xbeef);
    expect(s.urgentPointer).toBe(7);
    expect(s.headerLength).toBe(20);
    expect(s.payloadLength).toBe(5);
    expect(s.capturedPayloadLength).toBe(5);
    expect(s.payloadOffset).toBe(LEAD + 14 + 20 + 20);
    expect(decoder.stats.packets).toBe(1);
    expect(decoder.stats.tcpSegments).toBe(1);
  });

  test('reads sequence and acknowledgement numbers above 2^31 as unsigned', () => {
    const { decoder } = decodeOne(LinkType.RAW, ipv4({ payload: tcp({ seq: 0xffffffff, ack: 0x80000000 }) }));
    expect(decoder.segment.seq).toBe(0xffffffff);
    expect(decoder.segment.ack).toBe(0x80000000);
  });

  test('keeps the NS/AE bit and the reserved bits of the 12-bit flags field', () => {
    const { decoder } = decodeOne(LinkType.RAW, ipv4({ payload: tcp({ flags: 0x100 | TCP_FLAG.SYN | TCP_FLAG.ECE | TCP_FLAG.CWR }) }));
    expect(decoder.segment.flags).toBe(TcpFlag.NS | TcpFlag.SYN | TcpFlag.ECE | TcpFlag.CWR);
    const reserved = decodeOne(LinkType.RAW, ipv4({ payload: tcp({ flags: 0xe00 | TCP_FLAG.ACK }) }));
    expect(reserved.decoder.segment.flags).toBe(0xe00 | TcpFlag.ACK);
  });

  test('does not count Ethernet padding as payload', () => {
    const small = ipv4({ payload: tcp({ payload: [] }) });
    const padded = concat(ethernet(ETHERTYPE.IPV4, small), Buffer.alloc(6, 0xcc)); // 60-byte minimum frame
    const { ok, decoder } = decodeOne(LinkType.ETHERNET, padded);
    expect(ok).toBe(true);
    expect(decoder.segment.payloadLength).toBe(0);
    expect(decoder.segment.capturedPayloadLength).toBe(0);
  });

  test('skips IPv4 options to find the TCP header', () => {
    const packet = ipv4({ options: [0x94, 0x04, 0x00, 0x00], payload: SEGMENT }); // Router Alert
    const s = expectSegment(decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.IPV4, packet)));
    expect(s.payloadOffset).toBe(LEAD + 14 + 24 + 20);
  });

  test('reuses one segment: a packet without options does not keep the previous one’s', () => {
    const decoder = new PacketDecoder();
    const withOptions = ipv4({
      payload: tcp({
        flags: TCP_FLAG.SYN,
        options: tcpOptions(
          tcpOption.mss(1460),
          tcpOption.sackPermitted(),
          tcpOption.timestamps(1, 0),
          tcpOption.nop(),
          tcpOption.windowScale(7),
        ),
      }),
    });
    expect(decoder.decode(frameOf(LinkType.RAW, withOptions))).toBe(true);
    expect(decoder.segment.mss).toBe(1460);
    expect(decoder.decode(frameOf(LinkType.RAW, ipv4({ payload: tcp() }), { frame: 2 }))).toBe(true);
    const s = decoder.segment;
    expect([
      s.mss,
      s.windowScale,
      s.sackPermitted,
      s.hasTimestamp,
      s.sackBlockCount,
      s.fastOpenCookieLength,
      s.unknownOptionCount,
      s.optionsTruncated,
    ]).toEqual([-1, -1, false, false, 0, -1, 0, false]);
  });

  test('with synOptionsOnly reads the options of SYNs and SYN-ACKs alone', () => {
    const decoder = new PacketDecoder({ synOptionsOnly: true });
    const options = tcpOptions(
      tcpOption.mss(1460),
      tcpOption.sackPermitted(),
      tcpOption.timestamps(1, 0),
      tcpOption.nop(),
      tcpOption.windowScale(7),
    );
    const s = decoder.segment;
    expect(decoder.decode(frameOf(LinkType.RAW, ipv4({ payload: tcp({ flags: TCP_FLAG.SYN | TCP_FLAG.ACK, options }) })))).toBe(true);
    expect([s.mss, s.windowScale, s.hasTimestamp]).toEqual([1460, 7, true]);
    expect(decoder.decode(frameOf(LinkType.RAW, ipv4({ payload: tcp({ flags: TCP_FLAG.ACK, options }) }), { frame: 2 }))).toBe(true);
    expect([s.mss, s.windowScale, s.sackPermitted, s.hasTimestamp, s.headerLength, s.payloadLength]).toEqual([
      -1,
      -1,
      false,
      false,
      20 + options.length,
      0,
    ]);
  });
});

describe('malformed headers are counted, not decoded', () => {
  test('counts an IPv4 IHL below 5 as ipv4-header-length-invalid (malformed)', () => {
    const { ok, decoder } = decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.IPV4, ipv4({ ihl: 4, payload: SEGMENT })));
    expect(ok).toBe(false);
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.ipv4HeaderLength]: 1 });
    expect(decoder.stats.malformed).toBe(1);
    expect(decoder.stats.truncated).toBe(0);
  });

  test('counts an IPv4 total length shorter than its header as ipv4-total-length-invalid', () => {
    const { ok, decoder } = decodeOne(LinkType.RAW, ipv4({ totalLength: 12, payload: SEGMENT }));
    expect(ok).toBe(false);
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.ipv4TotalLength]: 1 });
  });

  test('counts an IPv6 header behind the IPv4 ethertype as ip-version-mismatch', () => {
    const { ok, decoder } = decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.IPV4, IPV6_TCP));
    expect(ok).toBe(false);
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.ipVersionMismatch]: 1 });
  });

  test('counts a TCP data offset below 5 as tcp-data-offset-invalid', () => {
    const { ok, decoder } = decodeOne(
      LinkType.ETHERNET,
      ethernet(ETHERTYPE.IPV4, ipv4({ payload: tcp({ dataOffset: 4, payload: [1, 2, 3, 4] }) })),
    );
    expect(ok).toBe(false);
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.tcpDataOffset]: 1 });
    expect(decoder.stats.malformed).toBe(1);
  });

  test('counts a TCP header longer than the IP packet as tcp-header-overruns-ip-packet', () => {
    // Data offset 15 (60 bytes) in an IP packet of 20 + 24 bytes; the frame has the bytes (padding).
    const packet = ipv4({ totalLength: 44, payload: concat(tcp({ dataOffset: 15 }), Buffer.alloc(40)) });
    const { ok, decoder } = decodeOne(LinkType.RAW, packet);
    expect(ok).toBe(false);
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.tcpHeaderOverrunsIp]: 1 });
    expect(decoder.stats.malformed).toBe(1);
  });

  test('counts a TCP header of 20 bytes in an IP packet with room for 10 as an overrun', () => {
    const { ok, decoder } = decodeOne(LinkType.RAW, ipv4({ totalLength: 30, payload: SEGMENT }));
    expect(ok).toBe(false);
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.tcpHeaderOverrunsIp]: 1 });
  });

  test('counts an IPv6 payload length shorter than its extension headers as ipv6-payload-length-invalid', () => {
    const packet = ipv6({ payloadLength: 4, extensions: [ipv6Extension.hopByHop()], payload: SEGMENT });
    const { ok, decoder } = decodeOne(LinkType.RAW, packet);
    expect(ok).toBe(false);
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.ipv6PayloadLength]: 1 });
  });

  test('remembers where an issue first happened, and counts the rest', () => {
    const decoder = new PacketDecoder();
    const bad = ethernet(ETHERTYPE.IPV4, ipv4({ ihl: 3, payload: SEGMENT }));
    decoder.decode(frameOf(LinkType.ETHERNET, bad, { frame: 3, source: 1 }));
    decoder.decode(frameOf(LinkType.ETHERNET, ethernet(ETHERTYPE.IPV4, IPV4_TCP), { frame: 4, source: 1 }));
    decoder.decode(frameOf(LinkType.ETHERNET, bad, { frame: 7, source: 0 }));
    expect(decoder.stats.issues.get(DecodeIssue.ipv4HeaderLength)).toEqual({ count: 2, firstSource: 1, firstFrame: 3 });
    expect(decoder.stats.packets).toBe(3);
    expect(decoder.stats.tcpSegments).toBe(1);
  });
});

describe('cut by the snap length: counted apart from malformed', () => {
  const frame = ethernet(ETHERTYPE.IPV4, IPV4_TCP);

  test('counts a TCP header cut by the snap length as tcp-header-truncated', () => {
    const { ok, decoder } = decodeOne(LinkType.ETHERNET, frame, { capturedLength: 14 + 20 + 10 });
    expect(ok).toBe(false);
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.tcpHeaderTruncated]: 1 });
    expect(decoder.stats.truncated).toBe(1);
    expect(decoder.stats.malformed).toBe(0);
  });

  test('counts an IPv4 header cut short as ipv4-header-truncated', () => {
    const { decoder } = decodeOne(LinkType.ETHERNET, frame, { capturedLength: 14 + 12 });
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.ipv4HeaderTruncated]: 1 });
    expect(decoder.stats.truncated).toBe(1);
  });

  test('counts IPv4 options cut short as ipv4-header-truncated', () => {
    const withOptions = ethernet(ETHERTYPE.IPV4, ipv4({ options: [1, 1, 1, 1, 1, 1, 1, 0], payload: SEGMENT }));
    const { decoder } = decodeOne(LinkType.ETHERNET, withOptions, { capturedLength: 14 + 22 });
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.ipv4HeaderTruncated]: 1 });
  });

  test('counts an Ethernet header cut short as link-header-truncated', () => {
    const { decoder } = decodeOne(LinkType.ETHERNET, frame, { capturedLength: 10 });
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.linkHeaderTruncated]: 1 });
  });

  test('counts an IPv6 header cut short as ipv6-header-truncated', () => {
    const { decoder } = decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.IPV6, IPV6_TCP), { capturedLength: 14 + 30 });
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.ipv6HeaderTruncated]: 1 });
  });

  test('counts an IPv6 extension header cut short as ipv6-extension-header-truncated', () => {
    const packet = ipv6({ extensions: [ipv6Extension.hopByHop(), ipv6Extension.routing()], payload: SEGMENT });
    const { decoder } = decodeOne(LinkType.RAW, packet, { capturedLength: 40 + 8 + 4 });
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.ipv6ExtensionTruncated]: 1 });
    expect(decoder.stats.truncated).toBe(1);
  });

  test('decodes a TCP header whose options were cut, and says so', () => {
    const packet = ipv4({
      payload: tcp({ options: tcpOptions(tcpOption.mss(1400), tcpOption.nop(), tcpOption.nop(), tcpOption.timestamps(5, 6)) }),
    });
    const { ok, decoder } = decodeOne(LinkType.RAW, packet, { capturedLength: 20 + 20 + 6 });
    expect(ok).toBe(true);
    expect(decoder.segment.headerLength).toBe(36);
    expect(decoder.segment.mss).toBe(1400);
    expect(decoder.segment.hasTimestamp).toBe(false);
    expect(decoder.segment.optionsTruncated).toBe(true);
  });

  test('takes the payload length from IP even when the payload was cut', () => {
    const packet = ipv4({ payload: tcp({ payload: Buffer.alloc(1000, 0x61) }) });
    const { ok, decoder } = decodeOne(LinkType.RAW, packet, { capturedLength: 20 + 20 + 100 });
    expect(ok).toBe(true);
    expect(decoder.segment.payloadLength).toBe(1000);
    expect(decoder.segment.capturedPayloadLength).toBe(100);
  });
});

describe('IP lengths against the frame', () => {
  test('uses the length on the wire when the IPv4 total length is 0 (captured before TSO split it)', () => {
    const packet = ethernet(ETHERTYPE.IPV4, ipv4({ totalLength: 0, payload: tcp({ payload: Buffer.alloc(100, 0x62) }) }));
    const { ok, decoder } = decodeOne(LinkType.ETHERNET, packet, { originalLength: 14 + 20 + 20 + 9000 });
    expect(ok).toBe(true);
    expect(decoder.segment.ipLength).toBe(20 + 20 + 9000);
    expect(decoder.segment.payloadLength).toBe(9000);
    expect(decoder.segment.capturedPayloadLength).toBe(100);
    expect(decoder.stats.ipLengthBeyondFrame).toBe(0);
  });

  test('caps an IPv4 total length larger than the frame at the frame, and counts it', () => {
    const packet = ethernet(ETHERTYPE.IPV4, ipv4({ totalLength: 1500, payload: tcp({ payload: Buffer.alloc(10) }) }));
    const { ok, decoder } = decodeOne(LinkType.ETHERNET, packet);
    expect(ok).toBe(true);
    expect(decoder.stats.ipLengthBeyondFrame).toBe(1);
    expect(decoder.segment.ipLength).toBe(50);
    expect(decoder.segment.payloadLength).toBe(10);
  });

  test('does not count a snap-length cut as an IP length beyond the frame', () => {
    const packet = ethernet(ETHERTYPE.IPV4, ipv4({ payload: tcp({ payload: Buffer.alloc(1400) }) }));
    const { decoder } = decodeOne(LinkType.ETHERNET, packet, { capturedLength: 96 });
    expect(decoder.stats.ipLengthBeyondFrame).toBe(0);
    expect(decoder.segment.payloadLength).toBe(1400);
  });

  test('caps an IPv6 payload length larger than the frame at the frame, and counts it', () => {
    const packet = ipv6({ payloadLength: 4000, payload: tcp({ payload: Buffer.alloc(10) }) });
    const { ok, decoder } = decodeOne(LinkType.RAW, packet);
    expect(ok).toBe(true);
    expect(decoder.stats.ipLengthBeyondFrame).toBe(1);
    expect(decoder.segment.payloadLength).toBe(10);
  });

  test('uses the length on the wire when the IPv6 payload length is 0', () => {
    const packet = ipv6({ payloadLength: 0, payload: tcp({ payload: Buffer.alloc(50) }) });
    const { ok, decoder } = decodeOne(LinkType.RAW, packet, { originalLength: 40 + 20 + 64000 });
    expect(ok).toBe(true);
    expect(decoder.segment.payloadLength).toBe(64000);
  });

  test('reads a BIG TCP jumbogram’s length from the hop-by-hop Jumbo Payload option', () => {
    const jumbo = 8 + 20 + 100000;
    const packet = ipv6({ payloadLength: 0, extensions: [ipv6Extension.jumbo(jumbo)], payload: tcp({ payload: Buffer.alloc(100) }) });
    const { ok, decoder } = decodeOne(LinkType.RAW, packet, { originalLength: 40 + jumbo + 4 });
    expect(ok).toBe(true);
    expect(decoder.segment.payloadLength).toBe(100000);
    expect(decoder.segment.ipLength).toBe(40 + jumbo);
  });
});

describe('IPv4 fragments', () => {
  /** SEGMENT (25 bytes: a 20-byte header and 5 of payload) cut at `cuts` (multiples of 8), as IPv4 fragments of one datagram. */
  function fragmentsOf(cuts: number[], fields: { id?: number } = {}): Buffer[] {
    const bounds = [0, ...cuts, SEGMENT.length];
    return bounds
      .slice(0, -1)
      .map((from, i) =>
        ipv4({ ...fields, fragmentOffset: from / 8, moreFragments: i < bounds.length - 2, payload: SEGMENT.subarray(from, bounds[i + 1]) }),
      );
  }

  /** Decodes `packets` in order with one decoder: which of them gave a segment. */
  function decodeAll(packets: Buffer[], seconds: number[] = []): { decoded: boolean[]; decoder: PacketDecoder } {
    const decoder = new PacketDecoder();
    const decoded = packets.map((p, i) => {
      const frame = frameOf(LinkType.RAW, p, { frame: i + 1 });
      frame.tsSec = seconds[i] ?? 0;
      return decoder.decode(frame);
    });
    return { decoded, decoder };
  }

  test('puts a TCP segment back together at the frame of its last fragment, in any order', () => {
    const [a, b, c] = fragmentsOf([8, 16]);
    for (const order of [
      [a, b, c],
      [c, a, b],
      [b, c, a],
    ]) {
      const { decoded, decoder } = decodeAll(order);
      expect(decoded).toEqual([false, false, true]);
      const s = decoder.segment;
      expect([s.srcPort, s.dstPort, s.seq, s.ack, s.payloadLength]).toEqual([40000, 80, 0x11223344, 0xaabbccdd, 5]);
      expect(s.ipLength).toBe(20 + SEGMENT.length);
      expect(decoder.stats.fragments).toMatchObject({ fragments: 3, reassembled: 1, overlapping: 0 });
    }
  });

  test('an exact duplicate is ignored; an overlap with other bytes discards the datagram, as Linux does', () => {
    const [a, b] = fragmentsOf([8]);
    const duplicate = decodeAll([a, a, b]);
    expect(duplicate.decoded).toEqual([false, false, true]);
    expect(duplicate.decoder.stats.fragments).toMatchObject({ duplicates: 1, reassembled: 1 });
    const other = Buffer.from(SEGMENT.subarray(0, 16));
    other[9] ^= 0xff;
    const overlapping = ipv4({ fragmentOffset: 0, moreFragments: true, payload: other });
    const overlap = decodeAll([a, overlapping, b]);
    expect(overlap.decoded).toEqual([false, false, false]);
    expect(overlap.decoder.stats.fragments).toMatchObject({ overlapping: 1, reassembled: 0 });
  });

  test('a datagram missing a fragment is dropped after 30 s, or counted incomplete at the end', () => {
    const [a, , c] = fragmentsOf([8, 16]);
    const [, b] = fragmentsOf([8, 16]);
    const late = decodeAll([a, c, b], [0, 1, 31]);
    expect(late.decoded).toEqual([false, false, false]);
    expect(late.decoder.stats.fragments.incomplete).toBe(1);
    const cut = decodeAll([a, c]);
    cut.decoder.finish();
    expect(cut.decoder.stats.fragments).toMatchObject({ incomplete: 1, reassembled: 0 });
  });

  test('fragments of different datagrams (another id) are not mixed', () => {
    const [a, b] = fragmentsOf([8]);
    const [, otherB] = fragmentsOf([8], { id: 7 });
    expect(decodeAll([a, otherB, b]).decoded).toEqual([false, false, true]);
  });

  test('memory is bounded: past 4 MiB held, new fragments are dropped and counted', () => {
    // 600 datagrams of 64 KiB first fragments: far past the bound, never complete.
    const big = Buffer.alloc(65_000 - 8);
    const packets = Array.from({ length: 70 }, (_, i) => ipv4({ id: i, moreFragments: true, payload: big }));
    const { decoder } = decodeAll(packets);
    expect(decoder.stats.fragments.overMemory).toBeGreaterThan(0);
    expect(decoder.stats.fragments.fragments).toBe(70);
  });

  test('a fragment the snap length cut cannot be put back: counted, not decoded', () => {
    const [a] = fragmentsOf([8]);
    const decoder = new PacketDecoder();
    expect(decoder.decode(frameOf(LinkType.RAW, a, { capturedLength: a.length - 2 }))).toBe(false);
    expect(decoder.stats.fragments.cut).toBe(1);
  });

  test('decodes a packet with Don’t Fragment set', () => {
    expectSegment(decodeOne(LinkType.RAW, ipv4({ dontFragment: true, payload: SEGMENT })));
  });

  test('counts UDP and other protocols as not TCP', () => {
    const { ok, decoder } = decodeOne(LinkType.RAW, ipv4({ protocol: IP_PROTOCOL.UDP, payload: Buffer.alloc(16) }));
    expect(ok).toBe(false);
    expect(decoder.stats.notTcp).toBe(1);
    expect(issues(decoder.stats)).toEqual({});
  });

  test('counts IPv4 AH (protocol 51) as not TCP', () => {
    const { decoder } = decodeOne(LinkType.RAW, ipv4({ protocol: IP_PROTOCOL.AH, payload: Buffer.alloc(40) }));
    expect(decoder.stats.notTcp).toBe(1);
  });
});

describe('tunnels: the TCP inside, its tunnel named', () => {
  const inner4 = ipv4({ src: '10.1.0.1', dst: '10.1.0.2', payload: SEGMENT });
  const inner6 = ipv6({ src: '2001:db8:1::1', dst: '2001:db8:1::2', payload: SEGMENT });
  const outer = (protocol: number, payload: Bytes, src = '192.0.2.10', dst = '192.0.2.20'): Buffer =>
    ethernet(ETHERTYPE.IPV4, ipv4({ src, dst, protocol, payload }));

  function inside(packet: Buffer, version: 4 | 6 = 4): { kind: string; endpoints: string; id: number | null; index: number } {
    const result = decodeOne(LinkType.ETHERNET, packet);
    const s = expectSegment(result, version);
    if (version === 4) expect([s.src0, s.dst0]).toEqual([ipv4Word('10.1.0.1'), ipv4Word('10.1.0.2')]);
    else expect([s.src0, s.src1, s.src2, s.src3]).toEqual(ipv6Words('2001:db8:1::1'));
    if (s.tunnel === null) throw new Error('no tunnel');
    return s.tunnel;
  }

  const cases = [
    ['IP in IP', outer(IP_PROTOCOL.IPIP, inner4), 4, 'ipip', null],
    ['6in4', outer(IP_PROTOCOL.IPV6, inner6), 6, '6in4', null],
    ['GRE with a key', outer(IP_PROTOCOL.GRE, gre(ETHERTYPE.IPV4, inner4, { key: 77, checksum: true, sequence: 5 })), 4, 'gre', 77],
    ['GRE bridging Ethernet', outer(IP_PROTOCOL.GRE, gre(0x6558, ethernet(ETHERTYPE.IPV6, inner6))), 6, 'gre', null],
    [
      'ERSPAN II (session 42)',
      outer(IP_PROTOCOL.GRE, gre(0x88be, concat([0x10, 0x01, 0x00, 0x2a, 0, 0, 0, 0], ethernet(ETHERTYPE.IPV4, inner4)), { sequence: 1 })),
      4,
      'erspan',
      42,
    ],
    ['VXLAN', outer(IP_PROTOCOL.UDP, udp(50000, 4789, vxlan(4242, ethernet(ETHERTYPE.IPV4, inner4)))), 4, 'vxlan', 4242],
    ['Geneve with options', outer(IP_PROTOCOL.UDP, udp(50000, 6081, geneve(99, ETHERTYPE.IPV4, inner4, 2))), 4, 'geneve', 99],
    ['GTP-U', outer(IP_PROTOCOL.UDP, udp(2152, 2152, gtpU(0xdeadbeef, inner4))), 4, 'gtp-u', 0xdeadbeef],
    ['GTP-U with an extension header', outer(IP_PROTOCOL.UDP, udp(2152, 2152, gtpU(7, inner6, true))), 6, 'gtp-u', 7],
    ['Teredo', outer(IP_PROTOCOL.UDP, udp(3544, 40000, concat([0, 0, 1, 2, 3, 4, 5, 6], inner6))), 6, 'teredo', null],
    [
      'PPTP (enhanced GRE carrying PPP; the call id)',
      outer(IP_PROTOCOL.GRE, gre(0x880b, concat([0xff, 0x03, 0x00, 0x21], inner4), { key: (40 << 16) | 4711, version: 1 })),
      4,
      'pptp',
      4711,
    ],
  ] as const;
  test.each(cases)('%s', (_name, packet, version, kind, id) => {
    expect(inside(packet, version)).toMatchObject({ kind, endpoints: '192.0.2.10-192.0.2.20', id });
  });

  const sixInSix = ethernet(
    ETHERTYPE.IPV6,
    ipv6({ src: '2001:db8::20', dst: '2001:db8::10', protocol: IP_PROTOCOL.IPV6, payload: inner6 }),
  );
  const fourInSix = ethernet(
    ETHERTYPE.IPV6,
    ipv6({ src: '2001:db8::20', dst: '2001:db8::10', protocol: IP_PROTOCOL.IPIP, payload: inner4 }),
  );

  test('every tunnel of the table (src/decode/tunnels.ts) has a case here that decodes to it', () => {
    const kinds = new Set([
      ...cases.map(([, packet, version]) => inside(packet, version).kind),
      inside(sixInSix, 6).kind,
      inside(fourInSix).kind,
    ]);
    expect(TUNNELS.map((t) => t.kind).filter((kind) => !kinds.has(kind))).toEqual([]);
  });

  test('6in6 names the outer IPv6 endpoints', () => {
    expect(inside(sixInSix, 6)).toMatchObject({ kind: '6in6', endpoints: '2001:db8::10-2001:db8::20' });
  });

  test('4in6 names the outer IPv6 endpoints', () => {
    expect(inside(fourInSix)).toMatchObject({ kind: '4in6', endpoints: '2001:db8::10-2001:db8::20' });
  });

  test('both directions are one tunnel; another VNI is another tunnel; nested tunnels name the stack', () => {
    const decoder = new PacketDecoder();
    const tunnelOf = (packet: Buffer) => (decoder.decode(frameOf(LinkType.ETHERNET, packet)) ? decoder.segment.tunnel : undefined);
    const forth = tunnelOf(outer(IP_PROTOCOL.UDP, udp(1, 4789, vxlan(1, ethernet(ETHERTYPE.IPV4, inner4)))));
    const back = tunnelOf(outer(IP_PROTOCOL.UDP, udp(1, 4789, vxlan(1, ethernet(ETHERTYPE.IPV4, inner4))), '192.0.2.20', '192.0.2.10'));
    const otherVni = tunnelOf(outer(IP_PROTOCOL.UDP, udp(1, 4789, vxlan(2, ethernet(ETHERTYPE.IPV4, inner4)))));
    expect(back).toBe(forth);
    expect(otherVni?.index).not.toBe(forth?.index);
    const vxlanInGre = ipv4({
      src: '172.16.0.1',
      dst: '172.16.0.2',
      protocol: IP_PROTOCOL.UDP,
      payload: udp(1, 4789, vxlan(9, ethernet(ETHERTYPE.IPV4, inner4))),
    });
    expect(tunnelOf(outer(IP_PROTOCOL.GRE, gre(ETHERTYPE.IPV4, vxlanInGre)))).toMatchObject({
      kind: 'gre>vxlan',
      endpoints: '172.16.0.1-172.16.0.2',
      id: 9,
    });
  });

  test('nesting is bounded: five IP-in-IP layers are not followed', () => {
    let packet: Buffer = inner4;
    for (let i = 0; i < 5; i++) packet = ipv4({ protocol: IP_PROTOCOL.IPIP, payload: packet });
    const { ok, decoder } = decodeOne(LinkType.RAW, packet);
    expect(ok).toBe(false);
    expect(decoder.stats.notTcp).toBe(1);
    let four: Buffer = inner4;
    for (let i = 0; i < 4; i++) four = ipv4({ protocol: IP_PROTOCOL.IPIP, payload: four });
    expect(decodeOne(LinkType.RAW, four).decoder.segment.tunnel?.kind).toBe('ipip>ipip>ipip>ipip');
  });

  test('a truncated tunnel header is counted; UDP to other ports and TCP quoted by ICMP stay not TCP', () => {
    const cut = decodeOne(LinkType.ETHERNET, outer(IP_PROTOCOL.GRE, [0x20, 0, 0x08, 0x00, 0, 0]));
    expect(issues(cut.decoder.stats)).toEqual({ [DecodeIssue.tunnelHeaderTruncated]: 1 });
    expect(decodeOne(LinkType.ETHERNET, outer(IP_PROTOCOL.UDP, udp(53, 53, Buffer.alloc(30)))).ok).toBe(false);
    const quoted = outer(IP_PROTOCOL.ICMP, concat([3, 3, 0, 0, 0, 0, 0, 0], inner4));
    expect(decodeOne(LinkType.ETHERNET, quoted).ok).toBe(false);
  });

  test('a tunnel in fragmented outer packets is put back together first', () => {
    const payload = udp(50000, 4789, vxlan(5, ethernet(ETHERTYPE.IPV4, inner4)));
    const first = ipv4({
      src: '192.0.2.10',
      dst: '192.0.2.20',
      protocol: IP_PROTOCOL.UDP,
      moreFragments: true,
      payload: payload.subarray(0, 32),
    });
    const rest = ipv4({
      src: '192.0.2.10',
      dst: '192.0.2.20',
      protocol: IP_PROTOCOL.UDP,
      fragmentOffset: 4,
      payload: payload.subarray(32),
    });
    const decoder = new PacketDecoder();
    expect(decoder.decode(frameOf(LinkType.RAW, first))).toBe(false);
    expect(decoder.decode(frameOf(LinkType.RAW, rest))).toBe(true);
    expect(decoder.segment.tunnel).toMatchObject({ kind: 'vxlan', id: 5 });
  });
});

describe('IPv6 extension headers', () => {
  test('walks hop-by-hop, routing, destination options and an atomic fragment header to TCP', () => {
    const packet = ipv6({
      extensions: [ipv6Extension.hopByHop(), ipv6Extension.routing(), ipv6Extension.destinationOptions(), ipv6Extension.fragment(0, false)],
      payload: SEGMENT,
    });
    const result = decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.IPV6, packet));
    const s = expectSegment(result, 6);
    expect(s.payloadOffset).toBe(LEAD + 14 + 40 + 8 + 24 + 8 + 8 + 20);
    expect([s.src0, s.src1, s.src2, s.src3]).toEqual(ipv6Words('2001:db8::1'));
    expect([s.dst0, s.dst1, s.dst2, s.dst3]).toEqual(ipv6Words('2001:db8::2'));
    expect(s.ttl).toBe(64);
  });

  test('puts IPv6 fragments of TCP back together behind a hop-by-hop header', () => {
    const decoder = new PacketDecoder();
    const first = ipv6({ extensions: [ipv6Extension.hopByHop(), ipv6Extension.fragment(0, true, 9)], payload: SEGMENT.subarray(0, 16) });
    const last = ipv6({ extensions: [ipv6Extension.hopByHop(), ipv6Extension.fragment(2, false, 9)], payload: SEGMENT.subarray(16) });
    expect(decoder.decode(frameOf(LinkType.RAW, last))).toBe(false);
    expect(decoder.decode(frameOf(LinkType.RAW, first))).toBe(true);
    expect(decoder.segment.ipVersion).toBe(6);
    expect([decoder.segment.srcPort, decoder.segment.seq, decoder.segment.payloadLength]).toEqual([40000, 0x11223344, 5]);
    expect(decoder.stats.fragments).toMatchObject({ fragments: 2, reassembled: 1 });
  });

  test('walks an Authentication Header (length in 4-byte units) to TCP', () => {
    const packet = ipv6({ extensions: [ipv6Extension.authentication(12)], payload: SEGMENT });
    const s = expectSegment(decodeOne(LinkType.RAW, packet), 6);
    expect(s.payloadOffset).toBe(LEAD + 40 + 24 + 20);
  });

  test('walks an AH with a longer ICV, after a destination options header', () => {
    const packet = ipv6({ extensions: [ipv6Extension.destinationOptions(), ipv6Extension.authentication(20)], payload: SEGMENT });
    expectSegment(decodeOne(LinkType.RAW, packet), 6);
  });

  test('counts ESP, UDP and No Next Header as not TCP', () => {
    for (const protocol of [IP_PROTOCOL.ESP, IP_PROTOCOL.UDP, IP_PROTOCOL.NONE]) {
      const { ok, decoder } = decodeOne(
        LinkType.RAW,
        ipv6({ extensions: [ipv6Extension.hopByHop()], protocol, payload: Buffer.alloc(32) }),
      );
      expect(ok, `protocol ${protocol}`).toBe(false);
      expect(decoder.stats.notTcp, `protocol ${protocol}`).toBe(1);
    }
  });

  test('gives up on an endless chain of extension headers without throwing', () => {
    const chain = Array.from({ length: 40 }, () => ipv6Extension.destinationOptions());
    const { ok, decoder } = decodeOne(LinkType.RAW, ipv6({ extensions: chain, payload: SEGMENT }));
    expect(ok).toBe(false);
    expect(decoder.stats.notTcp).toBe(1);
  });
});

describe('link layers and encapsulations', () => {
  test('follows an 802.1Q VLAN tag', () => {
    expectSegment(decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.IPV4, IPV4_TCP, [{ tpid: ETHERTYPE.VLAN, vid: 100 }])));
  });

  test('follows QinQ: an 802.1ad outer tag and an 802.1Q inner tag', () => {
    const frame = ethernet(ETHERTYPE.IPV6, IPV6_TCP, [
      { tpid: ETHERTYPE.QINQ, vid: 10 },
      { tpid: ETHERTYPE.VLAN, vid: 20, pcp: 5 },
    ]);
    const s = expectSegment(decodeOne(LinkType.ETHERNET, frame), 6);
    expect(s.payloadOffset).toBe(LEAD + 14 + 8 + 40 + 20);
  });

  test('follows the pre-standard 0x9100 outer tag', () => {
    expectSegment(
      decodeOne(
        LinkType.ETHERNET,
        ethernet(ETHERTYPE.IPV4, IPV4_TCP, [
          { tpid: ETHERTYPE.QINQ_OLD, vid: 1 },
          { tpid: ETHERTYPE.VLAN, vid: 2 },
        ]),
      ),
    );
  });

  test('counts a VLAN tag cut short as link-header-truncated', () => {
    const { decoder } = decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.IPV4, IPV4_TCP, [{ tpid: ETHERTYPE.VLAN, vid: 1 }]), {
      capturedLength: 15,
    });
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.linkHeaderTruncated]: 1 });
  });

  test('follows an MPLS label stack to the bottom and recognises IPv4 and IPv6 by version', () => {
    expectSegment(decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.MPLS, mpls([16, 17, 18], IPV4_TCP))));
    expectSegment(decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.MPLS, mpls([100], IPV6_TCP))), 6);
    expectSegment(decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.MPLS, mpls([7, 8], IPV4_TCP), [{ tpid: ETHERTYPE.VLAN, vid: 3 }])));
  });

  test('counts what sits under MPLS but is not IP (a pseudowire control word) as not IP', () => {
    const { ok, decoder } = decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.MPLS, mpls([16], concat([0, 0, 0, 0], IPV4_TCP))));
    expect(ok).toBe(false);
    expect(decoder.stats.notIp).toBe(1);
  });

  test('counts an MPLS stack without its bottom as link-header-truncated', () => {
    const { decoder } = decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.MPLS, mpls([16, 17], IPV4_TCP)), { capturedLength: 14 + 6 });
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.linkHeaderTruncated]: 1 });
  });

  test('follows a PPPoE session to IPv4 and IPv6', () => {
    expectSegment(decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.PPPOE_SESSION, pppoeSession(PPP_PROTOCOL.IPV4, IPV4_TCP))));
    expectSegment(decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.PPPOE_SESSION, pppoeSession(PPP_PROTOCOL.IPV6, IPV6_TCP))), 6);
  });

  test('follows PPPoE inside QinQ', () => {
    const frame = ethernet(ETHERTYPE.PPPOE_SESSION, pppoeSession(PPP_PROTOCOL.IPV4, IPV4_TCP), [
      { tpid: ETHERTYPE.QINQ, vid: 7 },
      { tpid: ETHERTYPE.VLAN, vid: 8 },
    ]);
    expectSegment(decodeOne(LinkType.ETHERNET, frame));
  });

  test('bounds the wire length by the PPPoE length, so Ethernet padding is not payload of a TSO packet', () => {
    const inner = ipv4({ totalLength: 0, payload: tcp({ payload: Buffer.alloc(4) }) });
    const frame = concat(ethernet(ETHERTYPE.PPPOE_SESSION, pppoeSession(PPP_PROTOCOL.IPV4, inner)), Buffer.alloc(10, 0xcc));
    const { ok, decoder } = decodeOne(LinkType.ETHERNET, frame);
    expect(ok).toBe(true);
    expect(decoder.segment.payloadLength).toBe(4);
  });

  test('counts PPP carrying something other than IP (LCP) as not IP', () => {
    const { decoder } = decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.PPPOE_SESSION, pppoeSession(PPP_PROTOCOL.LCP, Buffer.alloc(8))));
    expect(decoder.stats.notIp).toBe(1);
  });

  test('follows LLC/SNAP in an 802.3 frame to IPv4', () => {
    const snap = concat([0xaa, 0xaa, 0x03, 0, 0, 0], [0x08, 0x00], IPV4_TCP);
    expectSegment(decodeOne(LinkType.ETHERNET, ethernet(snap.length, snap)));
  });

  test('counts ARP as not IP', () => {
    const { ok, decoder } = decodeOne(LinkType.ETHERNET, ethernet(ETHERTYPE.ARP, Buffer.alloc(28)));
    expect(ok).toBe(false);
    expect(decoder.stats.notIp).toBe(1);
  });

  test('reads Linux cooked capture v1 (SLL)', () => {
    expectSegment(decodeOne(LinkType.LINUX_SLL, linuxSll(ETHERTYPE.IPV4, IPV4_TCP)));
    expectSegment(decodeOne(LinkType.LINUX_SLL, linuxSll(ETHERTYPE.IPV6, IPV6_TCP)), 6);
    expectSegment(decodeOne(LinkType.LINUX_SLL, linuxSll(ETHERTYPE.VLAN, concat([0, 5, 0x08, 0x00], IPV4_TCP))));
  });

  test('reads Linux cooked capture v2 (SLL2)', () => {
    const s = expectSegment(decodeOne(LinkType.LINUX_SLL2, linuxSll2(ETHERTYPE.IPV4, IPV4_TCP)));
    expect(s.payloadOffset).toBe(LEAD + 20 + 20 + 20);
    expectSegment(decodeOne(LinkType.LINUX_SLL2, linuxSll2(ETHERTYPE.IPV6, IPV6_TCP)), 6);
  });

  test('counts a cooked header cut short as link-header-truncated', () => {
    const { decoder } = decodeOne(LinkType.LINUX_SLL2, linuxSll2(ETHERTYPE.IPV4, IPV4_TCP), { capturedLength: 19 });
    expect(issues(decoder.stats)).toEqual({ [DecodeIssue.linkHeaderTruncated]: 1 });
  });

  test('reads raw IP by its version nibble on every raw link type', () => {
    for (const linkType of [LinkType.RAW, LinkType.RAW_12, LinkType.RAW_14]) {
      expectSegment(decodeOne(linkType, IPV4_TCP));
      expectSegment(decodeOne(linkType, IPV6_TCP), 6);
    }
    expectSegment(decodeOne(LinkType.IPV4, IPV4_TCP));
    expectSegment(decodeOne(LinkType.IPV6, IPV6_TCP), 6);
  });

  test('counts the wrong version on the IPv4-only and IPv6-only link types as ip-version-mismatch', () => {
    expect(issues(decodeOne(LinkType.IPV4, IPV6_TCP).decoder.stats)).toEqual({ [DecodeIssue.ipVersionMismatch]: 1 });
    expect(issues(decodeOne(LinkType.IPV6, concat(IPV4_TCP, Buffer.alloc(20))).decoder.stats)).toEqual({
      [DecodeIssue.ipVersionMismatch]: 1,
    });
  });

  test('counts an empty raw-IP frame as ipv4-header-truncated', () => {
    expect(issues(decodeOne(LinkType.RAW, []).decoder.stats)).toEqual({ [DecodeIssue.ipv4HeaderTruncated]: 1 });
  });

  test('reads BSD loopback (DLT_NULL) AF_INET in both byte orders', () => {
    expectSegment(decodeOne(LinkType.NULL, bsdNull(2, IPV4_TCP, true)));
    expectSegment(decodeOne(LinkType.NULL, bsdNull(2, IPV4_TCP, false)));
  });

  test('reads BSD loopback AF_INET6 as every OS numbers it (10, 24, 28, 30) in both byte orders', () => {
    for (const family of [10, 24, 28, 30]) {
      for (const littleEndian of [true, false]) {
        expectSegment(decodeOne(LinkType.NULL, bsdNull(family, IPV6_TCP, littleEndian)), 6);
      }
    }
  });

  test('reads OpenBSD loopback (DLT_LOOP), always in network byte order', () => {
    expectSegment(decodeOne(LinkType.LOOP, bsdNull(2, IPV4_TCP, false)));
    expectSegment(decodeOne(LinkType.LOOP, bsdNull(24, IPV6_TCP, false)), 6);
    expect(decodeOne(LinkType.LOOP, bsdNull(2, IPV4_TCP, true)).decoder.stats.notIp).toBe(1);
  });

  test('counts a BSD loopback family that is not IP as not IP', () => {
    expect(decodeOne(LinkType.NULL, bsdNull(7, IPV4_TCP, true)).decoder.stats.notIp).toBe(1);
  });

  test('reads PPP with and without HDLC address and control bytes, and with a compressed protocol field', () => {
    expectSegment(decodeOne(LinkType.PPP, ppp(PPP_PROTOCOL.IPV4, IPV4_TCP, true)));
    expectSegment(decodeOne(LinkType.PPP, ppp(PPP_PROTOCOL.IPV6, IPV6_TCP, false)), 6);
    expectSegment(decodeOne(LinkType.PPP_HDLC, ppp(PPP_PROTOCOL.IPV4, IPV4_TCP, true)));
    expectSegment(decodeOne(LinkType.PPP, concat([0x21], IPV4_TCP)));
  });

  test('reads Cisco HDLC', () => {
    expectSegment(decodeOne(LinkType.C_HDLC, concat([0x0f, 0x00, 0x08, 0x00], IPV4_TCP)));
    expectSegment(decodeOne(LinkType.C_HDLC, concat([0x8f, 0x00, 0x86, 0xdd], IPV6_TCP)), 6);
  });

  test('reads NFLOG: the packet is the payload TLV, after others', () => {
    const tlv = (type: number, value: Buffer): Buffer => {
      const header = Buffer.alloc(4);
      header.writeUInt16LE(4 + value.length, 0);
      header.writeUInt16LE(type, 2);
      const body = concat(header, value);
      return concat(body, Buffer.alloc((4 - (body.length % 4)) % 4));
    };
    const nflog = (family: number, packet: Buffer): Buffer =>
      concat([family, 0, 0, 1], tlv(1, Buffer.from([0x08, 0x00, 3, 0])), tlv(10, Buffer.from('prefix!')), tlv(9, packet));
    expectSegment(decodeOne(LinkType.NFLOG, nflog(2, IPV4_TCP)));
    expectSegment(decodeOne(LinkType.NFLOG, nflog(10, IPV6_TCP)), 6);
  });

  test('counts packets on a link type it does not read, by link type', () => {
    const decoder = new PacketDecoder();
    expect(decoder.decode(frameOf(105, IPV4_TCP))).toBe(false);
    expect(decoder.decode(frameOf(105, IPV4_TCP))).toBe(false);
    expect(decoder.decode(frameOf(147, IPV4_TCP))).toBe(false);
    expect(decoder.stats.unsupportedLinkTypes.get(105)).toBe(2);
    expect(decoder.stats.unsupportedLinkTypes.get(147)).toBe(1);
  });
});

describe('TCP options', () => {
  function optionsOf(...options: number[][]) {
    const { ok, decoder } = decodeOne(LinkType.RAW, ipv4({ payload: tcp({ flags: TCP_FLAG.SYN, options: tcpOptions(...options) }) }));
    expect(ok).toBe(true);
    return decoder.segment;
  }

  test('reads a Linux SYN’s MSS, SACK-permitted, timestamps and window scale', () => {
    const s = optionsOf(
      tcpOption.mss(1460),
      tcpOption.sackPermitted(),
      tcpOption.timestamps(0xdeadbeef, 0),
      tcpOption.nop(),
      tcpOption.windowScale(7),
    );
    expect(s.headerLength).toBe(40);
    expect(s.mss).toBe(1460);
    expect(s.sackPermitted).toBe(true);
    expect(s.hasTimestamp).toBe(true);
    expect(s.tsVal).toBe(0xdeadbeef);
    expect(s.tsEcr).toBe(0);
    expect(s.windowScale).toBe(7);
    expect(s.optionsTruncated).toBe(false);
    expect(s.unknownOptionCount).toBe(0);
  });

  test('reads SACK blocks as raw 32-bit edges', () => {
    const s = optionsOf(
      tcpOption.nop(),
      tcpOption.nop(),
      tcpOption.sack([
        [0xfffffff0, 0x10],
        [100, 200],
      ]),
    );
    expect(s.sackBlockCount).toBe(2);
    expect(Array.from(s.sackBlocks.subarray(0, 4))).toEqual([0xfffffff0, 0x10, 100, 200]);
  });

  test('reads up to four SACK blocks, as many as fit in the header', () => {
    const s = optionsOf(
      tcpOption.nop(),
      tcpOption.nop(),
      tcpOption.sack([
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
      ]),
    );
    expect(s.sackBlockCount).toBe(4);
    expect(Array.from(s.sackBlocks)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('reads a TCP Fast Open cookie and a cookie request', () => {
    expect(optionsOf(tcpOption.fastOpen([1, 2, 3, 4, 5, 6, 7, 8])).fastOpenCookieLength).toBe(8);
    expect(optionsOf(tcpOption.fastOpen()).fastOpenCookieLength).toBe(0);
  });

  test('lists option kinds it does not interpret, in order', () => {
    const s = optionsOf(tcpOption.raw(30, [0x00, 0x81, 1, 2]), tcpOption.raw(254, [0xf9, 0x89]), tcpOption.raw(28, [0, 0]));
    expect(Array.from(s.unknownOptionKinds.subarray(0, s.unknownOptionCount))).toEqual([30, 254, 28]);
  });

  test('stops at end-of-option-list', () => {
    const s = optionsOf(tcpOption.mss(536), tcpOption.eol(), tcpOption.nop(), tcpOption.nop(), tcpOption.nop(), tcpOption.windowScale(3));
    expect(s.mss).toBe(536);
    expect(s.windowScale).toBe(-1);
    expect(s.optionsTruncated).toBe(false);
  });

  test('ignores options whose length is not their kind’s (MSS of 3 bytes, window scale of 4)', () => {
    const s = optionsOf(tcpOption.raw(2, [5]), tcpOption.raw(3, [1, 2]));
    expect(s.mss).toBe(-1);
    expect(s.windowScale).toBe(-1);
  });

  test('stops at an option length below 2 and flags the options', () => {
    const s = optionsOf(tcpOption.mss(1200), [8, 1, 0, 0]);
    expect(s.mss).toBe(1200);
    expect(s.hasTimestamp).toBe(false);
    expect(s.optionsTruncated).toBe(true);
  });

  test('stops at an option running past the header and flags the options', () => {
    const s = optionsOf(tcpOption.windowScale(2), [8, 10, 0, 0, 0]);
    expect(s.windowScale).toBe(2);
    expect(s.hasTimestamp).toBe(false);
    expect(s.optionsTruncated).toBe(true);
  });
});

// ------------------------------------------------------------ never throws

const LINK_TYPES = [
  LinkType.NULL,
  LinkType.ETHERNET,
  LinkType.PPP,
  LinkType.RAW_12,
  LinkType.RAW_14,
  LinkType.PPP_HDLC,
  LinkType.RAW,
  LinkType.C_HDLC,
  LinkType.LOOP,
  LinkType.LINUX_SLL,
  LinkType.IPV4,
  LinkType.IPV6,
  LinkType.NFLOG,
  LinkType.LINUX_SLL2,
];

/** Valid packets of every shape above, to mutate: random bytes rarely get past the first header. */
const SEEDS: Array<[number, Buffer]> = [
  [LinkType.ETHERNET, ethernet(ETHERTYPE.IPV4, IPV4_TCP)],
  [
    LinkType.ETHERNET,
    ethernet(
      ETHERTYPE.IPV4,
      ipv4({
        protocol: IP_PROTOCOL.GRE,
        payload: gre(
          ETHERTYPE.IPV4,
          ipv4({ protocol: IP_PROTOCOL.UDP, payload: udp(1, 4789, vxlan(3, ethernet(ETHERTYPE.IPV4, IPV4_TCP))) }),
          { key: 1 },
        ),
      }),
    ),
  ],
  [LinkType.ETHERNET, ethernet(ETHERTYPE.IPV4, ipv4({ protocol: IP_PROTOCOL.UDP, payload: udp(2152, 2152, gtpU(7, IPV4_TCP, true)) }))],
  [
    LinkType.ETHERNET,
    ethernet(
      ETHERTYPE.IPV6,
      ipv6({
        extensions: [ipv6Extension.hopByHop(), ipv6Extension.routing(), ipv6Extension.fragment(0, false), ipv6Extension.authentication()],
        payload: SEGMENT,
      }),
    ),
  ],
  [
    LinkType.ETHERNET,
    ethernet(ETHERTYPE.MPLS, mpls([1, 2], IPV4_TCP), [
      { tpid: ETHERTYPE.QINQ, vid: 1 },
      { tpid: ETHERTYPE.VLAN, vid: 2 },
    ]),
  ],
  [
    LinkType.ETHERNET,
    ethernet(
      ETHERTYPE.PPPOE_SESSION,
      pppoeSession(PPP_PROTOCOL.IPV6, ipv6({ extensions: [ipv6Extension.jumbo(70000)], payloadLength: 0, payload: SEGMENT })),
    ),
  ],
  [
    LinkType.LINUX_SLL,
    linuxSll(
      ETHERTYPE.IPV4,
      ipv4({
        payload: tcp({
          options: tcpOptions(
            tcpOption.mss(1),
            tcpOption.sack([
              [1, 2],
              [3, 4],
            ]),
            tcpOption.timestamps(1, 2),
          ),
        }),
      }),
    ),
  ],
  [LinkType.LINUX_SLL2, linuxSll2(ETHERTYPE.IPV6, IPV6_TCP)],
  [LinkType.NULL, bsdNull(30, IPV6_TCP, true)],
  [
    LinkType.RAW,
    ipv4({ options: [1, 1, 1, 0], payload: tcp({ options: tcpOptions(tcpOption.fastOpen([1, 2, 3, 4]), tcpOption.raw(99, [1])) }) }),
  ],
  [LinkType.PPP, ppp(PPP_PROTOCOL.IPV4, IPV4_TCP)],
  [LinkType.NFLOG, concat([2, 0, 0, 1], [4 + IPV4_TCP.length, 0, 9, 0], IPV4_TCP)],
];

/** Checks a decode left the segment and the stats consistent with the frame. */
function checkDecode(decoder: PacketDecoder, frame: CapturedFrame, ok: boolean, packetsBefore: number): void {
  expect(decoder.stats.packets).toBe(packetsBefore + 1);
  expect(outcomes(decoder.stats), 'every packet is counted exactly once').toBe(decoder.stats.packets);
  if (!ok) return;
  const s = decoder.segment;
  const end = frame.dataOffset + frame.capturedLength;
  expect(s.headerLength).toBeGreaterThanOrEqual(20);
  expect(s.headerLength).toBeLessThanOrEqual(60);
  expect(s.payloadLength).toBeGreaterThanOrEqual(0);
  expect(s.capturedPayloadLength).toBeGreaterThanOrEqual(0);
  expect(s.capturedPayloadLength).toBeLessThanOrEqual(s.payloadLength);
  expect(s.payloadOffset).toBeGreaterThanOrEqual(frame.dataOffset + 20);
  if (s.capturedPayloadLength > 0) expect(s.payloadOffset + s.capturedPayloadLength).toBeLessThanOrEqual(end);
  for (const v of [s.seq, s.ack, s.src0, s.dst0, s.src3, s.dst3]) expect(v >= 0 && v <= 0xffffffff && Number.isInteger(v)).toBe(true);
  expect(s.srcPort).toBeLessThanOrEqual(0xffff);
  expect(s.sackBlockCount).toBeLessThanOrEqual(4);
  expect(s.unknownOptionCount).toBeLessThanOrEqual(s.unknownOptionKinds.length);
}

describe('decoding arbitrary bytes', () => {
  test('never throws on any supported link type, and counts every packet once', () => {
    const decoder = new PacketDecoder();
    fc.assert(
      fc.property(
        fc.constantFrom(...LINK_TYPES, 105, 0xffff),
        fc.uint8Array({ maxLength: 200 }),
        fc.nat({ max: 70000 }),
        (linkType, bytes, extraOnWire) => {
          const frame = frameOf(linkType, bytes, { originalLength: bytes.length + extraOnWire });
          const before = decoder.stats.packets;
          const ok = decoder.decode(frame);
          checkDecode(decoder, frame, ok, before);
        },
      ),
      { numRuns: 3000, seed: 424242 },
    );
  });

  test('never throws on valid packets with random bytes flipped and random snap-length cuts', () => {
    const decoder = new PacketDecoder();
    fc.assert(
      fc.property(
        fc.nat({ max: SEEDS.length - 1 }),
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.boolean(),
        (which, flips, cut, anyLinkType) => {
          const [seedLinkType, original] = SEEDS[which];
          const bytes = Buffer.from(original);
          for (const { at, value } of flips) bytes[at % bytes.length] = value;
          const linkType = anyLinkType ? LINK_TYPES[flips[0].at % LINK_TYPES.length] : seedLinkType;
          const capturedLength = cut === undefined ? bytes.length : cut % (bytes.length + 1);
          const frame = frameOf(linkType, bytes, { capturedLength, originalLength: bytes.length });
          const before = decoder.stats.packets;
          const ok = decoder.decode(frame);
          checkDecode(decoder, frame, ok, before);
        },
      ),
      { numRuns: 5000, seed: 17 },
    );
  });

  test('decodes every seed packet before it is mutated', () => {
    for (const [i, [linkType, packet]] of SEEDS.entries()) {
      const { ok, decoder } = decodeOne(linkType, packet);
      expect(issues(decoder.stats), `seed ${i}`).toEqual({});
      expect(ok, `seed ${i} (link type ${linkType})`).toBe(true);
    }
  });
});
