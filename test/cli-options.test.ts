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
      'flowstate: --at takes ISO-8601 (2026-11-21T14:03:07Z), a time of day on the capture\'s first day (14:03:07.5), epoch seconds (1763733787.5) or an offset from the capture start (+12.5s), not "teatime"\n',
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

describe('flow by 4-tuple (issue 27)', () => {
  test('the ip:port-ip:port form of flow --help finds the connection, from a database and from a capture, either direction', async () => {
    for (const [what, input] of [
      ['127.42.3.2:44024-127.42.3.1:8080', leakDb],
      ['127.42.3.1:8080-127.42.3.2:44024', capture('close-wait-leak.pcap')],
    ]) {
      const run = await flowstate(['flow', what, '--db', input]);
      expect(run.stderr, what).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^flow 1: 127\.42\.3\.2:44024 → 127\.42\.3\.1:8080 \(IPv4\)/);
    }
  });

  test('IPv6: bracketed, unbracketed where the port is plain, and written with leading zeros', async () => {
    const v6 = capture('ipv6.pcap');
    for (const what of ['[::1]:39394-[::1]:8086', '::1:39394-::1:8086', '[0:0::0001]:8086-[::1]:39394']) {
      const run = await flowstate(['flow', what, '--db', v6]);
      expect(run.stderr, what).toBe('');
      expect(run.stdout, what).toMatch(/^flow 1: \[::1\]:39394 → \[::1\]:8086 \(IPv6\)/);
    }
  });

  test('an unbracketed IPv6 endpoint that cannot be read as address:port is a usage error listing the forms', async () => {
    const run = await flowstate(['flow', 'fe80::1-fe80::2', '--db', leakDb]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('10.0.0.1:40000-10.0.0.2:80');
    expect(run.stderr).toContain('[2001:db8::1]:40000-[2001:db8::2]:80');
  });

  test('an address that is no address is a usage error', async () => {
    const run = await flowstate(['flow', '999.1.1.1:1-10.0.0.1:2', '--db', leakDb]);
    expect([run.status, run.stderr]).toEqual([2, 'flowstate: 999.1.1.1 is not an IPv4 or IPv6 address\n']);
  });

  test('an empty database has no flows, and says so', async () => {
    const empty = join(dir, 'empty.db');
    const pcap = join(dir, 'empty.pcap');
    // A pcap header and no packets.
    writeFileSync(pcap, Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex'));
    expect((await flowstate(['analyze', pcap, '--db', empty, '--quiet'])).status).toBe(0);
    const run = await flowstate(['flow', '1', '--db', empty]);
    expect([run.status, run.stderr]).toEqual([1, 'flowstate: there is no flow 1: the database holds no flows\n']);
  });
});

describe('the database as a positional or as --db (issue 27)', () => {
  test('netstat, timeline and html take --db as well as the positional; flow and report the positional as well as --db', async () => {
    const same = async (a: string[], b: string[]): Promise<void> => {
      const [one, two] = [await flowstate(a), await flowstate(b)];
      expect(one.stderr, a.join(' ')).toBe('');
      expect(two.stderr, b.join(' ')).toBe('');
      expect(two.stdout.replaceAll('b.html', 'a.html')).toBe(one.stdout);
    };
    await same(['netstat', leakDb, '--summary'], ['netstat', '--db', leakDb, '--summary']);
    await same(['timeline', leakDb], ['timeline', '--db', leakDb]);
    await same(['html', leakDb, '--out', join(dir, 'a.html')], ['html', '--db', leakDb, '--out', join(dir, 'b.html')]);
    await same(['flow', '3', '--db', leakDb], ['flow', '3', leakDb]);
    await same(['report', 'close-wait', '--db', leakDb], ['report', 'close-wait', leakDb]);
    await same(['export', '--format', 'csv', '--db', leakDb], ['export', '--format', 'csv', leakDb]);
    // The same file both ways is no contradiction.
    await same(['netstat', leakDb], ['netstat', leakDb, '--db', leakDb]);
  });

  test('a positional and a different --db are a usage error', async () => {
    for (const command of [['netstat'], ['timeline'], ['html'], ['flow', '1'], ['report', 'summary']]) {
      const run = await flowstate([...command, leakDb, '--db', capture('refused.pcap')]);
      expect(run.status, command[0]).toBe(2);
      expect(run.stderr).toMatch(/give the database or capture once/);
    }
  });
});

describe('--fail-on (issue 27)', () => {
  test('an unknown code is a usage error listing the codes', async () => {
    for (const command of [
      ['analyze', capture('refused.pcap'), '--db', join(dir, 'fail.db')],
      ['report', '--db', leakDb],
    ]) {
      const run = await flowstate([...command, '--fail-on', 'nosuchcode']);
      expect(run.status, command[0]).toBe(2);
      expect(run.stderr).toContain('not "nosuchcode"');
      expect(run.stderr).toContain('close-wait-leak, time-wait-pressure');
    }
  });

  test('a report name that names one finding is that finding', async () => {
    expect((await flowstate(['report', '--db', leakDb, '--fail-on', 'close-wait'])).status).toBe(3);
    expect((await flowstate(['report', '--db', leakDb, '--fail-on', 'close-wait-leak'])).status).toBe(3);
    const analyzed = await flowstate([
      'analyze',
      capture('close-wait-leak.pcap'),
      '--db',
      join(dir, 'fail.db'),
      '--quiet',
      '--fail-on',
      'close-wait',
    ]);
    expect(analyzed.status).toBe(3);
    // resets names two findings (abortive-close, rst-out-of-window): not a code.
    expect((await flowstate(['report', '--db', leakDb, '--fail-on', 'resets'])).status).toBe(2);
  });

  test('error and warning match by severity, warning including errors', async () => {
    // close-wait-leak is an error; refused.pcap has only info findings.
    expect((await flowstate(['report', '--db', leakDb, '--fail-on', 'error'])).status).toBe(3);
    expect((await flowstate(['report', '--db', leakDb, '--fail-on', 'warning'])).status).toBe(3);
    expect((await flowstate(['report', '--db', capture('refused.pcap'), '--fail-on', 'warning'])).status).toBe(0);
    expect((await flowstate(['report', '--db', capture('refused.pcap'), '--fail-on', 'refused'])).status).toBe(3);
  });
});

describe('--at outside the capture, times of day, zones (issue 27)', () => {
  test('a moment after the capture or before it is answered, with a note on stderr giving the span', async () => {
    const after = await flowstate(['netstat', leakDb, '--at', '2099-01-01T00:00:00Z', '--summary']);
    expect(after.status).toBe(0);
    expect(after.stderr).toBe(
      'flowstate: note: 2099-01-01T00:00:00.000000000Z is after the capture (2026-11-21T18:19:08.446014000Z … 2026-11-21T18:19:08.492609000Z): the states as they would be had nothing more been sent\n',
    );
    const before = await flowstate(['netstat', leakDb, '--at', '1970-01-01T00:00:00Z']);
    expect(before.status).toBe(0);
    expect(before.stderr).toBe(
      'flowstate: note: 1970-01-01T00:00:00.000000000Z is before the capture (2026-11-21T18:19:08.446014000Z … 2026-11-21T18:19:08.492609000Z): nothing had been seen yet\n',
    );
    expect(before.stdout).toBe('no endpoints at that moment\n');
    expect((await flowstate(['netstat', leakDb, '--at', '+10ms'])).stderr).toBe('');
  });

  test('a time of day is on the capture’s first day, in UTC or in the --tz given', async () => {
    const at = async (...args: string[]): Promise<string> => {
      const run = await flowstate(['netstat', leakDb, '--json', '--at', ...args]);
      expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(0);
      return run.stdout;
    };
    const iso = await at('2026-11-21T18:19:08.47Z');
    expect(await at('18:19:08.47')).toBe(iso);
    expect(await at('20:19:08.47', '--tz', '+02:00')).toBe(iso);
    expect(await at('19:19:08.47', '--tz', 'Europe/Paris')).toBe(iso);
    expect(await at('2026-11-21T13:19:08.47', '--tz', 'America/New_York')).toBe(iso);
    expect(await at('18:19:08.47', '--tz', 'UTC')).toBe(iso);
    const bad = await flowstate(['netstat', leakDb, '--at', '18:19', '--tz', 'Mars/Olympus']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('Mars/Olympus');
  });

  test('an impossible date or time is a usage error', async () => {
    for (const text of ['2013-02-30T10:00:00Z', '2026-11-21T24:30:00Z', '25:00:00']) {
      const run = await flowstate(['netstat', leakDb, '--at', text]);
      expect(run.status, text).toBe(2);
      expect(run.stderr).toContain(`"${text}"`);
    }
  });
});

describe('small ones (issue 27)', () => {
  test('netstat with nothing to show says so without naming a state filter that was not given', async () => {
    const run = await flowstate(['netstat', leakDb, '--port', '9']);
    expect([run.status, run.stdout]).toEqual([0, 'no endpoints at that moment\n']);
  });

  test('--host takes only an address, and IPv6 matches however it is written', async () => {
    for (const command of ['netstat', 'timeline']) {
      const run = await flowstate([command, leakDb, '--host', '999.1.1.1']);
      expect([run.status, run.stderr], command).toEqual([2, 'flowstate: --host: 999.1.1.1 is not an IPv4 or IPv6 address\n']);
    }
    const v6 = capture('ipv6.pcap');
    const canonical = await flowstate(['netstat', v6, '--host', '::1', '--json']);
    const zeros = await flowstate(['netstat', v6, '--host', '0:0:0:0:0:0:0:0001', '--json']);
    expect(json<unknown[]>(canonical.stdout).length).toBeGreaterThan(0);
    expect(zeros.stdout).toBe(canonical.stdout);
    const timeline = await flowstate(['timeline', v6, '--host', '[0::1]', '--format', 'csv']);
    expect(timeline.stdout).toBe((await flowstate(['timeline', v6, '--host', '::1', '--format', 'csv'])).stdout);
  });

  test('a directory given as a capture is named as one', async () => {
    const run = await flowstate(['netstat', dir]);
    expect([run.status, run.stderr]).toEqual([1, `flowstate: ${dir} is a directory, not a capture or a database\n`]);
  });

  test('report closing gives times as seconds after the first packet', async () => {
    const run = await flowstate(['report', 'closing', '--db', capture('simultaneous-close-closing.pcap'), '--format', 'json']);
    const rows = json<Array<Record<string, unknown>>>(run.stdout);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).not.toHaveProperty('ts_ns');
    expect(rows[0].offset_s).toBeTypeOf('number');
    expect(rows[0].offset_s as number).toBeLessThan(60);
  });
});
