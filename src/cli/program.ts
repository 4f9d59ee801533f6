import { Command, CommanderError } from 'commander';
import { ExitCode, FlowstateError } from '../errors.js';
import { terminalText } from '../report/format-table.js';
import { VERSION } from '../version.js';
import type { CliIo, CommandContext } from './cli-io.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerAnnotate } from './commands/annotate.js';
import { registerExport } from './commands/export.js';
import { registerFlow } from './commands/flow.js';
import { registerHosts } from './commands/hosts.js';
import { registerHtml } from './commands/html.js';
import { registerMerge } from './commands/merge.js';
import { registerNetstat } from './commands/netstat.js';
import { registerQuery } from './commands/query.js';
import { registerReport } from './commands/report.js';
import { registerTimeline } from './commands/timeline.js';
import { detectTerminal } from './terminal.js';

/** Node's errors about a path the user gave: the user's to fix, not a bug. */
const PATH_ERROR_CODES = new Set(['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EPERM', 'ENAMETOOLONG', 'ELOOP']);

/** Runs the command line `argv` (without node and the script) against `io`; resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let exitCode: ExitCode = ExitCode.ok;
  const context: CommandContext = {
    io,
    terminal: detectTerminal(io),
    setExit: (code) => {
      exitCode = code;
    },
  };
  const program = new Command('flowstate')
    .description('Reconstruct both endpoints’ TCP state machines from packet captures, into SQLite.')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    // Commander's messages quote the arguments given: escaped as reportError's are.
    .configureOutput({ writeErr: (text) => io.stderr.write(terminalText(text)), writeOut: (text) => io.stdout.write(text) });
  for (const register of [
    registerAnalyze,
    registerQuery,
    registerNetstat,
    registerTimeline,
    registerFlow,
    registerReport,
    registerHtml,
    registerExport,
    registerMerge,
    registerAnnotate,
    registerHosts,
  ])
    register(program, context);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

/**
 * The one place an error becomes a message and an exit code. A message carries text
 * from inputs (a path, an SQLite or DuckDB message quoting a hand-made database's
 * names and values): its control characters are written as visible escapes
 * (terminalText), always, not only on a terminal, since stderr kept in a log is
 * read on one later. Line feeds stay (a query error lists the tables below it).
 */
function reportError(error: unknown, io: Pick<CliIo, 'stderr'>): ExitCode {
  const say = (text: string): void => {
    io.stderr.write(`${terminalText(text)}\n`);
  };
  // Commander has printed its own message; help and version end with 0, the rest is usage.
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  if (error instanceof FlowstateError) {
    say(`flowstate: ${error.message}`);
    return error.exitCode;
  }
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  // A closed pipe (| head) is the reader's choice, not a failure.
  if (code === 'EPIPE') return ExitCode.ok;
  if (code !== undefined && PATH_ERROR_CODES.has(code)) {
    const path = (error as NodeJS.ErrnoException).path;
    say(`flowstate: cannot open ${path ?? 'a file'}: ${(error as Error).message}`);
    return ExitCode.failure;
  }
  say(`flowstate: internal error — please report it with the command you ran:\n${error instanceof Error ? error.stack : String(error)}`);
  return ExitCode.failure;
}
