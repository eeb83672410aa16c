/**
 * Refusals never repeat what the caller sent — well-formed ids included (issue 9, finding 10;
 * the red-team review found 403 and 404 messages naming the project, directory, user or
 * instance the caller sent). Each admin route gets a distinctive id it does not know, or a
 * project/directory of another realm, and must refuse without that id in the body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';

const MARK = 'zz-echo-marker-41';

describe('refusals name no id the caller sent', () => {
  let t: TestApi;
  let auth: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApi();
    auth = { authorization: `Bearer ${await t.token()}` };
  });
  afterAll(async () => {
    await t.close();
  });

  const json = { 'content-type': 'application/json' };
  const cases: [string, () => Promise<{ status: number; text: string }>][] = [
    [
      'OCI uiPassword, unknown user',
      () => t.request('POST', `/20160918/users/${MARK}/uiPassword`, { headers: auth }),
    ],
    [
      'Huawei random-password, unknown user',
      () => t.request('GET', `/v2/demo/users/${MARK}/random-password`, { headers: auth }),
    ],
    [
      'Huawei random-password, another project',
      () => t.request('GET', `/v2/${MARK}/users/u-bob/random-password`, { headers: auth }),
    ],
    [
      'CloudSSO, unknown user',
      () =>
        t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
          headers: { ...auth, ...json },
          body: JSON.stringify({ DirectoryId: 'demo', UserId: MARK, GenerateRandomPassword: true }),
        }),
    ],
    [
      'CloudSSO, another directory',
      () =>
        t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
          headers: { ...auth, ...json },
          body: JSON.stringify({ DirectoryId: MARK, UserId: 'u-bob', GenerateRandomPassword: true }),
        }),
    ],
    [
      'DDM, unknown instance',
      () =>
        t.request('PUT', `/v3/demo/instances/${MARK}/admin-user`, {
          headers: { ...auth, ...json },
          body: JSON.stringify({ name: 'root_admin', password: 'Ddm-Admin-2026' }),
        }),
    ],
    [
      'DDM, another project',
      () =>
        t.request('PUT', `/v3/${MARK}/instances/ddm-x/admin-user`, {
          headers: { ...auth, ...json },
          body: JSON.stringify({ name: 'root_admin', password: 'Ddm-Admin-2026' }),
        }),
    ],
  ];

  it.each(cases)('%s: a 4xx whose body does not repeat the id', async (_what, send) => {
    const res = await send();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.text).not.toContain(MARK);
  });
});
