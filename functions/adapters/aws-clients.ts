/**
 * AWS SDK clients, created once per container. Region, credentials and endpoint come from
 * the standard SDK environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...) unless given here,
 * which is how the embedded backend points them at its local endpoint.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SNSClient } from '@aws-sdk/client-sns';

export interface ClientOptions {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** The HTTP transport (every client takes Smithy's); the embedded backend may pass its in-process one. */
  requestHandler?: NonNullable<DynamoDBClientConfig['requestHandler']>;
}

export function createDynamoDbClient(options: ClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient({ ...options, maxAttempts: 3 });
}

export function createSecretsManagerClient(options: ClientOptions = {}): SecretsManagerClient {
  return new SecretsManagerClient({ ...options, maxAttempts: 3 });
}

/** SES v2, for e-mail notifications. */
export function createSesClient(options: ClientOptions = {}): SESClient {
  return new SESClient({ ...options, maxAttempts: 3 });
}

/** SNS, for SMS notifications (direct publish to a phone number). */
export function createSnsClient(options: ClientOptions = {}): SNSClient {
  return new SNSClient({ ...options, maxAttempts: 3 });
}

/** EventBridge, for the ticket worker's result events and the CLI's `event send`. */
export function createEventBridgeClient(options: ClientOptions = {}): EventBridgeClient {
  return new EventBridgeClient({ ...options, maxAttempts: 3 });
}
