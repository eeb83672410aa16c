/**
 * What the ticket worker reads and writes: the EventBridge event in an SQS message body, the
 * `PasswordResetRequested` detail (strict, with the ticket's own field rules) and the result
 * events it puts back.
 *
 * The ticket is a contract of its own: no rule here comes from an HTTP operation's schema, so
 * changing a vendor dialect (OCI's retry token, Huawei's `notification_type`, Alibaba's
 * booleans) cannot change what a ticket accepts. Only the id rule shared by every rekey id
 * (`idText`: what a table key, a secret name and a log line can hold) is imported.
 */
import * as z from 'zod/mini';
import { InvalidInputError } from '#core/errors.ts';
import type { NotificationChannel } from '#core/ports.ts';
import { TICKET_OPERATIONS, type Ticket, type TicketOperation } from '#core/tickets.ts';
import { DETAIL_TYPES } from '#functions/contracts.ts';
import { ticketIdText } from '#functions/ticketing/ticket-id.ts';
import { booleanWord } from '#http/boolean-word.ts';
import { assertPlainJson } from '#http/json.ts';
import { parseInput } from '#http/request.ts';
import { idText } from '#http/text.ts';

export const TICKET_DETAIL_TYPE = DETAIL_TYPES.requested;

/** Printable ASCII without spaces: what an event's source may hold. */
const PRINTABLE_NO_SPACE = /^[\x21-\x7e]+$/;

/**
 * The least a message must be to get a result: an EventBridge event with a ticket id that is
 * one (a result repeats it, and it goes into log lines and audit records) and a printable
 * source (it names the actor). Any other message is poison: it is answered nowhere, so no
 * text of it is repeated anywhere, and it reaches the dead-letter queue and its alarm.
 */
export const ticketEnvelope = z.looseObject({
  source: z.string().check(z.minLength(1), z.maxLength(256), z.regex(PRINTABLE_NO_SPACE)),
  'detail-type': z.string(),
  detail: z.looseObject({ ticketId: ticketIdText }),
});

export type TicketEnvelope = z.infer<typeof ticketEnvelope>;

/** A realm or user id, as every rekey id: safe in a table key, a secret name and a log line. */
const ticketResourceId = idText(255);

/** Where the user is told the new password: `email`, `phone` or both, each once. */
export const ticketChannels = z.string().check(
  z.regex(/^(email|phone)(,(email|phone))?$/, 'must be "email", "phone" or "email,phone"'),
  z.refine((value) => new Set(value.split(',')).size === value.split(',').length, 'names a channel twice'),
);

/** A flag: a JSON boolean, or `True`/`False` (`true`/`false`) as ticketing systems often send it. */
export const ticketFlag = booleanWord;

/** The operations a ticket may ask for. */
const ticketOperation = z.enum(TICKET_OPERATIONS);

/**
 * Every field a ticket may have, each with its rule: one strict schema for the three operations
 * (a schema is built at every cold start: docs/decisions.md, "Cold start, ninth pass"). Which of
 * them an operation takes is TICKET_FIELDS's, checked before this schema runs; any other field,
 * a password above all, is refused.
 */
export const ticketDetail = z.strictObject({
  ticketId: ticketIdText,
  realmId: ticketResourceId,
  userId: ticketResourceId,
  operation: ticketOperation,
  notificationType: z.optional(ticketChannels),
  requirePasswordResetForNextLogin: z.optional(ticketFlag),
});

type TicketField = keyof typeof ticketDetail.shape;

const COMMON_FIELDS: TicketField[] = ['ticketId', 'realmId', 'userId', 'operation'];

/** The fields each operation takes: the common ones, and its own. */
const TICKET_FIELDS: Readonly<Record<TicketOperation, ReadonlySet<TicketField>>> = {
  CreateOrResetUIPassword: new Set([...COMMON_FIELDS, 'notificationType']),
  ResetRandomPassword: new Set([...COMMON_FIELDS, 'notificationType']),
  ResetUserPassword: new Set([...COMMON_FIELDS, 'requirePasswordResetForNextLogin']),
};

const operationOnly = z.looseObject({ operation: ticketOperation });

/** Every field some operation has (`requirePasswordResetForNextLogin` is not a password). */
const KNOWN_FIELDS: ReadonlySet<string> = new Set(Object.keys(ticketDetail.shape));

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
  const fields: ReadonlySet<string> = TICKET_FIELDS[operation];
  const unknown = Object.keys(detail).find((key) => !fields.has(key));
  if (unknown !== undefined) {
    // A field rekey's tickets define (of another operation) may be named; any other name is
    // the caller's text and is not repeated, in the message or the code (…UnknownField).
    throw new InvalidInputError(
      `The ticket has a field that ${operation} does not define.`,
      KNOWN_FIELDS.has(unknown) ? { field: unknown, reason: 'InvalidParameter' } : { reason: 'UnknownField' },
    );
  }
  const parsed = parseInput(ticketDetail, detail);
  return {
    source: envelope.source,
    ticketId: parsed.ticketId,
    operation,
    realmId: parsed.realmId,
    userId: parsed.userId,
    channels: channelsOf(parsed.notificationType),
    requireResetAtNextLogin: parsed.requirePasswordResetForNextLogin ?? false,
  };
}

/** The channels a valid `notificationType` names, in its order; none when it is absent. */
function channelsOf(value: string | undefined): NotificationChannel[] {
  return value === undefined ? [] : (value.split(',') as NotificationChannel[]);
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
