// `analyze --shard K/N` and `merge`: the shards of a run, merged, hold what one
// run over the whole capture holds, table by table, on the kernel lab captures
// and on several of them read as one capture.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LAB_SCENARIOS, lab } from './helpers/paths.js';
import { flowstate } from './helpers/run-cli.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-shards-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<void> {
  const result = await flowstate(args);
  expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(0);
}

/** Every table as rows a comparison can read; transitions and findings without their own ids (renumbered by time on merge). */
const TABLES: Record<string, string> = {
  captures: 'SELECT * FROM captures ORDER BY id',
  flows: 'SELECT * FROM flows ORDER BY id',
  transitions:
    'SELECT flow_id, endpoint, ts_ns, capture_id, frame, from_state, to_state, cause, event, inferred FROM transitions ORDER BY flow_id, id',
  findings:
    'SELECT kind, severity, flow_id, endpoint, host, port, ts_ns, capture_id, frame, message, details FROM findings ORDER BY kind, ts_ns, flow_id, host, port, message',
  listeners: 'SELECT * FROM listeners ORDER BY ip, port',
  decode: "SELECT value FROM meta WHERE key = 'decode'",
};

function tables(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    return Object.fromEntries(Object.entries(TABLES).map(([name, sql]) => [name, db.prepare(sql).safeIntegers(true).raw(true).all()]));
  } finally {
    db.close();
  }
}

function trackerStats(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    return JSON.parse((db.prepare("SELECT value FROM meta WHERE key = 'tracker'").get() as { value: string }).value) as Record<
      string,
      number
    >;
  } finally {
    db.close();
  }
}

/** One run and `count` shards merged, of the same capture; returns both databases and the shards'. */
async function oneAndMerged(name: string, captures: string[], count: number): Promise<{ one: string; merged: string; shards: string[] }> {
  const one = join(dir, `${name}.db`);
  await run(['analyze', ...captures, '--db', one, '--quiet']);
  const shards = [...Array(count).keys()].map((k) => join(dir, `${name}.${k}-of-${count}.db`));
  for (const [k, shard] of shards.entries()) await run(['analyze', ...captures, '--db', shard, '--shard', `${k}/${count}`, '--quiet']);
  const merged = join(dir, `${name}.merged-${count}.db`);
  await run(['merge', merged, ...[...shards].reverse()]);
  return { one, merged, shards };
}

function expectSame(one: string, merged: string, shards: string[]): void {
  const expected = tables(one);
  const actual = tables(merged);
  for (const table of Object.keys(TABLES)) expect(actual[table], table).toEqual(expected[table]);
  const whole = trackerStats(one);
  const added = trackerStats(merged);
  for (const key of ['segments', 'flows', 'verifiedChecksums', 'badChecksums', 'droppedBadChecksums'])
    expect(added[key], key).toBe(whole[key]);
  // Each shard did its share and none did all of it: the split is real.
  const flows = shards.map((s) => trackerStats(s).flows);
  expect(flows.reduce((a, b) => a + b, 0)).toBe(whole.flows);
  if (whole.flows >= 10) for (const n of flows) expect(n).toBeLessThan(whole.flows);
}

describe('two shards merged equal one run', () => {
  test.each(LAB_SCENARIOS)('%s', async (scenario) => {
    const { one, merged, shards } = await oneAndMerged(scenario, [lab(scenario)], 2);
    expectSame(one, merged, shards);
  });
});

describe('several captures read as one', () => {
  const set = ['many-short', 'close-wait-leak', 'syn-flood', 'refused', 'port-reuse', 'ipv6'];
  test.each([2, 3, 5])('%i shards of six lab captures together equal one run, per-host findings included', async (count) => {
    const { one, merged, shards } = await oneAndMerged(`set-${count}`, set.map(lab), count);
    expectSame(one, merged, shards);
    // The per-host findings were made on merge from every shard's part, not summed.
    const kinds = (tables(merged).findings as unknown[][]).map((row) => row[0]);
    for (const kind of ['close-wait-leak', 'time-wait-pressure', 'half-open-flood', 'refused']) expect(kinds).toContain(kind);
  });
});

describe('merge refuses what is not one run split in shards', () => {
  test('a missing shard, a shard twice, a database without --shard, shards of other captures', async () => {
    const { one, shards } = await oneAndMerged('refusals', [lab('many-short')], 3);
    const other = join(dir, 'other.1-of-3.db');
    await run(['analyze', lab('close-wait-leak'), '--db', other, '--shard', '1/3', '--quiet']);
    const out = join(dir, 'refused.db');
    const cases: Array<[string[], RegExp]> = [
      [[shards[0], shards[1]], /shard 2\/3 missing/],
      [[shards[0], shards[1], shards[1]], /are both shard 1\/3/],
      [[one], /not a shard: it was written by analyze without --shard/],
      [[shards[0], other, shards[2]], /were made from different captures|differ in/],
    ];
    for (const [inputs, message] of cases) {
      const result = await flowstate(['merge', out, ...inputs]);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
    }
  });

  test('--shard takes K/N with K below N', async () => {
    for (const bad of ['2/2', '1', 'a/b', '0/0', '-1/2']) {
      const result = await flowstate(['analyze', lab('client-close'), '--db', join(dir, 'bad.db'), '--shard', bad]);
      expect(result.status, bad).toBe(2);
      expect(result.stderr).toMatch(/--shard takes K\/N/);
    }
  });
});

describe('merge on a terminal', () => {
  test('on a terminal merge shows the step it is at, and clears the line after', async () => {
    const { shards } = await oneAndMerged('steps', [lab('many-short')], 2);
    const result = await flowstate(['merge', join(dir, 'steps-tty.db'), ...shards], { tty: true });
    expect(result.status, result.stderr).toBe(0);
    for (const step of ['numbering flows', 'copying shards', 'numbering transitions', 'per-host findings', 'indexes'])
      expect(result.stderr).toContain(`merge: ${step}…`);
    expect(result.stderr.endsWith('\r\u001b[K')).toBe(true);
    expect((await flowstate(['merge', join(dir, 'steps-pipe.db'), ...shards])).stderr).toBe('');
  });
});
