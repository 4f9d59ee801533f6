#!/usr/bin/env node
// Prints line coverage per stage of src/ from vitest's coverage/coverage-summary.json
// (npm test -- --coverage.enabled writes it).
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const summary = JSON.parse(readFileSync(resolve(root, 'coverage/coverage-summary.json'), 'utf8'));
const stages = new Map();
for (const [file, counts] of Object.entries(summary)) {
  if (file === 'total') continue;
  const parts = relative(resolve(root, 'src'), file).split('/');
  const stage = parts.length === 1 ? '(root)' : `${parts[0]}/`;
  const sum = stages.get(stage) ?? { covered: 0, total: 0, files: 0 };
  sum.covered += counts.lines.covered;
  sum.total += counts.lines.total;
  sum.files++;
  stages.set(stage, sum);
}
const order = ['capture/', 'decode/', 'tcp/', 'track/', 'store/', 'report/', '(root)', 'cli/'];
const rows = [...stages].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
console.log('line coverage by stage');
for (const [stage, { covered, total, files }] of rows) {
  console.log(
    `  ${stage.padEnd(10)} ${((100 * covered) / Math.max(total, 1)).toFixed(1).padStart(5)}%  ${String(covered).padStart(5)}/${String(total).padEnd(5)} lines in ${files} files`,
  );
}
const { covered, total } = summary.total.lines;
console.log(`  ${'all'.padEnd(10)} ${((100 * covered) / total).toFixed(1).padStart(5)}%  ${String(covered).padStart(5)}/${total} lines`);
