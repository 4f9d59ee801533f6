// The writer's two ways of writing, from the built package (npm test builds dist/ first, and only
// there is the worker thread's script): on the worker thread, as analyze does, and in the calling
// thread, as the benchmark's one-core stage does. Both must leave the same database.
import { expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as WriterModule from '../src/store/database-writer.js';
import type * as AnalyzeModule from '../src/analyze.js';
import { CAPTURES } from './helpers/paths.js';

// Imported by URL at run time: the types come from the sources, which typecheck without a build.
const DIST = new URL('../dist/', import.meta.url).href;

async function write(capture: string, db: string, thread: boolean): Promise<void> {
  const { DatabaseWriter } = (await import(`${DIST}store/database-writer.js`)) as typeof WriterModule;
  const { analyzeCapture } = (await import(`${DIST}analyze.js`)) as typeof AnalyzeModule;
  const writer = new DatabaseWriter(db, { thread });
  await writer.commit(await analyzeCapture([capture], writer, { beforeRead: () => writer.drain() }), { written: 'test' });
}

function tables(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map(
      (t) => t.name,
    );
    // Every column, in key order: rows the same, and in the same order.
    return Object.fromEntries(names.map((name) => [name, db.prepare(`SELECT * FROM "${name}" ORDER BY 1, 2`).raw().all()]));
  } finally {
    db.close();
  }
}

test('the database written in the calling thread equals the one written on the worker thread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowstate-writer-'));
  try {
    const capture = join(CAPTURES, 'many-short.pcap');
    await write(capture, join(dir, 'worker.db'), true);
    await write(capture, join(dir, 'in-thread.db'), false);
    const onWorker = tables(join(dir, 'worker.db'));
    expect(onWorker.flows.length).toBeGreaterThan(100);
    expect(onWorker.transition_rows.length).toBeGreaterThan(onWorker.flows.length);
    expect(tables(join(dir, 'in-thread.db'))).toEqual(onWorker);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
