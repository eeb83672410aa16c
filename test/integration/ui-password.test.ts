/**
 * `POST /20160918/users/{userId}/uiPassword` end to end: through the local gateway (token
 * check, event building) into the real handler, over the embedded table and vault.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { VersionConflictError } from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import type { TemporaryPasswordSecret, User } from '#core/model.ts';
import { checkPassword, POLICY_PRESETS } from '#core/policy.ts';
import type { Directory, SecretVault } from '#core/ports.ts';
import { deletableByName } from '#core/temporary-secrets.ts';
import { createHandler } from '#functions/create-or-reset-ui-password/handler.ts';
import type { HttpEvent } from '#http/request.ts';
import { loadDevKey, mintToken } from '#infra/local/dev-tokens.ts';
import { type FaultyPort, faultyPort } from '#test/support/port-faults.ts';
import { startTestApi, type TestApi, type TestResponse } from '#test/support/test-api.ts';

const OPERATION = 'create-or-reset-ui-password';
const path = (userId: string) => `/20160918/users/${userId}/uiPassword`;
const USER_IDS = ['u-alice', 'u-bob', 'u-carol', 'u-other'];
const WEEK_MS = 7 * 24 * 3600 * 1000;

let t: TestApi;
/** A directory of its own, untouched by the faults armed on the route's ports. */
let reader: Runtime;
let vaultFaults: FaultyPort<SecretVault> | undefined;
let directoryFaults: FaultyPort<Directory> | undefined;
let secretsCreated = 0;

beforeAll(async () => {
  t = await startTestApi({
    customizeRuntime: (operation, runtime) => {
      if (operation !== OPERATION) return runtime;
      vaultFaults = faultyPort(runtime.deps.vault);
      directoryFaults = faultyPort(runtime.deps.directory);
      const faulty = vaultFaults.port;
      // Counts the secrets the route asks for, whether or not they are kept.
      const vault: SecretVault = {
        create: (secret) => {
          secretsCreated++;
          return faulty.create(secret);
        },
        read: (id) => faulty.read(id),
        putValue: (id, value) => faulty.putValue(id, value),
        delete: (id) => faulty.delete(id),
      };
      return { ...runtime, deps: { ...runtime.deps, vault, directory: directoryFaults.port } };
    },
  });
  reader = createRuntime('test-reader', { clients: t.api.clients });
  // A second realm, with a user whose username is also taken in the demo realm.
  await reader.deps.directory.createRealm(newRealm('other', 'othercorp'));
  await reader.deps.directory.createUser(newUser({ realmId: 'other', userId: 'u-other', username: 'alice' }));
});
afterEach(() => {
  vaultFaults?.clear();
  directoryFaults?.clear();
});
afterAll(async () => {
  reader.dynamoDb.destroy();
  await t.close();
});

function faults<T>(port: FaultyPort<T> | undefined): FaultyPort<T> {
  if (!port) throw new Error('the route runtime was not customised');
  return port;
}

const vault = () => {
  const backendVault = t.api.backend?.vault;
  if (!backendVault) throw new Error('the test API has no embedded backend');
  return backendVault;
};

