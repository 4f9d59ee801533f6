import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { FlowstateError } from '../errors.js';
import { Aggregates } from '../track/aggregates.js';
import type { CaptureTime } from '../track/capture-time.js';
import type { FindingRecord } from '../track/records.js';
import type { TrackerStats } from '../track/tracker.js';
import { DatabaseReader } from './database-reader.js';
import { OutputFile } from './output-file.js';
import { APPLICATION_ID, CREATE_INDEXES, CREATE_TABLES, SCHEMA_VERSION } from './schema.js';
import { readShardMeta, SHARD_META_KEY } from './shard-meta.js';
import { CAPTURES, FINDINGS, FLOWS } from './tables.js';
import { causeOfSql, recodedCauseSql } from './transition-code.js';

/** What a merge wrote. */
export interface MergeResult {
  shards: number;
  flows: number;
  transitions: number;
  findings: number;
}

/** Settings every shard of one run has alike; a shard that differs was made by another run. */
const SAME_IN_EVERY_SHARD = ['flowstate_version', 'time_wait_seconds', 'half_open_limit', 'checksums', 'decode'] as const;

const CAPTURE_COLUMNS = CAPTURES.columns.map((c) => c.name).join(', ');
const FLOW_COLUMNS_AFTER_ID = FLOWS.columns
  .map((c) => c.name)
  .filter((name) => name !== 'id')
  .join(', ');
/** The findings columns merge copies as they are: all but the id it renumbers and the flow id it maps. */
const FINDING_COLUMNS_AS_THEY_ARE = FINDINGS.columns
  .map((c) => c.name)
  .filter((name) => name !== 'id' && name !== 'flow_id')
  .join(', ');

interface ShardFile {
  path: string;
  meta: NonNullable<ReturnType<typeof readShardMeta>>;
  settings: Record<string, string | undefined>;
  /** The captures table, as text to compare. */
  captures: string;
  captureCount: number;
  tracker: TrackerStats;
  incomplete: string | undefined;
}

