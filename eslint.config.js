// ESLint over src, test and scripts: typescript-eslint's type-aware rules, the
// stage order of docs/architecture.md for every import form, no `any`, no `enum`.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { stageOrderRule } from './scripts/eslint/stage-order.mjs';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench-data/', 'coverage/', 'tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { flowstate: { rules: { 'stage-order': stageOrderRule } } },
    rules: {
      'flowstate/stage-order': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'no TypeScript enum: use an `as const` object and a derived union' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests match terminal escapes (colour, the progress bar) in regular expressions.
    files: ['**/*.test.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The HTML report's page script runs in the browser, beside Observable Plot.
    files: ['assets/**/*.js'],
    languageOptions: { globals: { ...globals.browser, Plot: 'readonly' } },
  },
);
