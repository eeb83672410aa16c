/**
 * Factories of the directory's records with rekey's defaults: a new realm, user or DDM
 * instance. The CLI, the demo seed, the bench and the tests all build records with them.
 */
import {
  type DatabaseInstance,
  DEFAULT_LOCKOUT,
  DEFAULT_TEMPORARY_PASSWORD_LIFETIME_SECONDS,
  type Realm,
  type User,
} from './model.ts';
import type { PolicyPresetName } from './policy.ts';

/** The policy of a realm created without one (the end user's page shows its rules by default). */
export const DEFAULT_REALM_POLICY: PolicyPresetName = 'oci';

/** A new realm with rekey's defaults, except where `options` says otherwise. */
export function newRealm(
  realmId: string,
  name: string,
  options: {
    policy?: PolicyPresetName;
    ssoEnabled?: boolean;
    temporaryPasswordLifetimeSeconds?: number;
    adminsChoosePasswords?: boolean;
    lockout?: Partial<Realm['lockout']>;
    now?: Date;
  } = {},
): Realm {
  return {
    realmId,
    name,
    policy: options.policy ?? DEFAULT_REALM_POLICY,
    temporaryPasswordLifetimeSeconds:
      options.temporaryPasswordLifetimeSeconds ?? DEFAULT_TEMPORARY_PASSWORD_LIFETIME_SECONDS,
    adminsChoosePasswords: options.adminsChoosePasswords ?? true,
    ssoEnabled: options.ssoEnabled ?? false,
    lockout: {
      maxFailedAttempts: options.lockout?.maxFailedAttempts ?? DEFAULT_LOCKOUT.maxFailedAttempts,
      lockSeconds: options.lockout?.lockSeconds ?? DEFAULT_LOCKOUT.lockSeconds,
    },
    createdAt: (options.now ?? new Date()).toISOString(),
  };
}

/** A new user without a password yet. */
export function newUser(
  input: {
    realmId: string;
    userId: string;
    username: string;
    email?: string;
    phone?: string;
    federated?: boolean;
  },
  now = new Date(),
): User {
  return {
    userId: input.userId,
    realmId: input.realmId,
    username: input.username,
    ...(input.email ? { email: input.email } : {}),
    ...(input.phone ? { phone: input.phone } : {}),
    federated: input.federated ?? false,
    status: 'ACTIVE',
    passwordHistory: [],
    failedAttempts: 0,
    version: 1,
    createdAt: now.toISOString(),
  };
}

/** A new DDM instance without an administrator yet (the API creates it). */
export function newInstance(
  input: { realmId: string; instanceId: string; host?: string; port?: number; engine?: string },
  now = new Date(),
): DatabaseInstance {
  return {
    instanceId: input.instanceId,
    realmId: input.realmId,
    engine: input.engine ?? 'mysql',
    host: input.host ?? `${input.instanceId}.ddm.local`,
    port: input.port ?? 3306,
    version: 1,
    createdAt: now.toISOString(),
  };
}
