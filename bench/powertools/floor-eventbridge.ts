/** The two-clients floor plus the EventBridge client the audit sink puts `PasswordAudit` events with. */
import {
  createDynamoDbClient,
  createEventBridgeClient,
  createSecretsManagerClient,
} from '#adapters/aws-clients.ts';

export const clients = [createDynamoDbClient(), createSecretsManagerClient(), createEventBridgeClient()];
