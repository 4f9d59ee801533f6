#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { CaptureFormatError } from '../capture/capture-format-error.js';
import { NotAFlowstateDatabaseError } from '../store/database-reader.js';
import { DatabaseWriteError } from '../store/database-writer.js';
import { CliError, ExitCode } from './cli-error.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerQuery } from './commands/query.js';
import { registerNetstat } from './commands/netstat.js';
import { registerFlow } from './commands/flow.js';
import { registerReport } from './commands/report.js';
import { registerExport } from './commands/export.js';
import { detectTerminal } from './terminal.js';
import { VERSION } from '../version.js';

/** Runs the CLI; resolves to the exit code. The one place errors become exit codes. */
export async function main(argv: readonly string[]): Promise<ExitCode> {
  const terminal = detectTerminal();
  let exitCode: ExitCode = ExitCode.ok;
  const setExit = (code: ExitCode): void => {
    exitCode = code;
  };
  const program = new Command('flowstate')
    .description('Reconstruct both endpoints’ TCP state machines from packet captures, into SQLite.')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeErr: (text) => process.stderr.write(text), writeOut: (text) => process.stdout.write(text) });
  registerAnalyze(program, terminal, setExit);
  registerQuery(program, terminal, setExit);
  registerNetstat(program, terminal, setExit);
  registerFlow(program, terminal, setExit);
  registerReport(program, terminal, setExit);
  registerExport(program, terminal, setExit);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with exit code 0; everything else commander rejects is usage.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (error instanceof CliError) {
      process.stderr.write(`flowstate: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof CaptureFormatError || error instanceof NotAFlowstateDatabaseError || error instanceof DatabaseWriteError) {
      process.stderr.write(`flowstate: ${error.message}\n`);
      return ExitCode.failure;
    }
    if (error instanceof Error && (error as NodeJS.ErrnoException).code === 'EPIPE') return ExitCode.ok;
    process.stderr.write(`flowstate: internal error — please report it with the command you ran:\n${error instanceof Error ? error.stack : String(error)}\n`);
    return ExitCode.failure;
  }
}

// V8 lets the old generation grow to several times what is live before it collects;
// the tracker's live set is flows that die seconds later, so most of that growth is
// garbage. Growing by half instead took analyze on the 10M-packet benchmark from
// 505-580 MB to 375-391 MB peak RSS at about the same speed. V8 reads the flag at
// each collection, so setting it now, while the heap is small, takes effect.
setFlagsFromString('--heap-growing-percent=50');

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // A closed pipe (| head) is the reader's choice, not a failure.
  if (error.code === 'EPIPE') process.exit(0);
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
