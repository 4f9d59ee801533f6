import { describe, expect, test } from 'vitest';
import { AddressNames, formatIpv4, formatIpv6 } from './format-address.js';
import type { TcpSegment } from './tcp-segment.js';

const v4 = (src: number, dst: number): TcpSegment => ({ ipVersion: 4, src0: src, dst0: dst }) as TcpSegment;
const v6 = (src: number[], dst: number[]): TcpSegment =>
  ({
    ipVersion: 6,
    src0: src[0],
    src1: src[1],
    src2: src[2],
    src3: src[3],
    dst0: dst[0],
    dst1: dst[1],
    dst2: dst[2],
    dst3: dst[3],
  }) as TcpSegment;

describe('AddressNames', () => {
  test('names addresses as formatIpv4 and formatIpv6 do', () => {
    const names = new AddressNames();
    expect(names.source(v4(0x0a000001, 0xc0a80102))).toBe('10.0.0.1');
    expect(names.destination(v4(0x0a000001, 0xc0a80102))).toBe('192.168.1.2');
    const a = [0x20010db8, 0, 0, 1];
    expect(names.source(v6(a, a))).toBe(formatIpv6(0x20010db8, 0, 0, 1));
  });

  test('tells apart IPv6 addresses that share their last word', () => {
    const names = new AddressNames();
    const a = [0x20010db8, 0, 0, 1];
    const b = [0x20010db8, 0, 1, 1];
    const c = [0xfe800000, 0, 0, 1];
    const seg = v6(a, b);
    expect([names.source(seg), names.destination(seg), names.source(v6(c, a))]).toEqual(['2001:db8::1', '2001:db8::1:0:1', 'fe80::1']);
    expect(names.source(v6(b, a))).toBe('2001:db8::1:0:1');
  });

  test('stays right past its size bound (a flood of random sources)', () => {
    const names = new AddressNames();
    for (let address = 0; address < 70_000; address++) expect(names.source(v4(address * 4099, 0))).toBe(formatIpv4((address * 4099) >>> 0));
  });
});
