/**
 * Puts a ticketing system's request on the rekey bus as a `PasswordResetRequested` event from
 * its connector (`rekey.connector.{id}`), for the ticket worker behind the bus's rule.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { RekeyError, ThrottledError, UnavailableError } from '#core/errors.ts';
import { DETAIL_TYPES } from '#functions/contracts.ts';
import { serviceFailure } from './service-errors.ts';

export class TicketRequestBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  /** Rejects (Unavailable or Throttled) when the bus did not take the event. */
  async put(source: string, detail: Record<string, unknown>): Promise<void> {
    try {
      const out = await this.client.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: source,
              DetailType: DETAIL_TYPES.requested,
              Detail: JSON.stringify(detail),
              EventBusName: this.busName,
            },
          ],
        }),
      );
      if ((out.FailedEntryCount ?? 0) > 0) {
        if (out.Entries?.[0]?.ErrorCode === 'ThrottlingException') {
          throw new ThrottledError('The event bus is receiving too many requests; retry later.');
        }
        throw new UnavailableError('The event bus refused the request; retry later.');
      }
    } catch (error) {
      if (error instanceof RekeyError) throw error;
      throw serviceFailure('event bus', error);
    }
  }
}
