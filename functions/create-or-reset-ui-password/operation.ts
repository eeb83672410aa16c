/**
 * Oracle IAM "Create or Reset UI Password" (seed 000) in rekey's verbs: a one-time password
 * the user must change at next sign-in, kept in the vault and answered with the secret's id.
 * The path names no tenancy: the realm is the token's own.
 */
import type { AdminPrincipal } from '#core/model.ts';
import type { UseCaseDeps } from '#core/ports.ts';
import { issuePassword } from '#core/use-cases/issue-password.ts';

export interface UiPasswordResult {
  userId: string;
  timeCreated: string;
  lifecycleState: 'ACTIVE';
  passwordSecretId: string;
  timeExpires: string;
  /** The user record's new version, sent as the `etag` header. */
  etag: string;
}

/**
 * Creates or resets the user's temporary UI password. Any lock-out is lifted. A federated
 * user or a realm with SSO logon is refused before anything is written.
 */
export async function createOrResetUiPassword(
  deps: UseCaseDeps,
  admin: AdminPrincipal,
  input: { userId: string; requestId: string },
): Promise<UiPasswordResult> {
  const issued = await issuePassword(
    deps,
    admin,
    { realmId: admin.realmId, userId: input.userId, requestId: input.requestId },
    'temporary UI password issued',
  );
  return {
    userId: issued.userId,
    timeCreated: issued.timeCreated,
    // The secret is stored before the credential switches, so by now it is usable.
    lifecycleState: 'ACTIVE',
    passwordSecretId: issued.secretId,
    timeExpires: issued.expiresAt,
    etag: String(issued.version),
  };
}
