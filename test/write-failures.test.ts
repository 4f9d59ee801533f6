// Every write is checked: output lost to a full disk is exit 1 with the path and the
// reason, never exit 0 and never a stack trace, and no partial file stays behind.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURES } from './helpers/paths.js';
import { CLI, flowstate } from './helpers/run-cli.js';

const LEAK = join(CAPTURES, 'close-wait-leak.pcap');
let dir = '';
let db = '';
/** A 64 KiB file system, too small for any database or page: a full disk on demand (root only). */
let full = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-write-failures-'));
  db = join(dir, 'leak.db');
  expect((await flowstate(['analyze', LEAK, '--db', db, '--quiet'])).status).toBe(0);
  const mountPoint = join(dir, 'full');
  mkdirSync(mountPoint);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]).status === 0) full = mountPoint;
});
afterAll(() => {
  if (full !== '') spawnSync('umount', [full]);
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the built bin with standard output going to `/dev/full`. */
function toDevFull(args: string[]): { status: number | null; stderr: string } {
  const fd = openSync('/dev/full', 'w');
  try {
    const child = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    return { status: child.status, stderr: child.stderr };
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!existsSync('/dev/full'))('standard output that cannot be written', () => {
  for (const args of [
    ['query', 'SELECT * FROM flows', '--db'],
    ['export', '--format', 'csv', '--db'],
    ['timeline'],
    ['report', 'close-wait', '--db'],
  ]) {
    test(`${args[0]} into /dev/full exits 1 and says why`, () => {
      const run = toDevFull([...args, db]);
      expect(run.status).toBe(1);
      expect(run.stderr).toBe('flowstate: cannot write to standard output: no space left on the device\n');
    });
  }

  test('analyze --json into /dev/full exits 1, though the database was written', () => {
    const run = toDevFull(['analyze', LEAK, '--db', join(dir, 'json.db'), '--json']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('cannot write to standard output');
  });
});

describe('a full disk', () => {
  test('analyze with --threads 1 and 2: a message naming the database, no stack trace, no file left', (context) => {
    if (full === '') context.skip('needs root to mount a small tmpfs');
    for (const threads of ['1', '2']) {
      const target = join(full, `x${threads}.db`);
      const run = spawnSync(process.execPath, [CLI, 'analyze', join(CAPTURES, 'many-short.pcap'), '--db', target, '--threads', threads], {
        encoding: 'utf8',
      });
      expect(run.status, threads).toBe(1);
      expect(run.stderr).toBe(`flowstate: cannot write ${target}: database or disk is full\n`);
    }
    expect(readdirSync(full)).toEqual([]);
  });

  test('html --out and export -o: exit 1 with the path and the reason, no partial file', async (context) => {
    if (full === '') context.skip('needs root to mount a small tmpfs');
    const page = join(full, 'page.html');
    const html = await flowstate(['html', db, '--out', page]);
    expect(html.status).toBe(1);
    expect(html.stderr).toBe(`flowstate: cannot write ${page}: no space left on the device\n`);
    const many = join(dir, 'many.db');
    expect((await flowstate(['analyze', join(CAPTURES, 'many-short.pcap'), '--db', many, '--quiet'])).status).toBe(0);
    const csv = join(full, 'flows.csv');
    const exported = await flowstate(['export', '--format', 'json', '--db', many, '-o', csv]);
    expect(exported.status).toBe(1);
    expect(exported.stderr).toBe(`flowstate: cannot write ${csv}: no space left on the device\n`);
    expect(readdirSync(full)).toEqual([]);
  });
});
