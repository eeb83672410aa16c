/**
 * The credential life cycle every operation shares: find the user an admin may touch, put a
 * new password in place in an order that never strands a user, and issue temporary passwords.
 */

import { SECRET_TAGS } from '../contracts.ts';
import {
  ConflictError,
  NotFoundError,
  RekeyError,
  UnavailableError,
  VersionConflictError,
} from './errors.ts';
import { generatePassword } from './generator.ts';
import type {
  AdminPrincipal,
  Credential,
  CredentialKind,
  Realm,
  TemporaryPasswordSecret,
  TrackedSecret,
  User,
} from './model.ts';
import { resolvePolicy } from './policy.ts';
import type { CoreDeps, NewSecret } from './ports.ts';
import { secretNameOf, temporarySecretName } from './temporary-secrets.ts';

/** How many previous password hashes a user record keeps, whatever the policy asks for. */
export const MAX_HISTORY = 24;

/**
 * How many times a switch is tried again on a record that moved on by lock-out bookkeeping
 * alone (a guess counted, an attempt released, a fence): as many as a guess may write.
 */
const SWITCH_ROUNDS = 16;

/**
 * The user and its realm, if the admin's realm holds them. A user of another realm is
 * "not found", exactly like a user that does not exist, so realms cannot probe each other.
 */
export async function loadUserForAdmin(
  deps: Pick<CoreDeps, 'directory'>,
  admin: AdminPrincipal,
  userId: string,
): Promise<{ user: User; realm: Realm }> {
  return loadUserInRealm(deps, admin.realmId, userId);
}

/**
 * The user and its realm, if `realmId` holds them: the same rule for a caller that acts in a
 * realm without being an admin (a ticket), so that no principal has to be made up for it.
 */
export async function loadUserInRealm(
  deps: Pick<CoreDeps, 'directory'>,
  realmId: string,
  userId: string,
): Promise<{ user: User; realm: Realm }> {
  const user = await deps.directory.getUser(userId);
  if (!user || user.realmId !== realmId) {
    throw new NotFoundError('User', 'The user does not exist or is not authorized.');
  }
  const realm = await deps.directory.getRealm(user.realmId);
  if (!realm) throw new NotFoundError('Realm', "The user's realm does not exist.");
  return { user, realm };
}

/** Refuses federated users: their identity provider owns their password. */
export function assertPasswordManagedHere(user: User): void {
  if (user.federated) {
    throw new ConflictError(
      'The user is federated: its password is managed by its identity provider, not by rekey.',
      { reason: 'Federated' },
    );
  }
}

/**
 * The one guard in front of every password rekey sets or resets for a directory user,
 * whichever dialect or ticket asks: a realm with SSO logon enabled (its users sign in through
 * their identity provider only; seed 003: "After you enable SSO logon, your password cannot
 * be reset") and a federated user are refused, before anything is generated or written.
 * `issueTemporaryPassword` and `setGivenPassword` run it themselves, so an operation built on
 * them cannot forget it; a use case calls it early too, to refuse before its own checks.
 * A database administrator is a database account, not a directory user: SSO logon does not apply.
 */
export function assertPasswordSettable(user: User, realm: Realm): void {
  if (realm.ssoEnabled) {
    // No id in the message: the refusal names the rule, not what the caller sent.
    throw new ConflictError(
      'SSO logon is enabled in this realm: its users sign in through their identity provider, so their passwords cannot be set or reset.',
      { reason: 'SSOEnabled' },
    );
  }
  assertPasswordManagedHere(user);
}

/**
 * The stable fields of a mutation's log line that say who acted, where, and in which
 * request: `actor` is the admin token's `sub` (for a ticket, `ticket:<source>`), `realmId`
 * the realm acted in, `requestId` the request (a ticket's attempt) that named any new secret.
 * Identifiers only: never a password, a token or a secret's value.
 */
export function actedBy(
  admin: AdminPrincipal,
  requestId: string,
): { actor: string; realmId: string; requestId: string } {
  return { actor: admin.subject, realmId: admin.realmId, requestId };
}

