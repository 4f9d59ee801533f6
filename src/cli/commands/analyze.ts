import type { Command } from 'commander';
import { analyzeToDatabase, type DatabaseAnalysis, defaultThreads, MOST_USEFUL_THREADS, NothingReadError } from '../../analyze.js';
import { CaptureFormatError } from '../../capture/capture-format-error.js';
import { type AnalysisSummary, analysisSummary, formatAnalysisSummary } from '../../report/analysis-summary.js';
import { toJson } from '../../report/format-table.js';
import { DatabaseReader } from '../../store/database-reader.js';
import { ExitCode, FlowstateError, UsageError } from '../../errors.js';
import { defaultMemoryBytes, formatSize, machineMemory, parseSize } from '../../memory-budget.js';
import { checksumsOption, parseChecksums, parseCount, parseSeconds, timeWaitOption } from '../parse-options.js';
import { DEFAULT_THRESHOLDS, type DetectorThresholds } from '../../track/finding-catalogue.js';
import { MAX_SHARDS, parseShard } from '../../track/shard.js';
import { ProgressBar } from '../progress-bar.js';
import type { CommandContext } from '../cli-io.js';
import { Colour, paint } from '../terminal.js';
import { failOnExitCode, failOnMatches, parseFailOn } from '../fail-on.js';

export interface AnalyzeOptions {
  db: string;
  json?: boolean;
  quiet?: boolean;
  timeWait?: string;
  halfOpenLimit?: string;
  memory?: string;
  failOn?: string;
  closeWaitThreshold?: string;
  finWait2Threshold?: string;
  closingThreshold?: string;
  zeroWindowThreshold?: string;
  halfOpenThreshold?: string;
  timeWaitThreshold?: string;
  deadPeerRetransmissions?: string;
  checksums?: string;
  shard?: string;
  threads?: string;
  force?: boolean;
  strict?: boolean;
}

export function registerAnalyze(program: Command, context: CommandContext): void {
  program
    .command('analyze')
    .description('read captures, reconstruct every TCP connection, write the database and print a summary')
    .argument('<capture...>', 'pcap or pcapng files (gzip too), "-" for standard input; several files are read as one capture')
    .option(
      '--db <file>',
      'database to write: replaced only when the new one is complete, and only if flowstate wrote it (never a capture)',
      'flowstate.db',
    )
    .option('--force', 'replace a file at --db that is not a flowstate database (never one of the captures)')
    .option('--strict', 'exit 1 also for part of a record header at the end of a file (a warning otherwise)')
    .option('--json', 'print the summary as JSON')
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(timeWaitOption())
    .option('--half-open-limit <n>', 'most unfinished handshakes kept in memory at once', '100000')
    .option(
      '--memory <size>',
      `memory budget of connection state (512M, 1G): past it the least recently seen connections are written as they stand and evicted; default a quarter of the machine's memory, at most half of the V8 heap limit (here ${formatSize(defaultMemoryBytes())})`,
    )
    .option(
      '--shard <K/N>',
      'track only the connections of shard K of N (0-based, by a hash of the 4-tuple); join the N databases with merge',
    )
    .option(
      '--threads <n>',
      `threads: 1 writes the database in the reading thread, ${MOST_USEFUL_THREADS} (the most that helps) on its own; default: the CPUs this process may use, at most ${MOST_USEFUL_THREADS}`,
      String(defaultThreads()),
    )
    .option(
      '--fail-on <codes>',
      'exit 3 when a finding of these kinds exists (comma-separated finding codes, report names standing for one, or error / warning by severity)',
    )
    .addOption(checksumsOption())
    .option(
      '--close-wait-threshold <duration>',
      'CLOSE_WAIT this long (or at capture end) is a leak',
      `${DEFAULT_THRESHOLDS.closeWaitSeconds}s`,
    )
    .option(
      '--fin-wait2-threshold <duration>',
      'FIN_WAIT2 longer than this is reported (Linux orphan timeout)',
      `${DEFAULT_THRESHOLDS.finWait2Seconds}s`,
    )
    .option('--closing-threshold <duration>', 'CLOSING this long (or at capture end) is stuck', `${DEFAULT_THRESHOLDS.closingSeconds}s`)
    .option('--zero-window-threshold <duration>', 'zero-window time that makes a warning', `${DEFAULT_THRESHOLDS.zeroWindowSeconds}s`)
    .option(
      '--half-open-threshold <n>',
      'unfinished handshakes toward one listener that make a flood',
      String(DEFAULT_THRESHOLDS.halfOpenCount),
    )
    .option(
      '--time-wait-threshold <n>',
      'TIME_WAITs at once, on a server that closes first, that make time-wait-pressure a warning',
      String(DEFAULT_THRESHOLDS.timeWaitCount),
    )
    .option(
      '--dead-peer-retransmissions <n>',
      'unanswered retransmissions in a row that make a dead peer',
      String(DEFAULT_THRESHOLDS.deadPeerRetransmissions),
    )
    .addHelpText(
      'after',
      '\nExample:\n  flowstate analyze captures/close-wait-leak.pcap --db leak.db\n  tcpdump -r big.pcap -w - | flowstate analyze - --json',
    )
    .action(async (captures: string[], options: AnalyzeOptions) => {
      context.setExit(await runAnalyze(captures, options, context));
    });
}

