import { ALL_STATES, STATE_INDEX, type TcpState } from '../tcp/tcp-state.js';
import type { Role, TransitionEvent } from '../track/records.js';

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

/** One column of the `transitions` view: its name, its SQL over transition_rows `t` and causes `c`, and (as a type) its value. */
interface ViewColumn<Name extends string, Value> {
  readonly name: Name;
  readonly sql: (div: IntegerDivision) => string;
  /** Only carries the value's type. */
  readonly value?: Value;
}
const column = <Name extends string, Value>(name: Name, sql: (div: IntegerDivision) => string): ViewColumn<Name, Value> => ({ name, sql });

/**
 * The `transitions` view's columns, declared once: the SELECT below and the reader's row type
 * (`TransitionRow`) both come from here, so a column cannot be selected in one and missing in the other.
 */
const TRANSITIONS_VIEW_COLUMNS = [
  /** In the order the transitions happened. */
  column<'id', number>('id', () => 't.id'),
  column<'flow_id', number>('flow_id', () => 't.flow_id'),
  column<'endpoint', Role>('endpoint', () => "CASE t.code & 1 WHEN 0 THEN 'client' ELSE 'server' END"),
  column<'ts_ns', bigint>('ts_ns', () => 't.ts_ns'),
  column<'capture_id', number>('capture_id', (div) => `t.code ${div} ${CODE_CAPTURE}`),
  column<'frame', number | null>('frame', () => 't.frame'),
  column<'from_state', TcpState>('from_state', (div) => stateName(`t.code ${div} ${FROM} % ${TO / FROM}`)),
  column<'to_state', TcpState>('to_state', (div) => stateName(`t.code ${div} ${TO} % ${CAUSE / TO}`)),
  column<'cause', string>('cause', () => 'c.text'),
  /** The stable code of the cause (`causes.event`): what scripts match on, where `cause` is words. */
  column<'event', string>('event', () => 'c.event'),
  column<'inferred', number>('inferred', (div) => `t.code ${div} ${INFERRED} % 2`),
] as const;

/** A row of the `transitions` view, as the reader returns it. */
export type TransitionRow = {
  [C in (typeof TRANSITIONS_VIEW_COLUMNS)[number] as C['name']]: C extends ViewColumn<string, infer Value> ? Value : never;
};

/**
 * The SELECT that reads transition_rows as one column a fact, the causes joined in:
 * the `transitions` view in SQLite, and the Parquet export's table in DuckDB.
 */
export function transitionsSelect(div: IntegerDivision = '/'): string {
  const columns = TRANSITIONS_VIEW_COLUMNS.map((c) =>
    c.sql(div) === `t.${c.name}` || c.sql(div) === `c.${c.name}` ? c.sql(div) : `${c.sql(div)} AS ${c.name}`,
  );
  return `SELECT ${columns.join(',\n  ')}
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
