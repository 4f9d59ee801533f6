// `flowstate timeline` on the kernel lab: each row is what `netstat --at` lists at
// that instant, the last row is `netstat --summary`, and the leak ends as ss saw it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURES, LAB_SCENARIOS, lab } from './helpers/paths.js';
import { flowstate } from './helpers/run-cli.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-timeline-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Row = Record<string, string | number>;

async function run(args: string[]): Promise<string> {
  const result = await flowstate(args);
  expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

async function labDatabase(scenario: string): Promise<string> {
  const db = join(dir, `${scenario}.db`);
  await run(['analyze', lab(scenario), '--db', db, '--quiet']);
  return db;
}

/** A row's counts without its time columns, zero states and inferred_ columns, as netstat --summary --json prints them. */
function counts(row: Row): Record<string, number> {
  return Object.fromEntries(
    Object.entries(row).filter(([k, v]) => k !== 'time' && k !== 'offset_s' && !k.startsWith('inferred_') && v !== 0),
  ) as Record<string, number>;
}

/** A row's inferred_STATE columns that are not zero, as { STATE: n }. */
function inferredCounts(row: Row): Record<string, number> {
  return Object.fromEntries(
    Object.entries(row)
      .filter(([k, v]) => k.startsWith('inferred_') && v !== 0)
      .map(([k, v]) => [k.slice('inferred_'.length), v]),
  ) as Record<string, number>;
}

/** netstat --json's entries marked inferred, counted per state. */
function inferredOf(entries: Array<{ state: string; inferred: boolean }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries) if (e.inferred) out[e.state] = (out[e.state] ?? 0) + 1;
  return out;
}

describe('timeline against netstat on every lab scenario', () => {
  test.each(LAB_SCENARIOS)('%s: every row is netstat --at at its instant; the last is netstat --summary', async (scenario) => {
    const db = await labDatabase(scenario);
    const rows = JSON.parse(await run(['timeline', db, '--format', 'json'])) as Row[];
    expect(rows.length).toBeGreaterThan(1);
    // Each row a separate netstat at that instant, given as the ISO time the row prints (to the nanosecond).
    for (const row of rows) {
      const netstat = JSON.parse(await run(['netstat', db, '--at', String(row.time), '--summary', '--json'])) as Record<string, number>;
      expect(counts(row), `${scenario} at ${row.time}`).toEqual(netstat);
    }
    const end = JSON.parse(await run(['netstat', db, '--summary', '--json'])) as Record<string, number>;
    expect(counts(rows[rows.length - 1])).toEqual(end);
    // How many of each count are inferred: what netstat marks inferred at that instant.
    const listed = JSON.parse(await run(['netstat', db, '--json'])) as Array<{ state: string; inferred: boolean }>;
    expect(inferredCounts(rows[rows.length - 1])).toEqual(inferredOf(listed));
    const middle = rows[rows.length >> 1];
    const listedThen = JSON.parse(await run(['netstat', db, '--at', String(middle.time), '--json'])) as Array<{
      state: string;
      inferred: boolean;
    }>;
    expect(inferredCounts(middle)).toEqual(inferredOf(listedThen));
    // With --all, CLOSED as well, as netstat --all lists it.
    const all = JSON.parse(await run(['timeline', db, '--all', '--format', 'json'])) as Row[];
    const endAll = JSON.parse(await run(['netstat', db, '--all', '--summary', '--json'])) as Record<string, number>;
    expect(counts(all[all.length - 1])).toEqual(endAll);
  });
});

describe('timeline', () => {
  test('the close-wait leak ends with the 20 CLOSE_WAIT and 20 FIN_WAIT2 sockets ss listed', async () => {
    const db = await labDatabase('close-wait-leak');
    const rows = JSON.parse(await run(['timeline', db, '--format', 'json'])) as Row[];
    const expected = JSON.parse(readFileSync(join(CAPTURES, 'close-wait-leak.expected.json'), 'utf8')) as { ss: Array<{ state: string }> };
    const ss: Record<string, number> = {};
    for (const s of expected.ss) ss[s.state] = (ss[s.state] ?? 0) + 1;
    expect(counts(rows[rows.length - 1])).toEqual(ss);
    expect(ss.CLOSE_WAIT).toBe(20);
  });

  test('--every sets the step; --host and --port count one host’s endpoints; csv has a column per state', async () => {
    const db = await labDatabase('close-wait-leak');
    const rows = JSON.parse(await run(['timeline', db, '--every', '10ms', '--format', 'json'])) as Row[];
    expect(rows.map((r) => r.offset_s).slice(0, 4)).toEqual([0, 0.01, 0.02, 0.03]);
    const server = JSON.parse(await run(['timeline', db, '--host', '127.42.3.1', '--port', '8080', '--format', 'json'])) as Row[];
    expect(counts(server[server.length - 1])).toEqual({ LISTEN: 1, FIN_WAIT2: 20 });
    const clients = JSON.parse(await run(['timeline', db, '--host', '127.42.3.2', '--format', 'json'])) as Row[];
    expect(counts(clients[clients.length - 1])).toEqual({ CLOSE_WAIT: 20 });
    const csv = (await run(['timeline', db, '--format', 'csv'])).trim().split('\n');
    // Then how many of each count are inferred, for the states that have any: the listener (always), the
    // servers' UNKNOWN before the SYN reached them.
    expect(csv[0]).toBe(
      'time,offset_s,LISTEN,SYN_SENT,ESTABLISHED,FIN_WAIT1,FIN_WAIT2,CLOSE_WAIT,UNKNOWN,inferred_LISTEN,inferred_UNKNOWN',
    );
    expect(csv[csv.length - 1]).toMatch(/,1,0,0,0,20,20,0,1,0$/);
    // --observed-only: the inferred ones are not counted, and no inferred_ column is left.
    const observed = (await run(['timeline', db, '--format', 'csv', '--observed-only'])).trim().split('\n');
    expect(observed[0]).toBe('time,offset_s,SYN_SENT,ESTABLISHED,FIN_WAIT1,FIN_WAIT2,CLOSE_WAIT');
    expect(observed[observed.length - 1]).toMatch(/,0,0,0,20,20$/);
  });

  test('a malformed --every or --port is a usage error naming the option', async () => {
    const db = await labDatabase('refused');
    for (const [option, value] of [
      ['--every', '0s'],
      ['--every', 'soon'],
      ['--port', '70000'],
      ['--format', 'xml'],
    ]) {
      const result = await flowstate(['timeline', db, option, value]);
      expect(result.status, `${option} ${value}`).toBe(2);
      expect(result.stderr).toContain(option);
    }
    // 47 ms of capture in steps of 1 ns would be 47 million rows.
    const tooMany = await flowstate(['timeline', await labDatabase('close-wait-leak'), '--every', '1ns']);
    expect(tooMany.status).toBe(2);
    expect(tooMany.stderr).toMatch(/--every 1 ns over 47 ms of capture would be 46,595,002 rows; at most 1,000,000/);
  });
});
