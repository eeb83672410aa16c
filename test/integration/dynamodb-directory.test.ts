import { rmSync } from 'node:fs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDb } from '#adapters/dynamodb-api.ts';
import { createRuntime } from '#adapters/runtime.ts';
import { ConflictError, VersionConflictError } from '#core/errors.ts';
import { newInstance, newRealm, newUser } from '#core/factories.ts';
import type { DatabaseInstance, Realm } from '#core/model.ts';
import { POLICY_PRESETS } from '#core/policy.ts';
import type { Directory } from '#core/ports.ts';
import { keys } from '#functions/contracts.ts';
import { type EmbeddedBackend, startEmbeddedBackend } from '#infra/local/embedded-backend.ts';

let backend: EmbeddedBackend;
let directory: Directory;
let destroy: () => void;
let client: DynamoDb;
let tableName: string;

beforeAll(async () => {
  backend = await startEmbeddedBackend();
  const runtime = createRuntime('test', { clients: backend.clients });
  directory = runtime.deps.directory;
  client = runtime.dynamoDb;
  tableName = runtime.settings.tableName;
  destroy = () => runtime.dynamoDb.destroy();
});
afterAll(async () => {
  destroy();
  await backend.close();
  rmSync(backend.dataDir, { recursive: true, force: true });
});

/** A fresh id per test, so tests share one table without seeing each other. */
let n = 0;
const fresh = (prefix: string) => `${prefix}-${++n}`;

