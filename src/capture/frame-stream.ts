import { CaptureFormatError } from './capture-format-error.js';
import type { CapturedFrame } from './captured-frame.js';
import type { FrameReader } from './frame-reader.js';

/**
 * Hands every frame of the readers to `visit`, merged in timestamp order as
 * mergecap does (ties keep input order), so rotated files read as one capture.
 * The frame passed to `visit` is only valid during the call; `visit` returns true to stop early.
 * A file that fails (a CaptureFormatError) stops only that file: the others are
 * read to their ends. Resolves to each reader's error, undefined for one read whole.
 */
export async function forEachFrame(
  readers: readonly FrameReader[],
  visit: (frame: CapturedFrame) => boolean | void,
  beforeRead?: () => Promise<void>,
): Promise<Array<CaptureFormatError | undefined>> {
  const errors = new Array<CaptureFormatError | undefined>(readers.length).fill(undefined);
  const next = async (index: number): Promise<CapturedFrame | null> => {
    try {
      return readers[index].nextSync() ?? (await nextFrame(readers[index], beforeRead));
    } catch (error) {
      if (!(error instanceof CaptureFormatError)) throw error;
      errors[index] = error;
      return null;
    }
  };
  if (readers.length === 1) {
    try {
      await forEachFrameOfOne(readers[0], visit, beforeRead);
    } catch (error) {
      if (!(error instanceof CaptureFormatError)) throw error;
      errors[0] = error;
    }
    return errors;
  }
  const heads: Array<CapturedFrame | null> = [];
  for (let i = 0; i < readers.length; i++) heads.push(await next(i));
  for (;;) {
    const earliest = earliestHead(heads);
    if (earliest < 0) return errors;
    if (visit(heads[earliest] as CapturedFrame) === true) return errors;
    heads[earliest] = await next(earliest);
  }
}

/**
 * Which of several files' next frames comes first: the earliest time, ties in input
 * order (mergecap's order); -1 when every file is done. The one merge order of
 * everything that reads several files as one capture (analyze, annotate).
 */
export function earliestHead(heads: ReadonlyArray<{ tsSec: number; tsNsec: number } | null>): number {
  let earliest = -1;
  for (let i = 0; i < heads.length; i++) {
    const head = heads[i];
    if (head === null) continue;
    const best = earliest < 0 ? null : heads[earliest];
    if (best === null || head.tsSec < best.tsSec || (head.tsSec === best.tsSec && head.tsNsec < best.tsNsec)) earliest = i;
  }
  return earliest;
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
