#!/usr/bin/env node
// Project rules tsc does not check: the one-way data flow between stages
// (docs/architecture.md), no `any`, no TypeScript `enum`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const STAGES = ['capture', 'decode', 'tcp', 'track', 'store', 'report', 'cli'];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const stageOf = (path) => {
  const top = relative(src, path).split('/')[0];
  return STAGES.indexOf(top);
};

const problems = [];
for (const file of files(src)) {
  const text = readFileSync(file, 'utf8');
  const rel = relative(root, file);
  const from = stageOf(file);
  const isTest = file.endsWith('.test.ts');
  for (const [index, line] of text.split('\n').entries()) {
    const where = `${rel}:${index + 1}`;
    const imported = /^\s*(?:import|export)\b[^'"]*from\s+['"](\.[^'"]+)['"]/.exec(line);
    if (imported) {
      const target = resolve(dirname(file), imported[1]);
      const to = stageOf(target);
      if (to === STAGES.indexOf('cli') && from !== to) problems.push(`${where}: nothing outside cli/ may import cli/ (${imported[1]})`);
      else if (from >= 0 && to > from && !isTest) problems.push(`${where}: ${STAGES[from]}/ may not import from ${STAGES[to]}/, a later stage (${imported[1]})`);
    }
    // Code only: comments (line, block and JSDoc continuation lines) and string literals are not checked.
    const code = /^\s*\*/.test(line) ? '' : line.replace(/\/\*.*?(\*\/|$)/g, '').replace(/\/\/.*$/, '').replace(/'[^']*'|"[^"]*"|`[^`]*`/g, '""');
    if (/(:\s*any\b|\bas\s+any\b|<any>|any\[\])/.test(code)) problems.push(`${where}: \`any\` is not allowed; name the type`);
    if (/^\s*(export\s+)?(const\s+)?enum\s+\w+/.test(code)) problems.push(`${where}: no TypeScript enum; use an \`as const\` object and a derived union`);
  }
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  console.error(`lint: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`lint: ${files(src).length} files follow the stage order, no any, no enum`);
