import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';

describe('POST /20160918/users/{userId}/uiPassword (smoke)', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi();
  });
  afterAll(() => t.close());

  it('stores a temporary password the directory verifies, and answers with its secret id', async () => {
    const res = await t.request('POST', '/20160918/users/u-alice/uiPassword', {
      headers: { authorization: `Bearer ${await t.token()}` },
    });
    expect(res.status).toBe(200);
    expect(res.json.passwordSecretId).toMatch(
      /^arn:aws:secretsmanager:.*:secret:rekey\/temp\/demo\/u-alice\//,
    );
    const secret = JSON.parse(await t.runtime().deps.vault.read(res.json.passwordSecretId));
    const user = await t.getUser('u-alice');
    expect(user?.credential?.kind).toBe('TEMPORARY');
    expect(user?.credential?.hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await argon2idHasher.verify(user?.credential?.hash ?? '', secret.password)).toBe(true);
    expect(res.text).not.toContain(secret.password);
  });
});
