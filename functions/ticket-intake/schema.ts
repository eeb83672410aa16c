/**
 * rekey's intake body, the one every ticketing system's template produces (docs/ticketing.md):
 * `{"ticketId", "operation", "user", "notificationType"}`. Strict: any other field is refused,
 * a password field first and without naming it. The ticket id's rule is in
 * functions/ticketing/ticket-id.ts beside the worker's (narrower: it becomes a reply URL's
 * path segment); the others are written here again because an operation
 * folder imports no other: the intake's contract is the systems' templates, not the worker's event.
 */
import * as z from 'zod/mini';
import { InvalidInputError } from '#core/errors.ts';
import { TICKET_OPERATIONS, type TicketOperation } from '#core/tickets.ts';
import { connectorTicketIdText } from '#functions/ticketing/ticket-id.ts';
import { type HttpEvent, jsonBody, parseInput } from '#http/request.ts';
import { nameText } from '#http/text.ts';

/** `email`, `phone` or `email,phone`. */
const channels = z.string().check(
  z.regex(/^(email|phone)(,(email|phone))?$/, 'must be "email", "phone" or "email,phone"'),
  z.refine((value) => new Set(value.split(',')).size === value.split(',').length, 'names a channel twice'),
);

export const intakeBody = z.strictObject({
  ticketId: connectorTicketIdText,
  operation: z.enum(TICKET_OPERATIONS),
  /** A user id, a username or an e-mail address, in the connector's realm. */
  user: nameText(255),
  notificationType: z.optional(channels),
});

export interface IntakeRequest {
  ticketId: string;
  operation: TicketOperation;
  user: string;
  notificationType?: string;
}

/**
 * The intake request of `event`; an InvalidInputError (naming only rekey's fields) otherwise.
 * The body must be `application/json`, as each system's template sends it.
 */
export function parseIntake(event: HttpEvent): IntakeRequest {
  const value = jsonBody(event);
  if (value === undefined) {
    throw new InvalidInputError('The request has no body: send the intake JSON.', { reason: 'MissingBody' });
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    if (Object.keys(value).some((name) => /pass|pwd/i.test(name))) {
      // Not named: a refusal never repeats the caller's text.
      throw new InvalidInputError(
        'A ticket cannot carry a password: rekey generates it. Remove the password field from the template.',
        { reason: 'Password' },
      );
    }
  }
  const parsed = parseInput(intakeBody, value);
  if (parsed.operation === 'ResetUserPassword' && parsed.notificationType !== undefined) {
    throw new InvalidInputError(
      'ResetUserPassword notifies no one: remove notificationType (the password is in Secrets Manager).',
      { field: 'notificationType', reason: 'InvalidParameter' },
    );
  }
  return {
    ticketId: parsed.ticketId,
    operation: parsed.operation,
    user: parsed.user,
    ...(parsed.notificationType !== undefined ? { notificationType: parsed.notificationType } : {}),
  };
}
