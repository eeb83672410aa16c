import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbDirectory } from '#adapters/dynamodb-directory.ts';
import { newUser } from '#core/factories.ts';

const ddb = mockClient(DynamoDBClient);
const directory = new DynamoDbDirectory(new DynamoDBClient({ region: 'us-east-1' }), 'rekey');
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
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(GetItemCommand).resolves({});

    const users = await directory.findUsersByUsername('nobody');

    expect(users).toEqual([]);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
    const [read] = ddb.commandCalls(GetItemCommand);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(1);
    // Read consistently, like a real user, so both reads cost the same capacity.
    expect(read?.args[0].input).toMatchObject({ Key: marshall({ pk: 'USER##no-such-user', sk: 'USER' }) });
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
