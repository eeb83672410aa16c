/** The two-clients floor plus Powertools Metrics, built as rekey's metrics adapter builds it. */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createDynamoDbClient, createSecretsManagerClient } from '#adapters/aws-clients.ts';

export const clients = [createDynamoDbClient(), createSecretsManagerClient()];
export const metrics = new Metrics({ namespace: 'rekey', serviceName: 'bench' });
