/** The two-clients floor plus Powertools Logger. */
import { Logger } from '@aws-lambda-powertools/logger';
import { createDynamoDbClient, createSecretsManagerClient } from '#adapters/aws-clients.ts';

export const clients = [createDynamoDbClient(), createSecretsManagerClient()];
export const logger = new Logger({ serviceName: 'bench' });
