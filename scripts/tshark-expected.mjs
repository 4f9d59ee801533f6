#!/usr/bin/env node
// Writes tshark's decoding of every capture in captures/ and ../shared/wild/ to
// test/expected/tshark/, so the decoder conformance test can compare without tshark.
// Usage: node scripts/tshark-expected.mjs [FILE...]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const wild = resolve(root, '../shared/wild');
const outRoot = join(root, 'test/expected/tshark');
const CAPTURE_NAME = /\.(pcap|pcapng|cap|snoop)(\.gz|\.zst)?$/;

const FIELDS = [
  'frame.number',
  'frame.protocols',
  'ip.src',
  'ipv6.src',
  'ip.dst',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.flags',
  'tcp.len',
  'tcp.window_size_value',
  'tcp.checksum.status',
];
/** tshark's checksum status (0 bad, 1 good, 2 unverified) in our words. */
const CHECKSUM = { 0: 'bad', 1: 'good', 2: 'unverified' };
// Every segment as it is on the wire, IP fragments put back together (as flowstate does:
// the segment at its last fragment's frame), no TCP reassembly, no heuristics that
// re-dissect TCP payloads. Checksums are checked, and reported beside the fields.
const PREFERENCES = [
  'ip.defragment:TRUE',
  'ipv6.defragment:TRUE',
  'tcp.desegment_tcp_streams:FALSE',
  'tcp.analyze_sequence_numbers:FALSE',
  'tcp.check_checksum:TRUE',
  'tcp.try_heuristic_first:FALSE',
  // Teredo relays answer from any port: Wireshark finds them by a heuristic, off by default.
  'teredo.heuristic_teredo:TRUE',
];

function tshark(file) {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const p of PREFERENCES) args.push('-o', p);
  for (const f of FIELDS) args.push('-e', f);
  args.push('-Y', 'tcp');
  const run = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const error = run.stderr
    .split('\n')
    .filter((l) => l && !l.startsWith('Running as user'))
    .join(' ')
    .trim();
  return { stdout: run.stdout, error };
}

/**
 * One row per frame that tshark decodes TCP in: `tcp` when the outermost IP carries it,
 * `tunnel` when a tunnel does (GRE, UDP to VXLAN/Geneve/GTP-U/Teredo, IP in IP: the row
 * holds the innermost IP's addresses), `quoted` when an ICMP error quotes it.
 */
function rows(stdout) {
  const out = [];
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const [frame, protocols, ip4src, ip6src, ip4dst, ip6dst, sport, dport, seq, ack, flags, len, win, checksum] = line.split('\t');
    // IPv6 extension headers are their own layers to tshark; to us they belong to the IP header.
    const layers = protocols.split(':').filter((l) => !l.startsWith('ipv6.') && l !== 'ah');
    const firstTcp = layers.indexOf('tcp');
    const before = layers.slice(0, firstTcp);
    const ipLayers = before.filter((l) => l === 'ip' || l === 'ipv6');
    const firstIp = layers.findIndex((l) => l === 'ip' || l === 'ipv6');
    const direct = ipLayers.length === 1 && firstTcp === firstIp + 1;
    const kind = direct ? 'tcp' : before.some((l) => l === 'icmp' || l === 'icmpv6') ? 'quoted' : 'tunnel';
    // The IP header just before TCP: its place among the IPv4 (or IPv6) headers of the frame.
    const inner = ipLayers[ipLayers.length - 1];
    const nth = ipLayers.filter((l) => l === inner).length - 1;
    const pick = (v) => (v ?? '').split(',')[nth] ?? '';
    const first = (v) => (v ?? '').split(',')[0];
    const src = inner === 'ip' ? pick(ip4src) : pick(ip6src);
    const dst = inner === 'ip' ? pick(ip4dst) : pick(ip6dst);
    out.push(
      [
        kind,
        frame,
        src,
        dst,
        first(sport),
        first(dport),
        first(seq),
        first(ack),
        first(flags),
        first(len),
        first(win),
        CHECKSUM[first(checksum)] ?? '',
      ].join('\t'),
    );
  }
  return out;
}

function captureFiles() {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (CAPTURE_NAME.test(name)) files.push(path);
    }
  };
  walk(join(root, 'captures'));
  if (existsSync(wild)) walk(wild);
  return files;
}

function outputPath(file) {
  const rel = file.startsWith(wild) ? join('wild', relative(wild, file)) : relative(root, file);
  return join(outRoot, `${rel}.tsv.gz`);
}

const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => resolve(f)) : captureFiles();
const version = execFileSync('tshark', ['--version'], { encoding: 'utf8' }).split('\n')[0];
for (const file of files) {
  const { stdout, error } = tshark(file);
  const out = outputPath(file);
  mkdirSync(dirname(out), { recursive: true });
  const header = [`# ${version}; ${basename(file)}`, `# columns: kind frame src dst sport dport seq ack flags len window checksum`];
  if (error) header.push(`# tshark error: ${error}`);
  writeFileSync(out, gzipSync([...header, ...rows(stdout)].join('\n') + '\n', { level: 9 }));
  console.log(`${relative(root, out)}${error ? '  (tshark: ' + error.slice(0, 80) + ')' : ''}`);
}
