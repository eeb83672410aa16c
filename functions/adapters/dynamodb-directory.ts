/**
 * The Directory port on one DynamoDB table (`pk`, `sk`). Every replace is conditional on the
 * record's version; uniqueness of realm names and usernames is kept by claim items written
 * before the record they point to.
 */

import { randomUUID } from 'node:crypto';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ConflictError, NotFoundError, VersionConflictError } from '#core/errors.ts';
import type { DatabaseInstance, Realm, TrackedSecret, User } from '#core/model.ts';
import type { Directory, FailureCount, FailureStep, TrackedSecretPage } from '#core/ports.ts';
import { FAILURE_COUNT_ATTRIBUTE, keys } from '#functions/contracts.ts';
import { type DynamoDb, isConditionFailure } from './dynamodb-api.ts';
import { serviceFailure } from './service-errors.ts';

/** No user has this id (user ids start with a letter or a digit). */
const NO_SUCH_USER_ID = '#no-such-user';

/** No realm has this id (realm ids start with a letter or a digit). */
const NO_SUCH_REALM_ID = '#no-such-realm';

/** Item keys live in functions/contracts.ts: the stacks' write grants are built from them too. */
export { keys };

type Item = Record<string, unknown>;

export class DynamoDbDirectory implements Directory {
  constructor(
    private readonly client: DynamoDb,
    private readonly tableName: string,
  ) {}

  getRealm(realmId: string): Promise<Realm | undefined> {
    return this.get<Realm>(keys.realm(realmId));
  }

  /**
   * The same table calls whatever `idOrName` is — a realm id, a realm name or nothing known:
   * the id and the name claim are read side by side, then the realm the claim names (or one
   * that cannot exist). Change-password looks a tenancy up before any password is checked, so
   * a lookup that stopped early for an id would tell an unknown tenancy by its timing.
   *
   * An exact id wins over a claim: realms created before createRealm claimed ids keep
   * resolving by their id whatever was created since. A claim counts only if its realm still
   * has that name or id (a claim left behind by a failed create names nobody).
   */
  async findRealm(idOrName: string): Promise<Realm | undefined> {
    const [byId, claim] = await Promise.all([
      this.getRealm(idOrName),
      this.get<{ realmId: string }>(keys.realmName(idOrName)),
    ]);
    const claimed = await this.getRealm(claim?.realmId ?? NO_SUCH_REALM_ID);
    const wanted = idOrName.toLowerCase();
    const byName = [claimed?.name, claimed?.realmId].some((value) => value?.toLowerCase() === wanted)
      ? claimed
      : undefined;
    return byId ?? byName;
  }

  /**
   * Ids and names are one namespace: a tenancy is either (findRealm), so a realm claims its
   * name and its id, lower-cased, and no later realm may take either as its own id or name.
   * Realms created before ids were claimed are checked by reading their id as given and
   * lower-cased (an older id in mixed case is not found that way: findRealm's exact id still
   * wins for it). A failed create takes back only the claims it made.
   */
  async createRealm(realm: Realm): Promise<void> {
    const names = [...new Set([realm.name, realm.realmId].map((name) => name.toLowerCase()))];
    const claimed: Array<{ pk: string; sk: string }> = [];
    try {
      for (const name of names) {
        const key = keys.realmName(name);
        await this.claim(key, { realmId: realm.realmId }, `realm id or name ${name}`);
        claimed.push(key);
      }
      const olderIds = [...new Set([realm.name, ...names])].filter((id) => id !== realm.realmId);
      const older = await Promise.all(olderIds.map((id) => this.getRealm(id)));
      const taken = olderIds.find((_, i) => older[i] !== undefined);
      if (taken !== undefined) {
        throw new ConflictError(`The realm id or name ${taken} already exists.`, { reason: 'AlreadyExists' });
      }
      await this.putNew({ ...keys.realm(realm.realmId), kind: 'realm', ...realm }, `realm ${realm.realmId}`);
    } catch (error) {
      await this.takeBack(claimed, 'realmId', realm.realmId);
      throw error;
    }
  }

