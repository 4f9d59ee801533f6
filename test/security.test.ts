// What flowstate does with inputs it does not trust (docs/security.md): a hand-made
// database, a user's SQL, text printed to a terminal. Each test is an attack
// that worked before the defence it names.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { lab } from './helpers/paths.js';
import { flowstate } from './helpers/run-cli.js';

let dir = '';
/** A database flowstate wrote, never changed: copy it before making it hostile. */
let pristine = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-security-'));
  pristine = join(dir, 'pristine.db');
  const run = await flowstate(['analyze', lab('close-wait-leak'), '--db', pristine, '--quiet']);
  expect(run.status, run.stderr).toBe(0);
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
