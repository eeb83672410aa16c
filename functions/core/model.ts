/**
 * The directory's model: realms, users, their one credential, and database instances.
 * Plain data, serialisable as-is into the table and back.
 */
import type { PasswordPolicy, PolicyPresetName } from './policy.ts';

/** How long a generated temporary password lives unless the realm says otherwise. */
export const DEFAULT_TEMPORARY_PASSWORD_LIFETIME_SECONDS = 7 * 24 * 3600;

/** The bounds of a realm's temporary-password lifetime: one hour to 90 days. */
export const MIN_TEMPORARY_PASSWORD_LIFETIME_SECONDS = 3600;
export const MAX_TEMPORARY_PASSWORD_LIFETIME_SECONDS = 90 * 24 * 3600;

/** Lock-out defaults for change-password: 10 consecutive failures lock for 15 minutes. */
export const DEFAULT_LOCKOUT = { maxFailedAttempts: 10, lockSeconds: 15 * 60 } as const;

/**
 * The tenant scope. Each operation maps its vendor's tenant onto `realmId` (its
 * `operation.ts` says which field); `name` is a second key a password sign-in may use.
 */
export interface Realm {
  realmId: string;
  name: string;
  /** A named preset, or a policy of the realm's own. */
  policy: PolicyPresetName | PasswordPolicy;
  /** How long a temporary password lives: 1 hour to 90 days (MIN_/MAX_TEMPORARY_PASSWORD_LIFETIME_SECONDS). */
  temporaryPasswordLifetimeSeconds: number;
  /**
   * Whether an admin may choose a user's password (CloudSSO's given `Password`). Off, only
   * generated, vaulted passwords are issued (OWASP ASVS: an administrator never knows a
   * user's password). Unset (a realm stored before the option existed) means on.
   */
  adminsChoosePasswords?: boolean;
  /** Once SSO logon is enabled, users sign in through their identity provider: passwords cannot be set or reset. */
  ssoEnabled: boolean;
  lockout: { maxFailedAttempts: number; lockSeconds: number };
  createdAt: string;
}

export type CredentialKind = 'PERMANENT' | 'TEMPORARY';

/** The one password a user can sign in with, as an argon2id PHC string and its state. */
export interface Credential {
  hash: string;
  kind: CredentialKind;
  setAt: string;
  /** Only for TEMPORARY credentials. */
  expiresAt?: string;
  /** The vault secret holding a TEMPORARY password, deleted as soon as it is replaced. */
  secretId?: string;
}

export type UserStatus = 'ACTIVE' | 'INACTIVE';

export interface User {
  userId: string;
  realmId: string;
  username: string;
  email?: string;
  phone?: string;
  /** Passwords of federated users belong to their identity provider; rekey refuses them. */
  federated: boolean;
  status: UserStatus;
  credential?: Credential;
  /** PHC strings of recent passwords, newest first (the current one is not included). */
  passwordHistory: string[];
  failedAttempts: number;
  lockedUntil?: string;
  /** Incremented on every credential change; the `etag` and the conditional-write guard. */
  version: number;
  createdAt: string;
}

/** A database instance and its single administrator account. */
export interface DatabaseInstance {
  instanceId: string;
  realmId: string;
  engine: string;
  host: string;
  port: number;
  adminName?: string;
  adminSecretId?: string;
  version: number;
  createdAt: string;
}

/** The JSON value of a temporary-password secret. */
export interface TemporaryPasswordSecret {
  userId: string;
  username: string;
  password: string;
  expiresAt: string;
}

/**
 * An entry of the index of temporary secrets: written before the secret is created (an intent
 * record), removed once the secret is deleted. The sweeper reads it instead of listing the vault.
 */
export interface TrackedSecret {
  /** The secret's name (not its ARN: the ARN is unknown until the secret exists). */
  name: string;
  realmId: string;
  /** The user whose password it holds; empty for a database administrator secret. */
  userId: string;
  /**
   * Set for a database administrator secret about to be created: the sweeper judges the entry
   * against this instance (does it name the secret?) instead of a user.
   */
  instanceId?: string;
  createdAt: string;
  /** When the password it holds expires, and with it the secret. */
  expiresAt: string;
}

/** The caller of an admin route, as proven by its token. */
export interface AdminPrincipal {
  subject: string;
  realmId: string;
}
