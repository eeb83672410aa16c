/**
 * AWS SDK clients, created once per container. Region, credentials and endpoint come from
 * the standard SDK environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...) unless given here,
 * which is how the embedded backend points them at its local endpoint.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface ClientOptions {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** The HTTP transport (every client takes Smithy's); the embedded backend may pass its in-process one. */
  requestHandler?: NonNullable<DynamoDBClientConfig['requestHandler']>;
}

/**
 * Every call is bounded. The SDK's Node transport has no timeout by default, so a call that
 * hangs (a connection that never opens, an answer that never comes or stops half-way) would
 * run until Lambda kills the function, between two writes, where no handler can compensate or
 * record anything. Bounded, it fails like any other fault: each attempt gives up after 1 s
 * without a connection, 2.5 s without the answer's headers (`requestTimeout`, which only warns
 * unless `throwOnRequestTimeout`), or 2.5 s without a byte of its body (`socketTimeout`; the
 * request timer stops at the headers). One call's three attempts stay inside the HTTP
 * functions' 10 s (functions/contracts.ts); two hung calls in one request do not.
 */
export const SDK_TIMEOUTS = {
  connectionTimeout: 1_000,
  requestTimeout: 2_500,
  socketTimeout: 2_500,
  throwOnRequestTimeout: true,
};

/** What every client is built with: three attempts, each bounded, unless a transport is given. */
function clientConfig(options: ClientOptions) {
  return { ...options, requestHandler: options.requestHandler ?? SDK_TIMEOUTS, maxAttempts: 3 };
}

/**
 * DynamoDB's SDK client, for the operator CLI and the embedded backend (which create the
 * table), the bench's floor and the tests' readers. The functions call the table through
 * dynamodb-api.ts, without this client's cold-start cost.
 */
export function createDynamoDbClient(options: ClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(clientConfig(options));
}

export function createSecretsManagerClient(options: ClientOptions = {}): SecretsManagerClient {
  return new SecretsManagerClient(clientConfig(options));
}

/**
 * EventBridge, for the operator CLI (`event send`, `bootstrap`). The functions put their events
 * through aws-call.ts (eventbridge-publisher.ts), without this client's cold-start cost.
 */
export function createEventBridgeClient(options: ClientOptions = {}): EventBridgeClient {
  return new EventBridgeClient(clientConfig(options));
}
