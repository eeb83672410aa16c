/**
 * DynamoDB in tests: rekey's `DynamoDb` (functions/adapters/dynamodb-api.ts) over the SDK's
 * client, for tests that mock one (aws-sdk-client-mock); a hook around every call of a
 * `DynamoDb`, for tests that throttle or record calls (as the SDK's middleware would); and the
 * table's items, read with the SDK's own client, as an operator would read them.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { ClientOptions } from '#adapters/aws-clients.ts';
import { createDynamoDbClient } from '#adapters/aws-clients.ts';
import { DYNAMODB_OPERATIONS, type DynamoDb } from '#adapters/dynamodb-api.ts';

/** rekey's DynamoDb interface, each call one of `client`'s commands. */
export function sdkDynamoDb(client: DynamoDBClient): DynamoDb {
  return {
    getItem: (input) => client.send(new GetItemCommand(input)),
    putItem: (input) => client.send(new PutItemCommand(input)),
    updateItem: (input) => client.send(new UpdateItemCommand(input)),
    deleteItem: (input) => client.send(new DeleteItemCommand(input)),
    query: (input) => client.send(new QueryCommand(input)),
    destroy: () => client.destroy(),
  };
}

type Method = keyof typeof DYNAMODB_OPERATIONS;

/**
 * Puts `around` around every call `db` makes from now on, in place, so whatever already holds
 * `db` (a runtime's directory, its idempotency layer) goes through it too. `operation` is the
 * wire's name (`PutItem`), `input` the request as given.
 */
export function interceptDynamoDb(
  db: DynamoDb,
  around: (
    operation: string,
    input: Record<string, unknown>,
    next: () => Promise<unknown>,
  ) => Promise<unknown>,
): void {
  for (const [method, operation] of Object.entries(DYNAMODB_OPERATIONS) as Array<[Method, string]>) {
    const original = db[method].bind(db) as (input: unknown) => Promise<unknown>;
    (db as unknown as Record<Method, (input: unknown) => Promise<unknown>>)[method] = (input) =>
      around(operation, input as Record<string, unknown>, () => original(input));
  }
}

/** Every item of `tableName` as stored, read with the SDK's client (one strongly consistent Scan). */
export async function scanTable(clients: ClientOptions, tableName: string) {
  const client = createDynamoDbClient(clients);
  try {
    const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
    return Items;
  } finally {
    client.destroy();
  }
}
