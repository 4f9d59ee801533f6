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
  for (let i = 0; i < 8; ) {
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

/** "ip:port", with IPv6 in brackets as netstat and URLs write it. */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
