/**
 * Oracle IAM "Update a Password" (seed 001): a user who proves the current password sets a
 * new one of their own choosing, which becomes a PERMANENT credential.
 */
import { authenticate } from '../authentication.ts';
import { switchCredential } from '../credentials.ts';
import { ConflictError, InvalidInputError, PreconditionFailedError } from '../errors.ts';
import type { Credential, User } from '../model.ts';
import { checkPassword, type PasswordPolicy, resolvePolicy } from '../policy.ts';
import type { UseCaseDeps } from '../ports.ts';

export interface ChangePasswordInput {
  username: string;
  currentPassword: string;
  newPassword: string;
  /** A realm id or a realm name (OCI tenancy OCID or name). */
  tenancy?: string | undefined;
}

/**
 * Changes a user's password. Checks run in this order, each only once the one before has
 * passed: the current password (401, counted towards lock-out), a temporary password's
 * expiry (412), the realm's policy (400), reuse of the current or a recent password (409).
 * Nothing is written on any refusal but a counted 401.
 *
 * Concurrent changes with one current password: the conditional write lets one win. A loser
 * that read the user before the winner wrote gets 409 ConcurrentUpdate; one that read it
 * after presents a password that is no longer current, and gets 401 like any wrong password.
 */
export async function changePassword(deps: UseCaseDeps, input: ChangePasswordInput): Promise<void> {
  const { user, realm, credential } = await authenticate(deps, {
    username: input.username,
    password: input.currentPassword,
    tenancy: input.tenancy,
  });
  const now = deps.clock.now();
  assertNotExpired(credential, now);
  const policy = resolvePolicy(realm.policy);
  const violation = checkPassword(policy, input.newPassword, { username: user.username });
  if (violation) {
    throw new InvalidInputError(
      `Parameter newPassword breaks the password policy rule "${violation.rule}": it ${violation.message}.`,
      { field: 'newPassword', reason: 'PasswordPolicy' },
    );
  }
  await assertNotReused(deps, user, policy, input);

  const hash = await deps.hasher.hash(input.newPassword);
  // Read as late as possible: an attempt that began before this moment and sees the new
  // credential is a concurrent duplicate, not a guess, and is not counted (authenticate).
  const setAt = deps.clock.now().toISOString();
  // switchCredential clears the failure counter and deletes a replaced temporary secret.
  const changed = await switchCredential(deps, user, { hash, kind: 'PERMANENT', setAt });
  deps.log.info('password changed', { userId: user.userId, version: changed.version });
  await tellUser(deps, changed, now);
}

/** A temporary password past its expiry cannot be exchanged; an admin must issue a new one. */
function assertNotExpired(credential: Credential, now: Date): void {
  if (credential.kind !== 'TEMPORARY' || credential.expiresAt === undefined) return;
  if (now.getTime() >= Date.parse(credential.expiresAt)) {
    throw new PreconditionFailedError(
      'The temporary password has expired; ask an administrator to reset it.',
      { reason: 'TemporaryPasswordExpired' },
    );
  }
}

/**
 * Refuses the current password and the last `historyDepth` ones. The history holds hashes,
 * so each is verified; they run side by side on the thread pool.
 */
async function assertNotReused(
  deps: Pick<UseCaseDeps, 'hasher'>,
  user: User,
  policy: PasswordPolicy,
  input: ChangePasswordInput,
): Promise<void> {
  const recent = user.passwordHistory.slice(0, policy.historyDepth);
  const reused =
    input.newPassword === input.currentPassword ||
    (await Promise.all(recent.map((hash) => deps.hasher.verify(hash, input.newPassword)))).some(Boolean);
  if (reused) {
    const which = policy.historyDepth > 0 ? ` or one of the last ${policy.historyDepth} passwords` : '';
    throw new ConflictError(`Parameter newPassword may not be the current password${which}.`, {
      reason: 'PasswordReuse',
    });
  }
}

/**
 * Tells the user by e-mail that the password changed, so a change they did not make is
 * noticed. The change has happened: a notifier failure is logged, not returned.
 */
async function tellUser(deps: Pick<UseCaseDeps, 'notifier' | 'log'>, user: User, now: Date): Promise<void> {
  if (!user.email) return;
  try {
    await deps.notifier.send({
      channel: 'email',
      to: user.email,
      subject: 'Your password was changed',
      text:
        `The password of ${user.username} was changed at ${now.toISOString()}. ` +
        'If you did not change it, contact your administrator at once.',
    });
  } catch (error) {
    deps.log.warn('password change notice not sent', {
      userId: user.userId,
      error: error instanceof Error ? error.name : typeof error,
    });
  }
}
