import { UsageError } from '../errors.js';

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
