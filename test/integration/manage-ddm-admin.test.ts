import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalFileVault } from '#adapters/local-file-vault.ts';
import { VersionConflictError } from '#core/errors.ts';
import { newInstance, newRealm } from '#core/factories.ts';
import type { Directory, SecretVault } from '#core/ports.ts';
import { type FaultyPort, faultyPort } from '#test/support/port-faults.ts';
import { startTestApi, type TestApi, type TestResponse } from '#test/support/test-api.ts';

const FIRST = 'Ddm#Admin2024';
const SECOND = 'Second!Pass99';
/** Every password a test sends: none may appear in a body or a log line. */
const passwordsSeen = new Set<string>([FIRST, SECOND]);

const path = (instanceId: string, projectId = 'demo') =>
  `/v3/${projectId}/instances/${instanceId}/admin-user`;

describe('PUT|POST /v3/{project_id}/instances/{instance_id}/admin-user', () => {
  let t: TestApi;
  let token: string;
  let directory: FaultyPort<Directory>;
  let vault: FaultyPort<SecretVault>;
  const logs: string[] = [];
  const realWrite = process.stdout.write.bind(process.stdout);

  const localVault = () => t.api.backend?.vault as LocalFileVault;
  const store = () => t.runtime().deps.directory;
  const secretsOf = (instanceId: string) => localVault().list(`rekey/ddm/demo/${instanceId}/`);
  const secretValue = async (secretId: string) => JSON.parse(await localVault().read(secretId));

  async function addInstance(instanceId: string, realmId = 'demo'): Promise<void> {
    await store().saveInstance(newInstance({ realmId, instanceId }), undefined);
  }

  function send(
    instanceId: string,
    body: unknown,
    options: { method?: string; projectId?: string; headers?: Record<string, string> } = {},
  ): Promise<TestResponse> {
    return t.request(options.method ?? 'PUT', path(instanceId, options.projectId), {
      headers: options.headers ?? { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  /** Sends a request that must be refused, and proves nothing was written. */
  async function refused(instanceId: string, request: () => Promise<TestResponse>): Promise<TestResponse> {
    const before = JSON.stringify({
      instance: await store().getInstance(instanceId),
      secrets: localVault().list(''),
    });
    const res = await request();
    const after = JSON.stringify({
      instance: await store().getInstance(instanceId),
      secrets: localVault().list(''),
    });
    expect(after).toBe(before);
    for (const password of passwordsSeen) expect(res.text).not.toContain(password);
    return res;
  }

  beforeAll(async () => {
    // Captured, not echoed: the assertions below read every line the functions log.
    process.stdout.write = ((chunk: string | Uint8Array) => {
      logs.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    t = await startTestApi({
      customizeRuntime: (operation, runtime) => {
        if (operation !== 'manage-ddm-admin') return runtime;
        directory = faultyPort(runtime.deps.directory);
        vault = faultyPort(runtime.deps.vault);
        return { ...runtime, deps: { ...runtime.deps, directory: directory.port, vault: vault.port } };
      },
    });
    token = await t.token();
    await store().createRealm(newRealm('other', 'other corp'));
    for (const id of ['ddm-put', 'ddm-post', 'ddm-refuse', 'ddm-faults', 'ddm-landed', 'ddm-race']) {
      await addInstance(id);
    }
    await addInstance('ddm-foreign', 'other');
  });
  afterEach(() => {
    directory.clear();
    vault.clear();
  });
  afterAll(async () => {
    process.stdout.write = realWrite;
    await t.close();
  });

  it('creates the administrator on the first call: an RDS-style secret, 200 with no body', async () => {
    const res = await send('ddm-put', { name: 'root', password: FIRST });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers.get('x-request-id')).toBe(res.headers.get('apigw-requestid'));
    const instance = await store().getInstance('ddm-put');
    expect(instance).toMatchObject({ adminName: 'root', version: 2 });
    const [secret, ...others] = secretsOf('ddm-put');
    expect(others).toEqual([]);
    expect(secret?.arn).toBe(instance?.adminSecretId);
    expect(secret?.name).toMatch(/^rekey\/ddm\/demo\/ddm-put\/admin\//);
    expect(JSON.stringify(secret?.tags)).not.toContain(FIRST);
    expect(await secretValue(secret?.arn ?? '')).toEqual({
      engine: 'mysql',
      host: 'ddm-put.ddm.local',
      port: 3306,
      username: 'root',
      password: FIRST,
      dbInstanceIdentifier: 'ddm-put',
    });
  });

  it('later only changes the password: a new version of the same secret, other keys kept', async () => {
    const secretId = (await store().getInstance('ddm-put'))?.adminSecretId ?? '';
    await localVault().putValue(
      secretId,
      JSON.stringify({ ...(await secretValue(secretId)), dbname: 'orders' }),
    );
    const versionBefore = localVault().describe(secretId).versionId;
    const res = await send('ddm-put', { name: 'root', password: SECOND });
    expect([res.status, res.text]).toEqual([200, '']);
    expect(secretsOf('ddm-put').map((s) => s.arn)).toEqual([secretId]);
    expect(localVault().describe(secretId).versionId).not.toBe(versionBefore);
    expect(await secretValue(secretId)).toMatchObject({
      username: 'root',
      password: SECOND,
      dbname: 'orders',
    });
    expect(await store().getInstance('ddm-put')).toMatchObject({
      adminName: 'root',
      adminSecretId: secretId,
    });
  });

  it("accepts POST, as in the seed's own example, and the X-Auth-Token header", async () => {
    const res = await send(
      'ddm-post',
      { name: 'db_admin1', password: FIRST },
      { method: 'POST', headers: { 'x-auth-token': token, 'content-type': 'application/json' } },
    );
    expect(res.status).toBe(200);
    expect((await store().getInstance('ddm-post'))?.adminName).toBe('db_admin1');
  });

  it('accepts a password of three of the four classes, as the vendor does (no special character here)', async () => {
    const res = await send('ddm-post', { name: 'db_admin1', password: 'Kestrel7Harbor2' });
    expect(res.status).toBe(200);
    expect(await secretValue((await store().getInstance('ddm-post'))?.adminSecretId ?? '')).toMatchObject({
      username: 'db_admin1',
      password: 'Kestrel7Harbor2',
    });
  });

  describe('refuses, with nothing written,', () => {
    it('another administrator name once one exists (409 DDM.0009)', async () => {
      // (Not 'admin': the password holds that word, a context word refused before the name is read.)
      const res = await refused('ddm-put', () => send('ddm-put', { name: 'operator', password: FIRST }));
      expect([res.status, res.json.error_code]).toEqual([409, 'DDM.0009']);
      expect(res.json.error_msg).toMatch(/another name/);
    });

    const badBodies: Array<[string, unknown]> = [
      ['an empty name', { name: '', password: FIRST }],
      ['a name starting with a digit', { name: '1root', password: FIRST }],
      ['a name with a hyphen', { name: 'ro-ot', password: FIRST }],
      ['a name of 33 characters', { name: `r${'x'.repeat(32)}`, password: FIRST }],
      ['a password of 7 characters', { name: 'root', password: 'Ab1#xyz' }],
      ['a password of 33 characters', { name: 'root', password: `Ab1#${'x'.repeat(29)}` }],
      ['a password of two classes (lower case and digits)', { name: 'root', password: 'abcdefg1hij' }],
      ['a password of two classes (upper case and specials)', { name: 'root', password: 'ABCDEFG#HIJ' }],
      [
        'a password with a special character outside ~!@#%^*-_=+?',
        { name: 'root', password: 'Abcdef1#$hij' },
      ],
      ['a password with a space', { name: 'root', password: 'Abcdef1# hij' }],
      ['a password with a non-ASCII letter', { name: 'root', password: 'Abcdéf1#hij' }],
      ['a password that is not a string', { name: 'root', password: 12345678 }],
      ['a missing password', { name: 'root' }],
      ['a missing name', { password: FIRST }],
      ['an unknown field', { name: 'root', password: FIRST, user_type: 'admin' }],
      ['a body that is not an object', [FIRST]],
      ['malformed JSON', '{"name":"root",'],
      ['a duplicate key', `{"name":"root","password":"${FIRST}","password":"${SECOND}"}`],
      ['a __proto__ key', `{"name":"root","password":"${FIRST}","__proto__":{}}`],
      ['no body at all', ''],
    ];
    it.each(badBodies)('%s (400 DDM.0011)', async (_name, body) => {
      const password = (body as { password?: unknown })?.password;
      if (typeof password === 'string') passwordsSeen.add(password);
      const res = await refused('ddm-refuse', () => send('ddm-refuse', body));
      expect([res.status, res.json.error_code]).toEqual([400, 'DDM.0011']);
      expect(res.headers.get('x-request-id')).toBeTruthy();
    });

    it('a body sent as another media type (400)', async () => {
      const res = await refused('ddm-refuse', () =>
        send(
          'ddm-refuse',
          { name: 'root', password: FIRST },
          {
            headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
          },
        ),
      );
      expect([res.status, res.json.error_code]).toEqual([400, 'DDM.0011']);
    });

    it("another realm's project_id (403 DDM.0003)", async () => {
      const res = await refused('ddm-foreign', () =>
        send('ddm-foreign', { name: 'root', password: FIRST }, { projectId: 'other' }),
      );
      expect([res.status, res.json.error_code]).toEqual([403, 'DDM.0003']);
    });

    it('an instance of another realm, or none, as not found (404 DDM.0004)', async () => {
      const foreign = await refused('ddm-foreign', () =>
        send('ddm-foreign', { name: 'root', password: FIRST }),
      );
      expect([foreign.status, foreign.json.error_code]).toEqual([404, 'DDM.0004']);
      const missing = await refused('ddm-none', () => send('ddm-none', { name: 'root', password: FIRST }));
      expect([missing.status, missing.json.error_code]).toEqual([404, 'DDM.0004']);
      expect(missing.json.error_msg).toBe(foreign.json.error_msg.replace('ddm-foreign', 'ddm-none'));
    });

    it('a request without a token (401) or without the admin scope (403)', async () => {
      const anonymous = await refused('ddm-refuse', () =>
        send(
          'ddm-refuse',
          { name: 'root', password: FIRST },
          { headers: { 'content-type': 'application/json' } },
        ),
      );
      expect(anonymous.status).toBe(401);
      const weak = await t.token({ scopes: ['rekey/read'] });
      const res = await refused('ddm-refuse', () =>
        send(
          'ddm-refuse',
          { name: 'root', password: FIRST },
          {
            headers: { authorization: `Bearer ${weak}`, 'content-type': 'application/json' },
          },
        ),
      );
      expect([res.status, res.json.error_code]).toEqual([403, 'DDM.0003']);
    });

    it('other methods on the path (404 from the gateway: no route)', async () => {
      for (const method of ['GET', 'DELETE', 'PATCH']) {
        const res = await refused('ddm-refuse', () =>
          t.request(method, path('ddm-refuse'), { headers: { authorization: `Bearer ${token}` } }),
        );
        expect(res.status).toBe(404);
      }
    });
  });

  describe('when a dependency fails', () => {
    it('answers 503 DDM.0015 and records nothing if the vault cannot create the secret', async () => {
      vault.fail('create');
      const res = await refused('ddm-faults', () => send('ddm-faults', { name: 'root', password: FIRST }));
      expect([res.status, res.json.error_code]).toEqual([503, 'DDM.0015']);
    });

    it('deletes the new secret if the instance cannot be updated, once the instance is fenced', async () => {
      const before = await store().getInstance('ddm-faults');
      directory.fail('saveInstance');
      const res = await send('ddm-faults', { name: 'root', password: FIRST });
      expect([res.status, res.json.error_code]).toEqual([503, 'DDM.0015']);
      expect(secretsOf('ddm-faults')).toEqual([]);
      // Nothing changed but the fence: one version on, so the failed write can never land.
      expect(await store().getInstance('ddm-faults')).toEqual({
        ...before,
        version: (before?.version ?? 0) + 1,
      });
    });

    it('keeps the secret, and answers 503, when it cannot tell whether the update landed', async () => {
      directory.fail('saveInstance');
      directory.fail('getInstance', { onCall: 2 });
      const res = await send('ddm-faults', { name: 'root', password: FIRST });
      expect([res.status, res.json.error_code]).toEqual([503, 'DDM.0015']);
      expect(secretsOf('ddm-faults')).toHaveLength(1);
      expect((await store().getInstance('ddm-faults'))?.adminSecretId).toBeUndefined();
      // A retry is not blocked by the orphan: it creates the administrator with a secret of its own.
      expect((await send('ddm-faults', { name: 'root', password: FIRST })).status).toBe(200);
      const recorded = (await store().getInstance('ddm-faults'))?.adminSecretId;
      expect(secretsOf('ddm-faults').map((s) => s.arn)).toContain(recorded);
    });

    it('answers 200 and keeps the secret when the update landed but its answer was lost', async () => {
      directory.fail('saveInstance', { landed: true });
      const res = await send('ddm-landed', { name: 'root', password: FIRST });
      expect(res.status).toBe(200);
      const instance = await store().getInstance('ddm-landed');
      expect((await secretValue(instance?.adminSecretId ?? '')).password).toBe(FIRST);
    });

    it('answers 409 DDM.0009 and deletes its secret when another request created the administrator first', async () => {
      directory.fail('saveInstance', { error: new VersionConflictError() });
      const res = await send('ddm-race', { name: 'root', password: FIRST });
      expect([res.status, res.json.error_code]).toEqual([409, 'DDM.0009']);
      expect(secretsOf('ddm-race')).toEqual([]);
    });

    it('answers 503 and leaves the password unchanged if the new secret version cannot be written', async () => {
      for (const method of ['putValue', 'read'] as const) {
        vault.fail(method);
        const res = await refused('ddm-put', () => send('ddm-put', { name: 'root', password: FIRST }));
        expect([res.status, res.json.error_code]).toEqual([503, 'DDM.0015']);
      }
    });

    it('answers 503 if the directory cannot be read', async () => {
      directory.fail('getInstance');
      const res = await refused('ddm-put', () => send('ddm-put', { name: 'root', password: FIRST }));
      expect([res.status, res.json.error_code]).toEqual([503, 'DDM.0015']);
    });
  });

  it('never writes a password to a log line', () => {
    const output = logs.join('');
    expect(output).toContain('DDM administrator created');
    for (const password of passwordsSeen) {
      expect(output).not.toContain(password);
      expect(output).not.toContain(JSON.stringify(password).slice(1, -1));
    }
  });
});
