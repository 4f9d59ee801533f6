/**
 * The live flows' slots from least to most recently seen: a doubly linked list in
 * two typed arrays indexed by slot, so that a segment moves its flow to the end
 * in a few array writes and the idlest flow is always the head. What the memory
 * budget evicts first (tracker.ts), as Zeek and Suricata drop their idlest
 * connections when their memcaps are reached.
 */
export class IdleOrder {
  private previous = new Int32Array(1024);
  private next = new Int32Array(1024);
  private head = -1;
  private tail = -1;
  /** Slots in the list: the live flows. */
  size = 0;

  /** The least recently seen slot, -1 when empty. */
  get idlest(): number {
    return this.head;
  }

  /** Adds `slot` (not in the list) as the most recently seen. */
  add(slot: number): void {
    if (slot >= this.next.length) this.grow(slot + 1);
    this.previous[slot] = this.tail;
    this.next[slot] = -1;
    if (this.tail >= 0) this.next[this.tail] = slot;
    else this.head = slot;
    this.tail = slot;
    this.size++;
  }

  /** `slot` was just seen: it becomes the most recent. */
  touch(slot: number): void {
    if (slot === this.tail) return;
    this.unlink(slot);
    this.size++;
    this.previous[slot] = this.tail;
    this.next[slot] = -1;
    this.next[this.tail] = slot;
    this.tail = slot;
  }

  /** Takes `slot` out of the list (its flow left memory or retired). */
  remove(slot: number): void {
    this.unlink(slot);
  }

  private unlink(slot: number): void {
    const before = this.previous[slot];
    const after = this.next[slot];
    if (before >= 0) this.next[before] = after;
    else this.head = after;
    if (after >= 0) this.previous[after] = before;
    else this.tail = before;
    this.size--;
  }

  private grow(needed: number): void {
    let length = this.next.length;
    while (length < needed) length *= 2;
    const previous = new Int32Array(length);
    previous.set(this.previous);
    const next = new Int32Array(length);
    next.set(this.next);
    this.previous = previous;
    this.next = next;
  }
}
