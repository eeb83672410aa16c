/**
 * Tickets: password resets a ticketing system asks for on the event bus, and the result
 * events rekey puts back. Which failures a ticket hears about (a `PasswordResetFailed`
 * result) and which are retried by the queue is decided here, once for every operation.
 */

import { DETAIL_TYPES } from '../contracts.ts';
import { type ErrorKind, InvalidInputError, NotFoundError, RekeyError } from './errors.ts';
import type { NotificationChannel } from './ports.ts';

/** The operations a ticket may ask for: the three that generate a password. */
export const TICKET_OPERATIONS = [
  'CreateOrResetUIPassword',
  'ResetRandomPassword',
  'ResetUserPassword',
] as const;

export type TicketOperation = (typeof TICKET_OPERATIONS)[number];

/** A validated `PasswordResetRequested` event. It never carries a password. */
export interface Ticket {
  /** The event's `source`, e.g. `ticketing.servicenow`: the ticket acts as `ticket:<source>`. */
  source: string;
  ticketId: string;
  operation: TicketOperation;
  /** The realm the ticket acts in, as an admin's token would. */
  realmId: string;
  userId: string;
  /** Where the user is told the new password (CreateOrResetUIPassword, ResetRandomPassword). */
  channels: readonly NotificationChannel[];
  /** ResetUserPassword: the new credential must be changed at next sign-in. */
  requireResetAtNextLogin: boolean;
}

export interface PasswordResetCompleted {
  ticketId: string;
  operation: TicketOperation;
  userId: string;
  /** The ARN of the secret that holds the new password. */
  passwordSecretId: string;
  /** When that secret (and a temporary credential) expires. */
  expiresAt: string;
  /** The channels the user was told the password through (`email`, `email,phone`), or `none`. */
  notified: string;
  /** The connector the ticket came through (the intake), for its reply rule. */
  connectorId?: string;
  /** A repeated request's answer (the first one's result): see `repeated` on TicketResult's details. */
  repeated?: true;
  /**
   * Where the user chooses their own password (the end user's page, prefilled), for the
   * ticket's note; present only when a page is configured. Never a password.
   */
  passwordPageUrl?: string;
}

export interface PasswordResetFailed {
  ticketId: string;
  /** Absent when the ticket named no valid operation. */
  operation?: TicketOperation;
  /** A stable name: see `failureCode`. */
  code: string;
  /** For people; never holds a password. */
  message: string;
  /** The connector the ticket came through (the intake), for its reply rule. */
  connectorId?: string;
  /**
   * The answer to a repeated request for a ticket already answered: the first result again,
   * nothing run. It carries no `connectorId`, so no connector's reply rule posts it on the
   * ticket a second time (a rule that fires on every update would loop on rekey's own note).
   */
  repeated?: true;
}

/** The event rekey puts back on the bus for one ticket. */
export type TicketResult =
  | { detailType: typeof DETAIL_TYPES.completed; detail: PasswordResetCompleted }
  | { detailType: typeof DETAIL_TYPES.failed; detail: PasswordResetFailed };

/** The first result, for a repeated request: marked, and without a connector to post it. */
export function asRepeated(result: TicketResult): TicketResult {
  if (result.detailType === DETAIL_TYPES.completed) {
    const { connectorId: _, ...detail } = result.detail;
    return { detailType: result.detailType, detail: { ...detail, repeated: true } };
  }
  const { connectorId: _, ...detail } = result.detail;
  return { detailType: result.detailType, detail: { ...detail, repeated: true } };
}

/** Puts result events on the bus (EventBridge in AWS, the local bus in `npm start`). */
export interface ResultPublisher {
  /** Rejects when the bus did not take the event: the ticket is then retried. */
  publish(result: TicketResult): Promise<void>;
}

/** Refusals of a ticket's shape that name no field: their reason is the code's detail. */
const TICKET_REASONS: ReadonlySet<string> = new Set(['Password', 'UnknownField']);

