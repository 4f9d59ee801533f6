/** Human renderings of nanosecond times and durations. */

/** ISO-8601 UTC with nanoseconds: 2026-11-21T14:03:07.123456789Z. */
export function formatTimestamp(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const nanos = ns % 1_000_000_000n;
  const iso = new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  return `${iso}.${nanos.toString().padStart(9, '0')}Z`;
}

/** Seconds with six decimals from a nanosecond difference: "+12.500000s". */
export function formatOffset(ns: bigint): string {
  const sign = ns < 0n ? '-' : '+';
  const abs = ns < 0n ? -ns : ns;
  return `${sign}${abs / 1_000_000_000n}.${((abs % 1_000_000_000n) / 1000n).toString().padStart(6, '0')}s`;
}

/** A short duration for people: "850 ms", "12.5 s", "3 min 4 s", "2 h 5 min". */
export function formatDuration(ns: bigint | number): string {
  const seconds = Number(ns) / 1e9;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
