import { CapturedFrame } from './captured-frame.js';

/** The last second whose nanoseconds fit a signed 64-bit integer (2262-04-11). */
const LAST_NANOSECOND_SECOND = 9_223_372_035;
/** Frames timed out of range before the first in range, held back at most (the rest are counted, not tracked). */
const MAX_HELD_FRAMES = 65_536;
/**
 * Their bytes held at most, each frame counted with HELD_FRAME_OVERHEAD for its copy's objects:
 * 65,536 frames of 32 KiB were 2.1 GiB from a 2.1 MB .pcapng.gz. Past it, too, counted, not tracked.
 */
const MAX_HELD_BYTES = 64 * 1024 * 1024;
const HELD_FRAME_OVERHEAD = 256;

/** Takes one frame with a usable time; `timed`: the time is its own, not borrowed. True to stop reading. */
export type TimedFrameHandler = (frame: CapturedFrame, timed: boolean) => boolean;

/**
 * A bad clock loses no data: a frame timed outside 1970–2262 is handed on in capture order at the
 * time of the in-range frame before it. Those before any in-range frame are held (bounded by count
 * and bytes) until one gives them a time, or the end gives them the epoch.
 */
export class FrameRetimer {
  private lastSecond = -1;
  private lastNanos = 0;
  private held: CapturedFrame[] = [];
  private heldBytes = 0;

  /** `retimed`: a frame whose time was out of range; `dropped`: one beyond the holding bounds (counted, not tracked). */
  constructor(
    private readonly handle: TimedFrameHandler,
    private readonly retimed: (frame: CapturedFrame) => void,
    private readonly dropped: () => void,
  ) {}

  /** Hands on `frame`, and the frames held before it; true to stop reading. */
  accept(frame: CapturedFrame): boolean {
    if (frame.tsSec < 0 || frame.tsSec > LAST_NANOSECOND_SECOND) {
      this.retimed(frame);
      if (this.lastSecond >= 0) {
        frame.tsSec = this.lastSecond;
        frame.tsNsec = this.lastNanos;
        return this.handle(frame, false);
      }
      const bytes = frame.capturedLength + HELD_FRAME_OVERHEAD;
      if (this.held.length < MAX_HELD_FRAMES && this.heldBytes + bytes <= MAX_HELD_BYTES) {
        this.held.push(copyOf(frame));
        this.heldBytes += bytes;
      } else this.dropped();
      return false;
    }
    if (this.held.length > 0 && this.release(frame.tsSec, frame.tsNsec)) return true;
    this.lastSecond = frame.tsSec;
    this.lastNanos = frame.tsNsec;
    return this.handle(frame, true);
  }

  /** The end: frames still held (no frame in range at all) are handed on together at the epoch. */
  finish(): void {
    this.release(0, 0);
  }

  /** Hands on the held frames at the given time; true to stop reading. */
  private release(second: number, nanos: number): boolean {
    const frames = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const frame of frames) {
      frame.tsSec = second;
      frame.tsNsec = nanos;
      if (this.handle(frame, false)) return true;
    }
    return false;
  }
}

/** A frame and its bytes, kept past the reader's next record (the reader reuses its frame and buffer). */
function copyOf(frame: CapturedFrame): CapturedFrame {
  const copy = Object.assign(new CapturedFrame(), frame);
  copy.data = Buffer.from(frame.data.subarray(frame.dataOffset, frame.dataOffset + frame.capturedLength));
  copy.dataOffset = 0;
  return copy;
}
