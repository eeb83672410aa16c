/**
 * Setting a database instance's administrator: the first call creates the account, later
 * calls only change its password. The credential lives in the vault as an RDS-style secret,
 * so AWS's rotation functions can rotate it like any other. The operation that calls this
 * verb chooses the password rule, the parameter names refusals use, and the log lines' and
 * the secret's words; nothing here is any vendor's.
 */

import { SECRET_TAGS } from '../../contracts.ts';
import { actedBy, asUnavailable, discardSecret, judgeLostWrite, untrackQuietly } from '../credentials.ts';
import {
  aboutSubject,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  VersionConflictError,
} from '../errors.ts';
import type { AdminPrincipal, DatabaseInstance } from '../model.ts';
import {
  checkChosenPassword,
  checkPassword,
  type PasswordPolicy,
  type PolicyViolation,
  realmContextWords,
  resolvePolicy,
} from '../policy.ts';
import type { CoreDeps } from '../ports.ts';
import { deletableByName } from '../temporary-secrets.ts';
import { authorize } from './authorize.ts';

export interface DatabaseAdminInput {
  /** The realm the request names; the principal must be acting in it. */
  realmId: string;
  instanceId: string;
  name: string;
  password: string;
  requestId: string;
}

/** What the calling operation decides: its vendor's password rule and its own words. */
export interface DatabaseAdminRules {
  /**
   * The rule an administrator password must meet. The realm's length and composition rules
   * are for directory users; its blocklist switch applies here too (with the administrator's
   * name and the realm's context words).
   */
  policy: PasswordPolicy;
  /** The parameter a refused password is named by, in the caller's words. */
  passwordField: string;
  /** The messages of the two log lines, and the description of the secret. */
  words: { created: string; changed: string; secretDescription: string };
}

/** The secret's value: the keys AWS's RDS rotation functions read. */
export interface DatabaseAdminSecret {
  engine: string;
  host: string;
  port: number;
  username: string;
  password: string;
  dbInstanceIdentifier: string;
}

export type DatabaseAdminResult = { created: true; secretId: string } | { created: false; secretId: string };

/**
 * Creates the administrator, or changes its password. Refusals come before any write:
 * another realm (403), a password the rule, the realm's blocklist or its context words refuse (400), an unknown instance or one of
 * another realm (404), another administrator name than the one created (409). The realm's
 * SSO logon does not apply: the administrator is a database account, not a directory user
 * who signs in.
 */
export async function setDatabaseAdmin(
  deps: CoreDeps,
  admin: AdminPrincipal,
  input: DatabaseAdminInput,
  rules: DatabaseAdminRules,
): Promise<DatabaseAdminResult> {
  authorize(admin, input.realmId);
  refuseIf(checkPassword(rules.policy, input.password), rules.passwordField);
  // The administrator's password is one a person chose: the realm's blocklist and context
  // words apply unless the realm turned them off (a realm not found keeps them on).
  const realm = await deps.directory.getRealm(input.realmId).catch((error: unknown) => {
    throw asUnavailable(error);
  });
  const blocklist = realm ? resolvePolicy(realm.policy).blocklist : true;
  refuseIf(
    checkChosenPassword({ ...rules.policy, blocklist }, input.password, {
      username: input.name,
      contextWords: realm ? realmContextWords(realm, deps.config.serviceWords) : deps.config.serviceWords,
      blocklist: deps.blocklist,
    }),
    rules.passwordField,
  );
  const instance = await deps.directory.getInstance(input.instanceId);
  if (!instance || instance.realmId !== input.realmId) {
    throw new NotFoundError('Instance', 'The instance does not exist or is not authorized.');
  }
  // From here on, a refusal or failure names the instance's administrator account as the
  // directory has it (the audit trail): never the name the caller typed.
  const subject = {
    realmId: instance.realmId,
    userId: instanceAccountId(instance),
    username: instance.adminName,
  };
  return aboutSubject(subject, async () => {
    if (instance.adminName === undefined || instance.adminSecretId === undefined) {
      return { created: true, secretId: await createAdministrator(deps, admin, instance, input, rules) };
    }
    if (instance.adminName !== input.name) {
      throw new ConflictError(
        'The instance already has an administrator with another name; only its password can change.',
        { reason: 'AdminNameMismatch' },
      );
    }
    await changeAdministratorPassword(deps, instance, instance.adminSecretId, input.password);
    deps.log.info(rules.words.changed, {
      ...actedBy(admin, input.requestId),
      instanceId: instance.instanceId,
      secretId: instance.adminSecretId,
    });
    return { created: false, secretId: instance.adminSecretId };
  });
}