/** A field name fit for a code: a plain identifier; anything else is left out. */
const CODE_FIELD = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * The stable code of a refusal, `<Kind>.<Detail>`:
 * `InvalidParameter.<field>` (the offending field a ticket defines, e.g. `InvalidParameter.userId`;
 * `InvalidParameter.Password` for a password field, `InvalidParameter.UnknownField` for a field
 * no ticket defines: the caller's own names are never repeated),
 * `NotFound.User` / `NotFound.Realm`, `Conflict.Federated` (whichever operation refused it),
 * `Conflict.SSOEnabled`, `Conflict.TicketReuse` (same ticket and operation, different detail),
 * `Unavailable.NotificationFailed` (reset done, password in the vault, not delivered),
 * `Unavailable.RetriesExhausted` / `Throttled.RetriesExhausted` (every delivery failed; the
 * message went to the dead-letter queue; an attempt whose outcome was unknown may still have
 * reset the password, so a new ticket is the way to a password somebody holds).
 */
export function failureCode(error: RekeyError): string {
  // A federated user or SSO logon is a conflict for a ticket, whatever kind of error carries it.
  if (error.reason === 'Federated') return 'Conflict.Federated';
  if (error.reason === 'SSOEnabled') return 'Conflict.SSOEnabled';
  if (error instanceof InvalidInputError) {
    // The ticket path names the ticket's own fields (its schema, its channel check): no translation.
    const { field } = error;
    if (field !== undefined && CODE_FIELD.test(field)) return `InvalidParameter.${field}`;
    // A fixed word when no field a ticket defines is at fault (a password field, an unknown one).
    return error.reason && TICKET_REASONS.has(error.reason)
      ? `InvalidParameter.${error.reason}`
      : 'InvalidParameter';
  }
  if (error instanceof NotFoundError) return `NotFound.${error.entity}`;
  const reason = error.reason === 'RetryTokenReuse' ? 'TicketReuse' : error.reason;
  return reason ? `${error.kind}.${reason}` : error.kind;
}

/** Failures the queue should retry (and dead-letter in the end) rather than report. */
const RETRIED_KINDS: ReadonlySet<ErrorKind> = new Set(['Unavailable', 'Throttled']);
const RETRIED_CONFLICTS: ReadonlySet<string> = new Set(['RequestInProgress']);

/**
 * Whether `error` is a refusal the ticket should hear about, rather than a failure to retry.
 * Retried: a dependency down or throttled, a concurrent delivery of the same ticket, and
 * anything unexpected. Reported: every other RekeyError; a notification that failed after the
 * reset (retrying would reset the password again); and a reset that lost its write to another
 * request's change of the user (`ConcurrentUpdate`: the core already made the write again where
 * only sign-in bookkeeping had moved, so what is left is another reset, which a second run
 * would undo, deleting the secret its caller was given).
 */
export function isRefusal(error: unknown): error is RekeyError {
  if (!(error instanceof RekeyError)) return false;
  if (error.reason === 'NotificationFailed') return true;
  if (RETRIED_KINDS.has(error.kind)) return false;
  return !(error.kind === 'Conflict' && error.reason !== undefined && RETRIED_CONFLICTS.has(error.reason));
}

/** The `PasswordResetFailed` result of a refusal. */
export function failedResult(
  ticketId: string,
  error: RekeyError,
  operation: TicketOperation | undefined,
): TicketResult {
  return {
    detailType: DETAIL_TYPES.failed,
    detail: {
      ticketId,
      ...(operation ? { operation } : {}),
      code: failureCode(error),
      message: noteSafe(error.message),
    },
  };
}

/**
 * A message a connector's note can carry as it is: EventBridge's input transformer puts a
 * result's fields into the note's JSON body without escaping them, so a quote or a backslash
 * would break the body (the ticketing system refuses it, and the note is dead-lettered). Quotes
 * become apostrophes, a backslash a slash, control characters a space.
 */
export function noteSafe(text: string): string {
  return (
    text
      .replaceAll('"', "'")
      .replaceAll('\\', '/')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
  );
}

/** The `PasswordResetCompleted` result of a reset. */
export function completedResult(
  ticket: Ticket,
  issued: {
    passwordSecretId: string;
    expiresAt: string;
    notified: readonly string[];
    passwordPageUrl?: string;
  },
): TicketResult {
  return {
    detailType: DETAIL_TYPES.completed,
    detail: {
      ticketId: ticket.ticketId,
      operation: ticket.operation,
      userId: ticket.userId,
      passwordSecretId: issued.passwordSecretId,
      expiresAt: issued.expiresAt,
      notified: issued.notified.length > 0 ? issued.notified.join(',') : 'none',
      ...(issued.passwordPageUrl ? { passwordPageUrl: issued.passwordPageUrl } : {}),
    },
  };
}

/** Receives before a ticketing message is dead-lettered: the queue's redrive policy, in AWS and locally. */
export const TICKET_MAX_RECEIVE_COUNT = 3;
