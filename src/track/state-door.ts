import { EVENT_CAUSE, EVENT_INDEX, EVENT_ORDER, type EndpointEvent } from '../tcp/endpoint-event.js';
import { TcpState } from '../tcp/tcp-state.js';
import { transitionAt } from '../tcp/transition-table.js';
import { type CaptureTime, later } from './capture-time.js';
import { type StatefulEndpoint, type StatefulFlow, isTimed } from './flow.js';
import { CloseKind } from './records.js';
import type { RecordsOut } from './records-out.js';
import type { TimeWaitQueue } from './time-wait-queue.js';

/**
 * The state door: the only code that assigns an endpoint's state. It looks the
 * event up in the transition table, records the transition (or, for an event
 * unexpected in that state, a finding), times the stays detectors judge, notes
 * who closed first, and starts TIME_WAIT's 2×MSL clock. It works through one
 * endpoint handle, whether the flow is live or retired.
 */
export class StateDoor {
  constructor(
    private readonly records: RecordsOut,
    private readonly timeWaits: TimeWaitQueue,
    private readonly timeWaitNs: number,
  ) {}

  /** Applies the events of `mask` (EventBit), in EVENT_ORDER. */
  applyMask(
    flow: StatefulFlow,
    endpoint: StatefulEndpoint,
    mask: number,
    source: number,
    frame: number | null,
    time: CaptureTime,
    inferred: boolean,
    cause?: string,
  ): void {
    for (let rest = mask; rest !== 0; rest &= rest - 1) {
      this.applyAt(flow, endpoint, 31 - Math.clz32(rest & -rest), source, frame, time, inferred, cause);
    }
  }

  apply(
    flow: StatefulFlow,
    endpoint: StatefulEndpoint,
    event: EndpointEvent,
    source: number,
    frame: number | null,
    time: CaptureTime,
    inferred: boolean,
    cause?: string,
  ): void {
    this.applyAt(flow, endpoint, EVENT_INDEX[event], source, frame, time, inferred, cause);
  }

  private applyAt(
    flow: StatefulFlow,
    endpoint: StatefulEndpoint,
    eventIndex: number,
    source: number,
    frame: number | null,
    time: CaptureTime,
    inferred: boolean,
    cause: string | undefined,
  ): void {
    const from = endpoint.state;
    const rule = transitionAt(from, eventIndex);
    const event = EVENT_ORDER[eventIndex];
    if (rule === undefined) {
      if (frame !== null) {
        this.records.finding(
          'unexpected-segment',
          flow,
          endpoint.role,
          source,
          frame,
          time,
          `${endpoint.ip}:${endpoint.port} in ${from}: ${EVENT_CAUSE[event]} is unexpected there; its state is kept`,
          { state: from, event: EVENT_CAUSE[event] },
        );
      }
      return;
    }
    const to = rule.to;
    if (to === from) return;
    const visits = endpoint.visits;
    if (visits !== null) {
      if (isTimed(from)) visits.endLast(time);
      if (isTimed(to)) visits.start(to, time, source, frame ?? 0);
    }
    endpoint.state = to;
    endpoint.stateSince = time;
    const unconfirmed = inferred || rule.unconfirmable === true;
    endpoint.stateInferred = unconfirmed;
    if (flow.closedFirstBy === null && (event === 'SEND_FIN' || event === 'SEND_RST') && from !== TcpState.UNKNOWN) {
      flow.closedFirstBy = endpoint.role;
      flow.closeKind = event === 'SEND_FIN' ? CloseKind.FIN : CloseKind.RST;
    }
    this.records.transition(
      flow.id,
      endpoint.role,
      from,
      to,
      source,
      frame,
      time,
      event,
      cause ?? rule.cause ?? EVENT_CAUSE[event],
      unconfirmed,
    );
    if (to === TcpState.TIME_WAIT) this.timeWaits.add(flow.slot, flow.id, endpoint.role, time, later(time, this.timeWaitNs));
  }
}
