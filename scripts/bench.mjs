#!/usr/bin/env node
// npm run bench [-- --runs N] [--sizes 1m,10m] [--no-tshark] [--dir DIR] [--out FILE] [--report-only]
//
// Measures flowstate on the benchmark captures of scripts/bench/make-bench-pcap.sh
// (made here when missing) at three depths — decode only, decode + tracker, the whole
// `analyze` command writing SQLite — beside tcpdump, argus|ra, tshark and the C floor
// (scripts/bench/flow-table-floor.c: read + find each packet's flow) on the same files, in one run, alternating the programs (A B A B ...) because this machine evicts
// the page cache quickly. Wall time is process.hrtime around each child process; peak
// RSS comes from `/usr/bin/time -v` (or /proc/<pid>/status VmHWM, polled, without it).
// Rewrites docs/benchmarks.md completely and prints a summary. Needs a built dist/.
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const generator = join(root, 'scripts', 'bench', 'make-bench-pcap.sh');
/** The C floor: read + find each packet's flow in a hash table, single core (compiled into the work dir with `cc -O2`). */
const FLOOR_SOURCE = join(root, 'scripts', 'bench', 'flow-table-floor.c');
const C_FLOOR = 'c-floor';
const TIME = '/usr/bin/time';

// ------------------------------------------------------------------ options
const HELP = `usage: npm run bench -- [options]

  --sizes LIST     capture sizes, comma-separated (default 1m,10m); bench-<size>.pcap
  --runs N         timed runs of each of our stages and of tcpdump, argus and the C floor (default 3);
                   tshark runs once per size
  --dir DIR        where the captures live (default $FLOWSTATE_BENCH_DIR or /tmp/flowstate-bench)
  --no-tshark      skip tshark (slow: about 40k packets/s and 5.6 GB on 10M packets)
  --no-argus       skip argus | ra
  --no-pcapng      skip the pcapng runs
  --repeat N       also analyse the smallest capture N times over, end to end, as one
                   capture N times as long with the same connections open at once
                   (default 10; 0 skips it): does memory grow with the file's length?
  --out FILE       the report to write (default docs/benchmarks.md)
  --timeout SEC    kill any one measured process after this long (default 3600)
  --report-only    measure nothing: rewrite the report from DIR/bench-results.json,
                   which every measuring run saves
  --established N  also analyse N connections that all stay ESTABLISHED end to end under
                   --memory 1G (default 2m; 0 skips it): memory bounded by the budget,
                   a row for every connection, evictions counted
  --only-established  run that item alone, print its figures and its section of the
                   report (the report itself is left as it is)
  -h, --help       this text

FLOWSTATE_BENCH_POLL_RSS=1 reads peak RSS from /proc/<pid>/status VmHWM (polled) even
when /usr/bin/time exists.`;

let args;
try {
  args = parseArgs({
    options: {
      sizes: { type: 'string', default: '1m,10m' },
      runs: { type: 'string', default: '3' },
      dir: { type: 'string', default: process.env.FLOWSTATE_BENCH_DIR || '/tmp/flowstate-bench' },
      'no-tshark': { type: 'boolean', default: false },
      'no-argus': { type: 'boolean', default: false },
      'no-pcapng': { type: 'boolean', default: false },
      repeat: { type: 'string', default: '10' },
      'report-only': { type: 'boolean', default: false },
      established: { type: 'string', default: '2m' },
      'only-established': { type: 'boolean', default: false },
      out: { type: 'string', default: join(root, 'docs', 'benchmarks.md') },
      timeout: { type: 'string', default: '3600' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (error) {
  console.error(`bench: ${error.message}\n\n${HELP}`);
  process.exit(2);
}
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
let RUNS = Number(args.runs);
const TIMEOUT_S = Number(args.timeout);
if (!Number.isInteger(RUNS) || RUNS < 1) fail(`--runs must be a whole number ≥ 1, not ${args.runs}`);
if (!(TIMEOUT_S > 0)) fail(`--timeout must be a positive number of seconds, not ${args.timeout}`);
const SIZES = args.sizes
  .split(',')
  .map((s) => s.trim().toLowerCase())
  .filter(Boolean)
  .map((label) => {
    const m = /^(\d+)([km]?)$/.exec(label);
    if (!m) fail(`--sizes: "${label}" is not a packet count like 1m, 10m or 500k`);
    return { label, packets: Number(m[1]) * (m[2] === 'm' ? 1e6 : m[2] === 'k' ? 1e3 : 1) };
  });
const ESTABLISHED = (() => {
  const m = /^(\d+)([km]?)$/.exec(args.established.trim().toLowerCase());
  if (!m) fail(`--established: "${args.established}" is not a connection count like 2m or 500k`);
  return { label: m[0], connections: Number(m[1]) * (m[2] === 'm' ? 1e6 : m[2] === 'k' ? 1e3 : 1) };
})();
const ESTABLISHED_MEMORY = '1G';
const BENCH_DIR = resolve(args.dir);
const RESULTS_FILE = join(BENCH_DIR, 'bench-results.json');
const REPORT_ONLY = args['report-only'];
const OUT = resolve(args.out);
const WITH_TSHARK = !args['no-tshark'];
const WITH_ARGUS = !args['no-argus'];
const WITH_PCAPNG = !args['no-pcapng'];
const REPEAT = Number(args.repeat);
if (!Number.isInteger(REPEAT) || REPEAT < 0 || REPEAT === 1) fail(`--repeat must be 0 or a whole number ≥ 2, not ${args.repeat}`);

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}
const log = (message) => console.error(message);

// ------------------------------------------------------------------ preconditions
for (const file of REPORT_ONLY
  ? []
  : [
      'capture/open-capture.js',
      'capture/frame-stream.js',
      'decode/packet-decoder.js',
      'track/flow-table.js',
      'analyze.js',
      'cli/main.js',
    ]) {
  if (!existsSync(join(root, 'dist', file))) fail(`dist/${file} is missing: run \`npm run build\` first`);
}
const have = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
let HAVE_TIME = existsSync(TIME) && !process.env.FLOWSTATE_BENCH_POLL_RSS; // the variable forces the fallback, to test it
const peers = {
  tcpdump: have('tcpdump'),
  argus: WITH_ARGUS && have('argus') && have('ra'),
  tshark: WITH_TSHARK && have('tshark'),
  [C_FLOOR]: have('cc'),
};
const HAVE_TASKSET = have('taskset');
const HAVE_SQLITE3 = have('sqlite3');
let skipped = [];
if (!HAVE_TASKSET) skipped.push('analyze on one CPU: skipped, taskset (util-linux) is not installed');
if (!HAVE_SQLITE3) skipped.push("SQLite's floor: skipped, the sqlite3 shell (Debian package sqlite3) is not installed");
if (!have('tcpdump')) skipped.push('tcpdump: not installed');
if (!WITH_ARGUS) skipped.push('argus | ra: skipped (--no-argus)');
else if (!peers.argus) skipped.push('argus | ra: skipped, argus or ra (argus-server, argus-client) is not installed');
if (!WITH_TSHARK) skipped.push('tshark: skipped (--no-tshark)');
else if (!peers.tshark) skipped.push('tshark: skipped, not installed');
if (!peers[C_FLOOR]) skipped.push('the C floor: skipped, no C compiler (`cc`) is installed; the "× C floor" columns show –');
if (!WITH_PCAPNG) skipped.push('pcapng: skipped (--no-pcapng)');
if (!HAVE_TIME)
  skipped.push(`${TIME} is missing: peak RSS is the largest VmHWM seen polling /proc every 20 ms (a short peak can be missed)`);

// ------------------------------------------------------------------ inputs
mkdirSync(BENCH_DIR, { recursive: true });
const work = mkdtempSync(join(os.tmpdir(), 'flowstate-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const floorBinary = join(work, 'flow-table-floor');
if (peers[C_FLOOR] && !REPORT_ONLY) {
  const made = spawnSync('cc', ['-O2', '-o', floorBinary, FLOOR_SOURCE], { encoding: 'utf8' });
  if (made.status !== 0) {
    peers[C_FLOOR] = false;
    skipped.push(
      `the C floor: skipped, \`cc -O2 ${relative(root, FLOOR_SOURCE)}\` failed (${(made.stderr || made.error?.message || `exit ${made.status}`).trim().split('\n')[0]})`,
    );
  }
}

// Others rebuild dist/ while we measure: run a copy of it taken now, beside links to
// node_modules, so every run of this benchmark measures the same build.
const snapshot = join(work, 'flowstate');
const DIST = join(snapshot, 'dist');
let distBuilt;
const git = (...a) => spawnSync('git', ['-C', root, ...a], { encoding: 'utf8' }).stdout?.trim();
const commitAtStart = REPORT_ONLY ? undefined : git('rev-parse', '--short', 'HEAD') || 'unknown';
const dirtyAtStart = REPORT_ONLY ? 0 : (git('status', '--porcelain', '--', 'src') ?? '').split('\n').filter(Boolean).length;
if (!REPORT_ONLY) {
  distBuilt = new Date(
    Math.max(...readdirSync(join(root, 'dist'), { recursive: true }).map((f) => statSync(join(root, 'dist', f)).mtimeMs)),
  );
  cpSync(join(root, 'dist'), DIST, { recursive: true });
  copyFileSync(join(root, 'package.json'), join(snapshot, 'package.json'));
  cpSync(join(root, 'assets'), join(snapshot, 'assets'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(snapshot, 'node_modules'));
}

function ensureCapture(size) {
  const pcap = join(BENCH_DIR, `bench-${size.label}.pcap`);
  const pcapng = pcap.replace(/\.pcap$/, '.pcapng');
  const summary = pcap.replace(/\.pcap$/, '.summary.txt');
  if (!existsSync(pcap)) {
    if (!existsSync(generator)) fail(`${pcap} is missing and so is the generator ${generator}`);
    if (process.getuid?.() !== 0) fail(`${pcap} is missing; making it needs root: sudo bash ${generator} ${pcap} ${size.packets}`);
    log(
      `bench: ${pcap} is missing; making it (${size.packets.toLocaleString('en-US')} packets, ~${size.packets >= 5e6 ? '80–170 s' : '20 s'}):`,
    );
    log(`bench:   bash ${generator} ${pcap} ${size.packets}`);
    const made = spawnSync('bash', [generator, pcap, String(size.packets)], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, FSBENCH_PCAPNG: WITH_PCAPNG ? '1' : '0' },
    });
    if (made.status !== 0 || !existsSync(pcap)) fail(`make-bench-pcap.sh failed (exit ${made.status ?? made.signal})`);
  }
  if (WITH_PCAPNG && !existsSync(pcapng)) {
    log(`bench: ${pcapng} is missing; making it: editcap -F pcapng ${pcap} ${pcapng}`);
    const made = spawnSync('editcap', ['-F', 'pcapng', pcap, pcapng], { stdio: 'inherit' });
    if (made.status !== 0) fail(`editcap failed (exit ${made.status ?? made.signal})`);
  }
  const info = {};
  if (existsSync(summary)) {
    for (const line of readFileSync(summary, 'utf8').split('\n')) {
      const m = /^(packets|connections|ipv6_connections|ipv6_packets|duration_s|file_bytes) (\S+)/.exec(line);
      if (m) info[m[1]] = Number(m[2]);
    }
  }
  return {
    ...size,
    pcap,
    pcapng: WITH_PCAPNG ? pcapng : undefined,
    summary: existsSync(summary) ? summary : undefined,
    info,
    bytes: { pcap: statSync(pcap).size, pcapng: WITH_PCAPNG ? statSync(pcapng).size : undefined },
  };
}

/**
 * `times` copies of a capture one after another, each shifted past the previous
 * one's end plus 2×MSL: a capture `times` as long whose connections open at once
 * are those of one copy (the 4-tuples repeat, but never while the previous copy's
 * are still in TIME_WAIT).
 */
function ensureRepeated(capture, times) {
  const label = `${capture.label}×${times}`;
  const pcap = join(BENCH_DIR, `bench-${capture.label}-x${times}.pcap`);
  const span = capture.info.duration_s;
  if (!span) fail(`--repeat needs the capture span of ${capture.pcap} (its .summary.txt)`);
  const shift = Math.ceil(span + 60 + 5);
  if (!existsSync(pcap)) {
    log(`bench: ${pcap} is missing; making it (${times} copies of ${capture.pcap}, ${shift} s apart, with editcap and mergecap)`);
    const parts = [];
    for (let i = 0; i < times; i++) {
      const part = join(work, `repeat-${i}.pcap`);
      const made = spawnSync('editcap', ['-t', String(i * shift), capture.pcap, part], { stdio: 'inherit' });
      if (made.status !== 0) fail(`editcap failed (exit ${made.status ?? made.signal})`);
      parts.push(part);
    }
    const merged = spawnSync('mergecap', ['-a', '-F', 'pcap', '-w', pcap, ...parts], { stdio: 'inherit' });
    for (const part of parts) rmSync(part, { force: true });
    if (merged.status !== 0) fail(`mergecap failed (exit ${merged.status ?? merged.signal})`);
  }
  return {
    label,
    packets: capture.packets * times,
    pcap,
    pcapng: undefined,
    summary: undefined,
    info: {
      duration_s: Number(((times - 1) * shift + span).toFixed(2)),
      connections: capture.info.connections === undefined ? undefined : capture.info.connections * times,
    },
    bytes: { pcap: statSync(pcap).size, pcapng: undefined },
    repeatOf: capture.label,
    times,
  };
}

// ------------------------------------------------------------------ drivers
const dist = (file) => pathToFileURL(join(DIST, file)).href;
const decodeDriver = join(work, 'decode-only.mjs');
writeFileSync(
  decodeDriver,
  `// read + decode + flow lookup: what every later stage pays
import { openCapture } from '${dist('capture/open-capture.js')}';
import { forEachFrame } from '${dist('capture/frame-stream.js')}';
import { PacketDecoder } from '${dist('decode/packet-decoder.js')}';
import { FlowTable } from '${dist('track/flow-table.js')}';
const t0 = process.hrtime.bigint();
const reader = await openCapture(process.argv[2]);
const decoder = new PacketDecoder();
const table = new FlowTable();
let frames = 0, tcp = 0, flows = 0;
await forEachFrame([reader], (frame) => {
  frames++;
  if (decoder.decode(frame)) {
    tcp++;
    if (table.lookup(decoder.segment) < 0) table.insertLast(flows++);
  }
});
const innerSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(JSON.stringify({ frames, tcp, flows, innerSeconds }) + '\\n');
`,
);
const trackDriver = join(work, 'track-only.mjs');
writeFileSync(
  trackDriver,
  `// decode + the whole tracker, records counted and dropped; with a second argument N, the capture
// is tracked N times over in this one process, each pass by a new tracker, and the last pass timed
// apart: how fast the tracker runs once V8 has compiled it (warm), beside the first, cold pass
import { analyzeCapture } from '${dist('analyze.js')}';
const passes = Number(process.argv[3] ?? 1);
let transitions, findings, flows, result, innerSeconds, lastPassSeconds;
for (let pass = 0; pass < passes; pass++) {
  transitions = findings = flows = 0;
  const t0 = process.hrtime.bigint();
  result = await analyzeCapture([process.argv[2]], {
    transition() { transitions++; },
    finding() { findings++; },
    flow() { flows++; },
  });
  lastPassSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  innerSeconds ??= lastPassSeconds;
}
const c = result.captures[0];
process.stdout.write(JSON.stringify({
  frames: c?.packets, tcp: c?.tcpPackets, transitions, findings, flows,
  peakFlowsInMemory: result.tracker.peakFlowsInMemory, evictedHalfOpen: result.tracker.evictedHalfOpen,
  error: result.error ? String(result.error.message) : undefined, innerSeconds, passes, lastPassSeconds,
}) + '\\n');
`,
);

const oneCoreDriver = join(work, 'one-core.mjs');
writeFileSync(
  oneCoreDriver,
  `// analyze with the database written in this thread: one core does everything;
// the time inside SQLite (SqliteSink's writes, the index builds and the commit) is summed apart
import { rmSync } from 'node:fs';
import { analyzeCapture } from '${dist('analyze.js')}';
import { DatabaseWriter } from '${dist('store/database-writer.js')}';
import { SqliteSink } from '${dist('store/sqlite-sink.js')}';
let sinkNs = 0n;
for (const name of ['transitions', 'flows', 'flowUpdates', 'findings', 'commit']) {
  const write = SqliteSink.prototype[name];
  SqliteSink.prototype[name] = function (...args) {
    const t = process.hrtime.bigint();
    try {
      return write.apply(this, args);
    } finally {
      sinkNs += process.hrtime.bigint() - t;
    }
  };
}
const [capture, db] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const writer = new DatabaseWriter(db, { thread: false });
const result = await analyzeCapture([capture], writer);
await writer.commit(result, {});
const innerSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
rmSync(db, { force: true });
const c = result.captures[0];
process.stdout.write(JSON.stringify({
  frames: c?.packets, tcp: c?.tcpPackets, rows: writer.rows,
  error: result.error ? String(result.error.message) : undefined, innerSeconds, writeSeconds: Number(sinkNs) / 1e9,
}) + '\\n');
`,
);

// ------------------------------------------------------------------ measuring one child
const q = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
let current;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current)
      try {
        process.kill(-current.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    log(`bench: ${signal}; stopped`);
    process.exit(130);
  });
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
/** CPU seconds the whole machine has spent busy since boot (every core, every process). */
function machineBusySeconds() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + (steal ?? 0)) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * Runs a pipeline of commands (argv arrays) under bash, stdout of the last to
 * `stdoutFile`. Returns wall seconds, the largest peak RSS of its processes (KiB),
 * CPU seconds, exit status and the tail of stderr; `othersCores` is how many cores the
 * rest of the machine kept busy meanwhile (other users of a shared machine).
 */
function measure(pipeline, stdoutFile = '/dev/null') {
  const timeFiles = pipeline.map((_, i) => join(work, `time-${i}.txt`));
  for (const f of timeFiles) rmSync(f, { force: true });
  const parts = pipeline.map((argv, i) => (HAVE_TIME ? [TIME, '-v', '-o', timeFiles[i], ...argv] : argv).map(q).join(' '));
  const script = `set -o pipefail; ${parts.join(' | ')} > ${q(stdoutFile)}`;
  return new Promise((resolveRun) => {
    let stderr = '';
    const polled = new Map();
    const busy0 = machineBusySeconds();
    const t0 = process.hrtime.bigint();
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    current = child;
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const poll = HAVE_TIME ? undefined : setInterval(() => pollHwm(child.pid, polled), 20);
    const timer = setTimeout(() => {
      stderr += `\n[bench: killed after ${TIMEOUT_S} s]`;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, TIMEOUT_S * 1000);
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const busy1 = machineBusySeconds();
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      current = undefined;
      let rssKiB = 0;
      let cpuSeconds = 0;
      const perProcessKiB = [];
      if (HAVE_TIME) {
        for (const f of timeFiles) {
          const text = existsSync(f) ? readFileSync(f, 'utf8') : '';
          const kib = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(text)?.[1] ?? 0);
          perProcessKiB.push(kib);
          rssKiB = Math.max(rssKiB, kib);
          cpuSeconds +=
            Number(/User time \(seconds\): ([\d.]+)/.exec(text)?.[1] ?? 0) +
            Number(/System time \(seconds\): ([\d.]+)/.exec(text)?.[1] ?? 0);
        }
      } else {
        for (const kib of polled.values()) rssKiB = Math.max(rssKiB, kib);
        perProcessKiB.push(...polled.values());
      }
      const othersCores =
        HAVE_TIME && busy0 !== undefined && busy1 !== undefined ? Math.max(0, (busy1 - busy0 - cpuSeconds) / seconds) : undefined;
      resolveRun({
        seconds,
        rssKiB,
        perProcessKiB,
        cpuSeconds: HAVE_TIME ? cpuSeconds : undefined,
        othersCores,
        ok: code === 0,
        code,
        signal,
        stderr: stderr.trim(),
      });
    });
  });
}

function pollHwm(pid, seen) {
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      if (kib > (seen.get(p) ?? 0) && p !== pid) seen.set(p, kib);
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        if (kids) stack.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      // gone already
    }
  }
}

