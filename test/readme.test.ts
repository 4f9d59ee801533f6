// The README's worked example is the real output of the commands it shows.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAPTURES, ROOT } from './helpers/paths.js';
import { flowstate } from './helpers/run-cli.js';

interface Example {
  args: string[];
  output: string;
}

/** Every `$ flowstate …` command of the README's console blocks, with the output shown under it. */
function readmeExamples(): Example[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const examples: Example[] = [];
  for (const [, block] of readme.matchAll(/```console\n([\s\S]*?)```/g)) {
    for (const part of block.split(/^(?=\$ )/m)) {
      const [command, ...output] = part.split('\n');
      if (!command.startsWith('$ flowstate ')) continue;
      examples.push({ args: command.slice('$ flowstate '.length).split(' '), output: output.join('\n').replace(/\n+$/, '\n') });
    }
  }
  return examples;
}

/** Only the time the run took (and on how many threads, which follows the machine) differs from run to run, and the page's size with the length of the temporary path it names. */
const steady = (text: string): string =>
  text.replace(/took\s+[\d.]+ s \([\d,]+ packets\/s, \d+ threads?\)/, 'took (time)').replace(/^(wrote \S+) \([\d,]+ KiB\)/m, '$1 (size)');

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-readme-'));
  copyFileSync(join(CAPTURES, 'close-wait-leak.pcap'), join(dir, 'close-wait-leak.pcap'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('the README shows the worked example’s commands', () => {
  expect(readmeExamples().map((e) => e.args[0])).toEqual(['analyze', 'netstat', 'report', 'flow', 'timeline', 'html']);
});

test('each command of the worked example prints what the README shows', async () => {
  // In order: the first writes the database the others read. Files are named as in the README, inside `dir`.
  const inDir = (arg: string): string => (/\.(pcap|db|html)$/.test(arg) ? join(dir, arg) : arg);
  for (const { args, output } of readmeExamples()) {
    const run = await flowstate(args.map(inDir));
    expect(run.stderr, args.join(' ')).toBe('');
    expect(steady(run.stdout.replaceAll(`${dir}/`, '')), args.join(' ')).toBe(steady(output));
  }
});
