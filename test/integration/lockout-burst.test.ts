/**
 * Issue 9, finding 1, over HTTP through the local gateway: a burst of change-password
 * requests for one user, the right password among them, evaluates at most the realm's limit
 * of guesses against the real hash, and answers every request that is not evaluated with the
 * very same 401 bytes as a wrong password — the right password's included. Also: a realm with
 * SSO logon signs nobody in with a password (finding 2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import type { Runtime } from '#adapters/runtime.ts';
import { NOT_AUTHENTICATED_MESSAGE } from '#core/authentication.ts';
import { switchCredential } from '#core/credentials.ts';
import { newRealm, newUser } from '#core/factories.ts';
import { DUMMY_HASH } from '#core/hashing.ts';
import type { User } from '#core/model.ts';
import { DEMO_REALM_ID } from '#infra/local/demo.ts';
import { startTestApi, type TestApi, type TestResponse } from '#test/support/test-api.ts';

const PATH = '/20160918/changepassword';
const RIGHT = 'Right-Current-Pass-Zq81';

/** Verifications change-password ran against a real hash (not the dummy), by user hash. */
const realVerifications = new Map<string, number>();

describe('a burst of change-password guesses on one user', () => {
  let t: TestApi;
  let admin: Runtime;
  let serial = 0;

  beforeAll(async () => {
    t = await startTestApi({
      customizeRuntime: (operation, runtime) => {
        if (operation !== 'change-password') return runtime;
        const { hasher } = runtime.deps;
        const counting = {
          hash: (password: string) => hasher.hash(password),
          verify: (phc: string, password: string) => {
            if (phc !== DUMMY_HASH) realVerifications.set(phc, (realVerifications.get(phc) ?? 0) + 1);
            return hasher.verify(phc, password);
          },
        };
        return { ...runtime, deps: { ...runtime.deps, hasher: counting } };
      },
    });
    admin = t.runtime('create-or-reset-ui-password');
    await admin.deps.directory.createRealm(newRealm('sso-corp', 'SSO Corp', { ssoEnabled: true }));
  });
  afterAll(async () => {
    await t.close();
  });

  async function givenUser(realmId = DEMO_REALM_ID): Promise<User> {
    serial++;
    const user = newUser({ realmId, userId: `u-burst-${serial}`, username: `burst-${serial}` });
    await admin.deps.directory.createUser(user);
    return switchCredential(admin.deps, user, {
      hash: await argon2idHasher.hash(RIGHT),
      kind: 'PERMANENT',
      setAt: new Date(Date.now() - 60_000).toISOString(),
    });
  }

  const change = (username: string, currentPassword: string, i: number, tenancy?: string) =>
    t.request('PUT', PATH, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username,
        currentPassword,
        newPassword: `Chosen-New-Pass-${i}-Kv`,
        ...(tenancy ? { tenancy } : {}),
      }),
    });

  /** `size` requests sent at once, the right password at `rightAt`; every answer, in order. */
  async function burst(user: User, size: number, rightAt: number): Promise<TestResponse[]> {
    return Promise.all(
      Array.from({ length: size }, (_, i) =>
        change(user.username, i === rightAt ? RIGHT : `Wrong-Guess-${i}-Pass`, i),
      ),
    );
  }

  function expectAllTheSame401(answers: TestResponse[]): void {
    const statuses = answers.map((res) => res.status);
    expect(statuses).toEqual(answers.map(() => 401));
    expect(new Set(answers.map((res) => res.text))).toEqual(
      new Set([JSON.stringify({ code: 'NotAuthenticated', message: NOT_AUTHENTICATED_MESSAGE })]),
    );
    const headerNames = new Set(answers.map((res) => [...res.headers.keys()].sort().join(',')));
    expect(headerNames.size).toBe(1);
  }

  it('answers forty identical 401s when the right password is sent last of 40, and checks at most 10', async () => {
    const user = await givenUser();
    const hash = user.credential?.hash ?? '';

    const answers = await burst(user, 40, 39);

    expectAllTheSame401(answers);
    // Ten reservations landed (the count below) and each was checked against the real hash;
    // no other guess was. (Exactly ten: the counting hasher is the one the function uses.)
    expect(realVerifications.get(hash)).toBe(10);
    const after = (await t.getUser(user.userId)) as User;
    expect(after.lockedUntil).toBeDefined();
    expect(after.failedAttempts).toBe(10);
    expect(after.credential?.hash).toBe(hash);
  });

  it('checks at most 10 of 100 guesses, the right one in the middle, and never answers 409', async () => {
    const user = await givenUser();
    const hash = user.credential?.hash ?? '';

    const answers = await burst(user, 100, 50);

    const checked = realVerifications.get(hash) ?? 0;
    expect(answers.filter((res) => res.status === 409)).toEqual([]);
    // The right guess was either one of the ten checked (and changed the password) or refused
    // with the bytes of every wrong one.
    const winners = answers.filter((res) => res.status === 200);
    if (winners.length === 0) {
      expectAllTheSame401(answers);
      expect(checked).toBe(10);
    } else {
      expectAllTheSame401(answers.filter((res) => res.status !== 200));
      // The winner was checked, and at most nine wrong guesses before it.
      expect(checked).toBeGreaterThanOrEqual(1);
      expect(checked).toBeLessThanOrEqual(10);
    }
    expect(winners.length).toBeLessThanOrEqual(1);
  });

  it('signs nobody in with a password in a realm with SSO logon: the 401 of a wrong password', async () => {
    const user = await givenUser('sso-corp');
    const right = await change(user.username, RIGHT, 1, 'sso-corp');
    const wrong = await change(user.username, 'Not-The-Password-9', 2, 'sso-corp');
    expectAllTheSame401([right, wrong]);
    const after = (await t.getUser(user.userId)) as User;
    expect(after.credential).toEqual(user.credential);
    expect(after.failedAttempts).toBe(0);
  });
});
