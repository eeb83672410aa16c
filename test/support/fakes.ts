/**
 * In-memory fakes of the core's ports, for unit tests of use cases. Each store keeps copies
 * (a caller mutating what it got back never changes the store, as with a real table) and can
 * be told to fail on demand, so compensation paths are as easy to reach as the happy path.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CONTAINER_BLOCKLIST } from '#adapters/blocklist.ts';
import { SERVICE_WORDS } from '#adapters/settings.ts';
import { ConflictError, NotFoundError, SecretNotFoundError, VersionConflictError } from '#core/errors.ts';
import { cryptoRandom } from '#core/generator.ts';
import type { PasswordHasher } from '#core/hashing.ts';
import type { DatabaseInstance, Realm, TrackedSecret, User } from '#core/model.ts';
import type {
  Clock,
  CoreDeps,
  Directory,
  FailureCount,
  FailureStep,
  IdSource,
  Log,
  NewSecret,
  Notification,
  Notifier,
  SecretVault,
  TrackedSecretPage,
  UseCaseDeps,
} from '#core/ports.ts';

/** The blocklist every fake deps share: the build's artifact, the runtime's own instance. */
export const TEST_BLOCKLIST = CONTAINER_BLOCKLIST;

/**
 * How one call fails. `landed`: the write is applied and *then* the call throws, like a
 * timeout that hides a write which succeeded.
 */
export interface Fault {
  error?: Error;
  landed?: boolean;
  /**
   * The call throws without writing, and its write lands later, after the next read of the
   * same record (an attempt the client gave up on, still on its way): still conditional, as
   * DynamoDB would judge it then. Directory writes only.
   */
  late?: boolean;
}

/** Faults queued per method name: each call of that method takes the next one, if any. */
export class FaultPlan<M extends string> {
  private readonly queued = new Map<M, Fault[]>();

  /** Makes the next `times` calls of `method` fail with `fault`. */
  fail(method: M, fault: Fault = {}, times = 1): this {
    const list = this.queued.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(fault);
    this.queued.set(method, list);
    return this;
  }

  /** Forgets every queued fault. */
  clear(): void {
    this.queued.clear();
  }

  /** The fault for this call of `method`, consumed. */
  take(method: M): Fault | undefined {
    return this.queued.get(method)?.shift();
  }
}

/** The default error of an injected fault: what an SDK throws when the network drops. */
export function injectedError(what: string): Error {
  const error = new Error(`injected fault: ${what}`);
  error.name = 'InjectedFault';
  return error;
}

type DirectoryMethod = keyof Directory;

/** A Directory in memory, conditional writes included. */
export class InMemoryDirectory implements Directory {
  readonly realms = new Map<string, Realm>();
  readonly users = new Map<string, User>();
  readonly instances = new Map<string, DatabaseInstance>();
  /** The index of temporary secrets, by name. */
  readonly trackedSecrets = new Map<string, TrackedSecret>();
  readonly faults = new FaultPlan<DirectoryMethod>();

  /** `journal`, when given, records each call (`directory.saveUser`), shared with a vault to check order. */
  constructor(private readonly journal: string[] = []) {}

  async getRealm(realmId: string): Promise<Realm | undefined> {
    this.enter('getRealm');
    return copy(this.realms.get(realmId));
  }

  /** As DynamoDbDirectory: an exact id, else a realm whose name or id matches in any case. */
  async findRealm(idOrName: string): Promise<Realm | undefined> {
    this.enter('findRealm');
    const wanted = idOrName.toLowerCase();
    const byId = this.realms.get(idOrName);
    const byName = [...this.realms.values()].find(
      (r) => r.name.toLowerCase() === wanted || r.realmId.toLowerCase() === wanted,
    );
    return copy(byId ?? byName);
  }

  async createRealm(realm: Realm): Promise<void> {
    this.enter('createRealm');
    const names = (r: Realm) => [r.realmId.toLowerCase(), r.name.toLowerCase()];
    const taken = [...this.realms.values()].some((r) => names(r).some((name) => names(realm).includes(name)));
    if (taken)
      throw new ConflictError(`The realm ${realm.realmId} already exists.`, { reason: 'AlreadyExists' });
    this.realms.set(realm.realmId, copy(realm));
  }

