// `export --format parquet`, read back by a real engine (DuckDB): the same rows,
// counts per state and per finding kind as the SQLite database; `query --parquet`.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DuckDBInstance } from '@duckdb/node-api';
import { lab } from './helpers/paths.js';
import { CANNED_REPORTS } from '../src/report/canned-reports.js';
import { flowstate, startFlowstate } from './helpers/run-cli.js';

let dir = '';
let db = '';
let parquet = '';
// Together they give every canned report rows to show.
const SET = [
  'many-short',
  'close-wait-leak',
  'syn-flood',
  'refused',
  'ipv6',
  'keepalive',
  'zero-window',
  'simultaneous-close-closing',
  'rst-abort-linger',
].map(lab);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-parquet-'));
  db = join(dir, 'set.db');
  parquet = join(dir, 'set-parquet');
  for (const args of [
    ['analyze', ...SET, '--db', db, '--quiet'],
    ['export', '--format', 'parquet', '--db', db, '--out', parquet],
  ]) {
    const run = await flowstate(args);
    expect(run.status, run.stderr).toBe(0);
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sqlite(sql: string): unknown[][] {
  const handle = new Database(db, { readonly: true });
  try {
    return handle.prepare(sql).raw(true).safeIntegers(true).all() as unknown[][];
  } finally {
    handle.close();
  }
}

async function duckdb(sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRows();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** What a DuckDB, Spark or Trino user writes: the dataset's directory, day partitions read as Hive's. */
const dataset = (name: string): string => `read_parquet('${join(parquet, name)}/**/*.parquet', hive_partitioning = true)`;
/** SQLite's integers as DuckDB's BIGINT reads them; SQLite has no boolean or date. */
const same = (rows: unknown[][]): unknown[][] => rows.map((row) => row.map((v) => (typeof v === 'number' ? BigInt(v) : v)));

describe('a Parquet export read by DuckDB', () => {
  test('one dataset a table, the day-split ones in day=YYYY-MM-DD directories', () => {
    expect(readdirSync(parquet).sort()).toEqual([
      '_flowstate_export.json',
      'captures',
      'findings',
      'flows',
      'listeners',
      'meta',
      'transitions',
    ]);
    for (const name of ['flows', 'transitions', 'findings'])
      for (const part of readdirSync(join(parquet, name))) expect(part).toMatch(/^day=\d{4}-\d\d-\d\d$/);
  });

  test('endpoints per end state and transitions per state, as in SQLite', async () => {
    for (const [sqliteSql, duckSql] of [
      [
        'SELECT client_state, server_state, COUNT(*) FROM flows GROUP BY 1, 2 ORDER BY 1, 2',
        `SELECT client_state, server_state, COUNT(*) FROM ${dataset('flows')} GROUP BY 1, 2 ORDER BY 1, 2`,
      ],
      [
        'SELECT endpoint, from_state, to_state, cause, COUNT(*) FROM transitions GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4',
        `SELECT endpoint, from_state, to_state, cause, COUNT(*) FROM ${dataset('transitions')} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
      ],
      [
        'SELECT kind, severity, COUNT(*) FROM findings GROUP BY 1, 2 ORDER BY 1, 2',
        `SELECT kind, severity, COUNT(*) FROM ${dataset('findings')} GROUP BY 1, 2 ORDER BY 1, 2`,
      ],
    ]) {
      const expected = sqlite(sqliteSql);
      expect(expected.length).toBeGreaterThan(2);
      expect(await duckdb(duckSql)).toEqual(same(expected));
    }
  });

  test('every row and column of every table', async () => {
    for (const [table, order] of [
      ['captures', 'id'],
      ['flows', 'id'],
      ['transitions', 'flow_id, id'],
      ['findings', 'id'],
      ['listeners', 'ip, port'],
      ['meta', 'key'],
    ]) {
      const columns = (sqlite(`SELECT name FROM pragma_table_info('${table}')`) as string[][]).map((r) => r[0]).join(', ');
      expect(await duckdb(`SELECT ${columns} FROM ${dataset(table)} ORDER BY ${order}`), table).toEqual(
        same(sqlite(`SELECT ${columns} FROM ${table} ORDER BY ${order}`)),
      );
    }
  });

  test('query --parquet answers as query --db does', async () => {
    const sql = "SELECT server_ip, server_port, COUNT(*) AS n FROM flows WHERE client_state = 'CLOSE_WAIT' GROUP BY 1, 2 ORDER BY 1, 2";
    const fromDb = await flowstate(['query', sql, '--db', db, '--format', 'csv']);
    const fromParquet = await flowstate(['query', sql, '--parquet', parquet, '--format', 'csv']);
    expect(fromParquet.status, fromParquet.stderr).toBe(0);
    expect(fromParquet.stdout).toBe(fromDb.stdout);
    expect(fromDb.stdout.split('\n').length).toBeGreaterThan(2);
  });

  test('an export replaces a previous one, refuses a directory that is something else, and says so', async () => {
    const again = await flowstate(['export', '--format', 'parquet', '--db', db, '--out', parquet]);
    expect(again.status, again.stderr).toBe(0);
    const other = join(dir, 'someone-elses');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'keep me');
    const refused = await flowstate(['export', '--format', 'parquet', '--db', db, '--out', other]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/exists and is not a flowstate Parquet export/);
    expect(readdirSync(other)).toEqual(['notes.txt']);
    const noOut = await flowstate(['export', '--format', 'parquet', '--db', db]);
    expect(noOut.status).toBe(2);
    const notExport = await flowstate(['query', 'SELECT 1', '--parquet', other]);
    expect(notExport.status).toBe(1);
    expect(notExport.stderr).toMatch(/not a flowstate Parquet export/);
  });
});

describe('several databases or exports at once', () => {
  test('query --db a --db b: each table gains a first column db; the answers are each database’s own', async () => {
    const other = join(dir, 'leak.db');
    const made = await flowstate(['analyze', lab('close-wait-leak'), '--db', other, '--quiet']);
    expect(made.status, made.stderr).toBe(0);
    const sql = "SELECT db, COUNT(*) AS n FROM transitions WHERE to_state = 'CLOSE_WAIT' GROUP BY db ORDER BY db";
    const both = await flowstate(['query', sql, '--db', db, '--db', other, '--format', 'json']);
    expect(both.status, both.stderr).toBe(0);
    const each = [db, other].map((path) => sqliteCount(path, "SELECT COUNT(*) FROM transitions WHERE to_state = 'CLOSE_WAIT'"));
    expect(JSON.parse(both.stdout)).toEqual([
      { db: 1, n: each[0] },
      { db: 2, n: each[1] },
    ]);
    const written = await flowstate(['query', 'DELETE FROM db1.flows RETURNING id', '--db', db, '--db', other]);
    expect(written.status).toBe(1);
    expect(sqliteCount(db, 'SELECT COUNT(*) FROM flows')).toBeGreaterThan(0);
    const tooMany = await flowstate(['query', 'SELECT 1', ...Array.from({ length: 11 }, () => ['--db', db]).flat()]);
    expect(tooMany.status).toBe(1);
    expect(tooMany.stderr).toMatch(/at most 10 databases .* --parquet/);
  });

  test('query --parquet a --parquet b answers as query --db a --db b', async () => {
    const otherDb = join(dir, 'refused.db');
    const otherParquet = join(dir, 'refused-parquet');
    for (const args of [
      ['analyze', lab('refused'), '--db', otherDb, '--quiet'],
      ['export', '--format', 'parquet', '--db', otherDb, '--out', otherParquet],
    ]) {
      const run = await flowstate(args);
      expect(run.status, run.stderr).toBe(0);
    }
    const sql = 'SELECT db, kind, COUNT(*) AS n FROM findings GROUP BY db, kind ORDER BY db, kind';
    const fromDb = await flowstate(['query', sql, '--db', db, '--db', otherDb, '--format', 'csv']);
    const fromParquet = await flowstate(['query', sql, '--parquet', parquet, '--parquet', otherParquet, '--format', 'csv']);
    expect(fromParquet.status, fromParquet.stderr).toBe(0);
    expect(fromParquet.stdout).toBe(fromDb.stdout);
    expect(fromDb.stdout).toMatch(/\n2,refused,1/);
  });
});

function sqliteCount(path: string, sql: string): number {
  const handle = new Database(path, { readonly: true });
  try {
    return handle.prepare(sql).pluck().get() as number;
  } finally {
    handle.close();
  }
}

describe('the canned reports over Parquet and over several databases', () => {
  test.each(CANNED_REPORTS.map((r) => r.name))('report %s --parquet prints what report %s --db prints', async (name) => {
    const fromDb = await flowstate(['report', name, '--db', db, '--format', 'csv']);
    const fromParquet = await flowstate(['report', name, '--parquet', parquet, '--format', 'csv']);
    expect(fromDb.status, fromDb.stderr).toBe(0);
    expect(fromParquet.status, fromParquet.stderr).toBe(0);
    expect(fromParquet.stdout).toBe(fromDb.stdout);
    expect(fromDb.stdout.trim().split('\n').length, 'the report has rows').toBeGreaterThan(1);
  });

  test('report --db a --db b: each database’s report in turn, its rows headed by db; --fail-on counts both', async () => {
    const other = join(dir, 'leak-only.db');
    expect((await flowstate(['analyze', lab('close-wait-leak'), '--db', other, '--quiet'])).status).toBe(0);
    const lines = async (args: string[]): Promise<string[]> => {
      const run = await flowstate([...args, '--format', 'csv']);
      expect(run.status, run.stderr).toBe(0);
      return run.stdout.trim().split('\n');
    };
    const [headA, ...a] = await lines(['report', 'close-wait', '--db', db]);
    const [, ...b] = await lines(['report', 'close-wait', '--db', other]);
    expect(await lines(['report', 'close-wait', '--db', db, '--db', other])).toEqual([
      `db,${headA}`,
      ...a.map((row) => `1,${row}`),
      ...b.map((row) => `2,${row}`),
    ]);
    const failing = await flowstate(['report', 'summary', '--db', other, '--db', db, '--fail-on', 'refused']);
    expect(failing.status).toBe(3);
    const failingParquet = await flowstate(['report', 'summary', '--parquet', parquet, '--fail-on', 'refused']);
    expect(failingParquet.status).toBe(3);
    expect(failingParquet.stdout).toMatch(/What helps:\n {2}[a-z-]+: /);
  });
});

describe('Parquet from the shards of a run', () => {
  test('export --db s0 --db s1 writes what the export of one run holds (transition and finding ids aside); a lone shard is refused', async () => {
    const shards = [0, 1].map((k) => join(dir, `set.${k}-of-2.db`));
    for (const [k, shard] of shards.entries()) {
      const run = await flowstate(['analyze', ...SET, '--db', shard, '--shard', `${k}/2`, '--quiet']);
      expect(run.status, run.stderr).toBe(0);
    }
    const fromShards = join(dir, 'from-shards-parquet');
    const exported = await flowstate(['export', '--format', 'parquet', '--db', shards[1], '--db', shards[0], '--out', fromShards]);
    expect(exported.status, exported.stderr).toBe(0);
    const read = (root: string, name: string): string => `read_parquet('${join(root, name)}/**/*.parquet', hive_partitioning = true)`;
    for (const [name, columns, order] of [
      ['flows', '*', 'id'],
      ['transitions', '* EXCLUDE (id)', 'flow_id, id'],
      ['findings', '* EXCLUDE (id)', 'kind, ts_ns, flow_id, host, port, message'],
      ['listeners', '*', 'ip, port'],
    ]) {
      const whole = await duckdb(`SELECT ${columns} FROM ${read(parquet, name)} ORDER BY ${order}`);
      expect(whole.length).toBeGreaterThan(0);
      expect(await duckdb(`SELECT ${columns} FROM ${read(fromShards, name)} ORDER BY ${order}`), name).toEqual(whole);
    }
    const lone = await flowstate(['export', '--format', 'parquet', '--db', shards[0], '--out', join(dir, 'lone')]);
    expect(lone.status).toBe(1);
    expect(lone.stderr).toMatch(/holds one shard .* give every shard/);
  });
});

describe('export --format parquet writes under the output guard: a lock, a uniquely named partial directory, nothing left behind', () => {
  let big = '';
  let work = '';
  beforeAll(() => {
    work = mkdtempSync(join(dir, 'guard-'));
    big = join(work, 'big.db');
    copyFileSync(db, big);
    // Every transition again 300 times over: an export that takes seconds, long enough to interrupt.
    const handle = new Database(big);
    handle.exec(
      `WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 300)
       INSERT INTO transition_rows SELECT t.flow_id, t.id + 1000000 * k.n, t.ts_ns + k.n, t.frame, t.code FROM transition_rows t, k`,
    );
    handle.close();
  });

  /** What an export into `out` may leave beside it: nothing but `out` itself. */
  const beside = (out: string): string[] => readdirSync(join(out, '..')).filter((name) => name.startsWith(`.${basename(out)}.`));
  const basename = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

  async function until(condition: () => boolean, what: string): Promise<void> {
    for (let waited = 0; !condition(); waited += 20) {
      if (waited > 60_000) throw new Error(`waited a minute for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  test.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s during an export leaves no partial directory, DuckDB file or lock',
    async (signal, code) => {
      const out = join(work, `interrupted-${signal}`);
      const child = startFlowstate(['export', '--format', 'parquet', '--db', big, '--out', out], work);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (status) => resolve(status)));
      // Interrupted while DuckDB writes: its database file exists beside the partial directory.
      await until(
        () => beside(out).some((name) => name.endsWith('.partial.scratch') && existsSync(join(out, '..', name, 'export.duckdb'))),
        'the export to start',
      );
      child.kill(signal);
      expect(await exited).toBe(code);
      expect(beside(out)).toEqual([]);
      expect(existsSync(out)).toBe(false);
    },
    90_000,
  );

  test('a partial directory, DuckDB files and a lock left by a dead run are swept by the next export', async () => {
    const out = join(work, 'swept');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(work, '.swept.lock'), `${JSON.stringify({ pid: dead, host: hostname() })}\n`);
    for (const stale of [`.swept.${dead}.partial`, '.swept.0123456789abcdef.partial']) {
      mkdirSync(join(work, stale, 'flows'), { recursive: true });
      writeFileSync(join(work, stale, 'flows', 'data_0.parquet'), 'half');
      writeFileSync(join(work, `${stale}.duckdb`), 'scratch');
      writeFileSync(join(work, `${stale}.duckdb.wal`), 'scratch');
    }
    // Not ours to sweep: another name's.
    writeFileSync(join(work, '.swept-notes.txt'), 'keep me');
    const done = await flowstate(['export', '--format', 'parquet', '--db', db, '--out', out]);
    expect(done.status, done.stderr).toBe(0);
    expect(beside(out)).toEqual([]);
    expect(existsSync(join(work, '.swept-notes.txt'))).toBe(true);
    expect(existsSync(join(out, '_flowstate_export.json'))).toBe(true);
  });

  test("a second export into the same --out while the first runs is refused with the first one's pid; the first completes", async () => {
    const out = join(work, 'contended');
    const first = startFlowstate(['export', '--format', 'parquet', '--db', big, '--out', out], work);
    const exited = new Promise<number | null>((resolve) => first.on('exit', (status) => resolve(status)));
    await until(() => beside(out).includes('.contended.lock'), 'the first export to take its lock');
    const second = await flowstate(['export', '--format', 'parquet', '--db', db, '--out', out]);
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`another flowstate run \\(pid ${first.pid}\\) is writing ${out}`));
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(await exited).toBe(0);
    expect(existsSync(join(out, '_flowstate_export.json'))).toBe(true);
    expect(beside(out)).toEqual([]);
  }, 90_000);

  test('an --out that holds the database read is refused, even an earlier export, and nothing is deleted', async () => {
    const out = join(work, 'holding');
    const first = await flowstate(['export', '--format', 'parquet', '--db', db, '--out', out]);
    expect(first.status, first.stderr).toBe(0);
    const inside = join(out, 'flows', 'kept.db');
    copyFileSync(db, inside);
    const refused = await flowstate(['export', '--format', 'parquet', '--db', inside, '--out', out]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/holds the input .*kept\.db of this run/);
    expect(existsSync(inside)).toBe(true);
    expect(beside(out)).toEqual([]);
    // Into the directory that holds the database, beside it: refused as any directory that is not an export.
    const beside_db = await flowstate(['export', '--format', 'parquet', '--db', inside, '--out', join(out, 'flows')]);
    expect(beside_db.status).toBe(2);
    expect(existsSync(inside)).toBe(true);
  });
});
