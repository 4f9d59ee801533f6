/**
 * Rows on their way to the writer thread, in three flat arrays instead of an
 * array per row: numbers in a transferable Float64Array (NaN for NULL), strings in
 * one array, nanosecond times in a BigInt64Array. Cloning rows this way costs
 * less than half as much as arrays of rows (docs/design-choices.md),
 * and no row lives long enough on the tracking thread to reach the old
 * generation of its heap.
 *
 * `columns` spells each row's columns in order: `n` number, `s` string, `t` time.
 */
export interface RowBatch {
  columns: string;
  count: number;
  numbers: Float64Array;
  strings: Array<string | null>;
  times: BigInt64Array;
}

/** Fills one RowBatch at a time, column by column in the order `columns` spells. */
export class RowBatchBuilder {
  private readonly numbersPerRow: number;
  private readonly timesPerRow: number;
  private batch: RowBatch;
  private numberAt = 0;
  private timeAt = 0;

  constructor(
    readonly columns: string,
    readonly capacity: number,
  ) {
    this.numbersPerRow = countOf(columns, 'n');
    this.timesPerRow = countOf(columns, 't');
    this.batch = this.empty();
  }

  get count(): number {
    return this.batch.count;
  }

  number(value: number | null): void {
    this.batch.numbers[this.numberAt++] = value ?? NaN;
  }

  string(value: string | null): void {
    this.batch.strings.push(value);
  }

  time(value: bigint): void {
    this.batch.times[this.timeAt++] = value;
  }

  /** Ends a row; true when the batch is full. */
  endRow(): boolean {
    return ++this.batch.count === this.capacity;
  }

  /** The rows so far, handed over; the builder starts a new batch. */
  take(): RowBatch {
    const full = this.batch;
    this.batch = this.empty();
    this.numberAt = this.timeAt = 0;
    return full;
  }

  private empty(): RowBatch {
    return {
      columns: this.columns,
      count: 0,
      numbers: new Float64Array(this.capacity * this.numbersPerRow),
      strings: [],
      times: new BigInt64Array(this.capacity * this.timesPerRow),
    };
  }
}

/**
 * Values for multi-row statements: `count` rows of `width` values, `rowsPerGroup`
 * rows a group, the last group holding what is left. `write(values, at, taken)`
 * puts the `taken`-th row's values at `at`. One array serves every full group (bind
 * it before asking for the next), a shorter one the last.
 */
export function* valueGroups<T>(
  count: number,
  rowsPerGroup: number,
  width: number,
  write: (values: T[], at: number, taken: number) => void,
): Generator<T[]> {
  let values = new Array<T>(width * Math.min(rowsPerGroup, count));
  let at = 0;
  for (let taken = 0; taken < count; taken++) {
    if (at === values.length) {
      yield values;
      at = 0;
      const left = count - taken;
      if (left < rowsPerGroup) values = new Array<T>(width * left);
    }
    write(values, at, taken);
    at += width;
  }
  if (at > 0) yield values;
}

/**
 * The rows of `batch` as the values to bind, `rowsPerGroup` rows at a time in
 * column order (for a multi-row INSERT; see valueGroups). `order` lists the rows
 * to take, by index; all of them in turn without it.
 */
export function rowValues(batch: RowBatch, rowsPerGroup = 1, order?: ArrayLike<number>): Generator<unknown[]> {
  const { columns, numbers, strings, times } = batch;
  const width = columns.length;
  const numbersPerRow = countOf(columns, 'n');
  const stringsPerRow = countOf(columns, 's');
  const timesPerRow = countOf(columns, 't');
  return valueGroups<unknown>(batch.count, rowsPerGroup, width, (values, at, taken) => {
    const row = order === undefined ? taken : order[taken];
    let numberAt = row * numbersPerRow;
    let stringAt = row * stringsPerRow;
    let timeAt = row * timesPerRow;
    for (let column = 0; column < width; column++) {
      const kind = columns.charCodeAt(column);
      if (kind === N) {
        const value = numbers[numberAt++];
        values[at++] = Number.isNaN(value) ? null : value;
      } else if (kind === S) values[at++] = strings[stringAt++];
      else values[at++] = times[timeAt++];
    }
  });
}

/**
 * Row indexes 0…count-1 ordered by `key` (a whole number below 2^40), ties kept in
 * row order. Key and row are packed into one number so that the native numeric sort
 * of a Float64Array does the work: several times faster than a comparator.
 */
export function rowsByKey(count: number, key: (row: number) => number): Uint32Array {
  let scale = 1;
  while (scale < count) scale *= 2;
  const packed = new Float64Array(count);
  for (let row = 0; row < count; row++) packed[row] = key(row) * scale + row;
  packed.sort();
  const rows = new Uint32Array(count);
  for (let i = 0; i < count; i++) rows[i] = packed[i] % scale;
  return rows;
}

/** The batch's row indexes ordered by each row's first number (a key such as the flow id). */
export function rowsByFirstNumber(batch: RowBatch): Uint32Array {
  const numbersPerRow = countOf(batch.columns, 'n');
  const keys = batch.numbers;
  return rowsByKey(batch.count, (row) => keys[row * numbersPerRow]);
}

const N = 'n'.charCodeAt(0);
const S = 's'.charCodeAt(0);

function countOf(columns: string, kind: string): number {
  return columns.split('').filter((c) => c === kind).length;
}

/** The arrays to transfer rather than copy. */
export function transferablesOf(batch: RowBatch): ArrayBuffer[] {
  return [batch.numbers.buffer as ArrayBuffer, batch.times.buffer as ArrayBuffer];
}