/**
 * Puts `credential` in place with a conditional write, and only then deletes the temporary
 * secret it replaces.
 *
 * If the write fails, the new secret (if any) is deleted — but only once a fresh read shows
 * the write can never land (the record moved on without it): a timeout can hide a write that
 * succeeded or is still on its way, and deleting the secret of a live credential would leave a
 * password nobody holds. When the read cannot tell, the secret stays, and the sweeper removes
 * it once no credential refers to it.
 *
 * A write refused because the record moved on only by lock-out bookkeeping (a sign-in guess
 * counted or released, another request's fence) is made again on the fresh record, with the
 * same secret: nothing the switch was decided on changed, and a switch resets that bookkeeping
 * anyway. One refused because the record changed otherwise (another request put a password in
 * place, or changed the user) is a Conflict: making it again would undo that request's work.
 *
 * It checks nothing about whether the password may be set: admin paths go through
 * `issueTemporaryPassword` or `setGivenPassword`, which run `assertPasswordSettable` first.
 */
export async function switchCredential(
  deps: Pick<CoreDeps, 'directory' | 'vault' | 'log'>,
  read: User,
  credential: Credential,
): Promise<User> {
  let user = read;
  for (let round = 1; ; round++) {
    const next = nextRecord(user, credential);
    try {
      await deps.directory.saveUser(next, user.version);
    } catch (error) {
      if (!(error instanceof VersionConflictError) || round >= SWITCH_ROUNDS) {
        return lostSwitch(deps, user, credential, error);
      }
      let current: User | undefined;
      try {
        current = await deps.directory.getUser(user.userId);
      } catch (readError) {
        // A refused write may be the SDK's retry of one that landed: without a read, unknown.
        return unknownOutcome(deps, credential, readError);
      }
      if (current && movedByBookkeeping(user, current)) {
        user = current;
        continue;
      }
      return lostSwitch(deps, user, credential, error, { current });
    }
    return afterSwitch(deps, user, next);
  }
}

/** Whether `current` differs from `read` only by a later version and lock-out bookkeeping. */
function movedByBookkeeping(read: User, current: User): boolean {
  const decided = ({ version: _v, failedAttempts: _f, lockedUntil: _l, ...rest }: User) => canonical(rest);
  return current.version > read.version && decided(current) === decided(read);
}

/** JSON with object keys sorted, so two records compare by content, not by key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function nextRecord(user: User, credential: Credential): User {
  const next: User = {
    ...user,
    credential,
    passwordHistory: user.credential
      ? [user.credential.hash, ...user.passwordHistory].slice(0, MAX_HISTORY)
      : user.passwordHistory,
    failedAttempts: 0,
    version: user.version + 1,
  };
  delete next.lockedUntil;
  return next;
}

/**
 * A switch whose write failed for good: judge whether it landed, give its secret up only if it
 * cannot have. `known.current` is a read made after the failure, used as the judge's first.
 */
async function lostSwitch(
  deps: Pick<CoreDeps, 'directory' | 'vault' | 'log'>,
  user: User,
  credential: Credential,
  error: unknown,
  known?: { current: User | undefined },
): Promise<User> {
  let first = known;
  const landed = await judgeLostWrite({
    read: () => {
      const already = first;
      first = undefined;
      return already ? Promise.resolve(already.current) : deps.directory.getUser(user.userId);
    },
    expectedVersion: user.version,
    holdsOurs: (current) => current.credential?.hash === credential.hash,
    error,
    // Only a new secret is worth a fence: without one, nothing is given up either way.
    ...(credential.secretId
      ? {
          fence: (current: User) =>
            deps.directory.saveUser({ ...current, version: current.version + 1 }, current.version),
        }
      : {}),
  });
  if (landed === 'yes') return afterSwitch(deps, user, nextRecord(user, credential));
  // Only a write known never to land gives its secret up. Otherwise the secret stays, for
  // the sweeper to judge once no credential can refer to it.
  if (landed === 'unknown') return unknownOutcome(deps, credential, error);
  if (landed === 'no' && credential.secretId) {
    await discardSecret(deps, credential.secretId, 'compensation');
  }
  if (error instanceof VersionConflictError) {
    throw new ConflictError(
      'Another request changed the user at the same time; this one changed nothing. Read the user again before retrying.',
      { reason: 'ConcurrentUpdate', cause: error },
    );
  }
  throw asUnavailable(error);
}

