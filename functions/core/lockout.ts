/**
 * Lock-out bookkeeping for password sign-in: the failure counter, the lock it sets, and the
 * write that a refusal costs whether or not it counts anything.
 */
import { asUnavailable } from './credentials.ts';
import { VersionConflictError } from './errors.ts';
import { DEFAULT_LOCKOUT, type Realm, type User } from './model.ts';
import type { CoreDeps } from './ports.ts';

/**
 * How often a failed attempt is re-read and re-counted when its conditional write loses.
 * Each round one concurrent writer wins, so this many concurrent failures are all counted.
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
 * The user after one more failed attempt: counted, and locked once the realm's limit is
 * reached. An expired lock starts a fresh count (its failures were paid for by waiting).
 * A limit below 1 disables lock-out.
 */
export function withFailureCounted(user: User, lockout: Realm['lockout'], now: Date): User {
  const failedAttempts = (user.lockedUntil === undefined ? user.failedAttempts : 0) + 1;
  const next: User = { ...user, failedAttempts, version: user.version + 1 };
  delete next.lockedUntil;
  if (lockout.maxFailedAttempts >= 1 && failedAttempts >= lockout.maxFailedAttempts) {
    next.lockedUntil = new Date(now.getTime() + lockout.lockSeconds * 1000).toISOString();
  }
  return next;
}

/**
 * Counts a failed attempt with a conditional write. When another request changed the user
 * first, the record is read again and the failure re-evaluated, so concurrent failures are
 * all counted (and one that lands on a freshly locked account is not). A directory failure
 * is a 5xx: answering 401 without counting would hand out free guesses.
 */
export async function recordFailure(
  deps: LockoutDeps,
  first: User,
  lockout: Realm['lockout'],
  now: Date,
): Promise<void> {
  let user: User | undefined = first;
  for (let round = 0; round < MAX_FAILURE_WRITES; round++) {
    if (!user || isLocked(user, now)) return writeNothing(deps);
    try {
      await deps.directory.saveUser(withFailureCounted(user, lockout, now), user.version);
      return;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw asUnavailable(error);
    }
    user = await deps.directory.getUser(first.userId).catch((error: unknown) => {
      throw asUnavailable(error);
    });
  }
  // Still a 401: a different answer would tell that the user exists.
  deps.log.warn('failed attempt not counted: the user record kept changing', { userId: first.userId });
}

/**
 * A conditional write that cannot land, for refusals that count nothing (unknown user,
 * locked account): it costs the directory round trip a counted failure costs, so timing does
 * not tell them apart, and creates no state. It relies on the Directory contract: a record
 * whose stored version is not `expectedVersion` (here: no record at all) is a conflict.
 */
export async function writeNothing(deps: LockoutDeps): Promise<void> {
  try {
    // A record of nobody: should the write ever land, it holds nothing of a real user.
    await deps.directory.saveUser(GHOST, -1);
  } catch (error) {
    if (!(error instanceof VersionConflictError)) throw asUnavailable(error);
    return;
  }
  deps.log.warn('a write meant to fail landed; the directory ignores versions', { userId: NO_SUCH_USER_ID });
}

const GHOST: User = {
  userId: NO_SUCH_USER_ID,
  realmId: NO_SUCH_USER_ID,
  username: NO_SUCH_USER_ID,
  federated: false,
  status: 'ACTIVE',
  passwordHistory: [],
  failedAttempts: 0,
  version: 0,
  createdAt: new Date(0).toISOString(),
};