  /** A conditional put: the realm must exist under the same name (the name's claim is not touched). */
  async replaceRealm(realm: Realm): Promise<void> {
    try {
      await this.client.putItem({
        TableName: this.tableName,
        Item: toItem({ ...keys.realm(realm.realmId), kind: 'realm', ...realm }),
        ConditionExpression: 'attribute_exists(pk) AND #name = :name',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: marshall({ ':name': realm.name }),
      });
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new NotFoundError('Realm', 'The realm does not exist.', { cause: error });
      }
      throw serviceFailure('directory', error);
    }
  }

  getUser(userId: string): Promise<User | undefined> {
    return this.get<User>(keys.user(userId));
  }

  async findUsersByUsername(username: string): Promise<User[]> {
    const claims = await this.call(() =>
      this.client.query({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': keys.username(username, '').pk }),
        ConsistentRead: true,
      }),
    );
    // An unknown username reads a (missing) user too, so that a sign-in costs the same table
    // calls whether or not the name exists: timing must not tell them apart.
    const userIds = (claims.Items ?? []).map((claim) => String(unmarshall(claim).userId));
    const users = await Promise.all(
      (userIds.length > 0 ? userIds : [NO_SUCH_USER_ID]).map((userId) => this.getUser(userId)),
    );
    return users.filter((user): user is User => user !== undefined);
  }

  async createUser(user: User): Promise<void> {
    const claim = keys.username(user.username, user.realmId);
    await this.claim(claim, { userId: user.userId }, `username ${user.username} in realm ${user.realmId}`);
    try {
      await this.putNew({ ...keys.user(user.userId), kind: 'user', ...user }, `user ${user.userId}`);
    } catch (error) {
      await this.takeBack([claim], 'userId', user.userId);
      throw error;
    }
    // After the user: an entry whose user is missing is harmless (the look-up reads the user).
    if (user.email) await this.putEntry(keys.email(user.email, user.realmId, user.userId), user.userId);
  }

  /** The users an e-mail address's entries name, read back (the entries are hints, the users are the truth). */
  async findUsersByEmail(email: string): Promise<User[]> {
    const entries = await this.call(() =>
      this.client.query({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': keys.email(email, '', '').pk }),
        ConsistentRead: true,
      }),
    );
    const userIds = (entries.Items ?? []).map((entry) => String(unmarshall(entry).userId));
    const users = await Promise.all(userIds.map((userId) => this.getUser(userId)));
    return users.filter(
      (user): user is User => user !== undefined && user.email?.toLowerCase() === email.toLowerCase(),
    );
  }

  private async putEntry(key: { pk: string; sk: string }, userId: string): Promise<void> {
    await this.call(() =>
      this.client.putItem({ TableName: this.tableName, Item: toItem({ ...key, kind: 'email', userId }) }),
    );
  }

  saveUser(next: User, expectedVersion: number): Promise<void> {
    return this.putVersioned({ ...keys.user(next.userId), kind: 'user', ...next }, expectedVersion);
  }

  /** One UpdateItem, conditional on the credential and the step's own state (not the version). */
  async countFailure(userId: string, credentialHash: string, step: FailureStep): Promise<FailureCount> {
    // The update is not idempotent: the SDK retries an attempt whose answer was lost (a timeout,
    // a dropped connection) even when it landed. Each count writes an id of its own, and a retry
    // that finds it there is refused, and answered as the count that landed. A write to the user
    // in between (another guess's count, a release) replaces or drops the id, and the retry then
    // counts again: an early lock, never a late one.
    const countId = randomUUID();
    const names: Record<string, string> = {
      '#version': 'version',
      '#hash': 'hash',
      '#countId': FAILURE_COUNT_ATTRIBUTE,
    };
    const values: Record<string, unknown> = { ':one': 1, ':hash': credentialHash, ':countId': countId };
    const set = ['#version = #version + :one', '#countId = :countId'];
    const remove: string[] = [];
    const conditions = [
      'attribute_exists(pk)',
      'credential.#hash = :hash',
      '(attribute_not_exists(#countId) OR #countId <> :countId)',
    ];
    if (step.kind === 'restart') {
      set.push('failedAttempts = :one');
      conditions.push('lockedUntil <= :expiredBy');
      values[':expiredBy'] = step.expiredBy;
      if (step.lockUntil === undefined) remove.push('lockedUntil');
      else {
        set.push('lockedUntil = :until');
        values[':until'] = step.lockUntil;
      }
    } else {
      set.push('failedAttempts = failedAttempts + :one');
      conditions.push('attribute_not_exists(lockedUntil)');
      if (step.kind === 'lock') {
        set.push('lockedUntil = :until');
        conditions.push('failedAttempts >= :bound');
        values[':until'] = step.lockUntil;
        values[':bound'] = step.atLeast;
      } else if (step.below !== undefined) {
        conditions.push('failedAttempts < :bound');
        values[':bound'] = step.below;
      }
    }
    try {
      const out = await this.client.updateItem({
        TableName: this.tableName,
        Key: marshall(keys.user(userId)),
        UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values),
        ReturnValues: 'ALL_NEW',
        // The record as the failed condition found it, in the same call (lockout.ts).
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      // An update that landed always returns the item; without it, nothing can be judged.
      return out.Attributes ? { landed: recordOf<User>(out.Attributes) } : { current: undefined };
    } catch (error) {
      if (isConditionFailure(error)) {
        const found = error.Item ? unmarshall(error.Item) : undefined;
        const current = found ? withoutTableAttributes<User>(found) : undefined;
        // This count's own earlier attempt landed: the record is as it left it.
        return current && found?.[FAILURE_COUNT_ATTRIBUTE] === countId ? { landed: current } : { current };
      }
      throw serviceFailure('directory', error);
    }
  }

  getInstance(instanceId: string): Promise<DatabaseInstance | undefined> {
    return this.get<DatabaseInstance>(keys.instance(instanceId));
  }

  saveInstance(next: DatabaseInstance, expectedVersion: number | undefined): Promise<void> {
    const item = { ...keys.instance(next.instanceId), kind: 'instance', ...next };
    return expectedVersion === undefined
      ? this.putNew(item, `instance ${next.instanceId}`)
      : this.putVersioned(item, expectedVersion);
  }

  /** No `ttl` on purpose: an entry that vanished by itself would leave its secret, paid for, forever. */
  async trackSecret(secret: TrackedSecret): Promise<void> {
    const item = toItem({ ...keys.trackedSecret(secret.name), kind: 'tracked-secret', ...secret });
    await this.call(() => this.client.putItem({ TableName: this.tableName, Item: item }));
  }

  async untrackSecret(name: string): Promise<void> {
    await this.remove(keys.trackedSecret(name));
  }

  /** Eventually consistent: an entry missed by one sweep is seen by the next. */
  async listTrackedSecrets(page: { after?: string; limit?: number } = {}): Promise<TrackedSecretPage> {
    const out = await this.call(() =>
      this.client.query({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': keys.trackedSecret('').pk }),
        Limit: page.limit ?? 100,
        ...(page.after === undefined ? {} : { ExclusiveStartKey: marshall(keys.trackedSecret(page.after)) }),
      }),
    );
    const secrets = (out.Items ?? []).map((item) => recordOf<TrackedSecret>(item));
    const next = out.LastEvaluatedKey ? String(unmarshall(out.LastEvaluatedKey).sk) : undefined;
    return next === undefined ? { secrets } : { secrets, next };
  }

  private async get<T>(key: { pk: string; sk: string }): Promise<T | undefined> {
    const out = await this.call(() =>
      this.client.getItem({ TableName: this.tableName, Key: marshall(key), ConsistentRead: true }),
    );
    return out.Item ? recordOf<T>(out.Item) : undefined;
  }

  private async claim(key: { pk: string; sk: string }, attributes: Item, what: string): Promise<void> {
    await this.putNew({ ...key, kind: 'claim', ...attributes }, what);
  }

  private async putNew(item: Item, what: string): Promise<void> {
    try {
      await this.client.putItem({
        TableName: this.tableName,
        Item: toItem(item),
        ConditionExpression: 'attribute_not_exists(pk)',
      });
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`The ${what} already exists.`, { reason: 'AlreadyExists', cause: error });
      }
      throw serviceFailure('directory', error);
    }
  }

  private async putVersioned(item: Item, expectedVersion: number): Promise<void> {
    try {
      await this.client.putItem({
        TableName: this.tableName,
        Item: toItem(item),
        ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: marshall({ ':expected': expectedVersion }),
      });
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflictError(undefined, { cause: error });
      throw serviceFailure('directory', error);
    }
  }

  /**
   * Deletes the claims a failed create made, each only while it is still this create's (a
   * retried delete that lands late must not take a claim another create has since made).
   * Best effort: what cannot be deleted stays (findRealm ignores a realm claim whose realm
   * does not have that name), and the create's own error is the one its caller sees.
   */
  private async takeBack(
    claims: Array<{ pk: string; sk: string }>,
    owner: string,
    id: string,
  ): Promise<void> {
    await Promise.allSettled(
      claims.map((key) =>
        this.client.deleteItem({
          TableName: this.tableName,
          Key: marshall(key),
          ConditionExpression: '#owner = :id',
          ExpressionAttributeNames: { '#owner': owner },
          ExpressionAttributeValues: marshall({ ':id': id }),
        }),
      ),
    );
  }

  private async remove(key: { pk: string; sk: string }): Promise<void> {
    await this.call(() => this.client.deleteItem({ TableName: this.tableName, Key: marshall(key) }));
  }

  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw serviceFailure('directory', error);
    }
  }
}

/** Optional fields are left out of the item rather than stored as nulls. */
function toItem(item: Item) {
  return marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: false });
}

/** The record an item holds: without its keys, its kind, or the failure count's id. */
function recordOf<T>(item: Parameters<typeof unmarshall>[0]): T {
  return withoutTableAttributes<T>(unmarshall(item));
}

function withoutTableAttributes<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, kind: _kind, [FAILURE_COUNT_ATTRIBUTE]: _countId, ...record } = item;
  return record as T;
}
