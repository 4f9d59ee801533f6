// Every example a user is shown runs: the `Example:` lines of every `--help`, and
// the flowstate command lines of the README's shell blocks (its console blocks,
// with their output, are test/readme.test.ts's). Each runs as the built bin in a
// scratch directory holding the files the examples name, so what they write lands
// there; the README's command table names only options that --help lists.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURES, ROOT } from './helpers/paths.js';
import { flowstate, spawnFlowstate } from './helpers/run-cli.js';

const COMMANDS = ['analyze', 'merge', 'query', 'netstat', 'flow', 'timeline', 'html', 'report', 'export', 'annotate', 'hosts'];

/** A shell line split into words, quotes removed (the examples use no escapes). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

interface Example {
  line: string;
  args: string[];
  /** A file the line pipes in (`tcpdump -r FILE -w - | flowstate …`). */
  stdinFile?: string;
}

/** The flowstate part of a shell line: after a pipe into it, before a pipe or redirection out of it; undefined when it runs no flowstate. */
function example(line: string): Example | undefined {
  const [before, after] = line.split(/\|\s*(?=flowstate )/);
  const command = after ?? before;
  if (!command.startsWith('flowstate ')) return undefined;
  const args = words(command.split(/\s[|>]\s/)[0]).slice(1);
  const source = after === undefined ? undefined : /^tcpdump -r (\S+) -w - $/.exec(before)?.[1];
  if (after !== undefined && source === undefined)
    throw new Error(`an example pipes something other than a capture into flowstate: ${line}`);
  return { line, args, stdinFile: source };
}

async function helpExamples(): Promise<{ examples: Example[]; others: string[] }> {
  const examples: Example[] = [];
  const others: string[] = [];
  for (const command of COMMANDS) {
    const help = (await flowstate([command, '--help'])).stdout;
    const section = /\nExamples?:\n((?: {2}.*\n?)+)/.exec(help);
    expect(section, `${command} --help shows an example`).not.toBeNull();
    for (const line of commandsOf((section?.[1] ?? '').split('\n'))) {
      const found = example(line);
      if (found) examples.push(found);
      else others.push(line);
    }
  }
  return { examples, others };
}

/** The commands of shell lines, in order: lines split at `&&`, `&` and `;`, `npx` dropped. */
function commandsOf(lines: readonly string[]): string[] {
  return lines
    .flatMap((line) => line.split(/\s*(?:&&|&|;)\s*/))
    .map((part) => part.trim().replace(/^npx /, ''))
    .filter(Boolean);
}

function readmeShellLines(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return commandsOf([...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n'))).filter((c) =>
    c.startsWith('flowstate '),
  );
}

let dir = '';
let leakDb = '';

/** Every file an example reads, made in `dir`: captures as copies of the leak capture, databases as its database, Parquet exports of it. */
function provide(examples: readonly Example[]): void {
  for (const { args, stdinFile } of examples) {
    const names = args.filter((arg) => /\.(pcap|db)$/.test(arg) && !arg.startsWith('captures/'));
    if (stdinFile !== undefined) names.push(stdinFile);
    for (const name of names)
      if (!existsSync(join(dir, name)))
        copyFileSync(name.endsWith('.db') ? leakDb : join(CAPTURES, 'close-wait-leak.pcap'), join(dir, name));
    args.forEach((arg, i) => {
      if (args[i - 1] === '--parquet' && !existsSync(join(dir, arg)))
        expect(spawnFlowstate(['export', '--format', 'parquet', '--db', leakDb, '--out', arg], { cwd: dir }).status).toBe(0);
    });
  }
}

function runs(examples: readonly Example[]): void {
  provide(examples);
  for (const { line, args, stdinFile } of examples) {
    const run = spawnFlowstate(args, { cwd: dir, input: stdinFile === undefined ? undefined : readFileSync(join(dir, stdinFile)) });
    expect(run.stderr, line).not.toContain('internal error');
    expect(run.status, `${line}\n${run.stderr}`).toBe(0);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-examples-'));
  symlinkSync(CAPTURES, join(dir, 'captures'));
  leakDb = join(dir, 'leak-source.db');
  expect((await flowstate(['analyze', join(CAPTURES, 'close-wait-leak.pcap'), '--db', leakDb, '--quiet'])).status).toBe(0);
  // What commands read when given no database.
  copyFileSync(leakDb, join(dir, 'flowstate.db'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('examples', () => {
  test('every example of every --help runs and succeeds', async () => {
    const { examples, others } = await helpExamples();
    expect(examples.length).toBeGreaterThanOrEqual(COMMANDS.length);
    // What is not a flowstate command: waiting for shards run in the background, reading an export in DuckDB.
    expect(others).toEqual(['wait', expect.stringMatching(/^duckdb -c /)]);
    runs(examples);
  });

  test('every flowstate command line of the README’s shell blocks runs and succeeds', () => {
    const lines = readmeShellLines();
    expect(lines.length).toBeGreaterThan(0);
    runs(lines.map((line) => example(line) as Example));
  });
});

describe('the README’s command table', () => {
  const rows = (): Array<{ command: string; synopsis: string }> =>
    [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/^\| `flowstate (\w+)([^`]*)` \|/gm)].map((m) => ({
      command: m[1],
      synopsis: m[2],
    }));

  test('lists every command', () => {
    expect(
      rows()
        .map((r) => r.command)
        .sort(),
    ).toEqual([...COMMANDS].sort());
  });

  test('names only options the command’s --help lists, and the database argument where --help takes one', async () => {
    for (const { command, synopsis } of rows()) {
      const help = (await flowstate([command, '--help'])).stdout;
      for (const [option] of synopsis.matchAll(/--[a-z][a-z0-9-]*/g))
        expect(help, `${command} ${option}`).toMatch(new RegExp(`^\\s+(-\\w, )?${option}\\b`, 'm'));
      const takesInput = /\[input\]/.test(help.split('\n')[0]);
      expect(synopsis.includes('[db\\|capture]'), `${command}: [db|capture] in the README as in --help`).toBe(takesInput);
      if (takesInput) expect(help, `${command} --db`).toMatch(/^\s+--db <file>/m);
    }
  });
});
