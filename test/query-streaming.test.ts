// query writes rows as SQLite and DuckDB yield them, not after gathering them all
// (issue 28: a recursive CTE took 3 GiB). What it holds is bounded by a look-ahead
// for table widths, a batch and an output chunk; a slow reader holds the query back.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { run } from '../src/cli/program.js';
import { OUTPUT_CHUNK_CHARS, TABLE_LOOKAHEAD_ROWS } from '../src/cli/commands/query.js';
import { lab } from './helpers/paths.js';
import { CLI, flowstate } from './helpers/run-cli.js';

let dir = '';
let db = '';
let parquet = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-query-streaming-'));
  db = join(dir, 'lab.db');
  parquet = join(dir, 'lab-parquet');
  for (const args of [
    ['analyze', lab('close-wait-leak'), '--db', db, '--quiet'],
    ['export', '--format', 'parquet', '--db', db, '--out', parquet],
  ]) {
    const done = await flowstate(args);
    expect(done.status, done.stderr).toBe(0);
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** n rows of (i, i * 2, 'row ' || i), made by SQLite with no table behind them. */
const counting = (n: number, last = 'i'): string =>
  `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n}) SELECT ${last} AS i, i * 2 AS twice, 'row ' || i AS label FROM n`;

describe('query streams its rows', () => {
  test('3 million rows of a recursive CTE as CSV into a file: every row, in a bounded memory', () => {
    const rows = 3_000_000;
    const out = join(dir, 'rows.csv');
    // The child reports its own peak resident memory as it exits.
    const probe = join(dir, 'report-rss.mjs');
    writeFileSync(probe, "process.on('exit', () => process.stderr.write(`maxrss_kb=${process.resourceUsage().maxRSS}\\n`));\n");
    const fd = openSync(out, 'w');
    let child;
    try {
      child = spawnSync(process.execPath, ['--import', probe, CLI, 'query', counting(rows), '--db', db, '--format', 'csv'], {
        stdio: ['ignore', fd, 'pipe'],
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
    } finally {
      closeSync(fd);
    }
    expect(child.status, child.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.startsWith('i,twice,label\n1,2,row 1\n2,4,row 2\n')).toBe(true);
    expect(text.endsWith(`\n${rows},${rows * 2},row ${rows}\n`)).toBe(true);
    let lines = 0;
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines++;
    expect(lines).toBe(rows + 1);
    // Gathering every row took 1.5 GB (docs/benchmarks.md); streaming about 115 MB. A bound far
    // from both: what grows with the rows would pass it, a busier machine would not reach it.
    const rss = Number(/maxrss_kb=(\d+)/.exec(child.stderr)?.[1]);
    expect(rss).toBeGreaterThan(0);
    expect(rss).toBeLessThan(600 * 1024);
  }, 180_000);

  test('JSON of more rows than a batch is one array of every row; no rows is []', async () => {
    const many = await flowstate(['query', counting(2500), '--db', db, '--format', 'json']);
    expect(many.status, many.stderr).toBe(0);
    const parsed = JSON.parse(many.stdout) as Array<{ i: number; twice: number; label: string }>;
    expect(parsed).toHaveLength(2500);
    expect(parsed[2499]).toEqual({ i: 2500, twice: 5000, label: 'row 2500' });
    const none = await flowstate(['query', 'SELECT id FROM flows WHERE 0', '--db', db, '--format', 'json']);
    expect(none.stdout).toBe('[]\n');
    const noneCsv = await flowstate(['query', 'SELECT id FROM flows WHERE 0', '--db', db, '--format', 'csv']);
    expect(noneCsv.stdout).toBe('id\n');
  });

  test(`a table sizes its columns from the first ${TABLE_LOOKAHEAD_ROWS} rows; a wider cell later is written whole`, async () => {
    const n = TABLE_LOOKAHEAD_ROWS + 500;
    const wide = 'x'.repeat(40);
    const sql = counting(n, `CASE WHEN i = ${n - 10} THEN '${wide}' ELSE i END`);
    const table = await flowstate(['query', sql, '--db', db]);
    expect(table.status, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(n + 1);
    // The first rows set the width: four digits, right-aligned (all numbers there).
    expect(lines[0]).toMatch(/^ {3}i {2}twice {2}label$/);
    expect(lines[1]).toBe('   1      2  row 1');
    expect(lines[n - 10]).toBe(`${wide}  ${String((n - 10) * 2).padStart(5)}  row ${n - 10}`);
    // Up to the look-ahead, the table is the one every row would give.
    const small = await flowstate(['query', counting(12), '--db', db]);
    expect(small.stdout.split('\n')[0]).toBe(' i  twice  label');
  });

  test('over Parquet, DuckDB chunk by chunk: every row, as SQLite gives the same rows', async () => {
    const sql = "SELECT i, i * 2 AS twice, 'row ' || i AS label FROM range(1, 10001) t(i)";
    const duck = await flowstate(['query', sql, '--parquet', parquet, '--format', 'csv']);
    expect(duck.status, duck.stderr).toBe(0);
    const sqlite = await flowstate(['query', counting(10_000), '--db', db, '--format', 'csv']);
    expect(duck.stdout).toBe(sqlite.stdout);
  });

  test('an error after rows were written ends the run with exit 1 and one clean message', async () => {
    const sql = counting(30_000, 'CASE WHEN i = 20000 THEN abs(-9223372036854775807 - 1) ELSE i END');
    const failed = await flowstate(['query', sql, '--db', db, '--format', 'csv']);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/^flowstate: integer overflow/);
    expect(failed.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(failed.stdout.split('\n').length).toBeGreaterThan(1000);
  });
});

describe('a slow reader holds the query back', () => {
  test('rows are written only as the output drains: Node buffers a chunk or two, not the result', async () => {
    let buffered = 0;
    let written = '';
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      decodeStrings: false,
      write(chunk: string, _encoding, done) {
        written += chunk;
        setTimeout(done, 2);
      },
    });
    const write = slow.write.bind(slow);
    slow.write = ((chunk: string) => {
      const ok = write(chunk);
      buffered = Math.max(buffered, slow.writableLength);
      return ok;
    }) as typeof slow.write;
    const rows = 200_000;
    const status = await run(['query', counting(rows), '--db', db, '--format', 'csv'], {
      stdout: slow,
      stderr: { write: () => true },
      stdin: Readable.from([]),
      isTTY: { stdout: false, stderr: false },
      env: { NO_COLOR: '1' },
      onInterrupt: () => () => undefined,
    });
    await new Promise<void>((resolve) => slow.end(resolve));
    expect(status).toBe(0);
    expect(written.length).toBeGreaterThan(20 * OUTPUT_CHUNK_CHARS);
    expect(written.endsWith(`\n${rows},${rows * 2},row ${rows}\n`)).toBe(true);
    // Ignoring 'drain' would leave the whole output (megabytes) in the stream's buffer.
    expect(buffered).toBeLessThan(3 * OUTPUT_CHUNK_CHARS);
  }, 60_000);
});
