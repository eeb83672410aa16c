/**
 * Password authentication with lock-out. Every refusal is the same NotAuthenticatedError
 * after the same work — realm and user reads, one conditional write, one argon2id
 * verification — so neither the answer nor its timing tells an unknown user or realm from
 * a wrong password or a locked account.
 *
 * A guess is evaluated only once it holds a reserved attempt: a conditional write that counts
 * it as a failure *before* the hash is checked (lockout.ts). Conditional writes on one user
 * record land one at a time, so however many guesses arrive at once, at most the realm's
 * `maxFailedAttempts` of them are ever checked against the real hash per lock period; every
 * other one is checked against a dummy hash and refused, the right password included.
 */
import { type ErrorSubject, NotAuthenticatedError } from './errors.ts';
import { DUMMY_HASH } from './hashing.ts';
import { lockoutOf, reserveAttempt, writeNothing } from './lockout.ts';
import type { Credential, Realm, User } from './model.ts';
import type { CoreDeps } from './ports.ts';

/** The one message of every authentication refusal, whatever the cause. */
export const NOT_AUTHENTICATED_MESSAGE =
  'The username or the password is incorrect, or the account is temporarily locked.';

export interface PasswordAttempt {
  username: string;
  password: string;
  /**
   * A realm id or a realm name. Without it the username must name one user across all
   * realms; a username two realms share is refused like an unknown one.
   */
  realm?: string | undefined;
}

export interface Authenticated {
  /** The user as stored after its attempt was reserved (the version a change must match). */
  user: User;
  realm: Realm;
  /** The credential the password was verified against. */
  credential: Credential;
}

/** No realm has this id: realm ids start with a letter or a digit. */
const NO_SUCH_REALM_ID = '#no-such-realm';

type AuthDeps = Pick<CoreDeps, 'directory' | 'hasher' | 'clock' | 'log'>;

/**
 * Proves that the caller holds the user's current password. Anything that fails is a
 * NotAuthenticatedError; a wrong password on an unlocked account stays counted.
 *
 * A caller that goes on to refuse the request for another reason (an expired temporary
 * password, a policy breach) must give the attempt back with `releaseAttempt`.
 */
export async function authenticate(deps: AuthDeps, attempt: PasswordAttempt): Promise<Authenticated> {
  const startedAt = deps.clock.now();
  const candidate = await findCandidate(deps, attempt);
  const reserved = candidate
    ? await reserveAttempt(deps, candidate.user, lockoutOf(candidate.realm), startedAt)
    : await writeNothing(deps).then(() => undefined);
  // One verification on every path: against the reserved credential, or a dummy hash.
  const credential = reserved?.credential;
  const verified = await deps.hasher.verify(credential?.hash ?? DUMMY_HASH, attempt.password);
  if (!candidate || !reserved || !credential || !verified) {
    const error = notAuthenticated();
    // For the audit trail (who was guessed at); the answer is the same either way.
    if (candidate) error.subject = subjectOf(candidate.user);
    throw error;
  }
  return { user: reserved, realm: candidate.realm, credential };
}

/**
 * The user the attempt names, if it can sign in with a password here. Unknown, ambiguous
 * (several realms, none named), federated, inactive and password-less users, users of a realm
 * with SSO logon, and any user of an unknown realm all look alike.
 */
async function findCandidate(
  deps: AuthDeps,
  attempt: PasswordAttempt,
): Promise<{ user: User; realm: Realm } | undefined> {
  // An unknown realm scopes the search to a realm nobody is in: the same reads follow.
  const scope =
    attempt.realm === undefined ? undefined : ((await deps.directory.findRealm(attempt.realm)) ?? null);
  const users = (await deps.directory.findUsersByUsername(attempt.username)).filter(
    (user) => scope === undefined || user.realmId === scope?.realmId,
  );
  const [user] = users;
  // Read a realm whatever was found (none, when nobody was): every path costs the same reads.
  const realm =
    scope === undefined ? await deps.directory.getRealm(user?.realmId ?? NO_SUCH_REALM_ID) : scope;
  if (users.length !== 1 || !user || !realm || !signsInWithPassword(user, realm)) return undefined;
  return { user, realm };
}

/**
 * Whether the user signs in with a password rekey holds. A realm with SSO logon enabled
 * signs its users in through its identity provider, as a federated user's does.
 */
export function signsInWithPassword(user: User, realm: Pick<Realm, 'ssoEnabled'>): boolean {
  return !user.federated && user.status === 'ACTIVE' && user.credential !== undefined && !realm.ssoEnabled;
}

/** A user as an audit record names them: by the directory's ids and username. */
export function subjectOf(user: Pick<User, 'realmId' | 'userId' | 'username'>): ErrorSubject {
  return { realmId: user.realmId, userId: user.userId, username: user.username };
}

export function notAuthenticated(): NotAuthenticatedError {
  return new NotAuthenticatedError(NOT_AUTHENTICATED_MESSAGE);
}
