// The command line's options and the paths users reach less often, in process:
// every way to say --at, filters, files written, terminals, captures that moved.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURES } from './helpers/paths.js';
import { CLI, flowstate, spawnFlowstate } from './helpers/run-cli.js';

let dir = '';
let leakDb = '';
const capture = (name: string): string => join(CAPTURES, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-options-'));
  leakDb = join(dir, 'leak.db');
  expect((await flowstate(['analyze', capture('close-wait-leak.pcap'), '--db', leakDb, '--quiet'])).status).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const json = <T>(text: string): T => JSON.parse(text) as T;

describe('netstat --at', () => {
  test('ISO-8601, epoch seconds and an offset from the start name the same moment', async () => {
    const [{ first }] = json<Array<{ first: string }>>(
      (await flowstate(['query', 'SELECT CAST(first_ns AS TEXT) AS first FROM captures', '--db', leakDb, '--format', 'json'])).stdout,
    );
    const atNs = BigInt(first) + 40_000_000n;
    const epoch = `${atNs / 1_000_000_000n}.${String(atNs % 1_000_000_000n).padStart(9, '0')}`;
    const iso = `${new Date(Number(atNs / 1_000_000n)).toISOString().slice(0, 19)}.${String(atNs % 1_000_000_000n).padStart(9, '0')}Z`;
    const views = [];
    for (const at of ['+0.040s', '+40ms', epoch, iso]) {
      const run = await flowstate(['netstat', leakDb, '--at', at, '--json']);
      expect(run.status, `${at}: ${run.stderr}`).toBe(0);
      views.push(run.stdout);
    }
    expect(new Set(views).size).toBe(1);
    expect(json<unknown[]>(views[0]).length).toBeGreaterThan(1);
  });

  test('a time it cannot read is a usage error that shows the accepted forms', async () => {
    const run = await flowstate(['netstat', leakDb, '--at', 'teatime']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'flowstate: --at takes ISO-8601 (2026-11-21T14:03:07Z), epoch seconds (1763733787.5) or an offset from the capture start (+12.5s), not "teatime"\n',
    );
  });

  test('at a past moment the table shows Send-Q read again from the capture', async () => {
    const run = await flowstate(['netstat', capture('zero-window.pcap'), '--at', '+0.01s', '--state', 'ESTAB']);
    expect(run.status, run.stderr).toBe(0);
    const rows = run.stdout.split('\n').slice(1).filter(Boolean);
    expect(rows.length).toBeGreaterThan(0);
    // The sender facing a zero window has data in flight: a Send-Q above 0.
    expect(rows.some((row) => Number(row.split(/\s+/)[2]) > 0)).toBe(true);
  });
});

describe('netstat filters', () => {
  test('--port keeps only endpoints with that local port; a bad port is a usage error', async () => {
    const run = await flowstate(['netstat', leakDb, '--port', '8080', '--json']);
    const entries = json<Array<{ local: string; state: string }>>(run.stdout);
    expect(entries.map((e) => e.state).sort()).toEqual([...Array<string>(20).fill('FIN_WAIT2'), 'LISTEN']);
    for (const e of entries) expect(e.local).toMatch(/:8080$/);
    expect((await flowstate(['netstat', leakDb, '--port', '70000'])).status).toBe(2);
  });

  test('a filter that matches nothing says so', async () => {
    const run = await flowstate(['netstat', leakDb, '--state', 'TIME-WAIT']);
    expect([run.status, run.stdout]).toEqual([0, 'no endpoints in those states at that time\n']);
    const summary = await flowstate(['netstat', leakDb, '--state', 'closing', '--summary']);
    expect(summary.stdout).toBe('no endpoints\n');
  });

  test('--summary --json counts per state', async () => {
    const run = await flowstate(['netstat', leakDb, '--summary', '--json']);
    expect(json(run.stdout)).toEqual({ CLOSE_WAIT: 20, FIN_WAIT2: 20, LISTEN: 1 });
  });
});

describe('analyze options', () => {
  test('--checksums drop leaves out the loopback capture’s segments, all sent before the NIC filled the checksum in', async () => {
    const kept = await flowstate(['analyze', capture('close-wait-leak.pcap'), '--db', join(dir, 'kept.db'), '--json']);
    const dropped = await flowstate([
      'analyze',
      capture('close-wait-leak.pcap'),
      '--db',
      join(dir, 'dropped.db'),
      '--json',
      '--checksums',
      'drop',
    ]);
    const summary = (run: { stdout: string }): { flows: number; checksums: Record<string, number> } =>
      JSON.parse(run.stdout) as { flows: number; checksums: Record<string, number> };
    // tshark -o tcp.check_checksum:TRUE says the same: all 180 bad.
    expect(summary(kept)).toMatchObject({ flows: 20, checksums: { verified: 180, bad: 180, dropped: 0 } });
    expect(summary(dropped)).toMatchObject({ flows: 0, checksums: { verified: 180, bad: 180, dropped: 180 } });
    const meta = await flowstate([
      'query',
      "SELECT value FROM meta WHERE key = 'checksums'",
      '--db',
      join(dir, 'dropped.db'),
      '--format',
      'csv',
    ]);
    expect(meta.stdout).toBe('value\ndrop\n');
  });

  test('--threads: 1 writes the database in the reading thread, more than 2 runs as 2, and the database is the same', async () => {
    // The built bin: only there is the writer thread's script.
    const ran = async (threads: string): Promise<{ threads: number; flows: number; dump: string }> => {
      const db = join(dir, `threads-${threads}.db`);
      const run = spawnFlowstate(['analyze', capture('many-short.pcap'), '--db', db, '--json', '--threads', threads]);
      expect(run.status, run.stderr).toBe(0);
      const summary = json<{ threads: number; flows: number }>(run.stdout);
      let dump = '';
      for (const table of ['flows', 'transitions', 'findings', 'listeners', 'captures'])
        dump += (await flowstate(['query', `SELECT * FROM ${table} ORDER BY 1, 2`, '--db', db, '--format', 'csv'])).stdout;
      return { threads: summary.threads, flows: summary.flows, dump };
    };
    const one = await ran('1');
    const two = await ran('2');
    const many = await ran('16');
    expect([one.threads, two.threads, many.threads]).toEqual([1, 2, 2]);
    expect(one.flows).toBeGreaterThan(100);
    expect(two.dump).toBe(one.dump);
    expect(many.dump).toBe(one.dump);
  });

  const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  test.skipIf(!taskset)('by default as many threads as CPUs the process may use, at most 2: one when pinned to one CPU', () => {
    const threadsOf = (prefix: string[]): number => {
      const args = [CLI, 'analyze', capture('refused.pcap'), '--db', join(dir, 'default-threads.db'), '--json'];
      const run =
        prefix.length === 0 ? spawnSync(process.execPath, args) : spawnSync(prefix[0], [...prefix.slice(1), process.execPath, ...args]);
      expect(run.status, String(run.stderr)).toBe(0);
      return json<{ threads: number }>(String(run.stdout)).threads;
    };
    expect(threadsOf(['taskset', '-c', '0'])).toBe(1);
    expect(threadsOf([])).toBe(Math.min(availableParallelism(), 2));
  });

  test('malformed thresholds and counts are usage errors naming the option', async () => {
    for (const [option, value] of [
      ['--close-wait-threshold', 'soon'],
      ['--fin-wait2-threshold', '1 week'],
      ['--closing-threshold', '-1'],
      ['--zero-window-threshold', 'x'],
      ['--half-open-threshold', '0'],
      ['--dead-peer-retransmissions', '2.5'],
      ['--half-open-limit', 'many'],
      ['--checksums', 'ignore'],
      ['--threads', '0'],
      ['--threads', 'all'],
    ]) {
      const run = await flowstate(['analyze', capture('refused.pcap'), '--db', join(dir, 'x.db'), option, value]);
      expect(run.status, option).toBe(2);
      expect(run.stderr).toContain(option);
    }
    const twice = await flowstate(['analyze', '-', '-', '--db', join(dir, 'x.db')]);
    expect([twice.status, twice.stderr]).toEqual([2, 'flowstate: standard input ("-") can be given only once\n']);
    expect((await flowstate(['analyze', capture('refused.pcap'), '--db', join(dir, 'x.db'), '--fail-on', 'Not A Code'])).status).toBe(2);
  });

  test('thresholds move where a finding is drawn', async () => {
    const kinds = async (...options: string[]): Promise<string[]> => {
      const run = await flowstate(['analyze', capture('fin-wait1.pcap'), '--db', join(dir, 'fw1.db'), '--json', ...options]);
      return json<{ findings: { by_kind: Array<{ kind: string }> } }>(run.stdout).findings.by_kind.map((k) => k.kind);
    };
    // The FIN is retransmitted once, unanswered: a dead peer only when one retransmission is enough to say so.
    expect(await kinds()).not.toContain('dead-peer');
    expect(await kinds('--dead-peer-retransmissions', '1')).toContain('dead-peer');
  });

  test('on a terminal: colour by severity and a progress bar, known size or not', async () => {
    const file = await flowstate(['analyze', capture('close-wait-leak.pcap'), '--db', join(dir, 'tty.db')], {
      tty: true,
      env: { NO_COLOR: undefined },
    });
    expect(file.stdout).toContain('\u001b[31m    error   20 connections from 127.42.3.2');
    expect(file.stderr).toMatch(/^\r\[#{24}\] 100%\s+[\d.]+ MB\/[\d.]+ MB\s+[\d,. k]+ packets\/s\s+ETA 0 s\u001b\[K\r\u001b\[K$/);
    const piped = await flowstate(['analyze', '-', '--db', join(dir, 'tty.db')], {
      tty: true,
      input: readFileSync(capture('close-wait-leak.pcap')),
    });
    expect(piped.stderr).toMatch(/^\r[\d.]+ MB read\s+180 packets\s+[\d,. k]+ packets\/s\u001b\[K\r\u001b\[K$/);
    expect(piped.stdout).not.toContain('\u001b[');
  });
});

describe('export', () => {
  test('--output writes the file; csv has every column of flows', async () => {
    const out = join(dir, 'flows.csv');
    const run = await flowstate(['export', '--format', 'csv', '--db', leakDb, '--output', out]);
    expect([run.status, run.stdout]).toEqual([0, '']);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[0].split(',').slice(0, 5)).toEqual(['id', 'client_ip', 'client_port', 'server_ip', 'server_port']);
  });

  test('an unknown format is a usage error', async () => {
    const run = await flowstate(['export', '--format', 'xml', '--db', leakDb]);
    expect([run.status, run.stderr]).toEqual([2, 'flowstate: --format takes zeek-conn, json, csv, parquet, not "xml"\n']);
  });
});

describe('flow', () => {
  test('when the capture has moved, the recorded transitions stand in for the segments', async () => {
    const moved = join(dir, 'moved.pcap');
    copyFileSync(capture('client-close.pcap'), moved);
    const db = join(dir, 'moved.db');
    await flowstate(['analyze', moved, '--db', db, '--quiet']);
    rmSync(moved);
    const run = await flowstate(['flow', '1', '--db', db]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`(${moved} is no longer there: showing the recorded transitions, not every segment)`);
    expect(run.stdout).toMatch(/client\s+SYN_SENT → ESTABLISHED/);
    expect(run.stdout).toMatch(/client\s+FIN_WAIT1 → TIME_WAIT\s+received FIN with ACK of FIN/);
    const asJson = json<{ segments: null; transitions: unknown[] }>((await flowstate(['flow', '1', '--db', db, '--json'])).stdout);
    expect(asJson.segments).toBeNull();
    expect(asJson.transitions.length).toBeGreaterThan(3);
  });

  test('--json gives the flow, its transitions, findings and every segment', async () => {
    const run = await flowstate(['flow', '1', '--db', capture('refused.pcap'), '--json']);
    const shown = json<{ flow: { id: number }; findings: Array<{ kind: string }>; segments: Array<{ flags: string }> }>(run.stdout);
    expect(shown.flow.id).toBe(1);
    expect(shown.findings.map((f) => f.kind)).toEqual(['refused']);
    expect(shown.segments.map((s) => s.flags)).toEqual(['SYN', 'RST,ACK']);
  });

  test('an id past the last flow, or text that is neither, say what to give', async () => {
    const none = await flowstate(['flow', '99', '--db', leakDb]);
    expect([none.status, none.stderr]).toEqual([1, 'flowstate: there is no flow 99 (flows are numbered 1 to 20)\n']);
    expect((await flowstate(['flow', 'the-slow-one', '--db', leakDb])).status).toBe(2);
  });
});

describe('results from a capture', () => {
  test('a capture cut short is used as far as it reads, with a warning', async () => {
    const whole = readFileSync(capture('close-wait-leak.pcap'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 30));
    const run = await flowstate(['netstat', cut, '--summary']);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(
      /^flowstate: .*cut\.pcap: the file ends inside frame \d+: .* that partial record was ignored \(byte offset \d+, frame \d+\)\n$/,
    );
    expect(run.stdout).toMatch(/CLOSE_WAIT\s+20/);
  });

  test('a file that is not there is named', async () => {
    const run = await flowstate(['report', '--db', join(dir, 'absent.db')]);
    expect([run.status, run.stderr]).toEqual([
      1,
      `flowstate: ${join(dir, 'absent.db')}: no such file (give a database written by flowstate analyze, or a capture)\n`,
    ]);
    expect(existsSync(join(dir, 'absent.db'))).toBe(false);
  });

  test('query refuses statements that write, on a database opened read-only', async () => {
    const run = await flowstate(['query', "UPDATE flows SET client_state = 'CLOSED'", '--db', leakDb]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/query runs statements that return rows/);
  });
});
