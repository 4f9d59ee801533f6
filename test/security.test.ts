// What flowstate does with inputs it does not trust (docs/security.md): a hand-made
// database, a user's SQL, text printed to a terminal. Each test is an attack
// that worked before the defence it names.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { declaredColumns } from '../src/store/schema-check.js';
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

  test('an error message quoting a path, an SQLite message or an option reaches stderr escaped', async () => {
    const attempts = [
      ['report', '--db', join(dir, `${hostile}.db`)],
      ['query', `SELECT "${hostile}" FROM flows`, '--db', pristine],
      ['query', 'SELECT 1', '--db', pristine, `--${hostile}`],
    ];
    for (const args of attempts) {
      const run = await flowstate(args, { tty: true });
      expect(run.status, args.join(' ')).not.toBe(0);
      expect(run.stderr, args.join(' ')).toContain('evil\\x1b]0;owned\\x07');
      expect(run.stderr.replaceAll('\n', ''), args.join(' ')).not.toMatch(ACTED_ON);
    }
  });
});

describe('hostile databases, generated: every command fails cleanly or succeeds, and writes only where it was told', () => {
  const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;
  const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;
  /** Names and texts an attacker would choose: quotes, statement ends, comments, newlines, escapes. */
  const nasty = fc.oneof(
    fc.constantFrom(`x"; DROP TABLE flows; --`, "a'b", 'semi;colon', 'new\nline', '\u001b]0;owned\u0007', 'ip', 'port', 'id'),
    fc.string({ unit: fc.constantFrom('"', "'", ';', '\n', '\u001b', '[', '(', ')', '-', 'x', ' ', '\u009b', '\u0007'), minLength: 1 }),
  );
  const TABLES = ['captures', 'flows', 'transition_rows', 'causes', 'findings', 'listeners', 'meta'] as const;
  const columns = (type: RegExp): Array<readonly [string, string]> =>
    TABLES.flatMap((t) =>
      declaredColumns(t)
        .filter((c) => type.test(c.type))
        .map((c) => [t, c.name] as const),
    );
  const set = ([t, column]: readonly [string, string], value: string): string => `UPDATE ${t} SET ${quote(column)} = ${value}`;
  /** One change to the pristine database, as SQL; one SQLite refuses (a constraint) leaves it as it was. */
  const change = fc.oneof(
    fc.tuple(fc.constantFrom(...TABLES), nasty).map(([t, name]) => `ALTER TABLE ${t} ADD COLUMN ${quote(name)} TEXT`),
    fc
      .tuple(fc.constantFrom(...columns(/TEXT/)), nasty)
      .map(([[t, column], name]) => `ALTER TABLE ${t} RENAME COLUMN ${quote(column)} TO ${quote(name)}`),
    fc.constantFrom('ALTER TABLE flows DROP COLUMN history', 'ALTER TABLE findings DROP COLUMN details', 'DROP VIEW transitions'),
    fc.tuple(fc.constantFrom(...columns(/TEXT/)), nasty).map(([column, text]) => set(column, literal(text))),
    // A megabyte of text where a few bytes are expected.
    fc.constantFrom(...columns(/TEXT/)).map((column) => set(column, "printf('%.*c', 1000000, 'x')")),
    fc
      .constantFrom(...columns(/INTEGER/))
      .chain((column) => fc.constantFrom('9223372036854775807', '-9223372036854775808', '0', '-1').map((v) => set(column, v))),
  );
  /** A NULL where the column is declared NOT NULL: the declaration lifted, the NULL written, the declaration put back. */
  const NULL_INTO = '-- NULL into ';
  function nullInto(path: string, table: string, column: string): void {
    const declared = (handle: Database.Database): string =>
      handle.prepare('SELECT sql FROM sqlite_master WHERE name = ?').pluck().get(table) as string;
    const rewrite = (handle: Database.Database, sql: string): void => {
      handle.unsafeMode(true);
      handle.pragma('writable_schema = ON');
      handle.prepare('UPDATE sqlite_master SET sql = ? WHERE name = ?').run(sql, table);
      handle.close();
    };
    let handle = new Database(path);
    const original = declared(handle);
    rewrite(handle, original.replace(new RegExp(`\\b${column} (\\w+) NOT NULL`), `${column} $1`));
    handle = new Database(path);
    try {
      handle.exec(`UPDATE ${table} SET ${quote(column)} = NULL`);
    } catch {
      // A key of a WITHOUT ROWID table stays NOT NULL whatever is declared: SQLite refuses it, as it would an attacker.
    } finally {
      rewrite(handle, original);
    }
  }
  /**
   * A value of another type than the column's, a NULL where NOT NULL is declared, a
   * finding's details that are not flowstate's JSON: export refuses them, query passes
   * them through, and report, flow, netstat, timeline and html read them clean or
   * refuse them in one line naming table, column and row.
   */
  const wrongType = fc.oneof(
    fc
      .tuple(fc.constantFrom(...columns(/./)), fc.constantFrom("'x'", "X'00ff'", '1.5', 'zeroblob(3)'))
      .map(([column, v]) => set(column, v)),
    fc.constantFrom(...columns(/NOT NULL/)).map(([t, column]) => `${NULL_INTO}${t}.${column}`),
    fc.constantFrom("'not json'", "'null'", `'{"flows": 5}'`, `'{"flows": ["x"]}'`, "'[1]'").map((v) => set(['findings', 'details'], v)),
  );

  async function hostileRun(changes: readonly string[], commands: (db: string, out: string) => string[][]): Promise<void> {
    const work = mkdtempSync(join(dir, 'fuzz-'));
    const db = join(work, 'in.db');
    copyFileSync(pristine, db);
    const handle = new Database(db);
    for (const sql of changes)
      try {
        if (!sql.startsWith(NULL_INTO)) handle.exec(sql);
      } catch {
        // A change SQLite refuses (NOT NULL, a column an index needs) is not one an attacker can make either.
      }
    handle.close();
    for (const sql of changes)
      if (sql.startsWith(NULL_INTO)) {
        const [table, column] = sql.slice(NULL_INTO.length).split('.');
        nullInto(db, table, column);
      }
    const out = join(work, 'out');
    const before = readdirSync(dir).sort();
    for (const args of commands(db, out)) {
      const run = await flowstate(args);
      expect(run.stderr, `${args.join(' ')} after ${changes.join('; ')}`).not.toMatch(/internal error|\n\s+at /);
    }
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readdirSync(work).filter((name) => name !== 'out' && name !== 'in.db' && name !== 'page.html')).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  }

  test('report, flow, netstat, timeline, export csv and parquet, query: no internal error, no file outside --out', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 3 }), (changes) =>
        hostileRun(changes, (db, out) => [
          ['report', '--db', db],
          ['flow', '1', '--db', db],
          ['netstat', '--all', '--db', db],
          ['timeline', '--db', db],
          ['export', '--format', 'csv', '--db', db],
          ['export', '--format', 'parquet', '--db', db, '--out', out],
          ['query', 'SELECT * FROM flows', '--db', db],
          ['query', 'SELECT * FROM findings', '--db', db, '--db', db],
        ]),
      ),
      { numRuns: 25 },
    );
  }, 120_000);

  test('a value of the wrong type: export, query, report, flow, netstat, timeline and html fail cleanly or succeed', async () => {
    await fc.assert(
      fc.asyncProperty(wrongType, (sql) =>
        hostileRun([sql], (db, out) => [
          ['export', '--format', 'csv', '--db', db],
          ['export', '--format', 'parquet', '--db', db, '--out', out],
          ['query', 'SELECT * FROM flows', '--db', db],
          ['report', '--db', db],
          ['flow', '1', '--db', db],
          ['flow', '1', '--db', db, '--json'],
          ['netstat', '--all', '--db', db],
          ['timeline', '--db', db],
          ['html', db, '--out', join(db, '..', 'page.html')],
        ]),
      ),
      { numRuns: 40 },
    );
  }, 240_000);

  test('each command names the table, column and row of a wrong value, in one line', async () => {
    const cases: Array<[string, string[], RegExp]> = [
      ["UPDATE flows SET first_ns = 'x' WHERE id = 3", ['flow', '3'], /flows\.first_ns holds text in the row with id 3/],
      ["UPDATE flows SET first_ns = 'x' WHERE id = 3", ['html'], /flows\.first_ns holds text in the row with id 3/],
      ["UPDATE captures SET last_ns = X'00ff'", ['netstat'], /captures\.last_ns holds a blob in the row with id 1/],
      ['UPDATE listeners SET first_ns = 1.5', ['timeline'], /listeners\.first_ns holds a real number in the row with ip "[^"]+", port \d+/],
      ["UPDATE findings SET details = 'not json' WHERE flow_id IS NULL", ['html'], /findings\.details of the row with id \d+ is not JSON/],
    ];
    for (const [sql, command, expected] of cases) {
      const db = crafted('named.db', sql);
      const args = command[0] === 'html' ? ['html', db, '--out', join(dir, 'named.html')] : [...command, '--db', db];
      const run = await flowstate(args);
      expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(1);
      expect(run.stderr).toMatch(expected);
      expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
    }
    const nulled = join(dir, 'nulled.db');
    copyFileSync(pristine, nulled);
    nullInto(nulled, 'flows', 'first_ns');
    const run = await flowstate(['flow', '2', '--db', nulled]);
    expect(run.stderr).toMatch(/flows\.first_ns holds NULL in the row with id 2, where flowstate writes INTEGER NOT NULL/);
  });
});
