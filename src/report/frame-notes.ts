import { formatEndpoint } from '../decode/format-address.js';
import { ALL_STATES, type TcpState } from '../tcp/tcp-state.js';
import type { FindingRecord, FlowRecord, FlowUpdate, TrackerOutput, TransitionEvent } from '../track/records.js';

/** Every comment flowstate adds starts with this, so a filter can tell ours from a capture's own. */
export const NOTE_PREFIX = 'flowstate: ';

/** The key of one frame of one input: its source index and 1-based frame number in one number. */
export function frameKey(source: number, frame: number): number {
  return source * 4294967296 + frame;
}

/**
 * One endpoint's state change, as a frame comment writes it:
 * `10.0.0.5:443 ESTABLISHED→CLOSE_WAIT (received FIN)`, with ` (inferred)` after it
 * when the wire did not show it directly.
 */
export function transitionNote(endpoint: string, from: string, to: string, cause: string, inferred: boolean): string {
  return `${endpoint} ${from}→${to} (${cause})${inferred ? ' (inferred)' : ''}`;
}

/** A finding, as the comment on its first frame writes it: `flowstate: close-wait-leak (error): …`. */
export function findingNote(kind: string, severity: string, message: string): string {
  return `${NOTE_PREFIX}${kind} (${severity}): ${message}`;
}

/** What a frame's comments say: its transitions in one comment, then one comment per finding. */
export function frameComments(transitions: readonly string[], findings: readonly string[]): string[] {
  return transitions.length === 0 ? [...findings] : [`${NOTE_PREFIX}${transitions.join('; ')}`, ...findings];
}

interface FlowEnds {
  client: string;
  server: string;
  clientState: TcpState;
  serverState: TcpState;
}

const INITIAL_CAPACITY = 1024;

/**
 * A TrackerOutput that keeps only what a commented capture needs: per state change on
 * a frame, 16 bytes (its frame's key, its flow, and one number for side, inferred,
 * states and cause), per finding with a frame its words, and per flow its two
 * endpoints and end states. Transitions come before their flow's record, which names
 * the addresses, so the words are made only when the copy asks for a frame's
 * comments (`commentsAt`, frames of each input in increasing order).
 */
export class FrameNotes implements TrackerOutput {
  private keys = new Float64Array(INITIAL_CAPACITY);
  private flowIds = new Int32Array(INITIAL_CAPACITY);
  /** side (bit 0), inferred (bit 1), from (bits 2–6), to (bits 7–11), cause index (bits 12+). */
  private codes = new Int32Array(INITIAL_CAPACITY);
  private count = 0;
  private readonly causes: string[] = [];
  private readonly causeIndex = new Map<string, number>();
  private readonly findingsAt = new Map<number, string[]>();
  private readonly flows = new Map<number, FlowEnds>();
  /** Transition indices in key order (stable), and per input the next one to look at. */
  private order: Uint32Array | undefined;
  private readonly cursors: number[] = [];
  /** Transitions with no frame (a timer: TIME_WAIT → CLOSED after 2MSL): on no frame's comment. */
  timerTransitions = 0;
  /** Findings with no frame: on no frame's comment. */
  findingsWithoutFrame = 0;
  readonly findingCounts = new Map<string, number>();

  transition(event: TransitionEvent): void {
    if (event.frame === null) {
      this.timerTransitions++;
      return;
    }
    if (this.count === this.keys.length) this.grow();
    let cause = this.causeIndex.get(event.cause);
    if (cause === undefined) {
      cause = this.causes.push(event.cause) - 1;
      this.causeIndex.set(event.cause, cause);
    }
    const i = this.count++;
    this.keys[i] = frameKey(event.source, event.frame);
    this.flowIds[i] = event.flowId;
    this.codes[i] =
      (event.endpoint === 'client' ? 0 : 1) |
      (event.inferred ? 2 : 0) |
      (ALL_STATES.indexOf(event.fromState) << 2) |
      (ALL_STATES.indexOf(event.toState) << 7) |
      (cause << 12);
  }

  finding(record: FindingRecord): void {
    this.findingCounts.set(record.kind, (this.findingCounts.get(record.kind) ?? 0) + 1);
    if (record.frame === null) {
      this.findingsWithoutFrame++;
      return;
    }
    const key = frameKey(record.source, record.frame);
    const text = findingNote(record.kind, record.severity, record.message);
    const list = this.findingsAt.get(key);
    if (list === undefined) this.findingsAt.set(key, [text]);
    else list.push(text);
  }

