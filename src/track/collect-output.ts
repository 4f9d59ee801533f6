import type { FindingRecord, FlowRecord, TrackerOutput, TransitionRecord } from './records.js';

/** A TrackerOutput that keeps everything in memory: for the library API and tests. */
export class CollectedOutput implements TrackerOutput {
  readonly flows: FlowRecord[] = [];
  readonly transitions: TransitionRecord[] = [];
  readonly findings: FindingRecord[] = [];
  transition(record: TransitionRecord): void {
    this.transitions.push(record);
  }
  finding(record: FindingRecord): void {
    this.findings.push(record);
  }
  flow(record: FlowRecord): void {
    this.flows.push(record);
  }
}
