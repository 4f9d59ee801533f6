// The flows table as declared: what the writer writes is what the reader reads, column by column.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { Connection } from '../../test/helpers/tracker-harness.js';
import { DecodeStats } from '../decode/decode-stats.js';
import { DatabaseReader } from './database-reader.js';
import { DatabaseWriter } from './database-writer.js';
import { FLOW_COLUMNS } from './flow-columns.js';

test('every declared column is in the table, in order, and reads back as the record it was written from', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowstate-flow-columns-'));
  try {
    const c = new Connection();
    c.client('SYN').server('SYN ACK').client('ACK', { len: 120 }).server('ACK', { len: 3000 }).client('FIN ACK').server('RST ACK');
    const [record] = c.finish().flows;
    const path = join(dir, 'flows.db');
    const writer = new DatabaseWriter(path, { thread: false });
    writer.flow(record);
    await writer.commit({ captures: [], decode: new DecodeStats(), tracker: c.tracker.stats, listeners: [], error: undefined }, {});
    const reader = new DatabaseReader(path);
    try {
      const row = reader.flow(record.id);
      expect(Object.keys(row ?? {})).toEqual(FLOW_COLUMNS.map((column) => column.name));
      for (const column of FLOW_COLUMNS) expect(row?.[column.name], column.name).toEqual(column.read(record));
      expect(row).toMatchObject({
        client_bytes: 120,
        server_bytes: 3000,
        close_kind: 'FIN',
        closed_first_by: 'client',
        client_state: 'CLOSED',
      });
    } finally {
      reader.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