/** How the audit trail names an instance's administrator account: `instance:{instanceId}`. */
export function instanceAccountId(instance: Pick<DatabaseInstance, 'instanceId'>): string {
  return `instance:${instance.instanceId}`;
}

/**
 * Indexes the secret's name, stores the secret, then records it on the instance with a
 * conditional write. If that write fails the secret is deleted — unless a fresh read shows
 * the write landed (a timeout can hide a success). The secret's name carries the request id,
 * so a crash between the steps leaves an orphan that never blocks the next attempt, and the
 * index entry lets the sweeper delete it once the grace period is over.
 */
async function createAdministrator(
  deps: CoreDeps,
  admin: AdminPrincipal,
  instance: DatabaseInstance,
  input: DatabaseAdminInput,
  rules: DatabaseAdminRules,
): Promise<string> {
  const name = deletableByName(
    `${deps.config.databaseSecretPrefix}${instance.realmId}/${instance.instanceId}/admin/${input.requestId}`,
  );
  const now = deps.clock.now().toISOString();
  try {
    await deps.directory.trackSecret({
      name,
      realmId: instance.realmId,
      userId: '',
      instanceId: instance.instanceId,
      createdAt: now,
      expiresAt: now,
    });
  } catch (error) {
    throw asUnavailable(error);
  }
  let secretId: string;
  try {
    ({ secretId } = await deps.vault.create({
      name,
      value: JSON.stringify(secretValue(instance, input.name, input.password)),
      description: rules.words.secretDescription,
      tags: { [SECRET_TAGS.realm]: instance.realmId, [SECRET_TAGS.instance]: instance.instanceId },
    }));
  } catch (error) {
    // A failed create may still have landed (a timeout hides a success): delete by name what
    // this request may have left. Nothing refers to it yet, and the name is its own.
    await discardSecret(deps, name, 'compensation');
    throw asUnavailable(error);
  }
  const next: DatabaseInstance = {
    ...instance,
    adminName: input.name,
    adminSecretId: secretId,
    version: instance.version + 1,
  };
  try {
    await deps.directory.saveInstance(next, instance.version);
  } catch (error) {
    const landed = await judgeLostWrite({
      read: () => deps.directory.getInstance(instance.instanceId),
      expectedVersion: instance.version,
      holdsOurs: (current) => current.adminSecretId === secretId,
      error,
      fence: (current) =>
        deps.directory.saveInstance({ ...current, version: current.version + 1 }, current.version),
    });
    if (landed === 'no') await discardSecret(deps, secretId, 'compensation');
    if (landed !== 'yes') {
      if (landed === 'no' && error instanceof VersionConflictError) {
        throw new ConflictError('The instance was changed by another request at the same time; retry.', {
          reason: 'ConcurrentUpdate',
          cause: error,
        });
      }
      throw asUnavailable(error);
    }
  }
  deps.log.info(rules.words.created, {
    ...actedBy(admin, input.requestId),
    instanceId: instance.instanceId,
    secretId,
  });
  await untrackQuietly(deps, name);
  return secretId;
}

/** Refuses a password that broke a rule, naming the parameter and the rule only. */
function refuseIf(violation: PolicyViolation | undefined, field: string): void {
  if (violation) {
    throw new InvalidInputError(`Parameter ${field} ${violation.message}.`, { field });
  }
}

/**
 * Writes a new version of the administrator's secret. Keys someone added beside ours (a
 * rotation function's `dbname`, say) are kept; ours are refreshed from the instance record.
 */
async function changeAdministratorPassword(
  deps: CoreDeps,
  instance: DatabaseInstance,
  secretId: string,
  password: string,
): Promise<void> {
  const current = parseObject(await vaultCall(() => deps.vault.read(secretId)));
  const value = { ...current, ...secretValue(instance, instance.adminName ?? '', password) };
  await vaultCall(() => deps.vault.putValue(secretId, JSON.stringify(value)));
}

function secretValue(instance: DatabaseInstance, username: string, password: string): DatabaseAdminSecret {
  return {
    engine: instance.engine,
    host: instance.host,
    port: instance.port,
    username,
    password,
    dbInstanceIdentifier: instance.instanceId,
  };
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

async function vaultCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asUnavailable(error);
  }
}
