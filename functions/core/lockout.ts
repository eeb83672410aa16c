/**
 * Lock-out bookkeeping for password sign-in: the reservation that counts a guess before it is
 * checked, the lock it sets, its release for a right password, and the write that a refusal
 * costs whether or not it counts anything.
 */
import { asUnavailable } from './credentials.ts';
import { VersionConflictError } from './errors.ts';
import { DEFAULT_LOCKOUT, type Realm, type User } from './model.ts';
import type { CoreDeps, FailureCount, FailureStep } from './ports.ts';

/**
 * How often an attempt's reservation (or release) is re-read and retried when its conditional
 * write loses. Each round one concurrent writer wins; an attempt that never wins is refused
 * unevaluated, so losing every round is no free guess.
 */
export const MAX_FAILURE_WRITES = 16;

/** No user has this id (ids start with a letter or digit) and no record has version -1. */
const NO_SUCH_USER_ID = '#no-such-user';

type LockoutDeps = Pick<CoreDeps, 'directory' | 'log'>;

/** Whether the user is locked out at `now`. */
export function isLocked(user: User, now: Date): boolean {
  return user.lockedUntil !== undefined && now.getTime() < Date.parse(user.lockedUntil);
}

/** The realm's lock-out rule; realms written before lock-out existed get the default. */
export function lockoutOf(realm: Realm): Realm['lockout'] {
  return realm.lockout ?? DEFAULT_LOCKOUT;
}

/**
 * How one more failed attempt is counted on the user as read: added to the count, locking the
 * user once the realm's limit is reached, or counted afresh after an expired lock (its failures
 * were paid for by waiting). Undefined while the user is locked. A limit below 1 disables
 * lock-out.
 */
export function failureStep(user: User, lockout: Realm['lockout'], now: Date): FailureStep | undefined {
  const limit = lockout.maxFailedAttempts;
  const lockUntil = new Date(now.getTime() + lockout.lockSeconds * 1000).toISOString();
  if (user.lockedUntil !== undefined) {
    if (isLocked(user, now)) return undefined;
    return { kind: 'restart', expiredBy: now.toISOString(), lockUntil: limit === 1 ? lockUntil : undefined };
  }
  if (limit < 1) return { kind: 'count', below: undefined };
  if (user.failedAttempts + 1 >= limit) return { kind: 'lock', atLeast: limit - 1, lockUntil };
  return { kind: 'count', below: limit - 1 };
}

/**
 * Reserves the right to check one guess against the user's password: counts it as a failure
 * *before* the hash is checked, with one atomic update (Directory.countFailure) that lands only
 * while the user still holds the credential read and is in the state the step was decided on;
 * the failure that reaches the realm's limit sets the lock in the same update. When the update
 * does not land (another failure, the lock or a change came first), the record that write
 * found is judged as it now is. Resolves to undefined — the guess is not to be checked, and costs
 * one conditional write all the same — when the user is locked, is gone, or had its credential
 * set after the attempt began (a duplicate of the change that set it, or a retry after a
 * timeout: not counted, or a burst of duplicates would lock the user out of the password they
 * just chose; no free guess, since only a change, which needs the password, opens it). A
 * directory failure is a 5xx: answering 401 without counting would hand out free guesses.
 *
 * Why this bounds guesses under any concurrency: updates of one item are serialised by the
 * table, and each is conditional on the state it changes. A `count` lands only while the count
 * is below the limit less one, so it never reaches the limit; the one `lock` that lands takes
 * the count to the limit and sets the lock in the same write; after it, every update's
 * condition fails until the lock expires. So at most `maxFailedAttempts` reservations land per
 * lock period (fewer if failures were already counted), and only a guess holding one is
 * checked. Concurrent failures do not conflict with one another (the condition is not on the
 * version), so a burst costs about one write per guess, not one per guess per round. A release
 * (below) only ever gives back the slot of a guess that proved the password.
 */
export async function reserveAttempt(
  deps: LockoutDeps,
  first: User,
  lockout: Realm['lockout'],
  startedAt: Date,
): Promise<User | undefined> {
  let user: User | undefined = first;
  for (let round = 0; round < MAX_FAILURE_WRITES; round++) {
    const hash: string | undefined = user?.credential?.hash;
    const step: FailureStep | undefined =
      user && hash && !credentialSetAfter(user, startedAt)
        ? failureStep(user, lockout, startedAt)
        : undefined;
    if (!user || !hash || !step) {
      // The first round has written nothing yet: pay for the write every refusal costs.
      if (round === 0) await writeNothing(deps);
      return undefined;
    }
    const count: FailureCount = await deps.directory
      .countFailure(user.userId, hash, step)
      .catch((error: unknown) => {
        throw asUnavailable(error);
      });
    if (count.landed) return count.landed;
    // Another failure, a change or the lock landed first: judge the record as the failed write
    // found it. Not read again: a second read would make a guess that lost the race slower than
    // an unknown name's refusal, and a burst would tell that the account exists.
    user = count.current;
  }
  // Not evaluated, still a 401: a different answer would tell that the user exists.
  deps.log.warn('attempt not evaluated: the user record kept changing', { userId: first.userId });
  return undefined;
}

/**
 * Gives back the slot of an attempt whose password was right but whose request is refused for
 * another reason (an expired temporary password, a policy breach): a user is never locked out
 * by mistakes that are not wrong passwords. If nothing was written since the reservation, the
 * count and lock are put back as they were; otherwise the count goes down by one and any lock
 * stays (later failures may have set it). A credential changed since means a change won, which
 * cleared the count already. A failure to release is logged, not returned: the refusal stands.
 */
export async function releaseAttempt(deps: LockoutDeps, reserved: User): Promise<void> {
  let user: User | undefined = reserved;
  try {
    for (let round = 0; round < MAX_FAILURE_WRITES; round++) {
      if (!user || user.credential?.hash !== reserved.credential?.hash) return;
      const next: User = {
        ...user,
        failedAttempts: Math.max(0, user.failedAttempts - 1),
        version: user.version + 1,
      };
      // A count lands only on an unlocked record (or an expired lock): a lock on the very record
      // it wrote is its own. A lock written since may be later failures': it stays.
      if (user.version === reserved.version) delete next.lockedUntil;
      try {
        await deps.directory.saveUser(next, user.version);
        return;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
      }
      user = await deps.directory.getUser(reserved.userId);
    }
  } catch (error) {
    deps.log.warn('attempt not released', { userId: reserved.userId, error: errorName(error) });
    return;
  }
  deps.log.warn('attempt not released: the user record kept changing', { userId: reserved.userId });
}

/** Whether the user's credential was set after `startedAt`. */
function credentialSetAfter(user: User, startedAt: Date): boolean {
  return user.credential !== undefined && Date.parse(user.credential.setAt) > startedAt.getTime();
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/**
 * A failure count that cannot land, for refusals that count nothing (unknown user, locked
 * account, an unknown tenancy): the same conditional update a counted failure makes, on a user
 * that does not exist, so timing does not tell them apart, and no state is created. It relies
 * on the Directory contract: a count lands only on an existing user holding the credential.
 */
export async function writeNothing(deps: LockoutDeps): Promise<void> {
  const count = await deps.directory
    .countFailure(NO_SUCH_USER_ID, NO_SUCH_USER_ID, { kind: 'count', below: undefined })
    .catch((error: unknown) => {
      throw asUnavailable(error);
    });
  if (count.landed) deps.log.warn('a failure count meant to fail landed', { userId: NO_SUCH_USER_ID });
}
