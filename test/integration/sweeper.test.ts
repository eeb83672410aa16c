/**
 * The sweeper end to end: passwords issued and used through the real gateway and handlers,
 * then swept through the SDK adapters (DynamoDB directory, Secrets Manager vault) against
 * the embedded backend, with one controlled clock for the routes and the sweeper.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '#adapters/logger.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { main } from '#cli/rekey.ts';
import { SecretNotFoundError } from '#core/errors.ts';
import { newUser } from '#core/factories.ts';
import type { TrackedSecret, User } from '#core/model.ts';
import type { Directory, SecretVault } from '#core/ports.ts';
import { secretNameOf } from '#core/temporary-secrets.ts';
import { createHandler } from '#functions/sweeper/handler.ts';
import { DEMO_REALM_ID } from '#infra/local/demo.ts';
import { scanTable } from '#test/support/dynamodb.ts';
import { type FaultyPort, faultyPort } from '#test/support/port-faults.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;
const NEW = 'New-Secret-Wv52mJ';

let t: TestApi;
let sdk: Runtime;
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
/** Faults of the UI-password route, to strand secrets the way a crash would. */
let routeVault: FaultyPort<SecretVault>;
let routeDirectory: FaultyPort<Directory>;
/** The sweeper's own vault, through the SDK, to make its deletes fail. */
let sweeperVault: FaultyPort<SecretVault>;

beforeEach(async () => {
  offsetMs = 0;
  t = await startTestApi({
    customizeRuntime: (operation, runtime) => {
      const deps = { ...runtime.deps, clock };
      if (operation !== 'create-or-reset-ui-password') return { ...runtime, deps };
      routeVault = faultyPort(runtime.deps.vault);
      routeDirectory = faultyPort(runtime.deps.directory);
      return { ...runtime, deps: { ...deps, vault: routeVault.port, directory: routeDirectory.port } };
    },
  });
  sdk = createRuntime('test-sweeper', { clients: t.api.clients });
  sweeperVault = faultyPort(sdk.deps.vault);
  for (let i = 1; i <= 5; i++) {
    await sdk.deps.directory.createUser(
      newUser({
        realmId: DEMO_REALM_ID,
        userId: `u-s${i}`,
        username: `sweep-${i}`,
        email: `s${i}@example.com`,
      }),
    );
  }
});
afterEach(async () => {
  sdk.dynamoDb.destroy();
  await t.close();
});

/** The Lambda handler over the SDK adapters and the test clock. */
const sweeper = () =>
  createHandler({
    deps: { directory: sdk.deps.directory, vault: sweeperVault.port, clock },
    settings: {
      tableName: 'rekey',
      temporarySecretPrefix: 'rekey/temp/',
      databaseSecretPrefix: 'rekey/ddm/',
      graceSeconds: 900,
    },
    logger: createLogger('sweeper'),
  });
const sweep = () => sweeper()({ id: 'scheduled' });

const liveSecrets = () => (t.api.backend?.vault.list('rekey/temp/') ?? []).map((s) => s.name).sort();

async function trackedSecrets(): Promise<TrackedSecret[]> {
  const all: TrackedSecret[] = [];
  let after: string | undefined;
  do {
    const page = await sdk.deps.directory.listTrackedSecrets(after === undefined ? {} : { after });
    all.push(...page.secrets);
    after = page.next;
  } while (after !== undefined);
  return all;
}

async function referencedSecrets(): Promise<string[]> {
  return (await scanTable(t.api.clients, 'rekey'))
    .map((item) => unmarshall(item))
    .filter((item) => item.kind === 'user')
    .flatMap((user) => {
      const secretId = (user as User).credential?.secretId;
      return secretId ? [secretNameOf(secretId)] : [];
    })
    .sort();
}

/** Live temporary secrets, index entries and referencing credentials: one set of names. */
async function expectOneSetOfNames(): Promise<void> {
  const referenced = await referencedSecrets();
  expect(liveSecrets()).toEqual(referenced);
  expect((await trackedSecrets()).map((s) => s.name).sort()).toEqual(referenced);
}

const admin = async () => ({ authorization: `Bearer ${await t.token()}` });

