// The one-way data flow of docs/architecture.md as an ESLint rule, for every
// form an import takes: import and export … from, import(), require(),
// import x = require(), and TypeScript's import('…') types.
import { dirname, relative, resolve, sep } from 'node:path';

/** The stages of src/, in the order data flows; each may import only those before it. */
const STAGES = ['capture', 'decode', 'tcp', 'track', 'store', 'report', 'cli'];
/** Files of src/ itself that import nothing and that every stage may import. */
const FOUNDATION = new Set(['errors.ts', 'version.ts']);
/** Files of src/ itself that put the stages together: only cli/ and index.ts use them. */
const COMPOSITION = new Set(['analyze.ts', 'annotate.ts', 'replay.ts', 'memory-budget.ts', 'host-profiles.ts']);

/**
 * Where a file sits: `{ area: 'src', stage, test }` for src/, or test/, scripts/, dist/, or outside.
 * `stage` is an index into STAGES, or 'foundation', 'composition', 'index'.
 */
function placeOf(root, path) {
  const parts = relative(root, path).split(sep);
  const [top] = parts;
  if (top === 'src') {
    const name = parts[1] ?? '';
    const test = name.endsWith('.test.ts') || parts.at(-1).endsWith('.test.ts');
    if (parts.length === 2) {
      const bare = name.replace(/\.js$/, '.ts');
      if (FOUNDATION.has(bare)) return { area: 'src', stage: 'foundation', test };
      if (COMPOSITION.has(bare)) return { area: 'src', stage: 'composition', test };
      return { area: 'src', stage: 'index', test };
    }
    return { area: 'src', stage: STAGES.indexOf(name), test };
  }
  if (top === 'test' || top === 'scripts' || top === 'dist') return { area: top };
  return { area: 'outside' };
}

const stageName = (stage) => (typeof stage === 'number' ? `${STAGES[stage]}/` : `src/${stage}`);

/** Why `from` may not import `to`, or undefined when it may. */
function violation(from, to) {
  if (from.area === 'src') {
    if (to.area === 'test' && from.test) return undefined;
    if (to.area !== 'src') return `src/ code imports only src/, not ${to.area}/`;
    if (to.stage === 'foundation') return undefined;
    if (from.stage === 'foundation') return 'errors.ts and version.ts import nothing of the stages';
    const cli = STAGES.indexOf('cli');
    if (to.stage === cli && from.stage !== cli) return 'nothing outside cli/ imports cli/';
    if (from.stage === 'index') return undefined;
    if (to.stage === 'index') return 'index.ts is the public face: nothing inside src/ imports it';
    if (from.stage === 'composition') return undefined;
    if (to.stage === 'composition')
      return from.stage === cli || from.test
        ? undefined
        : `${stageName(from.stage)} may not import the composition root (${stageName(to.stage)}); only cli/ does`;
    if (to.stage > from.stage && !from.test) return `${stageName(from.stage)} may not import ${stageName(to.stage)}, a later stage`;
    return undefined;
  }
  if (from.area === 'scripts' && to.area === 'src') return 'scripts run under node: import the built dist/, not src/';
  return undefined;
}

export const stageOrderRule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports follow the stage order of docs/architecture.md' },
    schema: [],
  },
  create(context) {
    const root = context.cwd;
    const file = context.filename;
    const from = placeOf(root, file);
    if (from.area === 'outside' || from.area === 'dist') return {};
    const check = (node, specifier) => {
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const target = resolve(dirname(file), specifier);
      const problem = violation(from, placeOf(root, target));
      if (problem) context.report({ node, message: `${problem} (${specifier})` });
    };
    const literal = (node) =>
      node?.type === 'Literal'
        ? node.value
        : node?.type === 'TemplateLiteral' && node.expressions.length === 0
          ? node.quasis[0].value.cooked
          : undefined;
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => check(node, literal(node.source)),
      CallExpression: (node) =>
        node.callee.type === 'Identifier' && node.callee.name === 'require' && check(node, literal(node.arguments[0])),
      TSExternalModuleReference: (node) => check(node, literal(node.expression)),
      // typescript-eslint 8 names the specifier `source` (older versions: `argument.literal`).
      TSImportType: (node) => check(node, literal('source' in node ? node.source : node.argument?.literal)),
    };
  },
};
