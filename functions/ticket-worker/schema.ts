/**
 * What the ticket worker reads and writes: the EventBridge event in an SQS message body, the
 * `PasswordResetRequested` detail (strict, built from the HTTP routes' own pieces), and the
 * result events it puts back.
 */
import * as z from 'zod/mini';
import { InvalidInputError } from '#core/errors.ts';
import { TICKET_OPERATIONS, type Ticket } from '#core/tickets.ts';
import { resourceId, retryToken } from '#functions/create-or-reset-ui-password/schema.ts';
import { channelsOf, notificationType } from '#functions/reset-random-password/schema.ts';
import { alibabaBoolean } from '#functions/reset-user-password/schema.ts';
import { assertPlainJson } from '#http/json.ts';
import { parseInput } from '#http/request.ts';

export const TICKET_DETAIL_TYPE = 'PasswordResetRequested';

/** The least a message must be to get a result: an EventBridge event with a string ticket id. */
export const ticketEnvelope = z.looseObject({
  source: z.string(),
  'detail-type': z.string(),
  detail: z.looseObject({ ticketId: z.string() }),
});

export type TicketEnvelope = z.infer<typeof ticketEnvelope>;

/** Fields every ticket has. `ticketId` is an idempotency key, like `opc-retry-token`. */
const common = { ticketId: retryToken, realmId: resourceId, userId: resourceId };

/** The strict detail of each operation: any other field, a password above all, is refused. */
export const ticketDetails = {
  CreateOrResetUIPassword: z.strictObject({
    ...common,
    operation: z.literal('CreateOrResetUIPassword'),
    notificationType: z.optional(notificationType),
  }),
  ResetRandomPassword: z.strictObject({
    ...common,
    operation: z.literal('ResetRandomPassword'),
    notificationType: z.optional(notificationType),
  }),
  ResetUserPassword: z.strictObject({
    ...common,
    operation: z.literal('ResetUserPassword'),
    requirePasswordResetForNextLogin: z.optional(alibabaBoolean),
  }),
} as const;

const operationOnly = z.looseObject({ operation: z.enum(TICKET_OPERATIONS) });

/** Every field some operation has (`requirePasswordResetForNextLogin` is not a password). */
const KNOWN_FIELDS: ReadonlySet<string> = new Set(
  Object.values(ticketDetails).flatMap((schema) => Object.keys(schema.shape)),
);

/** The envelope of a message body, or undefined when the message is poison. */
export function readEnvelope(body: string): TicketEnvelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = ticketEnvelope.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The ticket in a message whose envelope was read. Throws an InvalidInputError about the
 * first offending field (its message names a field only when the operation defines it, and
 * never a value): a password-ish field, the event type, the operation, an unknown field,
 * then the operation's own fields.
 */
export function parseTicket(body: string, envelope: TicketEnvelope): Ticket {
  // Duplicate and prototype-pollution keys: refused, as in HTTP bodies.
  assertPlainJson(body);
  const { detail } = envelope;
  const passwordField = Object.keys(detail).find((key) => /pass/i.test(key) && !KNOWN_FIELDS.has(key));
  if (passwordField !== undefined) {
    throw new InvalidInputError(
      // The field is not named in the message: a refusal never repeats the caller's text.
      'A ticket cannot set a password: rekey generates it. Remove the password field.',
      // Nor in the code: the caller's field name is not repeated anywhere (code …Password).
      { reason: 'Password' },
    );
  }
  if (envelope['detail-type'] !== TICKET_DETAIL_TYPE) {
    throw new InvalidInputError(`The event's detail-type must be ${TICKET_DETAIL_TYPE}.`, {
      field: 'detail-type',
      reason: 'InvalidParameter',
    });
  }
  const { operation } = parseInput(operationOnly, detail);
  const schema = ticketDetails[operation];
  const unknown = Object.keys(detail).find((key) => !Object.hasOwn(schema.shape, key));
  if (unknown !== undefined) {
    // A field rekey's tickets define (of another operation) may be named; any other name is
    // the caller's text and is not repeated, in the message or the code (…UnknownField).
    throw new InvalidInputError(
      `The ticket has a field that ${operation} does not define.`,
      KNOWN_FIELDS.has(unknown) ? { field: unknown, reason: 'InvalidParameter' } : { reason: 'UnknownField' },
    );
  }
  const parsed = parseInput(schema, detail);
  return {
    source: envelope.source,
    ticketId: parsed.ticketId,
    operation,
    realmId: parsed.realmId,
    userId: parsed.userId,
    channels: 'notificationType' in parsed ? channelsOf(parsed.notificationType) : [],
    requireResetAtNextLogin:
      'requirePasswordResetForNextLogin' in parsed
        ? (parsed.requirePasswordResetForNextLogin ?? false)
        : false,
  };
}

/**
 * The fingerprint of a ticket: what a redelivery must repeat to count as the same ticket.
 * Normalised (channels in any order, `"True"` or `true`), and with the source, so that another
 * system reusing the ticket id is a conflict rather than someone else's result.
 */
export function ticketFingerprint(ticket: Ticket): string {
  return JSON.stringify([
    ticket.source,
    ticket.realmId,
    ticket.userId,
    ticket.operation,
    [...ticket.channels].sort(),
    ticket.requireResetAtNextLogin,
  ]);
}

/** The detail of `PasswordResetCompleted`, as the bus carries it. */
export const passwordResetCompleted = z.strictObject({
  ticketId: z.string(),
  operation: z.enum(TICKET_OPERATIONS),
  userId: z.string(),
  passwordSecretId: z.string(),
  expiresAt: z.iso.datetime(),
});

/** The detail of `PasswordResetFailed`, as the bus carries it. */
export const passwordResetFailed = z.strictObject({
  ticketId: z.string(),
  operation: z.optional(z.enum(TICKET_OPERATIONS)),
  code: z.string(),
  message: z.string(),
});
