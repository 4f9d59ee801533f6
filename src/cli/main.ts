#!/usr/bin/env node
// The flowstate command: the process's streams, signals and exit code around run().
import { setFlagsFromString } from 'node:v8';
import { run } from './program.js';
import { writeFailureReason } from '../store/output-file.js';

// V8 lets the old generation grow to several times what is live before it collects;
// the tracker's live set is flows that die seconds later, so most of that growth is
// garbage, and growing by half keeps peak memory down at the same speed
// (docs/benchmarks.md). V8 reads the flag at each collection, so setting it now,
// while the heap is small, takes effect.
setFlagsFromString('--heap-growing-percent=50');

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // A closed pipe (| head) is the reader's choice, not a failure.
  if (error.code === 'EPIPE') process.exit(0);
  // Anything else (a full disk behind > file, /dev/full) lost output: never exit 0 after it.
  process.stderr.write(`flowstate: cannot write to standard output: ${writeFailureReason(error)}\n`);
  process.exit(1);
});

// A command that handles an interrupt itself (analyze) registers its own listener; for
// the rest, the signal ends the process through exit, whose handlers remove every
// temporary file and scratch directory of this run (store/output-file.ts).
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.on(signal, () => {
    if (process.listenerCount(signal) === 1) process.exit(code);
  });
}

const exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  isTTY: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
  env: process.env,
  onInterrupt: (listener) => {
    process.once('SIGINT', listener);
    process.once('SIGTERM', listener);
    return () => {
      process.removeListener('SIGINT', listener);
      process.removeListener('SIGTERM', listener);
    };
  },
});
process.exitCode = exitCode;
