import type { TcpSegment } from './tcp-segment.js';

/** Dotted quad of a 32-bit IPv4 address. */
export function formatIpv4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

/** RFC 5952 text of an IPv6 address given as four 32-bit words (the longest run of zero groups becomes "::"). */
export function formatIpv6(w0: number, w1: number, w2: number, w3: number): string {
  const groups = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export function formatSource(segment: TcpSegment): string {
  return segment.ipVersion === 4 ? formatIpv4(segment.src0) : formatIpv6(segment.src0, segment.src1, segment.src2, segment.src3);
}

export function formatDestination(segment: TcpSegment): string {
  return segment.ipVersion === 4 ? formatIpv4(segment.dst0) : formatIpv6(segment.dst0, segment.dst1, segment.dst2, segment.dst3);
}

/** Addresses remembered at most: a flood from random sources must not grow the cache without end. */
const ADDRESS_NAMES_LIMIT = 1 << 16;

interface Ipv6Name {
  w0: number;
  w1: number;
  w2: number;
  text: string;
}

/**
 * The text of addresses, made once per address: a capture's connections come
 * from few hosts, and the connections of one host share its string instead of
 * each formatting (and keeping) its own.
 */
export class AddressNames {
  private readonly ipv4 = new Map<number, string>();
  /** By the last word, which differs most between hosts; the few sharing it are compared in full. */
  private readonly ipv6 = new Map<number, Ipv6Name[]>();
  private size = 0;

  source(segment: TcpSegment): string {
    return segment.ipVersion === 4 ? this.v4(segment.src0) : this.v6(segment.src0, segment.src1, segment.src2, segment.src3);
  }

  destination(segment: TcpSegment): string {
    return segment.ipVersion === 4 ? this.v4(segment.dst0) : this.v6(segment.dst0, segment.dst1, segment.dst2, segment.dst3);
  }

  private v4(address: number): string {
    let text = this.ipv4.get(address);
    if (text === undefined) {
      text = formatIpv4(address);
      this.remember();
      this.ipv4.set(address, text);
    }
    return text;
  }

  private v6(w0: number, w1: number, w2: number, w3: number): string {
    let names = this.ipv6.get(w3);
    if (names !== undefined) {
      for (const name of names) if (name.w0 === w0 && name.w1 === w1 && name.w2 === w2) return name.text;
    }
    const text = formatIpv6(w0, w1, w2, w3);
    this.remember();
    names = this.ipv6.get(w3);
    if (names === undefined) this.ipv6.set(w3, (names = []));
    names.push({ w0, w1, w2, text });
    return text;
  }

  private remember(): void {
    if (++this.size <= ADDRESS_NAMES_LIMIT) return;
    this.ipv4.clear();
    this.ipv6.clear();
    this.size = 1;
  }
}

/** "ip:port", with IPv6 in brackets as netstat and URLs write it. */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
