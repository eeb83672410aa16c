/**
 * Oracle IAM "Create or Reset UI Password" (seed 000): a one-time password the user must
 * change at next sign-in, kept in the vault and answered with the secret's id.
 */
import { actedBy, issueTemporaryPassword, loadUserForAdmin } from '../credentials.ts';
import type { AdminPrincipal } from '../model.ts';
import type { CoreDeps } from '../ports.ts';

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
 * user or a realm with SSO logon is refused (issueTemporaryPassword) before anything is written.
 */
export async function createOrResetUiPassword(
  deps: CoreDeps,
  admin: AdminPrincipal,
  input: { userId: string; requestId: string },
): Promise<UiPasswordResult> {
  const { user, realm } = await loadUserForAdmin(deps, admin, input.userId);
  const issued = await issueTemporaryPassword(deps, user, realm, input.requestId);
  deps.log.info('temporary UI password issued', {
    ...actedBy(admin, input.requestId),
    userId: user.userId,
    secretId: issued.secretId,
  });
  return {
    userId: user.userId,
    timeCreated: issued.timeCreated,
    // The secret is stored before the credential switches, so by now it is usable.
    lifecycleState: 'ACTIVE',
    passwordSecretId: issued.secretId,
    timeExpires: issued.expiresAt,
    etag: String(issued.user.version),
  };
}
