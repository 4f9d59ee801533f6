import type { ByteSource } from './byte-source.js';
import { CaptureFormatError } from './capture-format-error.js';

const INITIAL_SIZE = 4 << 20;

/**
 * A window onto a capture's bytes that readers parse in place. Records are parsed
 * straight out of `bytes`; only the unparsed tail is moved when more input is read,
 * so a record is never copied on its own.
 */
export class RecordBuffer {
  bytes: Buffer = Buffer.allocUnsafe(INITIAL_SIZE);
  /** Index of the first unparsed byte in `bytes`. */
  position = 0;
  /** Index one past the last valid byte in `bytes`. */
  end = 0;
  /** File offset of bytes[0]. */
  private base = 0;
  private exhausted = false;
  /** Why reading stopped early (corrupt gzip, an I/O error) and where: thrown once the bytes read before it are used up. */
  private failure: { offset: number; reason: string } | undefined;

  constructor(readonly source: ByteSource) {}

  get available(): number {
    return this.end - this.position;
  }

  /** File offset of the first unparsed byte. */
  get offset(): number {
    return this.base + this.position;
  }

  get atEnd(): boolean {
    return this.exhausted && this.position >= this.end;
  }

  /**
   * Makes at least `minimum` unparsed bytes available, reading more input. Resolves
   * false when the input ended first (whatever was there stays available).
   * Invalidates every view into `bytes` taken before the call.
   */
  async fill(minimum: number, frame: number): Promise<boolean> {
    if (this.available >= minimum) return true;
    if (this.failure) throw this.failed(frame);
    if (this.exhausted) return false;
    this.compact(minimum);
    while (this.end < minimum || this.end < this.bytes.length >> 1) {
      let n: number;
      try {
        n = await this.source.read(this.bytes, this.end, this.bytes.length - this.end);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        const what = this.source.gzipped ? 'gzip data is corrupt or cut short' : 'read failed';
        // Records already read in stay usable: the error waits until a record needs bytes past it.
        this.failure = { offset: this.base + this.end, reason: `${what}: ${why}` };
        this.exhausted = true;
        break;
      }
      if (n === 0) {
        this.exhausted = true;
        break;
      }
      this.end += n;
    }
    if (this.available < minimum && this.failure) throw this.failed(frame);
    return this.available >= minimum;
  }

  /** The deferred failure, for the frame that needed bytes past it. */
  private failed(frame: number): CaptureFormatError {
    const { offset, reason } = this.failure as { offset: number; reason: string };
    return new CaptureFormatError(this.source.path, offset, frame, reason);
  }

  private compact(minimum: number): void {
    const remaining = this.available;
    const size = Math.max(this.bytes.length, nextPowerOfTwo(minimum));
    if (size !== this.bytes.length) {
      const grown = Buffer.allocUnsafe(size);
      this.bytes.copy(grown, 0, this.position, this.end);
      this.bytes = grown;
    } else if (this.position > 0) {
      this.bytes.copy(this.bytes, 0, this.position, this.end);
    }
    this.base += this.position;
    this.position = 0;
    this.end = remaining;
  }
}

function nextPowerOfTwo(n: number): number {
  let size = INITIAL_SIZE;
  while (size < n) size *= 2;
  return size;
}
