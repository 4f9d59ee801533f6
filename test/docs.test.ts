// Documentation generated from code must match the code.
import { expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/paths.js';

test('docs/findings.md is what scripts/findings-doc.mjs makes from the catalogue', async () => {
  const { findingsMarkdown } = (await import(join(ROOT, 'scripts/findings-doc.mjs'))) as { findingsMarkdown: () => string };
  expect(readFileSync(join(ROOT, 'docs/findings.md'), 'utf8')).toBe(findingsMarkdown());
});
