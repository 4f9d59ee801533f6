// Types of scripts/impaired-corpus.mjs, for test/impaired-captures.test.ts.
export interface ScoredEndpoint {
  key: string;
  kernel: string;
  decidable: boolean;
  state: string;
  inferred: boolean;
}
export interface ScoredCopy {
  scenario: string;
  impairment: string;
  kind: string;
  frames: number;
  kept: number;
  endpoints: ScoredEndpoint[];
  netstatError: number;
  /** netstat --at T at instants of the complete capture: the count error over decided endpoints, and its 50 ms allowance. */
  instants: Array<{ at: bigint; error: number; allowance: number }>;
}
export type Verdict =
  'right' | 'inferred-right' | 'unknown' | 'wrong' | 'undecidable-marked' | 'undecidable-unmarked-right' | 'undecidable-unmarked-wrong';
export function scoreCorpus(capturesDir: string, dir: string): Promise<ScoredCopy[]>;
export function verdict(endpoint: ScoredEndpoint): Verdict;
