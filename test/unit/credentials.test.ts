import { beforeEach, describe, expect, it } from 'vitest';
import {
  actedBy,
  assertPasswordManagedHere,
  assertPasswordSettable,
  asUnavailable,
  issueTemporaryPassword,
  loadUserForAdmin,
  MAX_HISTORY,
  setGivenPassword,
  switchCredential,
} from '#core/credentials.ts';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  type RekeyError,
  UnavailableError,
  VersionConflictError,
} from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import type { Credential, Realm, TemporaryPasswordSecret, User } from '#core/model.ts';
import { checkPassword, POLICY_PRESETS } from '#core/policy.ts';
import { type FakeDeps, fakeDeps } from '#test/support/fakes.ts';

const OLD_PASSWORD = 'Old-Password-123';
const admin = { subject: 'admin@acme', realmId: 'acme' };

let deps: FakeDeps;
let realm: Realm;

beforeEach(async () => {
  deps = fakeDeps();
  realm = newRealm('acme', 'Acme Corp', { now: deps.clock.now() });
  await deps.directory.createRealm(realm);
});

/** Creates a user whose current password is OLD_PASSWORD, PERMANENT (known to the user). */
async function userWithPermanentPassword(overrides: Partial<User> = {}): Promise<User> {
  const user: User = {
    ...newUser({ realmId: 'acme', userId: 'u-1', username: 'alice' }, deps.clock.now()),
    credential: {
      hash: await deps.hasher.hash(OLD_PASSWORD),
      kind: 'PERMANENT',
      setAt: '2025-01-01T00:00:00.000Z',
    },
    ...overrides,
  };
  await deps.directory.createUser(user);
  return user;
}

/** Creates a user whose current password is TEMPORARY, held in a secret of the vault. */
async function userWithTemporaryPassword(): Promise<{ user: User; secretId: string }> {
  const value: TemporaryPasswordSecret = {
    userId: 'u-1',
    username: 'alice',
    password: OLD_PASSWORD,
    expiresAt: '2026-01-20T00:00:00.000Z',
  };
  const { secretId } = await deps.vault.create({
    name: 'rekey/temp/acme/u-1/previous',
    value: JSON.stringify(value),
    description: 'rekey temporary password',
    tags: {},
  });
  const user = await userWithPermanentPassword({
    credential: {
      hash: await deps.hasher.hash(OLD_PASSWORD),
      kind: 'TEMPORARY',
      setAt: '2026-01-13T00:00:00.000Z',
      expiresAt: value.expiresAt,
      secretId,
    },
  });
  deps.journal.length = 0;
  return { user, secretId };
}

/** A new credential whose password sits in a fresh secret, as issueTemporaryPassword makes it. */
async function newSecretCredential(password = 'New-Password-456'): Promise<Credential> {
  const { secretId } = await deps.vault.create({
    name: 'rekey/temp/acme/u-1/new',
    value: JSON.stringify({
      userId: 'u-1',
      username: 'alice',
      password,
      expiresAt: '2026-01-22T10:00:00.000Z',
    }),
    description: 'rekey temporary password',
    tags: {},
  });
  deps.journal.length = 0;
  return {
    hash: await deps.hasher.hash(password),
    kind: 'TEMPORARY',
    setAt: deps.clock.now().toISOString(),
    expiresAt: '2026-01-22T10:00:00.000Z',
    secretId,
  };
}

/**
 * The invariant every fault must keep: the user's credential verifies against a password
 * somebody holds — the user's own (`held`), or the one in the secret the credential names,
 * which must then exist.
 */
async function expectSignInPossible(userId: string, held: string[] = [OLD_PASSWORD]): Promise<void> {
  deps.directory.faults.clear();
  deps.vault.faults.clear();
  const credential = (await deps.directory.getUser(userId))?.credential;
  if (!credential) throw new Error(`user ${userId} has no credential`);
  if (credential.secretId) {
    expect(deps.vault.has(credential.secretId), 'the credential’s secret exists').toBe(true);
    const { password } = JSON.parse(await deps.vault.read(credential.secretId)) as TemporaryPasswordSecret;
    expect(await deps.hasher.verify(credential.hash, password), 'the secret holds the password').toBe(true);
    return;
  }
  const verified = await Promise.all(held.map((p) => deps.hasher.verify(credential.hash, p)));
  expect(verified, 'a held password verifies').toContain(true);
}

