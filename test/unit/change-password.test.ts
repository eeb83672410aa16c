import { beforeEach, describe, expect, it } from 'vitest';
import { authenticate, NOT_AUTHENTICATED_MESSAGE } from '#core/authentication.ts';
import {
  ConflictError,
  InvalidInputError,
  NotAuthenticatedError,
  NotFoundError,
  PreconditionFailedError,
  UnavailableError,
} from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import { DUMMY_HASH, type PasswordHasher } from '#core/hashing.ts';
import { failureStep } from '#core/lockout.ts';
import type { Credential, User } from '#core/model.ts';
import { changeOwnPassword } from '#core/use-cases/change-own-password.ts';
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
  const change = (input: Partial<Parameters<typeof changeOwnPassword>[1]> = {}) =>
    changeOwnPassword(deps, { username: 'alice', currentPassword: CURRENT, newPassword: NEW, ...input });

  beforeEach(async () => {
    hasher = countingHasher();
    deps = fakeDeps({ hasher });
    await deps.directory.createRealm(newRealm('r1', 'acme', { now: deps.clock.now() }));
    await addUser({ userId: 'u1', username: 'alice', email: 'alice@example.com' });
  });

  it("names the found user as the refusal's subject for the audit trail, and nobody for an unknown one", async () => {
    expect(await change()).toEqual({ realmId: 'r1', userId: 'u1', username: 'alice' });
    const wrong = (await change({ currentPassword: 'Not-It-1!' }).catch(
      (e: unknown) => e,
    )) as NotAuthenticatedError;
    expect(wrong.subject).toEqual({ realmId: 'r1', userId: 'u1', username: 'alice' });
    const policy = (await change({ currentPassword: NEW, newPassword: 'short' }).catch(
      (e: unknown) => e,
    )) as InvalidInputError;
    expect(policy).toBeInstanceOf(InvalidInputError);
    expect(policy.subject).toEqual({ realmId: 'r1', userId: 'u1', username: 'alice' });
    const unknown = (await change({ username: 'Typed-Password-9!' }).catch(
      (e: unknown) => e,
    )) as NotAuthenticatedError;
    expect(unknown).toBeInstanceOf(NotAuthenticatedError);
    expect(unknown.subject).toBeUndefined();
    // The caller's answer does not depend on it: same kind, same message.
    expect(unknown.message).toBe(wrong.message);
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
      'directory.countFailure',
    ]);
    expect(journals[1]).toEqual(journals[0]);
    expect(journals[2]).toEqual(journals[0]);
  });

  it('makes those same calls for a guess whose count lost the race to the lock: no second read', async () => {
    const unknown = deps.journal.length;
    await expect(change({ username: 'nobody' })).rejects.toThrow(NOT_AUTHENTICATED_MESSAGE);
    const unknownCalls = deps.journal.slice(unknown);
    const directory = deps.directory;
    const lost = Object.assign(Object.create(directory) as typeof directory, {
      countFailure: async (...args: Parameters<typeof directory.countFailure>) => {
        // Another guess of the burst locked the account between this one's read and its count.
        const user = directory.users.get('u1');
        if (user) directory.users.set('u1', { ...user, lockedUntil: '2026-01-15T10:15:00.000Z' });
        return directory.countFailure(...args);
      },
    });
    const from = deps.journal.length;
    await expect(
      changeOwnPassword(
        { ...deps, directory: lost },
        { username: 'alice', currentPassword: CURRENT, newPassword: NEW },
      ),
    ).rejects.toThrow(NOT_AUTHENTICATED_MESSAGE);
    // Judged on the record the failed write found; a read more would make a burst against an
    // existing account slower than against an unknown name.
    expect(deps.journal.slice(from)).toEqual(unknownCalls);
    expect(hasher.verified.at(-1)).toBe(DUMMY_HASH);
  });

  it('treats a username present in two realms without a tenancy as unknown, and finds it with one', async () => {
    await deps.directory.createRealm(newRealm('r2', 'other', { now: deps.clock.now() }));
    await addUser({ userId: 'u2', username: 'alice', realmId: 'r2' });
    await expect(change()).rejects.toThrow(NOT_AUTHENTICATED_MESSAGE);
    expect(hasher.verified).toEqual([DUMMY_HASH]);
    await change({ realm: 'other' });
    expect(await fastHasher.verify((await stored('u2')).credential?.hash ?? '', NEW)).toBe(true);
    expect((await stored('u1')).version).toBe(1);
  });

  it('refuses an unknown tenancy with the same 401 after the same verification and write (finding 7)', async () => {
    const journal: string[][] = [];
    for (const tenancy of ['nope', 'r1']) {
      const calls: string[] = [];
      journal.push(calls);
      const directory = deps.directory;
      const traced = new Proxy(directory, {
        get: (target, name, receiver) => {
          const value = Reflect.get(target, name, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            calls.push(String(name));
            return value.apply(target, args);
          };
        },
      });
      const error = await changeOwnPassword(
        { ...deps, directory: traced },
        { username: 'alice', currentPassword: 'wrong', newPassword: NEW, realm: tenancy },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotAuthenticatedError);
      expect((error as Error).message).toBe(NOT_AUTHENTICATED_MESSAGE);
      expect(error).not.toBeInstanceOf(NotFoundError);
    }
    expect(hasher.verified).toEqual([DUMMY_HASH, (await stored('u1')).credential?.hash]);
    expect(journal[0]).toEqual(['findRealm', 'findUsersByUsername', 'countFailure']);
    expect(journal[1]).toEqual(journal[0]);
    // Only the known tenancy's wrong password counted.
    expect((await stored('u1')).failedAttempts).toBe(1);
  });

  it('counts a wrong password, and locks the account at the realm limit for its lock time', async () => {
    for (let i = 1; i <= 9; i++) await expect(change({ currentPassword: 'wrong' })).rejects.toThrow();
    expect((await stored('u1')).failedAttempts).toBe(9);
    expect((await stored('u1')).lockedUntil).toBeUndefined();
    await expect(change({ currentPassword: 'wrong' })).rejects.toThrow(NotAuthenticatedError);
    expect((await stored('u1')).lockedUntil).toBe('2026-01-15T10:15:00.000Z');
  });

  it('refuses the right password while locked, after the same cost, without checking or counting it', async () => {
    const user = await stored('u1');
    await deps.directory.saveUser(
      { ...user, failedAttempts: 10, lockedUntil: '2026-01-15T10:15:00.000Z', version: 2 },
      1,
    );
    hasher.verified.length = 0;
    await expect(change()).rejects.toThrow(NOT_AUTHENTICATED_MESSAGE);
    // A locked account's hash is never checked: the guess costs a dummy verification.
    expect(hasher.verified).toEqual([DUMMY_HASH]);
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

  it('re-judges a failure whose count lost to another one: the last slot locks the account', async () => {
    const user = await stored('u1');
    await deps.directory.saveUser({ ...user, failedAttempts: 8, version: user.version + 1 }, user.version);
    const directory = deps.directory;
    let first = true;
    const racing = Object.assign(Object.create(directory) as typeof directory, {
      countFailure: async (...args: Parameters<typeof directory.countFailure>) => {
        if (first) {
          first = false;
          // Another guess takes the ninth failure between this one's read and its count.
          await directory.countFailure('u1', args[1], { kind: 'count', below: 9 });
        }
        return directory.countFailure(...args);
      },
    });
    await expect(
      changeOwnPassword(
        { ...deps, directory: racing },
        { username: 'alice', currentPassword: 'wrong', newPassword: NEW },
      ),
    ).rejects.toThrow(NotAuthenticatedError);
    expect(await stored('u1')).toMatchObject({ failedAttempts: 10, lockedUntil: '2026-01-15T10:15:00.000Z' });
  });

  it('still answers 401 when the counter cannot be written after every retry, and says so in the log', async () => {
    const directory = deps.directory;
    let counts = 0;
    // Every count loses to some other write, and the record it finds looks the same.
    const found = await stored('u1');
    const busy = Object.assign(Object.create(directory) as typeof directory, {
      countFailure: async () => {
        counts++;
        return { current: found };
      },
    });
    hasher.verified.length = 0;
    await expect(
      changeOwnPassword(
        { ...deps, directory: busy },
        { username: 'alice', currentPassword: CURRENT, newPassword: NEW },
      ),
    ).rejects.toThrow(NotAuthenticatedError);
    // Not evaluated: the right password was never checked against the real hash.
    expect(hasher.verified).toEqual([DUMMY_HASH]);
    expect(counts).toBe(16);
    expect(deps.log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', attributes: { userId: 'u1' } }),
    );
  });

  it('fails closed with Unavailable when the failure cannot be counted because the directory is down', async () => {
    deps.directory.faults.fail('countFailure', {});
    await expect(change({ currentPassword: 'wrong' })).rejects.toThrow(UnavailableError);
    expect(hasher.verified).toEqual([]);
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

  /**
   * Runs a change whose switch (the first versioned write) finds the user already moved on by
   * `meanwhile`, written just before it; resolves to the change's error, or undefined.
   */
  async function changeRacing(meanwhile: (current: User) => User): Promise<unknown> {
    const directory = deps.directory;
    let writes = 0;
    const racing = Object.assign(Object.create(directory) as typeof directory, {
      saveUser: async (next: User, expected: number) => {
        if (++writes === 1) {
          const current = (await directory.getUser('u1')) as User;
          await directory.saveUser({ ...meanwhile(current), version: current.version + 1 }, current.version);
        }
        return directory.saveUser(next, expected);
      },
    });
    return changeOwnPassword(
      { ...deps, directory: racing },
      { username: 'alice', currentPassword: CURRENT, newPassword: NEW },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
  }

  it('answers a change that loses its switch to another change with the 401 of a wrong password', async () => {
    const other = await fastHasher.hash('Someone-Else-Chose-1');
    const error = await changeRacing((current) => ({
      ...current,
      credential: { hash: other, kind: 'PERMANENT', setAt: deps.clock.now().toISOString() },
      failedAttempts: 0,
    }));
    expect(error).toBeInstanceOf(NotAuthenticatedError);
    expect((error as Error).message).toBe(NOT_AUTHENTICATED_MESSAGE);
    expect((await stored('u1')).credential?.hash).toBe(other);
  });

  it('retries a switch that lost only to another attempt being counted, and changes the password', async () => {
    // A wrong guess reserves its attempt between this change's reservation and its switch.
    const error = await changeRacing((current) => ({
      ...current,
      failedAttempts: current.failedAttempts + 1,
    }));
    expect(error).toBeUndefined();
    const after = await stored('u1');
    expect(await fastHasher.verify(after.credential?.hash ?? '', NEW)).toBe(true);
    expect(after.failedAttempts).toBe(0);
  });

  it('answers 401 and changes nothing when the user was made federated between the check and the switch', async () => {
    const error = await changeRacing((current) => ({ ...current, federated: true }));
    expect(error).toBeInstanceOf(NotAuthenticatedError);
    const after = await stored('u1');
    expect(after.federated).toBe(true);
    expect(await fastHasher.verify(after.credential?.hash ?? '', CURRENT)).toBe(true);
  });

  it('gives a right password its attempt back when a later check refuses the change', async () => {
    const user = await stored('u1');
    await deps.directory.saveUser({ ...user, failedAttempts: 9, version: user.version + 1 }, user.version);
    // The right password on the tenth slot locks the account until the policy refuses.
    await expect(change({ newPassword: 'Short1' })).rejects.toThrow(InvalidInputError);
    expect(await stored('u1')).toMatchObject({ failedAttempts: 9 });
    expect((await stored('u1')).lockedUntil).toBeUndefined();
    await expect(change({ newPassword: CURRENT })).rejects.toThrow(ConflictError);
    expect(await stored('u1')).toMatchObject({ failedAttempts: 9 });
    await change();
    expect(await stored('u1')).toMatchObject({ failedAttempts: 0 });
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

describe('failureStep and the directory countFailure', () => {
  const lockout = { maxFailedAttempts: 3, lockSeconds: 60 };
  const now = new Date('2026-01-15T10:00:00.000Z');
  const credential: Credential = { hash: 'h', kind: 'PERMANENT', setAt: '2026-01-01T00:00:00Z' };
  const user: User = { ...newUser({ realmId: 'r1', userId: 'u1', username: 'alice' }, now), credential };

  /** The user after one failure counted as failureStep decides, in the in-memory directory. */
  async function counted(from: User, rule = lockout): Promise<User | undefined> {
    const directory = fakeDeps().directory;
    directory.users.set(from.userId, from);
    const step = failureStep(from, rule, now);
    return step && (await directory.countFailure(from.userId, 'h', step)).landed;
  }

  it('locks on the last allowed failure', async () => {
    expect(await counted({ ...user, failedAttempts: 2 })).toMatchObject({
      failedAttempts: 3,
      lockedUntil: '2026-01-15T10:01:00.000Z',
      version: 2,
    });
  });

  it('counts nothing while locked', () => {
    expect(
      failureStep({ ...user, failedAttempts: 3, lockedUntil: '2026-01-15T10:00:30.000Z' }, lockout, now),
    ).toBe(undefined);
  });

  it('starts a fresh count after an expired lock', async () => {
    const next = await counted({ ...user, failedAttempts: 3, lockedUntil: '2026-01-15T09:59:00.000Z' });
    expect(next?.failedAttempts).toBe(1);
    expect(next?.lockedUntil).toBeUndefined();
  });

  it('never locks when the realm sets no limit', async () => {
    const next = await counted({ ...user, failedAttempts: 99 }, { maxFailedAttempts: 0, lockSeconds: 60 });
    expect(next?.failedAttempts).toBe(100);
    expect(next?.lockedUntil).toBeUndefined();
  });

  it('does not land a count decided on a stale read: a count that would reach the limit, a lock too early', async () => {
    const directory = fakeDeps().directory;
    directory.users.set('u1', { ...user, failedAttempts: 2 });
    // Each refusal hands back the record the condition found, to be judged again.
    expect(await directory.countFailure('u1', 'h', { kind: 'count', below: 2 })).toEqual({
      current: { ...user, failedAttempts: 2 },
    });
    directory.users.set('u1', { ...user, failedAttempts: 1 });
    expect(
      await directory.countFailure('u1', 'h', {
        kind: 'lock',
        atLeast: 2,
        lockUntil: '2026-01-15T10:01:00.000Z',
      }),
    ).toEqual({ current: { ...user, failedAttempts: 1 } });
    expect(await directory.countFailure('u1', 'other-hash', { kind: 'count', below: 2 })).toEqual({
      current: { ...user, failedAttempts: 1 },
    });
    expect(await directory.countFailure('nobody', 'h', { kind: 'count', below: 2 })).toEqual({
      current: undefined,
    });
    expect(directory.users.get('u1')).toMatchObject({ failedAttempts: 1, version: 1 });
  });
});
