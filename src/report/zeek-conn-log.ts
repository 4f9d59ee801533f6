/**
 * Flows as Zeek's conn.log, in its two usual encodings: the tab-separated
 * ASCII log with its `#` header, and JSON lines (LogAscii::use_json). Pure:
 * returns strings. The columns are those of Zeek's Conn::Info up to
 * `tunnel_parents` (Zeek 7.1 and later append `ip_proto`; we do not).
 */
import { createHash } from 'node:crypto';
import type { FlowRow } from '../store/database-reader.js';

/**
 * One conn.log line. Nulls are unset fields ('-' in TSV, omitted in JSON).
 * Zeek leaves duration, orig_bytes and resp_bytes unset together when the
 * duration is zero; the caller decides that, we print what we are given.
 */
export interface ZeekConnLogRecord {
  /** Time of the first packet, ns since the Unix epoch. */
  tsNs: bigint;
  uid: string;
  origH: string;
  origP: number;
  respH: string;
  respP: number;
  durationNs: bigint | null;
  origBytes: number | null;
  respBytes: number | null;
  connState: string;
  localOrig: boolean | null;
  localResp: boolean | null;
  missedBytes: number;
  /** Empty means unset, as in Zeek. */
  history: string;
  origPkts: number;
  origIpBytes: number;
  respPkts: number;
  respIpBytes: number;
  /** Comma-separated confirmed protocols; null, undefined or '' is unset. */
  service?: string | null;
}

const FIELDS = [
  'ts',
  'uid',
  'id.orig_h',
  'id.orig_p',
  'id.resp_h',
  'id.resp_p',
  'proto',
  'service',
  'duration',
  'orig_bytes',
  'resp_bytes',
  'conn_state',
  'local_orig',
  'local_resp',
  'missed_bytes',
  'history',
  'orig_pkts',
  'orig_ip_bytes',
  'resp_pkts',
  'resp_ip_bytes',
  'tunnel_parents',
] as const;

const TYPES = [
  'time',
  'string',
  'addr',
  'port',
  'addr',
  'port',
  'enum',
  'string',
  'interval',
  'count',
  'count',
  'string',
  'bool',
  'bool',
  'count',
  'string',
  'count',
  'count',
  'count',
  'count',
  'set[string]',
] as const;

const UNSET = '-';
const EMPTY = '(empty)';
const NS_PER_SECOND = 1_000_000_000n;

/**
 * Zeek's ASCII conn.log: header, one line per record, `#close`. Zeek stamps
 * #open/#close in local time; we use UTC so output does not depend on the
 * machine. `closedAt` defaults to `openedAt`.
 */
export function zeekConnLogTsv(records: Iterable<ZeekConnLogRecord>, openedAt: Date, closedAt: Date = openedAt): string {
  let out =
    '#separator \\x09\n' +
    '#set_separator\t,\n' +
    `#empty_field\t${EMPTY}\n` +
    `#unset_field\t${UNSET}\n` +
    '#path\tconn\n' +
    `#open\t${logStamp(openedAt)}\n` +
    `#fields\t${FIELDS.join('\t')}\n` +
    `#types\t${TYPES.join('\t')}\n`;
  for (const r of records) {
    const cells = [
      secondsFixed6(r.tsNs),
      tsvString(r.uid),
      tsvString(r.origH),
      String(r.origP),
      tsvString(r.respH),
      String(r.respP),
      'tcp',
      r.service ? tsvString(r.service) : UNSET,
      r.durationNs === null ? UNSET : secondsFixed6(r.durationNs),
      r.origBytes === null ? UNSET : String(r.origBytes),
      r.respBytes === null ? UNSET : String(r.respBytes),
      tsvString(r.connState),
      tsvBool(r.localOrig),
      tsvBool(r.localResp),
      String(r.missedBytes),
      r.history === '' ? UNSET : tsvString(r.history),
      String(r.origPkts),
      String(r.origIpBytes),
      String(r.respPkts),
      String(r.respIpBytes),
      UNSET, // tunnel_parents: Zeek's uid of the tunnel's own connection; flowstate keeps the tunnel in the flow's columns, not as a connection
    ];
    out += `${cells.join('\t')}\n`;
  }
  return `${out}#close\t${logStamp(closedAt)}\n`;
}

