/**
 * Puts a ticketing system's request on the rekey bus as a `PasswordResetRequested` event from
 * its connector (`rekey.connector.{id}`), for the ticket worker behind the bus's rule.
 */
import { DETAIL_TYPES } from '#functions/contracts.ts';
import { type EventBridgeApi, putOneEvent } from './eventbridge-publisher.ts';

export class TicketRequestBus {
  constructor(
    private readonly bus: EventBridgeApi,
    private readonly busName: string,
  ) {}

  /** Rejects (Unavailable or Throttled) when the bus did not take the event. */
  put(source: string, detail: Record<string, unknown>): Promise<void> {
    return putOneEvent(
      this.bus,
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
