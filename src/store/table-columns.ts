/**
 * The pieces a table is declared with (tables.ts): columns that know their SQL
 * type, how their value is read from the record a row is written from, and how
 * the value crosses to the writer thread; groups of columns documented in one
 * sentence of docs/schema.md. A table made of them gives its DDL, its row of
 * values, and (with RowOf) the type the reader returns for it.
 */

/** How a value crosses to the writer thread in a RowBatch (row-batch.ts): number, string, or nanosecond time. */
export type Kind = 'n' | 's' | 't';

export interface Column<Record, Name extends string, Value> {
  readonly name: Name;
  readonly sql: string;
  readonly kind: Kind;
  /** The value written; null for a column SQLite fills itself (an INTEGER PRIMARY KEY left out of the INSERT). */
  readonly read: ((record: Record) => Value) | null;
}

export interface ColumnGroup<Record> {
  readonly doc: string;
  readonly columns: ReadonlyArray<Column<Record, string, unknown>>;
}

/** The reader's row for a table's columns: one property per column, typed as written. */
export type RowOf<C> = {
  [K in C as K extends Column<never, infer Name, unknown> ? Name : never]: K extends Column<never, string, infer Value> ? Value : never;
};

/** Column builders for rows written from a `Record`. */
export function columnsOf<Record>() {
  const make =
    (sql: string, kind: Kind) =>
    <Name extends string, Value>(name: Name, read: (record: Record) => Value): Column<Record, Name, Value> => ({ name, sql, kind, read });
  return {
    integer: make('INTEGER NOT NULL', 'n') as <N extends string>(name: N, read: (r: Record) => number) => Column<Record, N, number>,
    integerOrNull: make('INTEGER', 'n') as <N extends string>(
      name: N,
      read: (r: Record) => number | null,
    ) => Column<Record, N, number | null>,
    time: make('INTEGER NOT NULL', 't') as <N extends string>(name: N, read: (r: Record) => bigint) => Column<Record, N, bigint>,
    timeOrNull: make('INTEGER', 't') as <N extends string>(name: N, read: (r: Record) => bigint | null) => Column<Record, N, bigint | null>,
    text: make('TEXT NOT NULL', 's') as <N extends string, V extends string>(name: N, read: (r: Record) => V) => Column<Record, N, V>,
    textOrNull: make('TEXT', 's') as <N extends string, V extends string | null>(name: N, read: (r: Record) => V) => Column<Record, N, V>,
    /** Booleans are 0/1 integers. */
    flag: <N extends string>(name: N, read: (r: Record) => boolean): Column<Record, N, number> =>
      make('INTEGER NOT NULL', 'n')(name, (r: Record) => (read(r) ? 1 : 0)),
    /** The row id: written from the record, or (with no reader) numbered by SQLite. */
    rowId: <N extends string>(name: N, read: ((r: Record) => number) | null = null): Column<Record, N, number> => ({
      name,
      sql: 'INTEGER PRIMARY KEY',
      kind: 'n',
      read,
    }),
    group: <Columns extends ReadonlyArray<Column<Record, string, unknown>>>(doc: string, ...columns: Columns) => ({ doc, columns }),
    table: <Groups extends ReadonlyArray<{ readonly doc: string; readonly columns: ReadonlyArray<Column<Record, string, unknown>> }>>(
      name: string,
      groups: Groups,
      constraints: readonly string[] = [],
    ) => new Table<Record, Groups[number]['columns'][number]>(name, groups, constraints),
  };
}

/** A declared table: its name, its columns in order, and the table constraints after them. */
export class Table<Record, C extends Column<Record, string, unknown>> {
  readonly columns: readonly C[];
  /** The columns an INSERT writes, in order (all but those SQLite numbers itself). */
  readonly written: readonly C[];

  constructor(
    readonly name: string,
    readonly groups: ReadonlyArray<{ readonly doc: string; readonly columns: readonly C[] }>,
    private readonly constraints: readonly string[] = [],
  ) {
    this.columns = groups.flatMap((g) => g.columns);
    this.written = this.columns.filter((c) => c.read !== null);
  }

  get ddl(): string {
    const lines = [...this.columns.map((c) => `${c.name} ${c.sql}`), ...this.constraints];
    return `CREATE TABLE ${this.name} (\n${lines.map((line) => `  ${line}`).join(',\n')}\n);`;
  }

  /** INSERT of one row; `verb` may say what to do on a conflict (`INSERT OR IGNORE`). */
  insert(verb = 'INSERT'): string {
    return `${verb} INTO ${this.name} (${this.written.map((c) => c.name).join(', ')}) VALUES (${this.written.map(() => '?').join(',')})`;
  }

  /** The values of `record`'s row, in INSERT order. */
  values(record: Record): unknown[] {
    return this.written.map((c) => (c.read as (r: Record) => unknown)(record));
  }
}
