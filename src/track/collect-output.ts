import {
  type FindingRecord,
  type FlowRecord,
  type FlowUpdate,
  type TrackerOutput,
  type TransitionEvent,
  type TransitionRecord,
  toTransitionRecord,
} from './records.js';

/** A TrackerOutput that keeps everything in memory: for the library API and tests. */
export class CollectedOutput implements TrackerOutput {
  readonly flows: FlowRecord[] = [];
  readonly transitions: TransitionRecord[] = [];
  readonly findings: FindingRecord[] = [];
  transition(event: TransitionEvent): void {
    this.transitions.push(toTransitionRecord(event));
  }
  finding(record: FindingRecord): void {
    this.findings.push(record);
  }
  private readonly byId = new Map<number, FlowRecord>();
  flow(record: FlowRecord): void {
    this.flows.push(record);
    this.byId.set(record.id, record);
  }
  flowUpdate(u: FlowUpdate): void {
    const record = this.byId.get(u.id);
    if (record === undefined) return;
    record.client.state = u.clientState;
    record.server.state = u.serverState;
    record.client.stateInferred = u.clientStateInferred;
    record.server.stateInferred = u.serverStateInferred;
    record.client.packets += u.clientPacketsAfter;
    record.server.packets += u.serverPacketsAfter;
    record.client.bytes += u.clientBytesAfter;
    record.server.bytes += u.serverBytesAfter;
    record.lastNs = u.lastNs;
    record.lastSource = u.lastSource;
    record.lastFrame = u.lastFrame;
  }
}
