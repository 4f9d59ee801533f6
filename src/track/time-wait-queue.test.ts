// The TIME_WAIT timers: every entry comes back once, in expiry order, with its own
// fields, however often the columns grow or move their live entries to the front.
import { describe, expect, test } from 'vitest';
import type { CaptureTime } from './capture-time.js';
import { FIRST_CAPACITY, grownCapacity } from './column-capacity.js';
import { TimeWaitQueue } from './time-wait-queue.js';

const at = (n: number): CaptureTime => n as CaptureTime;

/** Takes every entry left (an empty queue's next expiry is Infinity). */
function drain(queue: TimeWaitQueue): Array<[number, number, string, number, number]> {
  const out: Array<[number, number, string, number, number]> = [];
  while (queue.nextExpiry() < Infinity) {
    queue.take();
    out.push([queue.slot, queue.flowId, queue.role, queue.since, queue.expires]);
  }
  return out;
}

describe('TimeWaitQueue', () => {
  test('keeps every entry and its fields through several rounds of growth', () => {
    const queue = new TimeWaitQueue();
    const count = FIRST_CAPACITY * 5 + 17;
    for (let i = 0; i < count; i++) queue.add(i, i + 1_000_000, i % 2 === 0 ? 'client' : 'server', at(i), at(i + 60));
    const out = drain(queue);
    expect(out).toHaveLength(count);
    for (let i = 0; i < count; i++) expect(out[i]).toEqual([i, i + 1_000_000, i % 2 === 0 ? 'client' : 'server', i, i + 60]);
    expect(queue.nextExpiry()).toBe(Infinity);
  });

  test('an entry that expires before those already queued (a deferred FIN) is taken in its place', () => {
    const queue = new TimeWaitQueue();
    for (let i = 0; i < FIRST_CAPACITY + 100; i++) queue.add(i, i, 'client', at(i * 10), at(i * 10 + 60));
    queue.add(99_999, 99_999, 'server', at(5), at(65));
    const expiries = drain(queue).map((entry) => entry[4]);
    expect(expiries).toEqual([...expiries].sort((a, b) => a - b));
    expect(expiries.indexOf(65)).toBe(1);
  });

  test('taking as it goes (the live entries then move to the front of the columns), each entry comes back once, in order', () => {
    const queue = new TimeWaitQueue();
    const taken: number[] = [];
    for (let i = 0; i < FIRST_CAPACITY * 20; i++) {
      queue.add(i, i, 'client', at(i), at(i + 100));
      // Expire what is due: about 100 entries are live at any time.
      while (queue.nextExpiry() <= i) {
        queue.take();
        taken.push(queue.flowId);
      }
    }
    taken.push(...drain(queue).map((entry) => entry[1]));
    expect(taken).toEqual([...Array(FIRST_CAPACITY * 20).keys()]);
  });
});

describe('grownCapacity', () => {
  test('grows by half from the first capacity, and at least to what is needed', () => {
    expect(grownCapacity(0, 1)).toBe(FIRST_CAPACITY);
    expect(grownCapacity(FIRST_CAPACITY, FIRST_CAPACITY + 1)).toBe(FIRST_CAPACITY * 1.5);
    const big = grownCapacity(FIRST_CAPACITY, 1_000_000);
    expect(big).toBeGreaterThanOrEqual(1_000_000);
    expect(big).toBeLessThan(1_500_000);
  });
});
