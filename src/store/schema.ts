import { ALL_STATES } from '../tcp/tcp-state.js';
import { CREATE_FLOWS } from './flow-columns.js';

/**
 * The database flowstate writes (documented column by column in docs/schema.md).
 * Times are integer nanoseconds since the Unix epoch; frames are 1-based.
 * Transitions are stored as codes in transition_rows (half the size of text)
 * and read through the view `transitions`.
 * Bump SCHEMA_VERSION (PRAGMA user_version) with any change to these tables.
 */
export const SCHEMA_VERSION = 3;

/**
 * A transition's endpoint, states, cause and capture, packed into transition_rows.code:
 * bit 0 the endpoint (0 client, 1 server), bit 1 inferred, then 5 bits each for the
 * from and to states (index into ALL_STATES), 12 bits for the cause (causes.code),
 * and the capture id above them. Five columns a row instead of ten make a row
 * cheaper to write (docs/benchmarks.md, design choices).
 */
export const CODE_INFERRED = 2;
export const CODE_FROM = 4;
export const CODE_TO = 128;
export const CODE_CAUSE = 4096;
export const CODE_CAPTURE = 16_777_216;

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
${CREATE_FLOWS}
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
  text TEXT NOT NULL
);
CREATE VIEW transitions AS
SELECT t.id, t.flow_id,
  CASE t.code & 1 WHEN 0 THEN 'client' ELSE 'server' END AS endpoint,
  t.ts_ns, t.code / ${CODE_CAPTURE} AS capture_id, t.frame,
  ${stateName(`t.code / ${CODE_FROM} % ${CODE_TO / CODE_FROM}`)} AS from_state,
  ${stateName(`t.code / ${CODE_TO} % ${CODE_CAUSE / CODE_TO}`)} AS to_state,
  c.text AS cause, t.code / ${CODE_INFERRED} % 2 AS inferred
FROM transition_rows t LEFT JOIN causes c ON c.code = t.code / ${CODE_CAUSE} % ${CODE_CAPTURE / CODE_CAUSE};
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
