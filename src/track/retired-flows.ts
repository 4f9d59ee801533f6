import { formatIpv4, formatIpv6 } from '../decode/format-address.js';
import { ALL_STATES, STATE_INDEX } from '../tcp/tcp-state.js';
import { type Flow, RetiredEndpoint, RetiredFlow } from './flow.js';
import type { CloseKind, Role } from './records.js';

const ROLES: ReadonlyArray<Role | null> = [null, 'client', 'server'];
const CLOSE_KINDS: ReadonlyArray<CloseKind | null> = [null, 'FIN', 'RST'];
const CLIENT_IS_FIRST = 1;
const CLIENT_INFERRED = 2;
const SERVER_INFERRED = 4;
const CHANGED = 8;

/** The address at word `side` (0 or 4) of the flow-table key at `keyAt`. */
function addressIn(keys: Uint32Array, keyAt: number, side: number): string {
  const at = keyAt + side;
  return keys[keyAt + 9] === 4 ? formatIpv4(keys[at]) : formatIpv6(keys[at], keys[at + 1], keys[at + 2], keys[at + 3]);
}

/**
 * Retired flows, one row per flow-table slot in typed arrays (about 80 bytes a
 * flow instead of objects, numbers and strings): a busy server keeps a quarter of
 * a million connections in TIME_WAIT. Rows are loaded as RetiredFlow views when
 * something happens to them (a late segment, 2×MSL ending) and stored back.
 */
export class RetiredFlows {
  private capacity = 0;
  private flowIds = new Float64Array(0);
  private instances = new Uint32Array(0);
  private bits = new Uint8Array(0);
  private closedFirstBy = new Uint8Array(0);
  private closeKind = new Uint8Array(0);
  private clientState = new Uint8Array(0);
  private serverState = new Uint8Array(0);
  private clientSince = new Float64Array(0);
  private serverSince = new Float64Array(0);
  private lastTime = new Float64Array(0);
  private lastSource = new Uint32Array(0);
  private lastFrame = new Float64Array(0);
  private clientPacketsAfter = new Uint32Array(0);
  private serverPacketsAfter = new Uint32Array(0);
  private clientBytesAfter = new Float64Array(0);
  private serverBytesAfter = new Float64Array(0);

  /** The flow id retired in a slot (to tell a stale timer from a live one). */
  flowId(slot: number): number {
    return slot < this.capacity ? this.flowIds[slot] : -1;
  }

  /** Writes a retired flow's row; a live flow retires straight from its fields, with nothing after it yet and no view made. */
  store(r: RetiredFlow | Flow): void {
    const after = r instanceof RetiredFlow ? r : null;
    const slot = r.slot;
    if (slot >= this.capacity) this.grow(slot + 1);
    this.flowIds[slot] = r.id;
    this.instances[slot] = r.instance;
    this.bits[slot] =
      (r.clientIsFirst ? CLIENT_IS_FIRST : 0) |
      (r.client.stateInferred ? CLIENT_INFERRED : 0) |
      (r.server.stateInferred ? SERVER_INFERRED : 0) |
      (after?.changed ? CHANGED : 0);
    this.closedFirstBy[slot] = ROLES.indexOf(r.closedFirstBy);
    this.closeKind[slot] = CLOSE_KINDS.indexOf(r.closeKind);
    this.clientState[slot] = STATE_INDEX.get(r.client.state) as number;
    this.serverState[slot] = STATE_INDEX.get(r.server.state) as number;
    this.clientSince[slot] = r.client.stateSince;
    this.serverSince[slot] = r.server.stateSince;
    this.lastTime[slot] = r.lastTime;
    this.lastSource[slot] = r.lastSource;
    this.lastFrame[slot] = r.lastFrame;
    this.clientPacketsAfter[slot] = after?.client.packetsAfter ?? 0;
    this.serverPacketsAfter[slot] = after?.server.packetsAfter ?? 0;
    this.clientBytesAfter[slot] = after?.client.bytesAfter ?? 0;
    this.serverBytesAfter[slot] = after?.server.bytesAfter ?? 0;
  }

