import type { CaptureTime } from './capture-time.js';
import { FIRST_CAPACITY, grownCapacity } from './column-capacity.js';
import type { Role } from './records.js';

/**
 * TIME_WAIT timers in expiry order, in typed arrays: one entry per TIME_WAIT a
 * capture holds at once (a quarter of a million on a busy server). `take` reads
 * the head into the public fields, so firing allocates nothing.
 */
export class TimeWaitQueue {
  private slots = new Int32Array(FIRST_CAPACITY);
  private flowIds = new Float64Array(FIRST_CAPACITY);
  private roles = new Uint8Array(FIRST_CAPACITY);
  private sinces = new Float64Array(FIRST_CAPACITY);
  private expiries = new Float64Array(FIRST_CAPACITY);
  private head = 0;
  private tail = 0;
  /** The entry last taken. */
  slot = 0;
  flowId = 0;
  role: Role = 'client';
  since = 0 as CaptureTime;
  expires = 0 as CaptureTime;

  /** Expiry of the earliest entry, Infinity when empty. */
  nextExpiry(): CaptureTime {
    return (this.head < this.tail ? this.expiries[this.head] : Infinity) as CaptureTime;
  }

  take(): void {
    const at = this.head++;
    this.slot = this.slots[at];
    this.flowId = this.flowIds[at];
    this.role = this.roles[at] === 0 ? 'client' : 'server';
    this.since = this.sinces[at] as CaptureTime;
    this.expires = this.expiries[at] as CaptureTime;
  }

  /** Adds an entry in expiry order (a deferred FIN can start a TIME_WAIT in the past). */
  add(slot: number, flowId: number, role: Role, since: CaptureTime, expires: CaptureTime): void {
    if (this.tail === this.slots.length) this.makeRoom();
    let at = this.tail;
    if (at > this.head && this.expiries[at - 1] > expires) {
      let low = this.head;
      let high = this.tail;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (this.expiries[middle] <= expires) low = middle + 1;
        else high = middle;
      }
      at = low;
      for (const column of [this.slots, this.flowIds, this.roles, this.sinces, this.expiries]) column.copyWithin(at + 1, at, this.tail);
    }
    this.slots[at] = slot;
    this.flowIds[at] = flowId;
    this.roles[at] = role === 'client' ? 0 : 1;
    this.sinces[at] = since;
    this.expiries[at] = expires;
    this.tail++;
  }

  /** Moves the live entries to the front, or grows the columns when more than half are live. */
  private makeRoom(): void {
    const live = this.tail - this.head;
    const size = live * 2 > this.slots.length ? grownCapacity(this.slots.length, live + 1) : this.slots.length;
    const move = <T extends Int32Array | Float64Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const target = size === old.length ? old : make(size);
      target.set(old.subarray(this.head, this.tail));
      return target;
    };
    this.slots = move(this.slots, (n) => new Int32Array(n));
    this.flowIds = move(this.flowIds, (n) => new Float64Array(n));
    this.roles = move(this.roles, (n) => new Uint8Array(n));
    this.sinces = move(this.sinces, (n) => new Float64Array(n));
    this.expiries = move(this.expiries, (n) => new Float64Array(n));
    this.head = 0;
    this.tail = live;
  }
}
