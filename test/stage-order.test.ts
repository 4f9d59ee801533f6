// The import-boundary lint rule: every import form is checked against the stage order.
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { ROOT } from './helpers/paths.js';
import { stageOrderRule } from '../scripts/eslint/stage-order.mjs';

function problems(file: string, code: string): string[] {
  const linter = new Linter({ cwd: ROOT });
  const messages = linter.verify(
    code,
    [
      {
        files: ['**/*.ts', '**/*.mjs'],
        languageOptions: { parser: tseslint.parser },
        plugins: { flowstate: { rules: { 'stage-order': stageOrderRule } } },
        rules: { 'flowstate/stage-order': 'error' },
      },
    ],
    join(ROOT, file),
  );
  return messages.map((m) => m.message);
}

describe('stage order', () => {
  test('a stage may import earlier stages and the foundation', () => {
    expect(problems('src/track/x.ts', "import { seq } from '../tcp/seq.js';\nimport { FlowstateError } from '../errors.js';")).toEqual([]);
    expect(problems('src/cli/x.ts', "import { analyze } from '../analyze.js';\nimport { x } from '../report/y.js';")).toEqual([]);
  });

  test.each([
    ['static import', "import { DatabaseReader } from '../store/database-reader.js';"],
    ['type import', "import type { FlowRow } from '../store/database-reader.js';"],
    ['re-export', "export { DatabaseReader } from '../store/database-reader.js';"],
    ['export all', "export * from '../store/database-reader.js';"],
    ['dynamic import', "const m = await import('../store/database-reader.js');"],
    ['template import', 'const m = await import(`../store/database-reader.js`);'],
    ['require', "const m = require('../store/database-reader.js');"],
    ['import = require', "import m = require('../store/database-reader.js');"],
    ['import type expression', "let row: import('../store/database-reader.js').FlowRow;"],
  ])('track/ may not reach store/ by %s', (_form, code) => {
    expect(problems('src/track/x.ts', code)).toEqual(['track/ may not import store/, a later stage (../store/database-reader.js)']);
  });

  test('nothing outside cli/ imports cli/, not even a test beside the code', () => {
    expect(problems('src/report/x.test.ts', "import { run } from '../cli/program.js';")).toEqual([
      'nothing outside cli/ imports cli/ (../cli/program.js)',
    ]);
  });

  test('only cli/ uses the composition root; the foundation imports no stage', () => {
    expect(problems('src/store/x.ts', "import { analyze } from '../analyze.js';")).toEqual([
      'store/ may not import the composition root (src/composition); only cli/ does (../analyze.js)',
    ]);
    expect(problems('src/errors.ts', "import { x } from './tcp/seq.js';")).toEqual([
      'errors.ts and version.ts import nothing of the stages (./tcp/seq.js)',
    ]);
    expect(problems('src/track/x.ts', "import { x } from '../index.js';")).toEqual([
      'index.ts is the public face: nothing inside src/ imports it (../index.js)',
    ]);
  });

  test('src/ code imports no tests or scripts; scripts import the built dist/', () => {
    expect(problems('src/track/x.ts', "import { x } from '../../test/helpers/paths.js';")).toEqual([
      'src/ code imports only src/, not test/ (../../test/helpers/paths.js)',
    ]);
    expect(problems('src/track/x.test.ts', "import { x } from '../../test/helpers/paths.js';")).toEqual([]);
    expect(problems('scripts/x.mjs', "import { analyze } from '../src/analyze.js';")).toEqual([
      'scripts run under node: import the built dist/, not src/ (../src/analyze.js)',
    ]);
    expect(problems('scripts/x.mjs', "import { analyze } from '../dist/analyze.js';")).toEqual([]);
  });

  test('packages are not the rule’s business', () => {
    expect(problems('src/capture/x.ts', "import Database from 'better-sqlite3';")).toEqual([]);
  });
});
