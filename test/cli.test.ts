// The CLI end to end, as users and scripts call it: outputs, exit codes, JSON
// shapes, --at times, and a previous database surviving an interrupted run. Most
// run in this process through run(); what only a real process shows (signals,
// exit status, a closed pipe, a terminal) runs the built bin.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CAPTURES, HAS_WILD, NO_WILD_MESSAGE, WILD } from './helpers/paths.js';
import { spawnSync } from 'node:child_process';
import { CLI, flowstate, spawnFlowstate, startFlowstate } from './helpers/run-cli.js';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from '../src/store/schema.js';

let dir = '';
const capture = (name: string): string => join(CAPTURES, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('flowstate analyze', () => {
  test('writes the database and prints the end states and the CLOSE_WAIT leak', async () => {
    const db = join(dir, 'leak.db');
    const run = await flowstate(['analyze', capture('close-wait-leak.pcap'), '--db', db]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/connections\s+20/);
    expect(run.stdout).toMatch(/client: CLOSE_WAIT 20/);
    expect(run.stdout).toMatch(/server: FIN_WAIT2 20/);
    expect(run.stdout).toMatch(/error\s+20 connections from 127\.42\.3\.2 to 127\.42\.3\.1:8080 sat in CLOSE_WAIT/);
    expect(existsSync(db)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('--json prints the documented summary shape', async () => {
    const run = await flowstate(['analyze', capture('refused.pcap'), '--db', join(dir, 'refused.db'), '--json']);
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(summary).sort()).toEqual(
      [
        'captures',
        'checksums',
        'database',
        'decode_issues',
        'elapsed_seconds',
        'end_states',
        'evicted_connections',
        'evicted_half_open',
        'findings',
        'flows',
        'incomplete',
        'ip_fragments',
        'midstream_flows',
        'packets',
        'packets_per_second',
        'shard',
        'tcp_segments',
        'threads',
        'unsupported_link_types',
      ].sort(),
    );
    expect(summary.end_states).toEqual({ client: { CLOSED: 1 }, server: { CLOSED: 1 } });
    expect((summary.findings as { by_kind: Array<{ kind: string }> }).by_kind.map((k) => k.kind)).toEqual(['refused']);
    expect(typeof (summary.captures as Array<{ first_ns: unknown }>)[0].first_ns).toBe('number');
  });

  test('keeps nanosecond times exact in JSON (beyond 2^53)', async () => {
    const run = await flowstate(['analyze', capture('fmt-nsec.pcap'), '--db', join(dir, 'nsec.db'), '--json']);
    const raw = /"first_ns": (\d+)/.exec(run.stdout)?.[1];
    const query = await flowstate(['query', 'SELECT first_ns FROM captures', '--db', join(dir, 'nsec.db'), '--format', 'csv']);
    expect(raw).toBeDefined();
    expect(query.stdout.split('\n')[1]).toBe(raw);
    expect(BigInt(raw as string) % 1000n).not.toBe(0n); // the nanoseconds survived
  });

  test('--quiet prints nothing; --fail-on exits 3 when such a finding exists, 0 when not', async () => {
    const quiet = await flowstate(['analyze', capture('close-wait-leak.pcap'), '--db', join(dir, 'q.db'), '--quiet']);
    expect([quiet.status, quiet.stdout]).toEqual([0, '']);
    expect(
      (await flowstate(['analyze', capture('close-wait-leak.pcap'), '--db', join(dir, 'q.db'), '--quiet', '--fail-on', 'close-wait-leak']))
        .status,
    ).toBe(3);
    expect(
      (
        await flowstate([
          'analyze',
          capture('client-close.pcap'),
          '--db',
          join(dir, 'q.db'),
          '--quiet',
          '--fail-on',
          'close-wait-leak,refused',
        ])
      ).status,
    ).toBe(0);
  });

  test('reads gzip by content and standard input', async () => {
    const gz = join(dir, 'leak.bin');
    writeFileSync(gz, gzipSync(readFileSync(capture('close-wait-leak.pcap'))));
    const fromGzip = await flowstate(['analyze', gz, '--db', join(dir, 'gz.db'), '--json']);
    expect((JSON.parse(fromGzip.stdout) as { flows: number }).flows).toBe(20);
    const fromStdin = await flowstate(['analyze', '-', '--db', join(dir, 'stdin.db'), '--json'], {
      input: readFileSync(capture('close-wait-leak.pcap')),
    });
    expect(fromStdin.status, fromStdin.stderr).toBe(0);
    expect((JSON.parse(fromStdin.stdout) as { flows: number }).flows).toBe(20);
  });

  test('bad input: one clear line, exit 1, no stack trace, no database', async () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello, this is not a capture\n');
    const run = await flowstate(['analyze', text, '--db', join(dir, 'none.db')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/not a pcap or pcapng capture: it starts with 68 65 6c 6c 6f 2c 20 74 \(text "hello, t"\)/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'none.db'))).toBe(false);
    const missing = await flowstate(['analyze', join(dir, 'nope.pcap'), '--db', join(dir, 'none.db')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.pcap/);
  });

  test('a capture cut short keeps what was read, names the offset and frame, exits 1', async () => {
    const whole = readFileSync(capture('close-wait-leak.pcap'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 30));
    const db = join(dir, 'cut.db');
    const run = await flowstate(['analyze', cut, '--db', db]);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /warning\s+.*cut\.pcap: the file ends inside frame \d+: \d+ of \d+ bytes of its record present; that partial record was ignored \(byte offset \d+, frame \d+\)/,
    );
    const flows = await flowstate(['query', 'SELECT COUNT(*) AS n FROM flows', '--db', db, '--format', 'json']);
    expect(JSON.parse(flows.stdout)).toEqual([{ n: 20 }]);
  });

  test('end states in flows agree with each endpoint’s last transition, TIME_WAITs expired in the capture included', async () => {
    const db = join(dir, 'short-tw.db');
    expect((await flowstate(['analyze', capture('many-short.pcap'), '--db', db, '--quiet', '--time-wait', '0.005'])).status).toBe(0);
    const last = (role: string): string =>
      `COALESCE((SELECT to_state FROM transitions t WHERE t.flow_id = f.id AND t.endpoint = '${role}' ORDER BY ts_ns DESC, id DESC LIMIT 1), 'UNKNOWN')`;
    const disagree = await flowstate([
      'query',
      `SELECT COUNT(*) AS n FROM flows f WHERE client_state != ${last('client')} OR server_state != ${last('server')}`,
      '--db',
      db,
      '--format',
      'json',
    ]);
    expect(JSON.parse(disagree.stdout)).toEqual([{ n: 0 }]);
    const expired = await flowstate([
      'query',
      "SELECT COUNT(*) AS n FROM transitions WHERE cause = '2MSL elapsed'",
      '--db',
      db,
      '--format',
      'json',
    ]);
    expect((JSON.parse(expired.stdout) as Array<{ n: number }>)[0].n).toBeGreaterThan(100);
    const packets = await flowstate([
      'query',
      'SELECT SUM(client_packets + server_packets) AS n FROM flows',
      '--db',
      db,
      '--format',
      'json',
    ]);
    const segments = await flowstate(['query', 'SELECT tcp_packets AS n FROM captures', '--db', db, '--format', 'json']);
    expect(JSON.parse(packets.stdout)).toEqual(JSON.parse(segments.stdout));
  });

  test('usage errors exit 2', async () => {
    expect((await flowstate(['analyze'])).status).toBe(2);
    expect((await flowstate(['analyze', capture('refused.pcap'), '--time-wait', 'soon'])).status).toBe(2);
    expect((await flowstate(['netstat', capture('refused.pcap'), '--state', 'HALF_DONE'])).status).toBe(2);
    expect((await flowstate(['frobnicate'])).status).toBe(2);
  });

  test('an interrupted run leaves the previous database untouched and no half-written file', async () => {
    const db = join(dir, 'keep.db');
    expect((await flowstate(['analyze', capture('client-close.pcap'), '--db', db, '--quiet'])).status).toBe(0);
    const before = createHash('sha256').update(readFileSync(db)).digest('hex');
    // A capture large enough to take a while: the many-short scenario over and over, shifted in time.
    const big = join(dir, 'big.pcap');
    writeFileSync(big, repeatCapture(readFileSync(capture('many-short.pcap')), 400));
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const child = startFlowstate(['analyze', big, '--db', 'keep.db'], dir);
      await waitFor(() => readdirSync(dir).some((f) => f.startsWith('.keep.db.') && f.endsWith('.tmp')));
      child.kill(signal);
      const code = await new Promise<number | null>((resolve) => child.on('exit', (status) => resolve(status)));
      if (signal === 'SIGINT') {
        expect(code).toBe(130);
        expect(readdirSync(dir).filter((f) => f.startsWith('.keep.db.'))).toEqual([]);
      }
      expect(createHash('sha256').update(readFileSync(db)).digest('hex')).toBe(before);
      for (const f of readdirSync(dir).filter((f) => f.startsWith('.keep.db.'))) rmSync(join(dir, f));
    }
  }, 60_000);
});

