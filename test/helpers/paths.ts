import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CAPTURES = join(ROOT, 'captures');
export const WILD = resolve(ROOT, '../shared/wild');
/** ../shared is beside a developer's checkout and CI's clone, not a user's. */
export const HAS_WILD = existsSync(WILD);
export const NO_WILD_MESSAGE = `skipped: ${WILD} is absent (it sits beside a flowstate checkout only in the project's own workspace)`;

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
