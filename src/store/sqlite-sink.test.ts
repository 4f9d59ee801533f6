import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { CODE_CAPTURE } from './transition-code.js';
import { SqliteSink, TRANSITION_COLUMNS } from './sqlite-sink.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** `count` transitions in time order, ids from `firstId`, spread over five flows (so that sorting by flow moves them). */
function transitionRows(firstId: number, count: number): Float64Array {
  const rows = new Float64Array(count * TRANSITION_COLUMNS);
  for (let i = 0; i < count; i++) {
    const id = firstId + i;
    rows.set([5 - (id % 5), id, 1_700_000_000 + id, 7, id, CODE_CAPTURE], i * TRANSITION_COLUMNS);
  }
  return rows;
}

describe('SqliteSink.transitions', () => {
  test('writes every row once, whatever the batch size against the 256-row INSERT: a full group, a short tail, a batch smaller than a group', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowstate-sink-'));
    dirs.push(dir);
    const path = join(dir, 'sink.db');
    const sink = new SqliteSink(path);
    sink.transitions(transitionRows(1, 600), 600, [{ text: 'test', event: 'SEND_SYN' }]);
    sink.transitions(transitionRows(601, 5), 5, []);
    sink.commit([], [], {});
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT flow_id, id, ts_ns, frame FROM transition_rows ORDER BY id').all() as Array<{
      flow_id: number;
      id: number;
      ts_ns: number;
      frame: number;
    }>;
    db.close();
    expect(rows.length).toBe(605);
    expect(
      rows.every(
        (row, i) =>
          row.id === i + 1 && row.flow_id === 5 - (row.id % 5) && row.ts_ns === (1_700_000_000 + row.id) * 1e9 + 7 && row.frame === row.id,
      ),
    ).toBe(true);
  });
});