// ------------------------------------------------------------------ the benchmark items
/** `analyze --threads N` beside the default run (stage end-to-end: the default threads on every CPU). */
/** Passes of the capture in one process in the warm track stage; the last is timed, V8 having compiled the tracker by then. */
const WARM_PASSES = 4;
const THREAD_VARIANTS = [
  { name: '--threads 1, one CPU', threads: 1, oneCore: true },
  { name: '--threads 2, one CPU', threads: 2, oneCore: true },
  { name: '--threads 1, every CPU', threads: 1, oneCore: false },
];
const e2eDb = () => join(BENCH_DIR, 'bench-e2e.db');
function removeDb(db) {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(db + suffix, { force: true });
}
function countRows(db) {
  const require = createRequire(join(root, 'package.json'));
  const Database = require('better-sqlite3');
  const handle = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const rows = {};
    for (const table of ['flows', 'transitions', 'findings']) rows[table] = handle.prepare(`SELECT count(*) AS n FROM ${table}`).get().n;
    return rows;
  } finally {
    handle.close();
  }
}

/** What one size runs, in the order of one round. `once` items run in the first round only. */
function itemsFor(capture) {
  const items = [];
  const outFile = join(work, 'driver-out.json');
  const driver = (stage, format, script, extraArgs = []) => ({
    stage,
    format,
    tool: 'flowstate',
    file: capture[format],
    run: async () => {
      const r = await measure([[process.execPath, script, capture[format], ...extraArgs]], outFile);
      if (r.ok) {
        try {
          r.detail = JSON.parse(readFileSync(outFile, 'utf8').trim().split('\n').pop());
        } catch {
          r.ok = false;
          r.stderr += '\n[bench: the driver printed no result]';
        }
        if (r.detail?.error) {
          r.ok = false;
          r.stderr += `\n${r.detail.error}`;
        }
      }
      return r;
    },
  });
  /** `analyze` as a user runs it; `threads` adds --threads N, `oneCore` pins the process to one CPU (taskset -c 0). */
  const e2e = (format, { stage = 'end-to-end', tool = 'flowstate', threads, oneCore = false } = {}) => ({
    stage,
    format,
    tool,
    file: capture[format],
    run: async () => {
      const db = e2eDb();
      removeDb(db);
      const analyze = [process.execPath, join(DIST, 'cli', 'main.js'), 'analyze', capture[format], '--db', db, '--quiet'];
      if (threads !== undefined) analyze.push('--threads', String(threads));
      const r = await measure([oneCore ? ['taskset', '-c', '0', ...analyze] : analyze]);
      if (r.ok) {
        try {
          r.detail = { rows: countRows(db), dbBytes: statSync(db).size };
        } catch (error) {
          r.ok = false;
          r.stderr += `\n[bench: could not read ${db}: ${error.message}]`;
        }
      }
      removeDb(db);
      return r;
    },
  });
  const peer = (tool, format, pipeline, stdoutFile) => ({
    stage: 'peer',
    format,
    tool,
    file: capture[format],
    run: () => measure(pipeline, stdoutFile),
  });
  /** The C floor (FLOOR_SOURCE): read + find each packet's flow; every stage's time is also given as a multiple of it. */
  const floor = (format) => peer(C_FLOOR, format, [[floorBinary, '-m', capture[format]]]);
  if (capture.repeatOf) return [e2e('pcap'), ...(peers[C_FLOOR] ? [floor('pcap')] : [])];
  items.push(driver('decode', 'pcap', decodeDriver));
  if (peers.tcpdump) items.push(peer('tcpdump', 'pcap', [['tcpdump', '-nn', '-r', capture.pcap, '-w', '/dev/null']]));
  if (peers[C_FLOOR]) items.push(floor('pcap'));
  if (capture.pcapng) {
    items.push(driver('decode', 'pcapng', decodeDriver));
    if (peers.tcpdump) items.push(peer('tcpdump', 'pcapng', [['tcpdump', '-nn', '-r', capture.pcapng, '-w', '/dev/null']]));
    if (peers[C_FLOOR]) items.push(floor('pcapng'));
  }
  items.push(driver('track', 'pcap', trackDriver));
  items.push({ ...driver('track-warm', 'pcap', trackDriver, [String(WARM_PASSES)]), once: true });
  items.push({ ...trackProfile(capture), once: true });
  if (peers.argus)
    items.push(
      peer('argus', 'pcap', [
        ['argus', '-r', capture.pcap, '-w', '-'],
        ['ra', '-n', '-s', 'stime', 'saddr', 'sport', 'daddr', 'dport', 'state'],
      ]),
    );
  items.push(e2e('pcap'));
  if (capture.pcapng) {
    if (peers.argus)
      items.push(
        peer('argus', 'pcapng', [
          ['argus', '-r', capture.pcapng, '-w', '-'],
          ['ra', '-n', '-s', 'stime', 'saddr', 'sport', 'daddr', 'dport', 'state'],
        ]),
      );
    items.push(e2e('pcapng'));
  }
  for (const variant of THREAD_VARIANTS)
    if (!variant.oneCore || HAVE_TASKSET) items.push(e2e('pcap', { stage: 'threads', tool: variant.name, ...variant }));
  items.push({ ...e2eProfile(capture), once: true });
  items.push(driver('one-core', 'pcap', oneCoreDriver, [e2eDb()]));
  if (HAVE_SQLITE3) items.push(sqliteFloor(capture));
  items.push(...reportItems(capture));
  items.push(...scaleItems(capture));
  if (peers.tshark)
    items.push({
      ...peer('tshark', 'pcap', [['tshark', '-r', capture.pcap, '-q', '-z', 'conv,tcp']], join(work, 'tshark-out.txt')),
      once: true,
    });
  return items;
}

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));

