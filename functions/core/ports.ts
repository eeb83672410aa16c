/**
 * The ports the use cases drive. Adapters implement them with the AWS SDK or local stores;
 * tests implement them with fakes.
 */
import type { RandomSource } from './generator.ts';
import type { PasswordHasher } from './hashing.ts';
import type { DatabaseInstance, Realm, TrackedSecret, User } from './model.ts';
import type { PasswordBlocklist } from './policy.ts';

/** The user directory. Writes are conditional on the record's version. */
export interface Directory {
  getRealm(realmId: string): Promise<Realm | undefined>;
  /** Looks a realm up by its id or, failing that, its name (a sign-in may name either). */
  findRealm(idOrName: string): Promise<Realm | undefined>;
  /** Creates a realm; throws ConflictError if the id or the name is taken. */
  createRealm(realm: Realm): Promise<void>;
  /**
   * Replaces an existing realm's record (its password settings: the operator's `realm policy
   * set`); the id and the name never change. Throws NotFoundError if no such realm exists.
   */
  replaceRealm(realm: Realm): Promise<void>;
  getUser(userId: string): Promise<User | undefined>;
  /** Every user with this username, one per realm at most. */
  findUsersByUsername(username: string): Promise<User[]>;
  /** Every user with this e-mail address (case-insensitive), in any realm: addresses are not unique. */
  findUsersByEmail(email: string): Promise<User[]>;
  /** Creates a user; throws ConflictError if the id, or the username in its realm, is taken. */
  createUser(user: User): Promise<void>;
  /**
   * Replaces a user record if its stored version is still `expectedVersion`, else throws
   * VersionConflictError. `next.version` must be `expectedVersion + 1`.
   */
  saveUser(next: User, expectedVersion: number): Promise<void>;
  /**
   * Counts one failed sign-in with a single atomic update that does not depend on the record's
   * version, so concurrent failures never conflict with one another. It lands only while the
   * user still holds the credential whose hash is `credentialHash` and `step` still describes
   * the user (see FailureStep); it bumps the version. Resolves to the user as written
   * (`landed`), or, when the condition does not hold, to the record as that same write found
   * it (`current`; undefined when there is no such user): the caller judges it without a
   * second read, so a guess that lost a race costs the same one call as any other refusal.
   */
  countFailure(userId: string, credentialHash: string, step: FailureStep): Promise<FailureCount>;
  getInstance(instanceId: string): Promise<DatabaseInstance | undefined>;
  /** Creates (expectedVersion undefined) or replaces an instance, conditionally like saveUser. */
  saveInstance(next: DatabaseInstance, expectedVersion: number | undefined): Promise<void>;
  /** Records a temporary secret about to be created (an overwrite of the same name is harmless). */
  trackSecret(secret: TrackedSecret): Promise<void>;
  /** Forgets a temporary secret once it is deleted; an entry already gone is not an error. */
  untrackSecret(name: string): Promise<void>;
  /** One page of the index, by name, after `after`; `next` is set while more remain. */
  listTrackedSecrets(page?: { after?: string; limit?: number }): Promise<TrackedSecretPage>;
}

/** What one failure count did: landed on the user as written, or found the record as `current`. */
export type FailureCount = { landed: User; current?: never } | { landed?: never; current: User | undefined };

/**
 * One failure count, as the lock-out rule decided it from the record it read:
 * - `count`: the user is not locked and has fewer than `below` failures (no bound when
 *   undefined): one more failure;
 * - `lock`: the user is not locked and has at least `atLeast` failures: one more failure, and
 *   locked until `lockUntil`;
 * - `restart`: the user's lock ended by `expiredBy`: the count starts again at one failure,
 *   the lock removed (or set to `lockUntil`, when one failure is the limit).
 */
export type FailureStep =
  | { kind: 'count'; below: number | undefined }
  | { kind: 'lock'; atLeast: number; lockUntil: string }
  | { kind: 'restart'; expiredBy: string; lockUntil: string | undefined };

export interface TrackedSecretPage {
  secrets: TrackedSecret[];
  /** Pass as `after` for the next page; undefined on the last page. */
  next?: string;
}

export interface NewSecret {
  /** Nothing secret in the name, the description or the tags. */
  name: string;
  value: string;
  description: string;
  tags: Record<string, string>;
}

/** Where generated passwords live. Ids are the secrets' ARNs. */
export interface SecretVault {
  create(secret: NewSecret): Promise<{ secretId: string }>;
  /** The secret's current value; throws SecretNotFoundError if it does not exist. */
  read(secretId: string): Promise<string>;
  /** Writes a new version of an existing secret. */
  putValue(secretId: string, value: string): Promise<void>;
  /**
   * Deletes at once, without a recovery window. A secret already gone is not an error.
   * `secretId` may also be the secret's name (the sweeper knows only that of an orphan).
   */
  delete(secretId: string): Promise<void>;
}

export type NotificationChannel = 'email' | 'phone';

export interface Notification {
  channel: NotificationChannel;
  /** An e-mail address or an E.164 phone number. */
  to: string;
  subject: string;
  text: string;
}

/** Tells a user something through one channel (SES, SNS, a local outbox). */
export interface Notifier {
  send(notification: Notification): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export interface IdSource {
  /** A fresh unique id, safe in a secret name and a header. */
  next(): string;
}

/** The little logging the use cases do: compensations that failed, for operators. */
export interface Log {
  warn(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
}

export interface RekeyConfig {
  /** Name prefix of temporary-password secrets, e.g. `rekey/temp/`. */
  temporarySecretPrefix: string;
  /** Name prefix of database administrator secrets. */
  databaseSecretPrefix: string;
  /**
   * The service's own names, which no password a person chooses may contain when the policy's
   * blocklist is on ("rekey" and the names of the vendors whose APIs it speaks). A setting,
   * so that the core names no vendor.
   */
  serviceWords: readonly string[];
  /**
   * The link to the end user's page for one user, prefilled (never with a password), for
   * what carries a temporary password; unset when no page is configured.
   */
  passwordPageLink?: ((realm: { name: string }, user: { username: string }) => string) | undefined;
}

/** What every use case may touch. */
export interface CoreDeps {
  directory: Directory;
  vault: SecretVault;
  hasher: PasswordHasher;
  clock: Clock;
  ids: IdSource;
  random: RandomSource;
  log: Log;
  config: RekeyConfig;
  /** Common and breached passwords; read on first use, so a function that never checks one never loads it. */
  blocklist: PasswordBlocklist;
}

/** The deps of use cases that also tell users something. */
export interface UseCaseDeps extends CoreDeps {
  notifier: Notifier;
}
