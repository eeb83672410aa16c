import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import type { Runtime } from '#adapters/runtime.ts';
import { NOT_AUTHENTICATED_MESSAGE } from '#core/authentication.ts';
import { switchCredential } from '#core/credentials.ts';
import { SecretNotFoundError } from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import type { PasswordHasher } from '#core/hashing.ts';
import type { Credential, User } from '#core/model.ts';
import type { Directory, Notifier } from '#core/ports.ts';
import { DEMO_REALM_ID } from '#infra/local/demo.ts';
import { scanTable } from '#test/support/dynamodb.ts';
import { startTestApi, type TestApi, type TestResponse } from '#test/support/test-api.ts';

const PATH = '/20160918/changepassword';
const OLD = 'Old-Secret-Zq81xK';
const NEW = 'New-Secret-Wv52mJ';

/** Faults and time for the change-password function only; every other route runs as is. */
const faults = new Set<string>();
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
/** The hashes change-password verified against, one entry per argon2id verification. */
const verified: string[] = [];

function injected(what: string): Promise<never> {
  return Promise.reject(Object.assign(new Error(`injected fault: ${what}`), { name: 'InjectedFault' }));
}

function faultyDirectory(directory: Directory): Directory {
  return new Proxy(directory, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        faults.has(String(property)) ? injected(String(property)) : value.apply(target, args);
    },
  });
}

function customize(operation: string, runtime: Runtime): Runtime {
  if (operation !== 'change-password') return runtime;
  const { hasher, notifier, directory } = runtime.deps;
  const countingHasher: PasswordHasher = {
    hash: (password) => hasher.hash(password),
    verify: (phc, password) => {
      verified.push(phc);
      return hasher.verify(phc, password);
    },
  };
  const flakyNotifier: Notifier = { send: (n) => (faults.has('send') ? injected('send') : notifier.send(n)) };
  const deps = { ...runtime.deps, clock, hasher: countingHasher, notifier: flakyNotifier };
  return { ...runtime, deps: { ...deps, directory: faultyDirectory(directory) } };
}

