import { open, stat, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { FlowstateError } from '../errors.js';

/** Sequential bytes of one capture, whatever they come from (file, gzip, stdin). */
export interface ByteSource {
  /** Name used in messages: the path, or "-" for standard input. */
  readonly path: string;
  /** Whether the bytes are decompressed from gzip (offsets are then in the decompressed stream). */
  readonly gzipped: boolean;
  /** Size of the input as stored (compressed size for gzip), when known: for progress. */
  readonly storedSize: number | undefined;
  /** Bytes of the stored input consumed so far: for progress. */
  storedBytesRead(): number;
  /** Reads up to `length` bytes into `target` at `offset`; resolves 0 only at end of input. */
  read(target: Buffer, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

class FileSource implements ByteSource {
  readonly gzipped = false;
  private position = 0;
  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly storedSize: number,
  ) {}
  storedBytesRead(): number {
    return this.position;
  }
  async read(target: Buffer, offset: number, length: number): Promise<number> {
    const { bytesRead } = await this.handle.read(target, offset, length, this.position);
    this.position += bytesRead;
    return bytesRead;
  }
  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Input a stream may run ahead of the reader by before it is paused. */
const STREAM_AHEAD_BYTES = 4 << 20;

/**
 * Bytes from a Node stream of Buffers (gunzip output, standard input, a FIFO).
 * Read through events rather than the stream's async iterator: that iterator
 * drops every chunk still buffered when the stream fails, and a gzip file cut
 * short fails only after its last decompressed bytes were pushed, which are
 * what a reader can still use. A failure is thrown once those are read.
 */
class StreamSource implements ByteSource {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private pendingOffset = 0;
  constructor(
    readonly path: string,
    readonly gzipped: boolean,
    private readonly stream: Readable,
    readonly storedSize: number | undefined,
    readonly storedBytesRead: () => number,
    private readonly onClose: () => void,
  ) {
    stream.on('data', (chunk: Buffer | string) => {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      this.chunks.push(bytes);
      this.buffered += bytes.length;
      if (this.buffered > STREAM_AHEAD_BYTES) stream.pause();
      this.wakeReader();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wakeReader();
    });
    stream.on('error', (error) => {
      this.failure ??= error;
      this.ended = true;
      this.wakeReader();
    });
  }
  async read(target: Buffer, offset: number, length: number): Promise<number> {
    while (this.chunks.length === 0) {
      if (this.ended) {
        if (this.failure) throw this.failure;
        return 0;
      }
      this.stream.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const chunk = this.chunks[0];
    const n = Math.min(length, chunk.length - this.pendingOffset);
    chunk.copy(target, offset, this.pendingOffset, this.pendingOffset + n);
    this.pendingOffset += n;
    this.buffered -= n;
    if (this.pendingOffset === chunk.length) {
      this.chunks.shift();
      this.pendingOffset = 0;
    }
    if (this.buffered <= STREAM_AHEAD_BYTES && !this.ended) this.stream.resume();
    return n;
  }
  close(): Promise<void> {
    this.onClose();
    return Promise.resolve();
  }
  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
}

/**
 * Opens a capture path ("-" for standard input), transparently decompressing gzip
 * (detected by content). A FIFO or device (`<(tcpdump -w -)`, /dev/stdin) is read
 * as a stream, since it cannot be read at offsets.
 */
export async function openByteSource(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<ByteSource> {
  if (path === '-') return openStream('-', stdin);
  const kind = await stat(path);
  if (kind.isDirectory()) throw new FlowstateError(`${path} is a directory, not a capture`);
  const handle = await open(path, 'r');
  if (!kind.isFile()) return openStream(path, handle.createReadStream({ highWaterMark: 1 << 20 }));
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(2);
    await handle.read(head, 0, 2, 0);
    if (!isGzip(head)) return new FileSource(path, handle, size);
    await handle.close();
    const raw = createReadStream(path, { highWaterMark: 1 << 20 });
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    raw.pipe(gunzip);
    raw.on('error', (error) => gunzip.destroy(error));
    return new StreamSource(
      path,
      true,
      gunzip,
      size,
      () => raw.bytesRead,
      () => {
        raw.destroy();
        gunzip.destroy();
      },
    );
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** A stream of unknown length: its first chunk tells whether it is gzip. */
async function openStream(path: string, stream: NodeJS.ReadableStream): Promise<ByteSource> {
  const input = stream as AsyncIterable<Buffer | string>;
  const iterator = input[Symbol.asyncIterator]();
  let consumed = 0;
  const first = await iterator.next();
  const head = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  consumed += head.length;
  async function* everything(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      const chunk = Buffer.from(next.value);
      consumed += chunk.length;
      yield chunk;
    }
  }
  const raw = Readable.from(everything());
  if (!isGzip(head))
    return new StreamSource(
      path,
      false,
      raw,
      undefined,
      () => consumed,
      () => raw.destroy(),
    );
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  raw.pipe(gunzip);
  raw.on('error', (error) => gunzip.destroy(error));
  return new StreamSource(
    path,
    true,
    gunzip,
    undefined,
    () => consumed,
    () => {
      raw.destroy();
      gunzip.destroy();
    },
  );
}
