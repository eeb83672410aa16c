import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import type { LocalFileVault } from '#adapters/local-file-vault.ts';
import { VersionConflictError } from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import type { Directory, SecretVault } from '#core/ports.ts';
import { type FaultyPort, faultyPort } from '#test/support/port-faults.ts';
import { startTestApi, type TestApi, type TestResponse } from '#test/support/test-api.ts';

const PATH = '/cloudsso/2021-05-15/ResetUserPassword';
/** Passes the CloudSSO rules and the demo realm's `oci` policy (12+ characters). */
const GIVEN = 'Gv7#kLm2$pQx-given';
/** Every password a test sends or rekey generates: none may appear in a body or a log line. */
const passwordsSeen = new Set<string>([GIVEN]);

type Params = Record<string, string | boolean>;
type Carrier = 'query' | 'form' | 'json';

describe('POST /cloudsso/2021-05-15/ResetUserPassword', () => {
  let t: TestApi;
  let token: string;
  let directory: FaultyPort<Directory>;
  let vault: FaultyPort<SecretVault>;
  let hasherFails = false;
  const logs: string[] = [];
  const realWrite = process.stdout.write.bind(process.stdout);

  const localVault = () => t.api.backend?.vault as LocalFileVault;
  const secrets = () => localVault().list('');
  const userRecord = async (userId: string) => JSON.stringify(await t.getUser(userId));

  async function reset(
    params: Params,
    options: { as?: Carrier; token?: string } = {},
  ): Promise<TestResponse> {
    const as = options.as ?? 'json';
    const text = new URLSearchParams(
      Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? token}` };
    if (as === 'query') return t.request('POST', `${PATH}?${text}`, { headers });
    if (as === 'form') headers['content-type'] = 'application/x-www-form-urlencoded';
    else headers['content-type'] = 'application/json';
    return t.request('POST', PATH, { headers, body: as === 'form' ? text : JSON.stringify(params) });
  }

  /** Sends a request that must be refused, and proves nothing was written. */
  async function refused(send: () => Promise<TestResponse>, userId = 'u-alice'): Promise<TestResponse> {
    const before = { user: await userRecord(userId), secrets: JSON.stringify(secrets()) };
    const res = await send();
    expect(JSON.stringify(secrets())).toBe(before.secrets);
    expect(await userRecord(userId)).toBe(before.user);
    expect(Object.keys(res.json ?? {}).sort()).toEqual(['Code', 'Message', 'RequestId']);
    return res;
  }

  async function generatedPassword(secretId: string): Promise<string> {
    const password = JSON.parse(await localVault().read(secretId)).password as string;
    passwordsSeen.add(password);
    return password;
  }

  beforeAll(async () => {
    // Captured, not echoed: the assertions below read every line the functions log.
    process.stdout.write = ((chunk: string | Uint8Array) => {
      logs.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    t = await startTestApi({
      customizeRuntime: (operation, runtime) => {
        if (operation !== 'reset-user-password') return runtime;
        directory = faultyPort(runtime.deps.directory);
        vault = faultyPort(runtime.deps.vault);
        const hasher = {
          hash: (password: string) =>
            hasherFails ? Promise.reject(new Error('hasher down')) : runtime.deps.hasher.hash(password),
          verify: runtime.deps.hasher.verify,
        };
        return {
          ...runtime,
          deps: { ...runtime.deps, directory: directory.port, vault: vault.port, hasher },
        };
      },
    });
    token = await t.token();
    const store = t.runtime().deps.directory;
    await store.createRealm(newRealm('d-cloudsso', 'cloudsso corp', { policy: 'alibaba-cloudsso' }));
    await store.createUser(newUser({ realmId: 'd-cloudsso', userId: 'u-dave', username: 'dave' }));
    await store.createRealm(newRealm('d-sso', 'sso corp', { ssoEnabled: true }));
    await store.createUser(newUser({ realmId: 'd-sso', userId: 'u-erin', username: 'erin' }));
  });
  afterEach(() => {
    directory.clear();
    vault.clear();
    hasherFails = false;
  });
  afterAll(async () => {
    process.stdout.write = realWrite;
    await t.close();
  });

  describe('with GenerateRandomPassword=True', () => {
    it('stores the generated password in a secret and answers only its id and expiry', async () => {
      const res = await reset({ DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: true });
      expect(res.status).toBe(200);
      expect(Object.keys(res.json).sort()).toEqual([
        'NewPasswordSecretExpiresAt',
        'NewPasswordSecretId',
        'RequestId',
      ]);
      expect(res.json.RequestId).toBe(res.headers.get('apigw-requestid'));
      expect(res.json.NewPasswordSecretId).toMatch(/:secret:rekey\/temp\/demo\/u-alice\//);
      const password = await generatedPassword(res.json.NewPasswordSecretId);
      const user = await t.getUser('u-alice');
      expect(await argon2idHasher.verify(user?.credential?.hash ?? '', password)).toBe(true);
      expect(user?.credential).toMatchObject({ kind: 'PERMANENT', secretId: res.json.NewPasswordSecretId });
      expect(user?.credential?.expiresAt).toBeUndefined();
      expect(res.text).not.toContain(password);
    });

    it('makes the credential TEMPORARY, expiring with its secret, when RequirePasswordResetForNextLogin=True', async () => {
      const res = await reset(
        {
          DirectoryId: 'demo',
          UserId: 'u-bob',
          GenerateRandomPassword: 'True',
          RequirePasswordResetForNextLogin: 'True',
        },
        { as: 'query' },
      );
      expect(res.status).toBe(200);
      await generatedPassword(res.json.NewPasswordSecretId);
      const user = await t.getUser('u-bob');
      expect(user?.credential).toMatchObject({
        kind: 'TEMPORARY',
        expiresAt: res.json.NewPasswordSecretExpiresAt,
      });
      const lifetime =
        Date.parse(res.json.NewPasswordSecretExpiresAt) - Date.parse(user?.credential?.setAt ?? '');
      expect(lifetime).toBe(7 * 24 * 3600 * 1000);
    });
  });

  describe('with a given Password', () => {
    it('sets a PERMANENT credential, stores nothing in the vault, answers only RequestId, and deletes the replaced secret', async () => {
      const first = await reset(
        { DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: 'true' },
        { as: 'form' },
      );
      await generatedPassword(first.json.NewPasswordSecretId);
      const secretsBefore = secrets().length;
      const res = await reset({ DirectoryId: 'demo', UserId: 'u-alice', Password: GIVEN }, { as: 'form' });
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ RequestId: res.headers.get('apigw-requestid') });
      const user = await t.getUser('u-alice');
      expect(await argon2idHasher.verify(user?.credential?.hash ?? '', GIVEN)).toBe(true);
      expect(user?.credential?.kind).toBe('PERMANENT');
      expect(user?.credential?.secretId).toBeUndefined();
      expect(secrets().length).toBe(secretsBefore - 1);
      expect(secrets().map((s) => s.arn)).not.toContain(first.json.NewPasswordSecretId);
    });

    it('makes it TEMPORARY for the realm lifetime, without a secret, when RequirePasswordResetForNextLogin is true', async () => {
      const generated = await reset({ DirectoryId: 'demo', UserId: 'u-bob', GenerateRandomPassword: true });
      await generatedPassword(generated.json.NewPasswordSecretId);
      const secretsBefore = secrets().length;
      const res = await reset({
        DirectoryId: 'demo',
        UserId: 'u-bob',
        Password: GIVEN,
        GenerateRandomPassword: false,
        RequirePasswordResetForNextLogin: true,
      });
      expect(res.status).toBe(200);
      const credential = (await t.getUser('u-bob'))?.credential;
      expect(credential?.kind).toBe('TEMPORARY');
      expect(credential?.secretId).toBeUndefined();
      expect(Date.parse(credential?.expiresAt ?? '') - Date.parse(credential?.setAt ?? '')).toBe(
        7 * 24 * 3600 * 1000,
      );
      // The replaced generated secret is gone; no new one appeared.
      expect(secrets().length).toBe(secretsBefore - 1);
    });

    it("checks only the seed's rules in a realm whose own policy is alibaba-cloudsso", async () => {
      const res = await reset(
        { DirectoryId: 'd-cloudsso', UserId: 'u-dave', Password: 'Ab1!cdef' },
        { token: await t.token({ realmId: 'd-cloudsso' }) },
      );
      expect(res.status).toBe(200);
      passwordsSeen.add('Ab1!cdef');
    });
  });

  describe('refuses, with nothing written,', () => {
    const cases: Array<[string, Params, Carrier, number, string]> = [
      [
        'a missing DirectoryId',
        { UserId: 'u-alice', GenerateRandomPassword: true },
        'json',
        400,
        'MissingParameter.DirectoryId',
      ],
      [
        'a missing UserId',
        { DirectoryId: 'demo', GenerateRandomPassword: 'True' },
        'query',
        400,
        'MissingParameter.UserId',
      ],
      [
        'neither Password nor GenerateRandomPassword',
        { DirectoryId: 'demo', UserId: 'u-alice' },
        'form',
        400,
        'MissingParameter.Password',
      ],
      [
        'GenerateRandomPassword=False without Password',
        { DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: 'False' },
        'json',
        400,
        'MissingParameter.Password',
      ],
      [
        'both Password and GenerateRandomPassword=True',
        { DirectoryId: 'demo', UserId: 'u-alice', Password: GIVEN, GenerateRandomPassword: true },
        'json',
        400,
        'InvalidParameter.Password',
      ],
      [
        'an unknown parameter',
        { DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: true, NewPassword: 'x' },
        'json',
        400,
        'InvalidParameter',
      ],
      [
        'a boolean spelled yes',
        { DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: 'yes' },
        'query',
        400,
        'InvalidParameter.GenerateRandomPassword',
      ],
      [
        'a boolean spelled TRUE',
        { DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: 'TRUE' },
        'form',
        400,
        'InvalidParameter.GenerateRandomPassword',
      ],
      [
        'a boolean flag that is 1',
        { DirectoryId: 'demo', UserId: 'u-alice', Password: GIVEN, RequirePasswordResetForNextLogin: '1' },
        'query',
        400,
        'InvalidParameter.RequirePasswordResetForNextLogin',
      ],
      [
        'a UserId with a slash',
        { DirectoryId: 'demo', UserId: 'u-alice/x', GenerateRandomPassword: true },
        'json',
        400,
        'InvalidParameter.UserId',
      ],
      [
        'a Password shorter than 8',
        { DirectoryId: 'demo', UserId: 'u-alice', Password: 'Ab1!xyz' },
        'json',
        400,
        'InvalidParameter.Password',
      ],
      [
        'a Password longer than 32',
        { DirectoryId: 'demo', UserId: 'u-alice', Password: `Ab1!${'x'.repeat(29)}` },
        'json',
        400,
        'InvalidParameter.Password',
      ],
      [
        'a Password without a special character',
        { DirectoryId: 'demo', UserId: 'u-alice', Password: 'Abcdefgh12345' },
        'form',
        400,
        'InvalidParameter.Password',
      ],
      [
        'a Password with a control character',
        { DirectoryId: 'demo', UserId: 'u-alice', Password: 'Abc!1234\u0000xyz' },
        'json',
        400,
        'InvalidParameter.Password',
      ],
      [
        "a Password the realm's policy refuses (oci: 12+)",
        { DirectoryId: 'demo', UserId: 'u-alice', Password: 'Ab1!cdefg' },
        'json',
        400,
        'InvalidParameter.Password',
      ],
      [
        'a Password that contains the username',
        { DirectoryId: 'demo', UserId: 'u-alice', Password: 'My-alice-Pass-99' },
        'json',
        400,
        'InvalidParameter.Password',
      ],
      [
        'a DirectoryId of another realm',
        { DirectoryId: 'd-cloudsso', UserId: 'u-dave', GenerateRandomPassword: true },
        'json',
        403,
        'NoPermission.Directory',
      ],
      [
        'an unknown user',
        { DirectoryId: 'demo', UserId: 'u-nobody', GenerateRandomPassword: true },
        'json',
        404,
        'EntityNotExists.User',
      ],
      [
        'a user of another directory',
        { DirectoryId: 'demo', UserId: 'u-dave', GenerateRandomPassword: true },
        'json',
        404,
        'EntityNotExists.User',
      ],
      [
        'a federated user',
        { DirectoryId: 'demo', UserId: 'u-carol', GenerateRandomPassword: true },
        'json',
        409,
        'OperationConflict.Federated',
      ],
    ];
    it.each(cases)('%s', async (_name, params, as, status, code) => {
      const userId =
        typeof params.UserId === 'string' && !params.UserId.includes('/') ? params.UserId : 'u-alice';
      const res = await refused(() => reset(params, { as }), userId);
      expect(res.status).toBe(status);
      expect(res.json.Code).toBe(code);
      expect(res.json.RequestId).toBe(res.headers.get('apigw-requestid'));
      if (typeof params.Password === 'string') {
        passwordsSeen.add(params.Password);
        expect(res.text).not.toContain(params.Password);
      }
    });

    it('a directory with SSO logon enabled (409 OperationConflict.SSOEnabled)', async () => {
      const ssoToken = await t.token({ realmId: 'd-sso' });
      const res = await refused(
        () => reset({ DirectoryId: 'd-sso', UserId: 'u-erin', Password: GIVEN }, { token: ssoToken }),
        'u-erin',
      );
      expect([res.status, res.json.Code]).toEqual([409, 'OperationConflict.SSOEnabled']);
    });

    it('parameters split between the query string and the body', async () => {
      const res = await refused(() =>
        t.request('POST', `${PATH}?DirectoryId=demo`, {
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ UserId: 'u-alice', GenerateRandomPassword: true }),
        }),
      );
      expect([res.status, res.json.Code]).toEqual([400, 'InvalidParameter.ParameterLocation']);
    });

    const raw: Array<[string, string, Record<string, string>, string | undefined, string]> = [
      [
        'a body of another media type',
        PATH,
        { 'content-type': 'text/plain' },
        'DirectoryId=demo',
        'InvalidParameter.ContentType',
      ],
      [
        'a JSON body that is not an object',
        PATH,
        { 'content-type': 'application/json' },
        '["demo"]',
        'InvalidParameter.MalformedJson',
      ],
      [
        'malformed JSON',
        PATH,
        { 'content-type': 'application/json' },
        '{"DirectoryId":',
        'InvalidParameter.MalformedJson',
      ],
      [
        'a JSON key given twice',
        PATH,
        { 'content-type': 'application/json' },
        '{"DirectoryId":"demo","UserId":"u-alice","UserId":"u-bob","GenerateRandomPassword":true}',
        'InvalidParameter.DuplicateField',
      ],
      [
        'a __proto__ key',
        PATH,
        { 'content-type': 'application/json' },
        '{"__proto__":{},"DirectoryId":"demo"}',
        'InvalidParameter.ForbiddenKey',
      ],
      [
        'a query parameter given twice',
        `${PATH}?DirectoryId=demo&UserId=u-alice&UserId=u-bob&GenerateRandomPassword=True`,
        {},
        undefined,
        'InvalidParameter',
      ],
      [
        'a JSON Password that is not a string',
        PATH,
        { 'content-type': 'application/json' },
        '{"DirectoryId":"demo","UserId":"u-alice","Password":12345678}',
        'InvalidParameter.Password',
      ],
    ];
    it.each(raw)('%s', async (_name, path, headers, body, code) => {
      const res = await refused(() =>
        t.request('POST', path, {
          headers: { authorization: `Bearer ${token}`, ...headers },
          ...(body ? { body } : {}),
        }),
      );
      expect([res.status, res.json.Code]).toEqual([400, code]);
    });

    it('a request without a valid token (401 InvalidSecurityToken, in Alibaba’s body)', async () => {
      const params = { DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: true };
      const invalid = await refused(() => reset(params, { token: 'not-a-jwt' }));
      expect([invalid.status, invalid.json.Code]).toEqual([401, 'InvalidSecurityToken']);
      const anonymous = await refused(() =>
        t.request('POST', PATH, {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(params),
        }),
      );
      expect([anonymous.status, anonymous.json.Code]).toEqual([401, 'InvalidSecurityToken']);
    });

    it('a token without the admin scope (403 NoPermission)', async () => {
      const weak = await t.token({ scopes: ['rekey/read'] });
      const res = await refused(() =>
        reset({ DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: true }, { token: weak }),
      );
      expect([res.status, res.json.Code]).toEqual([403, 'NoPermission']);
    });

    it('another method on the path (404 from the gateway: no route)', async () => {
      const res = await t.request(
        'GET',
        `${PATH}?DirectoryId=demo&UserId=u-alice&GenerateRandomPassword=True`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
      expect(res.status).toBe(404);
    });
  });

  describe('when a dependency fails', () => {
    it('answers 503 ServiceUnavailable and changes nothing if the vault cannot store the secret', async () => {
      vault.fail('create');
      const res = await refused(() =>
        reset({ DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: true }),
      );
      expect([res.status, res.json.Code]).toEqual([503, 'ServiceUnavailable']);
    });

    it('deletes the new secret and keeps the old password working if the credential switch fails', async () => {
      expect((await reset({ DirectoryId: 'demo', UserId: 'u-alice', Password: GIVEN })).status).toBe(200);
      const before = { user: await t.getUser('u-alice'), secrets: JSON.stringify(secrets()) };
      directory.fail('saveUser');
      const res = await reset({ DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: true });
      expect([res.status, res.json.Code]).toEqual([503, 'ServiceUnavailable']);
      expect(JSON.stringify(secrets())).toBe(before.secrets);
      // Nothing changed but the fence: one version on, so the failed write can never land.
      const user = await t.getUser('u-alice');
      expect(user).toEqual({ ...before.user, version: (before.user?.version ?? 0) + 1 });
      expect(await argon2idHasher.verify(user?.credential?.hash ?? '', GIVEN)).toBe(true);
    });

    it('answers 409 OperationConflict.ConcurrentUpdate when another request changed the user first', async () => {
      directory.fail('saveUser', { error: new VersionConflictError() });
      const res = await refused(() => reset({ DirectoryId: 'demo', UserId: 'u-alice', Password: GIVEN }));
      expect([res.status, res.json.Code]).toEqual([409, 'OperationConflict.ConcurrentUpdate']);
    });

    it('keeps the secret and answers 200 when the switch landed but its answer was lost', async () => {
      directory.fail('saveUser', { landed: true });
      const res = await reset({ DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: true });
      expect(res.status).toBe(200);
      const password = await generatedPassword(res.json.NewPasswordSecretId);
      const user = await t.getUser('u-alice');
      expect(await argon2idHasher.verify(user?.credential?.hash ?? '', password)).toBe(true);
    });

    it('answers 503 if the directory cannot be read', async () => {
      directory.fail('getUser');
      const res = await refused(() => reset({ DirectoryId: 'demo', UserId: 'u-alice', Password: GIVEN }));
      expect([res.status, res.json.Code]).toEqual([503, 'ServiceUnavailable']);
    });

    it('answers a generic 500 InternalError, revealing nothing, on an unexpected failure', async () => {
      hasherFails = true;
      const res = await refused(() => reset({ DirectoryId: 'demo', UserId: 'u-alice', Password: GIVEN }));
      expect([res.status, res.json.Code]).toEqual([500, 'InternalError']);
      expect(res.json.Message).toBe('An internal error occurred; retry later.');
    });
  });

  it('never writes a password, given or generated, to a log line', () => {
    const output = logs.join('');
    expect(output).toContain('request served');
    for (const password of passwordsSeen) {
      expect(output).not.toContain(password);
      expect(output).not.toContain(JSON.stringify(password).slice(1, -1));
    }
  });
});
