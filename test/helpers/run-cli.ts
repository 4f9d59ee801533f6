import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './paths.js';

export const CLI = join(ROOT, 'dist/cli/main.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (npm test builds it first) as a user would, without a TTY. */
export function flowstate(args: readonly string[], options: { cwd?: string; input?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): CliRun {
  const run = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.input,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    maxBuffer: 1 << 28,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Starts the CLI in the background, for interrupting it. */
export function startFlowstate(args: readonly string[], cwd: string): ReturnType<typeof spawn> {
  return spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}
