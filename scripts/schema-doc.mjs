#!/usr/bin/env node
// Rewrites the generated parts of docs/schema.md: the columns of the tables declared
// in src/store/tables.ts and the state codes of transition_rows.code (from
// ALL_STATES), so the page cannot drift from what the writer writes. The prose
// around them is written by hand. Needs `npm run build`.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOCUMENTED_TABLES } from '../dist/store/tables.js';
import { ALL_STATES } from '../dist/tcp/tcp-state.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE = join(root, 'docs/schema.md');
const cell = (text) => text.replaceAll('|', '\\|');

const REGIONS = {
  ...Object.fromEntries(
    DOCUMENTED_TABLES.map((table) => [
      `${table.name}-columns`,
      () => [
        '| column | meaning |',
        '| --- | --- |',
        ...table.groups.map((g) => `| ${g.columns.map((c) => `\`${c.name}\``).join(', ')} | ${cell(g.doc)} |`),
      ],
    ]),
  ),
  'state-codes': () => [`The states' codes, from 0: ${ALL_STATES.join(', ')}.`],
};

/** The page with every generated region made anew from the code. */
export function schemaMarkdown(page = readFileSync(PAGE, 'utf8')) {
  return page.replace(
    /(<!-- generated from code: ([\w-]+) \(npm run docs\) -->\n)[\s\S]*?(<!-- end of generated part -->)/g,
    (_, open, name, close) => {
      const make = REGIONS[name];
      if (!make) throw new Error(`docs/schema.md: no generator for the region "${name}"`);
      return `${open}${make().join('\n')}\n${close}`;
    },
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(PAGE, schemaMarkdown());
  console.log('wrote docs/schema.md');
}
