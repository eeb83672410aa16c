import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import type { Runtime } from '#adapters/runtime.ts';
import { UnavailableError } from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import type { TemporaryPasswordSecret } from '#core/model.ts';
import type { Directory, Notifier, SecretVault } from '#core/ports.ts';
import { randomPasswordResponse } from '#functions/reset-random-password/openapi.ts';
import { capturingLogs } from '#test/support/capture-output.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';

/** Asserts `text` holds `password` neither as is nor JSON-escaped (a `"` or `\\` in it would hide a raw match). */
function expectNoPassword(text: string, password: string): void {
  expect(password.length).toBeGreaterThan(0);
  expect(text).not.toContain(password);
  expect(text).not.toContain(JSON.stringify(password).slice(1, -1));
}

const path = (userId: string, query = '', project = 'demo') =>
  `/v2/${project}/users/${userId}/random-password${query}`;

/** A GET carrying a JSON body, sent with node:http. */
function getWithBody(url: string, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      headers: {
        'x-auth-token': token,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What a request may have changed: the user record, the temporary secrets, the outbox. */
async function snapshot(t: TestApi, userId: string) {
  return {
    user: await t.getUser(userId),
    secrets: t.api.backend?.vault.list('rekey/temp/').map((s) => s.arn),
    outbox: t.api.outbox.read().length,
  };
}

describe('GET /v2/{project_id}/users/{user_id}/random-password', () => {
  let t: TestApi;
  let token: string;
  beforeAll(async () => {
    t = await startTestApi();
    token = await t.token();
    const { directory } = t.runtime().deps;
    await directory.createRealm(newRealm('other', 'othercorp'));
    await directory.createUser(
      newUser({ realmId: 'other', userId: 'u-olga', username: 'olga', email: 'o@x.example' }),
    );
  });
  afterAll(() => t.close());

  it('resets, notifies both channels and answers only where the password is kept', async () => {
    const sentBefore = t.api.outbox.read().length;
    const { result: res, logs } = await capturingLogs(() =>
      t.request('GET', path('u-alice', '?notification_type=email,phone'), {
        headers: { 'x-auth-token': token },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const body = randomPasswordResponse.parse(res.json);
    expect(body.password_secret_id).toMatch(/^arn:aws:secretsmanager:.*:secret:rekey\/temp\/demo\/u-alice\//);

    const secret = JSON.parse(
      await t.runtime().deps.vault.read(body.password_secret_id),
    ) as TemporaryPasswordSecret;
    expect(secret.expiresAt).toBe(body.expires_at);
    const user = await t.getUser('u-alice');
    expect(user?.credential).toMatchObject({ kind: 'TEMPORARY', secretId: body.password_secret_id });
    expect(await argon2idHasher.verify(user?.credential?.hash ?? '', secret.password)).toBe(true);

    const sent = t.api.outbox.read().slice(sentBefore);
    expect(sent.map((n) => [n.channel, n.to])).toEqual([
      ['email', 'alice@example.com'],
      ['phone', '+15550100001'],
    ]);
    for (const notification of sent) expect(notification.text).toContain(secret.password);
    expectNoPassword(res.text, secret.password);
    expect(logs).toContain('request served');
    expectNoPassword(logs, secret.password);
  });

  it('accepts the token as Authorization: Bearer and notifies only the named channel', async () => {
    const sentBefore = t.api.outbox.read().length;
    const res = await t.request('GET', path('u-alice', '?notification_type=phone'), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(
      t.api.outbox
        .read()
        .slice(sentBefore)
        .map((n) => n.channel),
    ).toEqual(['phone']);
  });

  it('resets without notifying when notification_type is absent', async () => {
    const sentBefore = t.api.outbox.read().length;
    const res = await t.request('GET', path('u-bob'), { headers: { 'x-auth-token': token } });
    expect(res.status).toBe(200);
    expect(t.api.outbox.read()).toHaveLength(sentBefore);
  });

  it.each([
    ['no token', {}],
    ['an invalid token', { 'x-auth-token': 'not-a-jwt' }],
  ])('answers a Huawei 401 to %s', async (_what, headers: Record<string, string>) => {
    const res = await t.request('GET', path('u-alice'), { headers });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error_code: 'IAM.0001', error_msg: expect.any(String) });
  });

  it('answers 403 to a token of another realm, and to one without the admin scope', async () => {
    const otherRealm = await t.token({ realmId: 'other' });
    const noScope = await t.token({ scopes: ['rekey/read'] });
    for (const headers of [{ 'x-auth-token': otherRealm }, { 'x-auth-token': noScope }]) {
      const before = await snapshot(t, 'u-alice');
      const res = await t.request('GET', path('u-alice', '?notification_type=email'), { headers });
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({ error_code: 'IAM.0003' });
      expect(await snapshot(t, 'u-alice')).toEqual(before);
    }
  });

  it('answers 403 when the path names a project other than the token realm', async () => {
    const res = await t.request('GET', path('u-olga', '', 'other'), { headers: { 'x-auth-token': token } });
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ error_code: 'IAM.0003' });
  });

  it('answers 404 for a user of another project, as for one that does not exist', async () => {
    for (const userId of ['u-olga', 'u-nobody']) {
      const res = await t.request('GET', path(userId), { headers: { 'x-auth-token': token } });
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ error_code: 'IAM.0004' });
    }
  });

  it.each([
    ['a channel the user has no address on', 'u-bob', '?notification_type=email,phone'],
    ['a federated user', 'u-carol', ''],
    ['an unknown channel', 'u-alice', '?notification_type=sms'],
    ['a repeated channel', 'u-alice', '?notification_type=email,email'],
    ['a space in the list', 'u-alice', '?notification_type=email,%20phone'],
    ['an empty notification_type', 'u-alice', '?notification_type='],
    ['an unknown query parameter', 'u-alice', '?notification_type=email&verbose=1'],
    ['a repeated query parameter', 'u-alice', '?notification_type=email&notification_type=phone'],
  ])('answers 400 to %s and changes nothing', async (_what, userId, query) => {
    const before = await snapshot(t, userId);
    const res = await t.request('GET', path(userId, query), { headers: { 'x-auth-token': token } });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error_code: 'IAM.0011', error_msg: expect.any(String) });
    expect(await snapshot(t, userId)).toEqual(before);
  });

  it('names the offending parameter in a 400, never its value', async () => {
    const res = await t.request('GET', path('u-alice', '?notification_type=Sms-Xq9'), {
      headers: { 'x-auth-token': token },
    });
    expect(res.status).toBe(400);
    expect(res.json.error_msg).toContain('notification_type');
    expect(res.text).not.toContain('Sms-Xq9');
  });

  it('answers 400 to a request body other than an empty JSON object, and changes nothing', async () => {
    const before = await snapshot(t, 'u-alice');
    // fetch refuses a GET with a body; node:http sends one, as some clients do.
    const res = await getWithBody(`${t.url}${path('u-alice')}`, token, '{"password":"Chosen-By-Caller-1"}');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ error_code: 'IAM.0011' });
    expect(res.text).not.toContain('Chosen-By-Caller-1');
    expect(await snapshot(t, 'u-alice')).toEqual(before);
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])('answers 405 in the Huawei body to %s', async (method) => {
    const before = await snapshot(t, 'u-alice');
    const res = await t.request(method, path('u-alice'), { headers: { 'x-auth-token': token } });
    expect(res.status).toBe(405);
    expect(res.json).toEqual({ error_code: 'IAM.0005', error_msg: expect.stringContaining('GET') });
    expect(await snapshot(t, 'u-alice')).toEqual(before);
  });

  it('answers 405 to another method before it looks at the query string', async () => {
    const res = await t.request('PATCH', `${path('u-alice')}?zzz=1&notification_type=email`, {
      headers: { 'x-auth-token': token },
    });
    expect([res.status, res.json.error_code]).toEqual([405, 'IAM.0005']);
  });
});