/** Zeek's JSON log lines: one object per record, unset fields left out, times as seconds. */
export function zeekConnLogJsonLines(records: Iterable<ZeekConnLogRecord>): string {
  let out = '';
  for (const r of records) {
    let line = `{"ts":${jsonSeconds(r.tsNs)},"uid":${JSON.stringify(r.uid)}`;
    line += `,"id.orig_h":${JSON.stringify(r.origH)},"id.orig_p":${r.origP}`;
    line += `,"id.resp_h":${JSON.stringify(r.respH)},"id.resp_p":${r.respP},"proto":"tcp"`;
    if (r.service) line += `,"service":${JSON.stringify(r.service)}`;
    if (r.durationNs !== null) line += `,"duration":${jsonSeconds(r.durationNs)}`;
    if (r.origBytes !== null) line += `,"orig_bytes":${r.origBytes}`;
    if (r.respBytes !== null) line += `,"resp_bytes":${r.respBytes}`;
    line += `,"conn_state":${JSON.stringify(r.connState)}`;
    if (r.localOrig !== null) line += `,"local_orig":${r.localOrig}`;
    if (r.localResp !== null) line += `,"local_resp":${r.localResp}`;
    line += `,"missed_bytes":${r.missedBytes}`;
    if (r.history !== '') line += `,"history":${JSON.stringify(r.history)}`;
    line += `,"orig_pkts":${r.origPkts},"orig_ip_bytes":${r.origIpBytes}`;
    line += `,"resp_pkts":${r.respPkts},"resp_ip_bytes":${r.respIpBytes}}`;
    out += `${line}\n`;
  }
  return out;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A Zeek-looking uid ('C' + 17 base62 characters) from the flow id: a hash,
 * so the same flow gets the same uid on every run, and a different `salt`
 * (say, the capture's name) keeps uids apart across captures. Zeek's own
 * uids are random per run, so they never match ours.
 */
export function zeekUid(flowId: number, salt = 'flowstate'): string {
  const digest = createHash('sha256').update(`${salt}\u0000${flowId}`).digest();
  // 128 bits give 17 evenly spread base62 digits (62^17 < 2^128).
  let value = digest.readBigUInt64BE(0) * 2n ** 64n + digest.readBigUInt64BE(8);
  let uid = 'C';
  for (let i = 0; i < 17; i++) {
    uid += BASE62[Number(value % 62n)];
    value /= 62n;
  }
  return uid;
}

/** Zeek's `%.6f` for time and interval columns, from exact nanoseconds (rounded half away from zero). */
function secondsFixed6(ns: bigint): string {
  const negative = ns < 0n;
  const micros = ((negative ? -ns : ns) + 500n) / 1000n;
  const whole = micros / 1_000_000n;
  const fraction = (micros % 1_000_000n).toString().padStart(6, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** A double of seconds as rapidjson writes it: shortest round-trip form, integers with '.0'. */
function jsonSeconds(ns: bigint): string {
  // Split first: a bigint of ns since 1970 does not fit a double exactly.
  const seconds = Number(ns / NS_PER_SECOND) + Number(ns % NS_PER_SECOND) / 1e9;
  const text = String(seconds);
  return Number.isInteger(seconds) && !text.includes('e') ? `${text}.0` : text;
}

function tsvBool(value: boolean | null): string {
  return value === null ? UNSET : value ? 'T' : 'F';
}

/**
 * A string cell as Zeek writes it: '(empty)' for '', the reserved words
 * escaped on their first character, and separators and control characters
 * as \xNN so a cell never breaks the line.
 */
function tsvString(value: string): string {
  if (value === '') return EMPTY;
  if (value === UNSET || value === EMPTY) return `\\x${value.charCodeAt(0).toString(16)}${value.slice(1)}`;
  // eslint-disable-next-line no-control-regex -- control characters are what this escapes
  return value.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Zeek's #open/#close stamp, YYYY-MM-DD-HH-MM-SS (UTC here). */
function logStamp(at: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${at.getUTCFullYear()}-${two(at.getUTCMonth() + 1)}-${two(at.getUTCDate())}-` +
    `${two(at.getUTCHours())}-${two(at.getUTCMinutes())}-${two(at.getUTCSeconds())}`
  );
}

/** A flow as a conn.log record: our client is Zeek's originator (history carries '^' when Zeek would have flipped). */
export function flowToZeek(flow: FlowRow): ZeekConnLogRecord {
  const duration = flow.last_ns - flow.first_ns;
  // Zeek leaves duration and byte counts unset for a connection that lasted no time.
  const lasted = duration > 0n;
  return {
    tsNs: flow.first_ns,
    uid: zeekUid(flow.id),
    origH: flow.client_ip,
    origP: flow.client_port,
    respH: flow.server_ip,
    respP: flow.server_port,
    durationNs: lasted ? duration : null,
    origBytes: lasted ? flow.zeek_orig_bytes : null,
    respBytes: lasted ? flow.zeek_resp_bytes : null,
    connState: flow.conn_state ?? 'OTH',
    localOrig: null,
    localResp: null,
    missedBytes: flow.zeek_missed_bytes ?? 0,
    history: flow.history ?? '',
    origPkts: flow.client_packets,
    origIpBytes: flow.client_ip_bytes,
    respPkts: flow.server_packets,
    respIpBytes: flow.server_ip_bytes,
  };
}
