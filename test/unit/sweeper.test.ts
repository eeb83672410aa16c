import { beforeEach, describe, expect, it } from 'vitest';
import { issueTemporaryPassword } from '#core/credentials.ts';
import { PreconditionFailedError, UnavailableError, VersionConflictError } from '#core/errors.ts';
import { newInstance, newRealm, newUser } from '#core/factories.ts';
import type { CredentialKind, Realm, User } from '#core/model.ts';
import { secretNameOf, temporarySecretName } from '#core/temporary-secrets.ts';
import { changeOwnPassword } from '#core/use-cases/change-own-password.ts';
import { type SweepSettings, sweepTemporarySecrets } from '#core/use-cases/sweep-temporary-secrets.ts';
import { sweeperSettingsFromEnv } from '#functions/sweeper/settings.ts';
import { localEnv } from '#infra/local/local-settings.ts';
import { sweepIntervalFromEnv } from '#infra/local/sweep-timer.ts';
import { type FakeDeps, fakeDeps } from '#test/support/fakes.ts';

const DAY = 24 * 3600;
const GRACE = 15 * 60;
const NEW_PASSWORD = 'New-Password-456';

let deps: FakeDeps;
let realm: Realm;
let requests = 0;

beforeEach(async () => {
  deps = fakeDeps();
  requests = 0;
  realm = newRealm('acme', 'Acme Corp', { now: deps.clock.now() });
  await deps.directory.createRealm(realm);
  for (const id of ['u-1', 'u-2', 'u-3', 'u-4']) {
    await deps.directory.createUser(newUser({ realmId: 'acme', userId: id, username: id }, deps.clock.now()));
  }
});

const sweep = (settings: Partial<SweepSettings> = {}) =>
  sweepTemporarySecrets(deps, { temporarySecretPrefix: 'rekey/temp/', graceSeconds: GRACE, ...settings });

/**
 * Issues a generated password to `userId` as the operations do; `arm` sets faults up once the
 * user has been read.
 */
async function issue(userId: string, kind: CredentialKind = 'TEMPORARY', arm = () => {}) {
  const user = (await deps.directory.getUser(userId)) as User;
  arm();
  return issueTemporaryPassword(deps, user, realm, `req-${++requests}`, { kind });
}

const user = async (userId: string) => (await deps.directory.getUser(userId)) as User;
const secretNames = () => [...deps.vault.secrets.values()].map((s) => s.name).sort();
const trackedNames = () => [...deps.directory.trackedSecrets.keys()].sort();
const nameOf = (secretId: string) => secretNameOf(secretId);

/** Secrets, index entries and credentials that refer to a secret: the same names, always. */
async function expectIndexMatchesVault(): Promise<void> {
  const referenced = [...deps.directory.users.values()]
    .flatMap((u) => (u.credential?.secretId ? [secretNameOf(u.credential.secretId)] : []))
    .sort();
  expect(secretNames()).toEqual(referenced);
  expect(trackedNames()).toEqual(referenced);
}

describe('the index of temporary secrets', () => {
  it('gets its entry before the secret is created, with the secret’s name, owner and life', async () => {
    const issued = await issue('u-1', 'TEMPORARY', () => {
      deps.journal.length = 0;
    });
    expect(deps.journal.slice(0, 2)).toEqual(['directory.trackSecret', 'vault.create']);
    expect([...deps.directory.trackedSecrets.values()]).toEqual([
      {
        name: 'rekey/temp/acme/u-1/req-1',
        realmId: 'acme',
        userId: 'u-1',
        createdAt: issued.timeCreated,
        expiresAt: issued.expiresAt,
      },
    ]);
  });

  it('loses the entry of a secret replaced by a new reset, and of one used by change-password', async () => {
    await issue('u-1');
    const second = await issue('u-1');
    expect(trackedNames()).toEqual([nameOf(second.secretId)]);
    await changeOwnPassword(deps, {
      username: 'u-1',
      currentPassword: second.password,
      newPassword: NEW_PASSWORD,
    });
    expect(trackedNames()).toEqual([]);
    expect(secretNames()).toEqual([]);
  });

  it('loses the entry of a secret deleted by compensation when the switch fails', async () => {
    deps.directory.faults.fail('saveUser');
    await expect(issue('u-1')).rejects.toBeInstanceOf(UnavailableError);
    expect(secretNames()).toEqual([]);
    expect(trackedNames()).toEqual([]);
  });

  it('refuses to issue, creating no secret, when the entry cannot be written', async () => {
    const before = await user('u-1');
    deps.directory.faults.fail('trackSecret');
    await expect(issue('u-1')).rejects.toBeInstanceOf(UnavailableError);
    expect(secretNames()).toEqual([]);
    expect(await user('u-1')).toEqual(before);
  });
});

