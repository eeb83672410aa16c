/**
 * A probe for test/integration/openapi-contract.test.ts (not part of the suite: the config's
 * include does not match it). Its one test passes, but its gateway answers a UIPassword with
 * the seed's `password` field — so the suite's response check (test/support/openapi-setup.ts)
 * must fail the file in its afterAll. The value is not a real password and is never hashed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROUTES } from '#functions/routes.ts';
import { type Gateway, startGateway } from '#infra/local/gateway.ts';

let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway({
    port: 0,
    routes: ROUTES,
    handlers: new Map([
      [
        'create-or-reset-ui-password',
        async () => ({
          statusCode: 200,
          headers: { 'content-type': 'application/json', 'opc-request-id': 'probe', etag: '1' },
          body: JSON.stringify({
            userId: 'u-alice',
            timeCreated: '2026-12-04T17:00:00.000Z',
            lifecycleState: 'ACTIVE',
            passwordSecretId: 'arn:probe',
            timeExpires: '2026-12-11T17:00:00.000Z',
            ...(process.env.REKEY_PROBE_DRIFT === '1' ? { password: 'probe-value' } : {}),
          }),
        }),
      ],
    ]),
    verifyToken: () => Promise.reject(new Error('no token here')),
  });
});
afterAll(() => gateway.close());

it('gets a 200 from a gateway', async () => {
  const res = await fetch(`${gateway.url}/20160918/users/u-alice/uiPassword`, { method: 'POST' });
  expect(res.status).toBe(200);
  await res.text();
});
