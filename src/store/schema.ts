import { CAPTURES, FINDINGS, FLOWS, LISTENERS } from './tables.js';
import { TRANSITIONS_VIEW } from './transition-code.js';

/**
 * The database flowstate writes (documented column by column in docs/schema.md).
 * Times are integer nanoseconds since the Unix epoch; frames are 1-based.
 * Transitions are stored as codes in transition_rows (half the size of text)
 * and read through the view `transitions` (transition-code.ts).
 * Bump SCHEMA_VERSION (PRAGMA user_version) with any change to these tables.
 * 4: causes.event, the stable code of a transition's cause (the view's `event`); flows.*_bad_checksums.
 * 5: flows.tunnel, tunnel_endpoints, tunnel_id.
 * 6: flows.evicted_by (the memory budget evicts connections too).
 */
export const SCHEMA_VERSION = 6;

/**
 * `PRAGMA application_id` of every database flowstate writes ("flst"): how a later
 * run knows a file at --db is one it may replace (store/output-file.ts).
 */
export const APPLICATION_ID = 0x666c7374;

export const CREATE_TABLES = `
${CAPTURES.ddl}
${FLOWS.ddl}
CREATE TABLE transition_rows (
  flow_id INTEGER NOT NULL,
  id INTEGER NOT NULL,
  ts_ns INTEGER NOT NULL,
  frame INTEGER,
  code INTEGER NOT NULL,
  PRIMARY KEY (flow_id, id)
) WITHOUT ROWID;
CREATE TABLE causes (
  code INTEGER PRIMARY KEY,
  text TEXT NOT NULL,
  event TEXT NOT NULL
);
${TRANSITIONS_VIEW}
${FINDINGS.ddl}
${LISTENERS.ddl}
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/**
 * Made after the bulk load, in one sort each: kept up row by row they doubled the
 * cost of a flow row. Transitions need none: their table is kept in flow order
 * (WITHOUT ROWID, keyed by flow and id). Inserting in key order costs more a row
 * than appending, but that cost runs beside the tracking, where an index made
 * at the end would run after it; each batch is sorted by flow to keep it small.
 * The reports that filter on to_state scan the table (docs/benchmarks.md times them).
 */
export const CREATE_INDEXES = `
CREATE INDEX flows_server ON flows (server_ip, server_port);
CREATE INDEX flows_client ON flows (client_ip, client_port);
CREATE INDEX flows_states ON flows (client_state, server_state);
CREATE INDEX flows_first ON flows (first_ns);
CREATE INDEX findings_kind ON findings (kind, severity);
CREATE INDEX findings_flow ON findings (flow_id);
`;

export const TABLE_NAMES = ['captures', 'flows', 'transitions', 'findings', 'listeners', 'meta'] as const;
