#!/usr/bin/env node
// node scripts/bench/make-established-pcap.mjs OUT.pcap CONNECTIONS [REVISITS]
//
// A capture of CONNECTIONS connections that all stay ESTABLISHED: each one opens
// (SYN, SYN-ACK, ACK), the client sends 32 bytes and the server acknowledges them,
// and none ever closes. Connection i starts 10 µs after connection i-1, from
// 10.(i>>16).(i>>8).(i&255):(20000 + i % 40000) to 192.0.2.1:443, so every one is
// open at the end: what holds the most tracker memory per packet (issue 28's
// "1 M established connections"). Then REVISITS (default 0) more data segments, one on
// each of the first REVISITS connections, in order: a connection the memory budget
// evicted comes back midstream. Classic pcap, microseconds, Ethernet, checksums right.
// 2,000,000 connections are 10 M packets, 780 MB, in about 13 s here.
import { openSync, writeSync, closeSync } from 'node:fs';

const [out, countText, revisitText = '0'] = process.argv.slice(2);
const count = Number(countText);
const revisits = Number(revisitText);
if (!out || !Number.isInteger(count) || count <= 0 || count > 1 << 24 || !Number.isInteger(revisits) || revisits < 0 || revisits > count) {
  console.error('usage: node scripts/bench/make-established-pcap.mjs OUT.pcap CONNECTIONS (1..16777216) [REVISITS (0..CONNECTIONS)]');
  process.exit(2);
}

const SERVER = (192 << 24) | (0 << 16) | (2 << 8) | 1;
const SERVER_PORT = 443;
const START_SEC = 1_700_000_000;
const STEP_US = 10;
const PAYLOAD = 32;
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;

const fd = openSync(out, 'w');
const chunk = Buffer.alloc(1 << 22);
let used = 0;
const flush = () => {
  writeSync(fd, chunk, 0, used);
  used = 0;
};
const header = Buffer.alloc(24);
header.writeUInt32LE(0xa1b2c3d4, 0);
header.writeUInt16LE(2, 4);
header.writeUInt16LE(4, 6);
header.writeUInt32LE(65535, 16);
header.writeUInt32LE(1, 20); // Ethernet
writeSync(fd, header);

/** Ones'-complement sum of `length` bytes of `b` from `at`, added to `sum`. */
function sum16(b, at, length, sum) {
  for (let i = 0; i < length - 1; i += 2) sum += (b[at + i] << 8) | b[at + i + 1];
  if (length & 1) sum += b[at + length - 1] << 8;
  return sum;
}
const fold = (sum) => {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
};

let packets = 0;
/** One record: Ethernet + IPv4 + TCP (options: MSS on SYNs) + payload of zeros. */
function packet(timeUs, src, dst, srcPort, dstPort, seq, ack, flags, payload) {
  const options = flags & SYN ? 4 : 0;
  const tcpLength = 20 + options + payload;
  const ipLength = 20 + tcpLength;
  const frameLength = 14 + ipLength;
  if (used + 16 + frameLength > chunk.length) flush();
  const b = chunk;
  let at = used;
  b.writeUInt32LE(START_SEC + Math.floor(timeUs / 1e6), at);
  b.writeUInt32LE(timeUs % 1e6, at + 4);
  b.writeUInt32LE(frameLength, at + 8);
  b.writeUInt32LE(frameLength, at + 12);
  at += 16;
  b.fill(0, at, at + frameLength);
  b[at + 0] = 0x02; // destination and source MACs: locally administered
  b[at + 6] = 0x02;
  b[at + 11] = 1;
  b.writeUInt16BE(0x0800, at + 12);
  const ip = at + 14;
  b[ip] = 0x45;
  b.writeUInt16BE(ipLength, ip + 2);
  b.writeUInt16BE(0x4000, ip + 6); // DF
  b[ip + 8] = 64;
  b[ip + 9] = 6;
  b.writeUInt32BE(src >>> 0, ip + 12);
  b.writeUInt32BE(dst >>> 0, ip + 16);
  b.writeUInt16BE(fold(sum16(b, ip, 20, 0)), ip + 10);
  const t = ip + 20;
  b.writeUInt16BE(srcPort, t);
  b.writeUInt16BE(dstPort, t + 2);
  b.writeUInt32BE(seq >>> 0, t + 4);
  b.writeUInt32BE(ack >>> 0, t + 8);
  b[t + 12] = ((20 + options) / 4) << 4;
  b[t + 13] = flags;
  b.writeUInt16BE(64240, t + 14);
  if (options) {
    b[t + 20] = 2;
    b[t + 21] = 4;
    b.writeUInt16BE(1460, t + 22);
  }
  let sum = sum16(b, ip + 12, 8, 0) + 6 + tcpLength;
  b.writeUInt16BE(fold(sum16(b, t, tcpLength, sum)), t + 16);
  used = at + frameLength;
  packets++;
}

const clientOf = (i) => ((10 << 24) | (((i >> 16) & 255) << 16) | (((i >> 8) & 255) << 8) | (i & 255)) >>> 0;
const portOf = (i) => 20000 + (i % 40000);
const clientIss = (i) => (i * 2654435761) >>> 0;
const serverIss = (i) => (i * 40503 + 12345) >>> 0;

for (let i = 0; i < count; i++) {
  const t = i * STEP_US;
  const c = clientOf(i);
  const p = portOf(i);
  const ci = clientIss(i);
  const si = serverIss(i);
  packet(t, c, SERVER, p, SERVER_PORT, ci, 0, SYN, 0);
  packet(t + 1, SERVER, c, SERVER_PORT, p, si, ci + 1, SYN | ACK, 0);
  packet(t + 2, c, SERVER, p, SERVER_PORT, ci + 1, si + 1, ACK, 0);
  packet(t + 3, c, SERVER, p, SERVER_PORT, ci + 1, si + 1, PSH | ACK, PAYLOAD);
  packet(t + 4, SERVER, c, SERVER_PORT, p, si + 1, ci + 1 + PAYLOAD, ACK, 0);
}
const after = count * STEP_US + 1_000_000;
for (let i = 0; i < revisits; i++) {
  const c = clientOf(i);
  packet(after + i * STEP_US, c, SERVER, portOf(i), SERVER_PORT, clientIss(i) + 1 + PAYLOAD, serverIss(i) + 1, PSH | ACK, PAYLOAD);
}
flush();
closeSync(fd);
console.log(`${out}: ${count} established connections, ${revisits} revisited, ${packets} packets`);
