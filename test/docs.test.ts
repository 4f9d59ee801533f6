// Documentation generated from code must match the code.
import { expect, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/paths.js';

const generated = (page: string): string => readFileSync(join(ROOT, 'docs', page), 'utf8');

test('docs/findings.md is what scripts/findings-doc.mjs makes from the catalogue (npm run docs)', async () => {
  const { findingsMarkdown } = (await import(join(ROOT, 'scripts/findings-doc.mjs'))) as { findingsMarkdown: () => string };
  expect(generated('findings.md')).toBe(findingsMarkdown());
});

test('docs/transitions.md is what scripts/transitions-doc.mjs makes from the transition table (npm run docs)', async () => {
  const { transitionsMarkdown } = (await import(join(ROOT, 'scripts/transitions-doc.mjs'))) as { transitionsMarkdown: () => string };
  expect(generated('transitions.md')).toBe(transitionsMarkdown());
});

test('docs/schema.md shows the flows columns as src/store/flow-columns.ts declares them, and the state codes as stored (npm run docs)', async () => {
  const { schemaMarkdown } = (await import(join(ROOT, 'scripts/schema-doc.mjs'))) as { schemaMarkdown: (page?: string) => string };
  const page = generated('schema.md');
  expect(page).toContain('<!-- generated from code: flows-columns');
  expect(page).toBe(schemaMarkdown(page));
});

test('every source file has a test beside it or a line in test/README.md saying where it is tested', () => {
  const listed = readFileSync(join(ROOT, 'test', 'README.md'), 'utf8');
  const files = new Set((readdirSync(join(ROOT, 'src'), { recursive: true }) as string[]).map((f) => `src/${f.split('\\').join('/')}`));
  const sources = [...files].filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const untested = sources.filter((f) => !files.has(f.replace(/\.ts$/, '.test.ts')) && !listed.includes(`\`${f}\``));
  expect(sources.length).toBeGreaterThan(50);
  expect(untested).toEqual([]);
});

test('the docs name every tunnel the decoder follows: README by name, docs/reconstruction.md and docs/schema.md by kind', async () => {
  const { TUNNELS } = await import('../src/decode/tunnels.js');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const reconstruction = generated('reconstruction.md');
  const schema = generated('schema.md');
  expect(TUNNELS.filter((t) => !readme.includes(t.name)).map((t) => t.name)).toEqual([]);
  expect(TUNNELS.filter((t) => !reconstruction.includes(`\`${t.kind}\``)).map((t) => t.kind)).toEqual([]);
  expect(TUNNELS.filter((t) => !schema.includes(`\`${t.kind}\``)).map((t) => t.kind)).toEqual([]);
});
