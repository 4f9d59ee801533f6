// The kernel lab's captures with defects made afterwards (frames removed at random, one
// direction kept, a late start; scripts/impaired-corpus.mjs), against the kernel's answer:
// no endpoint the remaining segments decide may come out wrong, and none they do not decide
// may be given a state without the inferred mark.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CAPTURES } from './helpers/paths.js';
import { scoreCorpus, verdict } from '../scripts/impaired-corpus.mjs';

const dir = mkdtempSync(join(tmpdir(), 'flowstate-impaired-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('impaired copies of the kernel lab', () => {
  test('0 wrong end states among decidable endpoints, on every impaired copy', async () => {
    const results = await scoreCorpus(CAPTURES, dir);
    const wrong = results.flatMap((r) =>
      r.endpoints
        .filter((e) => verdict(e) === 'wrong')
        .map((e) => `${r.scenario} ${r.impairment} ${e.key}: kernel ${e.kernel}, ours ${e.state}${e.inferred ? ' (inferred)' : ''}`),
    );
    expect(wrong).toEqual([]);
    const unmarked = results.flatMap((r) =>
      r.endpoints
        .filter((e) => verdict(e).startsWith('undecidable-unmarked'))
        .map((e) => `${r.scenario} ${r.impairment} ${e.key}: kernel ${e.kernel}, ours ${e.state}, not marked inferred`),
    );
    expect(unmarked).toEqual([]);
    // netstat --at T counts what the complete wire shows, but for moves within 50 ms of T.
    const beyond = results.flatMap((r) =>
      r.instants.filter((i) => i.error > i.allowance).map((i) => `${r.scenario} ${r.impairment} at ${i.at}: off by ${i.error}`),
    );
    expect(beyond).toEqual([]);
    expect(results.reduce((n, r) => n + r.instants.length, 0)).toBeGreaterThan(10_000);
    // The rule has something to decide: most endpoints of the lossy copies are decidable.
    const lossy = results.filter((r) => r.impairment.startsWith('loss-1%')).flatMap((r) => r.endpoints);
    expect(lossy.filter((e) => e.decidable).length).toBeGreaterThan(lossy.length / 2);
  }, 120_000);
});