describe('DynamoDbDirectory', () => {
  describe('realms', () => {
    it('creates a realm and finds it by id, by name and by name in any case', async () => {
      const realm = newRealm(fresh('r'), fresh('Acme-Corp'));
      await directory.createRealm(realm);
      expect(await directory.getRealm(realm.realmId)).toEqual(realm);
      expect(await directory.findRealm(realm.realmId)).toEqual(realm);
      expect(await directory.findRealm(realm.name)).toEqual(realm);
      expect(await directory.findRealm(realm.name.toUpperCase())).toEqual(realm);
    });

    it('finds nothing for an unknown id or name', async () => {
      expect(await directory.getRealm('no-such-realm')).toBeUndefined();
      expect(await directory.findRealm('no-such-realm')).toBeUndefined();
    });

    it('keeps a realm’s own policy object as it was written', async () => {
      const realm = {
        ...newRealm(fresh('r'), fresh('own')),
        policy: { ...POLICY_PRESETS.oci, name: 'own', minLength: 16 },
      };
      await directory.createRealm(realm);
      expect(await directory.getRealm(realm.realmId)).toEqual(realm);
    });

    it('refuses a second realm with the same name, in any case', async () => {
      const name = fresh('Taken');
      await directory.createRealm(newRealm(fresh('r'), name));
      await expect(directory.createRealm(newRealm(fresh('r'), name.toLowerCase()))).rejects.toBeInstanceOf(
        ConflictError,
      );
    });

    it('refuses a second realm with the same id, and releases the name it tried to claim', async () => {
      const realmId = fresh('r');
      await directory.createRealm(newRealm(realmId, fresh('first')));
      const second = fresh('second');
      await expect(directory.createRealm(newRealm(realmId, second))).rejects.toBeInstanceOf(ConflictError);
      // The failed attempt left no claim behind: the name is free for another realm.
      await expect(directory.createRealm(newRealm(fresh('r'), second))).resolves.toBeUndefined();
    });
    it.each([
      ['a name that is another realm’s id', (first: Realm) => newRealm(fresh('r'), first.realmId)],
      ['an id that is another realm’s name', (first: Realm) => newRealm(first.name, fresh('n'))],
      [
        'an id that is another realm’s id in another case',
        (first: Realm) => newRealm(first.realmId.toUpperCase(), fresh('n')),
      ],
    ])(
      'refuses %s: a tenancy names one realm, and nothing of the refused one is left',
      async (_what, second) => {
        const first = newRealm(fresh('r'), fresh('corp'));
        await directory.createRealm(first);
        const refused = second(first);
        await expect(directory.createRealm(refused)).rejects.toBeInstanceOf(ConflictError);
        expect(await directory.getRealm(refused.realmId)).toBeUndefined();
        expect(await directory.findRealm(first.realmId)).toEqual(first);
        expect(await directory.findRealm(first.name)).toEqual(first);
        // The refused realm's other claim was given back: another realm may take it.
        const other = refused.name === first.realmId ? refused.realmId : refused.name;
        await expect(directory.createRealm(newRealm(fresh('r'), other))).resolves.toBeUndefined();
      },
    );

    /** A realm as createRealm wrote them before ids were claimed: its item and its name's claim only. */
    const olderRealm = async (realm: Realm) => {
      for (const item of [
        { ...keys.realm(realm.realmId), kind: 'realm', ...realm },
        { ...keys.realmName(realm.name), kind: 'claim', realmId: realm.realmId },
      ]) {
        await client.putItem({ TableName: tableName, Item: marshall(item) });
      }
    };

    it.each([
      ['its id in another case', (older: Realm) => newRealm(older.realmId.toUpperCase(), fresh('n'))],
      [
        'its id as a name, in another case',
        (older: Realm) => newRealm(fresh('r'), older.realmId.toUpperCase()),
      ],
      ['its id as a name', (older: Realm) => newRealm(fresh('r'), older.realmId)],
    ])(
      'refuses, beside a realm made before ids were claimed, %s; the older realm still resolves by its id',
      async (_what, second) => {
        const older = newRealm(fresh('older'), fresh('Older Corp'));
        await olderRealm(older);
        const refused = second(older);
        await expect(directory.createRealm(refused)).rejects.toBeInstanceOf(ConflictError);
        expect(await directory.getRealm(refused.realmId)).toBeUndefined();
        expect(await directory.findRealm(older.realmId)).toEqual(older);
        expect(await directory.findRealm(older.name)).toEqual(older);
      },
    );

    it('lets an exact id win over another realm’s claim (a pair made before ids were claimed)', async () => {
      const first = newRealm(fresh('r'), fresh('corp'));
      const second = newRealm(fresh('r'), fresh('shadow'));
      await olderRealm(first);
      await olderRealm(second);
      // As an older table could hold it: a name claim equal to first's id, pointing at second.
      await client.putItem({
        TableName: tableName,
        Item: marshall({ ...keys.realmName(first.realmId), kind: 'claim', realmId: second.realmId }),
      });
      expect(await directory.findRealm(first.realmId)).toEqual(first);
      expect(await directory.findRealm(first.name)).toEqual(first);
    });

    it('ignores a claim whose realm does not have that name or id (one a failed create left behind)', async () => {
      const realm = newRealm(fresh('r'), fresh('real'));
      const stale = fresh('ghost');
      await client.putItem({
        TableName: tableName,
        Item: marshall({ ...keys.realmName(stale), kind: 'claim', realmId: realm.realmId }),
      });
      await directory.createRealm(realm);
      expect(await directory.findRealm(stale)).toBeUndefined();
      expect(await directory.findRealm(realm.name.toUpperCase())).toEqual(realm);
      expect(await directory.findRealm(realm.realmId.toUpperCase())).toEqual(realm);
    });
  });

  describe('users', () => {
    it('creates a user and reads it back as written', async () => {
      const realmId = fresh('r');
      const user = newUser({ realmId, userId: fresh('u'), username: 'alice', email: 'a@example.com' });
      await directory.createUser(user);
      expect(await directory.getUser(user.userId)).toEqual(user);
      expect(await directory.getUser('no-such-user')).toBeUndefined();
    });

    it('refuses a second user with the same id, and releases the username it tried to claim', async () => {
      const realmId = fresh('r');
      const userId = fresh('u');
      await directory.createUser(newUser({ realmId, userId, username: 'first' }));
      await expect(
        directory.createUser(newUser({ realmId, userId, username: 'second' })),
      ).rejects.toBeInstanceOf(ConflictError);
      await expect(
        directory.createUser(newUser({ realmId, userId: fresh('u'), username: 'second' })),
      ).resolves.toBeUndefined();
    });

    it('refuses a username taken in the same realm, in any case, but not in another realm', async () => {
      const realmId = fresh('r');
      await directory.createUser(newUser({ realmId, userId: fresh('u'), username: 'bob' }));
      await expect(
        directory.createUser(newUser({ realmId, userId: fresh('u'), username: 'BOB' })),
      ).rejects.toBeInstanceOf(ConflictError);
      await expect(
        directory.createUser(newUser({ realmId: fresh('r'), userId: fresh('u'), username: 'bob' })),
      ).resolves.toBeUndefined();
    });

    it('finds every user with a username, across realms, whatever the case', async () => {
      const username = fresh('carol');
      const a = newUser({ realmId: fresh('r'), userId: fresh('u'), username });
      const b = newUser({ realmId: fresh('r'), userId: fresh('u'), username: username.toUpperCase() });
      await directory.createUser(a);
      await directory.createUser(b);
      const found = await directory.findUsersByUsername(username);
      expect(found.map((u) => u.userId).sort()).toEqual([a.userId, b.userId].sort());
      expect(await directory.findUsersByUsername(fresh('nobody'))).toEqual([]);
    });

    it('saves a user only while its stored version is the expected one', async () => {
      const user = newUser({ realmId: fresh('r'), userId: fresh('u'), username: 'dave' });
      await directory.createUser(user);
      const next = { ...user, failedAttempts: 3, version: user.version + 1 };
      await directory.saveUser(next, user.version);
      expect(await directory.getUser(user.userId)).toEqual(next);

      // A second writer that read the old version loses, and changes nothing.
      const stale = { ...user, failedAttempts: 9, version: user.version + 1 };
      await expect(directory.saveUser(stale, user.version)).rejects.toBeInstanceOf(VersionConflictError);
      expect(await directory.getUser(user.userId)).toEqual(next);
    });

    it('removes attributes a save leaves out (the record is replaced, not merged)', async () => {
      const user = {
        ...newUser({ realmId: fresh('r'), userId: fresh('u'), username: 'erin' }),
        lockedUntil: 'x',
      };
      await directory.createUser(user);
      const { lockedUntil: _dropped, ...unlocked } = { ...user, version: user.version + 1 };
      await directory.saveUser(unlocked, user.version);
      expect(await directory.getUser(user.userId)).not.toHaveProperty('lockedUntil');
    });

    it('counts a failure while its condition holds, and otherwise hands back the record the failed write found', async () => {
      const credential = { hash: 'h1', kind: 'PERMANENT' as const, setAt: '2026-01-01T00:00:00.000Z' };
      const user = { ...newUser({ realmId: fresh('r'), userId: fresh('u'), username: 'gina' }), credential };
      await directory.createUser(user);
      const counted = await directory.countFailure(user.userId, 'h1', { kind: 'count', below: 9 });
      expect(counted).toEqual({ landed: { ...user, failedAttempts: 1, version: user.version + 1 } });
      // A lock decided on a stale read does not land; the record comes back in that same call
      // (ReturnValuesOnConditionCheckFailure), so the lock-out judges it without a second read.
      const lock = { kind: 'lock' as const, atLeast: 9, lockUntil: '2026-01-15T10:15:00.000Z' };
      expect(await directory.countFailure(user.userId, 'h1', lock)).toEqual({ current: counted.landed });
      expect(await directory.countFailure(user.userId, 'other', { kind: 'count', below: 9 })).toEqual({
        current: counted.landed,
      });
      expect(await directory.countFailure(fresh('u'), 'h1', { kind: 'count', below: 9 })).toEqual({
        current: undefined,
      });
      expect(await directory.getUser(user.userId)).toEqual(counted.landed);
    });

    it('refuses to save a user that does not exist', async () => {
      const ghost = newUser({ realmId: fresh('r'), userId: fresh('u'), username: 'ghost' });
      await expect(directory.saveUser({ ...ghost, version: 2 }, 1)).rejects.toBeInstanceOf(
        VersionConflictError,
      );
      expect(await directory.getUser(ghost.userId)).toBeUndefined();
    });
  });

  describe('instances', () => {
    it('creates an instance once, then replaces it only at the expected version', async () => {
      const instance: DatabaseInstance = newInstance({
        realmId: fresh('r'),
        instanceId: fresh('i'),
        host: 'db.local',
      });
      await directory.saveInstance(instance, undefined);
      await expect(directory.saveInstance(instance, undefined)).rejects.toBeInstanceOf(ConflictError);
      const named = { ...instance, adminName: 'root', version: 2 };
      await directory.saveInstance(named, 1);
      await expect(directory.saveInstance({ ...instance, version: 2 }, 1)).rejects.toBeInstanceOf(
        VersionConflictError,
      );
      expect(await directory.getInstance(instance.instanceId)).toEqual(named);
    });
  });
});