/**
 * A switch whose outcome could not be told: it may have landed (a refused write can be the
 * SDK's retry of one that did). Its secret stays for the sweeper, and the caller is told to
 * retry later, never that nothing changed.
 */
function unknownOutcome(deps: Pick<CoreDeps, 'log'>, credential: Credential, error: unknown): never {
  if (credential.secretId) {
    deps.log.warn('credential switch outcome unknown; secret left for the sweeper', {
      secretId: credential.secretId,
    });
  }
  if (error instanceof VersionConflictError) {
    throw new UnavailableError('The change could not be confirmed; retry later.', { cause: error });
  }
  throw asUnavailable(error);
}

async function afterSwitch(
  deps: Pick<CoreDeps, 'directory' | 'vault' | 'log'>,
  previous: User,
  next: User,
): Promise<User> {
  const replaced = previous.credential?.secretId;
  if (replaced && replaced !== next.credential?.secretId) {
    await discardSecret(deps, replaced, 'replaced');
  }
  return next;
}

/** How to judge a conditional write (on `expectedVersion`) that answered with an error. */
export interface LostWrite<T extends { version: number }> {
  read(): Promise<T | undefined>;
  expectedVersion: number;
  /** Whether the record as read holds what the write wrote. */
  holdsOurs(current: T): boolean;
  /**
   * The write's own error: a refused condition (VersionConflictError) proves the record had
   * moved past the expected version, so that write cannot land any more, whatever the read shows.
   */
  error: unknown;
  /** Moves the record as read one version on, unchanged, conditionally on its version. */
  fence?(current: T): Promise<void>;
}

/**
 * What a fresh read tells of a conditional write that answered with an error: 'yes' when the
 * record holds what it wrote; 'no' when its condition was refused, or the record is gone or has
 * moved past the version the write expects without it, so the write can never land; 'unknown'
 * when that cannot be told.
 *
 * A record still at that version is not proof: an attempt the client gave up on (a timeout, a
 * dropped connection) may still be on its way and land after the read, and deleting its secret
 * then would leave a credential whose password nobody holds. So the record is fenced first:
 * moved one version on, unchanged, which no write expecting the old version can pass. Without
 * a fence, or when the fence's own outcome is unknown, the answer is 'unknown'.
 */
export async function judgeLostWrite<T extends { version: number }>(
  write: LostWrite<T>,
): Promise<'yes' | 'no' | 'unknown'> {
  const judge = async (fence: LostWrite<T>['fence']): Promise<'yes' | 'no' | 'unknown'> => {
    let current: T | undefined;
    try {
      current = await write.read();
    } catch {
      return 'unknown';
    }
    if (current && write.holdsOurs(current)) return 'yes';
    if (write.error instanceof VersionConflictError) return 'no';
    if (!current || current.version !== write.expectedVersion) return 'no';
    if (!fence) return 'unknown';
    try {
      await fence(current);
      return 'no';
    } catch (error) {
      // Another write moved the record first: ours, late, or someone else's. Read it again.
      return error instanceof VersionConflictError ? judge(undefined) : 'unknown';
    }
  };
  return judge(write.fence);
}

/**
 * Deletes a secret; a failure is logged and left to the sweeper (the secret is unreferenced).
 * Resolves to whether the secret is gone.
 */
export async function deleteQuietly(
  deps: Pick<CoreDeps, 'vault' | 'log'>,
  secretId: string,
  why: string,
): Promise<boolean> {
  try {
    await deps.vault.delete(secretId);
    return true;
  } catch (error) {
    deps.log.warn('secret not deleted; the sweeper will remove it', {
      secretId,
      why,
      error: errorName(error),
    });
    return false;
  }
}

/**
 * Deletes an unreferenced secret (temporary, or a database administrator's being created), then
 * its index entry. The entry goes only with the secret: while it stays, the sweeper retries.
 */
