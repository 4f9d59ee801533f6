/**
 * IPv4 and IPv6 fragments put back together, the way Linux does it
 * (net/ipv4/inet_fragment.c since 4.19, RFC 5722 for IPv6): a fragment that
 * overlaps another, other than an exact duplicate, discards the whole datagram;
 * an incomplete datagram is dropped after 30 s of capture time (ipfrag_time);
 * when the fragments held reach 4 MiB (ipfrag_high_thresh) new ones are
 * dropped. Every such loss is counted. Only datagrams carrying TCP are kept.
 */

/** Linux's ipfrag_time. */
export const FRAGMENT_TIMEOUT_SECONDS = 30;
/** Linux's ipfrag_high_thresh: bytes held, each fragment counted with its bookkeeping. */
export const FRAGMENT_MEMORY_LIMIT = 4 * 1024 * 1024;
/** What one held fragment costs beyond its bytes, so that a flood of tiny ones is bounded too. */
const FRAGMENT_OVERHEAD = 64;
/** An IP datagram's payload cannot exceed this (16-bit lengths). */
const MAX_DATAGRAM = 65_535;

/** What happened to fragments, for the summary. */
export class FragmentStats {
  /** Fragments seen (of datagrams carrying TCP). */
  fragments = 0;
  /** Datagrams put back together and decoded. */
  reassembled = 0;
  /** Exact duplicates, ignored. */
  duplicates = 0;
  /** Datagrams discarded because two fragments overlapped with different bytes or bounds. */
  overlapping = 0;
  /** Datagrams still incomplete 30 s after their first fragment, or at the end of the capture. */
  incomplete = 0;
  /** Fragments dropped because 4 MiB were held. */
  overMemory = 0;
  /** Fragments that would end past 65,535 bytes. */
  tooLong = 0;
  /** Fragments the snap length cut: their bytes are not all there to put back. */
  cut = 0;
}

interface Piece {
  offset: number;
  end: number;
  bytes: Buffer;
}

interface Datagram {
  firstSeconds: number;
  /**
   * In order of offset. No two overlap, so they are in order of end too: where a new
   * fragment falls is found by binary search, and a duplicate or an overlap costs
   * O(log pieces) instead of a walk over every piece (a stream of duplicates was quadratic).
   */
  pieces: Piece[];
  /** The payload's length once the last fragment (more-fragments clear) arrived; -1 before. */
  length: number;
  /** Bytes of payload held. */
  held: number;
}

export class IpReassembler {
  private readonly datagrams = new Map<string, Datagram>();
  private memory = 0;

  constructor(readonly stats: FragmentStats = new FragmentStats()) {}

  /**
   * Adds the fragment of datagram `key` holding payload bytes [offset, offset +
   * bytes.length). Returns the whole payload when this fragment completes it.
   * `bytes` is copied: it may be the reader's reused buffer.
   */
  add(key: string, offset: number, bytes: Buffer, more: boolean, seconds: number): Buffer | undefined {
    this.stats.fragments++;
    this.expire(seconds);
    const end = offset + bytes.length;
    if (end > MAX_DATAGRAM) {
      this.stats.tooLong++;
      return undefined;
    }
    let datagram = this.datagrams.get(key);
    if (datagram === undefined) {
      datagram = { firstSeconds: seconds, pieces: [], length: -1, held: 0 };
      this.datagrams.set(key, datagram);
    }
    const pieces = datagram.pieces;
    // The first piece ending after this fragment's start: the only one it can share bytes with first.
    const at = firstEndingAfter(pieces, offset);
    const next = at < pieces.length ? pieces[at] : undefined;
    if (next !== undefined && end > next.offset && offset < next.end) {
      if (offset === next.offset && end === next.end && bytes.equals(next.bytes)) {
        this.stats.duplicates++;
        return undefined;
      }
      this.stats.overlapping++;
      this.drop(key, datagram);
      return undefined;
    }
    // A second last fragment, or data past the last one, is an overlap in length.
    const lastEnd = pieces.length === 0 ? 0 : pieces[pieces.length - 1].end;
    const pastTheEnd = more ? datagram.length >= 0 && end > datagram.length : lastEnd > end;
    if (pastTheEnd || (!more && datagram.length >= 0 && datagram.length !== end)) {
      this.stats.overlapping++;
      this.drop(key, datagram);
      return undefined;
    }
    if (this.memory + bytes.length + FRAGMENT_OVERHEAD > FRAGMENT_MEMORY_LIMIT) {
      this.stats.overMemory++;
      if (pieces.length === 0) this.datagrams.delete(key);
      return undefined;
    }
    if (!more) datagram.length = end;
    const piece = { offset, end, bytes: Buffer.from(bytes) };
    // In order, the common case, is an append; out of order, the pieces after it move up one place.
    if (at === pieces.length) pieces.push(piece);
    else pieces.splice(at, 0, piece);
    datagram.held += bytes.length;
    this.memory += bytes.length + FRAGMENT_OVERHEAD;
    if (datagram.length < 0 || datagram.held < datagram.length) return undefined;
    // Held bytes equal the length and no two pieces overlap: they tile [0, length).
    const whole = Buffer.allocUnsafe(datagram.length);
    for (const piece of pieces) piece.bytes.copy(whole, piece.offset);
    this.drop(key, datagram);
    this.stats.reassembled++;
    return whole;
  }

  /** Bytes held now, bookkeeping included: never above FRAGMENT_MEMORY_LIMIT. */
  get bytesHeld(): number {
    return this.memory;
  }

  /** The end of the capture: what is still incomplete never will be. */
  finish(): void {
    this.stats.incomplete += this.datagrams.size;
    for (const [key, datagram] of this.datagrams) this.drop(key, datagram);
  }

  /** Datagrams are kept in order of their first fragment, so the expired ones are at the front. */
  private expire(seconds: number): void {
    for (const [key, datagram] of this.datagrams) {
      if (seconds - datagram.firstSeconds < FRAGMENT_TIMEOUT_SECONDS) return;
      this.stats.incomplete++;
      this.drop(key, datagram);
    }
  }

  private drop(key: string, datagram: Datagram): void {
    this.memory -= datagram.held + datagram.pieces.length * FRAGMENT_OVERHEAD;
    this.datagrams.delete(key);
  }
}

/**
 * The index of the first piece (in order of offset, none overlapping) whose end is
 * past `offset`: pieces.length when none is. Binary search.
 */
function firstEndingAfter(pieces: readonly Piece[], offset: number): number {
  let low = 0;
  let high = pieces.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (pieces[middle].end > offset) high = middle;
    else low = middle + 1;
  }
  return low;
}
