/**
 * The ResultPublisher on EventBridge (or anything that speaks its API, like the local bus):
 * one `PutEvents` entry per result, with source `rekey` on the rekey bus.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { RekeyError, ThrottledError, UnavailableError } from '#core/errors.ts';
import type { ResultPublisher, TicketResult } from '#core/tickets.ts';
import { serviceFailure } from './service-errors.ts';

/** The bus tickets arrive on and results go back to, unless REKEY_EVENT_BUS_NAME says otherwise. */
export const DEFAULT_EVENT_BUS_NAME = 'rekey';

/** The `source` of every event rekey puts on the bus. */
export const RESULT_SOURCE = 'rekey';

export class EventBridgeResultPublisher implements ResultPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string = DEFAULT_EVENT_BUS_NAME,
  ) {}

  async publish(result: TicketResult): Promise<void> {
    try {
      const out = await this.client.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: RESULT_SOURCE,
              DetailType: result.detailType,
              Detail: JSON.stringify(result.detail),
              EventBusName: this.busName,
            },
          ],
        }),
      );
      // PutEvents answers 200 even when it drops an entry: the count says so.
      if ((out.FailedEntryCount ?? 0) > 0) {
        if (out.Entries?.[0]?.ErrorCode === 'ThrottlingException') {
          throw new ThrottledError('The event bus is receiving too many requests; retry later.');
        }
        throw new UnavailableError(
          `The event bus refused the result event (${out.Entries?.[0]?.ErrorCode ?? 'unknown error'}).`,
        );
      }
    } catch (error) {
      if (error instanceof RekeyError) throw error;
      throw serviceFailure('event bus', error);
    }
  }
}