/** One database of the capture, made once (untimed) by `analyze` for the stages that read or copy it. */
function keptDatabase(capture) {
  const path = join(work, `reports-${capture.label}.db`);
  return {
    path,
    /** Makes the database unless it exists; returns why it could not, or undefined. */
    make() {
      if (existsSync(path)) return undefined;
      const made = spawnSync(process.execPath, [join(DIST, 'cli', 'main.js'), 'analyze', capture.pcap, '--db', path, '--quiet'], {
        encoding: 'utf8',
      });
      return made.status === 0 ? undefined : `[bench: analyze for the stages that read its database failed] ${made.stderr}`;
    },
  };
}

/**
 * What SQLite alone costs to write this capture's database: the kept database copied
 * table by table inside the sqlite3 shell (the writer's pragmas, INSERT … SELECT from the
 * finished tables in one transaction, the index builds, the commit), with no JavaScript
 * and no bound values. The transitions come from a copy sorted by the table's key (made
 * untimed), the cheapest order to insert them in. So the time is a floor for any writer of
 * these tables, in any language, on this machine.
 */
function sqliteFloor(capture) {
  const kept = keptDatabase(capture);
  const byKey = join(work, `transitions-by-key-${capture.label}.db`);
  const out = join(work, `floor-${capture.label}.db`);
  const script = join(work, `floor-${capture.label}.sql`);
  return {
    stage: 'sqlite-floor',
    format: 'pcap',
    tool: 'flowstate',
    file: capture.pcap,
    once: true,
    run: async () => {
      const failed = kept.make();
      if (failed) return { ok: false, seconds: 0, stderr: failed };
      const { CREATE_TABLES, CREATE_INDEXES, SCHEMA_VERSION } = await import(pathToFileURL(join(DIST, 'store', 'schema.js')).href);
      removeDb(byKey);
      const sorted = spawnSync(
        'sqlite3',
        [byKey, `ATTACH ${sqlText(kept.path)} AS src; CREATE TABLE t AS SELECT * FROM src.transition_rows ORDER BY flow_id, id;`],
        { encoding: 'utf8' },
      );
      if (sorted.status !== 0) return { ok: false, seconds: 0, stderr: `[bench: sorting the transitions failed] ${sorted.stderr}` };
      const tables = ['captures', 'flows', 'causes', 'findings', 'listeners', 'meta'];
      writeFileSync(
        script,
        [
          'PRAGMA journal_mode = OFF;',
          'PRAGMA synchronous = OFF;',
          'PRAGMA locking_mode = EXCLUSIVE;',
          'PRAGMA temp_store = FILE;',
          'PRAGMA cache_size = -16384;',
          CREATE_TABLES,
          `PRAGMA user_version = ${SCHEMA_VERSION};`,
          `ATTACH ${sqlText(kept.path)} AS src;`,
          `ATTACH ${sqlText(byKey)} AS sorted;`,
          'BEGIN;',
          ...tables.map((table) => `INSERT INTO main.${table} SELECT * FROM src.${table};`),
          'INSERT INTO main.transition_rows SELECT * FROM sorted.t;',
          'PRAGMA cache_size = -2048;',
          CREATE_INDEXES,
          'COMMIT;',
        ].join('\n'),
      );
      removeDb(out);
      const r = await measure([['sqlite3', '-bail', out, `.read ${script}`]]);
      if (r.ok) r.detail = { rows: countRows(out) };
      removeDb(out);
      removeDb(byKey);
      return r;
    },
  };
}
const sqlText = (text) => `'${text.replaceAll("'", "''")}'`;

/**
 * The commands that read a database, each run on one kept database of the
 * capture (made once, untimed): the HTML report (its size, and how long
 * Chromium takes to draw it from the file), netstat at the end, the timeline.
 */
function reportItems(capture) {
  const kept = keptDatabase(capture);
  const db = kept.path;
  const page = join(work, `report-${capture.label}.html`);
  const annotated = join(work, `annotated-${capture.label}.pcapng`);
  const main = join(DIST, 'cli', 'main.js');
  const item = (stage, args, after) => ({
    stage,
    format: 'pcap',
    tool: 'flowstate',
    file: capture.pcap,
    run: async () => {
      const failed = kept.make();
      if (failed) return { ok: false, seconds: 0, stderr: failed };
      const r = await measure([[process.execPath, main, ...args]]);
      if (r.ok && after) r.detail = after();
      return r;
    },
  });
  return [
    item('html', ['html', db, '--out', page], () => {
      const opened = CHROMIUM
        ? spawnSync(process.execPath, [join(root, 'scripts', 'bench', 'open-report.mjs'), page, CHROMIUM], { encoding: 'utf8' })
        : undefined;
      const readyMs = opened?.status === 0 ? JSON.parse(opened.stdout.trim().split('\n').pop()).readyMs : undefined;
      return { bytes: statSync(page).size, readyMs };
    }),
    item('netstat', ['netstat', db, '--summary']),
    item('timeline', ['timeline', db, '--format', 'csv']),
    item('annotate', ['annotate', capture.pcap, '--out', annotated, '--quiet'], () => {
      const bytes = statSync(annotated).size;
      rmSync(annotated, { force: true });
      return { bytes };
    }),
    ...CANNED_TIMED.map((name) => item(`report ${name}`, ['report', name, '--db', db, '--format', 'csv'])),
  ];
}

/** Shard counts the scale stages split the capture into. */
const SHARD_COUNTS = [2, 4];

/**
 * Beyond one process (docs/scale.md): one shard of N alone (what each of N machines
 * takes), all N at once on this machine, merging them, and the Parquet export of
 * the whole database with its size beside SQLite's.
 */
function scaleItems(capture) {
  const main = join(DIST, 'cli', 'main.js');
  const shardDb = (k, n) => join(work, `shard-${capture.label}-${k}-of-${n}.db`);
  const analyzeShard = (k, n) => [
    process.execPath,
    main,
    'analyze',
    capture.pcap,
    '--db',
    shardDb(k, n),
    '--shard',
    `${k}/${n}`,
    '--quiet',
  ];
  const item = (stage, run) => ({ stage, format: 'pcap', tool: 'flowstate', file: capture.pcap, run });
  const items = [];
  for (const n of SHARD_COUNTS) {
    items.push(item(`one shard of ${n}`, () => measure([analyzeShard(0, n)])));
    items.push(
      item(`${n} shards at once`, () =>
        measure([['bash', '-c', `${[...Array(n).keys()].map((k) => analyzeShard(k, n).map(q).join(' ')).join(' & ')} & wait`]]),
      ),
    );
    items.push(
      item(`merge ${n} shards`, async () => {
        for (let k = 0; k < n; k++) {
          if (existsSync(shardDb(k, n))) continue;
          const [node, ...rest] = analyzeShard(k, n);
          const made = spawnSync(node, rest, { encoding: 'utf8' });
          if (made.status !== 0) return { ok: false, seconds: 0, stderr: `[bench: analyze --shard for merge failed] ${made.stderr}` };
        }
        const merged = join(work, `merged-${capture.label}.db`);
        removeDb(merged);
        const r = await measure([[process.execPath, main, 'merge', merged, ...[...Array(n).keys()].map((k) => shardDb(k, n))]]);
        removeDb(merged);
        return r;
      }),
    );
  }
  const db = join(work, `reports-${capture.label}.db`);
  const parquet = join(work, `parquet-${capture.label}`);
  items.push(
    item('export parquet', async () => {
      if (!existsSync(db)) {
        const made = spawnSync(process.execPath, [main, 'analyze', capture.pcap, '--db', db, '--quiet'], { encoding: 'utf8' });
        if (made.status !== 0) return { ok: false, seconds: 0, stderr: `[bench: analyze for the export failed] ${made.stderr}` };
      }
      rmSync(parquet, { recursive: true, force: true });
      const r = await measure([[process.execPath, main, 'export', '--format', 'parquet', '--db', db, '--out', parquet]]);
      if (r.ok) {
        const bytes = readdirSync(parquet, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
        r.detail = { bytes, sqliteBytes: statSync(db).size };
      }
      rmSync(parquet, { recursive: true, force: true });
      return r;
    }),
  );
  return items;
}

/** The canned reports timed on the database: docs/schema.md's queries, as `report` runs them. */
const CANNED_TIMED = ['summary', 'close-wait', 'time-wait', 'half-open', 'resets', 'refused'];

/**
 * Where decode + track spends its time, from one run of the track driver under
 * V8's sampling profiler: self time summed by part of the code (a function
 * inlined into another counts as the one it was inlined into).
 */
const PROFILE_PARTS = [
  ['read + decode', (file, url) => url.includes('/capture/') || url.includes('/decode/') || file === 'analyze.js'],
  ['flow lookup (hash table)', (file, url, fn) => file === 'flow-table.js' || (file === 'flow-lifecycle.js' && fn === 'find')],
  [
    'segment step: classify, evidence, sequence facts',
    (file, url) => file === 'segment-step.js' || url.includes('/tcp/classify') || file === 'seq.js',
  ],
  ['state door: transitions, state visits', (file) => file === 'state-door.js' || file === 'transition-table.js' || file === 'flow.js'],
  ["Zeek's view (history, conn_state)", (file) => file === 'zeek-conn.js'],
  ['detectors (findings per flow and per host)', (file) => file === 'detectors.js'],
  ['records built and handed on', (file) => file === 'records-out.js' || file === 'track-only.mjs'],
  [
    'dispatch and lifecycle (slots, retirement, timers)',
    (file) =>
      ['tracker.js', 'flow-lifecycle.js', 'retired-flows.js', 'time-wait-queue.js', 'listeners.js', 'capture-time.js'].includes(file),
  ],
  ['garbage collector', (file, url, fn) => fn === '(garbage collector)'],
];
const OTHER_PART = 'Node.js itself, idle, other';

/** A CPU profile's self time in ms by part of the code: the first of `parts` ([name, test]) a node passes, else `other`. */
function profileSplit(profileFile, parts = PROFILE_PARTS, other = OTHER_PART) {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8'));
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++)
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const split = Object.fromEntries([...parts.map(([name]) => [name, 0]), [other, 0]]);
  for (const node of profile.nodes) {
    const { url, functionName } = node.callFrame;
    const part = parts.find(([, test]) => test(url.split('/').pop(), url, functionName))?.[0] ?? other;
    split[part] += (selfUs.get(node.id) ?? 0) / 1000;
  }
  return split;
}

/** Where each thread of `analyze` spends its time (one run under --cpu-prof: one profile a thread). */
const DECODE_PART = 'read + decode';
const TRACKING_PART = 'tracking (both state machines, Zeek view, detectors)';
const IDLE_PART = 'idle (waiting for the other thread or the disk)';
const THREAD_PARTS = [
  [DECODE_PART, (file, url, fn) => url.includes('/capture/') || url.includes('/decode/') || file === 'analyze.js' || fn === 'read'],
  [TRACKING_PART, (file, url) => url.includes('/track/') || url.includes('/tcp/')],
  ['SQLite (inserts, index builds, commit)', (file, url, fn) => file === 'sqlite-sink.js' || fn === 'exec' || fn === 'prepare'],
  ['rows built, sent between threads, unpacked', (file, url, fn) => url.includes('/store/') || fn === 'postMessage'],
  ['garbage collector', (file, url, fn) => fn === '(garbage collector)'],
  [IDLE_PART, (file, url, fn) => fn === '(idle)'],
];
const THREAD_OTHER = 'Node.js itself, other';

