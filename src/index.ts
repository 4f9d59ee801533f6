// The library's public face: re-exports only.
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
export { ExitCode, FlowstateError, UsageError } from './errors.js';
export { hostProfiles, hostProfilesOfDatabase, type HostProfile, type HostSetting, type Certainty } from './host-profiles.js';
export {
  DatabaseReader,
  isSqliteFile,
  NotAFlowstateDatabaseError,
  type FlowRow,
  type TransitionRow,
  type FindingRow,
  type CaptureRow,
} from './store/database-reader.js';
export { netstatAt, type NetstatEntry, type NetstatQuery } from './store/netstat-query.js';
export { stateTimeline, statesPresent, type StateTimeline, type GroupTimeline, type TimelineGroup } from './report/state-timeline.js';
export { SCHEMA_VERSION } from './store/schema.js';
export { mergeShards, type MergeResult } from './store/merge.js';
export { exportParquet, type ParquetExport } from './store/parquet-export.js';
export { queryParquet, type QueryRows, type QueryValue } from './store/parquet-query.js';
export { shardOf, parseShard, type Shard } from './track/shard.js';
export { Tracker, type TrackerOptions, type TrackerStats, DEFAULT_TIME_WAIT_SECONDS, DEFAULT_HALF_OPEN_LIMIT } from './track/tracker.js';
export { CollectedOutput } from './track/collect-output.js';
export {
  FINDINGS,
  FINDING_KINDS,
  DEFAULT_THRESHOLDS,
  type FindingKind,
  type FindingDefinition,
  type DetectorThresholds,
} from './track/finding-catalogue.js';
export {
  Role,
  CloseKind,
  Severity,
  type FlowRecord,
  type EndpointSummary,
  type TransitionRecord,
  type TransitionEvent,
  toTransitionRecord,
  type FindingRecord,
  type TrackerOutput,
} from './track/records.js';
export { ZeekConnObserver, ZeekConnState, ZEEK_CONN_STATE_MEANING, ZEEK_HISTORY_LETTERS } from './track/zeek-conn.js';
export { TcpState, ALL_STATES, SYNCHRONIZED } from './tcp/tcp-state.js';
export { EndpointEvent } from './tcp/endpoint-event.js';
export { TRANSITIONS, transition, type TransitionRule } from './tcp/transition-table.js';
export { CapturedFrame, frameTimeNs } from './capture/captured-frame.js';
export { CaptureFormatError } from './capture/capture-format-error.js';
export { CaptureFormat, type CaptureWarning, type FrameReader } from './capture/frame-reader.js';
export { openCapture } from './capture/open-capture.js';
export { forEachFrame } from './capture/frame-stream.js';
export { PacketDecoder, type PacketDecoderOptions } from './decode/packet-decoder.js';
export { DecodeIssue, DecodeStats, type IssueCount } from './decode/decode-stats.js';
export { TcpFlag, TcpSegment } from './decode/tcp-segment.js';
export { LinkType, linkTypeName } from './decode/link-types.js';
export { formatEndpoint, formatIpv4, formatIpv6 } from './decode/format-address.js';
export { zeekConnLogTsv, zeekConnLogJsonLines, zeekUid, type ZeekConnLogRecord } from './report/zeek-conn-log.js';
