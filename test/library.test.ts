// The README's library example, verbatim but for the import path, so it cannot rot;
// and the package's self-reference resolving to the built library.
import { expect, test } from 'vitest';
import { join } from 'node:path';
import { analyze } from '../src/index.js';
import { CAPTURES } from './helpers/paths.js';

test('no connection of this capture ended in CLOSE_WAIT', async () => {
  const { flows } = await analyze(join(CAPTURES, 'client-close.pcap'));
  const stuck = flows.filter((f) => f.client.state === 'CLOSE_WAIT' || f.server.state === 'CLOSE_WAIT');
  expect(stuck).toEqual([]);
});

test('the same question finds the leak where there is one, and the database matches', async () => {
  const { flows, transitions, findings } = await analyze(join(CAPTURES, 'close-wait-leak.pcap'));
  expect(flows.filter((f) => f.client.state === 'CLOSE_WAIT')).toHaveLength(20);
  expect(transitions.filter((t) => t.toState === 'CLOSE_WAIT')).toHaveLength(20);
  expect(findings.filter((f) => f.kind === 'close-wait-leak')).toHaveLength(1);
});

test("import { analyze } from 'flowstate' resolves to the built library", async () => {
  // The package name resolves through package.json "exports" to dist/ (built by npm test).
  const packageName = 'flowstate';
  const library = (await import(packageName)) as { analyze: unknown; TcpState: Record<string, string> };
  expect(typeof library.analyze).toBe('function');
  expect(library.TcpState.CLOSE_WAIT).toBe('CLOSE_WAIT');
});