function e2eProfile(capture) {
  const dir = join(work, `profile-e2e-${capture.label}`);
  return {
    stage: 'threads-profile',
    format: 'pcap',
    tool: 'flowstate',
    file: capture.pcap,
    run: async () => {
      rmSync(dir, { recursive: true, force: true });
      const db = e2eDb();
      removeDb(db);
      const main = join(DIST, 'cli', 'main.js');
      const r = await measure([
        [process.execPath, '--cpu-prof', '--cpu-prof-dir', dir, main, 'analyze', capture.pcap, '--db', db, '--quiet'],
      ]);
      removeDb(db);
      if (r.ok) {
        const splits = readdirSync(dir)
          .filter((name) => name.endsWith('.cpuprofile'))
          .map((name) => profileSplit(join(dir, name), THREAD_PARTS, THREAD_OTHER));
        // The thread that tracked is the main one; the other is the writer (which loads a few tracker modules too).
        const [mainThread, writer] = splits.sort((a, b) => b[TRACKING_PART] - a[TRACKING_PART]);
        if (splits.length === 2) r.detail = { main: mainThread, writer };
        else {
          r.ok = false;
          r.stderr += `\n[bench: expected a profile from each of two threads, found ${splits.length}]`;
        }
      }
      return r;
    },
  };
}

function trackProfile(capture) {
  const dir = join(work, `profile-${capture.label}`);
  return {
    stage: 'track-profile',
    format: 'pcap',
    tool: 'flowstate',
    file: capture.pcap,
    run: async () => {
      rmSync(dir, { recursive: true, force: true });
      const r = await measure([[process.execPath, '--cpu-prof', '--cpu-prof-dir', dir, trackDriver, capture.pcap]]);
      if (r.ok) {
        const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
        if (file) r.detail = { split: profileSplit(join(dir, file)) };
        else {
          r.ok = false;
          r.stderr += '\n[bench: no CPU profile was written]';
        }
      }
      return r;
    },
  };
}

// ------------------------------------------------------------------ run
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const keyOf = (item) => `${item.stage}|${item.tool}|${item.format}`;

// ------------------------------------------------------------------ the memory budget
/**
 * `analyze --memory 1G` over ESTABLISHED.connections connections that never close
 * (scripts/bench/make-established-pcap.mjs): peak RSS, a row for every connection,
 * the evictions counted. One run: it is about memory, not time.
 */
async function establishedBench() {
  const file = join(BENCH_DIR, `bench-established-${ESTABLISHED.label}.pcap`);
  if (!existsSync(file)) {
    log(`bench: making ${file} (${fmtInt(ESTABLISHED.connections)} established connections)`);
    mkdirSync(BENCH_DIR, { recursive: true });
    const made = spawnSync(
      process.execPath,
      [join(root, 'scripts', 'bench', 'make-established-pcap.mjs'), file, String(ESTABLISHED.connections)],
      {
        stdio: 'inherit',
      },
    );
    if (made.status !== 0) fail(`could not make ${file}`);
  }
  const db = join(BENCH_DIR, 'bench-established.db');
  const summaryFile = join(work, 'established-summary.json');
  removeDb(db);
  process.stderr.write(`bench: [established ${ESTABLISHED.label}] analyze --memory ${ESTABLISHED_MEMORY} `);
  const r = await measure(
    [[process.execPath, join(DIST, 'cli', 'main.js'), 'analyze', file, '--db', db, '--memory', ESTABLISHED_MEMORY, '--json']],
    summaryFile,
  );
  const result = { label: ESTABLISHED.label, connections: ESTABLISHED.connections, memory: ESTABLISHED_MEMORY, file, ...r };
  if (r.ok) {
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
    const sql = (query) => spawnSync('sqlite3', [db, query], { encoding: 'utf8' }).stdout.trim();
    result.detail = {
      flows: summary.flows,
      evicted: summary.evicted_connections,
      packets: summary.packets,
      rows: HAVE_SQLITE3 ? Number(sql('SELECT COUNT(*) FROM flows')) : undefined,
      evictedRows: HAVE_SQLITE3 ? Number(sql("SELECT COUNT(*) FROM flows WHERE evicted_by = 'memory'")) : undefined,
      tuples: HAVE_SQLITE3 ? Number(sql('SELECT COUNT(DISTINCT client_ip || client_port) FROM flows')) : undefined,
    };
    log(`${r.seconds.toFixed(2).padStart(7)} s  ${fmtMiB(r.rssKiB).padStart(9)} peak RSS  ${fmtInt(result.detail.evicted)} evicted`);
  } else log(`FAILED (exit ${r.code ?? r.signal}) after ${r.seconds.toFixed(1)} s\n${r.stderr}`);
  removeDb(db);
  result.perConnection = await bytesPerLiveConnection(file, db);
  return result;
}

/**
 * What a live connection costs: the same capture analysed with room for every connection (no eviction),
 * its peak RSS less that of 1,000 such connections, per connection.
 */
async function bytesPerLiveConnection(file, db) {
  const tiny = join(BENCH_DIR, 'bench-established-1k.pcap');
  if (!existsSync(tiny)) {
    const made = spawnSync(process.execPath, [join(root, 'scripts', 'bench', 'make-established-pcap.mjs'), tiny, '1000'], {
      stdio: 'inherit',
    });
    if (made.status !== 0) fail(`could not make ${tiny}`);
  }
  // Heap and budget far above what the connections need, so none is evicted and the peak is theirs.
  const run = (capture) => [
    [
      process.execPath,
      '--max-old-space-size=16384',
      join(DIST, 'cli', 'main.js'),
      'analyze',
      capture,
      '--db',
      db,
      '--memory',
      '14G',
      '--quiet',
    ],
  ];
  process.stderr.write(`bench: [established ${ESTABLISHED.label}] analyze with room for every connection `);
  removeDb(db);
  const whole = await measure(run(file));
  removeDb(db);
  const base = await measure(run(tiny));
  removeDb(db);
  if (!whole.ok || !base.ok) {
    log(`FAILED (exit ${(whole.ok ? base : whole).code})`);
    return undefined;
  }
  const bytes = ((whole.rssKiB - base.rssKiB) * 1024) / (ESTABLISHED.connections - 1000);
  log(
    `${whole.seconds.toFixed(2).padStart(7)} s  ${fmtMiB(whole.rssKiB).padStart(9)} peak RSS  ${fmtInt(Math.round(bytes))} bytes a connection`,
  );
  return { bytes, peakKiB: whole.rssKiB, baseKiB: base.rssKiB, seconds: whole.seconds };
}

/** The report's section on the memory budget. */
function establishedSection(e) {
  if (!e) return [];
  const lines = ['## Memory budget', ''];
  if (!e.ok) return [...lines, `The ${e.label} established-connections run failed (exit ${e.code ?? e.signal}); see Problems.`, ''];
  const d = e.detail;
  lines.push(
    `\`analyze --memory ${e.memory}\` over ${fmtInt(e.connections)} connections that all stay ESTABLISHED (\`bench-established-${e.label}.pcap\`,`,
    `made by scripts/bench/make-established-pcap.mjs: ${fmtInt(d.packets)} packets), one run:`,
    '',
    "| connections | rows in `flows` | 4-tuples with a row | evicted (`evicted_by = 'memory'`) | peak RSS | wall time |",
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${fmtInt(d.flows)} | ${fmtInt(d.rows)} | ${fmtInt(d.tuples)} | ${fmtInt(d.evicted)} (${fmtInt(d.evictedRows)} rows) | ${fmtMiB(e.rssKiB)} | ${e.seconds.toFixed(1)} s |`,
    '',
    `Every connection has its row; past the budget the least recently seen were written as they stood and evicted.`,
    `Peak RSS should stay within the budget plus Node's own base (a tiny capture's peak): the estimate counts 3,800 bytes`,
    'a live connection, its 2.1 KB of state and the room V8 takes before it collects (docs/scale.md); without a budget',
    'the same run grows with the connections.',
    ...(e.perConnection === undefined
      ? []
      : [
          '',
          `**Bytes per live connection: ${fmtInt(Math.round(e.perConnection.bytes))}** (the target: 512 or fewer). The same capture analysed with`,
          `room for every connection (heap 16 GiB, \`--memory 14G\`, none evicted): peak RSS ${fmtMiB(e.perConnection.peakKiB)}, against`,
          `${fmtMiB(e.perConnection.baseKiB)} for 1,000 such connections; the difference per connection.`,
        ]),
    '',
  );
  return lines;
}

if (args['only-established']) {
  const e = await establishedBench();
  console.log(establishedSection(e).join('\n'));
  process.exit(e.ok ? 0 : 1);
}

let established;
let startedAt;
let finishedAt;
let captures = [];
let results = []; // { size, stage, tool, format, file, runs: [...] }
let problems = [];
let commandLine = ['npm run bench --', ...process.argv.slice(2)].join(' ').replace(/ --$/, '');
let saved;
if (REPORT_ONLY) {
  if (!existsSync(RESULTS_FILE)) fail(`--report-only: ${RESULTS_FILE} does not exist; run the benchmark first`);
  saved = JSON.parse(readFileSync(RESULTS_FILE, 'utf8'));
  ({ captures, results, problems, skipped, commandLine, established } = saved);
  ({ runs: RUNS, haveTime: HAVE_TIME } = saved);
  startedAt = new Date(saved.startedAt);
  finishedAt = new Date(saved.finishedAt);
} else {
  captures = SIZES.map(ensureCapture);
  if (REPEAT > 0)
    captures.push(
      ensureRepeated(
        captures.reduce((a, b) => (b.packets < a.packets ? b : a)),
        REPEAT,
      ),
    );
  startedAt = new Date();

  for (const capture of captures) {
    const items = itemsFor(capture);
    const bySize = new Map(
      items.map((item) => [
        keyOf(item),
        { size: capture.label, stage: item.stage, tool: item.tool, format: item.format, file: item.file, runs: [] },
      ]),
    );
    results.push(...bySize.values());
    const rounds = RUNS;
    for (let round = 1; round <= rounds; round++) {
      // `once` items (tshark) run after the last round: their memory use evicts the page cache
      const list = items.filter((item) => !item.once);
      if (round === rounds) list.push(...items.filter((item) => item.once));
      for (const item of list) {
        const label = `${item.tool === 'flowstate' ? item.stage : item.tool} ${item.format}`;
        process.stderr.write(`bench: [${capture.label} ${item.once ? 'once' : `${round}/${rounds}`}] ${label.padEnd(16)} `);
        const r = await item.run();
        bySize.get(keyOf(item)).runs.push(r);
        const packets = packetsOf(capture);
        if (r.ok) {
          log(
            `${r.seconds.toFixed(2).padStart(7)} s  ${fmtRate(packets / r.seconds).padStart(7)} packets/s  ${fmtMiB(r.rssKiB).padStart(9)} peak RSS${r.othersCores >= 0.25 ? `  (others kept ${r.othersCores.toFixed(1)} cores busy)` : ''}`,
          );
        } else {
          log(`FAILED (exit ${r.code ?? r.signal}) after ${r.seconds.toFixed(1)} s`);
          problems.push({ size: capture.label, what: label, run: round, seconds: r.seconds, exit: r.code ?? r.signal, stderr: r.stderr });
        }
      }
    }
  }
  if (ESTABLISHED.connections > 0) {
    established = await establishedBench();
    if (!established.ok)
      problems.push({
        size: established.label,
        what: 'established',
        run: 1,
        seconds: established.seconds,
        exit: established.code ?? established.signal,
        stderr: established.stderr,
      });
  }
  finishedAt = new Date();
}

function packetsOf(capture) {
  for (const r of results) {
    if (r.size !== capture.label || r.tool !== 'flowstate') continue;
    const frames = r.runs.find((x) => x.ok && x.detail?.frames)?.detail.frames;
    if (frames) return frames;
  }
  return capture.info.packets ?? capture.packets;
}

// ------------------------------------------------------------------ figures
function figures(result) {
  const capture = captures.find((c) => c.label === result.size);
  const ok = result.runs.filter((r) => r.ok);
  if (ok.length === 0) return { failed: true, runs: result.runs.length };
  const packets = packetsOf(capture);
  const bytes = capture.bytes[result.format];
  const seconds = median(ok.map((r) => r.seconds));
  const f = {
    n: ok.length,
    of: result.runs.length,
    seconds,
    all: ok.map((r) => r.seconds),
    pps: packets / seconds,
    mbps: bytes / 1e6 / seconds,
    rssKiB: Math.max(...ok.map((r) => r.rssKiB)),
    perProcessKiB: ok.at(-1).perProcessKiB,
    cpu: ok[0].cpuSeconds === undefined ? undefined : median(ok.map((r) => r.cpuSeconds / r.seconds)),
    detail: ok.at(-1).detail,
  };
  const others = ok.map((r) => r.othersCores).filter((x) => x !== undefined);
  if (others.length) f.others = Math.max(...others);
  const inner = ok.map((r) => r.detail?.innerSeconds).filter((x) => x > 0);
  if (inner.length) f.innerPps = packets / median(inner);
  if (result.stage === 'end-to-end') {
    const rows = f.detail.rows.flows + f.detail.rows.transitions + f.detail.rows.findings;
    f.rows = rows;
    f.rowsPerSecond = rows / seconds;
    f.dbBytes = f.detail.dbBytes;
  }
  if (result.stage === 'track-warm') f.warmPps = packets / median(ok.map((r) => r.detail.lastPassSeconds));
  if (result.stage === 'sqlite-floor') f.rows = f.detail.rows.flows + f.detail.rows.transitions + f.detail.rows.findings;
  if (result.stage === 'one-core') {
    f.rows = f.detail.rows;
    f.innerSeconds = median(inner);
    f.writeSeconds = median(ok.map((r) => r.detail.writeSeconds));
  }
  return f;
}
const find = (size, stage, tool, format = 'pcap') => {
  const r = results.find((x) => x.size === size && x.stage === stage && x.tool === tool && x.format === format);
  return r ? figures(r) : undefined;
};

