import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbDirectory } from '#adapters/dynamodb-directory.ts';
import { ConflictError } from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import { sdkDynamoDb } from '#test/support/dynamodb.ts';

const ddb = mockClient(DynamoDBClient);
const directory = new DynamoDbDirectory(sdkDynamoDb(new DynamoDBClient({ region: 'us-east-1' })), 'rekey');
const alice = newUser({ realmId: 'demo', userId: 'u-alice', username: 'alice' });

beforeEach(() => ddb.reset());

describe('DynamoDbDirectory.findUsersByUsername', () => {
  it('reads one user item per username claim it finds', async () => {
    ddb
      .on(QueryCommand)
      .resolves({ Items: [marshall({ pk: 'USERNAME#alice', sk: 'REALM#demo', userId: 'u-alice' })] });
    ddb.on(GetItemCommand).resolves({ Item: marshall({ pk: 'USER#u-alice', sk: 'USER', ...alice }) });

    const users = await directory.findUsersByUsername('alice');

    expect(users.map((u) => u.userId)).toEqual(['u-alice']);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(1);
  });

  it('makes the same table calls for an unknown username, reading a user that cannot exist', async () => {
    /** The calls one lookup makes: command, key shape and read consistency, in order. */
    const callsFor = async (username: string) => {
      await directory.findUsersByUsername(username);
      return ddb.calls().map((call) => {
        const command = call.args[0] as unknown as {
          constructor: { name: string };
          input: Record<string, unknown>;
        };
        const key = command.input.Key as Record<string, { S: string }> | undefined;
        return {
          command: command.constructor.name,
          pk: key?.pk?.S.replace(/#.*/, '#'),
          consistent: command.input.ConsistentRead,
        };
      });
    };
    ddb
      .on(QueryCommand)
      .resolves({ Items: [marshall({ pk: 'USERNAME#alice', sk: 'REALM#demo', userId: 'u-alice' })] });
    ddb.on(GetItemCommand).resolves({ Item: marshall({ pk: 'USER#u-alice', sk: 'USER', ...alice }) });
    const known = await callsFor('alice');

    ddb.reset();
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(GetItemCommand).resolves({});
    const unknown = await callsFor('nobody');

    expect(known).toEqual([
      { command: 'QueryCommand', pk: undefined, consistent: true },
      { command: 'GetItemCommand', pk: 'USER#', consistent: true },
    ]);
    // Read consistently, like a real user, so both reads cost the same capacity.
    expect(unknown).toEqual(known);
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input).toMatchObject({
      Key: marshall({ pk: 'USER##no-such-user', sk: 'USER' }),
    });
  });

  it('makes the same table calls to find a tenancy by id, by name or not at all (issue 9, finding 7)', async () => {
    const realm = { realmId: 'demo', name: 'democorp' };
    const calls: string[][] = [];
    for (const tenancy of ['demo', 'democorp', 'no-such-corp']) {
      ddb.reset();
      ddb.on(GetItemCommand).callsFake((input: { Key: Record<string, { S: string }> }) => {
        const pk = input.Key.pk?.S;
        if (pk === 'REALM#demo') return { Item: marshall({ pk, sk: 'REALM', ...realm }) };
        if (pk === 'REALMNAME#democorp') return { Item: marshall({ pk, sk: 'REALMNAME', realmId: 'demo' }) };
        return {};
      });
      const found = await directory.findRealm(tenancy);
      expect(found?.realmId).toBe(tenancy === 'no-such-corp' ? undefined : 'demo');
      calls.push(
        ddb
          .commandCalls(GetItemCommand)
          .map((call) => String(call.args[0].input.Key?.pk?.S).replace(/#.*/, '#')),
      );
    }
    expect(calls[0]).toEqual(['REALM#', 'REALMNAME#', 'REALM#']);
    expect(calls[1]).toEqual(calls[0]);
    expect(calls[2]).toEqual(calls[0]);
  });
});

describe('DynamoDbDirectory.createRealm, when it fails', () => {
  const conflict = () =>
    new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

  it("takes back only the claims it made, each only while it is still this realm's, and throws its own error", async () => {
    ddb.on(GetItemCommand).resolves({});
    // Both claims land; the realm item does not (its id is taken).
    ddb.on(PutItemCommand).resolvesOnce({}).resolvesOnce({}).rejects(conflict());
    // One take-back fails: the create's own refusal is still what the caller sees.
    ddb.on(DeleteItemCommand).rejectsOnce(new Error('network')).resolves({});

    const error = await directory.createRealm(newRealm('acme-2', 'Acme Two')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toBe('The realm acme-2 already exists.');
    const deletes = ddb.commandCalls(DeleteItemCommand).map((call) => call.args[0].input);
    expect(deletes.map((input) => input.Key?.pk?.S).sort()).toEqual([
      'REALMNAME#acme two',
      'REALMNAME#acme-2',
    ]);
    for (const input of deletes) {
      expect(input).toMatchObject({
        ConditionExpression: '#owner = :id',
        ExpressionAttributeNames: { '#owner': 'realmId' },
        ExpressionAttributeValues: { ':id': { S: 'acme-2' } },
      });
    }
  });
});
