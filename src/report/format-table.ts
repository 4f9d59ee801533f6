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

/** An aligned text table for people, its cells and header printable (terminalText). */
export function formatTable(header: readonly string[], rows: readonly (readonly Cell[])[], options: TableOptions = {}): string {
  const texts = rows.map((row) => row.map(cellText));
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
  const lines = [
    heads
      .map((h, i) => pad(h, i))
      .join('  ')
      .trimEnd(),
  ];
  texts.forEach((row, r) => {
    lines.push(
      row
        .map((text, i) => {
          const padded = pad(text, i);
          const colour = options.useColour ? options.colour?.(r, i, text) : undefined;
          return colour ? `${colour}${padded}\u001b[0m` : padded;
        })
        .join('  ')
        .trimEnd(),
    );
  });
  return lines.join('\n');
}

/** RFC 4180 CSV with a header line. */
export function formatCsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const quote = (value: Cell): string => {
    const text = value === null || value === undefined ? '' : typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [header, ...rows].map((row) => row.map(quote).join(',')).join('\n');
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
  return rows.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i] ?? null])));
}
