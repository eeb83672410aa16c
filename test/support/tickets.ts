/**
 * Ticketing systems' side of the local bus: put `PasswordResetRequested` events with the real
 * EventBridge client, as ServiceNow would, and wait until the worker has answered them all.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { createEventBridgeClient } from '#adapters/aws-clients.ts';
import { DETAIL_TYPES, EVENT_BUS_NAME } from '#functions/contracts.ts';
import type { TestApi } from './test-api.ts';

/** Puts one event per detail on the `rekey` bus; resolves once every ticket has a result or is dead-lettered. */
export async function putTickets(t: TestApi, details: Array<Record<string, unknown>>): Promise<void> {
  const client = createEventBridgeClient(t.api.clients);
  try {
    const out = await client.send(
      new PutEventsCommand({
        Entries: details.map((detail) => ({
          Source: 'ticketing.servicenow',
          DetailType: DETAIL_TYPES.requested,
          Detail: JSON.stringify(detail),
          EventBusName: EVENT_BUS_NAME,
        })),
      }),
    );
    if (out.FailedEntryCount) throw new Error(`the bus refused ${out.FailedEntryCount} of the events`);
  } finally {
    client.destroy();
  }
  await t.api.bus?.idle();
}