describe('sweepTemporarySecrets', () => {
  it('keeps a live temporary secret, however old, while its password has not expired', async () => {
    await issue('u-1');
    deps.clock.advance(6 * DAY);
    const report = await sweep();
    expect(report).toEqual({
      expiredCredentials: 0,
      deletedSecrets: [],
      orphans: [],
      kept: 1,
      errors: [],
      complete: true,
    });
    expect(secretNames()).toEqual(['rekey/temp/acme/u-1/req-1']);
  });

  it('expires a temporary credential past its expiry: its secret and entry go, and change-password answers 412', async () => {
    const issued = await issue('u-1');
    const before = await user('u-1');
    deps.clock.advance(7 * DAY);

    const report = await sweep();

    expect(report).toMatchObject({
      expiredCredentials: 1,
      deletedSecrets: [nameOf(issued.secretId)],
      orphans: [],
    });
    expect(secretNames()).toEqual([]);
    expect(trackedNames()).toEqual([]);
    const after = await user('u-1');
    const { secretId: _gone, ...kept } = before.credential ?? { hash: '', kind: 'TEMPORARY', setAt: '' };
    expect(after.credential).toEqual(kept);
    expect(after.version).toBe(before.version + 1);
    await expect(
      changeOwnPassword(deps, {
        username: 'u-1',
        currentPassword: issued.password,
        newPassword: NEW_PASSWORD,
      }),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
  });

  it('deletes the expired copy of a PERMANENT generated password; the user keeps the password', async () => {
    const issued = await issue('u-2', 'PERMANENT');
    deps.clock.advance(DAY);
    expect((await sweep()).kept).toBe(1);
    deps.clock.advance(6 * DAY);

    const report = await sweep();

    expect(report).toMatchObject({ expiredCredentials: 0, deletedSecrets: [nameOf(issued.secretId)] });
    const credential = (await user('u-2')).credential;
    expect(credential).toMatchObject({ kind: 'PERMANENT' });
    expect(credential).not.toHaveProperty('secretId');
    expect(await deps.hasher.verify(credential?.hash ?? '', issued.password)).toBe(true);
    await changeOwnPassword(deps, {
      username: 'u-2',
      currentPassword: issued.password,
      newPassword: NEW_PASSWORD,
    });
    await expectIndexMatchesVault();
  });

  it('deletes an orphan older than the grace period and keeps a younger one', async () => {
    // The switch fails and so does the re-read: whether it landed is unknown, the secret stays.
    const failing = () => deps.directory.faults.fail('saveUser').fail('getUser');
    await expect(issue('u-1', 'TEMPORARY', failing)).rejects.toBeInstanceOf(UnavailableError);
    const [orphan] = secretNames();
    deps.clock.advance(GRACE - 1);
    expect(await sweep()).toMatchObject({ orphans: [], kept: 1 });
    expect(secretNames()).toEqual([orphan]);

    deps.clock.advance(1);
    expect(await sweep()).toMatchObject({ deletedSecrets: [orphan], orphans: [orphan], kept: 0 });
    expect(secretNames()).toEqual([]);
    expect(trackedNames()).toEqual([]);
  });

  it('drops the entry of a secret that was never created (a crash between the entry and the create)', async () => {
    deps.vault.faults.fail('create');
    await expect(issue('u-1')).rejects.toBeInstanceOf(UnavailableError);
    expect(trackedNames()).toEqual(['rekey/temp/acme/u-1/req-1']);
    deps.clock.advance(GRACE);

    expect((await sweep()).orphans).toEqual(['rekey/temp/acme/u-1/req-1']);
    expect(trackedNames()).toEqual([]);
  });

  it('deletes a secret the vault stored while reporting a failure', async () => {
    deps.vault.faults.fail('create', { landed: true });
    await expect(issue('u-1')).rejects.toBeInstanceOf(UnavailableError);
    expect(secretNames()).toEqual(['rekey/temp/acme/u-1/req-1']);
    deps.clock.advance(GRACE);
    await sweep();
    await expectIndexMatchesVault();
    expect(secretNames()).toEqual([]);
  });

  it('keeps the entry and reports the error when the vault cannot delete; the next run deletes it', async () => {
    const issued = await issue('u-1');
    deps.clock.advance(8 * DAY);
    deps.vault.faults.fail('delete');

    const failed = await sweep();

    expect(failed.errors).toEqual([
      { secret: nameOf(issued.secretId), step: 'delete', error: 'InjectedFault' },
    ]);
    expect(failed.deletedSecrets).toEqual([]);
    expect(trackedNames()).toEqual([nameOf(issued.secretId)]);
    // The credential was expired before the delete: the secret is an orphan now.
    expect(await sweep()).toMatchObject({ orphans: [nameOf(issued.secretId)], errors: [] });
    expect(secretNames()).toEqual([]);
    await expectIndexMatchesVault();
  });

  it('reports an entry it could not drop after deleting its secret; the next run drops it', async () => {
    await issue('u-1');
    deps.clock.advance(8 * DAY);
    deps.directory.faults.fail('untrackSecret');
    expect((await sweep()).errors).toEqual([expect.objectContaining({ step: 'untrack' })]);
    expect(secretNames()).toEqual([]);
    expect(await sweep()).toMatchObject({ orphans: ['rekey/temp/acme/u-1/req-1'], errors: [] });
    expect(trackedNames()).toEqual([]);
  });

  it('never deletes the secret of a credential whose expiry could not be written', async () => {
    const issued = await issue('u-1');
    deps.clock.advance(8 * DAY);
    deps.directory.faults.fail('saveUser');
    expect((await sweep()).errors).toEqual([expect.objectContaining({ step: 'detach' })]);
    expect(deps.vault.has(issued.secretId)).toBe(true);
    expect((await user('u-1')).credential?.secretId).toBe(issued.secretId);
  });

  it('leaves a user changed during the sweep to the next run', async () => {
    const issued = await issue('u-1');
    deps.clock.advance(8 * DAY);
    deps.directory.faults.fail('saveUser', { error: new VersionConflictError() });
    expect(await sweep()).toMatchObject({ kept: 1, errors: [], deletedSecrets: [] });
    expect(deps.vault.has(issued.secretId)).toBe(true);
    expect((await sweep()).expiredCredentials).toBe(1);
  });

  it('refuses to delete anything outside the temporary-secret prefix', async () => {
    const { secretId } = await deps.vault.create({
      name: 'rekey/ddm/i-1',
      value: '{}',
      description: '',
      tags: {},
    });
    await deps.directory.trackSecret({
      name: 'rekey/ddm/i-1',
      realmId: 'acme',
      userId: 'u-1',
      createdAt: '2020-01-01T00:00:00.000Z',
      expiresAt: '2020-01-08T00:00:00.000Z',
    });
    expect((await sweep()).errors).toEqual([
      { secret: 'rekey/ddm/i-1', step: 'refuse', error: 'OutsidePrefix' },
    ]);
    expect(deps.vault.has(secretId)).toBe(true);
  });

  it("never deletes a live temporary secret through an entry that claims another user's secret", async () => {
    const issued = await issue('u-1');
    const name = nameOf(issued.secretId);
    await deps.directory.trackSecret({
      name,
      realmId: 'acme',
      userId: 'u-2',
      createdAt: '2020-01-01T00:00:00.000Z',
      expiresAt: '2020-01-08T00:00:00.000Z',
    });
    deps.clock.advance(GRACE);
    expect((await sweep()).errors).toEqual([{ secret: name, step: 'refuse', error: 'NameMismatch' }]);
    expect(deps.vault.has(issued.secretId)).toBe(true);
  });

  it('walks every page of the index', async () => {
    for (let i = 0; i < 250; i++) {
      await deps.directory.trackSecret({
        name: `rekey/temp/acme/u-9/lost-${String(i).padStart(3, '0')}`,
        realmId: 'acme',
        userId: 'u-9',
        createdAt: '2026-01-01T00:00:00.000Z',
        expiresAt: '2026-01-08T00:00:00.000Z',
      });
    }
    const report = await sweep({ pageSize: 100, concurrency: 3 });
    expect(report.orphans).toHaveLength(250);
    expect(trackedNames()).toEqual([]);
  });

  it('starts no page once its time runs short, and says the run is incomplete', async () => {
    await issue('u-1');
    deps.clock.advance(8 * DAY);
    expect(await sweep({ timeLeftMs: () => 10_000 })).toMatchObject({ complete: false, deletedSecrets: [] });
    expect(trackedNames()).toHaveLength(1);
  });

  it('keeps secrets, entries and referencing credentials equal after mixed operations, and reports no password', async () => {
    const passwords: string[] = [];
    const keep = async (p: Promise<{ password: string }>) => passwords.push((await p).password);
    await keep(issue('u-1'));
    await keep(issue('u-1'));
    await keep(issue('u-2', 'PERMANENT'));
    const used = await issue('u-3');
    passwords.push(used.password);
    await changeOwnPassword(deps, {
      username: 'u-3',
      currentPassword: used.password,
      newPassword: NEW_PASSWORD,
    });
    const failing = () => deps.directory.faults.fail('saveUser').fail('getUser');
    await expect(issue('u-4', 'TEMPORARY', failing)).rejects.toBeInstanceOf(UnavailableError);
    deps.vault.faults.fail('create');
    await expect(issue('u-4')).rejects.toBeInstanceOf(UnavailableError);
    deps.vault.faults.fail('delete');
    await keep(issue('u-1'));
    deps.clock.advance(GRACE);

    const first = await sweep();
    await expectIndexMatchesVault();
    expect(secretNames()).toHaveLength(2);
    deps.clock.advance(7 * DAY);
    const second = await sweep();
    await expectIndexMatchesVault();
    expect(secretNames()).toEqual([]);

    expect(first.orphans).toHaveLength(3);
    expect(second).toMatchObject({ expiredCredentials: 1, deletedSecrets: expect.any(Array), errors: [] });
    const reports = JSON.stringify([first, second]);
    for (const password of passwords) expect(reports).not.toContain(password);
  });
});

describe('temporary secret names', () => {
  it('name the realm, the user and the request, and never end like an ARN suffix', () => {
    expect(temporarySecretName('rekey/temp/', 'acme', 'u-1', 'req-1')).toBe('rekey/temp/acme/u-1/req-1');
    expect(temporarySecretName('rekey/temp/', 'acme', 'u-1', 'Zx81kq-AbC12z')).toBe(
      'rekey/temp/acme/u-1/Zx81kq-AbC12z_',
    );
  });

  it('are read back from an ARN, and taken as they are otherwise', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rekey/temp/acme/u-1/req-1-a1B2c3';
    expect(secretNameOf(arn)).toBe('rekey/temp/acme/u-1/req-1');
    expect(secretNameOf('rekey/temp/acme/u-1/req-1')).toBe('rekey/temp/acme/u-1/req-1');
  });
});

