import { ALL_STATES, STATE_INDEX, type TcpState } from '../tcp/tcp-state.js';
import type { TransitionEvent } from '../track/records.js';

/**
 * A transition's endpoint, states, cause and capture, packed into one integer,
 * transition_rows.code: bit 0 the endpoint (0 client, 1 server), bit 1 inferred,
 * then 5 bits each for the from and to states (index into ALL_STATES), 12 bits for
 * the cause (causes.code), and the capture id above them. Five columns a row
 * instead of ten make a row cheaper to write (docs/design-choices.md).
 * This module is the only one that knows the packing: the writer encodes with
 * `transitionCode`, the `transitions` view decodes with `TRANSITIONS_VIEW` in SQL and `decodeTransitionCode` in JS.
 */
const INFERRED = 2;
const FROM = 4;
const TO = 128;
const CAUSE = 4096;
export const CODE_CAPTURE = 16_777_216;

/** The code of a transition whose cause has code `cause`. */
export function transitionCode(t: TransitionEvent, cause: number): number {
  return (
    (t.endpoint === 'client' ? 0 : 1) +
    (t.inferred ? INFERRED : 0) +
    (STATE_INDEX.get(t.fromState) as number) * FROM +
    (STATE_INDEX.get(t.toState) as number) * TO +
    cause * CAUSE +
    (t.source + 1) * CODE_CAPTURE
  );
}

/** The parts of a code a reader replaying states needs, decoded in JS (state-intervals.ts). */
export function decodeTransitionCode(code: number): { server: boolean; inferred: boolean; toState: TcpState } {
  return {
    server: (code & 1) === 1,
    inferred: Math.floor(code / INFERRED) % 2 === 1,
    toState: ALL_STATES[Math.floor(code / TO) % (CAUSE / TO)],
  };
}

/** A state's name from its code (its index in ALL_STATES), in SQL. */
function stateName(code: string): string {
  return `CASE ${code} ${ALL_STATES.map((state, i) => `WHEN ${i} THEN '${state}'`).join(' ')} END`;
}

/** How an SQL dialect divides integers: SQLite's `/` on integers, DuckDB's `//`. */
export type IntegerDivision = '/' | '//';

/**
 * The SELECT that reads transition_rows as one column a fact, the causes joined in:
 * the `transitions` view in SQLite, and the Parquet export's table in DuckDB.
 */
export function transitionsSelect(div: IntegerDivision = '/'): string {
  return `SELECT t.id, t.flow_id,
  CASE t.code & 1 WHEN 0 THEN 'client' ELSE 'server' END AS endpoint,
  t.ts_ns, t.code ${div} ${CODE_CAPTURE} AS capture_id, t.frame,
  ${stateName(`t.code ${div} ${FROM} % ${TO / FROM}`)} AS from_state,
  ${stateName(`t.code ${div} ${TO} % ${CAUSE / TO}`)} AS to_state,
  c.text AS cause, c.event AS event, t.code ${div} ${INFERRED} % 2 AS inferred
FROM transition_rows t LEFT JOIN causes c ON c.code = ${causeOfSql('t.code', div)}`;
}

/** The view that reads transition_rows as one column a fact. */
export const TRANSITIONS_VIEW = `CREATE VIEW transitions AS\n${transitionsSelect()};`;

/** SQL: `code` with its cause code `from` replaced by `to` (merge renumbers the causes of each shard). */
export function recodedCauseSql(code: string, from: string, to: string): string {
  return `${code} + (${to} - ${from}) * ${CAUSE}`;
}

/** SQL: the cause code (causes.code) inside `code`. */
export function causeOfSql(code: string, div: IntegerDivision = '/'): string {
  return `${code} ${div} ${CAUSE} % ${CODE_CAPTURE / CAUSE}`;
}
