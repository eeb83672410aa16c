/**
 * A genuine admin token whose realm claim is not one realm's id — "*", or an array holding
 * the target realm — acts in no realm: on all four admin routes, over HTTP through the local
 * gateway and its token authorizer, it is refused and writes nothing. A valid demo token on
 * the same requests succeeds (the control).
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newInstance } from '#core/factories.ts';
import { ADMIN_SCOPE, REALM_CLAIM } from '#http/admin.ts';
import { DEV_AUDIENCE, DEV_ISSUER } from '#infra/local/dev-tokens.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';

let t: TestApi;

beforeAll(async () => {
  t = await startTestApi();
  await t
    .runtime()
    .deps.directory.saveInstance(newInstance({ realmId: 'demo', instanceId: 'ddm-claims' }), undefined);
});

afterAll(() => t.close());

/** A token signed with the development key whose realm claim is exactly `realm`. */
function tokenWithRealm(realm: unknown): Promise<string> {
  return new SignJWT({ scope: ADMIN_SCOPE, [REALM_CLAIM]: realm })
    .setProtectedHeader({ alg: 'ES256', kid: t.api.devKey.kid, typ: 'JWT' })
    .setSubject('admin@demo')
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(t.api.devKey.privateKey);
}

const json = { 'content-type': 'application/json' };

/** One request per admin route, against the demo realm's resources. */
const ROUTES: Array<[string, (token: string) => ReturnType<TestApi['request']>]> = [
  [
    'POST /20160918/users/{userId}/uiPassword (OCI)',
    (token) =>
      t.request('POST', '/20160918/users/u-alice/uiPassword', {
        headers: { authorization: `Bearer ${token}` },
      }),
  ],
  [
    'GET /v2/{project_id}/users/{user_id}/random-password (Huawei IAM)',
    (token) =>
      t.request('GET', '/v2/demo/users/u-bob/random-password', { headers: { 'x-auth-token': token } }),
  ],
  [
    'POST /cloudsso/2021-05-15/ResetUserPassword (Alibaba CloudSSO)',
    (token) =>
      t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
        headers: { authorization: `Bearer ${token}`, ...json },
        body: JSON.stringify({ DirectoryId: 'demo', UserId: 'u-alice', GenerateRandomPassword: true }),
      }),
  ],
  [
    'PUT /v3/{project_id}/instances/{instance_id}/admin-user (Huawei DDM)',
    (token) =>
      t.request('PUT', '/v3/demo/instances/ddm-claims/admin-user', {
        headers: { 'x-auth-token': token, ...json },
        body: JSON.stringify({ name: 'root', password: 'Ddm#Admin2024' }),
      }),
  ],
];

/** Everything a request could have written: secrets and the demo records it targets. */
async function written() {
  return {
    secrets: t.api.backend?.vault.list('rekey/').map((s) => s.arn) ?? [],
    alice: await t.getUser('u-alice'),
    bob: await t.getUser('u-bob'),
    instance: await t.runtime().deps.directory.getInstance('ddm-claims'),
  };
}

describe('a realm claim that names no single realm', () => {
  it.each(ROUTES)(
    '%s: "*", ["demo", "other"] and ["demo"] are refused, nothing written',
    async (_route, send) => {
      for (const realm of ['*', ['demo', 'other'], ['demo']]) {
        const before = await written();
        const res = await send(await tokenWithRealm(realm));
        // 403 (the realm names no project/directory of the token's), or 404 where the route
        // answers a user outside the token's realm as unknown (OCI): never a success.
        expect([JSON.stringify(realm), [403, 404].includes(res.status)]).toEqual([
          JSON.stringify(realm),
          true,
        ]);
        expect(await written()).toEqual(before);
      }
    },
  );

  it.each(ROUTES)(
    '%s: a claim that is not a realm id ("demo/rt", "demo ") is refused with 403',
    async (_route, send) => {
      for (const realm of ['demo/rt', 'demo ']) {
        const before = await written();
        const res = await send(await tokenWithRealm(realm));
        expect([realm, res.status]).toEqual([realm, 403]);
        expect(await written()).toEqual(before);
      }
    },
  );

  it('cannot read another realm\'s OCI retry-token answer through a realm claim holding a "/"', async () => {
    const retry = (token: string, opcRetryToken: string) =>
      t.request('POST', '/20160918/users/u-bob/uiPassword', {
        headers: { authorization: `Bearer ${token}`, 'opc-retry-token': opcRetryToken },
      });
    const first = await retry(await tokenWithRealm('demo'), 'rt/x');
    expect(first.status).toBe(200);
    // The record's key was `demo/rt/x` — what realm `demo/rt` with token `x` also spelled.
    const other = await retry(await tokenWithRealm('demo/rt'), 'x');
    expect(other.status).toBe(403);
    expect(other.text).not.toContain(String(first.json.passwordSecretId));
  });

  it.each(ROUTES)('%s: the control, a demo token, succeeds', async (_route, send) => {
    const res = await send(await tokenWithRealm('demo'));
    expect(res.status).toBe(200);
  });
});