/** The error `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('switchCredential', () => {
  it('writes the credential conditionally, clears the lock-out and keeps the old hash in history', async () => {
    const user = await userWithPermanentPassword({
      failedAttempts: 7,
      lockedUntil: '2026-01-15T10:10:00.000Z',
      passwordHistory: ['$fake$older$1'],
    });
    const credential = await newSecretCredential();

    const next = await switchCredential(deps, user, credential);

    const stored = await deps.directory.getUser('u-1');
    expect(stored).toEqual(next);
    expect(stored?.credential).toEqual(credential);
    expect(stored?.version).toBe(user.version + 1);
    expect(stored?.failedAttempts).toBe(0);
    expect(stored).not.toHaveProperty('lockedUntil');
    expect(stored?.passwordHistory).toEqual([user.credential?.hash, '$fake$older$1']);
  });

  it(`keeps at most ${MAX_HISTORY} previous hashes`, async () => {
    const history = Array.from({ length: MAX_HISTORY }, (_, i) => `$fake$h$${i}`);
    const user = await userWithPermanentPassword({ passwordHistory: history });
    const next = await switchCredential(deps, user, await newSecretCredential());
    expect(next.passwordHistory).toHaveLength(MAX_HISTORY);
    expect(next.passwordHistory[0]).toBe(user.credential?.hash);
    expect(next.passwordHistory).not.toContain(`$fake$h$${MAX_HISTORY - 1}`);
  });

  it('deletes the temporary secret it replaces, only after the write', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    const credential = await newSecretCredential();

    await switchCredential(deps, user, credential);

    expect(deps.vault.has(previous)).toBe(false);
    expect(deps.journal).toEqual(['directory.saveUser', 'vault.delete', 'directory.untrackSecret']);
    await expectSignInPossible('u-1');
  });

  it('succeeds when deleting the replaced secret fails, and leaves it to the sweeper', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    const credential = await newSecretCredential();
    deps.vault.faults.fail('delete');

    const next = await switchCredential(deps, user, credential);

    expect(next.credential).toEqual(credential);
    expect(deps.log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', attributes: expect.objectContaining({ secretId: previous }) }),
    );
    await expectSignInPossible('u-1');
  });

  it('deletes the new secret when the conditional write loses, and answers ConflictError', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    const credential = await newSecretCredential();
    // Someone else changed the user after it was read (not only its sign-in bookkeeping).
    await deps.directory.saveUser(
      { ...user, email: 'moved@example.com', version: user.version + 1 },
      user.version,
    );

    const error = await rejection(switchCredential(deps, user, credential));

    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).reason).toBe('ConcurrentUpdate');
    expect(error.cause).toBeInstanceOf(VersionConflictError);
    expect(deps.vault.has(credential.secretId ?? '')).toBe(false);
    // The winner's record stands, with the old credential and its secret.
    expect((await deps.directory.getUser('u-1'))?.email).toBe('moved@example.com');
    expect(deps.vault.has(previous)).toBe(true);
    await expectSignInPossible('u-1');
  });

  it('keeps the new secret and answers Unavailable when the record cannot be read after a refused write', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    const credential = await newSecretCredential();
    await deps.directory.saveUser({ ...user, failedAttempts: 1, version: user.version + 1 }, user.version);
    // The refused write may be the SDK's retry of one that landed: without a read, nobody can tell.
    deps.directory.faults.fail('getUser', {}, 5);

    const error = await rejection(switchCredential(deps, user, credential));

    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).not.toMatch(/changed nothing/);
    expect(deps.vault.has(credential.secretId ?? '')).toBe(true);
    expect(deps.vault.has(previous)).toBe(true);
  });

  it('switches on the fresh record, with the same secret, when the user moved only by sign-in bookkeeping', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    const credential = await newSecretCredential();
    // A wrong guess counted and locked the user after it was read, then a fence moved it on.
    const locked = {
      ...user,
      failedAttempts: 10,
      lockedUntil: '2099-01-01T00:00:00.000Z',
      version: user.version + 1,
    };
    await deps.directory.saveUser(locked, user.version);
    await deps.directory.saveUser({ ...locked, version: locked.version + 1 }, locked.version);

    const next = await switchCredential(deps, user, credential);

    const stored = await deps.directory.getUser('u-1');
    expect(stored?.credential?.secretId).toBe(credential.secretId);
    expect(stored?.version).toBe(user.version + 3);
    expect(stored?.failedAttempts).toBe(0);
    expect(stored?.lockedUntil).toBeUndefined();
    expect(next).toEqual(stored);
    expect(deps.vault.has(credential.secretId ?? '')).toBe(true);
    // The credential it replaced was the one read: its secret goes.
    expect(deps.vault.has(previous)).toBe(false);
    await expectSignInPossible('u-1');
  });

  it('deletes the new secret when the table fails, and answers UnavailableError', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    const credential = await newSecretCredential();
    deps.directory.faults.fail('saveUser');

    const error = await rejection(switchCredential(deps, user, credential));

    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).not.toContain('injected');
    expect(deps.vault.has(credential.secretId ?? '')).toBe(false);
    expect(deps.vault.has(previous)).toBe(true);
    expect((await deps.directory.getUser('u-1'))?.credential?.secretId).toBe(previous);
    await expectSignInPossible('u-1');
  });

  it('succeeds and keeps the new secret when a write reported as failed had landed', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    const credential = await newSecretCredential();
    deps.directory.faults.fail('saveUser', { landed: true });

    const next = await switchCredential(deps, user, credential);

    expect(next.credential).toEqual(credential);
    expect(deps.vault.has(credential.secretId ?? '')).toBe(true);
    expect(deps.vault.has(previous)).toBe(false);
    await expectSignInPossible('u-1');
  });

  it('succeeds when an SDK retry of a write that had landed loses its own condition', async () => {
    const { user } = await userWithTemporaryPassword();
    const credential = await newSecretCredential();
    deps.directory.faults.fail('saveUser', { landed: true, error: new VersionConflictError() });

    const next = await switchCredential(deps, user, credential);

    expect(next.credential).toEqual(credential);
    expect(deps.vault.has(credential.secretId ?? '')).toBe(true);
    await expectSignInPossible('u-1');
  });

  it('keeps the new secret and raises when the write failed and the re-read fails too', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    const credential = await newSecretCredential();
    deps.directory.faults.fail('saveUser').fail('getUser');

    const error = await rejection(switchCredential(deps, user, credential));

    expect(error).toBeInstanceOf(UnavailableError);
    // Whether the write landed is unknown: the secret stays (an orphan at worst, for the sweeper).
    expect(deps.vault.has(credential.secretId ?? '')).toBe(true);
    expect(deps.vault.has(previous)).toBe(true);
    expect(deps.log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', attributes: { secretId: credential.secretId } }),
    );
    await expectSignInPossible('u-1');
  });

  it('never strands a landed credential when the re-read fails: its secret is kept', async () => {
    const { user } = await userWithTemporaryPassword();
    const credential = await newSecretCredential();
    deps.directory.faults.fail('saveUser', { landed: true }).fail('getUser');

    await expect(switchCredential(deps, user, credential)).rejects.toBeInstanceOf(UnavailableError);

    expect((await deps.directory.getUser('u-1'))?.credential).toEqual(credential);
    await expectSignInPossible('u-1');
  });

  it('passes an exposed error of the directory through as it is', async () => {
    const user = await userWithPermanentPassword();
    const exposed = new UnavailableError('The directory is unavailable; retry later.');
    deps.directory.faults.fail('saveUser', { error: exposed });
    await expect(switchCredential(deps, user, await newSecretCredential())).rejects.toBe(exposed);
  });
});

describe('issueTemporaryPassword', () => {
  const readSecret = async (secretId: string) =>
    JSON.parse(await deps.vault.read(secretId)) as TemporaryPasswordSecret;

  it('indexes the secret, stores it, then switches the credential', async () => {
    const user = await userWithPermanentPassword();
    deps.journal.length = 0;
    await issueTemporaryPassword(deps, user, realm, 'req-1');
    expect(deps.journal).toEqual(['directory.trackSecret', 'vault.create', 'directory.saveUser']);
  });

  it('stores {userId, username, password, expiresAt} and a TEMPORARY credential that verifies it', async () => {
    const user = await userWithPermanentPassword();
    const issued = await issueTemporaryPassword(deps, user, realm, 'req-1');

    const expiresAt = new Date(deps.clock.now().getTime() + 7 * 24 * 3600 * 1000).toISOString();
    expect(issued.timeCreated).toBe(deps.clock.now().toISOString());
    expect(issued.expiresAt).toBe(expiresAt);
    expect(await readSecret(issued.secretId)).toEqual({
      userId: 'u-1',
      username: 'alice',
      password: issued.password,
      expiresAt,
    });
    const stored = await deps.directory.getUser('u-1');
    expect(stored?.credential).toEqual({
      hash: expect.any(String),
      kind: 'TEMPORARY',
      setAt: issued.timeCreated,
      expiresAt,
      secretId: issued.secretId,
    });
    expect(await deps.hasher.verify(stored?.credential?.hash ?? '', issued.password)).toBe(true);
    expect(checkPassword(POLICY_PRESETS.oci, issued.password, { username: 'alice' })).toBeUndefined();
  });

  it('names and tags the secret by realm, user and request, with nothing secret outside its value', async () => {
    const user = await userWithPermanentPassword();
    const issued = await issueTemporaryPassword(deps, user, realm, 'req-1');
    const secret = deps.vault.secrets.get(issued.secretId);
    expect(secret?.name).toBe('rekey/temp/acme/u-1/req-1');
    expect(secret?.tags).toEqual({
      'rekey:realm': 'acme',
      'rekey:user': 'u-1',
      'rekey:expires-at': issued.expiresAt,
    });
    const outside = JSON.stringify({
      name: secret?.name,
      description: secret?.description,
      tags: secret?.tags,
    });
    expect(outside).not.toContain(issued.password);
  });

  it('honours the realm’s lifetime and its own policy', async () => {
    const strict: Realm = { ...realm, temporaryPasswordLifetimeSeconds: 3600, policy: 'huawei-ddm' };
    const user = await userWithPermanentPassword();
    const issued = await issueTemporaryPassword(deps, user, strict, 'req-1');
    expect(Date.parse(issued.expiresAt) - deps.clock.now().getTime()).toBe(3600 * 1000);
    expect(checkPassword(POLICY_PRESETS['huawei-ddm'], issued.password)).toBeUndefined();
  });

  it('issues a PERMANENT credential without expiry when asked, while its secret still expires', async () => {
    const user = await userWithPermanentPassword();
    const issued = await issueTemporaryPassword(deps, user, realm, 'req-1', { kind: 'PERMANENT' });
    const credential = (await deps.directory.getUser('u-1'))?.credential;
    expect(credential?.kind).toBe('PERMANENT');
    expect(credential).not.toHaveProperty('expiresAt');
    expect((await readSecret(issued.secretId)).expiresAt).toBe(issued.expiresAt);
  });

  it('unlocks a locked-out user', async () => {
    const user = await userWithPermanentPassword({
      failedAttempts: 10,
      lockedUntil: '2026-01-15T10:15:00.000Z',
    });
    await issueTemporaryPassword(deps, user, realm, 'req-1');
    const stored = await deps.directory.getUser('u-1');
    expect(stored?.failedAttempts).toBe(0);
    expect(stored?.lockedUntil).toBeUndefined();
  });

  it('refuses a federated user before generating or storing anything', async () => {
    const user = await userWithPermanentPassword({ federated: true });
    deps.journal.length = 0;
    const error = await rejection(issueTemporaryPassword(deps, user, realm, 'req-1'));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).reason).toBe('Federated');
    expect(deps.journal).toEqual([]);
  });

  it('changes no credential when the vault fails to store the secret, and leaves the index entry for the sweeper', async () => {
    const user = await userWithPermanentPassword();
    deps.journal.length = 0;
    deps.vault.faults.fail('create');

    await expect(issueTemporaryPassword(deps, user, realm, 'req-1')).rejects.toBeInstanceOf(UnavailableError);

    expect(deps.journal).toEqual(['directory.trackSecret', 'vault.create']);
    expect([...deps.directory.trackedSecrets.keys()]).toEqual(['rekey/temp/acme/u-1/req-1']);
    expect(await deps.directory.getUser('u-1')).toEqual(user);
    expect(deps.vault.secrets.size).toBe(0);
    await expectSignInPossible('u-1');
  });

  it('leaves only an orphan secret, never a credential, when the vault stored it but reported a failure', async () => {
    const user = await userWithPermanentPassword();
    deps.vault.faults.fail('create', { landed: true });

    await expect(issueTemporaryPassword(deps, user, realm, 'req-1')).rejects.toBeInstanceOf(UnavailableError);

    expect(await deps.directory.getUser('u-1')).toEqual(user);
    await expectSignInPossible('u-1');
  });

  it('deletes its secret when another request changed the user meanwhile', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    await deps.directory.saveUser(
      { ...user, phone: '+15550100999', version: user.version + 1 },
      user.version,
    );

    await expect(issueTemporaryPassword(deps, user, realm, 'req-1')).rejects.toBeInstanceOf(ConflictError);

    expect([...deps.vault.secrets.keys()]).toEqual([previous]);
    await expectSignInPossible('u-1');
  });

  it('deletes its secret when the table fails', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    deps.directory.faults.fail('saveUser');

    await expect(issueTemporaryPassword(deps, user, realm, 'req-1')).rejects.toBeInstanceOf(UnavailableError);

    expect([...deps.vault.secrets.keys()]).toEqual([previous]);
    await expectSignInPossible('u-1');
  });

  it('succeeds when the table reported a failure after the write landed', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    deps.directory.faults.fail('saveUser', { landed: true });

    const issued = await issueTemporaryPassword(deps, user, realm, 'req-1');

    expect([...deps.vault.secrets.keys()]).toEqual([issued.secretId]);
    expect(deps.vault.has(previous)).toBe(false);
    await expectSignInPossible('u-1');
  });

  it('keeps its secret and raises when neither the write nor the re-read answers', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    deps.directory.faults.fail('saveUser').fail('getUser');

    await expect(issueTemporaryPassword(deps, user, realm, 'req-1')).rejects.toBeInstanceOf(UnavailableError);

    expect(deps.vault.secrets.size).toBe(2);
    expect(deps.vault.has(previous)).toBe(true);
    await expectSignInPossible('u-1');
  });

  it('deletes the previous temporary secret once the new credential is in place', async () => {
    const { user, secretId: previous } = await userWithTemporaryPassword();
    const issued = await issueTemporaryPassword(deps, user, realm, 'req-1');
    expect(deps.vault.deleted).toEqual([previous]);
    expect(deps.journal).toEqual([
      'directory.trackSecret',
      'vault.create',
      'directory.saveUser',
      'vault.delete',
      'directory.untrackSecret',
    ]);
    expect(deps.vault.has(issued.secretId)).toBe(true);
  });

  it('succeeds when deleting the previous secret fails', async () => {
    const { user } = await userWithTemporaryPassword();
    deps.vault.faults.fail('delete');
    const issued = await issueTemporaryPassword(deps, user, realm, 'req-1');
    expect((await deps.directory.getUser('u-1'))?.credential?.secretId).toBe(issued.secretId);
    await expectSignInPossible('u-1');
  });

  it('never writes the password into a log entry', async () => {
    const { user } = await userWithTemporaryPassword();
    deps.vault.faults.fail('delete');
    const issued = await issueTemporaryPassword(deps, user, realm, 'req-1');
    expect(JSON.stringify(deps.log.entries)).not.toContain(issued.password);
  });
});

describe('loadUserForAdmin', () => {
  it('returns the user and its realm when the admin’s realm holds them', async () => {
    await userWithPermanentPassword();
    const { user, realm: found } = await loadUserForAdmin(deps, admin, 'u-1');
    expect(user.userId).toBe('u-1');
    expect(found).toEqual(realm);
  });

  it('answers a user of another realm exactly like a user that does not exist', async () => {
    await userWithPermanentPassword();
    const other = await rejection(loadUserForAdmin(deps, { subject: 'x', realmId: 'other' }, 'u-1'));
    const missing = await rejection(loadUserForAdmin(deps, { subject: 'x', realmId: 'other' }, 'u-404'));
    expect(other).toBeInstanceOf(NotFoundError);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(other.message).toBe(missing.message.replace('u-404', 'u-1'));
  });
});

describe('assertPasswordManagedHere', () => {
  it('refuses a federated user and accepts any other', () => {
    const base = newUser({ realmId: 'acme', userId: 'u-1', username: 'alice' });
    expect(() => assertPasswordManagedHere({ ...base, federated: true })).toThrow(ConflictError);
    expect(() => assertPasswordManagedHere(base)).not.toThrow();
  });
});

describe('a realm with SSO logon enabled', () => {
  let sso: Realm;
  beforeEach(async () => {
    sso = newRealm('acme-sso', 'Acme SSO', { ssoEnabled: true, now: deps.clock.now() });
    await deps.directory.createRealm(sso);
  });

  it('assertPasswordSettable refuses it (SSOEnabled, before federation), a federated user elsewhere, and nothing else', () => {
    const base = newUser({ realmId: 'acme', userId: 'u-1', username: 'alice' });
    const refusal = (user: User, where: Realm) => {
      try {
        assertPasswordSettable(user, where);
        return undefined;
      } catch (error) {
        return error as RekeyError;
      }
    };
    const ssoRefusal = refusal({ ...base, realmId: 'acme-sso' }, sso);
    expect(ssoRefusal).toBeInstanceOf(ConflictError);
    expect(ssoRefusal?.reason).toBe('SSOEnabled');
    // The message names the rule, not the realm or the user the caller sent.
    expect(ssoRefusal?.message).not.toMatch(/acme|u-1/);
    expect(refusal({ ...base, realmId: 'acme-sso', federated: true }, sso)?.reason).toBe('SSOEnabled');
    expect(refusal({ ...base, federated: true }, realm)?.reason).toBe('Federated');
    expect(refusal(base, realm)).toBeUndefined();
  });

  it('issueTemporaryPassword refuses it before generating, indexing or storing anything', async () => {
    const user = await userWithPermanentPassword({ realmId: 'acme-sso' });
    deps.journal.length = 0;
    const error = await rejection(issueTemporaryPassword(deps, user, sso, 'req-sso'));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).reason).toBe('SSOEnabled');
    expect(deps.journal).toEqual([]);
    expect(deps.vault.secrets.size).toBe(0);
    expect((await deps.directory.getUser('u-1'))?.version).toBe(user.version);
  });

  it('setGivenPassword refuses it without a write, and sets a password in a realm without SSO logon', async () => {
    const user = await userWithPermanentPassword({ realmId: 'acme-sso' });
    const credential: Credential = {
      hash: await deps.hasher.hash('New-Password-456'),
      kind: 'PERMANENT',
      setAt: 'now',
    };
    deps.journal.length = 0;
    const error = await rejection(setGivenPassword(deps, user, sso, credential));
    expect((error as RekeyError).reason).toBe('SSOEnabled');
    expect(deps.journal).toEqual([]);

    const next = await setGivenPassword(deps, user, realm, credential);
    expect(next.version).toBe(user.version + 1);
    expect((await deps.directory.getUser('u-1'))?.credential?.hash).toBe(credential.hash);
  });
});

describe('actedBy', () => {
  it('names the actor, the realm and the request, and nothing else', () => {
    expect(actedBy(admin, 'req-9')).toEqual({ actor: 'admin@acme', realmId: 'acme', requestId: 'req-9' });
  });
});

describe('asUnavailable', () => {
  it('passes exposed errors through and hides any other behind UnavailableError', () => {
    const exposed = new InvalidInputError('bad');
    expect(asUnavailable(exposed)).toBe(exposed);
    const hidden = asUnavailable(new Error('socket hang up at 10.0.0.1'));
    expect(hidden).toBeInstanceOf(UnavailableError);
    expect((hidden as RekeyError).message).not.toContain('10.0.0.1');
  });
});
