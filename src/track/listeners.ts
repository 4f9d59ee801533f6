/** A port seen answering a SYN with SYN-ACK. */
export interface Listener {
  ip: string;
  port: number;
  ipVersion: 4 | 6;
  firstNs: bigint;
  /** The flow of the first such answer. */
  flowId: number;
}

/**
 * The inferred listeners, in the order first seen. Looked up by address, then
 * port: every SYN-ACK asks, and an "ip:port" key cost a string each time.
 */
export class Listeners {
  readonly inOrder: Listener[] = [];
  private readonly byAddress = new Map<string, Map<number, Listener>>();

  has(ip: string, port: number): boolean {
    return this.byAddress.get(ip)?.has(port) ?? false;
  }

  /** Keeps a listener whose ip:port is not known yet (ask `has` first: it spares making the record). */
  add(listener: Listener): void {
    let ports = this.byAddress.get(listener.ip);
    if (ports === undefined) this.byAddress.set(listener.ip, (ports = new Map<number, Listener>()));
    ports.set(listener.port, listener);
    this.inOrder.push(listener);
  }
}
