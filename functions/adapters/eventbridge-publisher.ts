/**
 * The ResultPublisher on EventBridge (or anything that speaks its API, like the local bus):
 * one `PutEvents` entry per result, with source `rekey` on the rekey bus. `putOneEvent` is
 * the one put both this publisher and the ticket intake's request bus make.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { RekeyError, ThrottledError, UnavailableError } from '#core/errors.ts';
import type { ResultPublisher, TicketResult } from '#core/tickets.ts';
import { EVENT_BUS_NAME, RESULT_SOURCE } from '#functions/contracts.ts';
import { serviceFailure } from './service-errors.ts';

/** The bus and the source are contracts the operations stack's rule and bus share. */
export { EVENT_BUS_NAME as DEFAULT_EVENT_BUS_NAME, RESULT_SOURCE } from '#functions/contracts.ts';

/**
 * Puts one event. PutEvents answers 200 even when it drops an entry: the count says so, and a
 * dropped entry rejects as a dropped call does — Throttled for the bus's throttling, else
 * Unavailable, with `refused(errorCode)` as the message.
 */
export async function putOneEvent(
  client: EventBridgeClient,
  entry: PutEventsRequestEntry,
  refused: (errorCode: string | undefined) => string,
): Promise<void> {
  try {
    const out = await client.send(new PutEventsCommand({ Entries: [entry] }));
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
    private readonly client: EventBridgeClient,
    private readonly busName: string = EVENT_BUS_NAME,
  ) {}

  publish(result: TicketResult): Promise<void> {
    return putOneEvent(
      this.client,
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
