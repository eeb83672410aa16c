/**
 * A ticket's password reset, in the ticket's own words: the ticket names a realm, a user and
 * the channels to notify, and the core verbs run with exactly that — no admin principal, no
 * HTTP dialect's field names. One flow serves the three operations a ticket may ask for;
 * they differ only in the credential's kind.
 */
import { type actedBy, assertPasswordSettable, loadUserInRealm } from '../credentials.ts';
import type { CredentialKind } from '../model.ts';
import { issueAndTell, recipientsFor, undeliveredPasswordError } from '../notifications.ts';
import type { UseCaseDeps } from '../ports.ts';
import {
  completedResult,
  failedResult,
  isRefusal,
  type Ticket,
  type TicketOperation,
  type TicketResult,
} from '../tickets.ts';

/** The ticket field a channel refusal names (a channel the user has no address on). */
const CHANNEL_FIELD = 'notificationType';

/**
 * The message of the reset's own log line for each operation, in the caller's words (the
 * ticket worker words them as the operations' routes do, so an operator's search for one kind
 * of reset finds it whoever asked).
 */
export type ResetLines = Readonly<Record<TicketOperation, string>>;

/**
 * Resets the ticket's user and returns the result event to publish. A refusal (validation,
 * unknown user, federated user, SSO...) is a `PasswordResetFailed` result; a failure worth
 * retrying (a dependency down) is thrown, so the queue delivers the ticket again.
 * `requestId` must be fresh per attempt: it names the new secret.
 */
export async function handleTicket(
  deps: UseCaseDeps,
  ticket: Ticket,
  requestId: string,
  resetLines: ResetLines,
): Promise<TicketResult> {
  try {
    const issued = await resetForTicket(deps, ticket, requestId, resetLines);
    deps.log.info('ticket password reset', {
      ...ticketActedBy(ticket, requestId),
      ticketId: ticket.ticketId,
      operation: ticket.operation,
      userId: ticket.userId,
      secretId: issued.passwordSecretId,
    });
    return completedResult(ticket, issued);
  } catch (error) {
    if (!isRefusal(error)) throw error;
    return failedResult(ticket.ticketId, error, ticket.operation);
  }
}

/**
 * Who acted, where and in which attempt, in the fields every mutation's log line carries
 * (see `actedBy`): a ticket acts as `ticket:<source>` in the realm it names.
 */
export function ticketActedBy(
  ticket: Pick<Ticket, 'source' | 'realmId'>,
  requestId: string,
): ReturnType<typeof actedBy> {
  return { actor: `ticket:${ticket.source}`, realmId: ticket.realmId, requestId };
}

/** The credential a ticket's operation leaves: TEMPORARY, unless a CloudSSO ticket asks otherwise. */
export function ticketCredentialKind(
  ticket: Pick<Ticket, 'operation' | 'requireResetAtNextLogin'>,
): CredentialKind {
  return ticket.operation === 'ResetUserPassword' && !ticket.requireResetAtNextLogin
    ? 'PERMANENT'
    : 'TEMPORARY';
}

/**
 * One load of the user in the ticket's realm; SSO logon and federation refused before a
 * channel is judged; every channel checked before anything is written; then a generated
 * password (the realm's policy) into the vault and the credential, and the user told that
 * same password, held in memory — never read back from the vault. A notification that
 * fails after the reset is reported as NotificationFailed (naming the secret), never retried:
 * a retry would reset the password again.
 */
async function resetForTicket(
  deps: UseCaseDeps,
  ticket: Ticket,
  requestId: string,
  resetLines: ResetLines,
): Promise<{ passwordSecretId: string; expiresAt: string; notified: string[]; passwordPageUrl?: string }> {
  const { user, realm } = await loadUserInRealm(deps, ticket.realmId, ticket.userId);
  assertPasswordSettable(user, realm);
  const recipients = recipientsFor(user, ticket.channels, CHANNEL_FIELD);
  const kind = ticketCredentialKind(ticket);

  const { issued, link, failed } = await issueAndTell(deps, { user, realm, recipients }, requestId, { kind });
  const notified = recipients.map((r) => r.channel).filter((c) => !failed.includes(c));
  deps.log.info(resetLines[ticket.operation], {
    ...ticketActedBy(ticket, requestId),
    userId: user.userId,
    kind,
    secretId: issued.secretId,
    notified,
  });
  if (failed.length > 0) throw undeliveredPasswordError(user.userId, issued.secretId, failed);
  return {
    passwordSecretId: issued.secretId,
    expiresAt: issued.expiresAt,
    notified,
    ...(link ? { passwordPageUrl: link } : {}),
  };
}
