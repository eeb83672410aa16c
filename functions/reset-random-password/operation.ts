/**
 * Huawei IAM "Resetting a Random Password for a User" (seed 002) in rekey's verbs: the path's
 * `project_id` is the realm, `notification_type` names the channels, and Huawei's status
 * list (it has no 409) decides how a user whose password rekey may not set is refused.
 */
import { ConflictError, InvalidInputError } from '#core/errors.ts';
import type { AdminPrincipal } from '#core/model.ts';
import type { NotificationChannel, UseCaseDeps } from '#core/ports.ts';
import { issuePassword } from '#core/use-cases/issue-password.ts';
import { realmAs } from '#http/wire.ts';

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

/** The reasons of the Conflict the core answers for a password it may not set (SSO logon, federation). */
const UNSETTABLE = new Set(['SSOEnabled', 'Federated']);

/**
 * Resets the user's password to a generated temporary one (any lock-out is lifted) and
 * notifies the user. Every refusal (403, 404, 400: a federated user, a realm with SSO logon,
 * a channel without an address) comes before anything is generated or written. A
 * notification that fails after the switch is a 503 that says the reset happened and where
 * the password is.
 */
export async function resetRandomPassword(
  deps: UseCaseDeps,
  admin: AdminPrincipal,
  input: RandomPasswordInput,
): Promise<RandomPasswordResult> {
  try {
    const issued = await realmAs({ noun: 'project' }, () =>
      issuePassword(
        deps,
        admin,
        {
          realmId: input.projectId,
          userId: input.userId,
          requestId: input.requestId,
          notify: { channels: input.channels, field: CHANNEL_FIELD },
        },
        'random password reset',
      ),
    );
    return { passwordSecretId: issued.secretId, expiresAt: issued.expiresAt };
  } catch (error) {
    throw asHuaweiStatus(error);
  }
}

/**
 * Huawei's status list has no 409, so a federated user or a realm with SSO logon is a 400
 * here (the request asks for something this user cannot have), with the same message and
 * reason as everywhere else (a ticket still reads `Conflict.Federated` / `Conflict.SSOEnabled`).
 * Any other Conflict (a concurrent update of the user) stays what it is.
 */
function asHuaweiStatus(error: unknown): unknown {
  if (error instanceof ConflictError && error.reason !== undefined && UNSETTABLE.has(error.reason)) {
    const refused = new InvalidInputError(error.message, { reason: error.reason, cause: error });
    refused.subject = error.subject;
    return refused;
  }
  return error;
}
