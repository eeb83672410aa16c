import { beforeEach, describe, expect, it } from 'vitest';
import { authenticate, NOT_AUTHENTICATED_MESSAGE } from '#core/authentication.ts';
import {
  ConflictError,
  InvalidInputError,
  NotAuthenticatedError,
  NotFoundError,
  PreconditionFailedError,
  UnavailableError,
  VersionConflictError,
} from '#core/errors.ts';
import { DUMMY_HASH, type PasswordHasher } from '#core/hashing.ts';
import { withFailureCounted } from '#core/lockout.ts';
import type { Credential, User } from '#core/model.ts';
import { changePassword } from '#core/use-cases/change-password.ts';
import { newRealm, newUser } from '#infra/local/demo.ts';
import { type FakeDeps, fakeDeps, fastHasher } from '#test/support/fakes.ts';

const CURRENT = 'Current-Pass-123';
const NEW = 'Brand-New-Pass-456';

/** fastHasher, recording which hashes each verification ran against. */
function countingHasher(): PasswordHasher & { verified: string[] } {
  const verified: string[] = [];
  return {
    verified,
    hash: (password) => fastHasher.hash(password),
    verify: (phc, password) => {
      verified.push(phc);
      return fastHasher.verify(phc, password);
    },
  };
}

describe('changePassword', () => {
  let deps: FakeDeps;
  let hasher: ReturnType<typeof countingHasher>;

  async function addUser(
    input: { userId: string; username: string; realmId?: string; email?: string },
    credential: Partial<Credential> & { password?: string } = {},
  ): Promise<User> {
    const { password = CURRENT, ...rest } = credential;
    const user: User = {
      ...newUser({ realmId: 'r1', ...input }, deps.clock.now()),
      credential: {
        hash: await fastHasher.hash(password),
        kind: 'PERMANENT',
        setAt: '2026-01-01T00:00:00Z',
        ...rest,
      },
    };
    await deps.directory.createUser(user);
    return user;
  }
  const stored = async (userId: string) => (await deps.directory.getUser(userId)) as User;
  const change = (input: Partial<Parameters<typeof changePassword>[1]> = {}) =>
    changePassword(deps, { username: 'alice', currentPassword: CURRENT, newPassword: NEW, ...input });

  beforeEach(async () => {
    hasher = countingHasher();
    deps = fakeDeps({ hasher });
    await deps.directory.createRealm(newRealm('r1', 'acme', { now: deps.clock.now() }));
    await addUser({ userId: 'u1', username: 'alice', email: 'alice@example.com' });
  });

  it('sets a permanent credential, keeps the old hash in the history and tells the user', async () => {
    const before = await stored('u1');
    await change();
    const after = await stored('u1');
    expect(after.credential?.kind).toBe('PERMANENT');
    expect(await fastHasher.verify(after.credential?.hash ?? '', NEW)).toBe(true);
    expect(after.passwordHistory[0]).toBe(before.credential?.hash);
    expect(deps.notifier.sent).toEqual([
      expect.objectContaining({
        channel: 'email',
        to: 'alice@example.com',
        subject: 'Your password was changed',
      }),
    ]);
    expect(JSON.stringify(deps.notifier.sent)).not.toContain(NEW);
  });

  it('verifies an unknown username against the dummy hash, once, and creates no state', async () => {
    const before = structuredClone([...deps.directory.users.entries()]);
    await expect(change({ username: 'nobody' })).rejects.toThrow(NotAuthenticatedError);
    expect(hasher.verified).toEqual([DUMMY_HASH]);
    expect([...deps.directory.users.entries()]).toEqual(before);
  });

  it('makes the same directory calls for an unknown user, a wrong password and a locked account', async () => {
    const journals: string[][] = [];
    const attempt = async (input: Parameters<typeof change>[0]) => {
      const from = deps.journal.length;
      await expect(change(input)).rejects.toThrow(NOT_AUTHENTICATED_MESSAGE);
      journals.push(deps.journal.slice(from));
    };
    await attempt({ username: 'nobody' });
    await attempt({ currentPassword: 'wrong' });
    const user = await stored('u1');
    await deps.directory.saveUser(
      { ...user, lockedUntil: '2026-01-15T10:15:00.000Z', version: user.version + 1 },
      user.version,
    );
    await attempt({});
    expect(journals[0]).toEqual([
      'directory.findUsersByUsername',
      'directory.getRealm',
      'directory.saveUser',
    ]);
    expect(journals[1]).toEqual(journals[0]);
    expect(journals[2]).toEqual(journals[0]);
  });

  it('treats a username present in two realms without a tenancy as unknown, and finds it with one', async () => {
    await deps.directory.createRealm(newRealm('r2', 'other', { now: deps.clock.now() }));
    await addUser({ userId: 'u2', username: 'alice', realmId: 'r2' });
    await expect(change()).rejects.toThrow(NOT_AUTHENTICATED_MESSAGE);
    expect(hasher.verified).toEqual([DUMMY_HASH]);
    await change({ tenancy: 'other' });
    expect(await fastHasher.verify((await stored('u2')).credential?.hash ?? '', NEW)).toBe(true);
    expect((await stored('u1')).version).toBe(1);
  });

  it('refuses an unknown tenancy with NotFound before any hashing', async () => {
    await expect(change({ tenancy: 'nope' })).rejects.toThrow(NotFoundError);
    expect(hasher.verified).toEqual([]);
  });

  it('counts a wrong password, and locks the account at the realm limit for its lock time', async () => {
    for (let i = 1; i <= 9; i++) await expect(change({ currentPassword: 'wrong' })).rejects.toThrow();
    expect((await stored('u1')).failedAttempts).toBe(9);
    expect((await stored('u1')).lockedUntil).toBeUndefined();
    await expect(change({ currentPassword: 'wrong' })).rejects.toThrow(NotAuthenticatedError);
    expect((await stored('u1')).lockedUntil).toBe('2026-01-15T10:15:00.000Z');
  });

  it('refuses the right password while locked, after the same verification, without counting', async () => {
    const user = await stored('u1');
    await deps.directory.saveUser(
      { ...user, failedAttempts: 10, lockedUntil: '2026-01-15T10:15:00.000Z', version: 2 },
      1,
    );
    hasher.verified.length = 0;
    await expect(change()).rejects.toThrow(NOT_AUTHENTICATED_MESSAGE);
    expect(hasher.verified).toEqual([user.credential?.hash]);
    expect(await stored('u1')).toMatchObject({
      failedAttempts: 10,
      lockedUntil: '2026-01-15T10:15:00.000Z',
      version: 2,
    });
    deps.clock.advance(15 * 60);
    await change();
    expect(await stored('u1')).toMatchObject({ failedAttempts: 0 });
    expect((await stored('u1')).lockedUntil).toBeUndefined();
  });

  it('counts a failure whose write lost a race on the re-read record', async () => {
    deps.directory.faults.fail('saveUser', { error: new VersionConflictError() }, 2);
    await expect(change({ currentPassword: 'wrong' })).rejects.toThrow(NotAuthenticatedError);
    expect((await stored('u1')).failedAttempts).toBe(1);
  });

  it('still answers 401 when the counter cannot be written after every retry, and says so in the log', async () => {
    deps.directory.faults.fail('saveUser', { error: new VersionConflictError() }, 100);
    await expect(change({ currentPassword: 'wrong' })).rejects.toThrow(NotAuthenticatedError);
    expect(deps.log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', attributes: { userId: 'u1' } }),
    );
  });

  it('fails closed with Unavailable when the failure cannot be counted because the directory is down', async () => {
    deps.directory.faults.fail('saveUser', {});
    await expect(change({ currentPassword: 'wrong' })).rejects.toThrow(UnavailableError);
  });

  it('refuses an expired temporary password with PreconditionFailed, without counting it', async () => {
    await addUser(
      { userId: 'u3', username: 'tina' },
      { kind: 'TEMPORARY', expiresAt: '2026-01-15T09:00:00.000Z' },
    );
    await expect(change({ username: 'tina' })).rejects.toThrow(PreconditionFailedError);
    expect((await stored('u3')).failedAttempts).toBe(0);
    await expect(change({ username: 'tina', currentPassword: 'wrong' })).rejects.toThrow(
      NotAuthenticatedError,
    );
  });

  it('checks the policy only after authentication, and names the rule but not the value', async () => {
    await expect(change({ currentPassword: 'wrong', newPassword: 'short' })).rejects.toThrow(
      NotAuthenticatedError,
    );
    const error = await change({ newPassword: 'Short1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe('newPassword');
    expect((error as Error).message).toContain('"length"');
    expect((error as Error).message).not.toContain('Short1');
    await expect(change({ newPassword: 'Has-alice-Inside-1' })).rejects.toThrow(/"username"/);
  });

  it('refuses the current password and the last historyDepth passwords, but not older ones', async () => {
    await expect(change({ newPassword: CURRENT })).rejects.toThrow(ConflictError);
    const passwords = [
      CURRENT,
      'Second-Pass-0001',
      'Third-Pass-00002',
      'Fourth-Pass-0003',
      'Fifth-Pass-00004',
      'Sixth-Pass-00005',
    ];
    for (const [i, newPassword] of passwords.entries()) {
      if (i > 0) await change({ currentPassword: passwords[i - 1] ?? '', newPassword });
    }
    // The oci policy remembers 4: Fifth, Fourth, Third and Second are refused, CURRENT is 5 back.
    await expect(
      change({ currentPassword: 'Sixth-Pass-00005', newPassword: 'Second-Pass-0001' }),
    ).rejects.toThrow(/last 4 passwords/);
    await change({ currentPassword: 'Sixth-Pass-00005', newPassword: CURRENT });
  });

  it('reports a lost credential race as ConcurrentUpdate and leaves the current password working', async () => {
    deps.directory.faults.fail('saveUser', { error: new VersionConflictError() });
    await expect(change()).rejects.toMatchObject({ reason: 'ConcurrentUpdate' });
    await change();
  });

  it('keeps the change when the notice cannot be sent, and logs that without the password', async () => {
    deps.notifier.faults.fail('send');
    await change();
    expect(await fastHasher.verify((await stored('u1')).credential?.hash ?? '', NEW)).toBe(true);
    const warning = deps.log.entries.find((e) => e.message === 'password change notice not sent');
    expect(warning?.attributes).toEqual({ userId: 'u1', error: 'InjectedFault' });
    expect(JSON.stringify(deps.log.entries)).not.toMatch(new RegExp(`${CURRENT}|${NEW}`));
  });

  it('verifies a federated user and a user without a password against the dummy hash', async () => {
    await deps.directory.createUser(
      newUser({ realmId: 'r1', userId: 'u4', username: 'fed', federated: true }),
    );
    await deps.directory.createUser(newUser({ realmId: 'r1', userId: 'u5', username: 'nopass' }));
    await expect(change({ username: 'fed' })).rejects.toThrow(NotAuthenticatedError);
    await expect(change({ username: 'nopass' })).rejects.toThrow(NotAuthenticatedError);
    expect(hasher.verified).toEqual([DUMMY_HASH, DUMMY_HASH]);
    expect(await authenticate(deps, { username: 'alice', password: CURRENT })).toMatchObject({
      user: { userId: 'u1' },
    });
  });
});

describe('withFailureCounted', () => {
  const lockout = { maxFailedAttempts: 3, lockSeconds: 60 };
  const now = new Date('2026-01-15T10:00:00.000Z');
  const user = newUser({ realmId: 'r1', userId: 'u1', username: 'alice' }, now);

  it('locks on the last allowed failure', () => {
    expect(withFailureCounted({ ...user, failedAttempts: 2 }, lockout, now)).toMatchObject({
      failedAttempts: 3,
      lockedUntil: '2026-01-15T10:01:00.000Z',
      version: 2,
    });
  });

  it('starts a fresh count after an expired lock', () => {
    const next = withFailureCounted(
      { ...user, failedAttempts: 3, lockedUntil: '2026-01-15T09:59:00.000Z' },
      lockout,
      now,
    );
    expect(next.failedAttempts).toBe(1);
    expect(next.lockedUntil).toBeUndefined();
  });

  it('never locks when the realm sets no limit', () => {
    expect(
      withFailureCounted({ ...user, failedAttempts: 99 }, { maxFailedAttempts: 0, lockSeconds: 60 }, now)
        .lockedUntil,
    ).toBeUndefined();
  });
});
