// What flowstate does with inputs it does not trust (docs/security.md): a hand-made
// database, a user's SQL, text printed to a terminal. Each test is an attack
// that worked before the defence it names.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { lab } from './helpers/paths.js';
import { flowstate } from './helpers/run-cli.js';

let dir = '';
/** A database flowstate wrote, never changed: copy it before making it hostile. */
let pristine = '';
let parquet = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-security-'));
  pristine = join(dir, 'pristine.db');
  parquet = join(dir, 'pristine-parquet');
  for (const args of [
    ['analyze', lab('close-wait-leak'), '--db', pristine, '--quiet'],
    ['export', '--format', 'parquet', '--db', pristine, '--out', parquet],
  ]) {
    const run = await flowstate(args);
    expect(run.status, run.stderr).toBe(0);
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the pristine database, changed by `sql` (run as written: the attacker's own statements). */
function crafted(name: string, sql: string): string {
  const path = join(dir, name);
  copyFileSync(pristine, path);
  const db = new Database(path);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
  return path;
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A file's and its directory's state: the bytes, and which names sit beside it (no -wal, -shm or -journal appears). */
const stateOf = (path: string): { hash: string; beside: string[] } => ({
  hash: sha256(path),
  beside: readdirSync(join(path, '..')).sort(),
});

describe('a crafted database reaches no SQL: its names are checked against ours, never used', () => {
  test('export --format parquet refuses a listeners column whose name ends the statement and COPYs a file; nothing is written', async () => {
    const owned = join(dir, 'owned.txt');
    const name = `x" VARCHAR); COPY (SELECT 'owned') TO '${owned}'; CREATE TABLE z ("y`;
    const db = crafted('hostile-column.db', `ALTER TABLE listeners ADD COLUMN "${name.replaceAll('"', '""')}" TEXT`);
    const out = join(dir, 'hostile-out');
    const run = await flowstate(['export', '--format', 'parquet', '--db', db, '--out', out]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('listeners has a column "x\\" VARCHAR); COPY');
    expect(run.stderr).toContain('flowstate does not write');
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(existsSync(owned)).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  test('a renamed, a missing and a retyped column are each named in one line', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['renamed.db', 'ALTER TABLE flows RENAME COLUMN history TO "hist;ory"', /flows's column \d+ is "hist;ory", not history/],
      ['missing.db', 'ALTER TABLE meta DROP COLUMN value', /meta lacks column value/],
      [
        'retyped.db',
        'DROP TABLE listeners; CREATE TABLE listeners (ip TEXT NOT NULL, port TEXT, ip_version INTEGER NOT NULL, first_ns INTEGER NOT NULL, first_flow_id INTEGER NOT NULL)',
        /listeners\.port is declared "TEXT", not INTEGER NOT NULL/,
      ],
      ['no-view.db', 'DROP VIEW transitions; CREATE TABLE transitions (id INTEGER)', /transitions is a table, not a view/],
    ];
    for (const [name, sql, message] of cases) {
      const db = crafted(name, sql);
      for (const args of [
        ['report', '--db', db],
        ['query', 'SELECT 1', '--db', db],
      ]) {
        const run = await flowstate(args);
        expect(run.status, `${name}: ${args[0]}`).toBe(1);
        expect(run.stderr.trim().split('\n')).toHaveLength(1);
        expect(run.stderr).toMatch(message);
      }
    }
  });

  test('a value of the wrong type is refused by the export, naming its table, column and row', async () => {
    const db = crafted('wrong-type.db', "UPDATE flows SET client_port = 'eighty' WHERE id = 2");
    const out = join(dir, 'wrong-type-out');
    const run = await flowstate(['export', '--format', 'parquet', '--db', db, '--out', out]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/flows\.client_port holds text in row 2, where flowstate writes INTEGER NOT NULL/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('query over SQLite changes and creates no file', () => {
  test('PRAGMA journal_mode=WAL over one or several databases fails and leaves each file as it was', async () => {
    const a = join(dir, 'wal-a', 'a.db');
    const b = join(dir, 'wal-b', 'b.db');
    for (const path of [a, b]) {
      mkdirSync(join(path, '..'));
      copyFileSync(pristine, path);
    }
    const before = [stateOf(a), stateOf(b)];
    for (const args of [
      ['query', 'PRAGMA journal_mode=WAL', '--db', a, '--db', b],
      ['query', 'PRAGMA journal_mode=WAL', '--db', a],
      ['query', 'PRAGMA db2.journal_mode=WAL', '--db', a, '--db', b],
    ]) {
      const run = await flowstate(args);
      expect(run.status, args.join(' ')).toBe(1);
      expect(run.stderr).toMatch(/^flowstate: query opens databases read-only, and this statement would change one/);
    }
    expect([stateOf(a), stateOf(b)]).toEqual(before);
  });

  test('ATTACH of a new path creates nothing, over one database or several', async () => {
    const created = join(dir, 'attached.db');
    for (const dbs of [
      ['--db', pristine],
      ['--db', pristine, '--db', pristine],
    ]) {
      const run = await flowstate(['query', `ATTACH '${created}' AS x`, ...dbs]);
      expect(run.status).toBe(1);
      expect(existsSync(created)).toBe(false);
    }
  });
});

describe('query --parquet reads the exports given and nothing else', () => {
  const attacks: Array<[string, RegExp]> = [
    ["SELECT * FROM read_csv('/etc/passwd')", /Permission Error/],
    ["SELECT * FROM read_text('/etc/hostname')", /Permission Error/],
    ["SELECT * FROM glob('/root/**')", /Permission Error/],
    [`SELECT * FROM read_parquet('${'PARQUET'}/../pristine.db')`, /Permission Error/],
    ["COPY (SELECT 'owned') TO 'OUTSIDE/owned.csv'", /Permission Error|read-only/],
    ["COPY (SELECT 'owned') TO 'PARQUET/owned.csv'", /read-only/],
    ["ATTACH 'OUTSIDE/owned.duckdb' AS x", /read-only/],
    ['SELECT 1; SELECT 2', /runs one statement, and this SQL holds 2/],
    ['INSTALL httpfs', /read-only/],
    ['SET enable_external_access = true', /read-only/],
  ];
  for (const [template, message] of attacks)
    test(`refuses ${template}`, async () => {
      const before = readdirSync(parquet, { recursive: true }).sort();
      const beside = readdirSync(dir).sort();
      const sql = template.replaceAll('PARQUET', parquet).replaceAll('OUTSIDE', dir);
      const run = await flowstate(['query', sql, '--parquet', parquet]);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(readdirSync(parquet, { recursive: true }).sort()).toEqual(before);
      expect(readdirSync(dir).sort()).toEqual(beside);
    });

  test('and still answers a query over them', async () => {
    const sql = "SELECT COUNT(*) AS n FROM flows WHERE client_state = 'CLOSE_WAIT'";
    const run = await flowstate(['query', sql, '--parquet', parquet, '--format', 'csv']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('n\n20\n');
  });
});

describe('text from a database is printed to a terminal escaped, and as stored in JSON and CSV', () => {
  /** A window title (OSC), a screen clear, a carriage return that hides what came before, a one-byte CSI. */
  const hostile = 'evil\u001b]0;owned\u0007\u001b[2J\rfake\u009b31m';
  const ACTED_ON = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

  test('report, flow, netstat, timeline and query tables escape it; query --format json|csv give it back exactly', async () => {
    const db = crafted(
      'escapes.db',
      `UPDATE findings SET message = '${hostile}', kind = '${hostile}';
       UPDATE flows SET history = '${hostile}', client_ip = '${hostile}' WHERE id = 1;
       UPDATE captures SET path = '${hostile}', warnings = '${hostile}';`,
    );
    for (const args of [
      ['report', '--db', db],
      ['report', 'summary', '--db', db],
      ['flow', '1', '--db', db],
      ['netstat', '--all', '--db', db],
      ['timeline', '--db', db],
      ['query', 'SELECT message, kind FROM findings', '--db', db],
    ]) {
      const run = await flowstate(args, { tty: true });
      expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(0);
      expect(run.stdout.replaceAll(/\u001b\[[0-9;]*m/g, ''), args.join(' ')).not.toMatch(ACTED_ON);
    }
    const shown = await flowstate(['query', 'SELECT message FROM findings', '--db', db]);
    expect(shown.stdout).toContain('evil\\x1b]0;owned\\x07\\x1b[2J\\x0dfake\\x9b31m');
    const json = await flowstate(['query', 'SELECT message FROM findings', '--db', db, '--format', 'json']);
    expect(JSON.parse(json.stdout)).toEqual([{ message: hostile }]);
    const csv = await flowstate(['query', 'SELECT message FROM findings', '--db', db, '--format', 'csv']);
    expect(csv.stdout).toBe(`message\n"${hostile}"\n`);
  });
});
