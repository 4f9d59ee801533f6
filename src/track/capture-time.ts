import { type CapturedFrame, frameTimeNs } from '../capture/captured-frame.js';

/**
 * The tracker's two kinds of time, never mixed:
 *
 * - `CaptureTime`, a number: integer nanoseconds since the capture's base second
 *   (the whole second of its first frame). Exact for 104 days of capture (2^53 ns),
 *   and cheap: every timer, state visit and stay is one of these.
 * - epoch nanoseconds, a `bigint`: integer nanoseconds since the Unix epoch, what
 *   records, findings and the database hold. `CaptureClock.epochNs` turns the
 *   first into the second, at the edge where a record is handed on.
 *
 * A duration (2×MSL, a stay in CLOSE_WAIT) is a plain number of nanoseconds:
 * `later(time, duration)` is the one way to add one to a CaptureTime.
 */
export type CaptureTime = number & { readonly __unit: 'ns since the capture base second' };

export const NS_PER_SECOND = 1e9;

/** No time (yet): a stay that has not begun or ended. */
export const NO_TIME = -1 as CaptureTime;

/** `time` plus `duration` nanoseconds. */
export function later(time: CaptureTime, duration: number): CaptureTime {
  return (time + duration) as CaptureTime;
}

/** The capture's base second and the conversions from and to it. */
export class CaptureClock {
  /** Whole epoch second of the first frame, -1 before it. */
  private baseSecond = -1;
  private baseNs = 0n;

  get started(): boolean {
    return this.baseSecond >= 0;
  }

  /** Takes the base second from the first frame; returns that frame's time. */
  start(frame: Pick<CapturedFrame, 'tsSec' | 'tsNsec'>): CaptureTime {
    this.baseSecond = frame.tsSec;
    this.baseNs = frameTimeNs({ tsSec: frame.tsSec, tsNsec: 0 });
    return frame.tsNsec as CaptureTime;
  }

  timeOf(frame: Pick<CapturedFrame, 'tsSec' | 'tsNsec'>): CaptureTime {
    return ((frame.tsSec - this.baseSecond) * NS_PER_SECOND + frame.tsNsec) as CaptureTime;
  }

  /** The capture time of an epoch time (timers run up to it without a packet). */
  fromEpochNs(epochNs: bigint): CaptureTime {
    return Number(epochNs - this.baseNs) as CaptureTime;
  }

  epochNs(time: CaptureTime): bigint {
    return this.baseNs + BigInt(time);
  }

  /** Writes a capture time as whole epoch seconds and nanoseconds within that second (no bigint made). */
  split(time: CaptureTime, into: { second: number; nanos: number }): void {
    const seconds = Math.floor(time / NS_PER_SECOND);
    into.second = this.baseSecond + seconds;
    into.nanos = time - seconds * NS_PER_SECOND;
  }
}
