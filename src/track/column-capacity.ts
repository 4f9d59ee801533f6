/**
 * How the tracker's typed-array columns grow (flow-table keys, retired rows, the
 * TIME_WAIT queue). By half, not by doubling: they are sized by the connections
 * held at once, and doubling left up to half of each column unused at the peak
 * (docs/design-choices.md). Copying more often costs little: each
 * value is copied about three times in all instead of twice.
 */
const GROWTH_FACTOR = 1.5;
/** Rows a column starts with. */
export const FIRST_CAPACITY = 4096;

/** The next capacity after `current` rows, at least `needed`. */
export function grownCapacity(current: number, needed: number): number {
  let capacity = Math.max(Math.ceil(current * GROWTH_FACTOR), FIRST_CAPACITY);
  while (capacity < needed) capacity = Math.ceil(capacity * GROWTH_FACTOR);
  return capacity;
}
