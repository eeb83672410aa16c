/**
 * Puts a ticketing system's request on the rekey bus as a `PasswordResetRequested` event from
 * its connector (`rekey.connector.{id}`), for the ticket worker behind the bus's rule.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DETAIL_TYPES } from '#functions/contracts.ts';
import { putOneEvent } from './eventbridge-publisher.ts';

export class TicketRequestBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  /** Rejects (Unavailable or Throttled) when the bus did not take the event. */
  put(source: string, detail: Record<string, unknown>): Promise<void> {
    return putOneEvent(
      this.client,
      {
        Source: source,
        DetailType: DETAIL_TYPES.requested,
        Detail: JSON.stringify(detail),
        EventBusName: this.busName,
      },
      () => 'The event bus refused the request; retry later.',
    );
  }
}