function fmtRate(x) {
  if (!Number.isFinite(x)) return '—';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(0)} k`;
  return x.toFixed(0);
}
function fmtMiB(kib) {
  if (!kib) return '—';
  const mib = kib / 1024;
  return mib >= 1024 ? `${(mib / 1024).toFixed(2)} GiB` : `${mib.toFixed(0)} MiB`;
}
const fmtBytes = (b) => (b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : `${(b / 1e6).toFixed(1)} MB`);
// A declaration, hoisted: --only-established runs before the module reaches this line.
function fmtInt(n) {
  return n === undefined || Number.isNaN(n) ? '—' : Math.round(n).toLocaleString('en-US');
}
const fmtRatio = (x) => (Number.isFinite(x) ? (x >= 10 ? `${x.toFixed(0)}×` : x >= 1 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`) : '—');
const fmtCpu = (c) => (c === undefined ? '—' : `${(c * 100).toFixed(0)} %`);
const fmtOthers = (c) => (c === undefined ? '—' : c >= 0.25 ? `**${(c * 100).toFixed(0)} %**` : `${(c * 100).toFixed(0)} %`);
const fmtTimes = (f) => f.all.map((s) => s.toFixed(2)).join(' / ') + (f.n < f.of ? ` (${f.of - f.n} failed)` : '');
/** A median time as a multiple of the C floor's on the same capture and format; — without the floor (no compiler, older results). */
const xFloor = (f, size, format = 'pcap') => {
  const floor = find(size, 'peer', C_FLOOR, format);
  return !f || f.failed || !floor || floor.failed ? '—' : fmtRatio(f.seconds / floor.seconds);
};
const X_FLOOR = '× C floor';

// ------------------------------------------------------------------ machine
function sh(command) {
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
/**
 * Nanoseconds a system call takes here: `dd bs=1` makes a read and a write per byte. Native
 * peers that make one a packet (argus seeks once per packet read, strace -c shows) pay it per
 * packet, so their times move with the kernel's and the hypervisor's cost of a system call.
 */
function syscallNs() {
  const calls = 200_000;
  const t0 = process.hrtime.bigint();
  const r = spawnSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${calls / 2}`], { stdio: 'ignore' });
  return r.status === 0 ? Number(process.hrtime.bigint() - t0) / calls : undefined;
}
const machine = saved?.machine ?? {
  nproc: sh('nproc') ?? String(os.availableParallelism?.() ?? os.cpus().length),
  cpu: cpuModel,
  memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  node: process.version,
  kernel: `${os.type()} ${os.release()} (${os.arch()})`,
  syscallNs: syscallNs(),
  commit: commitAtStart,
  dirty: dirtyAtStart,
  distBuilt: distBuilt?.toISOString().replace(/\.\d+Z$/, 'Z'),
  tools: {
    tcpdump: sh('tcpdump --version 2>&1 | head -1'),
    argus: peers.argus ? sh('argus -h 2>&1 | head -1') : undefined,
    ra: peers.argus ? sh('ra -h 2>&1 | head -1') : undefined,
    tshark: peers.tshark ? sh('tshark --version 2>/dev/null | head -1') : undefined,
    cc: peers[C_FLOOR] ? sh('cc --version 2>/dev/null | head -1') : undefined,
  },
};

if (!REPORT_ONLY) {
  const runsNoOutput = results.map((r) => ({
    ...r,
    runs: r.runs.map(({ stderr, ...rest }) => ({ ...rest, stderr: rest.ok ? '' : stderr })),
  }));
  writeFileSync(
    RESULTS_FILE,
    JSON.stringify(
      {
        startedAt,
        finishedAt,
        runs: RUNS,
        haveTime: HAVE_TIME,
        commandLine,
        machine,
        skipped,
        captures,
        results: runsNoOutput,
        problems,
        established,
      },
      null,
      1,
    ),
  );
}

// ------------------------------------------------------------------ verdicts
const labels = captures.map((c) => c.label);
const sized = captures.filter((c) => !c.repeatOf);
const biggest = sized.reduce((a, b) => (b.packets > a.packets ? b : a)).label;
const smallest = sized.reduce((a, b) => (b.packets < a.packets ? b : a)).label;
const repeated = captures.find((c) => c.repeatOf);
const GROWTH_LIMIT = 1.2; // "does not grow": the bigger file's peak at most 20 % above the smaller one's
/** Two decimals: a growth of 1.21× must not read as the 1.2× it fails against. */
const fmtGrowth = (ratio) => `${ratio.toFixed(2)}×`;

function growth(stage, tool = 'flowstate', format = 'pcap') {
  if (biggest === smallest) return undefined;
  const a = find(smallest, stage, tool, format);
  const b = find(biggest, stage, tool, format);
  if (!a || !b || a.failed || b.failed) return undefined;
  return { small: a.rssKiB, big: b.rssKiB, ratio: b.rssKiB / a.rssKiB };
}

const decodeBig = find(biggest, 'decode', 'flowstate');
const trackBig = find(biggest, 'track', 'flowstate');
const TRACK_TARGET_PPS = 2.5e6;
const e2eBig = find(biggest, 'end-to-end', 'flowstate');
const oneCoreBig = find(biggest, 'one-core', 'flowstate');
/** The end-to-end target, 1.5 M packets/s, as a time budget per packet. */
const TARGET_PPS = 1.5e6;
const BUDGET_NS = 1e9 / TARGET_PPS;
const nsPerPacket = (seconds, size) => (seconds * 1e9) / packetsOf(captures.find((c) => c.label === size));
const e2eGrowth = growth('end-to-end');
/** Peak RSS of the capture repeated over against the capture itself: growth with length alone. */
const lengthGrowth = (() => {
  if (!repeated) return undefined;
  const a = find(repeated.repeatOf, 'end-to-end', 'flowstate');
  const b = find(repeated.label, 'end-to-end', 'flowstate');
  if (!a || !b || a.failed || b.failed) return undefined;
  return { small: a.rssKiB, big: b.rssKiB, ratio: b.rssKiB / a.rssKiB };
})();
const RSS_LIMIT = 400e6; // bytes
const verdict = (ok) => (ok === undefined ? 'not measured' : ok ? '**met**' : '**not met**');
const targets = [
  {
    target: 'decode (read + decode + flow lookup) ≥ 3 M packets/s on one core',
    measured:
      decodeBig && !decodeBig.failed
        ? `${fmtRate(decodeBig.pps)} packets/s (${biggest} pcap; ${decodeBig.innerPps ? `${fmtRate(decodeBig.innerPps)} in-process; ` : ''}CPU ${fmtCpu(decodeBig.cpu)})`
        : 'failed',
    ok: decodeBig && !decodeBig.failed ? decodeBig.pps >= 3e6 : false,
  },
  ...labels
    .filter((size) => !size.includes('×'))
    .map((size) => {
      const t = find(size, 'track', 'flowstate');
      const warm = find(size, 'track-warm', 'flowstate');
      const warmNote = warm && !warm.failed ? `; warm, the last of ${WARM_PASSES} passes in one process: ${fmtRate(warm.warmPps)}` : '';
      return {
        target: `decode + track (records built, handed to a counting output) ≥ 2.5 M packets/s in-process on one core (${size})`,
        measured:
          t && !t.failed
            ? `${fmtRate(t.innerPps)} packets/s in-process (${size} pcap; ${fmtRate(t.pps)} as a whole process${warmNote})`
            : 'failed',
        ok: t && !t.failed ? t.innerPps >= TRACK_TARGET_PPS : false,
      };
    }),
  {
    target: 'decode + track peak RSS ≤ 250 MiB',
    measured: trackBig && !trackBig.failed ? `${fmtMiB(trackBig.rssKiB)} (${biggest} pcap)` : 'failed',
    ok: trackBig && !trackBig.failed ? trackBig.rssKiB <= 250 * 1024 : false,
  },
  {
    target: 'end-to-end (`analyze` → SQLite) ≥ 1.5 M packets/s',
    measured: e2eBig && !e2eBig.failed ? `${fmtRate(e2eBig.pps)} packets/s (${biggest} pcap; SQLite on a second thread)` : 'failed',
    ok: e2eBig && !e2eBig.failed ? e2eBig.pps >= TARGET_PPS : false,
  },
  ...['pcap', 'pcapng'].flatMap((format) => {
    const ours = find(biggest, 'end-to-end', 'flowstate', format);
    const argus = find(biggest, 'peer', 'argus', format);
    if (!ours || !argus) return [];
    const ok = !ours.failed && !argus.failed;
    const floor = find(biggest, 'sqlite-floor', 'flowstate');
    const floorNote =
      ok && floor && !floor.failed
        ? `; SQLite's floor alone ${floor.seconds.toFixed(2)} s of the ${(0.5 * argus.seconds).toFixed(2)} s allowed`
        : '';
    return [
      {
        target: `end-to-end median time ≤ 0.5× \`argus | ra\`'s, same run (${biggest} ${format})`,
        measured: ok
          ? `${(ours.seconds / argus.seconds).toFixed(2)}× (${ours.seconds.toFixed(2)} s against ${argus.seconds.toFixed(2)} s${floorNote})`
          : 'failed',
        ok: ok ? ours.seconds <= 0.5 * argus.seconds : false,
      },
    ];
  }),
  ...(oneCoreBig
    ? [
        {
          target: 'end-to-end ≥ 1.5 M packets/s on one core (transitions included)',
          measured: oneCoreBig.failed
            ? 'failed'
            : `${fmtRate(oneCoreBig.innerPps)} packets/s in-process (${biggest} pcap); SQLite alone took ${nsPerPacket(oneCoreBig.writeSeconds, biggest).toFixed(0)} ns a packet of the ${BUDGET_NS.toFixed(0)} ns budget (see One core)`,
          ok: oneCoreBig.failed ? false : oneCoreBig.innerPps >= TARGET_PPS,
        },
      ]
    : []),
  {
    target: 'end-to-end peak RSS ≤ 400 MB (381 MiB)',
    measured:
      e2eBig && !e2eBig.failed ? `${fmtMiB(e2eBig.rssKiB)} (${((e2eBig.rssKiB * 1024) / 1e6).toFixed(0)} MB, ${biggest} pcap)` : 'failed',
    ok: e2eBig && !e2eBig.failed ? e2eBig.rssKiB * 1024 <= RSS_LIMIT : false,
  },
  {
    target:
      biggest === smallest
        ? 'end-to-end peak RSS does not grow with file size'
        : `end-to-end peak RSS does not grow with file size (${biggest} ≤ ${GROWTH_LIMIT}× ${smallest})`,
    measured: e2eGrowth
      ? `${fmtMiB(e2eGrowth.small)} on ${smallest} → ${fmtMiB(e2eGrowth.big)} on ${biggest} (${fmtGrowth(e2eGrowth.ratio)})`
      : biggest === smallest
        ? 'needs two sizes'
        : 'failed',
    ok: e2eGrowth ? e2eGrowth.ratio <= GROWTH_LIMIT : biggest === smallest ? undefined : false,
  },
  ...(repeated
    ? [
        {
          target: `end-to-end peak RSS does not grow with the capture's length alone (${repeated.label}, the same connections at once, ≤ ${GROWTH_LIMIT}× ${repeated.repeatOf})`,
          measured: lengthGrowth
            ? `${fmtMiB(lengthGrowth.small)} on ${repeated.repeatOf} → ${fmtMiB(lengthGrowth.big)} on ${repeated.label} (${fmtGrowth(lengthGrowth.ratio)})`
            : 'failed',
          ok: lengthGrowth ? lengthGrowth.ratio <= GROWTH_LIMIT : false,
        },
      ]
    : []),
  ...(() => {
    const html = find(biggest, 'html', 'flowstate');
    if (!html) return [];
    const ok = !html.failed;
    return [
      {
        target: `HTML report written ≤ 10 s from the bench database (${biggest})`,
        measured: ok ? `${html.seconds.toFixed(1)} s, peak RSS ${fmtMiB(html.rssKiB)}` : 'failed',
        ok: ok ? html.seconds <= 10 : false,
      },
      {
        target: 'HTML report ≤ 8 MB',
        measured: ok ? `${(html.detail.bytes / 1e6).toFixed(2)} MB` : 'failed',
        ok: ok ? html.detail.bytes <= 8e6 : false,
      },
      {
        target: 'HTML report opens in Chromium ≤ 3 s',
        measured:
          ok && html.detail.readyMs !== undefined
            ? `${(html.detail.readyMs / 1000).toFixed(2)} s (headless, from the file, until drawn)`
            : 'no Chromium',
        ok: ok && html.detail.readyMs !== undefined ? html.detail.readyMs <= 3000 : undefined,
      },
    ];
  })(),
];

