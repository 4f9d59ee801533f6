import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CAPTURES = join(ROOT, 'captures');
export const WILD = resolve(ROOT, '../shared/wild');
/** ../shared is beside a developer's checkout and CI's clone, not a user's. */
export const HAS_WILD = existsSync(WILD);
export const NO_WILD_MESSAGE = `skipped: ${WILD} is absent (it sits beside a flowstate checkout only in the project's own workspace)`;

/** The kernel lab's scenarios: each a capture in captures/ with the kernel's answer beside it (docs/lab.md). */
export const LAB_SCENARIOS = [
  'any-interface',
  'client-close',
  'close-wait-leak',
  'fin-wait1',
  'half-close',
  'ipv6',
  'keepalive',
  'last-ack',
  'many-short',
  'midstream',
  'pcapng',
  'port-reuse',
  'refused',
  'rst-abort-linger',
  'server-close',
  'simultaneous-close-closing',
  'simultaneous-close-time-wait',
  'simultaneous-open',
  'syn-flood',
  'syn-recv',
  'syn-sent',
  'zero-window',
];

/** The lab capture of `scenario` (pcap, or pcapng for the pcapng scenario). */
export function lab(scenario: string): string {
  for (const ext of ['.pcap', '.pcapng']) if (existsSync(join(CAPTURES, scenario + ext))) return join(CAPTURES, scenario + ext);
  throw new Error(`no lab capture ${scenario}`);
}

const CAPTURE_NAME = /\.(pcap|pcapng|snoop)(\.gz|\.zst)?$/;

/** Capture files below `dir`, sorted, recursively. */
export function listCaptures(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listCaptures(path));
    else if (CAPTURE_NAME.test(name)) out.push(path);
  }
  return out;
}
