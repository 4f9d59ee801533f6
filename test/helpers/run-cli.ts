import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { run } from '../../src/cli/program.js';
import { ROOT } from './paths.js';

export const CLI = join(ROOT, 'dist/cli/main.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** Standard input. */
  input?: Buffer | string;
  env?: NodeJS.ProcessEnv;
  /** Pretend stdout and stderr are a terminal. */
  tty?: boolean;
  /** Registered as the interrupt listener: call it to press Ctrl-C. */
  onInterruptListener?: (interrupt: () => void) => void;
}

/** Runs the CLI in this process, as the bin does, with its output captured (no TTY, NO_COLOR set). */
export async function flowstate(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const status = await run(args, {
    stdout: { write: (text) => (stdout += text) },
    stderr: { write: (text) => (stderr += text) },
    stdin: Readable.from(options.input === undefined ? [] : [Buffer.from(options.input)]),
    isTTY: { stdout: options.tty === true, stderr: options.tty === true },
    env: { NO_COLOR: '1', ...options.env },
    onInterrupt: (listener) => {
      options.onInterruptListener?.(listener);
      return () => undefined;
    },
  });
  return { status, stdout, stderr };
}

/** Runs the built bin as a user would, without a TTY: for what only a process shows (exit status, signals, pipes). */
export function spawnFlowstate(
  args: readonly string[],
  options: { cwd?: string; input?: Buffer | string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): CliRun {
  const child = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.input,
    timeout: options.timeout,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    maxBuffer: 1 << 28,
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** Starts the built bin in the background, for interrupting it. */
export function startFlowstate(args: readonly string[], cwd: string): ReturnType<typeof spawn> {
  return spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}