// ------------------------------------------------------------------ the report
const md = [];
/** `align`: one letter per column, l or r (default: the first left, the rest right). */
const table = (head, rows, align = 'l' + 'r'.repeat(head.length - 1)) => {
  const esc = (c) => String(c).replace(/(?<!\\)\|/g, '\\|');
  md.push(`| ${head.map(esc).join(' | ')} |`, `| ${head.map((_, i) => (align[i] === 'r' ? '---:' : '---')).join(' | ')} |`);
  for (const row of rows) md.push(`| ${row.map(esc).join(' | ')} |`);
  md.push('');
};
const rel = (p) => (p.startsWith(root) ? relative(root, p) : p);

md.push(
  '# Benchmarks',
  '',
  '<!-- Written by scripts/bench.mjs (`npm run bench`); every run replaces this whole file. Edit the script, not this page. -->',
  '',
  'How fast flowstate reads a large capture and how much memory it needs, measured on the',
  'benchmark captures of `scripts/bench/make-bench-pcap.sh` (real Linux TCP traffic, replicated',
  'into interleaved copies; how, at the end of this page), beside the tools people use today',
  'on the same files in the same run. flowstate is measured at three depths, and end to end on one core:',
  '',
  '- **decode**: read + decode + flow-table lookup per segment, nothing else — the floor every later stage pays;',
  "- **track**: decode + the full tracker (both endpoints' state machines, detectors), records dropped;",
  '- **end-to-end**: `flowstate analyze FILE --db DB --quiet`, the SQLite database written and closed (on a second thread);',
  "- **one core**: the same job with the database written in the same thread, SQLite's share timed apart.",
  '',
  'The yardsticks do less or different work: `tcpdump -w /dev/null` only walks the records (the',
  'read floor); `argus | ra` builds a flow table with a state per flow; `tshark -z conv,tcp`',
  'dissects every packet fully. Ratios are ours ÷ theirs (above 1× means flowstate is faster).',
  'argus makes a system call (lseek) for every packet it reads, so its times, and the ratios against it, move with the',
  "machine's cost of a system call (in the Machine table); flowstate reads in large blocks.",
  '',
  'The **C floor** (`scripts/bench/flow-table-floor.c`, compiled here with `cc -O2`, run as `flow-table-floor -m FILE`) reads',
  "the capture and finds each packet's flow in a hash table, in C, on a single core, and does nothing else. Every stage is",
  `also given as a multiple of it ("${X_FLOOR}": the row's median time ÷ the floor's, same capture and format). Machines differ`,
  'in ways that move JavaScript and C differently (random memory access costs more on some virtual machines): compare these',
  'ratios across machines, not seconds.' +
    (results.some((r) => r.tool === C_FLOOR)
      ? ''
      : ' This run has no floor (no C compiler, or results saved before it was added): they show –.'),
  '',
  `Measured ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')} – ${finishedAt.toISOString().replace(/\.\d+Z$/, 'Z')} at commit \`${machine.commit}\`${machine.dirty ? ` with ${machine.dirty} file(s) under src/ modified` : ''}, dist/ built ${machine.distBuilt ?? '(unknown)'} (a copy of it, taken when the run began, is what ran).`,
  '',
  '## Targets',
  '',
);
table(
  ['target (from the issues)', 'measured', 'verdict'],
  targets.map((t) => [t.target, t.measured, verdict(t.ok)]),
  'lll',
);
const busiest = Math.max(0, ...results.map((r) => figures(r).others ?? 0));
if (busiest >= 0.25) {
  md.push(
    `Other programs shared the machine during part of this run (at worst ${(busiest * 100).toFixed(0)} % of a core besides the program measured, on ${machine.nproc} cores): the rows with a bold "others" figure are pessimistic.`,
    '',
  );
}

md.push('## Machine', '');
table(
  ['', ''],
  [
    ['CPUs (`nproc`)', machine.nproc],
    ['CPU model', machine.cpu],
    ['memory', machine.memory],
    ['Node.js', machine.node],
    ['kernel', machine.kernel],
    ['a system call (`dd bs=1`: a read and a write a byte)', machine.syscallNs ? `${(machine.syscallNs / 1000).toFixed(2)} µs` : '—'],
    ['date', startedAt.toISOString().slice(0, 10)],
    ...Object.entries(machine.tools)
      .filter(([, v]) => v)
      .map(([k, v]) => [k, v]),
  ],
  'll',
);
md.push(
  'The machine is shared and evicts the page cache quickly, so the programs run in turns (A B A B …)',
  'in one run; times are medians, each a whole process from start to exit (Node.js start-up, ~50 ms,',
  'included). Peak RSS is the largest of the runs, from ' +
    (HAVE_TIME ? '`/usr/bin/time -v`' : 'VmHWM in /proc, polled') +
    ' (for a pipeline, its largest',
  'process). CPU is user + system time ÷ wall time: above 100 % means threads besides the main one',
  '(garbage collector, SQLite) did work. "Others" is the most CPU the rest of the machine used during any',
  "of the runs (all its busy time in /proc/stat minus the measured program's), in % of one core; in bold",
  'from 25 %, where another program competed for the ' + machine.nproc + ' cores and the figure is pessimistic.',
  '"In-process" packets/s is timed inside the driver, from',
  'opening the capture to the last frame (no Node.js start-up, no module loading). MB = 10⁶ bytes; MiB = 2²⁰ bytes.',
  '',
);

md.push('## Input files', '');
table(
  ['file', 'packets', 'bytes (pcap)', 'bytes (pcapng)', 'connections (4-tuples)', 'IPv6 connections', 'capture span'],
  captures.map((c) => [
    `\`${rel(c.pcap)}\``,
    fmtInt(packetsOf(c)),
    fmtInt(c.bytes.pcap),
    c.bytes.pcapng ? fmtInt(c.bytes.pcapng) : '—',
    fmtInt(c.info.connections),
    fmtInt(c.info.ipv6_connections),
    c.info.duration_s ? `${c.info.duration_s} s` : '—',
  ]),
);
md.push(`Connections and span are from each file's \`.summary.txt\`, written by make-bench-pcap.sh.`, '');

const cell = (f, fn) => (!f ? '—' : f.failed ? '**failed**' : fn(f));
/** A row of a table of timed commands on capture `size`'s pcap: label, median time, × C floor, peak RSS, CPU, a note, every run. */
const timedRow = (label, f, notes, size) => [
  label,
  cell(f, (x) => `${x.seconds.toFixed(2)} s`),
  xFloor(f, size),
  cell(f, (x) => fmtMiB(x.rssKiB)),
  cell(f, (x) => fmtCpu(x.cpu)),
  notes,
  cell(f, fmtTimes),
];
md.push(
  '## Decode',
  '',
  'Read + decode + flow lookup (`scripts/bench.mjs` writes the small driver; it imports `dist/capture/open-capture.js`, `dist/capture/frame-stream.js`, `dist/decode/packet-decoder.js`, `dist/track/flow-table.js`).',
  '',
);
{
  const rows = [];
  for (const size of labels) {
    for (const format of ['pcap', 'pcapng']) {
      for (const [tool, name] of [
        ['flowstate', '**flowstate decode**'],
        ['tcpdump', '`tcpdump -w /dev/null`'],
        [C_FLOOR, 'the C floor, `flow-table-floor -m`'],
      ]) {
        const f = find(size, tool === 'flowstate' ? 'decode' : 'peer', tool, format);
        if (!f) continue;
        rows.push([
          `${size} ${format}, ${name}`,
          cell(f, (x) => fmtRate(x.pps)),
          xFloor(f, size, format),
          cell(f, (x) => (x.innerPps ? fmtRate(x.innerPps) : '—')),
          cell(f, (x) => x.mbps.toFixed(0)),
          cell(f, (x) => fmtMiB(x.rssKiB)),
          cell(f, (x) => fmtCpu(x.cpu)),
          cell(f, (x) => fmtOthers(x.others)),
          cell(f, fmtTimes),
        ]);
      }
    }
  }
  table(['file, program', 'packets/s', X_FLOOR, 'in-process packets/s', 'MB/s', 'peak RSS', 'CPU', 'others', 'runs (s)'], rows);
}

md.push(
  '## Track',
  '',
  'Decode + the whole tracker with an output that counts records and drops them (`analyzeCapture(paths, output)` from `dist/analyze.js`).',
  '',
);
{
  const rows = [];
  for (const size of labels) {
    const f = find(size, 'track', 'flowstate');
    if (!f) continue;
    rows.push([
      `${size} pcap`,
      cell(f, (x) => fmtRate(x.pps)),
      xFloor(f, size),
      cell(f, (x) => (x.innerPps ? fmtRate(x.innerPps) : '—')),
      cell(f, (x) => x.mbps.toFixed(0)),
      cell(f, (x) => fmtMiB(x.rssKiB)),
      cell(f, (x) => fmtCpu(x.cpu)),
      cell(f, (x) => fmtOthers(x.others)),
      cell(f, (x) => fmtInt(x.detail?.flows)),
      cell(f, (x) => fmtInt(x.detail?.peakFlowsInMemory)),
      cell(f, fmtTimes),
    ]);
  }
  table(
    [
      'file',
      'packets/s',
      X_FLOOR,
      'in-process packets/s',
      'MB/s',
      'peak RSS',
      'CPU',
      'others',
      'flows',
      'most flows in memory at once',
      'runs (s)',
    ],
    rows,
  );
}
{
  const warmed = labels.map((size) => [size, find(size, 'track-warm', 'flowstate')]).filter(([, f]) => f && !f.failed);
  if (warmed.length) {
    md.push(
      `Cold and warm: one more run of the track driver tracks the capture ${WARM_PASSES} times over in one process, each pass by a`,
      "new tracker. The first pass pays for V8 compiling the tracker as it runs (the in-process figure above); by the last, V8's",
      'optimizing compiler has compiled it.',
      '',
    );
    table(
      ['file', 'first pass (cold)', `pass ${WARM_PASSES} (warm)`, 'warm a packet'],
      warmed.map(([size, f]) => [
        `${size} pcap`,
        `${fmtRate(f.innerPps)} packets/s`,
        `${fmtRate(f.warmPps)} packets/s`,
        `${(1e9 / f.warmPps).toFixed(0)} ns`,
      ]),
    );
  }
}
{
  const profiled = labels
    .map((size) => [size, find(size, 'track-profile', 'flowstate')])
    .filter(([, f]) => f && !f.failed && f.detail?.split);
  if (profiled.length) {
    md.push(
      '### Where decode + track spends its time',
      '',
      "One more run of the track driver under V8's sampling profiler (`node --cpu-prof`), its self time summed by part of",
      'the code, in nanoseconds a packet. A function inlined into another counts as the one it was inlined into (the',
      'flow lookup inlined into dispatch shows as dispatch), and the profiler slows the run by a few percent.',
      '',
    );
    const parts = [...PROFILE_PARTS.map(([name]) => name), OTHER_PART];
    const rows = parts.map((part) => [
      part,
      ...profiled.map(([size, f]) => {
        const ms = f.detail.split[part];
        const total = Object.values(f.detail.split).reduce((a, b) => a + b, 0);
        const packets = packetsOf(captures.find((c) => c.label === size));
        return `${((ms * 1e6) / packets).toFixed(0)} ns (${((100 * ms) / total).toFixed(0)} %)`;
      }),
    ]);
    rows.push([
      '**all**',
      ...profiled.map(([size, f]) => {
        const total = Object.values(f.detail.split).reduce((a, b) => a + b, 0);
        return `**${((total * 1e6) / packetsOf(captures.find((c) => c.label === size))).toFixed(0)} ns**`;
      }),
    ]);
    table(['part', ...profiled.map(([size]) => `${size} pcap`)], rows);
  }
}

