/**
 * A ticket's password reset: the same use cases the HTTP routes run, with the ticket's realm
 * in the admin's place, and their outcome turned into the result event the ticket reads.
 */
import { actedBy, assertPasswordSettable, loadUserForAdmin } from '../credentials.ts';
import type { AdminPrincipal, Realm, TemporaryPasswordSecret, User } from '../model.ts';
import {
  type Recipient,
  recipientsFor,
  sendTemporaryPassword,
  undeliveredPasswordError,
} from '../notifications.ts';
import type { UseCaseDeps } from '../ports.ts';
import { completedResult, failedResult, isRefusal, type Ticket, type TicketResult } from '../tickets.ts';
import { createOrResetUiPassword } from './create-or-reset-ui-password.ts';
import { resetRandomPassword } from './reset-random-password.ts';
import { resetUserPassword } from './reset-user-password.ts';

/** Where a new password is and until when. */
interface Issued {
  passwordSecretId: string;
  expiresAt: string;
}

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
): Promise<TicketResult> {
  try {
    const issued = await reset(deps, ticket, requestId);
    deps.log.info('ticket password reset', {
      ...actedBy(ticketPrincipal(ticket), requestId),
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

/** The principal a ticket acts as: an admin of the ticket's realm, named after its source. */
export function ticketPrincipal(ticket: Pick<Ticket, 'source' | 'realmId'>): AdminPrincipal {
  return { subject: `ticket:${ticket.source}`, realmId: ticket.realmId };
}

async function reset(deps: UseCaseDeps, ticket: Ticket, requestId: string): Promise<Issued> {
  const admin = ticketPrincipal(ticket);
  switch (ticket.operation) {
    case 'CreateOrResetUIPassword':
      return uiPasswordWithNotification(deps, admin, ticket, requestId);
    case 'ResetRandomPassword':
      return resetRandomPassword(deps, admin, {
        projectId: ticket.realmId,
        userId: ticket.userId,
        channels: ticket.channels,
        requestId,
      });
    case 'ResetUserPassword': {
      const result = await resetUserPassword(deps, admin, {
        directoryId: ticket.realmId,
        userId: ticket.userId,
        // A ticket never dictates the password: always generated.
        newPassword: { generate: true },
        requireResetAtNextLogin: ticket.requireResetAtNextLogin,
        requestId,
      });
      if (!result.generated) throw new Error('a generated reset returned no secret');
      return { passwordSecretId: result.secretId, expiresAt: result.secretExpiresAt };
    }
  }
}

/**
 * The OCI operation has no notification of its own; a ticket may still ask for one (the
 * spec's own example does). The channels are checked before anything is written, the use
 * case runs unchanged, and the user is then told the password kept in the new secret.
 */
async function uiPasswordWithNotification(
  deps: UseCaseDeps,
  admin: AdminPrincipal,
  ticket: Ticket,
  requestId: string,
): Promise<Issued> {
  let recipients: Recipient[] = [];
  let user: User | undefined;
  if (ticket.channels.length > 0) {
    let realm: Realm;
    ({ user, realm } = await loadUserForAdmin(deps, admin, ticket.userId));
    // SSO logon and federation are refused before a channel is judged, as on every route.
    assertPasswordSettable(user, realm);
    recipients = recipientsFor(user, ticket.channels, 'notificationType');
  }
  const result = await createOrResetUiPassword(deps, admin, { userId: ticket.userId, requestId });
  if (user) await notifyFromVault(deps, recipients, user, result.passwordSecretId);
  return { passwordSecretId: result.passwordSecretId, expiresAt: result.timeExpires };
}

/**
 * Sends the password held in `secretId` to each recipient. Any failure here comes after the
 * reset: it is reported as NotificationFailed (naming the secret), never retried.
 */
async function notifyFromVault(
  deps: UseCaseDeps,
  recipients: readonly Recipient[],
  user: User,
  secretId: string,
): Promise<void> {
  let secret: TemporaryPasswordSecret;
  try {
    secret = JSON.parse(await deps.vault.read(secretId)) as TemporaryPasswordSecret;
  } catch (error) {
    // Only the error's name: a parse error would quote the secret's value.
    deps.log.warn('new secret not readable for notification', {
      userId: user.userId,
      secretId,
      error: error instanceof Error ? error.name : typeof error,
    });
    throw undeliveredPasswordError(
      user.userId,
      secretId,
      recipients.map((r) => r.channel),
    );
  }
  const { failed } = await sendTemporaryPassword(deps, recipients, user, secret.password, secret.expiresAt);
  if (failed.length > 0) throw undeliveredPasswordError(user.userId, secretId, failed);
}