  flow(record: FlowRecord): void {
    this.flows.set(record.id, {
      client: formatEndpoint(record.client.ip, record.client.port),
      server: formatEndpoint(record.server.ip, record.server.port),
      clientState: record.client.state,
      serverState: record.server.state,
    });
  }

  flowUpdate(update: FlowUpdate): void {
    const ends = this.flows.get(update.id);
    if (ends === undefined) return;
    ends.clientState = update.clientState;
    ends.serverState = update.serverState;
  }

  /** State changes on frames (each in its frame's comment). */
  get frameTransitions(): number {
    return this.count;
  }

  /** Flows seen (each connection instance once). */
  get flowCount(): number {
    return this.flows.size;
  }

  /** Frames that get a comment. */
  commentedFrames(): number {
    const order = this.sorted();
    let frames = 0;
    let last = -1;
    for (let n = 0; n < this.count; n++) {
      const key = this.keys[order[n]];
      if (key !== last) frames++;
      last = key;
    }
    for (const key of this.findingsAt.keys()) if (this.transitionsAt(key) === 0) frames++;
    return frames;
  }

  /** End states per side: `client: CLOSE_WAIT 20, ESTABLISHED 1; server: FIN_WAIT2 20`, in ALL_STATES order. */
  endStates(): string {
    const counts = [new Map<TcpState, number>(), new Map<TcpState, number>()];
    for (const ends of this.flows.values()) {
      counts[0].set(ends.clientState, (counts[0].get(ends.clientState) ?? 0) + 1);
      counts[1].set(ends.serverState, (counts[1].get(ends.serverState) ?? 0) + 1);
    }
    const side = (name: string, map: Map<TcpState, number>): string =>
      `${name}: ${ALL_STATES.filter((s) => map.has(s))
        .map((s) => `${s} ${map.get(s)}`)
        .join(', ')}`;
    return this.flows.size === 0 ? 'none' : `${side('client', counts[0])}; ${side('server', counts[1])}`;
  }

  /**
   * The comments of one frame, undefined for none. Asked for the frames of each input
   * in increasing order (the order they are read in), it walks the notes once.
   */
  commentsAt(source: number, frame: number): string[] | undefined {
    const order = this.sorted();
    const key = frameKey(source, frame);
    let at = this.cursors[source] ?? this.firstOf(source);
    while (at < this.count && this.keys[order[at]] < key) at++;
    let texts: string[] | undefined;
    while (at < this.count && this.keys[order[at]] === key) {
      (texts ??= []).push(this.words(order[at]));
      at++;
    }
    this.cursors[source] = at;
    const findings = this.findingsAt.size === 0 ? undefined : this.findingsAt.get(key);
    if (texts === undefined && findings === undefined) return undefined;
    return frameComments(texts ?? [], findings ?? []);
  }

  private words(i: number): string {
    const code = this.codes[i];
    const side = code & 1;
    const ends = this.flows.get(this.flowIds[i]);
    const endpoint =
      ends === undefined ? `flow ${this.flowIds[i]} ${side === 0 ? 'client' : 'server'}` : side === 0 ? ends.client : ends.server;
    return transitionNote(endpoint, ALL_STATES[(code >> 2) & 31], ALL_STATES[(code >> 7) & 31], this.causes[code >>> 12], (code & 2) !== 0);
  }

  /** Transitions at one key (for counting frames). */
  private transitionsAt(key: number): number {
    const order = this.sorted();
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.keys[order[mid]] < key) low = mid + 1;
      else high = mid;
    }
    return low < this.count && this.keys[order[low]] === key ? 1 : 0;
  }

  /** Where input `source`'s notes start in key order. */
  private firstOf(source: number): number {
    const order = this.sorted();
    const key = frameKey(source, 0);
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.keys[order[mid]] < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The transitions in key order, stable: already so for one input read in order, sorted once otherwise. */
  private sorted(): Uint32Array {
    if (this.order !== undefined) return this.order;
    const order = new Uint32Array(this.count);
    let inOrder = true;
    for (let i = 0; i < this.count; i++) {
      order[i] = i;
      if (i > 0 && this.keys[i] < this.keys[i - 1]) inOrder = false;
    }
    if (!inOrder) order.sort((a, b) => this.keys[a] - this.keys[b] || a - b);
    this.order = order;
    return order;
  }

  private grow(): void {
    const size = this.keys.length * 2;
    const keys = new Float64Array(size);
    keys.set(this.keys);
    this.keys = keys;
    const flowIds = new Int32Array(size);
    flowIds.set(this.flowIds);
    this.flowIds = flowIds;
    const codes = new Int32Array(size);
    codes.set(this.codes);
    this.codes = codes;
  }
}
