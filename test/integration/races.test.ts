/**
 * Races through the local gateway's HTTP path: many identical requests at once on one user,
 * over the embedded table and vault. Every secret a route asks the vault for is counted as
 * it is created, so "exactly one" means one was made, not merely that one is left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import type { LocalFileVault } from '#adapters/local-file-vault.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { newUser } from '#core/factories.ts';
import type { TemporaryPasswordSecret } from '#core/model.ts';
import type { SecretVault } from '#core/ports.ts';
import { secretNameOf } from '#core/temporary-secrets.ts';
import { DEMO_REALM_ID } from '#infra/local/demo.ts';
import { startTestApi, type TestApi, type TestResponse } from '#test/support/test-api.ts';

/** One secret the vault created for a route, with the user named in its tags. */
interface Created {
  operation: string;
  userId: string | undefined;
  secretId: string;
}

/** The API of the reset races, a directory reader beside it, and every secret its routes created. */
let t: TestApi;
let reader: Runtime;
const created: Created[] = [];

const createdFor = (userId: string) => created.filter((c) => c.userId === userId).map((c) => c.secretId);
const liveSecretsOf = (userId: string, api: TestApi = t) =>
  localVault(api)
    .list(`rekey/temp/${DEMO_REALM_ID}/${userId}/`)
    .map((s) => s.arn);

async function trackedNamesOf(userId: string, runtime: Runtime = reader): Promise<string[]> {
  const names: string[] = [];
  let after: string | undefined;
  do {
    const page = await runtime.deps.directory.listTrackedSecrets(after === undefined ? {} : { after });
    names.push(...page.secrets.filter((s) => s.userId === userId).map((s) => s.name));
    after = page.next;
  } while (after !== undefined);
  return names.sort();
}

/** The local vault of a test API. */
const localVault = (api: TestApi): LocalFileVault =>
  api.api.backend?.vault ?? expect.unreachable('no embedded backend');

/** `count` calls of `send` at once, tallied by status. */
async function race(count: number, send: (i: number) => Promise<TestResponse>) {
  const answers = await Promise.all(Array.from({ length: count }, (_, i) => send(i)));
  const tally: Record<number, number> = {};
  for (const res of answers) tally[res.status] = (tally[res.status] ?? 0) + 1;
  return { answers, tally };
}

/**
 * After a race of resets on `userId`: one TEMPORARY credential, whose secret exists and
 * holds the password its hash verifies; every other secret the race created is gone from
 * the vault and from the index. Returns the survivor and how many were created.
 */
async function expectOneTemporaryPassword(userId: string) {
  const user = await reader.deps.directory.getUser(userId);
  const credential = user?.credential;
  expect(credential?.kind).toBe('TEMPORARY');
  const secretId = credential?.secretId ?? expect.unreachable('the credential has no secret');
  const secret = JSON.parse(await reader.deps.vault.read(secretId)) as TemporaryPasswordSecret;
  expect(await argon2idHasher.verify(credential?.hash ?? '', secret.password)).toBe(true);
  const made = createdFor(userId);
  expect(made).toContain(secretId);
  expect(liveSecretsOf(userId)).toEqual([secretId]);
  expect(await trackedNamesOf(userId)).toEqual([secretNameOf(secretId)]);
  return { secretId, password: secret.password, created: made.length };
}

/** A refusal because another request changed the user first, in the route's dialect. */
function expectLostRace(res: TestResponse, body: Record<string, unknown>): void {
  expect(res.status).toBe(409);
  expect(res.json).toEqual(body);
}

const ociToken = async () => ({ authorization: `Bearer ${await t.token()}` });

