import { describe, expect, test } from 'vitest';
import { type RowBatch, RowBatchBuilder, rowValues, rowsByFirstNumber, rowsByKey, transferablesOf } from './row-batch.js';

/** Copies each row as it comes: rowValues hands out one array, refilled for every row. */
const copied = (batch: RowBatch): unknown[][] => Array.from(rowValues(batch), (values) => [...values]);
const rowsOf = (builder: RowBatchBuilder): unknown[][] => copied(builder.take());

describe('RowBatchBuilder and rowValues', () => {
  test('give back each row in column order, NULL numbers and strings included', () => {
    const builder = new RowBatchBuilder('nstn', 4);
    builder.number(1);
    builder.string('10.0.0.1');
    builder.time(1_795_284_812_872_795_321n);
    builder.number(null);
    expect(builder.endRow()).toBe(false);
    builder.number(2.5);
    builder.string(null);
    builder.time(-1n);
    builder.number(0);
    builder.endRow();
    expect(rowsOf(builder)).toEqual([
      [1, '10.0.0.1', 1_795_284_812_872_795_321n, null],
      [2.5, null, -1n, 0],
    ]);
  });

  test('says when a batch is full, and starts an empty one after take', () => {
    const builder = new RowBatchBuilder('n', 2);
    builder.number(1);
    expect(builder.endRow()).toBe(false);
    builder.number(2);
    expect(builder.endRow()).toBe(true);
    const full = builder.take();
    expect(full.count).toBe(2);
    expect(builder.count).toBe(0);
    builder.number(3);
    builder.endRow();
    expect(rowsOf(builder)).toEqual([[3]]);
    expect(copied(full)).toEqual([[1], [2]]);
  });

  test('groups rows for a multi-row statement, the last group holding what is left', () => {
    const builder = new RowBatchBuilder('ns', 5);
    for (let i = 1; i <= 5; i++) {
      builder.number(i);
      builder.string(`r${i}`);
      builder.endRow();
    }
    const groups = Array.from(rowValues(builder.take(), 2), (values) => [...values]);
    expect(groups).toEqual([
      [1, 'r1', 2, 'r2'],
      [3, 'r3', 4, 'r4'],
      [5, 'r5'],
    ]);
    expect(Array.from(rowValues(new RowBatchBuilder('n', 4).take(), 2))).toEqual([]);
  });

  test('takes the rows in a given order, sorted by their first number (the flow id) for an ordered insert', () => {
    const builder = new RowBatchBuilder('sntn', 4);
    for (const id of [30, 10, 40, 20]) {
      builder.string(`flow ${id}`);
      builder.number(id);
      builder.time(BigInt(id) * 1000n);
      builder.number(id === 40 ? null : -id);
      builder.endRow();
    }
    const batch = builder.take();
    expect(Array.from(rowsByFirstNumber(batch))).toEqual([1, 3, 0, 2]);
    const groups = Array.from(rowValues(batch, 3, rowsByFirstNumber(batch)), (values) => [...values]);
    expect(groups).toEqual([
      ['flow 10', 10, 10000n, -10, 'flow 20', 20, 20000n, -20, 'flow 30', 30, 30000n, -30],
      ['flow 40', 40, 40000n, null],
    ]);
  });

  test('orders rows by a key up to 2^40, ties in row order', () => {
    const keys = [2 ** 40 - 1, 5, 0, 5, 2 ** 40 - 1, 5, 3];
    expect(Array.from(rowsByKey(keys.length, (row) => keys[row]))).toEqual([2, 6, 1, 3, 5, 0, 4]);
    expect(Array.from(rowsByKey(0, () => 0))).toEqual([]);
  });

  test('transfers the number and time arrays, whose rows survive a structured clone', () => {
    const builder = new RowBatchBuilder('ntns', 1);
    builder.number(7);
    builder.time(42n);
    builder.number(null);
    builder.string('x');
    builder.endRow();
    const batch = builder.take();
    const copy = structuredClone(batch, { transfer: transferablesOf(batch) });
    expect(batch.numbers.length).toBe(0); // detached: moved, not copied
    expect(copied(copy)).toEqual([[7, 42n, null, 'x']]);
  });
});