async function uiPassword(userId: string): Promise<{ secretId: string; password: string; status: number }> {
  const res = await t.request('POST', `/20160918/users/${userId}/uiPassword`, { headers: await admin() });
  if (res.status !== 200) return { secretId: '', password: '', status: res.status };
  const secretId: string = res.json.passwordSecretId;
  return { secretId, password: JSON.parse(await sdk.deps.vault.read(secretId)).password, status: 200 };
}

function changePassword(username: string, currentPassword: string, newPassword = NEW) {
  return t.request('PUT', '/20160918/changepassword', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, currentPassword, newPassword }),
  });
}

describe('the sweeper', () => {
  it('deletes exactly the expired and orphan secrets, keeps the live ones, and an expired password answers 412', async () => {
    offsetMs = -8 * DAY_MS;
    const expired = await uiPassword('u-s1');
    offsetMs = -HOUR_MS;
    routeDirectory.fail('saveUser');
    routeDirectory.fail('getUser', { onCall: 2 });
    expect((await uiPassword('u-s2')).status).toBe(500);
    routeVault.fail('create');
    expect((await uiPassword('u-s3')).status).toBe(500);
    offsetMs = -5 * 60 * 1000;
    routeDirectory.fail('saveUser');
    routeDirectory.fail('getUser', { onCall: 2 });
    expect((await uiPassword('u-s4')).status).toBe(500);
    offsetMs = 0;
    const live = await uiPassword('u-s5');
    const before = liveSecrets();
    expect(before).toHaveLength(4);
    const [oldOrphan, youngOrphan] = before.filter((n) => n.includes('/u-s2/') || n.includes('/u-s4/'));

    const report = await sweep();

    const deleted = before.filter((name) => !liveSecrets().includes(name));
    expect(deleted.sort()).toEqual([secretNameOf(expired.secretId), oldOrphan].sort());
    expect(liveSecrets()).toEqual([youngOrphan, secretNameOf(live.secretId)].sort());
    // The entry of the secret never created (u-s3) is dropped too: deleting nothing is fine.
    const neverCreated = (await trackedSecrets()).some((s) => s.userId === 'u-s3');
    expect(neverCreated).toBe(false);
    expect(report).toMatchObject({ expiredCredentials: 1, kept: 2, errors: [] });
    expect(report.deletedSecrets).toHaveLength(3);
    expect(report.deletedSecrets).toEqual(expect.arrayContaining(deleted));
    expect(report.orphans).toEqual(expect.arrayContaining([oldOrphan, expect.stringContaining('/u-s3/')]));
    expect(report.orphans).toHaveLength(2);
    expect(await referencedSecrets()).toEqual([secretNameOf(live.secretId)]);
    expect((await trackedSecrets()).map((s) => s.name).sort()).toEqual(liveSecrets());
    await expect(sdk.deps.vault.read(expired.secretId)).rejects.toBeInstanceOf(SecretNotFoundError);
    expect((await changePassword('sweep-1', expired.password)).status).toBe(412);
    expect((await changePassword('sweep-5', live.password)).status).toBe(200);
  });

  it('finds nothing left after a successful change-password: no entry, no secret', async () => {
    const { password } = await uiPassword('u-s1');
    expect(await trackedSecrets()).toHaveLength(1);
    expect((await changePassword('sweep-1', password)).status).toBe(200);
    expect(await trackedSecrets()).toEqual([]);
    expect(liveSecrets()).toEqual([]);
    expect(await sweep()).toMatchObject({ deletedSecrets: [], kept: 0 });
  });

  it('keeps the entry and reports the error when the vault cannot delete; the next run deletes it', async () => {
    offsetMs = -8 * DAY_MS;
    const { secretId } = await uiPassword('u-s1');
    offsetMs = 0;
    sweeperVault.fail('delete');

    const failed = await sweep();

    expect(failed.errors).toEqual([
      { secret: secretNameOf(secretId), step: 'delete', error: 'UnavailableError(InjectedFault)' },
    ]);
    expect((await trackedSecrets()).map((s) => s.name)).toEqual([secretNameOf(secretId)]);
    expect(liveSecrets()).toEqual([secretNameOf(secretId)]);
    expect((await sweep()).orphans).toEqual([secretNameOf(secretId)]);
    await expectOneSetOfNames();
  });

  it('keeps secrets, index entries and referencing credentials equal through mixed operations', async () => {
    const headers = await admin();
    const passwords: string[] = [];
    passwords.push((await uiPassword('u-s1')).password);
    passwords.push((await uiPassword('u-s1')).password);
    const random = await t.request('GET', `/v2/${DEMO_REALM_ID}/users/u-s2/random-password`, {
      headers: { 'x-auth-token': headers.authorization.slice('Bearer '.length) },
    });
    expect(random.status).toBe(200);
    const sso = await t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ DirectoryId: DEMO_REALM_ID, UserId: 'u-s3', GenerateRandomPassword: true }),
    });
    expect(sso.status).toBe(200);
    const used = await uiPassword('u-s4');
    expect((await changePassword('sweep-4', used.password)).status).toBe(200);
    routeDirectory.fail('saveUser');
    routeDirectory.fail('getUser', { onCall: 2 });
    expect((await uiPassword('u-s5')).status).toBe(500);
    routeVault.fail('create');
    expect((await uiPassword('u-s5')).status).toBe(500);
    // Before the sweep: one orphan secret, and two entries no credential refers to.
    const referenced = await referencedSecrets();
    expect(liveSecrets()).toHaveLength(referenced.length + 1);
    expect(await trackedSecrets()).toHaveLength(referenced.length + 2);

    offsetMs = 20 * 60 * 1000;
    expect((await sweep()).orphans).toHaveLength(2);
    await expectOneSetOfNames();
    expect(liveSecrets()).toHaveLength(3);

    offsetMs = 8 * DAY_MS;
    const last = await sweep();
    expect(last).toMatchObject({ expiredCredentials: 2, errors: [] });
    expect(last.deletedSecrets).toHaveLength(3);
    await expectOneSetOfNames();
    expect(liveSecrets()).toEqual([]);
    expect(JSON.stringify(last)).not.toContain(passwords[1]);
  });

  it('logs a summary with counts and secret names, and never a password', async () => {
    offsetMs = -8 * DAY_MS;
    const { password, secretId } = await uiPassword('u-s1');
    offsetMs = 0;
    const logged: string[] = [];
    const streams = [process.stdout, process.stderr] as const;
    const writes = streams.map((s) => s.write);
    streams.forEach((stream) => {
      stream.write = ((chunk: string | Uint8Array) => logged.push(String(chunk)) > 0) as typeof stream.write;
    });
    try {
      await sweep();
    } finally {
      streams.forEach((stream, i) => {
        if (writes[i]) stream.write = writes[i];
      });
    }
    const summary = logged
      .flatMap((line) => {
        try {
          return [JSON.parse(line)];
        } catch {
          return [];
        }
      })
      .find((entry) => entry.message === 'temporary secrets swept');
    expect(summary).toMatchObject({
      expiredCredentials: 1,
      deleted: 1,
      orphans: 0,
      deletedSecrets: [secretNameOf(secretId)],
    });
    expect(logged.join('')).not.toContain(password);
  });
});