/** Faults armed per test; each wraps one port of the reset-random-password function only. */
interface Faults {
  notifier?: Error;
  vaultCreate?: Error;
  saveUser?: Error;
  getUser?: Error;
}

function faulty(rt: Runtime, faults: Faults): Runtime {
  const { directory, vault, notifier } = rt.deps;
  const failing: Directory = Object.assign(Object.create(directory) as Directory, {
    getUser: (id: string) => (faults.getUser ? Promise.reject(faults.getUser) : directory.getUser(id)),
    saveUser: (next: Parameters<Directory['saveUser']>[0], version: number) =>
      faults.saveUser ? Promise.reject(faults.saveUser) : directory.saveUser(next, version),
  });
  const failingVault: SecretVault = Object.assign(Object.create(vault) as SecretVault, {
    create: (secret: Parameters<SecretVault['create']>[0]) =>
      faults.vaultCreate ? Promise.reject(faults.vaultCreate) : vault.create(secret),
  });
  const failingNotifier: Notifier = {
    send: (n) => (faults.notifier ? Promise.reject(faults.notifier) : notifier.send(n)),
  };
  return { ...rt, deps: { ...rt.deps, directory: failing, vault: failingVault, notifier: failingNotifier } };
}

describe('GET /v2/{project_id}/users/{user_id}/random-password when a dependency fails', () => {
  let t: TestApi;
  let token: string;
  const faults: Faults = {};
  beforeAll(async () => {
    t = await startTestApi({
      customizeRuntime: (op, rt) => (op === 'reset-random-password' ? faulty(rt, faults) : rt),
    });
    token = await t.token();
  });
  afterEach(() => {
    for (const key of Object.keys(faults)) delete faults[key as keyof Faults];
  });
  afterAll(() => t.close());
  const reset = () =>
    t.request('GET', path('u-alice', '?notification_type=email'), { headers: { 'x-auth-token': token } });

  it('answers 503 after a failed notification, saying the reset happened and the password is in the vault', async () => {
    faults.notifier = new UnavailableError('The e-mail service is unavailable; retry later.');
    const { result: res, logs } = await capturingLogs(reset);
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ error_code: 'IAM.0015', error_msg: expect.stringContaining('was reset') });
    const user = await t.getUser('u-alice');
    const secretId = user?.credential?.secretId ?? '';
    expect(res.json.error_msg).toContain(secretId);
    const { password } = JSON.parse(await t.runtime().deps.vault.read(secretId)) as TemporaryPasswordSecret;
    expect(await argon2idHasher.verify(user?.credential?.hash ?? '', password)).toBe(true);
    expectNoPassword(res.text, password);
    expect(logs).toContain('notification not sent');
    expectNoPassword(logs, password);
  });

  it('answers 503 and leaves the user as it was when the vault is unavailable', async () => {
    faults.vaultCreate = new UnavailableError('The vault is unavailable; retry later.');
    const before = await snapshot(t, 'u-alice');
    const res = await reset();
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ error_code: 'IAM.0015' });
    expect(await snapshot(t, 'u-alice')).toEqual(before);
  });

  it('answers 503, changes no credential and tells nobody when the table is down; the new secret is left to the sweeper', async () => {
    faults.saveUser = new UnavailableError('The directory is unavailable; retry later.');
    const before = await snapshot(t, 'u-alice');
    const res = await reset();
    expect(res.status).toBe(503);
    const after = await snapshot(t, 'u-alice');
    expect({ ...after, secrets: undefined }).toEqual({ ...before, secrets: undefined });
    // The fence failed too, so whether the switch might still land is unknown: its secret stays,
    // referenced by no credential, for the sweeper to delete after its grace period.
    const left = (after.secrets ?? []).filter((arn) => !(before.secrets ?? []).includes(arn));
    expect(left).toHaveLength(1);
    expect(after.user?.credential?.secretId).not.toBe(left[0]);
  });

  it('answers a generic 500 to an unexpected (bug-like) failure', async () => {
    faults.getUser = new TypeError("Cannot read properties of undefined (reading 'realmId')");
    const res = await reset();
    expect(res.status).toBe(500);
    expect(res.json).toEqual({
      error_code: 'IAM.0500',
      error_msg: 'An internal error occurred; retry later.',
    });
  });
});
