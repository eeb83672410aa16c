/**
 * The rekey table's shape (also declared by the CDK stateful stack), and creating it where
 * it is missing: on the embedded backend at start, on AWS through `rekey bootstrap`.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '#functions/contracts.ts';

/**
 * Creates the table (on-demand, `pk`/`sk`, TTL on `ttl`) if it does not exist, and waits until
 * it is ACTIVE: DynamoDB (and dynalite) answer CreateTable while the table is still CREATING,
 * and refuse writes to it until then. Returns whether it created the table.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return false;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: PARTITION_KEY, AttributeType: 'S' },
        { AttributeName: SORT_KEY, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: SORT_KEY, KeyType: 'RANGE' },
      ],
    }),
  );
  // The SDK's own waiter polls DescribeTable until the table is ACTIVE.
  await waitUntilTableExists(
    { client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 },
    { TableName: tableName },
  );
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (error) {
    // dynalite does not implement TTL; nothing in rekey relies on TTL deletion for correctness
    // (expiry is always checked on read), only for tidiness.
    if ((error as Error).name !== 'UnknownOperationException') throw error;
  }
  return true;
}
