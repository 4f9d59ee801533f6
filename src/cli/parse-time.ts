import { UsageError } from '../errors.js';

/**
 * `--at` as ISO-8601 ("2026-11-21T14:03:07.5Z", fraction to the nanosecond),
 * epoch seconds ("1763733787.25"), or an offset from the capture start ("+12.5s",
 * "+500ms", "+2m"). Returns integer nanoseconds since the epoch.
 */
export function parseTime(text: string, captureStartNs: bigint | null): bigint {
  const trimmed = text.trim();
  const offset = /^\+(\d+(?:\.\d+)?)(ns|us|ms|s|m|min|h)?$/.exec(trimmed);
  if (offset) {
    if (captureStartNs === null) throw new UsageError('the capture has no packets, so an offset from its start means nothing');
    const unitNs: Record<string, bigint> = {
      ns: 1n,
      us: 1000n,
      ms: 1_000_000n,
      s: 1_000_000_000n,
      m: 60_000_000_000n,
      min: 60_000_000_000n,
      h: 3_600_000_000_000n,
    };
    return captureStartNs + decimalTimes(offset[1], unitNs[offset[2] ?? 's']);
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

/** "12.5" × unit, exactly. */
function decimalTimes(decimal: string, unit: bigint): bigint {
  const [whole, fraction = ''] = decimal.split('.');
  const scale = 10n ** BigInt(fraction.length);
  return ((BigInt(whole) * scale + BigInt(fraction || '0')) * unit) / scale;
}
