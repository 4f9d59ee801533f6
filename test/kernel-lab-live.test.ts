// Re-runs the kernel lab live (root, network namespaces, nft, tcpdump, tracefs)
// and checks the fresh captures against the kernel exactly as the committed ones
// are checked. Runs in CI (CI=true) or with FLOWSTATE_LIVE_LAB=1; it takes about
// 40 s. Where the lab cannot run it says why and skips.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/paths.js';
import { checkAgainstKernel } from './helpers/kernel-oracle.js';

const wanted = process.env.CI === 'true' || process.env.FLOWSTATE_LIVE_LAB === '1';
const LAB_SKIPPED = 77;
let outDir = '';
let skipReason: string | undefined = wanted ? undefined : 'skipped: the live kernel lab runs in CI or with FLOWSTATE_LIVE_LAB=1 (as root)';
let labOutput = '';

beforeAll(() => {
  if (skipReason) return;
  outDir = mkdtempSync(join(tmpdir(), 'flowstate-lab-'));
  const run = spawnSync('bash', [join(ROOT, 'scripts/lab/run.sh'), '--out', outDir], { encoding: 'utf8', timeout: 600_000 });
  labOutput = `${run.stdout}\n${run.stderr}`;
  if (run.status === LAB_SKIPPED) skipReason = `skipped: the lab cannot run here: ${run.stdout.trim() || run.stderr.trim()}`;
  else if (run.status !== 0) throw new Error(`the live lab failed (exit ${run.status}):\n${labOutput.slice(-4000)}`);
}, 600_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('live kernel lab: fresh captures agree with the kernel', () => {
  test('every scenario, captured now', async (context) => {
    if (skipReason) {
      console.log(skipReason);
      context.skip();
      return;
    }
    const scenarios = readdirSync(outDir)
      .filter((f) => f.endsWith('.expected.json'))
      .map((f) => f.replace(/\.expected\.json$/, ''));
    expect(scenarios.length, labOutput).toBeGreaterThanOrEqual(20);
    const problems: string[] = [];
    for (const scenario of scenarios.sort()) {
      const capture = ['.pcap', '.pcapng'].map((ext) => join(outDir, scenario + ext)).find((p) => existsSync(p));
      if (!capture) {
        problems.push(`${scenario}: no capture written`);
        continue;
      }
      const result = await checkAgainstKernel(capture, join(outDir, `${scenario}.expected.json`));
      problems.push(...result.problems.map((p) => `${scenario}: ${p}`));
    }
    expect(problems).toEqual([]);
  });
});
