// The library's public face: what a test suite or a tool needs, and nothing of the
// pipeline's insides (the tracker, the decoder, the readers), so that those can change
// without a new major version. README.md, "As a library", lists it; test/library.test.ts
// holds the list of values and fails when one is added or removed without it.

// Analyse captures: in memory, or into a database.
export {
  analyze,
  analyzeCapture,
  analyzeToDatabase,
  type Analysis,
  type AnalyzeOptions,
  type AnalyzeCaptureOptions,
  type AnalyzeToDatabaseOptions,
  type DatabaseAnalysis,
  type CaptureAnalysis,
  type CaptureSummary,
  type AnalysisProgress,
} from './analyze.js';
export { DEFAULT_TIME_WAIT_SECONDS, DEFAULT_HALF_OPEN_LIMIT, type TrackerStats } from './track/tracker.js';
export { type DecodeStats, type IssueCount } from './decode/decode-stats.js';
export { ExitCode, FlowstateError, UsageError } from './errors.js';
export { CaptureFormatError } from './capture/capture-format-error.js';

// What an analysis holds.
export {
  Role,
  CloseKind,
  Severity,
  type FlowRecord,
  type EndpointSummary,
  type TransitionRecord,
  type FindingRecord,
  type TrackerOutput,
  type TransitionEvent,
} from './track/records.js';
export { CollectedOutput } from './track/collect-output.js';
export { TcpState, ALL_STATES } from './tcp/tcp-state.js';
export { EndpointEvent } from './tcp/endpoint-event.js';
export { TRANSITIONS, type TransitionRule } from './tcp/transition-table.js';
export {
  FINDINGS,
  FINDING_KINDS,
  DEFAULT_THRESHOLDS,
  type FindingKind,
  type FindingDefinition,
  type DetectorThresholds,
} from './track/finding-catalogue.js';
export { ZeekConnState, ZEEK_CONN_STATE_MEANING, ZEEK_HISTORY_LETTERS } from './track/zeek-conn.js';
export { TUNNELS, type TunnelKind } from './decode/tunnels.js';
export { formatEndpoint } from './decode/format-address.js';

// Read a database, as the commands do.
export {
  DatabaseReader,
  isSqliteFile,
  NotAFlowstateDatabaseError,
  type FlowRow,
  type TransitionRow,
  type FindingRow,
  type CaptureRow,
} from './store/database-reader.js';
export { SCHEMA_VERSION } from './store/schema.js';
export { netstatAt, type NetstatEntry, type NetstatQuery } from './store/netstat-query.js';
export { stateTimeline, statesPresent, type StateTimeline, type GroupTimeline, type TimelineGroup } from './report/state-timeline.js';
export { hostProfiles, hostProfilesOfDatabase, type HostProfile, type HostSetting, type Certainty } from './host-profiles.js';
export { zeekConnLogTsv, zeekConnLogJsonLines, zeekUid, type ZeekConnLogRecord } from './report/zeek-conn-log.js';

// Captures too large for one run (docs/scale.md).
export { shardOf, parseShard, type Shard } from './track/shard.js';
export { mergeShards, type MergeResult } from './store/merge.js';
export { exportParquet, type ParquetExport } from './store/parquet-export.js';
export { queryParquet, type QueryRows, type QueryValue } from './store/parquet-query.js';