async function reset(
  userId: string,
  init: { token?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<TestResponse> {
  const token = init.token ?? (await t.token());
  return t.request('POST', path(userId), {
    headers: { authorization: `Bearer ${token}`, ...init.headers },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
}

const getUser = async (userId: string): Promise<User | undefined> => reader.deps.directory.getUser(userId);

async function readSecret(secretId: string): Promise<TemporaryPasswordSecret> {
  return JSON.parse(await vault().read(secretId)) as TemporaryPasswordSecret;
}

/**
 * What must hold after anything, faults included: every credential's secret exists and holds
 * the password its hash verifies, and every temporary secret belongs to some credential.
 */
async function expectInvariants(allowedOrphans: string[] = []): Promise<void> {
  const referenced = new Set<string>();
  for (const userId of USER_IDS) {
    const credential = (await getUser(userId))?.credential;
    if (!credential?.secretId) continue;
    referenced.add(credential.secretId);
    const secret = await readSecret(credential.secretId);
    expect(await argon2idHasher.verify(credential.hash, secret.password), `${userId}'s secret`).toBe(true);
  }
  const orphans = vault()
    .list('rekey/temp/')
    .map((s) => s.arn)
    .filter((arn) => !referenced.has(arn));
  expect(orphans.sort()).toEqual([...allowedOrphans].sort());
}

function expectOciError(res: TestResponse, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.json).toEqual({ code, message: expect.any(String) });
  expect(res.headers.get('opc-request-id')).toBeTruthy();
}

/** The user's record and the temporary secrets, to show a refused request changed nothing. */
async function snapshot() {
  return { users: await Promise.all(USER_IDS.map(getUser)), secrets: vault().list('rekey/temp/') };
}

describe('POST /20160918/users/{userId}/uiPassword', () => {
  describe('success', () => {
    it('answers 200 with the UIPassword object, without its password, and etag and opc-request-id headers', async () => {
      const res = await reset('u-alice');

      expect(res.status).toBe(200);
      expect(Object.keys(res.json).sort()).toEqual(
        ['lifecycleState', 'passwordSecretId', 'timeCreated', 'timeExpires', 'userId'].sort(),
      );
      expect(res.json).toMatchObject({ userId: 'u-alice', lifecycleState: 'ACTIVE' });
      expect(Date.parse(res.json.timeExpires) - Date.parse(res.json.timeCreated)).toBe(WEEK_MS);
      const requestId = res.headers.get('opc-request-id');
      expect(requestId).toBeTruthy();
      expect(res.headers.get('etag')).toBe(String((await getUser('u-alice'))?.version));
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('content-type')).toBe('application/json');
      // Named by the request; a request id that ends like an ARN suffix (`-EdLsMw`, one id in
      // about 77) gets the `_` that keeps a delete by name exact.
      expect(vault().describe(res.json.passwordSecretId).name).toBe(
        deletableByName(`rekey/temp/demo/u-alice/${requestId}`),
      );
    });

    it('stores the password in a secret as {userId, username, password, expiresAt}, verified by the argon2id hash', async () => {
      const res = await reset('u-alice');
      const secret = await readSecret(res.json.passwordSecretId);

      expect(secret).toEqual({
        userId: 'u-alice',
        username: 'alice',
        password: expect.any(String),
        expiresAt: res.json.timeExpires,
      });
      expect(checkPassword(POLICY_PRESETS.oci, secret.password, { username: 'alice' })).toBeUndefined();
      const user = await getUser('u-alice');
      expect(user?.credential).toMatchObject({
        kind: 'TEMPORARY',
        secretId: res.json.passwordSecretId,
        setAt: res.json.timeCreated,
        expiresAt: res.json.timeExpires,
      });
      expect(user?.credential?.hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect(await argon2idHasher.verify(user?.credential?.hash ?? '', secret.password)).toBe(true);
      expect(res.text).not.toContain(secret.password);
      // Nothing secret outside the value: name, description, tags.
      const { name, description, tags } = vault().describe(res.json.passwordSecretId);
      expect(JSON.stringify({ name, description, tags })).not.toContain(secret.password);
      expect(tags).toEqual({
        'rekey:realm': 'demo',
        'rekey:user': 'u-alice',
        'rekey:expires-at': secret.expiresAt,
      });
    });

    it('deletes the previous secret on a second reset, and moves the etag on', async () => {
      const first = await reset('u-bob');
      const second = await reset('u-bob');

      expect(second.status).toBe(200);
      expect(second.json.passwordSecretId).not.toBe(first.json.passwordSecretId);
      await expect(vault().read(first.json.passwordSecretId)).rejects.toThrow(/does not exist/);
      expect(Number(second.headers.get('etag'))).toBe(Number(first.headers.get('etag')) + 1);
      expect(
        vault()
          .list('rekey/temp/demo/u-bob/')
          .map((s) => s.arn),
      ).toEqual([second.json.passwordSecretId]);
      await expectInvariants();
    });

    it('accepts an empty JSON object as the body', async () => {
      const res = await reset('u-bob', { headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(200);
    });

    it('unlocks a locked-out user', async () => {
      const user = await getUser('u-alice');
      if (!user) throw new Error('no u-alice');
      const lockedUntil = new Date(Date.now() + 15 * 60_000).toISOString();
      await reader.deps.directory.saveUser(
        { ...user, failedAttempts: 10, lockedUntil, version: user.version + 1 },
        user.version,
      );

      const res = await reset('u-alice');

      expect(res.status).toBe(200);
      const unlocked = await getUser('u-alice');
      expect(unlocked?.failedAttempts).toBe(0);
      expect(unlocked).not.toHaveProperty('lockedUntil');
    });
  });

  describe('opc-retry-token', () => {
    it('answers a retry with the first response, without generating again', async () => {
      const headers = { 'opc-retry-token': 'retry-once-1' };
      const before = secretsCreated;
      const first = await reset('u-bob', { headers });
      const retry = await reset('u-bob', { headers });

      expect(first.status).toBe(200);
      expect(retry.status).toBe(200);
      expect(retry.json).toEqual(first.json);
      expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(secretsCreated - before).toBe(1);
      expect((await getUser('u-bob'))?.credential?.secretId).toBe(first.json.passwordSecretId);
      await expectInvariants();
    });

    it('answers 409 when the same token is used for another user, and resets nobody', async () => {
      const headers = { 'opc-retry-token': 'retry-conflict-1' };
      expect((await reset('u-alice', { headers })).status).toBe(200);
      const before = await snapshot();

      const res = await reset('u-bob', { headers });

      expectOciError(res, 409, 'Conflict');
      expect(res.json.message).toContain('opc-retry-token');
      expect(await snapshot()).toEqual(before);
    });

    it('resets once when two requests with the same token race', async () => {
      const headers = { 'opc-retry-token': 'retry-race-1' };
      const before = secretsCreated;
      const answers = await Promise.all([reset('u-bob', { headers }), reset('u-bob', { headers })]);

      // The loser either waited for the winner's record or was told the request is in progress.
      for (const res of answers) expect([200, 409]).toContain(res.status);
      const served = answers.filter((res) => res.status === 200);
      expect(served.length).toBeGreaterThan(0);
      for (const res of served) expect(res.json).toEqual(served[0]?.json);
      expect(secretsCreated - before).toBe(1);
      await expectInvariants();
    });

    it('keeps tokens of different realms apart', async () => {
      const headers = { 'opc-retry-token': 'retry-shared-1' };
      const demo = await reset('u-bob', { headers });
      const other = await reset('u-other', { headers, token: await t.token({ realmId: 'other' }) });
      expect(demo.status).toBe(200);
      expect(other.status).toBe(200);
      expect(other.json.userId).toBe('u-other');
    });

    it('runs the reset again when a retry follows a failed attempt', async () => {
      const headers = { 'opc-retry-token': 'retry-after-failure-1' };
      faults(vaultFaults).fail('create');
      const failed = await reset('u-alice', { headers });
      const retry = await reset('u-alice', { headers });

      expectOciError(failed, 500, 'InternalServerError');
      expect(retry.status).toBe(200);
      await expectInvariants();
    });

    it('accepts a token of 64 printable characters', async () => {
      const res = await reset('u-bob', { headers: { 'opc-retry-token': `${'k'.repeat(62)}!~` } });
      expect(res.status).toBe(200);
    });

    it.each([
      ['65 characters', 'k'.repeat(65)],
      ['a tab', 'tok\ten'],
      ['a space', 'tok en'],
      ['a non-ASCII character', 'tökén'],
    ])('answers 400 for a token with %s', async (_what, token) => {
      const before = await snapshot();
      const res = await reset('u-bob', { headers: { 'opc-retry-token': token } });
      expectOciError(res, 400, 'InvalidParameter');
      expect(res.json.message).toContain('opc-retry-token');
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('refusals', () => {
    it.each([
      ['a user id with a space', 'u%20alice'],
      ['a user id with a slash', 'u%2Falice'],
      ['a user id starting with a dot', '.hidden'],
      ['a user id longer than 255 characters', 'u'.repeat(256)],
    ])('answers 400 for %s', async (_what, userId) => {
      const res = await reset(userId);
      expectOciError(res, 400, 'InvalidParameter');
    });

    it.each([
      ['an unknown field', 'application/json', '{"password":"Chosen-By-Caller-1"}'],
      ['a duplicate field', 'application/json', '{"a":1,"a":2}'],
      ['a prototype-pollution key', 'application/json', '{"__proto__":{"admin":true}}'],
      ['malformed JSON', 'application/json', '{"a":'],
      ['a JSON array', 'application/json', '[]'],
      ['a body that is not JSON', 'text/plain', 'reset please'],
      ['a form body', 'application/x-www-form-urlencoded', 'password=x'],
      ['a body over 16 KiB', 'application/json', `{"a":"${'x'.repeat(17_000)}"}`],
    ])('answers 400 for %s, and writes nothing', async (what, contentType, body) => {
      const before = await snapshot();
      const res = await reset('u-alice', { headers: { 'content-type': contentType }, body });
      // A body that is not JSON at all is OCI's "incorrectly formatted" request.
      expectOciError(res, 400, what === 'malformed JSON' ? 'CannotParseRequest' : 'InvalidParameter');
      expect(res.text).not.toContain('Chosen-By-Caller-1');
      expect(await snapshot()).toEqual(before);
    });

    it('answers 401 in OCI’s body when no token comes', async () => {
      const res = await t.request('POST', path('u-alice'));
      expectOciError(res, 401, 'NotAuthenticated');
    });

    it.each([
      ['an expired token', () => t.token({ ttlSeconds: -60 })],
      ['a token for another audience', () => t.token({ audience: 'someone-else' })],
      ['a token from another issuer', () => t.token({ issuer: 'https://evil.example' })],
      [
        'a token signed with another key',
        async () => {
          const dir = mkdtempSync(join(tmpdir(), 'rekey-forged-'));
          try {
            return await mintToken(await loadDevKey(dir), { realmId: 'demo' });
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ],
      [
        'a token whose claims were edited',
        async () => {
          const [header, payload, signature] = (await t.token()).split('.');
          const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
          const edited = Buffer.from(JSON.stringify({ ...claims, rekey_realm: 'other' })).toString(
            'base64url',
          );
          return `${header}.${edited}.${signature}`;
        },
      ],
      ['garbage', async () => 'not-a-jwt'],
    ])('answers 401 in OCI’s body for %s', async (_what, makeToken) => {
      const before = await snapshot();
      const res = await reset('u-alice', { token: await makeToken() });
      expectOciError(res, 401, 'NotAuthenticated');
      expect(await snapshot()).toEqual(before);
    });

    it('answers 401 in OCI’s body when the function is reached without verified claims', async () => {
      const handle = createHandler(t.runtime(OPERATION));
      const event = {
        version: '2.0',
        routeKey: `POST ${path('{userId}')}`,
        rawPath: path('u-alice'),
        rawQueryString: '',
        headers: {},
        pathParameters: { userId: 'u-alice' },
        requestContext: { requestId: 'direct-call-1', routeKey: `POST ${path('{userId}')}` },
        isBase64Encoded: false,
      } as unknown as HttpEvent;
      const context = {
        functionName: `rekey-${OPERATION}`,
        awsRequestId: 'direct-call-1',
        invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:rekey-${OPERATION}`,
        memoryLimitInMB: '1024',
        getRemainingTimeInMillis: () => 10_000,
      } as unknown as Context;

      const result = await handle(event, context);

      expect(result.statusCode).toBe(401);
      expect(JSON.parse(result.body ?? '')).toEqual({
        code: 'NotAuthenticated',
        message: expect.any(String),
      });
      expect(result.headers?.['opc-request-id']).toBe('direct-call-1');
    });

    it('answers 403 for a token without the rekey/admin scope', async () => {
      const res = await reset('u-alice', { token: await t.token({ scopes: ['openid', 'rekey/read'] }) });
      expectOciError(res, 403, 'NotAuthorized');
    });

    it('answers 403 for an admin token that names no realm', async () => {
      const res = await reset('u-alice', { token: await t.token({ realmId: '' }) });
      expectOciError(res, 403, 'NotAuthorized');
    });

    it('answers 404 for an unknown user', async () => {
      expectOciError(await reset('u-nobody'), 404, 'NotAuthorizedOrNotFound');
    });

    it('answers 404, exactly as for an unknown user, for a user of another realm', async () => {
      const before = await snapshot();
      const res = await reset('u-other');
      const unknown = await reset('u-nobody');
      expectOciError(res, 404, 'NotAuthorizedOrNotFound');
      expect(res.json.message).toBe(unknown.json.message.replace('u-nobody', 'u-other'));
      expect(await snapshot()).toEqual(before);
    });

    it('answers 409 Conflict for a federated user (not IncorrectState, which OCI SDKs retry), and stores nothing', async () => {
      const before = await snapshot();
      const res = await reset('u-carol');
      expectOciError(res, 409, 'Conflict');
      expect(res.json.message).toMatch(/federated/i);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('faults', () => {
    it('answers 500 and writes nothing when the vault fails to store the secret', async () => {
      const before = await snapshot();
      faults(vaultFaults).fail('create');
      const res = await reset('u-alice');
      expectOciError(res, 500, 'InternalServerError');
      expect(res.json.message).not.toMatch(/injected|vault/i);
      expect(await snapshot()).toEqual(before);
      await expectInvariants();
    });

    it('answers 500 and deletes the new secret when the table fails to switch the credential', async () => {
      const before = await snapshot();
      faults(directoryFaults).fail('saveUser');
      const res = await reset('u-alice');
      expectOciError(res, 500, 'InternalServerError');
      // Nothing changed but the fence: the user one version on, so the failed write can never land.
      const fenced = before.users.map((u) =>
        u?.userId === 'u-alice' ? { ...u, version: u.version + 1 } : u,
      );
      expect(await snapshot()).toEqual({ ...before, users: fenced });
      await expectInvariants();
    });

    it('answers 409 and deletes the new secret when another request changed the user meanwhile', async () => {
      const before = await snapshot();
      faults(directoryFaults).fail('saveUser', { error: new VersionConflictError() });
      const res = await reset('u-alice');
      expectOciError(res, 409, 'Conflict');
      expect(await snapshot()).toEqual(before);
      await expectInvariants();
    });

    it('answers 200 when the table reported a failure after the switch landed', async () => {
      faults(directoryFaults).fail('saveUser', { landed: true });
      const res = await reset('u-alice');
      expect(res.status).toBe(200);
      expect((await getUser('u-alice'))?.credential?.secretId).toBe(res.json.passwordSecretId);
      await expectInvariants();
    });

    it('answers 500 and writes nothing when the user cannot be read', async () => {
      const before = await snapshot();
      faults(directoryFaults).fail('getUser');
      expectOciError(await reset('u-alice'), 500, 'InternalServerError');
      expect(await snapshot()).toEqual(before);
      await expectInvariants();
    });

    it('answers 200 when the replaced secret cannot be deleted, leaving only that one to the sweeper', async () => {
      const previous = (await getUser('u-alice'))?.credential?.secretId;
      if (!previous) throw new Error('u-alice has no temporary secret yet');
      faults(vaultFaults).fail('delete');

      const res = await reset('u-alice');

      expect(res.status).toBe(200);
      await expectInvariants([previous]);
      vault().remove(previous);
    });
  });
});
