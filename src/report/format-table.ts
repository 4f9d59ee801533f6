/** A cell as the database or a report gives it. */
export type Cell = string | number | bigint | boolean | null | undefined;

export interface TableOptions {
  /** Columns aligned to the right (numbers). Defaults to columns whose values are all numeric. */
  rightAligned?: ReadonlySet<number>;
  /** ANSI colour for a cell, or undefined; only used when colour is on. */
  colour?: (row: number, column: number, value: string) => string | undefined;
  useColour?: boolean;
}

/**
 * Characters a terminal acts on rather than shows: C0 controls (ESC starts the
 * sequences that recolour, move the cursor, retitle the window or write to the
 * clipboard), DEL, C1 controls (CSI and OSC in one byte), and the bidirectional
 * overrides that make text read in another order than it is stored.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same with line feed and tab, which break a table's cell into the next column or row. */
// eslint-disable-next-line no-control-regex -- as above
const CONTROLS_IN_A_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const escaped = (c: string): string => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
};

/**
 * Text from an input (a database, a capture, a query) made safe to print on a
 * terminal: every control character written as a visible escape (`\x1b`), so a
 * hand-made database cannot drive the terminal. Line feeds and tabs are kept
 * unless `oneLine`. JSON and CSV output is left faithful: this is for people.
 */
export function terminalText(text: string, oneLine = false): string {
  return text.replace(oneLine ? CONTROLS_IN_A_LINE : CONTROLS, escaped);
}

const cellText = (value: Cell): string =>
  terminalText(value === null || value === undefined ? '' : typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value), true);

const isNumeric = (value: Cell): boolean => typeof value === 'number' || typeof value === 'bigint';

/**
 * How a table lays its rows out: column widths and alignment fixed from the rows it
 * was made from. `formatTable` makes it from every row; a stream (`query`) from its
 * first rows only, and a later cell wider than its column is written whole, pushing
 * the rest of its line to the right (never cut: the value is what was asked for).
 */
export interface TableLayout {
  header: string;
  /** Row number `r` (0-based, for the colour callback) as one line. */
  line(row: readonly Cell[], r: number): string;
}

export function tableLayout(header: readonly string[], rows: readonly (readonly Cell[])[], options: TableOptions = {}): TableLayout {
  return layoutOf(
    header,
    rows,
    rows.map((row) => row.map(cellText)),
    options,
  ).layout;
}

function layoutOf(
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
  texts: readonly string[][],
  options: TableOptions,
): { layout: TableLayout; lineOfTexts: (row: readonly string[], r: number) => string } {
  // A loop, not Math.max(...rows): a netstat of a busy server has hundreds of thousands of rows.
  const heads = header.map((h) => terminalText(h, true));
  const widths = heads.map((h) => h.length);
  for (const row of texts) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i], row[i]?.length ?? 0);
  const right =
    options.rightAligned ??
    new Set(
      header.map((_, i) => i).filter((i) => rows.length > 0 && rows.every((r) => r[i] === null || r[i] === undefined || isNumeric(r[i]))),
    );
  const pad = (text: string, i: number): string => (right.has(i) ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const lineOfTexts = (row: readonly string[], r: number): string =>
    row
      .map((text, i) => {
        const padded = pad(text, i);
        const colour = options.useColour ? options.colour?.(r, i, text) : undefined;
        return colour ? `${colour}${padded}\u001b[0m` : padded;
      })
      .join('  ')
      .trimEnd();
  const headerLine = heads
    .map((h, i) => pad(h, i))
    .join('  ')
    .trimEnd();
  return { layout: { header: headerLine, line: (row, r) => lineOfTexts(row.map(cellText), r) }, lineOfTexts };
}

/** An aligned text table for people, its cells and header printable (terminalText). */
export function formatTable(header: readonly string[], rows: readonly (readonly Cell[])[], options: TableOptions = {}): string {
  const texts = rows.map((row) => row.map(cellText));
  const { layout, lineOfTexts } = layoutOf(header, rows, texts, options);
  const lines = [layout.header];
  texts.forEach((row, r) => lines.push(lineOfTexts(row, r)));
  return lines.join('\n');
}

/** One RFC 4180 CSV line (no line ending). */
export function csvLine(row: readonly Cell[]): string {
  return row
    .map((value) => {
      const text = value === null || value === undefined ? '' : typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
      return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    })
    .join(',');
}

/** RFC 4180 CSV with a header line. */
export function formatCsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [header, ...rows].map(csvLine).join('\n');
}

const BIGINT_MARK = '\u0000bigint:';

/**
 * JSON with 64-bit integers written exactly (nanosecond times exceed 2^53): a
 * bigint becomes a plain JSON number with all its digits.
 */
export function toJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${BIGINT_MARK}${v}` : v), indent);
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

/** Rows as an array of objects keyed by column name. */
export function rowsToObjects(header: readonly string[], rows: readonly (readonly Cell[])[]): Array<Record<string, Cell>> {
  return rows.map((row) => rowToObject(header, row));
}

function rowToObject(header: readonly string[], row: readonly Cell[]): Record<string, Cell> {
  return Object.fromEntries(header.map((h, i) => [h, row[i] ?? null]));
}

/**
 * One row as an element of the array `toJson(rowsToObjects(header, rows), 2)` writes:
 * indented as it would be there, without the comma. A stream writes `[`, these
 * joined by `,` and line feeds, and `]`, and gets the same text.
 */
export function jsonArrayElement(header: readonly string[], row: readonly Cell[]): string {
  // JSON escapes a line feed inside a string: every line feed here is layout.
  return `  ${toJson(rowToObject(header, row), 2).replaceAll('\n', '\n  ')}`;
}