async function runAnalyze(captures: string[], options: AnalyzeOptions, { io, terminal }: CommandContext): Promise<ExitCode> {
  const timeWaitSeconds = parseSeconds(options.timeWait ?? '60', '--time-wait');
  const halfOpenLimit = parseCount(options.halfOpenLimit ?? '100000', '--half-open-limit');
  const memoryBytes = options.memory === undefined ? defaultMemoryBytes() : parseSize(options.memory);
  if (memoryBytes === undefined) throw new UsageError(`--memory takes a size such as 512M or 1G, not "${options.memory}"`);
  const thresholds = parseThresholds(options);
  const failOn = parseFailOn(options.failOn);
  const checksums = parseChecksums(options.checksums ?? 'keep');
  const shard = options.shard === undefined ? undefined : parseShard(options.shard);
  if (options.shard !== undefined && shard === undefined)
    throw new UsageError(`--shard takes K/N with 0 ≤ K < N ≤ ${MAX_SHARDS}, not "${options.shard}"`);
  if (captures.filter((c) => c === '-').length > 1) throw new UsageError('standard input ("-") can be given only once');
  const threads = parseCount(options.threads ?? String(defaultThreads()), '--threads');
  const progress = terminal.stderrIsTty && !options.quiet && !options.json ? new ProgressBar(io.stderr) : undefined;
  const controller = new AbortController();
  const stopListening = io.onInterrupt(() => controller.abort());
  const started = process.hrtime.bigint();
  const heapLimit = machineMemory().heapLimit;
  if (memoryBytes > heapLimit)
    io.stderr.write(
      `flowstate: warning: --memory ${formatSize(memoryBytes)} is more than this process's V8 heap limit (${formatSize(heapLimit)}), where the connections live: raise that too (NODE_OPTIONS=--max-old-space-size=MiB) or the run may end out of memory\n`,
    );
  const onMemoryBudget = (): void => {
    progress?.clear();
    io.stderr.write(
      `flowstate: warning: memory budget of ${formatSize(memoryBytes)} reached: the idlest connections are written as they stand and evicted; --memory to raise it\n`,
    );
  };
  let analysis: DatabaseAnalysis;
  try {
    analysis = await analyzeToDatabase(captures, options.db, {
      timeWaitSeconds,
      halfOpenLimit,
      memoryBytes,
      onMemoryBudget,
      thresholds,
      checksums,
      shard,
      threads,
      force: options.force,
      signal: controller.signal,
      stdin: io.stdin,
      onProgress: progress ? (p) => progress.update(p) : undefined,
    });
  } catch (error) {
    if (controller.signal.aborted) throw new FlowstateError(`interrupted: ${options.db} was left as it was`, ExitCode.interrupted);
    if (error instanceof CaptureFormatError || error instanceof NothingReadError)
      throw new FlowstateError(`${error.message}; no frame could be read, so nothing was written: ${options.db} was left as it was`);
    throw error;
  } finally {
    progress?.clear();
    stopListening();
  }
  const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const reader = new DatabaseReader(options.db);
  let summary: AnalysisSummary;
  let matched: number;
  try {
    summary = analysisSummary(reader, analysis, elapsedSeconds);
    matched = failOnMatches(reader, failOn);
  } finally {
    reader.close();
  }
  if (options.json) io.stdout.write(`${toJson(summary, 2)}\n`);
  else if (!options.quiet) {
    const colourOf = (severity: string): string =>
      severity === 'error' ? Colour.red : severity === 'warning' ? Colour.yellow : Colour.dim;
    io.stdout.write(`${formatAnalysisSummary(summary, (severity, text) => paint(terminal, colourOf(severity), text))}\n`);
  }
  // The summary shows warnings on stdout; a run that fails says why on stderr as well, whatever --quiet or --json hide.
  for (const c of analysis.captures) {
    const failed = !c.readWhole || options.strict === true;
    if (failed || options.quiet || options.json)
      for (const warning of c.warnings) io.stderr.write(`flowstate: ${failed ? '' : 'warning: '}${warning}\n`);
    if (c.error !== null) io.stderr.write(`flowstate: ${c.error}; ${options.db} holds everything read before it\n`);
  }
  if (analysis.incomplete !== undefined) return ExitCode.failure;
  if (options.strict && analysis.captures.some((c) => c.warnings.length > 0)) return ExitCode.failure;
  return failOnExitCode(matched);
}

function parseThresholds(options: AnalyzeOptions): DetectorThresholds {
  const d = DEFAULT_THRESHOLDS;
  return {
    closeWaitSeconds:
      options.closeWaitThreshold === undefined ? d.closeWaitSeconds : parseSeconds(options.closeWaitThreshold, '--close-wait-threshold'),
    finWait2Seconds:
      options.finWait2Threshold === undefined ? d.finWait2Seconds : parseSeconds(options.finWait2Threshold, '--fin-wait2-threshold'),
    closingSeconds:
      options.closingThreshold === undefined ? d.closingSeconds : parseSeconds(options.closingThreshold, '--closing-threshold'),
    zeroWindowSeconds:
      options.zeroWindowThreshold === undefined
        ? d.zeroWindowSeconds
        : parseSeconds(options.zeroWindowThreshold, '--zero-window-threshold'),
    halfOpenCount:
      options.halfOpenThreshold === undefined ? d.halfOpenCount : parseCount(options.halfOpenThreshold, '--half-open-threshold'),
    timeWaitCount:
      options.timeWaitThreshold === undefined ? d.timeWaitCount : parseCount(options.timeWaitThreshold, '--time-wait-threshold'),
    deadPeerRetransmissions:
      options.deadPeerRetransmissions === undefined
        ? d.deadPeerRetransmissions
        : parseCount(options.deadPeerRetransmissions, '--dead-peer-retransmissions'),
  };
}
