/**
 * A realm created with SSO logon enabled (`rekey realm create --sso-enabled`): every route and
 * ticket that would set or reset a directory user's password refuses, each in its own dialect,
 * and writes nothing — no user record change, no secret, no index entry, no notification.
 * The DDM administrator (a database account, not a directory user) is not concerned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newInstance, newRealm, newUser } from '#core/factories.ts';
import { passwordResetFailed } from '#functions/ticket-worker/result-events.ts';
import { startTestApi, type TestApi, type TestResponse } from '#test/support/test-api.ts';
import { putTickets } from '#test/support/tickets.ts';

const REALM = 'sso-corp';
const GIVEN = 'Quiet-Harbor-2026!';
const DDM_PASSWORD = 'Ddm#Admin2024';

let t: TestApi;
let token: string;

beforeAll(async () => {
  t = await startTestApi();
  const directory = t.runtime().deps.directory;
  await directory.createRealm(newRealm(REALM, 'ssocorp', { ssoEnabled: true }));
  await directory.createUser(
    newUser({
      realmId: REALM,
      userId: 'u-sso',
      username: 'sol',
      email: 'sol@example.com',
      phone: '+15550100009',
    }),
  );
  await directory.saveInstance(newInstance({ realmId: REALM, instanceId: 'ddm-sso' }), undefined);
  token = await t.token({ realmId: REALM });
});
afterAll(() => t.close());

/** Everything a reset could have written: the user record, every secret, the index, the outbox. */
async function state() {
  const backend = t.api.backend ?? expect.unreachable('the test API has an embedded backend');
  return {
    user: await t.getUser('u-sso'),
    secrets: backend.vault.list('').map((s) => s.arn),
    index: (await t.runtime().deps.directory.listTrackedSecrets()).secrets,
    outbox: t.api.outbox.read().length,
  };
}

/** Sends a request that must be refused, and proves it wrote nothing. */
async function refused(send: () => Promise<TestResponse>): Promise<TestResponse> {
  const before = await state();
  expect(before.user?.version).toBe(1);
  const res = await send();
  expect(await state()).toEqual(before);
  expect(res.text).not.toContain(GIVEN);
  return res;
}

describe('a realm with SSO logon enabled', () => {
  it('refuses OCI uiPassword with 409 Conflict (not IncorrectState, which OCI SDKs retry), writing nothing', async () => {
    const res = await refused(() =>
      t.request('POST', '/20160918/users/u-sso/uiPassword', {
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    expect(res.status).toBe(409);
    expect(Object.keys(res.json).sort()).toEqual(['code', 'message']);
    expect(res.json.code).toBe('Conflict');
    expect(res.json.message).toMatch(/SSO logon/);
    expect(res.headers.get('opc-request-id')).toBeTruthy();
  });

  it.each([
    ['no channel', ''],
    ['e-mail and SMS', '?notification_type=email,phone'],
  ])(
    'refuses Huawei random-password (%s) with 400 IAM.0011, writing and sending nothing',
    async (_what, query) => {
      const res = await refused(() =>
        t.request('GET', `/v2/${REALM}/users/u-sso/random-password${query}`, {
          headers: { 'x-auth-token': token },
        }),
      );
      expect(res.status).toBe(400);
      expect(Object.keys(res.json).sort()).toEqual(['error_code', 'error_msg']);
      expect(res.json.error_code).toBe('IAM.0011');
      expect(res.json.error_msg).toMatch(/SSO logon/);
    },
  );

  it.each([
    ['a given password', { Password: GIVEN }],
    ['a generated password', { GenerateRandomPassword: true }],
  ])(
    'refuses CloudSSO ResetUserPassword with %s: 409 OperationConflict.SSOEnabled, writing nothing',
    async (_what, params) => {
      const res = await refused(() =>
        t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ DirectoryId: REALM, UserId: 'u-sso', ...params }),
        }),
      );
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({ Code: 'OperationConflict.SSOEnabled', RequestId: expect.any(String) });
      expect(res.json.Message).toMatch(/SSO logon/);
    },
  );

  it.each([
    ['CreateOrResetUIPassword', {}],
    ['CreateOrResetUIPassword', { notificationType: 'email' }],
    ['ResetRandomPassword', {}],
    ['ResetRandomPassword', { notificationType: 'email,phone' }],
    ['ResetUserPassword', {}],
  ])(
    'answers a %s ticket %j with PasswordResetFailed Conflict.SSOEnabled, writing nothing',
    async (operation, extra) => {
      const ticketId = `SSO-${operation}-${Object.keys(extra).length}`;
      const before = await state();
      await putTickets(t, [{ ticketId, operation, realmId: REALM, userId: 'u-sso', ...extra }]);
      expect(await state()).toEqual(before);
      const results = (t.api.bus?.results() ?? []).filter((e) => e.detail.ticketId === ticketId);
      expect(results.map((e) => e['detail-type'])).toEqual(['PasswordResetFailed']);
      expect(passwordResetFailed.parse(results[0]?.detail)).toMatchObject({
        ticketId,
        operation,
        code: 'Conflict.SSOEnabled',
      });
    },
  );

  it('still lets the DDM administrator be created and changed: a database account, not a directory user', async () => {
    const send = () =>
      t.request('PUT', `/v3/${REALM}/instances/ddm-sso/admin-user`, {
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'root', password: DDM_PASSWORD }),
      });
    expect((await send()).status).toBe(200);
    const instance = await t.runtime().deps.directory.getInstance('ddm-sso');
    expect(instance).toMatchObject({ adminName: 'root', adminSecretId: expect.any(String) });
    expect((await send()).status).toBe(200);
  });
});
