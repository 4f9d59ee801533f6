import { isIPv4, isIPv6 } from 'node:net';
import { Option } from 'commander';
import { UsageError } from '../errors.js';

/** `--time-wait`, as every command that tracks connections takes it. */
export function timeWaitOption(): Option {
  return new Option('--time-wait <seconds>', 'how long TIME_WAIT lasts (2×MSL): 60 Linux, 240 Windows, 30 macOS/BSD').default('60');
}

/** `--checksums`, as every command that tracks connections takes it. */
export function checksumsOption(): Option {
  return new Option(
    '--checksums <keep|drop>',
    'segments with a bad TCP checksum: keep (a capture taken on a sending host shows its own as bad: offload) or drop, as Zeek does',
  ).default('keep');
}

/** The value of `--checksums`. */
export function parseChecksums(text: string): 'keep' | 'drop' {
  if (text !== 'keep' && text !== 'drop') throw new UsageError(`--checksums: "${text}" is neither keep nor drop`);
  return text;
}

/** "60", "60s", "1.5s", "500ms", "2m" → seconds. */
export function parseSeconds(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${option} takes a duration such as 60, 60s, 500ms or 2m, not "${text}"`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return unit === 'ms' ? value / 1000 : unit === 'm' || unit === 'min' ? value * 60 : unit === 'h' ? value * 3600 : value;
}

/** A positive whole number option. */
export function parseCount(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${option} takes a positive whole number, not "${text}"`);
  return value;
}

/** Commander's collector for an option that may be given again and again: every value, in order. */
export function repeatable(value: string, all: string[]): string[] {
  return [...all, value];
}

/**
 * An IPv4 or IPv6 address (IPv6 bracketed or not) as the database stores it: IPv6
 * in RFC 5952's form, so that 2001:0db8::0001 matches 2001:db8::1. Undefined when
 * it is neither.
 */
export function canonicalAddress(text: string): string | undefined {
  const bare = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare) || bare.includes('%')) return undefined;
  // The URL parser writes IPv6 as RFC 5952 does, as the decoder does (lowercase, no leading zeros, the longest run of zeros as ::).
  return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
}

/** `--host`: an address, canonical. */
export function parseHost(text: string): string {
  const address = canonicalAddress(text);
  if (address === undefined) throw new UsageError(`--host: ${text} is not an IPv4 or IPv6 address`);
  return address;
}
