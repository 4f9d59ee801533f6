import type { CapturedFrame } from './captured-frame.js';
import type { FrameReader } from './frame-reader.js';

/**
 * Hands every frame of the readers to `visit`, merged in timestamp order as
 * mergecap does (ties keep input order), so rotated files read as one capture.
 * The frame passed to `visit` is only valid during the call; `visit` returns true to stop early.
 * A CaptureFormatError from any reader propagates after every earlier frame was visited.
 */
export async function forEachFrame(
  readers: readonly FrameReader[],
  visit: (frame: CapturedFrame) => boolean | void,
  beforeRead?: () => Promise<void>,
): Promise<void> {
  if (readers.length === 1) return forEachFrameOfOne(readers[0], visit, beforeRead);
  const heads: Array<CapturedFrame | null> = await Promise.all(readers.map((reader) => nextFrame(reader, beforeRead)));
  for (;;) {
    let earliest = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (head === null) continue;
      const best = earliest < 0 ? null : heads[earliest];
      if (best === null || head.tsSec < best.tsSec || (head.tsSec === best.tsSec && head.tsNsec < best.tsNsec)) earliest = i;
    }
    if (earliest < 0) return;
    if (visit(heads[earliest] as CapturedFrame) === true) return;
    heads[earliest] = readers[earliest].nextSync() ?? (await nextFrame(readers[earliest], beforeRead));
  }
}

async function forEachFrameOfOne(
  reader: FrameReader,
  visit: (frame: CapturedFrame) => boolean | void,
  beforeRead?: () => Promise<void>,
): Promise<void> {
  for (;;) {
    let frame = reader.nextSync();
    while (frame !== null) {
      if (visit(frame) === true) return;
      frame = reader.nextSync();
    }
    await beforeRead?.();
    if (!(await reader.refill())) return;
  }
}

async function nextFrame(reader: FrameReader, beforeRead?: () => Promise<void>): Promise<CapturedFrame | null> {
  for (;;) {
    const frame = reader.nextSync();
    if (frame !== null) return frame;
    await beforeRead?.();
    if (!(await reader.refill())) return null;
  }
}