describe('sweeper settings', () => {
  it('default to a 15-minute grace and schedule, and accept longer ones', () => {
    // The table and prefixes are npm start's (production has no defaults: settings.test.ts).
    expect(sweeperSettingsFromEnv(localEnv({}))).toEqual({
      tableName: 'rekey',
      temporarySecretPrefix: 'rekey/temp/',
      databaseSecretPrefix: 'rekey/ddm/',
      graceSeconds: 900,
    });
    expect(sweeperSettingsFromEnv(localEnv({ REKEY_SWEEPER_GRACE_SECONDS: '3600' })).graceSeconds).toBe(3600);
    expect(sweepIntervalFromEnv({})).toBe(900);
    expect(sweepIntervalFromEnv({ REKEY_SWEEP_INTERVAL_SECONDS: '5' })).toBe(5);
  });

  it('refuse a grace shorter than the longest Lambda run, or not a number', () => {
    for (const value of ['60', '899', 'soon', '900.5']) {
      expect(() => sweeperSettingsFromEnv(localEnv({ REKEY_SWEEPER_GRACE_SECONDS: value }))).toThrow(
        /at least 900/,
      );
    }
    expect(() => sweepIntervalFromEnv({ REKEY_SWEEP_INTERVAL_SECONDS: '0' })).toThrow();
  });
});

