import Database from 'better-sqlite3';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { CaptureAnalysis } from '../track/analyze-capture.js';
import type { FindingRecord, FlowRecord, TrackerOutput, TransitionRecord } from '../track/records.js';
import { CREATE_INDEXES, CREATE_TABLES, SCHEMA_VERSION } from './schema.js';

type Statement = Database.Statement<unknown[]>;

const bool = (value: boolean): number => (value ? 1 : 0);

/**
 * Writes a database as the tracker produces it. Everything goes into a temporary
 * file beside the target, which replaces the target only in `commit`: a failed,
 * crashed or interrupted run leaves any previous database untouched.
 */
export class DatabaseWriter implements TrackerOutput {
  readonly temporaryPath: string;
  private readonly db: Database.Database;
  private readonly insertFlow: Statement;
  private readonly insertTransition: Statement;
  private readonly insertFinding: Statement;
  rows = 0;
  private closed = false;

  constructor(readonly targetPath: string) {
    this.temporaryPath = join(dirname(targetPath), `.${basename(targetPath)}.${process.pid}.tmp`);
    rmSync(this.temporaryPath, { force: true });
    this.db = new Database(this.temporaryPath);
    // Safe to skip the journal and fsync: until the rename nothing depends on this file.
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.pragma('locking_mode = EXCLUSIVE');
    this.db.pragma('temp_store = MEMORY');
    this.db.pragma('cache_size = -65536');
    this.db.exec(CREATE_TABLES);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    this.insertFlow = this.db.prepare(`INSERT INTO flows VALUES (${Array(39).fill('?').join(',')})`);
    this.insertTransition = this.db.prepare('INSERT INTO transitions VALUES (?,?,?,?,?,?,?,?,?)');
    this.insertFinding = this.db.prepare(
      'INSERT INTO findings (kind, severity, flow_id, endpoint, host, port, ts_ns, capture_id, frame, message, details) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
    );
    this.db.exec('BEGIN');
  }

  transition(t: TransitionRecord): void {
    this.rows++;
    this.insertTransition.run(t.flowId, t.endpoint, t.tsNs, t.source + 1, t.frame, t.fromState, t.toState, t.cause, bool(t.inferred));
  }

  finding(f: FindingRecord): void {
    this.rows++;
    this.insertFinding.run(f.kind, f.severity, f.flowId, f.endpoint, f.host, f.port, f.tsNs, f.source + 1, f.frame, f.message, JSON.stringify(f.details));
  }

  flow(f: FlowRecord): void {
    this.rows++;
    const c = f.client;
    const s = f.server;
    this.insertFlow.run(
      f.id, c.ip, c.port, s.ip, s.port, f.ipVersion, f.instance, f.firstNs, f.lastNs,
      c.packets, s.packets, c.bytes, s.bytes, c.ipBytes, s.ipBytes,
      c.state, s.state, bool(c.stateInferred), bool(s.stateInferred),
      bool(f.rolesGuessed), bool(f.midstream), f.closedFirstBy, f.closeKind,
      c.unackedBytes, s.unackedBytes, c.retransmissions, s.retransmissions,
      f.captureLossEvents, c.missedBytes + s.missedBytes, bool(f.evicted),
      f.firstSource + 1, f.firstFrame, f.lastSource + 1, f.lastFrame,
      f.zeek?.connState ?? null, f.zeek?.history ?? null,
      f.zeek?.originatorBytes ?? null, f.zeek?.responderBytes ?? null, f.zeek?.missedBytes ?? null,
    );
  }

  /** Writes the per-capture rows and settings, builds the indexes and moves the database into place. */
  commit(analysis: CaptureAnalysis, meta: Record<string, string>): void {
    const insertCapture = this.db.prepare('INSERT INTO captures VALUES (?,?,?,?,?,?,?,?,?,?)');
    for (const [i, c] of analysis.captures.entries()) {
      // Absolute, so netstat --at and flow can read the capture again from anywhere.
      insertCapture.run(i + 1, c.path === '-' ? '-' : resolve(c.path), c.format, bool(c.gzipped), c.linkTypes.join(','), c.packets, c.tcpPackets, c.firstNs, c.lastNs, c.warnings.length > 0 ? c.warnings.join('\n') : null);
    }
    const insertListener = this.db.prepare('INSERT OR IGNORE INTO listeners VALUES (?,?,?,?,?)');
    for (const l of analysis.listeners) insertListener.run(l.ip, l.port, l.ipVersion, l.firstNs, l.flowId);
    const insertMeta = this.db.prepare('INSERT INTO meta VALUES (?, ?)');
    for (const [key, value] of Object.entries(meta)) insertMeta.run(key, value);
    this.db.exec('COMMIT');
    this.db.exec(CREATE_INDEXES);
    this.db.exec('ANALYZE');
    this.db.close();
    this.closed = true;
    renameSync(this.temporaryPath, this.targetPath);
  }

  /** Drops the temporary database; the target is left as it was. */
  abort(): void {
    if (!this.closed) {
      this.closed = true;
      try {
        this.db.close();
      } catch {
        // Closing can fail mid-statement on interrupt; the file is removed anyway.
      }
    }
    if (existsSync(this.temporaryPath)) rmSync(this.temporaryPath, { force: true });
  }
}
