import { beforeEach, describe, expect, it } from 'vitest';
import { ForbiddenError, InvalidInputError } from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import { type ResetUserPasswordInput, resetUserPassword } from '#functions/reset-user-password/operation.ts';
import { type FakeDeps, fakeDeps, fastHasher } from '#test/support/fakes.ts';

const ADMIN = { subject: 'admin@r1', realmId: 'r1' };
const GIVEN = 'Given-Pass#2026';

describe('resetUserPassword', () => {
  let deps: FakeDeps;
  const input = (overrides: Partial<ResetUserPasswordInput> = {}): ResetUserPasswordInput => ({
    directoryId: 'r1',
    userId: 'u1',
    newPassword: { generate: false, password: GIVEN },
    requireResetAtNextLogin: false,
    requestId: 'req-1',
    ...overrides,
  });

  beforeEach(async () => {
    deps = fakeDeps();
    const realm = {
      ...newRealm('r1', 'acme', { now: deps.clock.now() }),
      temporaryPasswordLifetimeSeconds: 3600,
    };
    await deps.directory.createRealm(realm);
    await deps.directory.createUser(
      newUser({ realmId: 'r1', userId: 'u1', username: 'alice' }, deps.clock.now()),
    );
    deps.journal.length = 0;
  });

  it('stores a generated password before it switches the credential', async () => {
    const result = await resetUserPassword(deps, ADMIN, input({ newPassword: { generate: true } }));
    expect(deps.journal.filter((call) => !call.includes('.get'))).toEqual([
      'directory.trackSecret',
      'vault.create',
      'directory.saveUser',
    ]);
    expect(result).toMatchObject({ generated: true, secretExpiresAt: '2026-01-15T11:00:00.000Z' });
  });

  it('never touches the vault for a given password', async () => {
    expect(await resetUserPassword(deps, ADMIN, input())).toEqual({ generated: false });
    expect(deps.journal.some((call) => call.startsWith('vault.'))).toBe(false);
    const stored = await deps.directory.getUser('u1');
    expect(await fastHasher.verify(stored?.credential?.hash ?? '', GIVEN)).toBe(true);
  });

  it("expires a given TEMPORARY password after the realm's lifetime", async () => {
    await resetUserPassword(deps, ADMIN, input({ requireResetAtNextLogin: true }));
    expect((await deps.directory.getUser('u1'))?.credential).toMatchObject({
      kind: 'TEMPORARY',
      setAt: '2026-01-15T10:00:00.000Z',
      expiresAt: '2026-01-15T11:00:00.000Z',
    });
  });

  it('refuses another directory, and a password the seed refuses, before reading the directory', async () => {
    await expect(resetUserPassword(deps, ADMIN, input({ directoryId: 'r2' }))).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    const weak = input({ newPassword: { generate: false, password: 'short' } });
    await expect(resetUserPassword(deps, ADMIN, weak)).rejects.toBeInstanceOf(InvalidInputError);
    expect(deps.journal).toEqual([]);
  });

  it("words another directory's refusal as CloudSSO does (NoPermission.Directory), without its id", async () => {
    const error = await resetUserPassword(deps, ADMIN, input({ directoryId: 'zz-dir-41' })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toMatchObject({
      reason: 'Directory',
      message: 'The token does not grant access to this directory.',
    });
  });

  it('gives a refused password the code InvalidParameter.Password (reason and field Password)', async () => {
    const weak = input({ newPassword: { generate: false, password: 'short' } });
    await expect(resetUserPassword(deps, ADMIN, weak)).rejects.toMatchObject({
      reason: 'Password',
      field: 'Password',
    });
  });

  it('names the rule, never the password, when one is refused', async () => {
    const error = await resetUserPassword(
      deps,
      ADMIN,
      input({ newPassword: { generate: false, password: 'Alice-Pass#2026' } }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toBe(
      'Parameter Password must not contain the username (policy oci).',
    );
  });

  it('refuses a realm with SSO logon enabled without writing', async () => {
    const realm = await deps.directory.getRealm('r1');
    deps.directory.realms.set('r1', { ...(realm as NonNullable<typeof realm>), ssoEnabled: true });
    await expect(
      resetUserPassword(deps, ADMIN, input({ newPassword: { generate: true } })),
    ).rejects.toMatchObject({
      kind: 'Conflict',
      reason: 'SSOEnabled',
    });
    expect(deps.journal.filter((call) => !call.includes('.get'))).toEqual([]);
  });

  it('logs neither the given nor the generated password', async () => {
    await resetUserPassword(deps, ADMIN, input());
    const { secretId } = (await resetUserPassword(
      deps,
      ADMIN,
      input({ newPassword: { generate: true } }),
    )) as {
      secretId: string;
    };
    const generated = JSON.parse(await deps.vault.read(secretId)).password as string;
    const logged = JSON.stringify(deps.log.entries);
    expect(logged).not.toContain(GIVEN);
    expect(logged).not.toContain(generated);
  });
});
