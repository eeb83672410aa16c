/**
 * What must hold after anything — a fault at any step, a race, a sweep: every user can sign
 * in with a password that a secret or its owner holds, and no secret is left that nothing
 * refers to. Read from the table and the vault directly, never through a faulty port.
 */
import type { LocalFileVault } from '#adapters/local-file-vault.ts';
import type { PasswordHasher } from '#core/hashing.ts';
import type { DatabaseInstance, TemporaryPasswordSecret, TrackedSecret, User } from '#core/model.ts';
import type { Directory } from '#core/ports.ts';
import { referencesSecret, secretNameOf } from '#core/temporary-secrets.ts';

/** Where the invariants are read from. */
export interface InvariantWorld {
  /** A directory no fault reaches. */
  directory: Directory;
  /** The embedded backend's vault, listed directly (the port cannot list). */
  vault: LocalFileVault;
  hasher: Pick<PasswordHasher, 'verify'>;
  temporarySecretPrefix: string;
  databaseSecretPrefix: string;
}

/** A user to check, and the passwords its owner or the caller holds (given, or the previous one). */
export interface UserSubject {
  userId: string;
  held: readonly string[];
}

/** A DDM instance to check, and the administrator passwords the caller holds (new, previous). */
export interface InstanceSubject {
  instanceId: string;
  held: readonly string[];
}

export interface InvariantReport {
  /** Every broken rule, in words that never quote a password. Empty when all hold. */
  violations: string[];
  /**
   * DDM secrets no instance refers to. Kept apart from `violations`: no sweeper covers the
   * DDM prefix, so a caller decides which of these a scenario may leave (see faults test).
   */
  ddmOrphans: string[];
}

/**
 * Checks the invariants for `users` and `instances`, and the global ones over the whole
 * vault and index: every temporary secret is referenced by its user's credential, every
 * index entry names a referenced secret (run after a sweep past the grace period, which
 * drops the others), every referenced temporary secret is indexed (or its expiry would never
 * be swept). DDM secrets no instance refers to are reported apart.
 */
export async function checkInvariants(
  world: InvariantWorld,
  subjects: { users?: readonly UserSubject[]; instances?: readonly InstanceSubject[] },
): Promise<InvariantReport> {
  const violations: string[] = [];
  const index = await trackedSecrets(world.directory);
  const indexed = new Set(index.map((entry) => entry.name));
  // One read per user: the checks below ask about the same few users again and again.
  const users = new Map<string, Promise<User | undefined>>();
  const getUser = (userId: string) => {
    const read = users.get(userId) ?? world.directory.getUser(userId);
    users.set(userId, read);
    return read;
  };

  for (const subject of subjects.users ?? []) {
    const user = await getUser(subject.userId);
    violations.push(...(await userViolations(world, subject, user, indexed)));
  }
  for (const subject of subjects.instances ?? []) {
    const instance = await world.directory.getInstance(subject.instanceId);
    violations.push(...(await instanceViolations(world, subject, instance)));
  }

  // A temporary secret's name and its index entry both name its user: only that user's
  // credential can refer to it, so that is the one to ask (no scan of the whole table).
  const referencedBy = async (userId: string | undefined, name: string) => {
    const credential = userId === undefined ? undefined : (await getUser(userId))?.credential;
    return referencesSecret(credential, name);
  };
  for (const secret of world.vault.list(world.temporarySecretPrefix)) {
    const owner = secret.name.slice(world.temporarySecretPrefix.length).split('/')[1];
    if (!(await referencedBy(owner, secret.name))) {
      violations.push(`orphan secret ${secret.name}: no credential refers to it`);
    }
  }
  for (const entry of index) {
    // A DDM administrator entry outlives its request only until the next sweep.
    const referenced =
      entry.instanceId === undefined
        ? await referencedBy(entry.userId, entry.name)
        : await namedByInstance(world.directory, entry.instanceId, entry.name);
    if (!referenced) violations.push(`index entry ${entry.name}: nothing refers to it`);
  }
  const ddmOrphans: string[] = [];
  for (const secret of world.vault.list(world.databaseSecretPrefix)) {
    const instanceId = secret.name.slice(world.databaseSecretPrefix.length).split('/')[1];
    const instance = instanceId === undefined ? undefined : await world.directory.getInstance(instanceId);
    const admin = instance?.adminSecretId === undefined ? undefined : secretNameOf(instance.adminSecretId);
    if (admin !== secret.name) ddmOrphans.push(secret.name);
  }
  return { violations, ddmOrphans };
}

async function namedByInstance(directory: Directory, instanceId: string, name: string): Promise<boolean> {
  const admin = (await directory.getInstance(instanceId))?.adminSecretId;
  return admin !== undefined && secretNameOf(admin) === name;
}

async function trackedSecrets(directory: Directory): Promise<TrackedSecret[]> {
  const all: TrackedSecret[] = [];
  let after: string | undefined;
  do {
    const page = await directory.listTrackedSecrets(after === undefined ? {} : { after });
    all.push(...page.secrets);
    after = page.next;
  } while (after !== undefined);
  return all;
}

async function userViolations(
  world: InvariantWorld,
  subject: UserSubject,
  user: User | undefined,
  indexed: ReadonlySet<string>,
): Promise<string[]> {
  const who = `user ${subject.userId}`;
  const credential = user?.credential;
  if (!credential) return [`${who}: has no credential`];
  if (credential.secretId) {
    // A generated password: the vault must hold it, and the sweeper must know the secret.
    const name = secretNameOf(credential.secretId);
    const problems: string[] = [];
    if (!indexed.has(name))
      problems.push(`${who}: secret ${name} is not indexed; its expiry would never be swept`);
    let secret: TemporaryPasswordSecret;
    try {
      secret = JSON.parse(await world.vault.read(credential.secretId)) as TemporaryPasswordSecret;
    } catch {
      return [...problems, `${who}: the credential names secret ${name}, which does not exist`];
    }
    if (!(await world.hasher.verify(credential.hash, secret.password))) {
      problems.push(`${who}: the password in secret ${name} does not verify against the credential`);
    }
    return problems;
  }
  const verifies = await Promise.all(
    subject.held.map((password) => world.hasher.verify(credential.hash, password)),
  );
  if (verifies.some(Boolean)) return [];
  return [`${who}: no password the caller or the owner holds verifies against the credential`];
}

async function instanceViolations(
  world: InvariantWorld,
  subject: InstanceSubject,
  instance: DatabaseInstance | undefined,
): Promise<string[]> {
  const what = `instance ${subject.instanceId}`;
  if (!instance) return [`${what}: does not exist`];
  if (!instance.adminSecretId) return [];
  let value: { password?: unknown; username?: unknown };
  try {
    value = JSON.parse(await world.vault.read(instance.adminSecretId)) as typeof value;
  } catch {
    return [`${what}: the administrator's secret does not exist`];
  }
  const problems: string[] = [];
  if (value.username !== instance.adminName) problems.push(`${what}: the secret names another administrator`);
  if (typeof value.password !== 'string' || !subject.held.includes(value.password)) {
    problems.push(`${what}: the secret holds a password neither the caller nor the previous one is`);
  }
  return problems;
}
