import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';

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

/** Bytes from a Node stream of Buffers (gunzip output, standard input). */
class StreamSource implements ByteSource {
  private readonly chunks: AsyncIterator<Buffer>;
  private pending: Buffer | undefined;
  private pendingOffset = 0;
  constructor(
    readonly path: string,
    readonly gzipped: boolean,
    stream: AsyncIterable<Buffer>,
    readonly storedSize: number | undefined,
    readonly storedBytesRead: () => number,
    private readonly onClose: () => void,
  ) {
    this.chunks = stream[Symbol.asyncIterator]();
  }
  async read(target: Buffer, offset: number, length: number): Promise<number> {
    while (this.pending === undefined || this.pendingOffset >= this.pending.length) {
      const next = await this.chunks.next();
      if (next.done) return 0;
      this.pending = next.value;
      this.pendingOffset = 0;
    }
    const n = Math.min(length, this.pending.length - this.pendingOffset);
    this.pending.copy(target, offset, this.pendingOffset, this.pendingOffset + n);
    this.pendingOffset += n;
    return n;
  }
  close(): Promise<void> {
    this.onClose();
    return Promise.resolve();
  }
}

function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
}

/** Opens a capture path ("-" for standard input), transparently decompressing gzip (detected by content). */
export async function openByteSource(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<ByteSource> {
  if (path === '-') return openStdin(stdin);
  const handle = await open(path, 'r');
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

async function openStdin(stdin: NodeJS.ReadableStream): Promise<ByteSource> {
  const input = stdin as AsyncIterable<Buffer | string>;
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
      '-',
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
    '-',
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
