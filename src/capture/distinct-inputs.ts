import { statSync, type Stats } from 'node:fs';
import { fileHead } from './file-head.js';
import { UsageError } from '../errors.js';

/** Bytes compared from the start of two files of the same size: enough to hold different packets. */
const COMPARED_BYTES = 1 << 20;

/**
 * Refuses a capture given twice (the same file by two names, or two copies of it):
 * read as one capture, every packet would come twice and look like a retransmission.
 * Standard input and anything that is not a regular file cannot be compared and are let through.
 */
export function checkDistinctInputs(paths: readonly string[]): void {
  const seen: Array<{ path: string; stats: Stats }> = [];
  for (const path of paths) {
    if (path === '-') continue;
    let stats: Stats;
    try {
      stats = statSync(path);
    } catch {
      continue; // opening it says why, with the path
    }
    if (!stats.isFile()) continue;
    for (const earlier of seen) {
      if (earlier.stats.dev === stats.dev && earlier.stats.ino === stats.ino)
        throw new UsageError(`${earlier.path} and ${path} are the same file: give each capture once`);
      if (earlier.stats.size === stats.size && sameStart(earlier.path, path, stats.size))
        throw new UsageError(`${earlier.path} and ${path} hold the same capture (the same bytes): give each capture once`);
    }
    seen.push({ path, stats });
  }
}

function sameStart(a: string, b: string, size: number): boolean {
  const length = Math.min(size, COMPARED_BYTES);
  return fileHead(a, length).equals(fileHead(b, length));
}