describe('PUT /20160918/changepassword', () => {
  let t: TestApi;
  let admin: Runtime;
  let serial = 0;
  /** Everything the process writes to stdout and stderr (Powertools logs warnings to stderr). */
  const logged: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const realWrites = streams.map((stream) => stream.write);

  beforeAll(async () => {
    // Even with event logging switched on for every function, no request may reach a log.
    process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
    streams.forEach((stream, i) => {
      stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
        logged.push(String(chunk));
        return realWrites[i]?.call(stream, chunk, ...rest);
      }) as typeof stream.write;
    });
    t = await startTestApi({ customizeRuntime: customize });
    admin = t.runtime('create-or-reset-ui-password');
    await admin.deps.directory.createRealm(newRealm('other', 'othercorp'));
  });
  afterAll(async () => {
    streams.forEach((stream, i) => {
      if (realWrites[i]) stream.write = realWrites[i];
    });
    delete process.env.POWERTOOLS_LOGGER_LOG_EVENT;
    await t.close();
  });
  beforeEach(() => {
    faults.clear();
    offsetMs = 0;
    verified.length = 0;
  });

  /** A fresh user of the demo realm, with a PERMANENT password unless told otherwise. */
  async function givenUser(
    options: { password?: string | null; email?: string; realmId?: string; username?: string } = {},
  ): Promise<User> {
    serial++;
    const user = newUser({
      realmId: options.realmId ?? DEMO_REALM_ID,
      userId: `u-cp-${serial}`,
      username: options.username ?? `cp-user-${serial}`,
      ...(options.email ? { email: options.email } : {}),
    });
    await admin.deps.directory.createUser(user);
    if (options.password === null) return user;
    const credential: Credential = {
      hash: await argon2idHasher.hash(options.password ?? OLD),
      kind: 'PERMANENT',
      setAt: new Date().toISOString(),
    };
    return switchCredential(admin.deps, user, credential);
  }

  /** Issues a temporary password through the admin route; returns it and its secret. */
  async function issueTemporary(userId: string): Promise<{ password: string; secretId: string }> {
    const res = await t.request('POST', `/20160918/users/${userId}/uiPassword`, {
      headers: { authorization: `Bearer ${await t.token()}` },
    });
    expect(res.status).toBe(200);
    const secretId: string = res.json.passwordSecretId;
    return { password: JSON.parse(await admin.deps.vault.read(secretId)).password, secretId };
  }

  function change(fields: Record<string, string>, via: 'body' | 'query' = 'body'): Promise<TestResponse> {
    if (via === 'query') return t.request('PUT', `${PATH}?${new URLSearchParams(fields)}`);
    return t.request('PUT', PATH, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fields),
    });
  }

  const stored = async (userId: string) => (await t.getUser(userId)) as User;
  /**
   * What decides how a user signs in: the credential, the failure count and the lock. A refused
   * change leaves these as they were; the record's version moves on when a right password's
   * reserved attempt is given back (two conditional writes, nothing else changed).
   */
  const signInState = (user: User) => ({
    credential: user.credential,
    passwordHistory: user.passwordHistory,
    failedAttempts: user.failedAttempts,
    lockedUntil: user.lockedUntil,
  });
  /** Every item of the table, as stored. */
  const tableItems = async () => {
    return scanTable(t.api.clients, admin.settings.tableName);
  };

  it('does not echo an opc-request-id of a shape no OCI SDK sends, which may be a password (refusals included)', async () => {
    const typed = 'Blue-Kettle-Orchard-42';
    for (const body of [
      JSON.stringify({ username: 'alice', currentPassword: typed, newPassword: NEW }),
      '{"username": "alice", "currentPassword": "Blue-Kettle-Orchard-42"',
    ]) {
      const res = await t.request('PUT', PATH, {
        headers: { 'content-type': 'application/json', 'opc-request-id': typed },
        body,
      });
      expect([400, 401]).toContain(res.status);
      expect(res.headers.get('opc-request-id')).toMatch(/^[\w-]+$/);
      expect(JSON.stringify([...res.headers.entries()]) + res.text).not.toContain(typed);
    }
  });

  it('exchanges a temporary UI password for a permanent one, deletes its secret and answers 200 empty', async () => {
    const { password, secretId } = await issueTemporary('u-alice');
    const res = await change({ username: 'alice', currentPassword: password, newPassword: NEW });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers.get('opc-request-id')).toMatch(/.+/);
    const user = await stored('u-alice');
    expect(user.credential?.kind).toBe('PERMANENT');
    expect(user.credential?.secretId).toBeUndefined();
    expect(await argon2idHasher.verify(user.credential?.hash ?? '', NEW)).toBe(true);
    await expect(admin.deps.vault.read(secretId)).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it('tells a user with an e-mail address that the password changed, without the password', async () => {
    const user = await givenUser({ email: 'cp-notice@example.com' });
    expect((await change({ username: user.username, currentPassword: OLD, newPassword: NEW })).status).toBe(
      200,
    );
    const notices = t.api.outbox.read().filter((n) => n.to === 'cp-notice@example.com');
    expect(notices).toEqual([
      expect.objectContaining({ channel: 'email', subject: 'Your password was changed' }),
    ]);
    expect(JSON.stringify(notices)).not.toMatch(new RegExp(`${OLD}|${NEW}`));
  });

  it('keeps a change whose notice cannot be sent, and logs that without the password', async () => {
    const user = await givenUser({ email: 'cp-lost@example.com' });
    faults.add('send');
    const from = logged.length;
    expect((await change({ username: user.username, currentPassword: OLD, newPassword: NEW })).status).toBe(
      200,
    );
    expect(await argon2idHasher.verify((await stored(user.userId)).credential?.hash ?? '', NEW)).toBe(true);
    expect(logged.slice(from).join('')).toContain('password change notice not sent');
  });

  it("accepts the seed's query parameters, with the tenancy as a realm id or a realm name", async () => {
    const user = await givenUser();
    const byId = { username: user.username, currentPassword: OLD, newPassword: NEW, tenancy: DEMO_REALM_ID };
    expect((await change(byId, 'query')).status).toBe(200);
    const back = {
      username: user.username,
      currentPassword: NEW,
      newPassword: 'Third-Secret-Pp93',
      tenancy: 'democorp',
    };
    expect((await change(back, 'query')).status).toBe(200);
  });

  it('refuses malformed requests with 400 InvalidParameter before any hashing, writing nothing', async () => {
    const user = await givenUser();
    const good = { username: user.username, currentPassword: OLD, newPassword: NEW };
    const long = 'A1-'.repeat(86);
    const requests: Array<() => Promise<TestResponse>> = [
      () =>
        t.request('PUT', `${PATH}?username=${user.username}`, {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(good),
        }),
      () => change({ ...good, extra: 'x' }),
      () => change({ ...good, extra: 'x' }, 'query'),
      () => change({ ...good, currentPassword: long }),
      () => change({ ...good, newPassword: long }, 'query'),
      () => change({ username: user.username, currentPassword: OLD }),
      () => change({ ...good, username: 'bad\u0000name' }),
      () => t.request('PUT', `${PATH}?${new URLSearchParams(good)}&username=${user.username}`),
      () => t.request('PUT', PATH, { headers: { 'content-type': 'text/plain' }, body: JSON.stringify(good) }),
      () =>
        t.request('PUT', PATH, {
          headers: { 'content-type': 'application/json' },
          body: '{"username":"a","username":"b"}',
        }),
    ];
    for (const send of requests) {
      const res = await send();
      expect(res.status).toBe(400);
      expect(res.json.code).toMatch(/^(InvalidParameter|MissingParameter)$/);
      expect(res.text).not.toContain(OLD);
    }
    expect(verified).toEqual([]);
    expect(await stored(user.userId)).toEqual(user);
  });

  it("answers an absent field with OCI's 400 MissingParameter, a present but wrong one with InvalidParameter", async () => {
    const user = await givenUser();
    const missing = [
      await change({ username: user.username, currentPassword: OLD }),
      await change({ currentPassword: OLD, newPassword: NEW }, 'query'),
    ];
    expect(missing.map((res) => [res.status, res.json.code, res.json.message])).toEqual([
      [400, 'MissingParameter', 'Parameter newPassword is required.'],
      [400, 'MissingParameter', 'Parameter username is required.'],
    ]);
    const wrong = await t.request('PUT', PATH, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user.username, currentPassword: OLD, newPassword: 42 }),
    });
    expect([wrong.status, wrong.json.code]).toEqual([400, 'InvalidParameter']);
    expect(verified).toEqual([]);
    expect(await stored(user.userId)).toEqual(user);
  });

  it('names the field and the broken policy rule in a 400, never the value, and writes nothing', async () => {
    const user = await givenUser();
    const res = await change({ username: user.username, currentPassword: OLD, newPassword: 'Short1x' });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('InvalidParameter');
    expect(res.json.message).toMatch(/newPassword.*"length"/);
    expect(res.text).not.toContain('Short1x');
    expect(signInState(await stored(user.userId))).toEqual(signInState(user));
  });

  it('answers the same 401 bytes, after one argon2id verification, to every kind of failed sign-in', async () => {
    const wrong = await givenUser();
    const locked = await givenUser();
    await admin.deps.directory.saveUser(
      {
        ...locked,
        failedAttempts: 10,
        lockedUntil: new Date(Date.now() + 600_000).toISOString(),
        version: locked.version + 1,
      },
      locked.version,
    );
    const twin = await givenUser({ username: 'cp-twin' });
    await givenUser({ username: 'cp-twin', realmId: 'other' });
    const attempts = [
      { username: 'cp-nobody', currentPassword: OLD },
      { username: wrong.username, currentPassword: 'Not-The-Password-1' },
      { username: locked.username, currentPassword: OLD },
      { username: 'carol', currentPassword: OLD },
      { username: 'bob', currentPassword: OLD },
      { username: twin.username, currentPassword: OLD },
    ];
    const bodies: string[] = [];
    for (const attempt of attempts) {
      verified.length = 0;
      const res = await change({ ...attempt, newPassword: NEW });
      expect(res.status).toBe(401);
      expect(verified).toHaveLength(1);
      bodies.push(res.text);
    }
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0] ?? '')).toEqual({
      code: 'NotAuthenticated',
      message: NOT_AUTHENTICATED_MESSAGE,
    });
    // The twin is found once the tenancy says which realm.
    expect(
      (await change({ username: 'cp-twin', currentPassword: OLD, newPassword: NEW, tenancy: 'demo' })).status,
    ).toBe(200);
  });

  it('answers an unknown tenancy with the same 401 bytes, after one argon2id verification (finding 7)', async () => {
    const user = await givenUser();
    verified.length = 0;
    const unknown = await change({
      username: user.username,
      currentPassword: OLD,
      newPassword: NEW,
      tenancy: 'no-such-corp',
    });
    const wrong = await change({
      username: user.username,
      currentPassword: 'Not-The-Password-1',
      newPassword: NEW,
      tenancy: DEMO_REALM_ID,
    });
    expect(unknown.status).toBe(401);
    expect(unknown.text).toBe(wrong.text);
    expect([...unknown.headers.keys()].sort()).toEqual([...wrong.headers.keys()].sort());
    expect(verified).toHaveLength(2);
    expect((await stored(user.userId)).failedAttempts).toBe(1);
  });

  it('refuses the current password and a recent one with 409, writing nothing', async () => {
    const user = await givenUser();
    const same = await change({ username: user.username, currentPassword: OLD, newPassword: OLD });
    expect(same.status).toBe(409);
    expect(same.json.code).toBe('Conflict');
    expect(signInState(await stored(user.userId))).toEqual(signInState(user));
    expect((await change({ username: user.username, currentPassword: OLD, newPassword: NEW })).status).toBe(
      200,
    );
    const back = await change({ username: user.username, currentPassword: NEW, newPassword: OLD });
    expect(back.status).toBe(409);
    expect(back.text).not.toMatch(new RegExp(`${OLD}|${NEW}`));
  });

  it('refuses an expired temporary password with 412 without counting it; a wrong one is still 401', async () => {
    const user = await givenUser();
    const { password } = await issueTemporary(user.userId);
    offsetMs = 8 * 24 * 3600 * 1000;
    const expired = await change({
      username: user.username,
      currentPassword: password,
      newPassword: 'Short',
    });
    expect(expired.status).toBe(412);
    expect(expired.json.code).toBe('PreconditionFailed');
    expect((await stored(user.userId)).failedAttempts).toBe(0);
    expect(
      (await change({ username: user.username, currentPassword: 'Wrong-Pass-1234', newPassword: NEW }))
        .status,
    ).toBe(401);
  });

  it('answers 500 in the OCI shape when the directory fails, and the old password still works', async () => {
    const user = await givenUser();
    faults.add('findUsersByUsername');
    const down = await change({ username: user.username, currentPassword: OLD, newPassword: NEW });
    expect(down.status).toBe(500);
    expect(down.json).toEqual({ code: 'InternalServerError', message: expect.any(String) });
    faults.clear();
    faults.add('saveUser');
    expect((await change({ username: user.username, currentPassword: OLD, newPassword: NEW })).status).toBe(
      500,
    );
    faults.clear();
    // The right password is no failure: its reserved attempt was given back, or (the
    // directory refusing every write) at most that one stays counted.
    const after = await stored(user.userId);
    expect({ ...signInState(after), failedAttempts: 0 }).toEqual(signInState(user));
    expect(after.failedAttempts).toBeLessThanOrEqual(1);
    expect((await change({ username: user.username, currentPassword: OLD, newPassword: NEW })).status).toBe(
      200,
    );
  });

  it('locks after 10 failures: while locked, right or wrong, the same 401, uncounted, the lock not extended', async () => {
    const user = await givenUser();
    const wrong = { username: user.username, currentPassword: 'Wrong-Pass-1234', newPassword: NEW };
    for (let i = 0; i < 10; i++) expect((await change(wrong)).status).toBe(401);
    const lockedAt = await stored(user.userId);
    expect(lockedAt.failedAttempts).toBe(10);
    const lockEnds = Date.parse(lockedAt.lockedUntil ?? '');
    // The realm's 15 minutes, from the tenth failure.
    expect(lockEnds - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(lockEnds - Date.now()).toBeLessThanOrEqual(15 * 60_000);

    offsetMs = 10 * 60_000;
    verified.length = 0;
    const right = await change({ ...wrong, currentPassword: OLD });
    const wrongAgain = await change(wrong);
    expect(right.status).toBe(401);
    expect(right.text).toBe(wrongAgain.text);
    expect(await stored(user.userId)).toEqual(lockedAt);
    // Neither was checked against the user's hash: each verified the dummy only.
    expect(verified).toHaveLength(2);
    expect(verified).not.toContain(user.credential?.hash);

    offsetMs = 16 * 60_000;
    expect((await change({ ...wrong, currentPassword: OLD })).status).toBe(200);
    expect((await stored(user.userId)).failedAttempts).toBe(0);
  });

  it('resets the failure count on success', async () => {
    const user = await givenUser();
    for (let i = 0; i < 3; i++)
      await change({ username: user.username, currentPassword: 'Wrong-Pass-1234', newPassword: NEW });
    expect((await stored(user.userId)).failedAttempts).toBe(3);
    expect((await change({ username: user.username, currentPassword: OLD, newPassword: NEW })).status).toBe(
      200,
    );
    expect((await stored(user.userId)).failedAttempts).toBe(0);
  });

  it('is unlocked by an admin reset of the UI password', async () => {
    const user = await givenUser();
    for (let i = 0; i < 10; i++)
      await change({ username: user.username, currentPassword: 'Wrong-Pass-1234', newPassword: NEW });
    expect((await stored(user.userId)).lockedUntil).toBeDefined();
    const { password } = await issueTemporary(user.userId);
    const unlocked = await stored(user.userId);
    expect(unlocked.failedAttempts).toBe(0);
    expect(unlocked.lockedUntil).toBeUndefined();
    expect(
      (await change({ username: user.username, currentPassword: password, newPassword: NEW })).status,
    ).toBe(200);
  });

  it('creates no state for an unknown username', async () => {
    const before = await tableItems();
    for (let i = 0; i < 3; i++)
      await change({ username: 'cp-ghost', currentPassword: OLD, newPassword: NEW });
    // Nothing added, and nothing that was there changed (the refusal's count lands nowhere).
    expect(await tableItems()).toEqual(before);
  });

  it('counts every one of several concurrent failures', async () => {
    const user = await givenUser();
    const wrong = { username: user.username, currentPassword: 'Wrong-Pass-1234', newPassword: NEW };
    const results = await Promise.all(Array.from({ length: 6 }, () => change(wrong)));
    expect(results.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401]);
    expect((await stored(user.userId)).failedAttempts).toBe(6);
  });

  it('lets exactly one of several concurrent changes with the same current password succeed', async () => {
    const user = await givenUser();
    const candidates = ['Race-Winner-A1x', 'Race-Winner-B2y', 'Race-Winner-C3z', 'Race-Winner-D4w'];
    const results = await Promise.all(
      candidates.map((newPassword) => change({ username: user.username, currentPassword: OLD, newPassword })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.every((s) => s === 200 || s === 401 || s === 409)).toBe(true);
    const winner = candidates[statuses.indexOf(200)] ?? '';
    expect(await argon2idHasher.verify((await stored(user.userId)).credential?.hash ?? '', winner)).toBe(
      true,
    );
  });

  it('writes no password to any response body or log line', async () => {
    const from = logged.length;
    const user = await givenUser();
    const bodies = [
      await change(
        { username: user.username, currentPassword: 'Wrong-Pass-1234', newPassword: NEW },
        'query',
      ),
      await change({ username: user.username, currentPassword: OLD, newPassword: 'Short1x' }),
      await change({ username: user.username, currentPassword: OLD, newPassword: OLD }),
      await change({ username: user.username, currentPassword: OLD, newPassword: NEW }, 'query'),
      await change({
        username: user.username,
        currentPassword: NEW,
        newPassword: `${OLD}${'x'.repeat(300)}`,
      }),
    ].map((r) => r.text);
    const lines = logged.slice(from).join('');
    expect(lines).toContain('request served');
    for (const secret of [OLD, NEW, 'Wrong-Pass-1234', 'Short1x']) {
      expect(lines).not.toContain(secret);
      for (const body of bodies) expect(body).not.toContain(secret);
    }
  });
});