describe('DDM administrator secrets in the index', () => {
  const DDM = 'rekey/ddm/';
  const sweepDdm = () => sweep({ databaseSecretPrefix: DDM });

  /** A DDM administrator creation that stopped after storing its secret (nothing names it). */
  async function leftBehind(instanceId: string) {
    if (!(await deps.directory.getInstance(instanceId))) {
      await deps.directory.saveInstance(
        newInstance({ realmId: 'acme', instanceId }, deps.clock.now()),
        undefined,
      );
    }
    const name = `${DDM}acme/${instanceId}/admin/req-${++requests}`;
    const now = deps.clock.now().toISOString();
    await deps.directory.trackSecret({
      name,
      realmId: 'acme',
      userId: '',
      instanceId,
      createdAt: now,
      expiresAt: now,
    });
    const { secretId } = await deps.vault.create({ name, value: '{}', description: '', tags: {} });
    return { name, secretId };
  }

  /** The instance's administrator is created, with `secretId` as its secret. */
  async function recordAdmin(instanceId: string, secretId: string): Promise<void> {
    const instance = await deps.directory.getInstance(instanceId);
    if (!instance) throw new Error(`no instance ${instanceId}`);
    await deps.directory.saveInstance(
      { ...instance, adminName: 'root', adminSecretId: secretId, version: instance.version + 1 },
      instance.version,
    );
  }

  it('deletes a secret its instance does not name, once the grace period is over', async () => {
    const { name, secretId } = await leftBehind('i-1');
    expect(await sweepDdm()).toMatchObject({ kept: 1, deletedSecrets: [], errors: [] });
    deps.clock.advance(GRACE);
    expect(await sweepDdm()).toMatchObject({ deletedSecrets: [name], orphans: [name], errors: [] });
    expect(deps.vault.has(secretId)).toBe(false);
    expect(trackedNames()).toEqual([]);
  });

  it('keeps the secret its instance names, and only drops the entry', async () => {
    const first = await leftBehind('i-2');
    const live = await leftBehind('i-2');
    await recordAdmin('i-2', live.secretId);
    deps.clock.advance(GRACE);
    expect(await sweepDdm()).toMatchObject({ deletedSecrets: [first.name], kept: 1, errors: [] });
    expect(deps.vault.has(live.secretId)).toBe(true);
    expect(deps.vault.has(first.secretId)).toBe(false);
    expect(trackedNames()).toEqual([]);
  });

  it('refuses such an entry outside the DDM prefix, or when no DDM prefix is set', async () => {
    const { name, secretId } = await leftBehind('i-3');
    deps.clock.advance(GRACE);
    expect((await sweep()).errors).toEqual([{ secret: name, step: 'refuse', error: 'OutsidePrefix' }]);
    expect((await sweep({ databaseSecretPrefix: 'rekey/other/' })).errors).toEqual([
      { secret: name, step: 'refuse', error: 'OutsidePrefix' },
    ]);
    expect(deps.vault.has(secretId)).toBe(true);
  });

  it("never deletes a live administrator secret through an entry that names another instance's secret", async () => {
    const victim = await leftBehind('i-5');
    await recordAdmin('i-5', victim.secretId);
    await deps.directory.untrackSecret(victim.name);
    // Planted entries: the live name under an instance that does not exist, or another realm.
    const planted = { name: victim.name, userId: '', createdAt: '2020-01-01T00:00:00.000Z', expiresAt: '' };
    await deps.directory.trackSecret({ ...planted, realmId: 'acme', instanceId: 'no-such-instance' });
    deps.clock.advance(GRACE);
    expect((await sweepDdm()).errors).toEqual([
      { secret: victim.name, step: 'refuse', error: 'NameMismatch' },
    ]);
    await deps.directory.trackSecret({ ...planted, realmId: 'other', instanceId: 'i-5' });
    expect((await sweepDdm()).errors).toEqual([
      { secret: victim.name, step: 'refuse', error: 'NameMismatch' },
    ]);
    expect(deps.vault.has(victim.secretId)).toBe(true);
  });

  it('keeps an entry whose creation date cannot be read', async () => {
    const { name, secretId } = await leftBehind('i-6');
    const entry = deps.directory.trackedSecrets.get(name);
    await deps.directory.trackSecret({ ...(entry as NonNullable<typeof entry>), createdAt: 'yesterday' });
    deps.clock.advance(30 * DAY);
    expect(await sweepDdm()).toMatchObject({ kept: 1, deletedSecrets: [], errors: [] });
    expect(deps.vault.has(secretId)).toBe(true);
  });

  it('keeps the entry when the instance cannot be read, to judge it next run', async () => {
    const { name, secretId } = await leftBehind('i-4');
    deps.clock.advance(GRACE);
    deps.directory.faults.fail('getInstance');
    expect((await sweepDdm()).errors).toEqual([{ secret: name, step: 'inspect', error: expect.any(String) }]);
    expect(deps.vault.has(secretId)).toBe(true);
    expect(trackedNames()).toEqual([name]);
  });
});