md.push(
  '## End-to-end',
  '',
  '`node dist/cli/main.js analyze FILE --db DB --quiet`; rows are those of `flows`, `transitions` and `findings` in the finished database.',
  '',
);
{
  const rows = [];
  for (const [size, format] of labels.flatMap((size) => ['pcap', 'pcapng'].map((format) => [size, format]))) {
    const f = find(size, 'end-to-end', 'flowstate', format);
    if (!f) continue;
    rows.push([
      `${size} ${format}`,
      cell(f, (x) => fmtRate(x.pps)),
      xFloor(f, size, format),
      cell(f, (x) => x.mbps.toFixed(0)),
      cell(f, (x) => `${fmtRate(x.rowsPerSecond)}`),
      cell(f, (x) => `${fmtInt(x.detail.rows.flows)} / ${fmtInt(x.detail.rows.transitions)} / ${fmtInt(x.detail.rows.findings)}`),
      cell(f, (x) => fmtMiB(x.rssKiB)),
      cell(f, (x) => fmtCpu(x.cpu)),
      cell(f, (x) => fmtOthers(x.others)),
      cell(f, (x) => fmtBytes(x.dbBytes)),
      cell(f, fmtTimes),
    ]);
  }
  table(
    [
      'file',
      'packets/s',
      X_FLOOR,
      'MB/s',
      'rows written/s',
      'rows (flows / transitions / findings)',
      'peak RSS',
      'CPU',
      'others',
      'database',
      'runs (s)',
    ],
    rows,
  );
}

md.push(
  '## Threads',
  '',
  '`analyze --threads N`: 1 writes SQLite in the thread that reads, decodes and tracks; 2 gives SQLite a thread of',
  'its own (rows cross in batches). The job has these two stages, so `--threads` above 2 runs as 2; the default is',
  'the CPUs the process may use, at most 2. "One CPU" pins the whole process to one (`taskset -c 0`), as a container',
  'with one CPU would; "every CPU" is this machine\'s ' + `${os.cpus().length}.`,
  '',
);
{
  const rows = [];
  for (const size of labels.filter((label) => !label.includes('×'))) {
    const runs = [
      ...THREAD_VARIANTS.map((variant) => [variant.name, find(size, 'threads', variant.name)]),
      ['--threads 2 (the default here), every CPU', find(size, 'end-to-end', 'flowstate')],
    ];
    for (const [name, f] of runs) {
      if (!f) continue;
      rows.push([
        `${size} pcap`,
        name,
        cell(f, (x) => fmtRate(x.pps)),
        xFloor(f, size),
        cell(f, (x) => fmtMiB(x.rssKiB)),
        cell(f, (x) => fmtCpu(x.cpu)),
        cell(f, (x) => fmtOthers(x.others)),
        cell(f, fmtTimes),
      ]);
    }
  }
  table(['file', 'run', 'packets/s', X_FLOOR, 'peak RSS', 'CPU', 'others', 'runs (s)'], rows);
  const profiled = find(biggest, 'threads-profile', 'flowstate');
  if (profiled && !profiled.failed && profiled.detail?.main) {
    const { main, writer } = profiled.detail;
    const parts = [...THREAD_PARTS.map(([name]) => name), THREAD_OTHER];
    const sum = (split) => Object.values(split).reduce((a, b) => a + b, 0);
    const share = (split, part) => `${(split[part] / 1000).toFixed(2)} s (${((100 * split[part]) / sum(split)).toFixed(0)} %)`;
    md.push(
      `What each thread did, from one more default run on ${biggest} under V8's sampling profiler (\`node --cpu-prof\`, one`,
      "profile a thread), self time summed by part of the code (SQLite's C code counts as the JavaScript that called it):",
      '',
    );
    table(
      ['part', 'main thread', 'writer thread'],
      parts.map((part) => [part, share(main, part), share(writer, part)]),
    );
    const mainBusy = (sum(main) - main[IDLE_PART]) / 1000;
    const writerBusy = (sum(writer) - writer[IDLE_PART]) / 1000;
    const decode = main[DECODE_PART] / 1000;
    md.push(
      `The main thread was busy ${mainBusy.toFixed(1)} s and the writer ${writerBusy.toFixed(1)} s: the main thread sets the pace. A third`,
      `stage, reading and decoding on a thread of their own, would take at most ${decode.toFixed(1)} s off it (less the cost of handing`,
      `every decoded segment over), leaving ${(mainBusy - decode).toFixed(1)} s of tracking and row building, the floor however many threads;`,
      `on this machine's ${os.cpus().length} CPUs the three threads would still share ${(mainBusy + writerBusy).toFixed(1)} s of work. That bound is all`,
      'it could gain, and it is not built. Shards on threads were measured too (docs/scale.md): two at once took about as',
      'long as one run, before their merge.',
      '',
    );
  }
}

md.push(
  '## One core',
  '',
  'The end-to-end target reads "on one core (transitions included)". This stage is `analyze` with the database',
  'written in the same thread (`new DatabaseWriter(db, { thread: false })`, driven by `scripts/bench.mjs`),',
  'so one core reads, decodes, tracks and writes SQLite; the driver sums the time spent inside SQLite (the',
  'batched INSERTs, the index builds after the load, the commit) apart. At 1.5 M packets/s the whole job has',
  `${BUDGET_NS.toFixed(0)} ns a packet.`,
  '',
);
{
  const rows = [];
  for (const size of labels) {
    const f = find(size, 'one-core', 'flowstate');
    if (!f) continue;
    const decode = find(size, 'decode', 'flowstate');
    const decodeNs = decode && !decode.failed && decode.innerPps ? 1e9 / decode.innerPps : undefined;
    rows.push([
      `${size} pcap`,
      cell(f, (x) => fmtRate(x.innerPps)),
      xFloor(f, size),
      cell(f, (x) => fmtInt(x.rows)),
      cell(f, (x) => `${x.writeSeconds.toFixed(2)} s`),
      cell(f, (x) => fmtRate(x.rows / x.writeSeconds)),
      cell(f, (x) => `${nsPerPacket(x.writeSeconds, size).toFixed(0)} ns`),
      decodeNs === undefined ? '—' : `${decodeNs.toFixed(0)} ns`,
      cell(f, (x) => `${nsPerPacket(x.innerSeconds - x.writeSeconds, size).toFixed(0)} ns`),
      cell(f, (x) => fmtMiB(x.rssKiB)),
      cell(f, fmtTimes),
    ]);
  }
  table(
    [
      'file',
      'packets/s (in-process)',
      `${X_FLOOR} (whole process)`,
      'rows',
      'time in SQLite',
      'SQLite rows/s',
      'SQLite a packet',
      'read + decode + lookup a packet (decode stage)',
      'the rest a packet (read, decode, track, rows built)',
      'peak RSS',
      'runs (s)',
    ],
    rows,
  );
  if (oneCoreBig && !oneCoreBig.failed && decodeBig && !decodeBig.failed && decodeBig.innerPps) {
    const writeNs = nsPerPacket(oneCoreBig.writeSeconds, biggest);
    const decodeNs = 1e9 / decodeBig.innerPps;
    md.push(
      `On ${biggest}, writing the rows alone (one per flow, per state change and per finding, as docs/schema.md's tables`,
      `require) costs ${writeNs.toFixed(0)} ns a packet and reading + decoding + the flow lookup ${decodeNs.toFixed(0)} ns: ${(((writeNs + decodeNs) / BUDGET_NS) * 100).toFixed(0)} % of the`,
      `${BUDGET_NS.toFixed(0)} ns budget before either endpoint's state is tracked.`,
      '',
    );
  }
}
{
  const floors = labels.map((size) => [size, find(size, 'sqlite-floor', 'flowstate')]).filter(([, f]) => f);
  if (floors.length) {
    md.push(
      "### SQLite's floor",
      '',
      'What SQLite alone costs to write the same database: the finished database copied table by table inside the `sqlite3` shell',
      "(the writer's pragmas, `INSERT … SELECT` in one transaction, the transitions in the table's key order, the cheapest; then the",
      'index builds and the commit), with no JavaScript and no bound values: a floor for any writer of these tables on this machine.',
      '',
    );
    const rows = floors.map(([size, f]) => {
      const oneCore = find(size, 'one-core', 'flowstate');
      const argus = find(size, 'peer', 'argus');
      return [
        `${size} pcap`,
        cell(f, (x) => fmtInt(x.rows)),
        cell(f, (x) => `${x.seconds.toFixed(2)} s`),
        cell(f, (x) => fmtRate(x.rows / x.seconds)),
        cell(f, (x) => `${nsPerPacket(x.seconds, size).toFixed(0)} ns`),
        oneCore && !oneCore.failed ? `${oneCore.writeSeconds.toFixed(2)} s` : '—',
        argus && !argus.failed ? `${(0.5 * argus.seconds).toFixed(2)} s` : '—',
      ];
    });
    table(['file', 'rows', 'SQLite alone', 'rows/s', 'a packet', 'our writer (one-core stage)', "0.5× argus | ra's time"], rows);
  }
}

md.push(
  '## Reading the database',
  '',
  'The commands that read a database written by `analyze` of the same capture: `flowstate html DB` (the page: timeline, pile-ups,',
  'findings, ladders of the flows findings name, whose segments are read again from the capture on a second thread), then',
  'Chromium drawing it from the file; `flowstate netstat DB --summary` (the end of the capture); `flowstate timeline DB --format csv`',
  '(about 100 instants); the last two read every stored transition once, through the same walk. Then each canned report',
  '(`flowstate report NAME --db DB --format csv`), the queries of docs/schema.md. Last `flowstate annotate FILE --out OUT.pcapng`,',
  'from the capture, not the database: it analyses it, then copies every frame into one pcapng, a comment on each frame that',
  'moved a state or drew a finding (to set beside `analyze`: the copy is the difference).',
  '',
);
{
  const rows = [];
  for (const size of labels) {
    for (const stage of ['html', 'netstat', 'timeline', ...CANNED_TIMED.map((name) => `report ${name}`), 'annotate']) {
      const f = find(size, stage, 'flowstate');
      if (!f) continue;
      const notes =
        stage === 'html' && !f.failed
          ? `${(f.detail.bytes / 1e6).toFixed(2)} MB; drawn in Chromium in ${f.detail.readyMs === undefined ? '(no Chromium)' : `${(f.detail.readyMs / 1000).toFixed(2)} s`}`
          : stage === 'annotate' && !f.failed
            ? `${(f.detail.bytes / 1e6).toFixed(1)} MB pcapng written`
            : '';
      rows.push(timedRow(`${size}, \`${stage}\``, f, notes, size));
    }
  }
  table(['database of, command', 'time (median)', X_FLOOR, 'peak RSS', 'CPU', '', 'runs (s)'], rows);
}

md.push(
  '## Shards, merge and Parquet',
  '',
  'Beyond one process (docs/scale.md). `analyze FILE --shard K/N` tracks the connections of shard K only, each shard reading',
  'and decoding the whole file: "one shard of N" is one of them alone, what each of N machines would take; "N shards at once"',
  'runs all N on this 2-core machine together (peak RSS: the largest). `merge OUT SHARD...` joins them into the database one',
  'run writes. `export --format parquet` writes the whole database as Parquet (zstd, split by day).',
  '',
);
{
  const rows = [];
  const stages = [...SHARD_COUNTS.flatMap((n) => [`one shard of ${n}`, `${n} shards at once`, `merge ${n} shards`]), 'export parquet'];
  for (const size of sized.map((c) => c.label)) {
    const whole = find(size, 'end-to-end', 'flowstate');
    if (whole) rows.push(timedRow(`${size}, \`analyze\` (one run, for comparison)`, whole, '', size));
    for (const stage of stages) {
      const f = find(size, stage, 'flowstate');
      if (!f) continue;
      const notes =
        stage === 'export parquet' && !f.failed
          ? `${fmtBytes(f.detail.bytes)} of Parquet, ${fmtBytes(f.detail.sqliteBytes)} of SQLite (${(f.detail.sqliteBytes / f.detail.bytes).toFixed(1)}× smaller)`
          : '';
      rows.push(timedRow(`${size}, ${stage}`, f, notes, size));
    }
  }
  table(['capture, job', 'time (median)', X_FLOOR, 'peak RSS', 'CPU', '', 'runs (s)'], rows);
}