  async replaceRealm(realm: Realm): Promise<void> {
    this.enter('replaceRealm');
    const current = this.realms.get(realm.realmId);
    if (!current || current.name !== realm.name)
      throw new NotFoundError('Realm', 'The realm does not exist.');
    this.realms.set(realm.realmId, copy(realm));
  }

  async getUser(userId: string): Promise<User | undefined> {
    this.enter('getUser');
    const read = copy(this.users.get(userId));
    this.landLateWrites();
    return read;
  }

  async findUsersByUsername(username: string): Promise<User[]> {
    this.enter('findUsersByUsername');
    const wanted = username.toLowerCase();
    return [...this.users.values()].filter((u) => u.username.toLowerCase() === wanted).map((u) => copy(u));
  }

  async findUsersByEmail(email: string): Promise<User[]> {
    this.enter('findUsersByEmail');
    const wanted = email.toLowerCase();
    return [...this.users.values()].filter((u) => u.email?.toLowerCase() === wanted).map((u) => copy(u));
  }

  async createUser(user: User): Promise<void> {
    this.enter('createUser');
    const taken = [...this.users.values()].some(
      (u) =>
        u.userId === user.userId ||
        (u.realmId === user.realmId && u.username.toLowerCase() === user.username.toLowerCase()),
    );
    if (taken)
      throw new ConflictError(`The user ${user.userId} already exists.`, { reason: 'AlreadyExists' });
    this.users.set(user.userId, copy(user));
  }

  async saveUser(next: User, expectedVersion: number): Promise<void> {
    const fault = this.enter('saveUser', true);
    if (fault?.late) {
      this.lateWrites.push(() => {
        if (this.users.get(next.userId)?.version === expectedVersion) this.users.set(next.userId, copy(next));
      });
      throw fault.error ?? injectedError('saveUser');
    }
    const stored = this.users.get(next.userId);
    if (!stored || stored.version !== expectedVersion) throw new VersionConflictError();
    this.users.set(next.userId, copy(next));
    if (fault) throw fault.error ?? injectedError('saveUser');
  }

  async countFailure(userId: string, credentialHash: string, step: FailureStep): Promise<FailureCount> {
    const fault = this.enter('countFailure', true);
    const stored = this.users.get(userId);
    const next = countedFailure(stored, credentialHash, step);
    if (next) this.users.set(userId, copy(next));
    if (fault) throw fault.error ?? injectedError('countFailure');
    // As DynamoDB's ReturnValuesOnConditionCheckFailure: the record the failed condition saw.
    return next ? { landed: copy(next) } : { current: copy(stored) };
  }

  async getInstance(instanceId: string): Promise<DatabaseInstance | undefined> {
    this.enter('getInstance');
    const read = copy(this.instances.get(instanceId));
    this.landLateWrites();
    return read;
  }

  async saveInstance(next: DatabaseInstance, expectedVersion: number | undefined): Promise<void> {
    const fault = this.enter('saveInstance', true);
    if (fault?.late) {
      this.lateWrites.push(() => {
        if (this.instances.get(next.instanceId)?.version === expectedVersion) {
          this.instances.set(next.instanceId, copy(next));
        }
      });
      throw fault.error ?? injectedError('saveInstance');
    }
    const stored = this.instances.get(next.instanceId);
    if (expectedVersion === undefined ? stored !== undefined : stored?.version !== expectedVersion) {
      throw new VersionConflictError();
    }
    this.instances.set(next.instanceId, copy(next));
    if (fault) throw fault.error ?? injectedError('saveInstance');
  }

  async trackSecret(secret: TrackedSecret): Promise<void> {
    const fault = this.enter('trackSecret', true);
    this.trackedSecrets.set(secret.name, copy(secret));
    if (fault) throw fault.error ?? injectedError('trackSecret');
  }

