/**
 * Alibaba CloudSSO "ResetUserPassword" (seed 003): an admin sets a password it chose, or has
 * rekey generate one. A generated password goes to the vault and only its secret's id comes
 * back; a given one is hashed and nothing is stored in the vault.
 */
import {
  actedBy,
  assertPasswordSettable,
  issueTemporaryPassword,
  loadUserForAdmin,
  setGivenPassword,
} from '../credentials.ts';
import { ForbiddenError, InvalidInputError } from '../errors.ts';
import type { AdminPrincipal, Credential, CredentialKind, Realm } from '../model.ts';
import { checkPassword, type PasswordPolicy, POLICY_PRESETS, resolvePolicy } from '../policy.ts';
import type { CoreDeps } from '../ports.ts';

/** The seed's rules for a given `Password`: 8–32 with upper, lower, digit and special. */
export const CLOUDSSO_PASSWORD_POLICY: PasswordPolicy = POLICY_PRESETS['alibaba-cloudsso'];

/** Either the admin's own password, or "generate one". */
export type NewPasswordChoice = { generate: true } | { generate: false; password: string };

export interface ResetUserPasswordInput {
  directoryId: string;
  userId: string;
  newPassword: NewPasswordChoice;
  /** `RequirePasswordResetForNextLogin`: the new credential is TEMPORARY. */
  requireResetAtNextLogin: boolean;
  requestId: string;
}

/** What the response may say: never the password, at most where it is kept. */
export type ResetUserPasswordResult =
  | { generated: true; secretId: string; secretExpiresAt: string }
  | { generated: false };

/**
 * Resets a CloudSSO user's password. Every refusal happens before anything is written:
 * another directory (403), a password the seed or the realm refuses (400), an unknown user
 * (404), a directory with SSO logon enabled or a federated user (409).
 */
export async function resetUserPassword(
  deps: CoreDeps,
  admin: AdminPrincipal,
  input: ResetUserPasswordInput,
): Promise<ResetUserPasswordResult> {
  if (input.directoryId !== admin.realmId) {
    throw new ForbiddenError('The token does not grant access to this directory.', {
      reason: 'Directory',
    });
  }
  const { newPassword } = input;
  if (!newPassword.generate) assertAcceptable(CLOUDSSO_PASSWORD_POLICY, newPassword.password);
  const { user, realm } = await loadUserForAdmin(deps, admin, input.userId);
  // SSO logon, then a federated user: before the realm's policy is even looked at.
  assertPasswordSettable(user, realm);
  const kind: CredentialKind = input.requireResetAtNextLogin ? 'TEMPORARY' : 'PERMANENT';

  if (newPassword.generate) {
    const issued = await issueTemporaryPassword(deps, user, realm, input.requestId, { kind });
    deps.log.info('CloudSSO password generated', {
      ...actedBy(admin, input.requestId),
      userId: user.userId,
      kind,
      secretId: issued.secretId,
    });
    return { generated: true, secretId: issued.secretId, secretExpiresAt: issued.expiresAt };
  }

  // The realm's policy is the directory's rule for every password, whichever dialect sets it.
  assertAcceptable(resolvePolicy(realm.policy), newPassword.password, user.username);
  const credential = await givenCredential(deps, realm, newPassword.password, kind);
  await setGivenPassword(deps, user, realm, credential);
  deps.log.info('CloudSSO password set', { ...actedBy(admin, input.requestId), userId: user.userId, kind });
  return { generated: false };
}

/** Refuses a password that breaks `policy`, naming the parameter and the rule only. */
function assertAcceptable(policy: PasswordPolicy, password: string, username?: string): void {
  const violation = checkPassword(policy, password, username === undefined ? {} : { username });
  if (violation) {
    throw new InvalidInputError(`Parameter Password ${violation.message} (policy ${policy.name}).`, {
      reason: 'Password',
      field: 'Password',
    });
  }
}

/**
 * The credential for an admin-given password. No secret: the admin already holds it. A
 * TEMPORARY one expires after the realm's temporary-password lifetime, like a generated one.
 */
async function givenCredential(
  deps: Pick<CoreDeps, 'hasher' | 'clock'>,
  realm: Realm,
  password: string,
  kind: CredentialKind,
): Promise<Credential> {
  const hash = await deps.hasher.hash(password);
  const now = deps.clock.now();
  const setAt = now.toISOString();
  if (kind === 'PERMANENT') return { hash, kind, setAt };
  const expiresAt = new Date(now.getTime() + realm.temporaryPasswordLifetimeSeconds * 1000).toISOString();
  return { hash, kind, setAt, expiresAt };
}
