/**
 * The ResultPublisher on EventBridge (or anything that speaks its API, like the local bus):
 * one `PutEvents` entry per result, with source `rekey` on the rekey bus. `putOneEvent` is
 * the one put both this publisher and the ticket intake's request bus make.
 *
 * The functions call `PutEvents` (AWS JSON 1.1) through aws-call.ts rather than the SDK's
 * EventBridge client, whose module cost every cold start ~7 M instructions for this one
 * operation (docs/decisions.md, "Cold start, ninth pass"). The operator CLI, which creates and
 * describes buses too, keeps the SDK client.
 */
import type { PutEventsRequestEntry, PutEventsResponse } from '@aws-sdk/client-eventbridge';
import { RekeyError, ThrottledError, UnavailableError } from '#core/errors.ts';
import type { ResultPublisher, TicketResult } from '#core/tickets.ts';
import { EVENT_BUS_NAME, RESULT_SOURCE } from '#functions/contracts.ts';
import { createAwsCaller, EVENTBRIDGE } from './aws-call.ts';
import type { ClientOptions } from './aws-clients.ts';
import { serviceFailure } from './service-errors.ts';

/**
 * An entry as rekey puts it: without `Time` (EventBridge stamps the event), whose Date the
 * SDK would have sent as epoch seconds and JSON would not.
 */
export type EventEntry = Omit<PutEventsRequestEntry, 'Time'>;

/** The one EventBridge operation the functions call: PutEvents, up to ten entries. */
export interface EventBridgeApi {
  putEvents(entries: EventEntry[]): Promise<PutEventsResponse>;
}

/** PutEvents on the bus's service (the standard SDK environment's endpoint, or `options`). */
export function createEventBridge(options: ClientOptions = {}): EventBridgeApi {
  const caller = createAwsCaller(EVENTBRIDGE, options);
  return {
    async putEvents(entries) {
      return (await caller.json('AWSEvents.PutEvents', { Entries: entries })) as PutEventsResponse;
    },
  };
}

/** The bus and the source are contracts the operations stack's rule and bus share. */
export { EVENT_BUS_NAME as DEFAULT_EVENT_BUS_NAME, RESULT_SOURCE } from '#functions/contracts.ts';

/**
 * Puts one event. PutEvents answers 200 even when it drops an entry: the count says so, and a
 * dropped entry rejects as a dropped call does — Throttled for the bus's throttling, else
 * Unavailable, with `refused(errorCode)` as the message.
 */
export async function putOneEvent(
  bus: EventBridgeApi,
  entry: EventEntry,
  refused: (errorCode: string | undefined) => string,
): Promise<void> {
  try {
    const out = await bus.putEvents([entry]);
    if ((out.FailedEntryCount ?? 0) > 0) {
      const errorCode = out.Entries?.[0]?.ErrorCode;
      if (errorCode === 'ThrottlingException') {
        throw new ThrottledError('The event bus is receiving too many requests; retry later.');
      }
      throw new UnavailableError(refused(errorCode));
    }
  } catch (error) {
    if (error instanceof RekeyError) throw error;
    throw serviceFailure('event bus', error);
  }
}

export class EventBridgeResultPublisher implements ResultPublisher {
  constructor(
    private readonly bus: EventBridgeApi,
    private readonly busName: string = EVENT_BUS_NAME,
  ) {}

  publish(result: TicketResult): Promise<void> {
    return putOneEvent(
      this.bus,
      {
        Source: RESULT_SOURCE,
        DetailType: result.detailType,
        Detail: JSON.stringify(result.detail),
        EventBusName: this.busName,
      },
      (errorCode) => `The event bus refused the result event (${errorCode ?? 'unknown error'}).`,
    );
  }
}
