import { describe, expect, test } from 'vitest';
import { CapturedFrame } from './captured-frame.js';
import { FrameRetimer } from './frame-retimer.js';

function frame(n: number, tsSec: number): CapturedFrame {
  const f = new CapturedFrame();
  f.frame = n;
  f.tsSec = tsSec;
  f.tsNsec = 0;
  f.data = Buffer.alloc(4);
  f.capturedLength = 4;
  return f;
}

/** The frames handed on (number, time, timed), and how many were retimed. */
function run(times: number[]): { handed: Array<[number, number, boolean]>; retimed: number } {
  const handed: Array<[number, number, boolean]> = [];
  let retimed = 0;
  const retimer = new FrameRetimer(
    (f, timed) => {
      handed.push([f.frame, f.tsSec, timed]);
      return false;
    },
    () => retimed++,
    () => undefined,
  );
  times.forEach((t, i) => retimer.accept(frame(i + 1, t)));
  retimer.finish();
  return { handed, retimed };
}

describe('a bad clock loses no frame', () => {
  test('a frame timed past 2262 after a good one is handed on at the good one’s time, in capture order', () => {
    expect(run([100, 1e12, 101])).toEqual({
      handed: [
        [1, 100, true],
        [2, 100, false],
        [3, 101, true],
      ],
      retimed: 1,
    });
  });

  test('frames timed before 1970 ahead of any good one wait for it, then go first, at its time', () => {
    expect(run([-5, -4, 100]).handed).toEqual([
      [1, 100, false],
      [2, 100, false],
      [3, 100, true],
    ]);
  });

  test('with no good frame at all, they are handed on at the end, at the epoch', () => {
    expect(run([-5, 1e12]).handed).toEqual([
      [1, 0, false],
      [2, 0, false],
    ]);
  });
});
