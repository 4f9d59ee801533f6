/**
 * What each host's TCP stack was set to (issue 32): a separate reading of the
 * captures with a light observer on every segment, so that analyze's hot path
 * does not pay for it. Part of the composition root beside replay.ts.
 */
import { analyzeCapture } from './analyze.js';
import { replayCapture } from './replay.js';
import type { DatabaseReader } from './store/database-reader.js';
import { HostObserver } from './track/host-observer.js';
import { type HostProfile, inferHostProfiles } from './track/host-settings.js';
import type { TrackerOutput } from './track/records.js';

export type { Certainty, HostProfile, HostSetting, OsGuess, SettingEvidence, SynAnnouncement } from './track/host-settings.js';

const discard: TrackerOutput = { transition: () => undefined, finding: () => undefined, flow: () => undefined };

/** Profiles of the hosts in a database's captures (read again), or why they cannot be read. */
export async function hostProfilesOfDatabase(reader: DatabaseReader): Promise<HostProfile[] | string> {
  const observer = new HostObserver();
  const last = reader.span().last_ns ?? 0n;
  const unreadable = await replayCapture(reader, last, {
    onSegment: (flowId, fromClient, segment, frame) => observer.segment(flowId, fromClient, segment, frame),
  });
  if (unreadable !== undefined) return unreadable;
  // The capture may go on past its last TCP segment: the last frame of any kind counts.
  return inferHostProfiles(observer.facts(), Math.max(observer.captureEnd, Number(last) / 1e9));
}

/** Profiles of the hosts in captures read directly (several files read as one, as analyze does). */
export async function hostProfiles(paths: readonly string[], stdin?: NodeJS.ReadableStream): Promise<HostProfile[]> {
  const observer = new HostObserver();
  await analyzeCapture(paths, discard, {
    stdin,
    onSegment: (flowId, fromClient, segment, frame) => observer.segment(flowId, fromClient, segment, frame),
  });
  return inferHostProfiles(observer.facts(), observer.captureEnd);
}