describe('races of resets on one user', () => {
  beforeAll(async () => {
    t = await startTestApi({
      customizeRuntime: (operation, runtime) => {
        const inner = runtime.deps.vault;
        // Records each secret as the vault creates it, whatever becomes of it later.
        const vault: SecretVault = {
          create: async (secret) => {
            const out = await inner.create(secret);
            created.push({ operation, userId: secret.tags['rekey:user'], secretId: out.secretId });
            return out;
          },
          read: (id) => inner.read(id),
          putValue: (id, value) => inner.putValue(id, value),
          delete: (id) => inner.delete(id),
        };
        return { ...runtime, deps: { ...runtime.deps, vault } };
      },
    });
    reader = createRuntime('test-reader', { clients: t.api.clients });
    for (const [userId, email] of [
      ['u-race-token', undefined],
      ['u-race-oci', undefined],
      ['u-race-huawei', 'race@example.com'],
      ['u-race-alibaba', undefined],
    ] as const) {
      await reader.deps.directory.createUser(
        newUser({ realmId: DEMO_REALM_ID, userId, username: userId.slice(2), ...(email ? { email } : {}) }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    reader.dynamoDb.destroy();
    await t.close();
  });

  it('creates exactly one secret for 50 concurrent resets with one opc-retry-token, and every 200 is the same answer', async () => {
    const headers = { ...(await ociToken()), 'opc-retry-token': 'race-token-50' };
    const { answers, tally } = await race(50, () =>
      t.request('POST', '/20160918/users/u-race-token/uiPassword', { headers }),
    );

    expect(createdFor('u-race-token')).toHaveLength(1);
    const served = answers.filter((res) => res.status === 200);
    expect(served.length).toBeGreaterThan(0);
    for (const res of served) {
      expect(res.json).toEqual(served[0]?.json);
      expect(res.headers.get('etag')).toBe(served[0]?.headers.get('etag'));
    }
    // In-flight duplicates are told so in OCI's body, with the 409 its SDKs retry; nothing else is allowed.
    for (const res of answers.filter((r) => r.status !== 200)) {
      expectLostRace(res, { code: 'IncorrectState', message: expect.stringMatching(/in progress/) });
    }
    const { secretId } = await expectOneTemporaryPassword('u-race-token');
    expect(served[0]?.json.passwordSecretId).toBe(secretId);
    // One credential switch: the user record moved on by exactly one version.
    expect((await reader.deps.directory.getUser('u-race-token'))?.version).toBe(2);
    console.info('race uiPassword with token', tally, 'secrets created', createdFor('u-race-token').length);
  });

  it('leaves one TEMPORARY password, its secret and no other, after 50 concurrent OCI resets without a token', async () => {
    const headers = await ociToken();
    const { answers, tally } = await race(50, () =>
      t.request('POST', '/20160918/users/u-race-oci/uiPassword', { headers }),
    );

    for (const res of answers.filter((r) => r.status !== 200)) {
      // Conflict, which OCI's SDKs do not retry: a retry would undo the reset that won.
      expectLostRace(res, {
        code: 'Conflict',
        message: expect.stringMatching(/Another request changed the user/),
      });
    }
    expect(tally[200]).toBeGreaterThan(0);
    const survivor = await expectOneTemporaryPassword('u-race-oci');
    // Every request that got as far as the vault made one secret; only the survivor is left.
    expect(survivor.created).toBe(50);
    for (const res of answers) expect(res.text).not.toContain(survivor.password);
    console.info('race uiPassword without token', tally, 'secrets created', survivor.created, 'left', 1);
  });

  it('leaves one TEMPORARY password and its secret after 20 concurrent Huawei random-password resets', async () => {
    const headers = { 'x-auth-token': await t.token() };
    const { answers, tally } = await race(20, () =>
      t.request('GET', `/v2/${DEMO_REALM_ID}/users/u-race-huawei/random-password?notification_type=email`, {
        headers,
      }),
    );

    for (const res of answers.filter((r) => r.status !== 200)) {
      expectLostRace(res, { error_code: 'IAM.0009', error_msg: expect.stringMatching(/Another request/) });
    }
    expect(tally[200]).toBeGreaterThan(0);
    const survivor = await expectOneTemporaryPassword('u-race-huawei');
    expect(survivor.created).toBe(20);
    // Only a request whose switch landed told the user a password.
    const sent = t.api.outbox.read().filter((n) => n.to === 'race@example.com');
    expect(sent).toHaveLength(tally[200] ?? 0);
    expect(sent.filter((n) => n.text.includes(survivor.password))).toHaveLength(1);
    for (const res of answers) expect(res.text).not.toContain(survivor.password);
    console.info('race Huawei random password', tally, 'secrets created', survivor.created, 'left', 1);
  });

  it('leaves one TEMPORARY password and its secret after 20 concurrent Alibaba generated resets', async () => {
    const headers = { ...(await ociToken()), 'content-type': 'application/json' };
    const body = JSON.stringify({
      DirectoryId: DEMO_REALM_ID,
      UserId: 'u-race-alibaba',
      GenerateRandomPassword: true,
      RequirePasswordResetForNextLogin: true,
    });
    const { answers, tally } = await race(20, () =>
      t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', { headers, body }),
    );

    for (const res of answers.filter((r) => r.status !== 200)) {
      expectLostRace(res, {
        RequestId: expect.any(String),
        Code: 'OperationConflict.ConcurrentUpdate',
        Message: expect.stringMatching(/Another request/),
      });
    }
    expect(tally[200]).toBeGreaterThan(0);
    const survivor = await expectOneTemporaryPassword('u-race-alibaba');
    expect(survivor.created).toBe(20);
    for (const res of answers) expect(res.text).not.toContain(survivor.password);
    console.info('race Alibaba generated reset', tally, 'secrets created', survivor.created, 'left', 1);
  });
});

/**
 * Holds the change-password route's first directory call until `count` requests have made
 * it, then lets them go — all at once, or the first alone and the rest once its credential
 * switch has landed. The local gateway runs every "Lambda" on one event loop, so requests
 * sent together reach their handlers one after another; the gate makes them start together,
 * as separate Lambdas would.
 */
interface StartGate {
  count: number;
  mode: 'together' | 'first-wins-then-rest';
  arrived: number;
  release: () => void;
  opened: Promise<void>;
  landed: Promise<void>;
  markLanded: () => void;
}

let gate: StartGate | undefined;

function armGate(count: number, mode: StartGate['mode']): void {
  let release = () => {};
  let markLanded = () => {};
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  const landed = new Promise<void>((resolve) => {
    markLanded = resolve;
  });
  gate = { count, mode, arrived: 0, release, opened, landed, markLanded };
}

/** Resolves with `promise`, or after `ms` at the latest: a gate must never hang a test. */
const atMost = (promise: Promise<void>, ms: number) =>
  Promise.race([promise, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);

/** Runs `read` once the armed gate lets this request through; at once when none is armed. */
async function throughGate<T>(read: () => Promise<T>): Promise<T> {
  const current = gate;
  if (!current) return read();
  const position = ++current.arrived;
  if (position === current.count) current.release();
  await atMost(current.opened, 10_000);
  if (current.mode === 'first-wins-then-rest' && position !== 1) await atMost(current.landed, 10_000);
  return read();
}

describe('concurrent password changes with one current password', () => {
  let api: TestApi;
  let store: Runtime;
  let serial = 0;

  beforeAll(async () => {
    api = await startTestApi({
      customizeRuntime: (operation, runtime) => {
        if (operation !== 'change-password') return runtime;
        const inner = runtime.deps.directory;
        const directory = Object.assign(Object.create(inner) as typeof inner, {
          findUsersByUsername: (username: string) => throughGate(() => inner.findUsersByUsername(username)),
          saveUser: async (next: Parameters<typeof inner.saveUser>[0], expected: number) => {
            await inner.saveUser(next, expected);
            if (next.credential?.kind === 'PERMANENT') gate?.markLanded();
          },
        });
        return { ...runtime, deps: { ...runtime.deps, directory } };
      },
    });
    store = createRuntime('test-store', { clients: api.api.clients });
  }, 60_000);
  afterAll(async () => {
    gate = undefined;
    store.dynamoDb.destroy();
    await api.close();
  });

  /** A fresh user holding a temporary password issued through the OCI route; returns it. */
  async function userWithTemporaryPassword(): Promise<{ userId: string; username: string; current: string }> {
    serial++;
    const userId = `u-swap-${serial}`;
    const username = `swapper${serial}`;
    await store.deps.directory.createUser(newUser({ realmId: DEMO_REALM_ID, userId, username }));
    const issued = await api.request('POST', `/20160918/users/${userId}/uiPassword`, {
      headers: { authorization: `Bearer ${await api.token()}` },
    });
    expect(issued.status).toBe(200);
    const secret = JSON.parse(
      await store.deps.vault.read(issued.json.passwordSecretId),
    ) as TemporaryPasswordSecret;
    return { userId, username, current: secret.password };
  }

  const newPassword = (i: number) => `Swap-${i}-pQ7wZ2-Vault`;
  const change = (username: string, currentPassword: string, next: string) =>
    api.request('PUT', '/20160918/changepassword', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, currentPassword, newPassword: next }),
    });

  /** Sends `count` changes from `current` at once through the gate; returns the answers. */
  async function raceChanges(username: string, current: string, count: number, mode: StartGate['mode']) {
    armGate(count, mode);
    try {
      return await race(count, (i) => change(username, current, newPassword(i)));
    } finally {
      gate = undefined;
    }
  }

  /** Exactly one change won; the user signs in with its password and with no other. */
  async function expectOneWinner(
    user: { userId: string; username: string; current: string },
    answers: TestResponse[],
  ): Promise<number> {
    const winners = answers.flatMap((res, i) => (res.status === 200 ? [i] : []));
    expect(winners).toHaveLength(1);
    const winner = winners[0] as number;
    for (const res of answers.filter((r) => r.status !== 200)) {
      expect([401, 409]).toContain(res.status);
      expect(Object.keys(res.json).sort()).toEqual(['code', 'message']);
      expect(res.text).not.toMatch(/Swap-/);
    }
    const stored = await store.deps.directory.getUser(user.userId);
    expect(stored?.credential?.kind).toBe('PERMANENT');
    const hash = stored?.credential?.hash ?? '';
    const candidates = [user.current, ...answers.map((_, i) => newPassword(i))];
    const verifies = await Promise.all(candidates.map((p) => argon2idHasher.verify(hash, p)));
    expect(verifies.flatMap((ok, i) => (ok ? [i - 1] : []))).toEqual([winner]);
    // The temporary secret the change replaced is gone, from the vault and from the index.
    expect(liveSecretsOf(user.userId, api)).toEqual([]);
    expect(await trackedNamesOf(user.userId, store)).toEqual([]);
    return winner;
  }

  it('lets one of 20 concurrent changes win; only its new password signs in, and the old one no longer does', async () => {
    const user = await userWithTemporaryPassword();

    const { answers, tally } = await raceChanges(user.username, user.current, 20, 'together');

    const winner = await expectOneWinner(user, answers);
    // Every loser began before the win: none is counted, whatever it read.
    expect((await store.deps.directory.getUser(user.userId))?.failedAttempts).toBe(0);
    expect((await change(user.username, newPassword(winner), 'Swap-after-kT3-Vault')).status).toBe(200);
    expect((await change(user.username, user.current, 'Swap-stale-kT4-Vault')).status).toBe(401);
    console.info('race change password (20 together)', tally);
  });

  it('does not lock the winner out when 12 changes that began before its switch read the user after it', async () => {
    const user = await userWithTemporaryPassword();

    // Ten counted failures would lock the user for 15 minutes: these eleven must not count.
    const { answers, tally } = await raceChanges(user.username, user.current, 12, 'first-wins-then-rest');

    const winner = await expectOneWinner(user, answers);
    expect(tally).toEqual({ 200: 1, 401: 11 });
    const stored = await store.deps.directory.getUser(user.userId);
    expect(stored?.failedAttempts).toBe(0);
    expect(stored?.lockedUntil).toBeUndefined();
    expect((await change(user.username, newPassword(winner), 'Swap-after-kT5-Vault')).status).toBe(200);
    console.info('race change password (12, stale reads)', tally);
  });

  it('still counts a stale password sent after the change landed', async () => {
    const user = await userWithTemporaryPassword();
    expect((await change(user.username, user.current, newPassword(1))).status).toBe(200);

    expect((await change(user.username, user.current, newPassword(2))).status).toBe(401);

    expect((await store.deps.directory.getUser(user.userId))?.failedAttempts).toBe(1);
  });
});
