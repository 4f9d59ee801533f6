import { createHash } from 'node:crypto';
import { statSync, type Stats } from 'node:fs';
import { UsageError } from '../errors.js';
import { fileHead } from './file-head.js';

/** Bytes hashed from the start of each file: the header and the first packets, which two different captures never share. */
const COMPARED_BYTES = 64 << 10;

/**
 * Refuses a capture given twice (the same file by two names, or two copies of it):
 * read as one capture, every packet would come twice and look like a retransmission.
 * Each file is stat'ed and its head hashed once, so many files cost one small read each.
 * Standard input and anything that is not a regular file cannot be compared and are let through.
 */
export function checkDistinctInputs(paths: readonly string[]): void {
  const byInode = new Map<string, string>();
  const bySize = new Map<number, string[]>();
  for (const path of paths) {
    if (path === '-') continue;
    let stats: Stats;
    try {
      stats = statSync(path);
    } catch {
      continue; // opening it says why, with the path
    }
    if (!stats.isFile()) continue;
    const inode = `${stats.dev}:${stats.ino}`;
    const earlier = byInode.get(inode);
    if (earlier !== undefined) throw new UsageError(`${earlier} and ${path} are the same file: give each capture once`);
    byInode.set(inode, path);
    bySize.set(stats.size, [...(bySize.get(stats.size) ?? []), path]);
  }
  for (const [size, samePaths] of bySize) {
    if (samePaths.length < 2) continue;
    const byHead = new Map<string, string>();
    for (const path of samePaths) {
      const digest = createHash('sha256')
        .update(fileHead(path, Math.min(size, COMPARED_BYTES)))
        .digest('hex');
      const copy = byHead.get(digest);
      if (copy !== undefined) throw new UsageError(`${copy} and ${path} hold the same capture (the same bytes): give each capture once`);
      byHead.set(digest, path);
    }
  }
}
