import { closeSync, openSync, readSync } from 'node:fs';

/** The first `length` bytes of a file (fewer when it is shorter): enough to tell what it is. */
export function fileHead(path: string, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const bytes = Buffer.alloc(length);
    return bytes.subarray(0, readSync(fd, bytes, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}
