/**
 * Issuing a generated password to a directory user: the verb behind every "reset to a
 * random password", whichever vendor's route or ticket asks. The password is generated under
 * the realm's policy, kept in the vault, put in place as the user's credential, and told to
 * the user through the channels the caller names, from memory (never read back). The caller
 * gets the secret's id, never the password.
 */
import { subjectOf } from '../authentication.ts';
import { actedBy, assertPasswordSettable, loadUserForAdmin } from '../credentials.ts';
import { aboutSubject } from '../errors.ts';
import type { AdminPrincipal, CredentialKind } from '../model.ts';
import { issueAndTell, recipientsFor, undeliveredPasswordError } from '../notifications.ts';
import type { NotificationChannel, UseCaseDeps } from '../ports.ts';
import { authorize } from './authorize.ts';

export interface IssuePasswordInput {
  /** The realm the request names; the principal must be acting in it. */
  realmId: string;
  userId: string;
  requestId: string;
  /**
   * The credential's kind. Unset: TEMPORARY. When set, the log line says which (an operation
   * that lets the caller choose records the choice).
   */
  kind?: CredentialKind;
  /**
   * Who to tell, when the caller asks for notifications: the channels (none: the vault
   * only) and the parameter a channel refusal names, in the caller's words. Unset: nobody is
   * told and the log line has no `notified`.
   */
  notify?: { channels: readonly NotificationChannel[]; field: string };
}

export interface IssuedPassword {
  userId: string;
  secretId: string;
  timeCreated: string;
  expiresAt: string;
  /** The user record's new version. */
  version: number;
}

/**
 * Issues the password. Every refusal comes before anything is generated or written: another
 * realm (Forbidden), an unknown user or one of another realm (NotFound), a realm with SSO
 * logon or a federated user (Conflict), a channel the user has no address on (InvalidInput).
 * A notification that fails after the switch is an Unavailable error that says the reset
 * happened and where the password is: the old password no longer works, the new one is safe
 * in the vault, and retrying simply issues another. `logAs` is the log line's message.
 */
export async function issuePassword(
  deps: UseCaseDeps,
  admin: AdminPrincipal,
  input: IssuePasswordInput,
  logAs: string,
): Promise<IssuedPassword> {
  authorize(admin, input.realmId);
  const { user, realm } = await loadUserForAdmin(deps, admin, input.userId);
  // From here on, a refusal or failure names the user the directory found (the audit trail).
  return aboutSubject(subjectOf(user), async () => {
    // SSO logon, then a federated user: before a channel is even looked at.
    assertPasswordSettable(user, realm);
    const recipients = input.notify ? recipientsFor(user, input.notify.channels, input.notify.field) : [];

    const { issued, failed } = await issueAndTell(
      deps,
      { user, realm, recipients },
      input.requestId,
      input.kind ? { kind: input.kind } : {},
    );
    deps.log.info(logAs, {
      ...actedBy(admin, input.requestId),
      userId: user.userId,
      ...(input.kind ? { kind: input.kind } : {}),
      secretId: issued.secretId,
      ...(input.notify
        ? { notified: recipients.map((r) => r.channel).filter((c) => !failed.includes(c)) }
        : {}),
    });
    if (failed.length > 0) throw undeliveredPasswordError(user.userId, issued.secretId, failed);
    return {
      userId: user.userId,
      secretId: issued.secretId,
      timeCreated: issued.timeCreated,
      expiresAt: issued.expiresAt,
      version: issued.user.version,
    };
  });
}