  async untrackSecret(name: string): Promise<void> {
    const fault = this.enter('untrackSecret', true);
    this.trackedSecrets.delete(name);
    if (fault) throw fault.error ?? injectedError('untrackSecret');
  }

  async listTrackedSecrets(page: { after?: string; limit?: number } = {}): Promise<TrackedSecretPage> {
    this.enter('listTrackedSecrets');
    const names = [...this.trackedSecrets.keys()]
      .sort()
      .filter((name) => page.after === undefined || name > page.after);
    const taken = names.slice(0, page.limit ?? 100);
    const secrets = taken.map((name) => copy(this.trackedSecrets.get(name) as TrackedSecret));
    const last = taken.at(-1);
    return taken.length < names.length && last !== undefined ? { secrets, next: last } : { secrets };
  }

  /** Writes that threw without landing and land after the next read (`Fault.late`). */
  private lateWrites: Array<() => void> = [];

  private landLateWrites(): void {
    const writes = this.lateWrites;
    this.lateWrites = [];
    for (const write of writes) write();
  }

  /**
   * Records the call and applies its fault: one that did not land throws here; one that
   * landed (or lands late) is handed back to a write, which applies itself and then throws.
   */
  private enter(method: DirectoryMethod, canLand = false): Fault | undefined {
    this.journal.push(`directory.${method}`);
    const fault = this.faults.take(method);
    if (!fault) return undefined;
    if ((fault.landed || fault.late) && canLand) return fault;
    throw fault.error ?? injectedError(method);
  }
}

/** The user after one failure counted by `step`, or undefined where DynamoDB's condition fails. */
function countedFailure(user: User | undefined, credentialHash: string, step: FailureStep): User | undefined {
  if (!user || user.credential?.hash !== credentialHash) return undefined;
  const next: User = { ...user, version: user.version + 1 };
  if (step.kind === 'restart') {
    if (user.lockedUntil === undefined || user.lockedUntil > step.expiredBy) return undefined;
    next.failedAttempts = 1;
    delete next.lockedUntil;
    if (step.lockUntil !== undefined) next.lockedUntil = step.lockUntil;
    return next;
  }
  if (user.lockedUntil !== undefined) return undefined;
  if (step.kind === 'lock' && user.failedAttempts < step.atLeast) return undefined;
  if (step.kind === 'count' && step.below !== undefined && user.failedAttempts >= step.below)
    return undefined;
  next.failedAttempts = user.failedAttempts + 1;
  if (step.kind === 'lock') next.lockedUntil = step.lockUntil;
  return next;
}

type VaultMethod = keyof SecretVault;

export interface FakeSecret extends NewSecret {
  secretId: string;
}

/** A SecretVault in memory, with Secrets Manager's ARN-shaped ids and unique names. */
export class InMemorySecretVault implements SecretVault {
  readonly secrets = new Map<string, FakeSecret>();
  readonly faults = new FaultPlan<VaultMethod>();
  /** Every id ever deleted, in order. */
  readonly deleted: string[] = [];
  private counter = 0;

  constructor(private readonly journal: string[] = []) {}

