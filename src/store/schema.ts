import { ALL_STATES } from '../tcp/tcp-state.js';

/**
 * The database flowstate writes (documented column by column in docs/schema.md).
 * Times are integer nanoseconds since the Unix epoch; frames are 1-based.
 * Transitions are stored as codes in transition_rows (half the size of text)
 * and read through the view `transitions`.
 * Bump SCHEMA_VERSION (PRAGMA user_version) with any change to these tables.
 */
export const SCHEMA_VERSION = 2;

/** A state's name from its code (its index in ALL_STATES), in SQL. */
function stateName(code: string): string {
  return `CASE ${code} ${ALL_STATES.map((state, i) => `WHEN ${i} THEN '${state}'`).join(' ')} END`;
}

export const CREATE_TABLES = `
CREATE TABLE captures (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  format TEXT NOT NULL,
  gzipped INTEGER NOT NULL,
  link_types TEXT NOT NULL,
  packets INTEGER NOT NULL,
  tcp_packets INTEGER NOT NULL,
  first_ns INTEGER,
  last_ns INTEGER,
  warnings TEXT
);
CREATE TABLE flows (
  id INTEGER PRIMARY KEY,
  client_ip TEXT NOT NULL,
  client_port INTEGER NOT NULL,
  server_ip TEXT NOT NULL,
  server_port INTEGER NOT NULL,
  ip_version INTEGER NOT NULL,
  instance INTEGER NOT NULL,
  first_ns INTEGER NOT NULL,
  last_ns INTEGER NOT NULL,
  client_packets INTEGER NOT NULL,
  server_packets INTEGER NOT NULL,
  client_bytes INTEGER NOT NULL,
  server_bytes INTEGER NOT NULL,
  client_ip_bytes INTEGER NOT NULL,
  server_ip_bytes INTEGER NOT NULL,
  client_state TEXT NOT NULL,
  server_state TEXT NOT NULL,
  client_state_inferred INTEGER NOT NULL,
  server_state_inferred INTEGER NOT NULL,
  roles_guessed INTEGER NOT NULL,
  midstream INTEGER NOT NULL,
  closed_first_by TEXT,
  close_kind TEXT,
  client_unacked INTEGER NOT NULL,
  server_unacked INTEGER NOT NULL,
  client_retransmissions INTEGER NOT NULL,
  server_retransmissions INTEGER NOT NULL,
  capture_loss INTEGER NOT NULL,
  missed_bytes INTEGER NOT NULL,
  evicted INTEGER NOT NULL,
  first_capture INTEGER NOT NULL,
  first_frame INTEGER NOT NULL,
  last_capture INTEGER NOT NULL,
  last_frame INTEGER NOT NULL,
  conn_state TEXT,
  history TEXT,
  zeek_orig_bytes INTEGER,
  zeek_resp_bytes INTEGER,
  zeek_missed_bytes INTEGER
);
CREATE TABLE transition_rows (
  id INTEGER NOT NULL,
  flow_id INTEGER NOT NULL,
  endpoint_code INTEGER NOT NULL,
  ts_ns INTEGER NOT NULL,
  capture_id INTEGER NOT NULL,
  frame INTEGER,
  from_code INTEGER NOT NULL,
  to_code INTEGER NOT NULL,
  cause_code INTEGER NOT NULL,
  inferred INTEGER NOT NULL,
  PRIMARY KEY (flow_id, id)
) WITHOUT ROWID;
CREATE TABLE causes (
  code INTEGER PRIMARY KEY,
  text TEXT NOT NULL
);
CREATE VIEW transitions AS
SELECT t.id, t.flow_id,
  CASE t.endpoint_code WHEN 0 THEN 'client' ELSE 'server' END AS endpoint,
  t.ts_ns, t.capture_id, t.frame,
  ${stateName('t.from_code')} AS from_state,
  ${stateName('t.to_code')} AS to_state,
  c.text AS cause, t.inferred
FROM transition_rows t LEFT JOIN causes c ON c.code = t.cause_code;
CREATE TABLE findings (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  flow_id INTEGER,
  endpoint TEXT,
  host TEXT,
  port INTEGER,
  ts_ns INTEGER NOT NULL,
  capture_id INTEGER,
  frame INTEGER,
  message TEXT NOT NULL,
  details TEXT NOT NULL
);
CREATE TABLE listeners (
  ip TEXT NOT NULL,
  port INTEGER NOT NULL,
  ip_version INTEGER NOT NULL,
  first_ns INTEGER NOT NULL,
  first_flow_id INTEGER NOT NULL,
  PRIMARY KEY (ip, port)
);
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/**
 * Made after the bulk load, in one sort each (0.8 s for 380 k flows): kept up row
 * by row they doubled the cost of a flow row. Transitions need none: their table
 * is kept in flow order (WITHOUT ROWID, keyed by flow and id). Inserting into it
 * costs 2.2 µs a row against 1.1 µs appending, but that runs beside the tracking,
 * where an index made at the end took 1.2 s after it. The reports that filter on
 * to_state scan 3.2 M rows in about a second.
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