md.push('## Yardsticks', '');
{
  const rows = [];
  const names = {
    tcpdump: '`tcpdump -nn -r FILE -w /dev/null`',
    argus: '`argus -r FILE -w - | ra -n -s stime saddr sport daddr dport state`',
    tshark: '`tshark -r FILE -q -z conv,tcp` (one run)',
    [C_FLOOR]: '`flow-table-floor -m FILE` (the C floor)',
  };
  for (const size of labels) {
    for (const tool of ['tcpdump', 'argus', 'tshark', C_FLOOR]) {
      const f = find(size, 'peer', tool);
      if (!f) continue;
      const rss = cell(f, (x) =>
        x.perProcessKiB.length > 1
          ? `${fmtMiB(x.rssKiB)} (argus ${fmtMiB(x.perProcessKiB[0])}, ra ${fmtMiB(x.perProcessKiB[1])})`
          : fmtMiB(x.rssKiB),
      );
      rows.push([
        `${size} pcap, ${names[tool]}`,
        cell(f, (x) => fmtRate(x.pps)),
        xFloor(f, size),
        cell(f, (x) => x.mbps.toFixed(0)),
        rss,
        cell(f, (x) => fmtCpu(x.cpu)),
        cell(f, (x) => fmtOthers(x.others)),
        cell(f, fmtTimes),
      ]);
    }
  }
  table(['file, program', 'packets/s', X_FLOOR, 'MB/s', 'peak RSS', 'CPU', 'others', 'runs (s)'], rows);
  for (const s of skipped) md.push(`- ${s}`);
  if (skipped.length) md.push('');
}

md.push(
  '## Ratios',
  '',
  'Speed is ours ÷ theirs in packets/s (above 1×: flowstate is faster); memory is our peak RSS ÷ theirs (below 1×: flowstate needs less).',
  '',
);
{
  const rows = [];
  const stages = [
    ['decode', 'decode'],
    ['track', 'track'],
    ['end-to-end', 'end-to-end'],
  ];
  const peerNames = ['tcpdump', 'argus', 'tshark'].filter((t) => results.some((r) => r.tool === t));
  for (const size of labels) {
    for (const [stage, name] of stages) {
      const ours = find(size, stage, 'flowstate');
      if (!ours || ours.failed) continue;
      const row = [`${size}, ${name}`];
      for (const tool of peerNames) {
        const theirs = find(size, 'peer', tool);
        row.push(
          !theirs || theirs.failed ? '—' : `${fmtRatio(ours.pps / theirs.pps)} speed, ${fmtRatio(ours.rssKiB / theirs.rssKiB)} memory`,
        );
      }
      rows.push(row);
    }
    const ngE2e = find(size, 'end-to-end', 'flowstate', 'pcapng');
    if (ngE2e && !ngE2e.failed)
      rows.push([
        `${size}, end-to-end (pcapng)`,
        ...peerNames.map((tool) => {
          const theirs = find(size, 'peer', tool, 'pcapng');
          return !theirs || theirs.failed
            ? '—'
            : `${fmtRatio(ngE2e.pps / theirs.pps)} speed, ${fmtRatio(ngE2e.rssKiB / theirs.rssKiB)} memory`;
        }),
      ]);
    const ng = find(size, 'decode', 'flowstate', 'pcapng');
    const ngPeer = find(size, 'peer', 'tcpdump', 'pcapng');
    if (ng && !ng.failed && ngPeer && !ngPeer.failed && peerNames.includes('tcpdump')) {
      rows.push([
        `${size}, decode (pcapng)`,
        `${fmtRatio(ng.pps / ngPeer.pps)} speed, ${fmtRatio(ng.rssKiB / ngPeer.rssKiB)} memory`,
        ...peerNames.slice(1).map(() => '—'),
      ]);
    }
  }
  table(['ours', ...peerNames.map((t) => `vs ${t}`)], rows, 'l' + 'l'.repeat(peerNames.length));
}

md.push('## Memory against file size', '');
if (biggest === smallest) {
  md.push(
    `Only one size (${biggest}) was measured; run with two sizes (\`--sizes 1m,10m\`) to see whether peak RSS grows with the file.`,
    '',
  );
} else {
  const rows = [];
  for (const [stage, tool, format, name] of [
    ['decode', 'flowstate', 'pcap', 'flowstate decode'],
    ['decode', 'flowstate', 'pcapng', 'flowstate decode (pcapng)'],
    ['track', 'flowstate', 'pcap', 'flowstate track'],
    ['end-to-end', 'flowstate', 'pcap', 'flowstate end-to-end'],
    ['peer', 'tcpdump', 'pcap', 'tcpdump'],
    ['peer', 'argus', 'pcap', 'argus | ra'],
    ['peer', 'tshark', 'pcap', 'tshark'],
  ]) {
    const g = growth(stage, tool, format);
    if (!g) continue;
    rows.push([name, fmtMiB(g.small), fmtMiB(g.big), fmtGrowth(g.ratio), g.ratio <= GROWTH_LIMIT ? 'no' : '**yes**']);
  }
  table(['program', `peak RSS ${smallest}`, `peak RSS ${biggest}`, `${biggest} ÷ ${smallest}`, `grows (> ${GROWTH_LIMIT}×)?`], rows);
  const small = captures.find((c) => c.label === smallest);
  const big = captures.find((c) => c.label === biggest);
  const tSmall = find(smallest, 'track', 'flowstate');
  const tBig = find(biggest, 'track', 'flowstate');
  const span = (c) => (c.info.duration_s ? `${c.info.duration_s} s` : 'an unknown time');
  md.push(
    'The promise is that memory grows with the connections open at once, not with the file. The tracker',
    'keeps a connection until its TIME_WAIT ends (60 s of capture time by default) or a few seconds after',
    `any other close, so those count as "in memory" too. ${smallest} spans ${span(small)} and ${biggest} ${span(big)} of capture time.`,
  );
  if (tSmall && tBig && !tSmall.failed && !tBig.failed && tSmall.detail?.peakFlowsInMemory && tBig.detail?.peakFlowsInMemory) {
    const held = (f) =>
      `${fmtInt(f.detail.peakFlowsInMemory)} of ${fmtInt(f.detail.flows)} flows (${((100 * f.detail.peakFlowsInMemory) / f.detail.flows).toFixed(0)} %)`;
    const dFlows = tBig.detail.peakFlowsInMemory - tSmall.detail.peakFlowsInMemory;
    const perFlow = dFlows > 0 ? ((tBig.rssKiB - tSmall.rssKiB) / dFlows).toFixed(1) : undefined;
    md.push(
      `The tracker held at most ${held(tSmall)} at once on ${smallest} and ${held(tBig)} on ${biggest}` +
        (perFlow ? `: each further flow held cost about ${perFlow} KiB of peak RSS (track stage).` : '.'),
    );
  }
  if (repeated) {
    md.push(
      '',
      `\`${repeated.label}\` is ${repeated.repeatOf} ${repeated.times} times over in one file (\`--repeat\`), each copy shifted past the`,
      "previous one's end plus 2×MSL: as long as the biggest file, with the connections open at once of the smallest.",
      lengthGrowth
        ? `End to end it peaked at ${fmtMiB(lengthGrowth.big)} against ${fmtMiB(lengthGrowth.small)} for ${repeated.repeatOf} (${fmtGrowth(lengthGrowth.ratio)}): the length of the file alone ${lengthGrowth.ratio <= GROWTH_LIMIT ? 'does not' : '**does**'} make memory grow.`
        : 'Its end-to-end run failed; see Problems.',
      '',
    );
  }
  md.push(
    "The decode driver's flow table never removes a connection (it only looks up), so its growth with the",
    'number of connections in the file is expected and says nothing about the tracker.',
    '',
  );
}

md.push(...establishedSection(established));

md.push('## Problems', '');
if (problems.length === 0) md.push('None: every measured run exited 0 and, for ours, produced its result.', '');
else {
  for (const p of problems) {
    md.push(
      `- ${p.size}, ${p.what}, run ${p.run}: exit ${p.exit} after ${p.seconds.toFixed(1)} s`,
      '',
      '  ```',
      ...(p.stderr || '(no error output)')
        .split('\n')
        .slice(-15)
        .map((l) => `  ${l}`),
      '  ```',
      '',
    );
  }
}

md.push(
  '## Reproduce',
  '',
  '```sh',
  'npm run build',
  'npm run bench                       # 1m and 10m, 3 runs, tshark once per size',
  'npm run bench -- --sizes 1m         # the 1M-packet file only (about a minute)',
  "npm run bench -- --report-only      # rewrite this page from the last run's saved figures",
  'npm run bench -- --runs 5 --no-tshark',
  '```',
  '',
  'The captures live in `$FLOWSTATE_BENCH_DIR` (default `/tmp/flowstate-bench`) as `bench-1m.pcap`,',
  '`bench-10m.pcap` and their `.pcapng` copies; missing ones are made with',
  '`bash scripts/bench/make-bench-pcap.sh DIR/bench-10m.pcap 10000000` (root; 20 s for 1M packets,',
  "80–170 s for 10M, about 1.2 + 1.3 GB for 10M). The kernel's timing differs run to run, so a new",
  '10M file holds 369k–384k connections; keep the file when comparing runs. Needs `tcpdump`,',
  '`argus` + `ra` (argus-server, argus-client) and `tshark` for the yardsticks, and a C compiler (`cc`)',
  'for the C floor; a missing one is skipped and said so above.',
  '',
  'How a benchmark capture is made: in a network namespace of its own, real client and server sockets',
  'on 127.0.0.0/8 (64 client addresses, MTU 1500) run a mix of scenarios: clients or servers closing',
  'first, bulk transfers, leaks left in CLOSE_WAIT, 0.5 % loss on one port and unanswered SYNs on',
  'another (nft drops). tcpdump captures it with no drops. That real capture is then replicated into',
  'overlapping copies, each with its addresses rewritten (checksums adjusted) and a tenth of the',
  'connections written as IPv6, merged by time and cut at the packet count asked for. The variables',
  'that shape it (`FSBENCH_*`) are listed at the head of the script.',
  '',
  `This run: \`${commandLine}\`, ${((finishedAt - startedAt) / 60000).toFixed(1)} min of measuring (not counting making captures) (${RUNS} run${RUNS > 1 ? 's' : ''} each; tshark once per size).`,
  '',
);

md.push(
  '## Design choices',
  '',
  'The figures behind choices in the code, measured when each was made, are in',
  '[design-choices.md](design-choices.md), a page this script never writes.',
  '',
);

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, md.join('\n'));

// ------------------------------------------------------------------ stdout summary
const lines = [];
lines.push(`flowstate bench, ${machine.nproc} × ${machine.cpu}, node ${machine.node}, ${RUNS} run(s), medians`);
for (const size of labels) {
  const row = (name, f, format) =>
    !f
      ? undefined
      : f.failed
        ? `  ${name.padEnd(22)} FAILED`
        : `  ${name.padEnd(22)} ${fmtRate(f.pps).padStart(7)} packets/s ${f.mbps.toFixed(0).padStart(5)} MB/s ${fmtMiB(f.rssKiB).padStart(9)} ${xFloor(f, size, format).padStart(6)} C floor${f.rowsPerSecond ? `  ${fmtRate(f.rowsPerSecond)} rows/s, db ${fmtBytes(f.dbBytes)}` : ''}`;
  lines.push(`${size}:`);
  for (const [name, f, format] of [
    ['decode pcap', find(size, 'decode', 'flowstate')],
    ['decode pcapng', find(size, 'decode', 'flowstate', 'pcapng'), 'pcapng'],
    ['track', find(size, 'track', 'flowstate')],
    ['end-to-end', find(size, 'end-to-end', 'flowstate')],
    [
      'one core (in-process)',
      (() => {
        const f = find(size, 'one-core', 'flowstate');
        return f && !f.failed ? { ...f, pps: f.innerPps, mbps: (f.mbps * f.seconds) / f.innerSeconds } : f;
      })(),
    ],
    ['tcpdump', find(size, 'peer', 'tcpdump')],
    ['tcpdump pcapng', find(size, 'peer', 'tcpdump', 'pcapng'), 'pcapng'],
    ['argus | ra', find(size, 'peer', 'argus')],
    ['tshark', find(size, 'peer', 'tshark')],
    ['C floor', find(size, 'peer', C_FLOOR)],
    ['C floor pcapng', find(size, 'peer', C_FLOOR, 'pcapng'), 'pcapng'],
  ]) {
    const l = row(name, f, format);
    if (l) lines.push(l);
  }
}
lines.push('targets:');
for (const t of targets) lines.push(`  ${verdict(t.ok).replaceAll('*', '').padEnd(12)} ${t.target}: ${t.measured}`);
if (busiest >= 0.25)
  lines.push(
    `note: other programs used up to ${(busiest * 100).toFixed(0)} % of a core during some measurements (see "others" in the report)`,
  );
if (problems.length) lines.push(`problems: ${problems.length} failed run(s), see ${rel(OUT)}`);
lines.push(`wrote ${rel(OUT)}`);
console.log(lines.join('\n'));
