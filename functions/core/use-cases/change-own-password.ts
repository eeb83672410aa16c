/**
 * Changing one's own password: a user who proves the current password sets a new one of
 * their own choosing, which becomes a PERMANENT credential.
 */
import { type Authenticated, authenticate, notAuthenticated, subjectOf } from '../authentication.ts';
import { switchCredential } from '../credentials.ts';
import {
  ConflictError,
  type ErrorSubject,
  InvalidInputError,
  PreconditionFailedError,
  RekeyError,
} from '../errors.ts';
import { releaseAttempt } from '../lockout.ts';
import type { Credential, User } from '../model.ts';
import { checkChosenPassword, type PasswordPolicy, realmContextWords, resolvePolicy } from '../policy.ts';
import type { UseCaseDeps } from '../ports.ts';

export interface ChangeOwnPasswordInput {
  username: string;
  currentPassword: string;
  newPassword: string;
  /** A realm id or a realm name; unset, the username must name one user across realms. */
  realm?: string | undefined;
}

/**
 * Changes a user's password. Checks run in this order, each only once the one before has
 * passed: the current password (401, counted towards lock-out), a temporary password's
 * expiry (412), the realm's policy with its blocklist and context words (400), reuse of the current or a recent password (409).
 * Nothing is written on any refusal but a counted 401 (a right password's reserved attempt is
 * given back when a later check refuses).
 *
 * Concurrent changes with one current password: the switch is a conditional write. One that
 * loses to a write that left the credential as it was (another attempt's reservation) tries
 * again on the fresh record; one that loses to another change is refused with the same 401 a
 * wrong password gets, so no race ever tells a right password from a wrong one.
 */
export async function changeOwnPassword(
  deps: UseCaseDeps,
  input: ChangeOwnPasswordInput,
): Promise<ErrorSubject> {
  const auth = await authenticate(deps, {
    username: input.username,
    password: input.currentPassword,
    realm: input.realm,
  });
  const { user, realm, credential } = auth;
  const now = deps.clock.now();
  const policy = resolvePolicy(realm.policy);
  let changed: User;
  try {
    assertNotExpired(credential, now);
    // The realm's rules, then (unless the realm turned it off) the blocklist and the context words.
    const violation = checkChosenPassword(policy, input.newPassword, {
      username: user.username,
      contextWords: realmContextWords(realm, deps.config.serviceWords),
      blocklist: deps.blocklist,
    });
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
    changed = await switchOwnCredential(deps, auth, { hash, kind: 'PERMANENT', setAt });
  } catch (error) {
    // The password was right: whatever refused the change, it is no failed sign-in. (After a
    // lost switch the credential has changed, and there is nothing to give back.)
    await releaseAttempt(deps, user);
    if (error instanceof RekeyError) error.subject ??= subjectOf(user);
    throw error;
  }
  deps.log.info('password changed', {
    actor: 'self',
    realmId: changed.realmId,
    userId: user.userId,
    version: changed.version,
  });
  await tellUser(deps, changed, now);
  return subjectOf(changed);
}

/**
 * Switches the credential of a user who proved its password. Losing the conditional write to
 * another attempt's reservation (sign-in bookkeeping only) is made again on the fresh record by
 * `switchCredential` itself: this attempt was evaluated within the limit and its password was
 * right. Losing it to anything else (a change of the credential, or of the user: made federated
 * or inactive meanwhile) is a 401 like any wrong password: that password may no longer be
 * current, and no other answer may say it was right a moment ago.
 */
async function switchOwnCredential(
  deps: UseCaseDeps,
  auth: Authenticated,
  credential: Credential,
): Promise<User> {
  try {
    return await switchCredential(deps, auth.user, credential);
  } catch (error) {
    if (error instanceof ConflictError && error.reason === 'ConcurrentUpdate') throw notAuthenticated();
    throw error;
  }
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
  input: ChangeOwnPasswordInput,
): Promise<void> {
  const recent = user.passwordHistory.slice(0, policy.historyDepth);
  const reused =
    input.newPassword.normalize('NFKC') === input.currentPassword.normalize('NFKC') ||
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
