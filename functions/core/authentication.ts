/**
 * Password authentication with lock-out. Every refusal is the same NotAuthenticatedError
 * after the same work — one realm read, one argon2id verification, one conditional write —
 * so neither the answer nor its timing tells an unknown user from a wrong password or a
 * locked account.
 */
import { NotAuthenticatedError, NotFoundError } from './errors.ts';
import { DUMMY_HASH } from './hashing.ts';
import { isLocked, lockoutOf, recordFailure, writeNothing } from './lockout.ts';
import type { Credential, Realm, User } from './model.ts';
import type { CoreDeps } from './ports.ts';

/** The one message of every authentication refusal, whatever the cause. */
export const NOT_AUTHENTICATED_MESSAGE =
  'The username or the password is incorrect, or the account is temporarily locked.';

export interface PasswordAttempt {
  username: string;
  password: string;
  /** OCI `tenancy`: a realm id or a realm name. Without it the username must be unique. */
  tenancy?: string | undefined;
}

export interface Authenticated {
  user: User;
  realm: Realm;
  credential: Credential;
}

/** No realm has this id: realm ids start with a letter or a digit. */
const NO_SUCH_REALM_ID = '#no-such-realm';

type AuthDeps = Pick<CoreDeps, 'directory' | 'hasher' | 'clock' | 'log'>;

/**
 * Proves that the caller holds the user's current password. An unknown `tenancy` is a
 * NotFoundError (the only case that is not a 401); anything else that fails is a
 * NotAuthenticatedError, and a wrong password on an unlocked account is counted.
 */
export async function authenticate(deps: AuthDeps, attempt: PasswordAttempt): Promise<Authenticated> {
  const startedAt = deps.clock.now();
  const candidate = await findCandidate(deps, attempt);
  // Verify before looking at the lock: a locked account costs exactly what an open one does.
  const verified = await deps.hasher.verify(candidate?.credential.hash ?? DUMMY_HASH, attempt.password);
  const now = deps.clock.now();
  if (!candidate || isLocked(candidate.user, now) || (!verified && changedSince(candidate, startedAt))) {
    await writeNothing(deps);
    throw notAuthenticated();
  }
  if (!verified) {
    await recordFailure(deps, candidate.user, lockoutOf(candidate.realm), now);
    throw notAuthenticated();
  }
  return candidate;
}

/**
 * Whether the credential was set after the attempt began. Such an attempt was made against a
 * password that changed while it was in flight (a duplicate of the very change that replaced
 * it, a retry after a timeout): it is refused like any other, but not counted, or a burst of
 * duplicates would lock the user out of the password they just chose. It is no free guess:
 * only a password change, which an attacker cannot cause without the password, opens it.
 */
function changedSince(candidate: Authenticated, startedAt: Date): boolean {
  return Date.parse(candidate.credential.setAt) > startedAt.getTime();
}

/**
 * The user the attempt names, if it can sign in with a password here. Unknown, ambiguous
 * (several realms, no tenancy), federated, inactive and password-less users all look alike.
 */
async function findCandidate(deps: AuthDeps, attempt: PasswordAttempt): Promise<Authenticated | undefined> {
  const scope = attempt.tenancy === undefined ? undefined : await findTenancy(deps, attempt.tenancy);
  const users = (await deps.directory.findUsersByUsername(attempt.username)).filter(
    (user) => scope === undefined || user.realmId === scope.realmId,
  );
  const [user] = users;
  // Read a realm whatever was found (none, when nobody was): every path costs the same reads.
  const realm = scope ?? (await deps.directory.getRealm(user?.realmId ?? NO_SUCH_REALM_ID));
  if (users.length !== 1 || !user || user.federated || user.status !== 'ACTIVE' || !user.credential) {
    return undefined;
  }
  return realm ? { user, realm, credential: user.credential } : undefined;
}

async function findTenancy(deps: AuthDeps, tenancy: string): Promise<Realm> {
  const realm = await deps.directory.findRealm(tenancy);
  // The value is not echoed: a caller who mixed up the fields may have put a password there.
  if (!realm) throw new NotFoundError('Tenancy', 'The tenancy does not exist.');
  return realm;
}

function notAuthenticated(): NotAuthenticatedError {
  return new NotAuthenticatedError(NOT_AUTHENTICATED_MESSAGE);
}
