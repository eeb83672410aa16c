/**
 * The ResultPublisher on EventBridge (or anything that speaks its API, like the local bus):
 * one `PutEvents` entry per result, with source `rekey` on the rekey bus.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { RekeyError, ThrottledError, UnavailableError } from '#core/errors.ts';
import type { ResultPublisher, TicketResult } from '#core/tickets.ts';
import { EVENT_BUS_NAME, RESULT_SOURCE } from '#functions/contracts.ts';
import { serviceFailure } from './service-errors.ts';

/** The bus and the source are contracts the operations stack's rule and bus share. */
export { EVENT_BUS_NAME as DEFAULT_EVENT_BUS_NAME, RESULT_SOURCE } from '#functions/contracts.ts';

export class EventBridgeResultPublisher implements ResultPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string = EVENT_BUS_NAME,
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