describe('the flowstate process', () => {
  test('exit status: 0 for --version, 2 for usage, 1 for bad input with one line and no stack', () => {
    expect(spawnFlowstate(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(spawnFlowstate(['--version']).status).toBe(0);
    expect(spawnFlowstate(['analyze']).status).toBe(2);
    const missing = spawnFlowstate(['analyze', join(dir, 'nope.pcap'), '--db', join(dir, 'none.db')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^flowstate: cannot open .*nope\.pcap/);
  });

  test('a reader that closes the pipe early (| head) is not a failure', () => {
    const script = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} export --format json --db ${JSON.stringify(capture('many-short.pcap'))} | head -c 10 >/dev/null; echo "status \${PIPESTATUS[0]}"`;
    const shell = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(shell.stdout.trim()).toBe('status 0');
    expect(shell.stderr).toBe('');
  });

  test.skipIf(spawnSync('script', ['--version']).status !== 0)(
    'on a terminal, analyze draws a progress bar on stderr and clears it',
    () => {
      const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} analyze ${JSON.stringify(capture('many-short.pcap'))} --db ${JSON.stringify(join(dir, 'tty.db'))}`;
      // script(1) gives the command a pseudo-terminal for stdin, stdout and stderr alike.
      const tty = spawnSync('script', ['-qec', command, '/dev/null'], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', TERM: 'xterm' },
      });
      expect(tty.status, tty.stdout).toBe(0);
      expect(tty.stdout).toMatch(/\r\[#+\.*\]\s+\d+%\s+[\d.]+ MB\/[\d.]+ MB\s+[\d,.]+ (k )?packets\/s/);
      expect(tty.stdout).toContain('\r\u001b[K');
      expect(tty.stdout).toMatch(/connections\s+\d+/);
    },
  );
});

describe('interrupts in process', () => {
  test('an interrupt during analyze exits 130 and leaves no database', async () => {
    const db = join(dir, 'interrupted.db');
    const run = await flowstate(['analyze', capture('many-short.pcap'), '--db', db], { onInterruptListener: (interrupt) => interrupt() });
    expect(run.status).toBe(130);
    expect(run.stderr).toBe(`flowstate: interrupted: ${db} was left as it was\n`);
    expect(existsSync(db)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.interrupted.db'))).toEqual([]);
  });
});

describe('flowstate query', () => {
  test('tables as JSON and CSV; a SQL error lists the tables and their columns', async () => {
    const db = join(dir, 'leak.db');
    const json = await flowstate(['query', 'SELECT client_state, COUNT(*) AS n FROM flows GROUP BY 1', '--db', db, '--format', 'json']);
    expect(JSON.parse(json.stdout)).toEqual([{ client_state: 'CLOSE_WAIT', n: 20 }]);
    const csv = await flowstate(['query', 'SELECT server_state, server_port FROM flows LIMIT 1', '--db', db, '--format', 'csv']);
    expect(csv.stdout).toBe('server_state,server_port\nFIN_WAIT2,8080\n');
    const bad = await flowstate(['query', 'SELECT nope FROM flows', '--db', db]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/no such column: nope/);
    expect(bad.stderr).toMatch(/flows\(id, client_ip, client_port, server_ip, server_port/);
    const write = await flowstate(['query', 'DELETE FROM flows', '--db', db]);
    expect(write.status).toBe(1);
    expect((await flowstate(['query', 'SELECT COUNT(*) FROM flows', '--db', db, '--format', 'csv'])).stdout).toMatch(/\n20\n$/);
  });
});

describe('a database of another schema version', () => {
  test('query, report and netstat name its version and ask for analyze again, exit 1', async () => {
    const db = join(dir, 'older.db');
    expect((await flowstate(['analyze', capture('refused.pcap'), '--db', db, '--quiet'])).status).toBe(0);
    const handle = new Database(db);
    handle.pragma('user_version = 3');
    handle.close();
    for (const argv of [
      ['query', 'SELECT 1', '--db', db],
      ['report', '--db', db],
      ['netstat', db, '--summary'],
    ]) {
      const run = await flowstate(argv);
      expect(run.status, argv[0]).toBe(1);
      expect(run.stderr, argv[0]).toMatch(
        new RegExp(`older\\.db has schema version 3; this flowstate reads version ${SCHEMA_VERSION}: analyse the capture again`),
      );
    }
  });
});

describe('the refused report', () => {
  test('finds a refused connection by its event code, RECV_RST, in the transitions view', async () => {
    const db = join(dir, 'refused-report.db');
    await flowstate(['analyze', capture('refused.pcap'), '--db', db, '--quiet']);
    const events = await flowstate([
      'query',
      "SELECT DISTINCT event, cause FROM transitions WHERE to_state = 'CLOSED' ORDER BY 1",
      '--db',
      db,
      '--format',
      'json',
    ]);
    expect(JSON.parse(events.stdout)).toContainEqual({ event: 'RECV_RST', cause: 'received RST' });
    const run = await flowstate(['report', 'refused', '--db', db, '--format', 'json']);
    expect(run.status).toBe(0);
    expect((JSON.parse(run.stdout) as unknown[]).length).toBeGreaterThan(0);
  });
});

describe('flowstate netstat', () => {
  test('--summary counts per state like netstat | awk', async () => {
    const run = await flowstate(['netstat', join(dir, 'leak.db'), '--summary']);
    expect(
      run.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)),
    ).toEqual([
      ['State', 'Count', 'Inferred'],
      ['CLOSE_WAIT', '20', '0'],
      ['FIN_WAIT2', '20', '0'],
      ['LISTEN', '1', '1'],
    ]);
  });

  test('--json honours the contract: exactly proto, local, remote, state, flow, inferred', async () => {
    const run = await flowstate(['netstat', capture('ipv6.pcap'), '--json', '--all']);
    const entries = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(Object.keys(e)).toEqual(['proto', 'local', 'remote', 'state', 'flow', 'inferred']);
    const client = entries.find((e) => e.state === 'TIME_WAIT');
    expect(client).toMatchObject({ proto: 'tcp6', remote: '[::1]:8086', inferred: false });
    expect(client?.local).toMatch(/^\[::1\]:\d+$/);
  });

  test('--at: a CLOSE_WAIT at that time is listed; a TIME_WAIT expired by then is gone', async () => {
    const leak = await flowstate(['netstat', join(dir, 'leak.db'), '--at', '+0.040s', '--state', 'close-wait', '--json']);
    const atT = JSON.parse(leak.stdout) as Array<{ state: string }>;
    expect(atT.length).toBeGreaterThan(0);
    expect(atT.length).toBeLessThanOrEqual(20);
    const db = join(dir, 'tw.db');
    await flowstate(['analyze', capture('client-close.pcap'), '--db', db, '--quiet']);
    const [{ t: end }] = JSON.parse(
      (await flowstate(['query', 'SELECT MAX(last_ns) AS t FROM captures', '--db', db, '--format', 'json'])).stdout,
    ) as Array<{ t: number }>;
    const endSeconds = (BigInt(end) / 1_000_000_000n).toString();
    const atEnd = JSON.parse((await flowstate(['netstat', db, '--json'])).stdout) as Array<{ state: string }>;
    expect(atEnd.map((e) => e.state).sort()).toEqual(['LISTEN', 'TIME_WAIT']);
    const later = JSON.parse((await flowstate(['netstat', db, '--json', '--at', `${Number(endSeconds) + 61}`])).stdout) as Array<{
      state: string;
    }>;
    expect(later.map((e) => e.state)).toEqual(['LISTEN']);
  });

  test('--host gives one host’s view; Send-Q at a past moment comes from the capture', async () => {
    const run = await flowstate(['netstat', capture('zero-window.pcap'), '--host', '127.42.20.2']);
    expect(run.status, run.stderr).toBe(0);
    for (const line of run.stdout.split('\n').slice(1).filter(Boolean)) expect(line).toMatch(/^tcp\s+-\s+\d+\s+127\.42\.20\.2:/);
  });
});

describe('flowstate flow, report, export', () => {
  test('flow shows every segment with both states after it', async () => {
    const run = await flowstate(['flow', '1', '--db', capture('client-close.pcap')]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/client → server\s+SYN\s+0\s+0\s+\d+\s+SYN_SENT\s+UNKNOWN/);
    expect(run.stdout).toMatch(/FIN_WAIT1/);
    expect(run.stdout).toMatch(/TIME_WAIT\s+CLOSED/);
    const byTuple = await flowstate(['flow', '127.42.1.1:8080-127.42.1.2:0', '--db', capture('client-close.pcap')]);
    expect(byTuple.status).toBe(1);
  });

  test('report lists findings worst first and shows its SQL', async () => {
    const run = await flowstate(['report', '--db', join(dir, 'leak.db')]);
    expect(run.stdout).toMatch(/close-wait-leak\s+error\s+1\s+20/);
    expect(run.stdout).toMatch(/What helps:\n\s+close-wait-leak: the application does not call close\(\)/);
    const sql = await flowstate(['report', 'close-wait', '--db', join(dir, 'leak.db'), '--show-sql']);
    expect(sql.stdout).toMatch(/FROM transitions t/);
    expect(sql.stdout).toMatch(/127\.42\.3\.2 -> 127\.42\.3\.1:8080\s+client\s+20\s+20/);
    for (const name of ['time-wait', 'half-open', 'closing', 'resets', 'refused', 'keepalive', 'zero-window']) {
      expect((await flowstate(['report', name, '--db', join(dir, 'leak.db'), '--format', 'json'])).status).toBe(0);
    }
    expect((await flowstate(['report', 'nonsense', '--db', join(dir, 'leak.db')])).status).toBe(2);
  });

  test('export writes a Zeek conn.log and Zeek JSON lines', async () => {
    const tsv = await flowstate(['export', '--format', 'zeek-conn', '--db', capture('refused.pcap')]);
    const lines = tsv.stdout.split('\n');
    expect(lines[0]).toBe('#separator \\x09');
    expect(lines.find((l) => l.startsWith('#fields'))).toBe(
      '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents',
    );
    expect(lines.filter((l) => !l.startsWith('#') && l !== '').map((l) => l.split('\t')[11])).toEqual(['REJ']);
    const json = await flowstate(['export', '--format', 'json', '--db', capture('client-close.pcap')]);
    const record = JSON.parse(json.stdout.split('\n')[0]) as Record<string, unknown>;
    expect(record).toMatchObject({ conn_state: 'SF', proto: 'tcp', 'id.resp_p': 8080 });
  });
});

/** The same pcap records over and over, each copy shifted 100 s later: a big, valid capture. */
function repeatCapture(pcap: Buffer, copies: number): Buffer {
  const header = pcap.subarray(0, 24);
  const records = pcap.subarray(24);
  const parts = [header];
  for (let i = 0; i < copies; i++) {
    const copy = Buffer.from(records);
    for (let at = 0; at + 16 <= copy.length;) {
      copy.writeUInt32LE(copy.readUInt32LE(at) + i * 100, at);
      at += 16 + copy.readUInt32LE(at + 8);
    }
    parts.push(copy);
  }
  return Buffer.concat(parts);
}

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.skipIf(!HAS_WILD)('IP fragments on real captures', () => {
  test('an HTTP request in 11 IPv4 fragments is one segment, tracked at the last fragment’s frame', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowstate-frag-'));
    try {
      const run = await flowstate(['analyze', join(WILD, 'formats/ppp-frag_http_req.pcap'), '--db', join(dir, 'f.db'), '--json']);
      expect(run.status, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout) as { tcp_segments: number; flows: number; ip_fragments: Record<string, number> };
      expect(summary.ip_fragments).toMatchObject({ fragments: 11, reassembled: 1, overlapping: 0, incomplete: 0 });
      expect([summary.tcp_segments, summary.flows]).toEqual([1, 1]);
      const frames = await flowstate(['query', 'SELECT first_frame, last_frame FROM flows', '--db', join(dir, 'f.db'), '--format', 'csv']);
      expect(frames.stdout.trim().split('\n')[1]).toBe('11,11');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
if (!HAS_WILD) test.skip(NO_WILD_MESSAGE, () => undefined);
