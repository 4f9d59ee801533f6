import { describe, expect, test } from 'vitest';
import { formatDuration, formatOffset, formatTimestamp } from './format-time.js';

const S = 1_000_000_000;

describe('formatDuration', () => {
  test.each([
    [500, '500 ns'],
    [133_400, '133 µs'],
    [0.85 * S, '850 ms'],
    [12.5 * S, '12.5 s'],
    [184 * S, '3 min 4 s'],
    [3599.6 * S, '1 h 0 min'],
    [7170 * S, '2 h 0 min'],
    [7199 * S, '2 h 0 min'],
    [2 * 86400 * S + 4 * 3600 * S, '2 d 4 h'],
  ])('%d ns is "%s"', (ns, text) => expect(formatDuration(ns)).toBe(text));
});

test('timestamps and offsets keep every nanosecond', () => {
  expect(formatTimestamp(1795284838500890359n)).toBe('2026-11-21T18:13:58.500890359Z');
  expect(formatOffset(12_500_000_001n)).toBe('+12.500000s');
  expect(formatOffset(-1_000n)).toBe('-0.000001s');
});
