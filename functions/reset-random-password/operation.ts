/**
 * Huawei IAM "Resetting a Random Password for a User" (seed 002): a generated temporary
 * password, kept in the vault, sent to the user through the channels the admin names, and
 * answered with the secret's id instead of the password.
 */
import { actedBy, assertPasswordSettable, issueTemporaryPassword, loadUserForAdmin } from '../credentials.ts';
import { ForbiddenError, InvalidInputError, RekeyError } from '../errors.ts';
import type { AdminPrincipal, Realm, User } from '../model.ts';
import { recipientsFor, sendTemporaryPassword, undeliveredPasswordError } from '../notifications.ts';
import type { NotificationChannel, UseCaseDeps } from '../ports.ts';

export interface RandomPasswordInput {
  /** The Huawei `project_id`: the realm the admin must be acting in. */
  projectId: string;
  userId: string;
  /** Where to send the password; empty: the vault only. */
  channels: readonly NotificationChannel[];
  requestId: string;
}

export interface RandomPasswordResult {
  passwordSecretId: string;
  expiresAt: string;
}

/** The parameter named in the 400 of a channel the user has no address on. */
const CHANNEL_FIELD = 'notification_type';

/**
 * Resets the user's password to a generated temporary one (any lock-out is lifted) and
 * notifies the user. Every refusal (403, 404, 400: a federated user, a realm with SSO logon,
 * a channel without an address) comes before anything is generated or written. A notification that fails after the switch is a 503 that says the reset happened
 * and where the password is: the user's old password no longer works, the new one is safe in
 * the vault, and retrying simply resets again.
 */
export async function resetRandomPassword(
  deps: UseCaseDeps,
  admin: AdminPrincipal,
  input: RandomPasswordInput,
): Promise<RandomPasswordResult> {
  if (input.projectId !== admin.realmId) {
    throw new ForbiddenError('The token does not grant access to this project.');
  }
  const { user, realm } = await loadUserForAdmin(deps, admin, input.userId);
  refuseUnsettable(user, realm);
  const recipients = recipientsFor(user, input.channels, CHANNEL_FIELD);

  const issued = await issueTemporaryPassword(deps, user, realm, input.requestId);
  const { failed } = await sendTemporaryPassword(deps, recipients, user, issued.password, issued.expiresAt);
  deps.log.info('random password reset', {
    ...actedBy(admin, input.requestId),
    userId: user.userId,
    secretId: issued.secretId,
    notified: recipients.map((r) => r.channel).filter((c) => !failed.includes(c)),
  });
  if (failed.length > 0) throw undeliveredPasswordError(user.userId, issued.secretId, failed);
  return { passwordSecretId: issued.secretId, expiresAt: issued.expiresAt };
}

/**
 * Huawei's status list has no 409, so a federated user or a realm with SSO logon is a 400
 * here (the request asks for something this user cannot have), with the same message and
 * reason as everywhere else (a ticket still reads `Conflict.Federated` / `Conflict.SSOEnabled`).
 */
function refuseUnsettable(user: User, realm: Realm): void {
  try {
    assertPasswordSettable(user, realm);
  } catch (error) {
    if (!(error instanceof RekeyError)) throw error;
    throw new InvalidInputError(error.message, { reason: error.reason, cause: error });
  }
}
