import { ExitCode, UsageError } from '../errors.js';

const CODE = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** `--fail-on close-wait-leak,refused` → the set of finding codes. */
export function parseFailOn(text: string | undefined): Set<string> {
  if (text === undefined) return new Set();
  const codes = text
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  for (const code of codes)
    if (!CODE.test(code)) throw new UsageError(`--fail-on takes finding codes such as close-wait-leak, not "${code}"`);
  return new Set(codes);
}

export function failOnExitCode(matched: number): ExitCode {
  return matched > 0 ? ExitCode.findingsMatched : ExitCode.ok;
}
