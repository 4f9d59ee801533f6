import type { ExitCode } from '../errors.js';
import type { Terminal } from './terminal.js';

/** Where text goes: process.stdout, or a test's buffer. */
export interface TextOut {
  write(text: string): unknown;
}

/**
 * Everything the command line touches of its process, handed in so that the
 * whole CLI runs in-process (tests) as well as from the bin.
 */
export interface CliIo {
  stdout: TextOut;
  stderr: TextOut;
  /** Read for the capture "-". */
  stdin: NodeJS.ReadableStream;
  /** Whether each stream is a terminal: colour and the progress bar only there. */
  isTTY: { stdout: boolean; stderr: boolean };
  env: Readonly<Record<string, string | undefined>>;
  /** Calls `listener` on an interrupt (Ctrl-C, SIGTERM) until the returned function is called. */
  onInterrupt(listener: () => void): () => void;
}

/** What every command is given. */
export interface CommandContext {
  io: CliIo;
  terminal: Terminal;
  /** The exit code the command ends with when it does not throw. */
  setExit: (code: ExitCode) => void;
}
