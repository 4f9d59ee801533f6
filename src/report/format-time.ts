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

/** A short duration for people: "500 ns", "133 µs", "850 ms", "12.5 s", "3 min 4 s", "2 h 5 min", "3 d 4 h". */
export function formatDuration(ns: bigint | number): string {
  const seconds = Number(ns) / 1e9;
  if (seconds < 1e-6) return `${Math.round(seconds * 1e9)} ns`;
  if (seconds < 0.001) return `${Math.round(seconds * 1e6)} µs`;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  // Round to the smaller unit first, so that 59.6 s never shows as "60 s".
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  const hours = Math.round(seconds / 3600);
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
