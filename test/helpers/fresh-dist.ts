// Some tests run the built package (dist/): the bin, the writer's worker thread.
// Before any test runs, dist/ is rebuilt if a source file is newer than it, so
// `npx vitest` alone never tests stale code.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';

const BUILT_MARKER = join(ROOT, 'dist/cli/main.js');

function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  const sources = Math.max(newestSourceMs(join(ROOT, 'src')), statSync(join(ROOT, 'package.json')).mtimeMs);
  if (existsSync(BUILT_MARKER) && statSync(BUILT_MARKER).mtimeMs >= sources) return;
  process.stderr.write('dist/ is older than src/: building it first (npm run build)\n');
  try {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  } catch {
    throw new Error('dist/ is stale and `npm run build` failed: fix the build before testing');
  }
}
