/**
 * The demo realm and users `npm start` creates on an empty backend.
 */
import { ConflictError } from '#core/errors.ts';
import {
  type DatabaseInstance,
  DEFAULT_LOCKOUT,
  DEFAULT_TEMPORARY_PASSWORD_LIFETIME_SECONDS,
  type Realm,
  type User,
} from '#core/model.ts';
import type { PolicyPresetName } from '#core/policy.ts';
import type { Directory } from '#core/ports.ts';

export const DEMO_REALM_ID = 'demo';

/** A new realm with rekey's defaults, except where `options` says otherwise. */
export function newRealm(
  realmId: string,
  name: string,
  options: {
    policy?: PolicyPresetName;
    ssoEnabled?: boolean;
    temporaryPasswordLifetimeSeconds?: number;
    lockout?: Partial<Realm['lockout']>;
    now?: Date;
  } = {},
): Realm {
  return {
    realmId,
    name,
    policy: options.policy ?? 'oci',
    temporaryPasswordLifetimeSeconds:
      options.temporaryPasswordLifetimeSeconds ?? DEFAULT_TEMPORARY_PASSWORD_LIFETIME_SECONDS,
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

export const DEMO_USERS = [
  { userId: 'u-alice', username: 'alice', email: 'alice@example.com', phone: '+15550100001' },
  { userId: 'u-bob', username: 'bob', email: 'bob@example.com' },
  { userId: 'u-carol', username: 'carol', federated: true },
] as const;

/** Creates the demo realm and users where they are missing. Returns whether anything was created. */
export async function seedDemo(directory: Directory): Promise<boolean> {
  if (await directory.getRealm(DEMO_REALM_ID)) return false;
  await ignoreExisting(directory.createRealm(newRealm(DEMO_REALM_ID, 'democorp')));
  for (const user of DEMO_USERS) {
    await ignoreExisting(directory.createUser(newUser({ realmId: DEMO_REALM_ID, ...user })));
  }
  return true;
}

async function ignoreExisting(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}