export async function discardSecret(
  deps: Pick<CoreDeps, 'directory' | 'vault' | 'log'>,
  secretId: string,
  why: string,
): Promise<void> {
  if (await deleteQuietly(deps, secretId, why)) await untrackQuietly(deps, secretNameOf(secretId));
}

/**
 * Drops a secret's index entry once it is no longer needed. If that fails, the entry costs
 * nothing but the sweeper's later, harmless look (and second delete).
 */
export async function untrackQuietly(deps: Pick<CoreDeps, 'directory' | 'log'>, name: string): Promise<void> {
  try {
    await deps.directory.untrackSecret(name);
  } catch (error) {
    deps.log.warn('index entry not removed; the sweeper will drop it', {
      secret: name,
      error: errorName(error),
    });
  }
}

export interface IssuedTemporaryPassword {
  user: User;
  password: string;
  secretId: string;
  timeCreated: string;
  expiresAt: string;
}

/**
 * Generates a password under the realm's policy, stores it in the vault, then switches the
 * user's credential to it: TEMPORARY by default (must be changed at next sign-in, expires
 * after the realm's lifetime). The secret itself always expires after that lifetime.
 * The returned password is for the notifier only; it must never reach a response.
 */
export async function issueTemporaryPassword(
  deps: CoreDeps,
  user: User,
  realm: Realm,
  requestId: string,
  options: { kind?: CredentialKind } = {},
): Promise<IssuedTemporaryPassword> {
  assertPasswordSettable(user, realm);
  const password = generatePassword(resolvePolicy(realm.policy), { username: user.username }, deps.random);
  const hash = await deps.hasher.hash(password);
  const now = deps.clock.now();
  const timeCreated = now.toISOString();
  const expiresAt = new Date(now.getTime() + realm.temporaryPasswordLifetimeSeconds * 1000).toISOString();
  const value: TemporaryPasswordSecret = {
    userId: user.userId,
    username: user.username,
    password,
    expiresAt,
  };
  const name = temporarySecretName(deps.config.temporarySecretPrefix, realm.realmId, user.userId, requestId);
  // The index entry comes first: whatever fails after it, the sweeper knows the secret may exist.
  // A failed create leaves the entry on purpose (the secret may exist all the same).
  await indexed(deps, {
    name,
    realmId: realm.realmId,
    userId: user.userId,
    createdAt: timeCreated,
    expiresAt,
  });
  const { secretId } = await storeSecret(deps, {
    name,
    value: JSON.stringify(value),
    description: 'rekey temporary password',
    tags: {
      [SECRET_TAGS.realm]: realm.realmId,
      [SECRET_TAGS.user]: user.userId,
      [SECRET_TAGS.expiresAt]: expiresAt,
    },
  });
  const kind = options.kind ?? 'TEMPORARY';
  const next = await switchCredential(deps, user, {
    hash,
    kind,
    setAt: timeCreated,
    // A PERMANENT credential does not expire; its secret still does (the sweeper deletes it).
    ...(kind === 'TEMPORARY' ? { expiresAt } : {}),
    secretId,
  });
  return { user: next, password, secretId, timeCreated, expiresAt };
}

/**
 * Puts a password someone chose (an admin's, hashed into `credential`; no secret) in place,
 * behind the same guard as a generated one.
 */
export async function setGivenPassword(
  deps: Pick<CoreDeps, 'directory' | 'vault' | 'log'>,
  user: User,
  realm: Realm,
  credential: Credential,
): Promise<User> {
  assertPasswordSettable(user, realm);
  return switchCredential(deps, user, credential);
}

async function indexed(deps: Pick<CoreDeps, 'directory'>, secret: TrackedSecret): Promise<void> {
  try {
    await deps.directory.trackSecret(secret);
  } catch (error) {
    throw asUnavailable(error);
  }
}

async function storeSecret(deps: Pick<CoreDeps, 'vault'>, secret: NewSecret) {
  try {
    return await deps.vault.create(secret);
  } catch (error) {
    throw asUnavailable(error);
  }
}

/** Wraps a dependency's failure; RekeyErrors (already meant for the caller) pass through. */
export function asUnavailable(error: unknown): Error {
  if (error instanceof RekeyError) return error;
  return new UnavailableError('A backing service failed; retry later.', { cause: error });
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
