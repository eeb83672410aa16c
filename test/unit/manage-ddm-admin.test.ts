import { beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
} from '#core/errors.ts';
import type { DatabaseInstance } from '#core/model.ts';
import { type ManageDdmAdminInput, manageDdmAdmin } from '#functions/manage-ddm-admin/operation.ts';
import { type FakeDeps, fakeDeps } from '#test/support/fakes.ts';

const ADMIN = { subject: 'admin@p1', realmId: 'p1' };
const PASSWORD = 'Ddm#Admin2026';
const INSTANCE: DatabaseInstance = {
  instanceId: 'ddm1',
  realmId: 'p1',
  engine: 'mysql',
  host: 'ddm1.example.internal',
  port: 5066,
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('manageDdmAdmin', () => {
  let deps: FakeDeps;
  const input = (overrides: Partial<ManageDdmAdminInput> = {}): ManageDdmAdminInput => ({
    projectId: 'p1',
    instanceId: 'ddm1',
    name: 'root',
    password: PASSWORD,
    requestId: 'req-1',
    ...overrides,
  });
  const writes = () => deps.journal.filter((call) => !call.includes('.get') && call !== 'vault.read');

  beforeEach(async () => {
    deps = fakeDeps();
    await deps.directory.saveInstance(INSTANCE, undefined);
    deps.journal.length = 0;
  });

  it('creates the secret first, then records the administrator on the instance', async () => {
    const result = await manageDdmAdmin(deps, ADMIN, input());
    expect(writes()).toEqual([
      'directory.trackSecret',
      'vault.create',
      'directory.saveInstance',
      'directory.untrackSecret',
    ]);
    expect(result.created).toBe(true);
    expect(JSON.parse(await deps.vault.read(result.secretId))).toEqual({
      engine: 'mysql',
      host: 'ddm1.example.internal',
      port: 5066,
      username: 'root',
      password: PASSWORD,
      dbInstanceIdentifier: 'ddm1',
    });
    expect(await deps.directory.getInstance('ddm1')).toMatchObject({ adminName: 'root', version: 2 });
  });

  it('later writes only a new value of the same secret', async () => {
    const { secretId } = await manageDdmAdmin(deps, ADMIN, input());
    deps.journal.length = 0;
    const second = await manageDdmAdmin(deps, ADMIN, input({ password: 'Other~Pass2026' }));
    expect(second).toEqual({ created: false, secretId });
    expect(writes()).toEqual(['vault.putValue']);
    expect(JSON.parse(await deps.vault.read(secretId)).password).toBe('Other~Pass2026');
  });

  it('refuses another name once the administrator exists', async () => {
    await manageDdmAdmin(deps, ADMIN, input());
    deps.journal.length = 0;
    // (Not 'admin': the password holds that word, and a context word is refused before the name is read.)
    await expect(manageDdmAdmin(deps, ADMIN, input({ name: 'operator' }))).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(writes()).toEqual([]);
  });

  it('refuses another project and a weak password before reading the directory', async () => {
    await expect(manageDdmAdmin(deps, ADMIN, input({ projectId: 'p2' }))).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    const error = await manageDdmAdmin(deps, ADMIN, input({ password: 'Weak$Pass2026' })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(
      'Parameter password may contain only letters, digits and ~!@#%^*-_=+?.',
    );
    expect(deps.journal).toEqual([]);
  });

  it("words another project's refusal in Huawei's terms, without its id", async () => {
    const error = await manageDdmAdmin(deps, ADMIN, input({ projectId: 'zz-project-41' })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as Error).message).toBe('The token does not grant access to this project.');
  });

  it('treats an instance of another project as not found', async () => {
    await deps.directory.saveInstance({ ...INSTANCE, instanceId: 'ddm2', realmId: 'p2' }, undefined);
    await expect(manageDdmAdmin(deps, ADMIN, input({ instanceId: 'ddm2' }))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const error = await manageDdmAdmin(deps, ADMIN, input({ instanceId: 'ddm2' })).catch((e: unknown) => e);
    expect((error as Error).message).toBe('The instance does not exist in this project.');
  });

  it('deletes its secret when the instance update fails, once the instance is fenced', async () => {
    deps.directory.faults.fail('saveInstance');
    await expect(manageDdmAdmin(deps, ADMIN, input())).rejects.toBeInstanceOf(UnavailableError);
    expect(writes()).toEqual([
      'directory.trackSecret',
      'vault.create',
      'directory.saveInstance',
      // The fence: the instance one version on, unchanged, so the failed write can never land.
      'directory.saveInstance',
      'vault.delete',
      'directory.untrackSecret',
    ]);
    expect(await deps.directory.getInstance('ddm1')).toEqual({ ...INSTANCE, version: 2 });
    expect(deps.vault.secrets.size).toBe(0);
    expect(deps.directory.trackedSecrets.size).toBe(0);
  });

  it('keeps its secret, and answers success, when an update that failed lands after the re-read', async () => {
    deps.directory.faults.fail('saveInstance', { late: true });
    // The fence loses to the late write, and the second re-read finds it landed.
    const result = await manageDdmAdmin(deps, ADMIN, input());
    const instance = await deps.directory.getInstance('ddm1');
    expect(instance?.adminSecretId).toBe(result.secretId);
    expect(JSON.parse(await deps.vault.read(instance?.adminSecretId ?? ''))).toMatchObject({
      username: 'root',
      password: PASSWORD,
    });
  });

  it('keeps its secret when the update landed but failed to answer', async () => {
    deps.directory.faults.fail('saveInstance', { landed: true });
    const result = await manageDdmAdmin(deps, ADMIN, input());
    expect(deps.vault.has(result.secretId)).toBe(true);
    expect(deps.vault.deleted).toEqual([]);
  });

  it('keeps its secret when it cannot tell whether the update landed', async () => {
    deps.directory.faults.fail('saveInstance');
    const read = deps.directory.getInstance.bind(deps.directory);
    let reads = 0;
    // The first read (the instance) works; the one that would tell whether the write landed fails.
    deps.directory.getInstance = async (instanceId) => {
      if (++reads > 1) throw new Error('read failed');
      return read(instanceId);
    };
    await expect(manageDdmAdmin(deps, ADMIN, input())).rejects.toBeInstanceOf(UnavailableError);
    // The secret stays, and so does its index entry: the sweeper judges it after the grace.
    expect(writes()).toEqual(['directory.trackSecret', 'vault.create', 'directory.saveInstance']);
    expect(deps.vault.secrets.size).toBe(1);
    expect([...deps.directory.trackedSecrets.values()]).toMatchObject([{ instanceId: 'ddm1', userId: '' }]);
  });

  it('logs no password', async () => {
    await manageDdmAdmin(deps, ADMIN, input());
    await manageDdmAdmin(deps, ADMIN, input({ password: 'Other~Pass2026' }));
    const logged = JSON.stringify(deps.log.entries);
    expect(logged).not.toContain(PASSWORD);
    expect(logged).not.toContain('Other~Pass2026');
  });
});
