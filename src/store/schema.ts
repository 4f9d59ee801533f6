/**
 * The database flowstate writes (documented column by column in docs/schema.md).
 * Times are integer nanoseconds since the Unix epoch; frames are 1-based.
 * Bump SCHEMA_VERSION (PRAGMA user_version) with any change to these tables.
 */
export const SCHEMA_VERSION = 1;

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
CREATE TABLE transitions (
  flow_id INTEGER NOT NULL,
  endpoint TEXT NOT NULL,
  ts_ns INTEGER NOT NULL,
  capture_id INTEGER NOT NULL,
  frame INTEGER,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  cause TEXT NOT NULL,
  inferred INTEGER NOT NULL
);
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
 * Kept up as rows arrive, on the writer thread. Transitions have one index, by
 * flow: an index on to_state cut the writer from 450 k to 350 k rows/s, and the
 * reports that filter on it scan 3.2 M rows in about a second without it.
 */
export const CREATE_INDEXES = `
CREATE INDEX flows_server ON flows (server_ip, server_port);
CREATE INDEX flows_client ON flows (client_ip, client_port);
CREATE INDEX flows_states ON flows (client_state, server_state);
CREATE INDEX flows_first ON flows (first_ns);
CREATE INDEX transitions_flow ON transitions (flow_id, ts_ns);
CREATE INDEX findings_kind ON findings (kind, severity);
CREATE INDEX findings_flow ON findings (flow_id);
`;

export const TABLE_NAMES = ['captures', 'flows', 'transitions', 'findings', 'listeners', 'meta'] as const;
