/** The two-clients floor plus Powertools Tracer (X-Ray), capturing both clients. */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { createDynamoDbClient, createSecretsManagerClient } from '#adapters/aws-clients.ts';

export const tracer = new Tracer({ serviceName: 'bench' });
export const clients = [
  tracer.captureAWSv3Client(createDynamoDbClient()),
  tracer.captureAWSv3Client(createSecretsManagerClient()),
];
