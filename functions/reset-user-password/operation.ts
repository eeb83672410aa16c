/**
 * Alibaba CloudSSO "ResetUserPassword" (seed 003) in rekey's verbs: `DirectoryId` is the
 * realm; a generated password is `issuePassword` (to the vault, only its secret's id comes
 * back), a given one is `setPassword` under the seed's rule besides the realm's (hashed,
 * nothing stored in the vault). Refusals take CloudSSO's codes here.
 */
import { InvalidInputError } from '#core/errors.ts';
import type { AdminPrincipal, CredentialKind } from '#core/model.ts';
import { type PasswordPolicy, POLICY_PRESETS } from '#core/policy.ts';
import type { UseCaseDeps } from '#core/ports.ts';
import { issuePassword } from '#core/use-cases/issue-password.ts';
import { PASSWORD_POLICY_REFUSED, setPassword } from '#core/use-cases/set-password.ts';
import { realmAs } from '#http/wire.ts';

/** The seed's rules for a given `Password`: 8–32 with upper, lower, digit and special. */
export const CLOUDSSO_PASSWORD_POLICY: PasswordPolicy = POLICY_PRESETS['alibaba-cloudsso'];

/** Either the admin's own password, or "generate one". */
export type NewPasswordChoice = { generate: true } | { generate: false; password: string };

export interface ResetUserPasswordInput {
  /** `DirectoryId`: the realm the admin must be acting in. */
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
 * another directory (403 NoPermission.Directory), a password the seed or the realm refuses
 * (400 InvalidParameter.Password), an unknown user (404), a directory with SSO logon enabled
 * or a federated user (409).
 */
export async function resetUserPassword(
  deps: UseCaseDeps,
  admin: AdminPrincipal,
  input: ResetUserPasswordInput,
): Promise<ResetUserPasswordResult> {
  const kind: CredentialKind = input.requireResetAtNextLogin ? 'TEMPORARY' : 'PERMANENT';
  const { newPassword } = input;
  const common = { realmId: input.directoryId, userId: input.userId, requestId: input.requestId, kind };
  try {
    return await realmAs({ noun: 'directory', reason: 'Directory' }, async () => {
      if (newPassword.generate) {
        const issued = await issuePassword(deps, admin, common, 'CloudSSO password generated');
        return { generated: true, secretId: issued.secretId, secretExpiresAt: issued.expiresAt };
      }
      await setPassword(
        deps,
        admin,
        { ...common, password: newPassword.password },
        { seedPolicy: CLOUDSSO_PASSWORD_POLICY, passwordField: 'Password', logAs: 'CloudSSO password set' },
      );
      return { generated: false };
    });
  } catch (error) {
    // A refused password's code is InvalidParameter.Password, like the schema's refusals.
    if (error instanceof InvalidInputError && error.reason === PASSWORD_POLICY_REFUSED) {
      throw new InvalidInputError(error.message, { reason: 'Password', field: 'Password', cause: error });
    }
    throw error;
  }
}
