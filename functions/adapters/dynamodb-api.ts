/**
 * The five DynamoDB item calls rekey's functions make (GetItem, PutItem, UpdateItem,
 * DeleteItem, Query), through aws-call.ts rather than `@aws-sdk/client-dynamodb`: that
 * client's module cost every cold start about 17 M instructions (its 57 operations' schemas,
 * its modeled exceptions, its endpoint rules), 8% of the whole two-clients floor, for calls
 * whose requests and answers are already DynamoDB's JSON. docs/decisions.md, "Cold start,
 * tenth pass", has the measurement and what was given up.
 *
 * Inputs and outputs are the SDK's own types (type-only imports, which cost nothing at run
 * time), so a caller writes exactly what it would hand the SDK's commands; test/support has
 * the same interface over an SDK client, for the tests that mock or intercept one.
 */
import type {
  AttributeValue,
  DeleteItemCommandInput,
  DeleteItemCommandOutput,
  GetItemCommandInput,
  GetItemCommandOutput,
  PutItemCommandInput,
  PutItemCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  UpdateItemCommandInput,
  UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { createAwsCaller, DYNAMODB } from './aws-call.ts';
import type { ClientOptions } from './aws-clients.ts';

/** What an answer holds: the SDK's output without its response metadata. */
type Answer<T> = Omit<T, '$metadata'>;

/** DynamoDB as rekey calls it: one method per operation, each the SDK command's input and output. */
export interface DynamoDb {
  getItem(input: GetItemCommandInput): Promise<Answer<GetItemCommandOutput>>;
  putItem(input: PutItemCommandInput): Promise<Answer<PutItemCommandOutput>>;
  updateItem(input: UpdateItemCommandInput): Promise<Answer<UpdateItemCommandOutput>>;
  deleteItem(input: DeleteItemCommandInput): Promise<Answer<DeleteItemCommandOutput>>;
  query(input: QueryCommandInput): Promise<Answer<QueryCommandOutput>>;
  /** Closes idle connections (tests and the CLI; a function's container never needs to). */
  destroy(): void;
}

/** The operations, by method: the wire's target is `DynamoDB_20120810.<Operation>`. */
export const DYNAMODB_OPERATIONS = {
  getItem: 'GetItem',
  putItem: 'PutItem',
  updateItem: 'UpdateItem',
  deleteItem: 'DeleteItem',
  query: 'Query',
} as const;

/** DynamoDB through aws-call: region, credentials, endpoint and transport as every client takes them. */
export function createDynamoDb(options: ClientOptions = {}): DynamoDb {
  const caller = createAwsCaller(DYNAMODB, options);
  const call = (operation: string) => (input: unknown) =>
    caller.json(`DynamoDB_20120810.${operation}`, input) as Promise<never>;
  return {
    getItem: call(DYNAMODB_OPERATIONS.getItem),
    putItem: call(DYNAMODB_OPERATIONS.putItem),
    updateItem: call(DYNAMODB_OPERATIONS.updateItem),
    deleteItem: call(DYNAMODB_OPERATIONS.deleteItem),
    query: call(DYNAMODB_OPERATIONS.query),
    destroy: () => caller.destroy(),
  };
}

/** Whether `error` is DynamoDB's refusal of a write's condition, from aws-call or the SDK's client. */
export function isConditionFailure(
  error: unknown,
): error is Error & { Item?: Record<string, AttributeValue> } {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
