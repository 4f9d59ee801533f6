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
  return `${endpoint} ${stateChangeNote(from, to, cause, inferred)}`;
}

function stateChangeNote(from: string, to: string, cause: string, inferred: boolean): string {
  return `${from}→${to} (${cause})${inferred ? ' (inferred)' : ''}`;
}

/** A finding, as the comment on its first frame writes it: `flowstate: close-wait-leak (error): …`. */
export function findingNote(kind: string, severity: string, message: string): string {
  return `${NOTE_PREFIX}${kind} (${severity}): ${message}`;
}

/** What a frame's comments say: its transitions in one comment, then one comment per finding. */
export function frameComments(transitions: readonly string[], findings: readonly string[]): string[] {
  return transitions.length === 0 ? [...findings] : [`${NOTE_PREFIX}${transitions.join('; ')}`, ...findings];
}

interface PendingTransition {
  flowId: number;
  /** 0 client, 1 server. */
  side: number;
  text: string;
}

interface FlowEnds {
  client: string;
  server: string;
  clientState: TcpState;
  serverState: TcpState;
}

/**
 * A TrackerOutput that keeps only what a commented capture needs: per frame that
 * changes a state or starts a finding, the words for it (most frames have none), and
 * per flow its two endpoints and end states (for the words and the summary).
 * Transitions come before their flow's record, which names the addresses, so the
 * endpoint is filled in by `comments()` at the end.
 */
export class FrameNotes implements TrackerOutput {
  private readonly transitions = new Map<number, PendingTransition[]>();
  private readonly findingsAt = new Map<number, string[]>();
  private readonly flows = new Map<number, FlowEnds>();
  /** Transitions with no frame (a timer: TIME_WAIT → CLOSED after 2MSL): on no frame's comment. */
  timerTransitions = 0;
  frameTransitions = 0;
  /** Findings with no frame (none carry one today for per-host findings without a first frame). */
  findingsWithoutFrame = 0;
  readonly findingCounts = new Map<string, number>();

  transition(event: TransitionEvent): void {
    if (event.frame === null) {
      this.timerTransitions++;
      return;
    }
    this.frameTransitions++;
    const key = frameKey(event.source, event.frame);
    const text = stateChangeNote(event.fromState, event.toState, event.cause, event.inferred);
    const entry = { flowId: event.flowId, side: event.endpoint === 'client' ? 0 : 1, text };
    const list = this.transitions.get(key);
    if (list === undefined) this.transitions.set(key, [entry]);
    else list.push(entry);
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

  /** Flows seen (each connection instance once). */
  get flowCount(): number {
    return this.flows.size;
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
   * The comments to add, by frameKey: the endpoint of each transition written in
   * (its flow's record has arrived by now). Hands the notes over and forgets them.
   */
  comments(): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const [key, list] of this.transitions) {
      const texts = list.map((t) => {
        const ends = this.flows.get(t.flowId);
        const endpoint =
          ends === undefined ? `flow ${t.flowId} ${t.side === 0 ? 'client' : 'server'}` : t.side === 0 ? ends.client : ends.server;
        return `${endpoint} ${t.text}`;
      });
      out.set(key, frameComments(texts, this.findingsAt.get(key) ?? []));
    }
    for (const [key, findings] of this.findingsAt) if (!out.has(key)) out.set(key, frameComments([], findings));
    this.transitions.clear();
    this.findingsAt.clear();
    return out;
  }
}
