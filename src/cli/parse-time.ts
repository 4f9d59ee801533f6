import { UsageError } from '../errors.js';

/**
 * `--at` as ISO-8601 ("2026-11-21T14:03:07.5Z", fraction to the nanosecond),
 * epoch seconds ("1763733787.25"), or an offset from the capture start ("+12.5s",
 * "+500ms", "+2m"). Returns integer nanoseconds since the epoch.
 */
export function parseTime(text: string, captureStartNs: bigint | null): bigint {
  const trimmed = text.trim();
  if (trimmed.startsWith('+')) {
    const offsetNs = durationNs(trimmed.slice(1));
    if (offsetNs !== undefined) {
      if (captureStartNs === null) throw new UsageError('the capture has no packets, so an offset from its start means nothing');
      return captureStartNs + offsetNs;
    }
  }
  if (/^\d+(\.\d+)?$/.test(trimmed)) return decimalTimes(trimmed, 1_000_000_000n);
  const iso = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(trimmed);
  if (iso) {
    const wholeMs = Date.parse(`${iso[1].replace(' ', 'T')}${iso[3] ?? 'Z'}`);
    if (!Number.isNaN(wholeMs)) return BigInt(wholeMs) * 1_000_000n + BigInt((iso[2] ?? '').padEnd(9, '0') || '0');
  }
  throw new UsageError(
    `--at takes ISO-8601 (2026-11-21T14:03:07Z), epoch seconds (1763733787.5) or an offset from the capture start (+12.5s), not "${text}"`,
  );
}

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  min: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** "12.5s", "500ms", "2m", "1h" (seconds without a unit) in nanoseconds, or undefined. */
function durationNs(text: string): bigint | undefined {
  const match = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|min|h)?$/.exec(text);
  return match ? decimalTimes(match[1], UNIT_NS[match[2] ?? 's']) : undefined;
}

/** A duration option such as `--every 10s`: positive, in nanoseconds. */
export function parseDuration(text: string, option: string): bigint {
  const ns = durationNs(text.trim());
  if (ns === undefined || ns <= 0n) throw new UsageError(`${option} takes a duration such as 10s, 500ms, 2m or 1h, not "${text}"`);
  return ns;
}

/** "12.5" × unit, exactly. */
function decimalTimes(decimal: string, unit: bigint): bigint {
  const [whole, fraction = ''] = decimal.split('.');
  const scale = 10n ** BigInt(fraction.length);
  return ((BigInt(whole) * scale + BigInt(fraction || '0')) * unit) / scale;
}