  /** A view of the row in `slot`; addresses and ports come from the flow-table key (KEY_WORDS words at `keyAt`). */
  load(slot: number, keys: Uint32Array, keyAt: number): RetiredFlow {
    const bits = this.bits[slot];
    const clientIsFirst = (bits & CLIENT_IS_FIRST) !== 0;
    const ports = keys[keyAt + 8];
    const firstPort = ports >>> 16;
    const secondPort = ports & 0xffff;
    const client = new RetiredEndpoint(
      'client',
      () => addressIn(keys, keyAt, clientIsFirst ? 0 : 4),
      clientIsFirst ? firstPort : secondPort,
      ALL_STATES[this.clientState[slot]],
      this.clientSince[slot],
      (bits & CLIENT_INFERRED) !== 0,
    );
    const server = new RetiredEndpoint(
      'server',
      () => addressIn(keys, keyAt, clientIsFirst ? 4 : 0),
      clientIsFirst ? secondPort : firstPort,
      ALL_STATES[this.serverState[slot]],
      this.serverSince[slot],
      (bits & SERVER_INFERRED) !== 0,
    );
    client.packetsAfter = this.clientPacketsAfter[slot];
    server.packetsAfter = this.serverPacketsAfter[slot];
    client.bytesAfter = this.clientBytesAfter[slot];
    server.bytesAfter = this.serverBytesAfter[slot];
    const retired = new RetiredFlow(
      this.flowIds[slot],
      this.instances[slot],
      clientIsFirst,
      client,
      server,
      slot,
      ROLES[this.closedFirstBy[slot]],
      CLOSE_KINDS[this.closeKind[slot]],
      this.lastTime[slot],
      this.lastSource[slot],
      this.lastFrame[slot],
    );
    retired.changed = (bits & CHANGED) !== 0;
    return retired;
  }

  /** Whether the flow in `slot` changed since its row was written (else nothing needs telling when it is dropped). */
  changed(slot: number): boolean {
    return (this.bits[slot] & CHANGED) !== 0;
  }

  /** Marks the slot free (a stale timer for it then finds no flow). */
  clear(slot: number): void {
    if (slot < this.capacity) this.flowIds[slot] = -1;
  }

  private grow(needed: number): void {
    let capacity = Math.max(this.capacity * 2, 4096);
    while (capacity < needed) capacity *= 2;
    const grow = <T extends Float64Array | Uint32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const grown = make(capacity);
      grown.set(old);
      return grown;
    };
    this.flowIds = grow(this.flowIds, (n) => new Float64Array(n).fill(-1));
    this.instances = grow(this.instances, (n) => new Uint32Array(n));
    this.bits = grow(this.bits, (n) => new Uint8Array(n));
    this.closedFirstBy = grow(this.closedFirstBy, (n) => new Uint8Array(n));
    this.closeKind = grow(this.closeKind, (n) => new Uint8Array(n));
    this.clientState = grow(this.clientState, (n) => new Uint8Array(n));
    this.serverState = grow(this.serverState, (n) => new Uint8Array(n));
    this.clientSince = grow(this.clientSince, (n) => new Float64Array(n));
    this.serverSince = grow(this.serverSince, (n) => new Float64Array(n));
    this.lastTime = grow(this.lastTime, (n) => new Float64Array(n));
    this.lastSource = grow(this.lastSource, (n) => new Uint32Array(n));
    this.lastFrame = grow(this.lastFrame, (n) => new Float64Array(n));
    this.clientPacketsAfter = grow(this.clientPacketsAfter, (n) => new Uint32Array(n));
    this.serverPacketsAfter = grow(this.serverPacketsAfter, (n) => new Uint32Array(n));
    this.clientBytesAfter = grow(this.clientBytesAfter, (n) => new Float64Array(n));
    this.serverBytesAfter = grow(this.serverBytesAfter, (n) => new Float64Array(n));
    this.capacity = capacity;
  }
}
