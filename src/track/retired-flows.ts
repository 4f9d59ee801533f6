import { formatIpv4, formatIpv6 } from '../decode/format-address.js';
import { ALL_STATES, STATE_INDEX } from '../tcp/tcp-state.js';
import type { CaptureTime } from './capture-time.js';
import { grownCapacity } from './column-capacity.js';
import { type Flow, RetiredFlow } from './flow.js';
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
 * a million connections in TIME_WAIT. A row is loaded into the one RetiredFlow
 * view when something happens to it (a late segment, 2×MSL ending) and stored back.
 */
export class RetiredFlows {
  /** Addresses and ports come from the flow table's key pool, KEY_WORDS words a slot. */
  private keys: Uint32Array = new Uint32Array(0);
  private keyAt = 0;
  private readonly view: RetiredFlow = new RetiredFlow((role) =>
    addressIn(this.keys, this.keyAt, (role === 'client') === this.view.clientIsFirst ? 0 : 4),
  );

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

  /** Writes the row of a live flow as it retires into its slot, nothing sent after it yet. */
  retire(flow: Flow): void {
    this.write(flow, false);
    this.writeAfter(flow.slot, 0, 0, 0, 0);
  }

  /** Writes the shared view back into its row. */
  storeBack(view: RetiredFlow): void {
    this.write(view, view.changed);
    this.writeAfter(view.slot, view.client.packetsAfter, view.server.packetsAfter, view.client.bytesAfter, view.server.bytesAfter);
  }

  private write(r: Flow | RetiredFlow, changed: boolean): void {
    const slot = r.slot;
    if (slot >= this.capacity) this.grow(slot + 1);
    this.flowIds[slot] = r.id;
    this.instances[slot] = r.instance;
    this.bits[slot] =
      (r.clientIsFirst ? CLIENT_IS_FIRST : 0) |
      (r.client.stateInferred ? CLIENT_INFERRED : 0) |
      (r.server.stateInferred ? SERVER_INFERRED : 0) |
      (changed ? CHANGED : 0);
    this.closedFirstBy[slot] = ROLES.indexOf(r.closedFirstBy);
    this.closeKind[slot] = CLOSE_KINDS.indexOf(r.closeKind);
    this.clientState[slot] = STATE_INDEX.get(r.client.state) as number;
    this.serverState[slot] = STATE_INDEX.get(r.server.state) as number;
    this.clientSince[slot] = r.client.stateSince;
    this.serverSince[slot] = r.server.stateSince;
    this.lastTime[slot] = r.lastTime;
    this.lastSource[slot] = r.lastSource;
    this.lastFrame[slot] = r.lastFrame;
  }

  private writeAfter(slot: number, clientPackets: number, serverPackets: number, clientBytes: number, serverBytes: number): void {
    this.clientPacketsAfter[slot] = clientPackets;
    this.serverPacketsAfter[slot] = serverPackets;
    this.clientBytesAfter[slot] = clientBytes;
    this.serverBytesAfter[slot] = serverBytes;
  }

  /** The row in `slot`, loaded into the shared view (valid until the next load); the key is KEY_WORDS words at `keyAt`. */
  load(slot: number, keys: Uint32Array, keyAt: number): RetiredFlow {
    const view = this.view;
    this.keys = keys;
    this.keyAt = keyAt;
    const bits = this.bits[slot];
    const clientIsFirst = (bits & CLIENT_IS_FIRST) !== 0;
    const ports = keys[keyAt + 8];
    const firstPort = ports >>> 16;
    const secondPort = ports & 0xffff;
    view.id = this.flowIds[slot];
    view.instance = this.instances[slot];
    view.clientIsFirst = clientIsFirst;
    view.slot = slot;
    view.closedFirstBy = ROLES[this.closedFirstBy[slot]];
    view.closeKind = CLOSE_KINDS[this.closeKind[slot]];
    view.lastTime = this.lastTime[slot] as CaptureTime;
    view.lastSource = this.lastSource[slot];
    view.lastFrame = this.lastFrame[slot];
    view.client.load(
      ALL_STATES[this.clientState[slot]],
      this.clientSince[slot] as CaptureTime,
      (bits & CLIENT_INFERRED) !== 0,
      clientIsFirst ? firstPort : secondPort,
    );
    view.server.load(
      ALL_STATES[this.serverState[slot]],
      this.serverSince[slot] as CaptureTime,
      (bits & SERVER_INFERRED) !== 0,
      clientIsFirst ? secondPort : firstPort,
    );
    view.client.packetsAfter = this.clientPacketsAfter[slot];
    view.server.packetsAfter = this.serverPacketsAfter[slot];
    view.client.bytesAfter = this.clientBytesAfter[slot];
    view.server.bytesAfter = this.serverBytesAfter[slot];
    view.changed = (bits & CHANGED) !== 0;
    return view;
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
    const capacity = grownCapacity(this.capacity, needed);
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
