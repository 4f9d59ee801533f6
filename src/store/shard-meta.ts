import { AGGREGATE_PART_NAMES, type AggregateParts } from '../track/aggregates.js';
import type { DetectorThresholds } from '../track/finding-catalogue.js';
import type { Shard } from '../track/shard.js';
import type { ShardTracking } from '../track/tracker.js';

/** The `meta` key of a shard database: which shard, and what its merge needs (JSON). */
export const SHARD_META_KEY = 'shard';

interface ShardMetaJson {
  index: number;
  count: number;
  base_ns: string;
  span_ns: number;
  time_wait_ns: number;
  thresholds: DetectorThresholds;
  parts: AggregateParts;
}

/** A shard's meta value. */
export function shardMeta(shard: Shard & ShardTracking): string {
  const json: ShardMetaJson = {
    index: shard.index,
    count: shard.count,
    base_ns: String(shard.baseNs),
    span_ns: shard.spanNs,
    time_wait_ns: shard.timeWaitNs,
    thresholds: shard.thresholds,
    parts: shard.parts,
  };
  return JSON.stringify(json);
}

/** A shard's meta value read back; undefined when it is not one (written by another version, or damaged). */
export function readShardMeta(text: string): (Shard & ShardTracking) | undefined {
  let json: Partial<ShardMetaJson>;
  try {
    json = JSON.parse(text) as Partial<ShardMetaJson>;
  } catch {
    return undefined;
  }
  const { index, count, base_ns, span_ns, time_wait_ns, thresholds, parts } = json;
  if (
    typeof index !== 'number' ||
    typeof count !== 'number' ||
    typeof base_ns !== 'string' ||
    !/^-?\d+$/.test(base_ns) ||
    typeof span_ns !== 'number' ||
    typeof time_wait_ns !== 'number' ||
    typeof thresholds !== 'object' ||
    thresholds === null ||
    typeof parts !== 'object' ||
    parts === null ||
    !AGGREGATE_PART_NAMES.every((name) => Array.isArray((parts as unknown as Record<string, unknown>)[name]))
  )
    return undefined;
  return { index, count, baseNs: BigInt(base_ns), spanNs: span_ns, timeWaitNs: time_wait_ns, thresholds, parts };
}
