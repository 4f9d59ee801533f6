import type { CapturedFrame } from './captured-frame.js';
import type { CaptureFormat, CaptureWarning, FrameReader } from './frame-reader.js';
import type { RecordBuffer } from './record-buffer.js';

/**
 * What every container reader shares: its input window, counters, and the end of
 * input, where a record cut short becomes a warning and the frames before it stay.
 */
export abstract class RecordReader implements FrameReader {
  abstract readonly format: CaptureFormat;
  readonly linkTypes = new Set<number>();
  readonly skippedBlocks = new Map<number, number>();
  readonly warnings: CaptureWarning[] = [];
  frames = 0;
  /** Bytes the next record needs, set when nextSync returns null. */
  protected needed: number;
  /** "record" or "block": what a cut-short warning names. */
  protected abstract readonly unit: string;
  /** Bytes of a record's header: fewer left at the end is a cut header, not cut frame data. */
  protected abstract readonly recordHeaderBytes: number;

  protected constructor(
    protected readonly input: RecordBuffer,
    initialNeed: number,
  ) {
    this.needed = initialNeed;
  }

  get path(): string {
    return this.input.source.path;
  }

  get gzipped(): boolean {
    return this.input.source.gzipped;
  }

  abstract nextSync(): CapturedFrame | null;

  async refill(): Promise<boolean> {
    if (await this.input.fill(this.needed, this.frames + 1)) return true;
    const left = this.input.available;
    if (left > 0) {
      this.warnings.push({
        path: this.path,
        offset: this.input.offset,
        frame: this.frames + 1,
        message: `the file ends inside frame ${this.frames + 1}: ${left} of ${this.needed} bytes of its ${this.unit} present; that partial ${this.unit} was ignored`,
        partialHeader: left < this.recordHeaderBytes,
      });
      this.input.position = this.input.end;
    }
    return false;
  }

  progress(): { bytesRead: number; totalBytes: number | undefined } {
    return { bytesRead: this.input.source.storedBytesRead(), totalBytes: this.input.source.storedSize };
  }

  close(): Promise<void> {
    return this.input.source.close();
  }
}
