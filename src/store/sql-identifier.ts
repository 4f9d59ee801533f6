/**
 * The one way flowstate puts a name or a text into SQL it builds, for SQLite and
 * DuckDB alike (both follow the SQL standard here). Names come from our own
 * declarations (tables.ts, schema.ts), never from an input; these make even our
 * own names and paths safe to splice, whatever characters they hold.
 */

function refuseNul(text: string, what: string): void {
  // Both engines end a C string at NUL: what follows it would be read as SQL.
  if (text.includes('\u0000')) throw new RangeError(`${what} ${JSON.stringify(text)} holds a NUL character`);
}

/** An identifier in double quotes, a double quote inside it doubled: `a"b` → `"a""b"`. */
export function quoteIdentifier(name: string): string {
  refuseNul(name, 'SQL identifier');
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string literal (a path, a value) in single quotes, a single quote inside it doubled: `it's` → `'it''s'`. */
export function quoteString(text: string): string {
  refuseNul(text, 'SQL string');
  return `'${text.replaceAll("'", "''")}'`;
}
