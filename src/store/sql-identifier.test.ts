import { DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { quoteIdentifier, quoteString } from './sql-identifier.js';

/** Names an attacker would choose: quotes of both kinds, statement ends, comments, newlines, control characters. */
const hostile = fc.oneof(
  fc.string({ unit: fc.constantFrom('"', "'", ';', '-', '/', '*', '\n', '\r', '\u001b', ' ', 'a', ')', '(', '`', '[', ']', '\\', 'é') }),
  fc.string({ unit: 'binary' }).map((s) => s.replaceAll('\u0000', '')),
);

describe('quoteIdentifier and quoteString', () => {
  test('quote by doubling', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(quoteString("it's")).toBe("'it''s'");
  });

  test('refuse a NUL, which would end the SQL text inside the engine', () => {
    expect(() => quoteIdentifier('a\u0000b')).toThrow(RangeError);
    expect(() => quoteString('a\u0000b')).toThrow(RangeError);
  });

  test('SQLite reads back exactly the name and the text quoted, as one statement', () => {
    const db = new Database(':memory:');
    try {
      fc.assert(
        fc.property(hostile, hostile, (name, text) => {
          // prepare() refuses more than one statement: the quoted text ends nowhere but at its quote.
          const row = db
            .prepare(`SELECT ${quoteString(text)} AS ${quoteIdentifier(name)}`)
            .raw(true)
            .get() as unknown[];
          expect(row).toEqual([text]);
          expect(db.prepare(`SELECT ${quoteString(text)} AS ${quoteIdentifier(name)}`).columns()[0].name).toBe(name);
        }),
        { numRuns: 300 },
      );
    } finally {
      db.close();
    }
  });

  test('DuckDB reads back exactly the name and the text quoted, as one statement', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const duck = await instance.connect();
    try {
      await fc.assert(
        fc.asyncProperty(hostile, hostile, async (name, text) => {
          const sql = `SELECT ${quoteString(text)} AS ${quoteIdentifier(name === '' ? 'x' : name)}`;
          expect((await duck.extractStatements(sql)).count).toBe(1);
          const result = await duck.runAndReadAll(sql);
          expect(result.getRows()).toEqual([[text]]);
          expect(result.columnNames()).toEqual([name === '' ? 'x' : name]);
        }),
        { numRuns: 150 },
      );
    } finally {
      duck.closeSync();
      instance.closeSync();
    }
  });
});
