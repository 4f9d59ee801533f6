import type { NetstatEntry } from '../store/netstat-query.js';
import { TcpState } from '../tcp/tcp-state.js';
import { formatTable, toJson } from './format-table.js';

/** The netstat JSON contract (docs/cli.md): exactly these keys, in this order. */
export function netstatJson(entries: readonly NetstatEntry[]): string {
  return toJson(
    entries.map((e) => ({ proto: e.proto, local: e.local, remote: e.remote, state: e.state, flow: e.flow, inferred: e.inferred })),
    2,
  );
}

/** `netstat -tan` columns, plus the flow id and whether the state is inferred. */
export function netstatTable(entries: readonly NetstatEntry[], useColour = false): string {
  const rows = entries.map((e) => [
    e.proto,
    '-',
    e.sendQ === null ? '-' : String(e.sendQ),
    e.local,
    e.remote,
    e.state,
    String(e.flow),
    e.inferred ? 'inferred' : '',
  ]);
  return formatTable(['Proto', 'Recv-Q', 'Send-Q', 'Local Address', 'Foreign Address', 'State', 'Flow', ''], rows, {
    rightAligned: new Set([1, 2, 6]),
    useColour,
    colour: (_row, column, value) => (column === 5 && (value === 'CLOSE_WAIT' || value === 'UNKNOWN') ? '\u001b[33m' : undefined),
  });
}

/**
 * Count per state, as `netstat -n | awk '/^tcp/ {++S[$NF]} END {for(a in S) print a, S[a]}'` prints it,
 * and how many of each count are inferred (the third element).
 */
export function netstatSummary(entries: readonly NetstatEntry[]): Array<[TcpState, number, number]> {
  const counts = new Map<TcpState, [TcpState, number, number]>();
  for (const e of entries) {
    let count = counts.get(e.state);
    if (count === undefined) counts.set(e.state, (count = [e.state, 0, 0]));
    count[1]++;
    if (e.inferred) count[2]++;
  }
  return [...counts.values()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/**
 * Netstat order: listeners first, then by local address and port (numerically),
 * then remote, then flow. Keys are split once: a locale-aware comparator made
 * sorting 750,000 endpoints take a minute.
 */
export function sortNetstat(entries: readonly NetstatEntry[]): NetstatEntry[] {
  const keyed = entries.map((entry) => ({
    entry,
    listen: entry.state === TcpState.LISTEN ? 0 : 1,
    local: splitEndpoint(entry.local),
    remote: splitEndpoint(entry.remote),
  }));
  keyed.sort(
    (a, b) =>
      a.listen - b.listen ||
      compareText(a.local.address, b.local.address) ||
      a.local.port - b.local.port ||
      compareText(a.remote.address, b.remote.address) ||
      a.remote.port - b.remote.port ||
      a.entry.flow - b.entry.flow,
  );
  return keyed.map((k) => k.entry);
}

function splitEndpoint(endpoint: string): { address: string; port: number } {
  const colon = endpoint.lastIndexOf(':');
  const port = endpoint.slice(colon + 1);
  return { address: endpoint.slice(0, colon), port: port === '*' ? -1 : Number(port) };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