  async create(secret: NewSecret): Promise<{ secretId: string }> {
    const fault = this.enter('create');
    if ([...this.secrets.values()].some((s) => s.name === secret.name)) {
      throw new Error(`a secret named ${secret.name} already exists`);
    }
    this.counter++;
    const secretId = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${secret.name}-${String(this.counter).padStart(6, '0')}`;
    this.secrets.set(secretId, { ...secret, tags: { ...secret.tags }, secretId });
    if (fault) throw fault.error ?? injectedError('create');
    return { secretId };
  }

  async read(secretId: string): Promise<string> {
    this.enter('read');
    const secret = this.secrets.get(secretId);
    if (!secret) throw new SecretNotFoundError(secretId);
    return secret.value;
  }

  async putValue(secretId: string, value: string): Promise<void> {
    const fault = this.enter('putValue');
    const secret = this.secrets.get(secretId);
    if (!secret) throw new SecretNotFoundError(secretId);
    secret.value = value;
    if (fault) throw fault.error ?? injectedError('putValue');
  }

  async delete(secretId: string): Promise<void> {
    const fault = this.enter('delete');
    // By ARN or, like Secrets Manager, by name.
    const byName = [...this.secrets.values()].find((s) => s.name === secretId)?.secretId;
    this.secrets.delete(byName ?? secretId);
    this.deleted.push(secretId);
    if (fault) throw fault.error ?? injectedError('delete');
  }

  /** Whether a secret with this id exists now. */
  has(secretId: string): boolean {
    return this.secrets.has(secretId);
  }

  private enter(method: VaultMethod): Fault | undefined {
    this.journal.push(`vault.${method}`);
    const fault = this.faults.take(method);
    if (!fault) return undefined;
    if (fault.landed) return fault;
    throw fault.error ?? injectedError(method);
  }
}

/**
 * A fast stand-in for argon2id (a salted SHA-256, compared in constant time) so unit tests
 * of use cases do not spend 20 MiB and tens of milliseconds per hash. Never for production.
 */
export const fastHasher: PasswordHasher = {
  async hash(password) {
    const salt = randomBytes(8).toString('hex');
    return `$fake$${salt}$${digest(salt, password)}`;
  },
  async verify(phc, password) {
    const [, kind, salt, expected] = phc.split('$');
    if (kind !== 'fake' || !salt || !expected) return false;
    const actual = Buffer.from(digest(salt, password));
    const wanted = Buffer.from(expected);
    return actual.length === wanted.length && timingSafeEqual(actual, wanted);
  },
};

function digest(salt: string, password: string): string {
  return createHash('sha256').update(`${salt}:${password}`).digest('hex');
}

/** A clock that stands still until told to move. */
export class FixedClock implements Clock {
  constructor(private current = new Date('2026-01-15T10:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

/** Ids `id-1`, `id-2`, ... */
export function sequentialIds(prefix = 'id-'): IdSource {
  let n = 0;
  return { next: () => `${prefix}${++n}` };
}

export interface LogEntry {
  level: 'info' | 'warn';
  message: string;
  attributes: Record<string, unknown> | undefined;
}

/** A Log that keeps every entry. */
export class RecordingLog implements Log {
  readonly entries: LogEntry[] = [];
  info(message: string, attributes?: Record<string, unknown>): void {
    this.entries.push({ level: 'info', message, attributes });
  }
  warn(message: string, attributes?: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', message, attributes });
  }
}

/** A Notifier that keeps every notification. */
export class RecordingNotifier implements Notifier {
  readonly sent: Notification[] = [];
  readonly faults = new FaultPlan<'send'>();
  async send(notification: Notification): Promise<void> {
    const fault = this.faults.take('send');
    if (fault) throw fault.error ?? injectedError('send');
    this.sent.push({ ...notification });
  }
}

export interface FakeDeps extends UseCaseDeps {
  directory: InMemoryDirectory;
  vault: InMemorySecretVault;
  clock: FixedClock;
  log: RecordingLog;
  notifier: RecordingNotifier;
  /** Calls of the directory and the vault, in order. */
  journal: string[];
}

/**
 * Use-case deps made of fakes; pass `overrides` to swap any of them (the fields typed as
 * fakes above are then whatever was passed).
 */
export function fakeDeps(overrides: Partial<CoreDeps> = {}): FakeDeps {
  const journal: string[] = [];
  return {
    directory: new InMemoryDirectory(journal),
    vault: new InMemorySecretVault(journal),
    hasher: fastHasher,
    clock: new FixedClock(),
    ids: sequentialIds(),
    random: cryptoRandom,
    log: new RecordingLog(),
    notifier: new RecordingNotifier(),
    config: {
      temporarySecretPrefix: 'rekey/temp/',
      databaseSecretPrefix: 'rekey/ddm/',
      serviceWords: SERVICE_WORDS,
    },
    // The real list, from the artifact the build wrote (scripts/build-blocklist.mjs).
    blocklist: TEST_BLOCKLIST,
    journal,
    ...overrides,
  } as FakeDeps;
}

function copy<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}
