// Every committed lab scenario against the kernel's own answer: the end state of
// every endpoint ss listed, and every transition the tracepoint logged.
import { describe, expect, test } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CAPTURES } from './helpers/paths.js';
import { checkAgainstKernel } from './helpers/kernel-oracle.js';

const scenarios = readdirSync(CAPTURES)
  .filter((f) => f.endsWith('.expected.json'))
  .map((f) => f.replace(/\.expected\.json$/, ''))
  .sort();

function capturePath(scenario: string): string {
  for (const ext of ['.pcap', '.pcapng', '.pcap.gz']) if (existsSync(join(CAPTURES, scenario + ext))) return join(CAPTURES, scenario + ext);
  throw new Error(`no capture for scenario ${scenario}`);
}

describe('reconstruction agrees with the Linux kernel on every lab scenario', () => {
  test('the lab covers every one of the eleven states as some endpoint’s end state', async () => {
    const seen = new Set<string>();
    for (const scenario of scenarios) {
      const { expectation } = await checkAgainstKernel(capturePath(scenario), join(CAPTURES, `${scenario}.expected.json`));
      for (const s of expectation.ss) seen.add(s.state);
      for (const t of expectation.kernel_transitions) if (t.to === 'CLOSED') seen.add('CLOSED');
    }
    expect([...seen].sort()).toEqual([
      'CLOSED',
      'CLOSE_WAIT',
      'CLOSING',
      'ESTABLISHED',
      'FIN_WAIT1',
      'FIN_WAIT2',
      'LAST_ACK',
      'LISTEN',
      'SYN_RECV',
      'SYN_SENT',
      'TIME_WAIT',
    ]);
  });

  test.each(scenarios)('%s', async (scenario) => {
    const result = await checkAgainstKernel(capturePath(scenario), join(CAPTURES, `${scenario}.expected.json`));
    expect(result.problems, result.expectation.description).toEqual([]);
  });
});
