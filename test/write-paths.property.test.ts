// A property over every command that writes a file the user names: whatever the
// sequence of analyze / merge / export / html runs, into whatever stands at the
// path, from whatever input, interrupted or killed at any moment, a file that is not
// flowstate's is never modified, a flowstate database is the old one or a new
// complete one, and no temporary file or lock is left behind.
import { afterAll, beforeAll, expect, test } from 'vitest';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseReader } from '../src/store/database-reader.js';
import { writtenByFlowstate } from '../src/store/output-file.js';
import { CAPTURES } from './helpers/paths.js';
import { CLI, flowstate } from './helpers/run-cli.js';

const LEAK = join(CAPTURES, 'close-wait-leak.pcap');
let dir = '';
let shards: string[] = [];

/** What can stand at a path before a run writes there. */
const TARGET_KINDS = ['missing', 'capture', 'foreign-sqlite', 'text', 'flowstate-db', 'directory'] as const;
type TargetKind = (typeof TARGET_KINDS)[number];
/** What a run reads. */
const INPUT_KINDS = ['good', 'empty', 'garbage', 'cut-short'] as const;
type InputKind = (typeof INPUT_KINDS)[number];
const COMMANDS = ['analyze', 'merge', 'export', 'html'] as const;
type CommandName = (typeof COMMANDS)[number];

interface Step {
  command: CommandName;
  target: TargetKind;
  input: InputKind;
  force: boolean;
  /** Milliseconds until Ctrl-C, or none. */
  interruptAfter: number | null;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-write-paths-'));
  shards = [join(dir, 'shard-0.db'), join(dir, 'shard-1.db')];
  for (const [i, shard] of shards.entries())
    expect((await flowstate(['analyze', LEAK, '--shard', `${i}/2`, '--db', shard, '--quiet'])).status).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeInput(kind: InputKind, path: string): void {
  const bytes = readFileSync(LEAK);
  if (kind === 'good') writeFileSync(path, bytes);
  else if (kind === 'empty') writeFileSync(path, '');
  else if (kind === 'garbage') writeFileSync(path, 'this is not a capture at all, just text\n');
  else writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
}

/** Puts a `kind` at a fresh path in `caseDir`, returning the path to write. */
function makeTarget(kind: TargetKind, caseDir: string, name: string): string {
  const path = join(caseDir, name);
  if (kind === 'capture') copyFileSync(LEAK, path);
  else if (kind === 'text') writeFileSync(path, 'notes\n');
  else if (kind === 'directory') mkdirSync(path);
  else if (kind === 'foreign-sqlite') {
    const db = new Database(path);
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    db.close();
  } else if (kind === 'flowstate-db') copyFileSync(shards[0], path);
  return path;
}

const hashOf = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

function argsOf(step: Step, target: string, input: string): string[] {
  const force = step.force ? ['--force'] : [];
  if (step.command === 'analyze') return ['analyze', input, '--db', target, '--quiet', ...force];
  if (step.command === 'merge') return ['merge', target, ...shards, ...force];
  if (step.command === 'export') return ['export', '--format', 'csv', '--db', shards[0], '-o', target, ...force];
  return ['html', shards[0], '--out', target, ...force];
}

/** The one thing a path may hold after a run, given what it held before. */
function checkAfter(step: Step, target: string, before: string | undefined, caseDir: string): void {
  const was = step.target;
  if (was === 'directory') expect(readdirSync(target)).toEqual([]);
  else if (before !== undefined && existsSync(target) && hashOf(target) !== before) {
    // Changed: allowed only over flowstate's own file of that kind, or with --force over a non-input.
    const own = was === 'flowstate-db' && (step.command === 'analyze' || step.command === 'merge');
    expect(own || step.force, `${step.command} changed a ${was} without --force`).toBe(true);
    if (step.command === 'analyze' || step.command === 'merge') {
      const reader = new DatabaseReader(target);
      expect(reader.flows().length).toBeGreaterThan(0);
      reader.close();
    }
  }
  if (existsSync(target) && was !== 'directory' && (step.command === 'analyze' || step.command === 'merge')) {
    const changed = before === undefined || hashOf(target) !== before;
    if (changed) expect(writtenByFlowstate(target, 'database')).toBe(true);
  }
  const leftovers = readdirSync(caseDir).filter((name) => /\.(tmp|lock)(-journal|-wal|-shm)?$|\.partial$/.test(name));
  expect(leftovers).toEqual([]);
}

let caseNumber = 0;

test('no run, interrupted or not, modifies what is not flowstate’s or leaves a file behind', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          command: fc.constantFrom(...COMMANDS),
          target: fc.constantFrom(...TARGET_KINDS),
          input: fc.constantFrom(...INPUT_KINDS),
          force: fc.boolean(),
          interruptAfter: fc.option(fc.integer({ min: 0, max: 15 }), { nil: null }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      async (steps) => {
        const caseDir = join(dir, `case-${caseNumber++}`);
        mkdirSync(caseDir);
        for (const [i, step] of steps.entries()) {
          const target = makeTarget(step.target, caseDir, `out-${i}`);
          const input = join(caseDir, `in-${i}.pcap`);
          makeInput(step.input, input);
          const before = existsSync(target) && step.target !== 'directory' ? hashOf(target) : undefined;
          let interrupt: (() => void) | undefined;
          const timer = step.interruptAfter === null ? undefined : setTimeout(() => interrupt?.(), step.interruptAfter);
          const run = await flowstate(argsOf(step, target, input), {
            onInterruptListener: (listener) => (interrupt = listener),
          });
          clearTimeout(timer);
          expect(run.stderr).not.toContain('internal error');
          checkAfter(step, target, before, caseDir);
        }
      },
    ),
    { numRuns: 60, seed: 20261207 },
  );
});

test('a run killed with SIGKILL at any moment leaves the old database or the new one, and the next run cleans up', async () => {
  const caseDir = join(dir, 'killed');
  mkdirSync(caseDir);
  const target = join(caseDir, 'db');
  expect((await flowstate(['analyze', LEAK, '--db', target, '--quiet'])).status).toBe(0);
  const big = join(CAPTURES, 'many-short.pcap');
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 400 }), async (killAfter) => {
      const child = spawn(process.execPath, [CLI, 'analyze', big, '--db', target, '--quiet'], { stdio: 'ignore' });
      await new Promise((resolve) => setTimeout(resolve, killAfter));
      child.kill('SIGKILL');
      await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
      // The old database or the complete new one: either opens and has its flows.
      const reader = new DatabaseReader(target);
      expect(reader.flows().length).toBeGreaterThan(0);
      reader.close();
      expect(writtenByFlowstate(target, 'database')).toBe(true);
      // The next run into the same path takes over whatever the killed one left.
      expect((await flowstate(['analyze', LEAK, '--db', target, '--quiet'])).status).toBe(0);
      expect(readdirSync(caseDir).filter((name) => name !== 'db')).toEqual([]);
    }),
    { numRuns: 8, seed: 7 },
  );
});
