import { UsageError } from '../errors.js';

/** Milliseconds a zone is ahead of UTC at an instant (epoch milliseconds): what `--tz` names. */
export type TimeZone = (utcMs: number) => number;

export const UTC: TimeZone = () => 0;

const AT_FORMS =
  "--at takes ISO-8601 (2026-11-21T14:03:07Z), a time of day on the capture's first day (14:03:07.5), epoch seconds (1763733787.5) or an offset from the capture start (+12.5s)";
const NS_PER_MS = 1_000_000n;

/**
 * `--at` as ISO-8601 ("2026-11-21T14:03:07.5Z", fraction to the nanosecond; without
 * a zone, in `zone`), a time of day ("14:03:07.5", on the capture's first day in
 * `zone`), epoch seconds ("1763733787.25"), or an offset from the capture start
 * ("+12.5s", "+500ms", "+2m"). Returns integer nanoseconds since the epoch.
 */
export function parseTime(text: string, captureStartNs: bigint | null, zone: TimeZone = UTC): bigint {
  const trimmed = text.trim();
  if (trimmed.startsWith('+')) {
    const offsetNs = durationNs(trimmed.slice(1));
    if (offsetNs !== undefined) {
      if (captureStartNs === null) throw new UsageError('the capture has no packets, so an offset from its start means nothing');
      return captureStartNs + offsetNs;
    }
  }
  if (/^\d+(\.\d+)?$/.test(trimmed)) return decimalTimes(trimmed, 1_000_000_000n);
  const iso = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(trimmed);
  const clock = /^\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/.test(trimmed);
  if (iso === null && !clock) throw new UsageError(`${AT_FORMS}, not "${text}"`);
  let day: [number, number, number];
  let time: string;
  if (iso !== null) {
    day = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    time = iso[4];
    if (iso[5] !== undefined) {
      const given = fixedOffset(iso[5]);
      if (given === undefined) throw new UsageError(`--at: "${text}" has an offset from UTC that does not exist`);
      zone = given;
    }
  } else {
    if (captureStartNs === null) throw new UsageError('the capture has no packets, so a time of day names no day: give the date too');
    // The capture's first day as a clock in `zone` shows it.
    const startMs = Number(captureStartNs / NS_PER_MS);
    const local = new Date(startMs + zone(startMs));
    day = [local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate()];
    time = trimmed;
  }
  const [hour, minute, second = '0'] = time.split(':');
  const [wholeSecond, fraction = ''] = second.split('.');
  const parts = [...day, Number(hour), Number(minute), Number(wholeSecond)] as const;
  const wallMs = Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5]);
  // Date.UTC rolls 30 February over into March: a moment that does not exist reads back otherwise.
  const back = new Date(wallMs);
  const readBack = [
    back.getUTCFullYear(),
    back.getUTCMonth() + 1,
    back.getUTCDate(),
    back.getUTCHours(),
    back.getUTCMinutes(),
    back.getUTCSeconds(),
  ];
  if (readBack.some((value, i) => value !== parts[i]))
    throw new UsageError(`--at: "${text}" names a day or a time of day that does not exist`);
  return BigInt(wallToUtcMs(wallMs, zone)) * NS_PER_MS + BigInt(fraction.padEnd(9, '0'));
}

/** The instant a clock in `zone` shows as `wallMs` (read as UTC); in a gap or an overlap of daylight saving time, the later offset's. */
function wallToUtcMs(wallMs: number, zone: TimeZone): number {
  const guess = wallMs - zone(wallMs);
  return wallMs - zone(guess);
}

/** "+02:00", "-0530", "Z": a zone a fixed offset from UTC, or undefined. */
function fixedOffset(text: string): TimeZone | undefined {
  if (text === 'Z') return UTC;
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (match === null || Number(match[2]) > 23 || Number(match[3]) > 59) return undefined;
  const ms = (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) * 60_000;
  return () => ms;
}

/** `--tz`: UTC, an offset such as +02:00, or an IANA zone name (Europe/Paris) as Intl knows it. */
export function parseTimeZone(text: string): TimeZone {
  const trimmed = text.trim();
  if (/^(UTC|GMT)$/i.test(trimmed)) return UTC;
  const fixed = fixedOffset(trimmed);
  if (fixed !== undefined) return fixed;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: trimmed,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new UsageError(`--tz takes UTC, an offset such as +02:00 or a zone name such as Europe/Paris, not "${text}"`);
  }
  return (utcMs) => {
    const wholeMs = Math.floor(utcMs / 1000) * 1000;
    const part = Object.fromEntries(format.formatToParts(wholeMs).map((p) => [p.type, Number(p.value)]));
    return Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second) - wholeMs;
  };
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