describe('rekey sweep', () => {
  async function rekey(argv: string[], env: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(
      argv,
      { out: (text) => out.push(text), err: (text) => err.push(text) },
      {
        REKEY_LOCAL_ENDPOINT: t.api.backend?.endpoint.url ?? '',
        REKEY_DATA_DIR: t.api.backend?.dataDir ?? '',
        ...env,
      },
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('sweeps the running backend once and prints what it deleted as JSON', async () => {
    const name = 'rekey/temp/demo/u-s1/crashed-request';
    await sdk.deps.directory.trackSecret({
      name,
      realmId: DEMO_REALM_ID,
      userId: 'u-s1',
      createdAt: new Date(Date.now() - 3600_000).toISOString(),
      expiresAt: new Date(Date.now() + 6 * DAY_MS).toISOString(),
    });
    await sdk.deps.vault.create({ name, value: '{}', description: 'rekey temporary password', tags: {} });
    const { password } = await uiPassword('u-s2');

    const run = await rekey(['sweep']);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual({
      expiredCredentials: 0,
      deletedSecrets: [name],
      orphans: [name],
      kept: 1,
      errors: [],
      complete: true,
    });
    expect(run.out).not.toContain(password);
    await expectOneSetOfNames();
  });

  it('refuses a grace period shorter than any request can last', async () => {
    const run = await rekey(['sweep'], { REKEY_SWEEPER_GRACE_SECONDS: '60' });
    expect(run.code).toBe(1);
    expect(run.err).toContain('REKEY_SWEEPER_GRACE_SECONDS');
  });
});
