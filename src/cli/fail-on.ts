import { CANNED_REPORTS } from '../report/canned-reports.js';
import type { DatabaseReader } from '../store/database-reader.js';
import { FINDING_KINDS, type FindingKind } from '../track/finding-catalogue.js';
import { Severity } from '../track/records.js';
import { ExitCode, UsageError } from '../errors.js';

/** What `--fail-on` matches: findings of these kinds, or of these severities. */
export interface FailOn {
  kinds: FindingKind[];
  severities: Severity[];
}

/** `--fail-on error`: errors; `--fail-on warning`: warnings or worse. */
const BY_SEVERITY: Readonly<Record<string, Severity[]>> = {
  [Severity.error]: [Severity.error],
  [Severity.warning]: [Severity.warning, Severity.error],
};

/** Report names that are about exactly one kind of finding (`report close-wait` → close-wait-leak), usable as its code. */
const REPORT_ALIASES: ReadonlyMap<string, FindingKind> = new Map(
  CANNED_REPORTS.filter((r) => r.findings.length === 1 && r.findings[0] !== r.name).map((r) => [r.name, r.findings[0]]),
);

/** `--fail-on close-wait-leak,refused`, `--fail-on close-wait`, `--fail-on warning`; undefined when not given. */
export function parseFailOn(text: string | undefined): FailOn | undefined {
  if (text === undefined) return undefined;
  const failOn: FailOn = { kinds: [], severities: [] };
  for (const word of text.split(',').map((c) => c.trim())) {
    if (word === '') continue;
    const kind = (FINDING_KINDS as readonly string[]).includes(word) ? (word as FindingKind) : REPORT_ALIASES.get(word);
    if (kind !== undefined) failOn.kinds.push(kind);
    else if (word in BY_SEVERITY) failOn.severities.push(...BY_SEVERITY[word]);
    else
      throw new UsageError(
        `--fail-on takes finding codes (${FINDING_KINDS.join(', ')}), report names that stand for one ` +
          `(${[...REPORT_ALIASES].map(([name, code]) => `${name} = ${code}`).join(', ')}) or a severity (error; warning, which includes errors), not "${word}"`,
      );
  }
  return failOn;
}

/** How many findings of the database `failOn` matches (0 without --fail-on). */
export function failOnMatches(reader: DatabaseReader, failOn: FailOn | undefined): number {
  return failOn === undefined ? 0 : reader.countFindingsMatching(failOn.kinds, failOn.severities);
}

export function failOnExitCode(matched: number): ExitCode {
  return matched > 0 ? ExitCode.findingsMatched : ExitCode.ok;
}
