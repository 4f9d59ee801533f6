// The user's files are evidence: what flowstate reads is never written over, a file
// it did not write is never replaced without --force, a good database survives bad
// input, and no temporary file outlives a run, whatever the input or the path.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { analyze } from '../src/analyze.js';
import { DatabaseReader } from '../src/store/database-reader.js';
import { CAPTURES, HAS_WILD, NO_WILD_MESSAGE, WILD } from './helpers/paths.js';
import { CLI, flowstate, spawnFlowstate } from './helpers/run-cli.js';

let dir = '';
const LEAK = join(CAPTURES, 'close-wait-leak.pcap');
const hashOf = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const at = (name: string): string => join(dir, name);
/** Files a run left beside its target that it did not mean to: temporary databases, locks, journals. */
const strays = (): string[] => readdirSync(dir).filter((name) => /\.(tmp|lock|partial)(-journal|-wal|-shm)?$/.test(name));

/** Whole pcap records in `bytes` (a file's decompressed prefix): the frames a reader can rightly return. */
function wholePcapRecords(bytes: Buffer): number {
  let offset = 24;
  let records = 0;
  while (offset + 16 <= bytes.length) {
    const length = bytes.readUInt32LE(offset + 8);
    if (offset + 16 + length > bytes.length) break;
    offset += 16 + length;
    records++;
  }
  return records;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-evidence-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('analyze never writes over what the user brought', () => {
  test('--db naming the capture itself is refused and the capture is untouched', async () => {
    copyFileSync(LEAK, at('r.pcap'));
    const before = hashOf(at('r.pcap'));
    for (const args of [
      ['analyze', at('r.pcap'), '--db', at('r.pcap')],
      ['analyze', at('r.pcap'), '--db', at('r.pcap'), '--force'],
    ]) {
      const run = await flowstate(args);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`${at('r.pcap')} is an input of this run`);
      expect(hashOf(at('r.pcap'))).toBe(before);
    }
    expect(strays()).toEqual([]);
  });

  test('an input reached by another name (a symbolic link path) is recognised by device and inode', async () => {
    copyFileSync(LEAK, at('same.pcap'));
    const before = hashOf(at('same.pcap'));
    const run = await flowstate(['analyze', join(dir, '.', 'same.pcap'), '--db', at('same.pcap')]);
    expect(run.status).toBe(2);
    expect(hashOf(at('same.pcap'))).toBe(before);
  });

  test('the slip "analyze --db a.pcap b.pcap" keeps a.pcap: it is not a database flowstate wrote', async () => {
    copyFileSync(LEAK, at('a.pcap'));
    copyFileSync(join(CAPTURES, 'client-close.pcap'), at('b.pcap'));
    const before = hashOf(at('a.pcap'));
    const run = await flowstate(['analyze', '--db', at('a.pcap'), at('b.pcap')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${at('a.pcap')} exists and is not a database flowstate wrote: it was left as it was`);
    expect(run.stderr).toContain('--force');
    expect(hashOf(at('a.pcap'))).toBe(before);
  });

  test('a text file or another program’s SQLite database is kept; --force replaces it', async () => {
    writeFileSync(at('notes.txt'), 'my notes\n');
    const foreign = new Database(at('other.sqlite'));
    foreign.exec("CREATE TABLE accounts (name TEXT); INSERT INTO accounts VALUES ('alice')");
    foreign.close();
    for (const name of ['notes.txt', 'other.sqlite']) {
      const before = hashOf(at(name));
      const refused = await flowstate(['analyze', LEAK, '--db', at(name), '--quiet']);
      expect(refused.status, name).toBe(2);
      expect(hashOf(at(name))).toBe(before);
      const forced = await flowstate(['analyze', LEAK, '--db', at(name), '--quiet', '--force']);
      expect(forced.status, forced.stderr).toBe(0);
      const reader = new DatabaseReader(at(name));
      expect(reader.flows()).toHaveLength(20);
      reader.close();
    }
    expect(strays()).toEqual([]);
  });

  test('a database flowstate wrote is replaced, as every rerun expects', async () => {
    expect((await flowstate(['analyze', LEAK, '--db', at('rerun.db'), '--quiet'])).status).toBe(0);
    const run = await flowstate(['analyze', join(CAPTURES, 'client-close.pcap'), '--db', at('rerun.db'), '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    const reader = new DatabaseReader(at('rerun.db'));
    expect(reader.flows()).toHaveLength(1);
    reader.close();
  });

  test('a database written before databases carried flowstate’s application id is still recognised as flowstate’s', async () => {
    expect((await flowstate(['analyze', LEAK, '--db', at('old.db'), '--quiet'])).status).toBe(0);
    const db = new Database(at('old.db'));
    db.pragma('application_id = 0');
    db.close();
    const run = await flowstate(['analyze', LEAK, '--db', at('old.db'), '--quiet']);
    expect(run.status, run.stderr).toBe(0);
  });

  test('--db naming a directory, an empty name or a missing directory fails naming the path, leaving no temporary file', async () => {
    mkdirSync(at('a-directory'));
    const cases: Array<[string, string]> = [
      [at('a-directory'), `${at('a-directory')} is a directory`],
      ['', '--db needs a file name'],
      [join(dir, 'nowhere', 'x.db'), `cannot write ${join(dir, 'nowhere', 'x.db')}: the directory ${join(dir, 'nowhere')} does not exist`],
    ];
    for (const [target, message] of cases) {
      const run = await flowstate(['analyze', LEAK, '--db', target]);
      expect(run.status, target).not.toBe(0);
      expect(run.stderr).toContain(message);
      expect(run.stderr).not.toMatch(/\.tmp|internal error/);
    }
    expect(readdirSync(at('a-directory'))).toEqual([]);
    expect(strays()).toEqual([]);
  });
});

describe('bad input never costs the previous database', () => {
  const broken: Array<[string, () => Buffer]> = [
    ['an 8-byte pcapng section header', () => Buffer.from([0x0a, 0x0d, 0x0d, 0x0a, 0xff, 0xff, 0xff, 0xff])],
    ['the first 30 bytes of a pcap', () => readFileSync(LEAK).subarray(0, 30)],
    ['an empty file', () => Buffer.alloc(0)],
    ['text', () => Buffer.from('not a capture at all\n')],
  ];
  for (const [what, bytes] of broken) {
    test(`${what}: the good database stays byte for byte, and the message says so`, async () => {
      const db = at(`keep-${what.replace(/\W+/g, '-')}.db`);
      expect((await flowstate(['analyze', LEAK, '--db', db, '--quiet'])).status).toBe(0);
      const before = hashOf(db);
      const capture = at(`broken-${what.replace(/\W+/g, '-')}.pcap`);
      writeFileSync(capture, bytes());
      const run = await flowstate(['analyze', capture, '--db', db]);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`${db} was left as it was`);
      expect(hashOf(db)).toBe(before);
      expect(strays()).toEqual([]);
    });
  }

  test.skipIf(!HAS_WILD)('the malformed pcapng files of the public corpus keep the previous database', async () => {
    const db = at('wild-keep.db');
    expect((await flowstate(['analyze', LEAK, '--db', db, '--quiet'])).status).toBe(0);
    const before = hashOf(db);
    for (const name of ['libpcap-pcapng-invalid-vers-1.pcapng', 'libpcap-shb-option-too-long.pcapng']) {
      const run = await flowstate(['analyze', join(WILD, 'formats', name), '--db', db, '--quiet']);
      expect(run.status, name).toBe(1);
      expect(run.stderr).toContain(`${db} was left as it was`);
      expect(hashOf(db)).toBe(before);
    }
  });
  if (!HAS_WILD) test.skip(NO_WILD_MESSAGE, () => undefined);
});

describe('what was read is kept', () => {
  test('a gzip capture cut short keeps every whole frame before the cut, and says where reading stopped', async () => {
    const whole = readFileSync(join(CAPTURES, 'fmt-usec.pcap.gz'));
    const cut = whole.subarray(0, Math.floor(whole.length * 0.6));
    writeFileSync(at('cut.pcap.gz'), cut);
    // The oracle: what zlib can decompress from the prefix, and the whole records in it.
    const prefix = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH });
    const expected = wholePcapRecords(prefix);
    expect(expected).toBeGreaterThan(0);
    const run = await flowstate(['analyze', at('cut.pcap.gz'), '--db', at('cut.db'), '--json']);
    expect(run.status).toBe(1);
    const summary = JSON.parse(run.stdout) as { packets: number; incomplete: string };
    expect(summary.packets).toBe(expected);
    expect(summary.incomplete).toContain('gzip data is corrupt or cut short');
    expect(run.stderr).toContain(`${at('cut.db')} holds everything read before it`);
  });

  test('one corrupt file among several stops only that file: every frame of the others is read', async () => {
    const good = join(CAPTURES, 'many-short.pcap');
    const alone = await analyze(good);
    const corrupt = Buffer.from(readFileSync(LEAK));
    corrupt.writeUInt32LE(0x7fffffff, 24 + 8); // the first record claims an impossible length
    writeFileSync(at('corrupt.pcap'), corrupt);
    const both = await analyze([at('corrupt.pcap'), good]);
    expect(both.captures[1].packets).toBe(alone.captures[0].packets);
    expect(both.captures[1].error).toBeNull();
    expect(both.captures[0].error).toContain('corrupt.pcap');
    expect(both.incomplete).toBe(both.captures[0].error);
  });

  test('the library says in one place whether a run read everything: `incomplete`', async () => {
    const bytes = readFileSync(LEAK);
    writeFileSync(at('cut-data.pcap'), bytes.subarray(0, bytes.length - 5));
    const cut = await analyze(at('cut-data.pcap'));
    expect(cut.incomplete).toMatch(/the file ends inside frame 180/);
    expect((await analyze(LEAK)).incomplete).toBeUndefined();
  });
});

describe('a cut in the last record header is a warning, not a failure', () => {
  test('exit 0 with the warning on stderr (even with --quiet); --strict makes it exit 1', async () => {
    const bytes = readFileSync(LEAK);
    writeFileSync(at('tail.pcap'), Buffer.concat([bytes, Buffer.from([0x42])]));
    const quiet = await flowstate(['analyze', at('tail.pcap'), '--db', at('tail.db'), '--quiet']);
    expect(quiet.status).toBe(0);
    expect(quiet.stdout).toBe('');
    expect(quiet.stderr).toContain('warning: ');
    expect(quiet.stderr).toContain('the file ends inside frame 181: 1 of 16 bytes');
    const strict = await flowstate(['analyze', at('tail.pcap'), '--db', at('tail.db'), '--quiet', '--strict']);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain('the file ends inside frame 181');
  });

  test('a cut inside a frame’s data exits 1, and --quiet still says why on stderr', async () => {
    const bytes = readFileSync(LEAK);
    writeFileSync(at('cut-frame.pcap'), bytes.subarray(0, bytes.length - 5));
    const run = await flowstate(['analyze', at('cut-frame.pcap'), '--db', at('cut-frame.db'), '--quiet']);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('the file ends inside frame 180');
  });
});

describe('inputs given twice', () => {
  test('the same file twice, or a copy of it, is refused instead of doubling every packet', async () => {
    copyFileSync(LEAK, at('twice.pcap'));
    copyFileSync(LEAK, at('copy.pcap'));
    const same = await flowstate(['analyze', at('twice.pcap'), at('twice.pcap'), '--db', at('twice.db')]);
    expect(same.status).toBe(2);
    expect(same.stderr).toContain('are the same file');
    const copy = await flowstate(['analyze', at('twice.pcap'), at('copy.pcap'), '--db', at('twice.db')]);
    expect(copy.status).toBe(2);
    expect(copy.stderr).toContain('hold the same capture');
    expect(existsSync(at('twice.db'))).toBe(false);
  });

  test('two different captures are read together as before', async () => {
    const run = await flowstate(['analyze', LEAK, join(CAPTURES, 'client-close.pcap'), '--db', at('two.db'), '--quiet']);
    expect(run.status, run.stderr).toBe(0);
  });
});

describe('captures that are not regular files', () => {
  test('a directory says so with its path', async () => {
    const run = await flowstate(['analyze', dir, '--db', at('dir.db')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`flowstate: ${dir} is a directory, not a capture\n`);
  });

  test('a FIFO is read as a stream, as standard input is', () => {
    const fifo = at('capture.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const writer = spawn('sh', ['-c', `cat '${LEAK}' > '${fifo}'`]);
    const run = spawnFlowstate(['analyze', fifo, '--db', at('fifo.db'), '--json']);
    writer.kill();
    expect(run.status, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { packets: number }).packets).toBe(180);
    // Its database names the FIFO: flow and html say it cannot be read again instead of waiting for a writer forever.
    const flow = spawnFlowstate(['flow', '1', '--db', at('fifo.db')], { timeout: 20_000 });
    expect(flow.status, flow.stderr).toBe(0);
    expect(flow.stdout).toContain(`${fifo} is not a regular file (a FIFO or a device), so it cannot be read again`);
  });
});

describe('one writer at a time, and nothing left behind', () => {
  test('a second run into the same --db while the first holds it is refused clearly', async () => {
    // A live process holds the lock: a sleeping child stands in for a running flowstate.
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(at('.locked.db.lock'), `${JSON.stringify({ pid: holder.pid, host: hostname() })}\n`);
      const run = await flowstate(['analyze', LEAK, '--db', at('locked.db')]);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`another flowstate run (pid ${holder.pid}) is writing ${at('locked.db')}`);
      expect(existsSync(at('locked.db'))).toBe(false);
    } finally {
      holder.kill();
      rmSync(at('.locked.db.lock'), { force: true });
    }
  });

  test('the lock and temporary files of a killed run are swept by the next run into that --db', async () => {
    const target = at('killed.db');
    expect((await flowstate(['analyze', LEAK, '--db', target, '--quiet'])).status).toBe(0);
    const before = hashOf(target);
    // A run killed with SIGKILL while writing: its lock and temporary database stay.
    const child = spawn(process.execPath, [CLI, 'analyze', join(CAPTURES, 'many-short.pcap'), '--db', target], { stdio: 'ignore' });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (readdirSync(dir).some((name) => name.startsWith('.killed.db.') && name.endsWith('.tmp')) || child.exitCode !== null) {
          clearInterval(poll);
          resolve();
        }
      }, 1);
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(hashOf(target)).toBe(before);
    // Stale leftovers of earlier versions (named by pid) are swept too.
    writeFileSync(at('.killed.db.99999999.tmp'), 'stale');
    const run = await flowstate(['analyze', LEAK, '--db', target, '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(dir).filter((name) => name.startsWith('.killed.db.'))).toEqual([]);
  });
});

describe('merge, export and html replace only their own files', () => {
  test('merge refuses a capture or a shard as OUT', async () => {
    const shard = at('shard0.db');
    const other = at('shard1.db');
    expect((await flowstate(['analyze', LEAK, '--shard', '0/2', '--db', shard, '--quiet'])).status).toBe(0);
    expect((await flowstate(['analyze', LEAK, '--shard', '1/2', '--db', other, '--quiet'])).status).toBe(0);
    copyFileSync(LEAK, at('merge-target.pcap'));
    const before = hashOf(at('merge-target.pcap'));
    const intoCapture = await flowstate(['merge', at('merge-target.pcap'), shard, other]);
    expect(intoCapture.status).toBe(2);
    expect(hashOf(at('merge-target.pcap'))).toBe(before);
    const shardBefore = hashOf(shard);
    const intoShard = await flowstate(['merge', shard, shard, other]);
    expect(intoShard.status).toBe(2);
    expect(hashOf(shard)).toBe(shardBefore);
    const merged = await flowstate(['merge', at('merged.db'), shard, other]);
    expect(merged.status, merged.stderr).toBe(0);
    expect(strays()).toEqual([]);
  });

  test('export -o keeps an existing file unless --force, and never writes over the database it reads', async () => {
    const db = at('export.db');
    expect((await flowstate(['analyze', LEAK, '--db', db, '--quiet'])).status).toBe(0);
    writeFileSync(at('flows.csv'), 'precious\n');
    const refused = await flowstate(['export', '--format', 'csv', '--db', db, '-o', at('flows.csv')]);
    expect(refused.status).toBe(2);
    expect(readFileSync(at('flows.csv'), 'utf8')).toBe('precious\n');
    const forced = await flowstate(['export', '--format', 'csv', '--db', db, '-o', at('flows.csv'), '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(readFileSync(at('flows.csv'), 'utf8').split('\n')[0]).toMatch(/^id,/);
    const dbBefore = hashOf(db);
    const overInput = await flowstate(['export', '--format', 'csv', '--db', db, '-o', db, '--force']);
    expect(overInput.status).toBe(2);
    expect(hashOf(db)).toBe(dbBefore);
    expect(strays()).toEqual([]);
  });

  test('html --out replaces a page flowstate wrote but not another file', async () => {
    const db = at('page.db');
    expect((await flowstate(['analyze', LEAK, '--db', db, '--quiet'])).status).toBe(0);
    const first = await flowstate(['html', db, '--out', at('page.html')]);
    expect(first.status, first.stderr).toBe(0);
    const again = await flowstate(['html', db, '--out', at('page.html')]);
    expect(again.status, again.stderr).toBe(0);
    writeFileSync(at('mine.html'), '<p>my own page</p>');
    const refused = await flowstate(['html', db, '--out', at('mine.html')]);
    expect(refused.status).toBe(2);
    expect(readFileSync(at('mine.html'), 'utf8')).toBe('<p>my own page</p>');
    expect(statSync(at('page.html')).size).toBeGreaterThan(1000);
    expect(strays()).toEqual([]);
  });
});

describe('scratch files of commands given a capture', () => {
  /** Starts the built bin with its own temporary directory, returning once it has made its scratch directory. */
  async function startWithScratch(args: string[], tmp: string): Promise<ReturnType<typeof spawn>> {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore', env: { ...process.env, TMPDIR: tmp } });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (readdirSync(tmp).length > 0 || child.exitCode !== null) {
          clearInterval(poll);
          resolve();
        }
      }, 1);
    });
    return child;
  }

  test('Ctrl-C, SIGTERM or SIGHUP during netstat, html or query on a capture leaves no scratch directory', async () => {
    const big = join(CAPTURES, 'many-short.pcap');
    const runs: Array<[string[], NodeJS.Signals]> = [
      [['netstat', big], 'SIGINT'],
      [['html', big, '--out', at('scratch.html')], 'SIGTERM'],
      [['timeline', big], 'SIGHUP'],
    ];
    for (const [args, signal] of runs) {
      const tmp = mkdtempSync(join(dir, 'tmp-'));
      const child = await startWithScratch(args, tmp);
      expect(readdirSync(tmp), 'the run had made its scratch directory').toHaveLength(1);
      child.kill(signal);
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      expect(readdirSync(tmp), `${args[0]} ${signal}`).toEqual([]);
    }
  });

  test('a scratch directory of a killed process is swept by the next run', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const child = await startWithScratch(['netstat', join(CAPTURES, 'many-short.pcap')], tmp);
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
    const left = readdirSync(tmp);
    expect(left).toHaveLength(1);
    expect(left[0].startsWith(`flowstate-scratch-${child.pid}-`)).toBe(true);
    const next = spawnSync(process.execPath, [CLI, 'netstat', LEAK], { env: { ...process.env, TMPDIR: tmp }, encoding: 'utf8' });
    expect(next.status, next.stderr).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