/** Opens a shard database, checks it is one, and reads what the merge checks and adds up. */
function readShard(path: string): ShardFile {
  const reader = new DatabaseReader(path);
  try {
    const text = reader.meta(SHARD_META_KEY);
    if (text === undefined) throw new FlowstateError(`${path} is not a shard: it was written by analyze without --shard`);
    const meta = readShardMeta(text);
    if (meta === undefined) throw new FlowstateError(`${path}: its shard description (meta '${SHARD_META_KEY}') is damaged`);
    const settings = Object.fromEntries(SAME_IN_EVERY_SHARD.map((key) => [key, reader.meta(key)]));
    const captureRows = reader.db.prepare(`SELECT ${CAPTURE_COLUMNS} FROM captures ORDER BY id`).raw(true).safeIntegers(true).all();
    const captures = JSON.stringify(captureRows, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
    const tracker = JSON.parse(reader.meta('tracker') ?? '{}') as TrackerStats;
    return { path, meta, settings, captures, captureCount: captureRows.length, tracker, incomplete: reader.meta('incomplete') };
  } finally {
    reader.close();
  }
}

/** Every shard of one run, each once: anything else is refused before a byte is written. */
function checkShards(shards: readonly ShardFile[]): void {
  const first = shards[0];
  const count = first.meta.count;
  const seen = new Map<number, string>();
  for (const shard of shards) {
    const { index } = shard.meta;
    if (shard.meta.count !== count)
      throw new FlowstateError(
        `${shard.path} is shard ${index}/${shard.meta.count}, ${first.path} one of ${count}: they come from different splits`,
      );
    const twice = seen.get(index);
    if (twice !== undefined) throw new FlowstateError(`${twice} and ${shard.path} are both shard ${index}/${count}`);
    seen.set(index, shard.path);
    for (const key of SAME_IN_EVERY_SHARD) {
      if (shard.settings[key] !== first.settings[key])
        throw new FlowstateError(`${shard.path} and ${first.path} differ in ${key}: they are not shards of one run`);
    }
    if (shard.captures !== first.captures) throw new FlowstateError(`${shard.path} and ${first.path} were made from different captures`);
    if (
      shard.meta.baseNs !== first.meta.baseNs ||
      shard.meta.spanNs !== first.meta.spanNs ||
      shard.meta.timeWaitNs !== first.meta.timeWaitNs ||
      JSON.stringify(shard.meta.thresholds) !== JSON.stringify(first.meta.thresholds)
    )
      throw new FlowstateError(`${shard.path} and ${first.path} differ in their capture's times or their detector thresholds`);
  }
  const missing = [...Array(count).keys()].filter((index) => !seen.has(index));
  if (missing.length > 0)
    throw new FlowstateError(
      `shard${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${count}`).join(', ')} missing: a merge needs every shard of the run`,
    );
}

/** The tracker's counts of the whole run: the shards' added up (the peak in memory is an upper bound: shards peak apart). */
function addedStats(shards: readonly ShardFile[]): TrackerStats {
  const total: Record<string, number> = {};
  for (const shard of shards) {
    for (const [key, value] of Object.entries(shard.tracker)) total[key] = (total[key] ?? 0) + (typeof value === 'number' ? value : 0);
  }
  return total as unknown as TrackerStats;
}

/**
 * One database from the shards of one `analyze --shard K/N` run, equal to what
 * one run over the whole capture writes: flows numbered in the order their first
 * packet came (as one run numbers them), transitions and findings renumbered in
 * time order, cause codes made one list, listeners taken at their first flow,
 * and the per-host findings made from every shard's parts together. The work is
 * done inside SQLite (ATTACH + INSERT … SELECT); `out` is replaced only once the
 * new database is complete.
 */
export function mergeShards(
  out: string,
  shardPaths: readonly string[],
  onStep?: (step: MergeStep) => void,
  options: { force?: boolean } = {},
): MergeResult {
  if (shardPaths.length === 0) throw new FlowstateError('merge needs at least one shard database');
  const output = OutputFile.claim(out, { kind: 'database', inputs: shardPaths, force: options.force, option: 'merge OUT' });
  let db: Database.Database | undefined;
  try {
    const shards = shardPaths.map((path) => readShard(resolve(path)));
    checkShards(shards);
    db = new Database(output.temporaryPath);
    const result = mergeInto(db, shards, onStep ?? (() => undefined));
    db.close();
    output.publish();
    return result;
  } catch (error) {
    if (db?.open) db.close();
    output.discard();
    throw error;
  }
}

/** What merge is doing, in the order it does it (for a progress line). */
export type MergeStep = 'numbering flows' | 'copying shards' | 'numbering transitions' | 'per-host findings' | 'indexes';

function mergeInto(db: Database.Database, shards: readonly ShardFile[], onStep: (step: MergeStep) => void): MergeResult {
  // As the writer: nothing depends on this file until the rename.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('temp_store = FILE');
  db.pragma('cache_size = -65536');
  db.exec(CREATE_TABLES);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.exec(`
    CREATE TEMP TABLE flow_keys (shard INTEGER, old_id INTEGER, first_ns INTEGER, first_capture INTEGER, first_frame INTEGER);
    CREATE TEMP TABLE cause_map (shard INTEGER, old_code INTEGER, new_code INTEGER, PRIMARY KEY (shard, old_code)) WITHOUT ROWID;
    CREATE TEMP TABLE staged_transitions (flow_id INTEGER, old_id INTEGER, ts_ns INTEGER, frame INTEGER, code INTEGER);
    CREATE TEMP TABLE staged_findings (shard INTEGER, old_id INTEGER, flow_id INTEGER, ${FINDING_COLUMNS_AS_THEY_ARE});
    CREATE TEMP TABLE staged_listeners (ip, port, ip_version, first_ns, first_flow_id);
  `);
  const attach = db.prepare('ATTACH DATABASE ? AS shard');
  const each = (work: (index: number) => void): void => {
    for (const [index, shard] of shards.entries()) {
      attach.run(shard.path);
      try {
        // A shard's statements in one transaction; DETACH only outside one.
        db.transaction(() => work(index))();
      } finally {
        db.exec('DETACH DATABASE shard');
      }
    }
  };
  onStep('numbering flows');
  // One run numbers flows as their first packets are read: one file in its order; several
  // merged by time (ties to the earlier file), which time-ordered files reproduce exactly.
  each((index) => db.prepare('INSERT INTO flow_keys SELECT ?, id, first_ns, first_capture, first_frame FROM shard.flows').run(index));
  const readOrder = shards[0].captureCount === 1 ? 'first_frame' : 'first_ns, first_capture, first_frame';
  db.exec(`
    CREATE TEMP TABLE flow_map (shard INTEGER, old_id INTEGER, new_id INTEGER, PRIMARY KEY (shard, old_id)) WITHOUT ROWID;
    INSERT INTO flow_map SELECT shard, old_id, ROW_NUMBER() OVER (ORDER BY ${readOrder}, shard, old_id) FROM flow_keys;
    DROP TABLE flow_keys;
  `);
  onStep('copying shards');
  const causes = new Map<string, number>();
  const insertCause = db.prepare('INSERT INTO main.causes VALUES (?, ?, ?)');
  const mapCause = db.prepare('INSERT INTO cause_map VALUES (?, ?, ?)');
  each((index) => {
    for (const cause of db.prepare('SELECT code, text, event FROM shard.causes ORDER BY code').all() as Array<{
      code: number;
      text: string;
      event: string;
    }>) {
      const key = `${cause.text}\u0000${cause.event}`;
      let code = causes.get(key);
      if (code === undefined) {
        code = causes.size;
        causes.set(key, code);
        insertCause.run(code, cause.text, cause.event);
      }
      mapCause.run(index, cause.code, code);
    }
    db.prepare(
      `INSERT INTO main.flows SELECT m.new_id, ${FLOW_COLUMNS_AFTER_ID} FROM shard.flows f JOIN flow_map m ON m.shard = ? AND m.old_id = f.id`,
    ).run(index);
    db.prepare(
      `INSERT INTO staged_transitions
       SELECT m.new_id, t.id, t.ts_ns, t.frame, ${recodedCauseSql('t.code', causeOfSql('t.code'), 'COALESCE(c.new_code, ' + causeOfSql('t.code') + ')')}
       FROM shard.transition_rows t JOIN flow_map m ON m.shard = :shard AND m.old_id = t.flow_id
       LEFT JOIN cause_map c ON c.shard = :shard AND c.old_code = ${causeOfSql('t.code')}`,
    ).run({ shard: index });
    db.prepare(
      `INSERT INTO staged_findings
       SELECT :shard, f.id, m.new_id, ${FINDING_COLUMNS_AS_THEY_ARE.split(', ')
         .map((c) => `f.${c}`)
         .join(', ')}
       FROM shard.findings f LEFT JOIN flow_map m ON m.shard = :shard AND m.old_id = f.flow_id`,
    ).run({ shard: index });
    db.prepare(
      `INSERT INTO staged_listeners SELECT l.ip, l.port, l.ip_version, l.first_ns, m.new_id
       FROM shard.listeners l JOIN flow_map m ON m.shard = ? AND m.old_id = l.first_flow_id`,
    ).run(index);
  });
  onStep('numbering transitions');
  // Ids in time order, as one run hands them out; a flow's own transitions keep their order.
  db.exec(`
    INSERT INTO main.transition_rows
    SELECT flow_id, id, ts_ns, frame, code FROM (
      SELECT flow_id, ROW_NUMBER() OVER (ORDER BY ts_ns, flow_id, old_id) AS id, ts_ns, frame, code FROM staged_transitions
    ) ORDER BY flow_id, id;
    DROP TABLE staged_transitions;
    INSERT INTO main.findings (flow_id, ${FINDING_COLUMNS_AS_THEY_ARE})
    SELECT flow_id, ${FINDING_COLUMNS_AS_THEY_ARE} FROM staged_findings ORDER BY ts_ns, flow_id, shard, old_id;
    INSERT INTO main.listeners
    SELECT ip, port, ip_version, first_ns, first_flow_id FROM (
      SELECT *, ROW_NUMBER() OVER (PARTITION BY ip, port ORDER BY first_ns, first_flow_id) AS rank FROM staged_listeners
    ) WHERE rank = 1 ORDER BY first_ns, first_flow_id;
  `);
  onStep('per-host findings');
  db.transaction(() => addAggregateFindings(db, shards))();
  copyCapturesAndMeta(db, shards);
  onStep('indexes');
  db.pragma('cache_size = -2048');
  db.exec(CREATE_INDEXES);
  const count = (table: string): number => (db.prepare(`SELECT COUNT(*) AS n FROM main.${table}`).get() as { n: number }).n;
  return { shards: shards.length, flows: count('flows'), transitions: count('transition_rows'), findings: count('findings') };
}

/** The per-host findings of the whole run, from every shard's parts at once (aggregates.ts), after the per-flow ones as in one run. */
function addAggregateFindings(db: Database.Database, shards: readonly ShardFile[]): void {
  const lookUp = db.prepare('SELECT new_id FROM flow_map WHERE shard = ? AND old_id = ?').pluck();
  const aggregates = new Aggregates();
  for (const [index, shard] of shards.entries()) {
    aggregates.absorb(shard.meta.parts, (id) => {
      const mapped = lookUp.get(index, id) as number | undefined;
      if (mapped === undefined) throw new FlowstateError(`${shard.path}: its findings name flow ${id}, which it does not hold`);
      return mapped;
    });
  }
  const { baseNs, spanNs, thresholds, timeWaitNs } = shards[0].meta;
  const insert = db.prepare(FINDINGS.insert());
  const emit = (record: FindingRecord): void => void insert.run(...FINDINGS.values(record));
  aggregates.finish(spanNs, thresholds, timeWaitNs, (time: CaptureTime) => baseNs + BigInt(time), emit);
}

/** Captures and the run's settings are alike in every shard; the tracker's counts are added up. */
function copyCapturesAndMeta(db: Database.Database, shards: readonly ShardFile[]): void {
  const first = shards[0];
  db.prepare('ATTACH DATABASE ? AS shard').run(first.path);
  try {
    db.exec(`INSERT INTO main.captures (${CAPTURE_COLUMNS}) SELECT ${CAPTURE_COLUMNS} FROM shard.captures ORDER BY id`);
  } finally {
    db.exec('DETACH DATABASE shard');
  }
  const insertMeta = db.prepare('INSERT INTO main.meta VALUES (?, ?)');
  for (const key of SAME_IN_EVERY_SHARD) {
    const value = first.settings[key];
    if (value !== undefined) insertMeta.run(key, value);
  }
  insertMeta.run('tracker', JSON.stringify(addedStats(shards)));
  insertMeta.run('merged', JSON.stringify({ shards: first.meta.count, from: shards.map((s) => s.path) }));
  const incomplete = shards.map((s) => s.incomplete).find((text) => text !== undefined);
  if (incomplete !== undefined) insertMeta.run('incomplete', incomplete);
}
