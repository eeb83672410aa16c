/**
 * The OpenAPI contract of `POST /tickets/{connectorId}` (the ticket intake, issue 12), from the
 * schema its handler validates with. A new path or method on this row needs an entry here:
 * test/unit/openapi.test.ts fails until it has one.
 */
import * as z from 'zod/mini';
import { rekeyDialect } from '#dialects/rekey.ts';
import { jsonBody, jsonSchema, type OperationContract, operation } from '#http/openapi.ts';
import { intakeBody } from './schema.ts';

const accepted = z.strictObject({ accepted: z.literal(true), requestId: z.string() });

export const contract: OperationContract = {
  'POST /tickets/{connectorId}': operation(rekeyDialect, {
    operationId: 'TicketIntake',
    summary: 'A ticketing system asks for a password reset (Zendesk, Jira Service Management, ServiceNow)',
    description:
      "Public: the sender proves itself with its connector's inbound secret — Zendesk's " +
      '`X-Zendesk-Webhook-Signature` (base64 HMAC-SHA256 of the timestamp and the body) with ' +
      '`X-Zendesk-Webhook-Signature-Timestamp` at most 5 minutes off, or, for Jira and ServiceNow, ' +
      '`X-Rekey-Connector-Secret`. The request goes on the bus for the ticket worker and is answered at ' +
      'once; the outcome comes back on the ticket (docs/ticketing.md). A body carrying a password is refused.',
    auth: 'public',
    parameters: [
      {
        name: 'connectorId',
        in: 'path',
        required: true,
        description: 'The connector (`rekey connector create --id`).',
        schema: { type: 'string' },
      },
    ],
    requestBody: jsonBody(
      jsonSchema(intakeBody),
      "rekey's intake body, as each system's template writes it.",
      true,
    ),
    success: {
      status: 202,
      description: 'Queued for the ticket worker.',
      body: jsonSchema(accepted, 'output'),
    },
    errors: [400, 401, 404, 429, 500, 503],
  }),
};
