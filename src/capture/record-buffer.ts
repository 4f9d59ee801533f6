import type { ByteSource } from './byte-source.js';
import { CaptureFormatError } from './capture-format-error.js';

/** What every file starts with: enough for its head, which a merge of several files reads from each at once. */
export const INITIAL_SIZE = 64 << 10;
/** What a file read on grows to, doubling at each refill: few reads a second, each one large. */
export const STREAMING_SIZE = 4 << 20;
/**
 * The growth past INITIAL_SIZE that all buffers alive share, so that many files read at
 * once (300 merged by time were 1.37 GiB at 4 MiB each) cost a bounded amount: past it a
 * buffer stays as it is and reads in smaller steps. A record larger than the buffer
 * always gets room (the readers bound a record: 16 MiB in pcapng, the snap length in pcap).
 */
export const GROWTH_BUDGET = 64 << 20;

/** Bytes of GROWTH_BUDGET granted to the buffers alive; a buffer dropped unfinished gives its share back when collected. */
let granted = 0;
const leases = new FinalizationRegistry<{ bytes: number }>((lease) => {
  granted -= lease.bytes;
});

/** Bytes of GROWTH_BUDGET in use now (for tests). */
export function recordBufferGrowth(): number {
  return granted;
}

const EMPTY = Buffer.alloc(0);

/**
 * A window onto a capture's bytes that readers parse in place. Records are parsed
 * straight out of `bytes`; only the unparsed tail is moved when more input is read,
 * so a record is never copied on its own. It starts at INITIAL_SIZE and grows with
 * use up to STREAMING_SIZE, within GROWTH_BUDGET; at the end of its input it lets go of its bytes.
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
  /** This buffer's share of GROWTH_BUDGET: bytes.length past INITIAL_SIZE. */
  private readonly lease = { bytes: 0 };

  constructor(readonly source: ByteSource) {
    leases.register(this, this.lease, this);
  }

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
    if (this.exhausted) return this.ended();
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
    return this.available >= minimum || this.ended();
  }

  /**
   * False, for a fill the input ended before. Read to its end on a record boundary,
   * nothing will be parsed out of the bytes again: they are given up, and their share of GROWTH_BUDGET.
   */
  private ended(): false {
    if (this.available > 0 || this.bytes === EMPTY) return false;
    this.base += this.position;
    this.position = this.end = 0;
    this.bytes = EMPTY;
    this.resizeLease(0);
    return false;
  }

  private resizeLease(size: number): void {
    const bytes = Math.max(0, size - INITIAL_SIZE);
    granted += bytes - this.lease.bytes;
    this.lease.bytes = bytes;
  }

  /**
   * The size for a refill that needs `minimum` bytes: room for them at least; twice the
   * size so far, up to STREAMING_SIZE, while GROWTH_BUDGET allows; back to STREAMING_SIZE
   * once a larger record is behind.
   */
  private sizeFor(minimum: number): number {
    const needed = nextPowerOfTwo(minimum);
    const current = Math.max(this.bytes.length, INITIAL_SIZE);
    // The first read (the file's head) grows nothing: a small file never needs more.
    if (this.base + this.end === 0) return Math.max(needed, current);
    if (current >= STREAMING_SIZE) return Math.max(needed, STREAMING_SIZE);
    const doubled = current * 2;
    const wanted = granted - this.lease.bytes + (doubled - INITIAL_SIZE) <= GROWTH_BUDGET ? doubled : current;
    return Math.max(needed, wanted);
  }

  /** The deferred failure, for the frame that needed bytes past it. */
  private failed(frame: number): CaptureFormatError {
    const { offset, reason } = this.failure as { offset: number; reason: string };
    return new CaptureFormatError(this.source.path, offset, frame, reason);
  }

  private compact(minimum: number): void {
    const remaining = this.available;
    const size = this.sizeFor(minimum);
    if (size !== this.bytes.length) {
      const grown = Buffer.allocUnsafe(size);
      this.bytes.copy(grown, 0, this.position, this.end);
      this.bytes = grown;
      this.resizeLease(size);
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
