/**
 * Every AWS SDK client rekey builds, and every call aws-call.ts makes, gives up on a call that
 * hangs, instead of waiting until Lambda kills the function between two writes
 * (docs/security.md, "Write order").
 */
import { createServer, type Server, type Socket } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsCaller, EVENTBRIDGE, SES, SNS } from '#adapters/aws-call.ts';
import {
  type ClientOptions,
  createDynamoDbClient,
  createEventBridgeClient,
  createSecretsManagerClient,
  SDK_TIMEOUTS,
} from '#adapters/aws-clients.ts';
import { createDynamoDb } from '#adapters/dynamodb-api.ts';

const sockets = new Set<Socket>();
/** A server that accepts every connection and reads the request, but never answers. */
let silent: Server;
let options: ClientOptions;
/** A server that answers the headers and half a body, then stalls. */
let stalling: Server;
let stallingOptions: ClientOptions;

async function listen(server: Server): Promise<ClientOptions> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

function tracked(onData: (socket: Socket) => void): Server {
  return createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => onData(socket));
    socket.on('close', () => sockets.delete(socket));
  });
}

beforeAll(async () => {
  silent = tracked(() => {});
  options = await listen(silent);
  stalling = tracked((socket) =>
    socket.write(
      'HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n{"Item":',
    ),
  );
  stallingOptions = await listen(stalling);
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all([silent, stalling].map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('the AWS SDK clients', () => {
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['DynamoDB', () => createDynamoDbClient(options).send(new GetItemCommand({ TableName: 't', Key: {} }))],
    ['DynamoDB (aws-call)', () => createDynamoDb(options).getItem({ TableName: 't', Key: {} })],
    [
      'Secrets Manager',
      () => createSecretsManagerClient(options).send(new GetSecretValueCommand({ SecretId: 's' })),
    ],
    [
      'SES (aws-call)',
      () => createAwsCaller(SES, options).query('SendEmail', '2010-12-01', { Source: 'a@example.com' }),
    ],
    ['SNS (aws-call)', () => createAwsCaller(SNS, options).query('Publish', '2010-03-31', { Message: 'm' })],
    [
      'EventBridge (aws-call)',
      () => createAwsCaller(EVENTBRIDGE, options).json('AWSEvents.PutEvents', { Entries: [] }),
    ],
    [
      "EventBridge (the CLI's SDK client)",
      () => createEventBridgeClient(options).send(new PutEventsCommand({ Entries: [] })),
    ],
  ];

  it.concurrent.each(calls)(
    '%s gives up on a server that never answers, within its three bounded attempts',
    async (_name, call) => {
      const started = Date.now();
      const error = await call().catch((e: unknown) => e);
      const took = Date.now() - started;
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe('TimeoutError');
      // Three attempts of at most requestTimeout each, plus the SDK's back-off between them:
      // inside the HTTP functions' 10 s, and at least one full attempt was waited for.
      expect(took).toBeGreaterThanOrEqual(SDK_TIMEOUTS.requestTimeout);
      expect(took).toBeLessThan(10_000);
    },
    20_000,
  );

  it.concurrent.each([
    [
      'DynamoDB',
      () => createDynamoDbClient(stallingOptions).send(new GetItemCommand({ TableName: 't', Key: {} })),
    ],
    ['DynamoDB (aws-call)', () => createDynamoDb(stallingOptions).getItem({ TableName: 't', Key: {} })],
    [
      'EventBridge (aws-call)',
      () => createAwsCaller(EVENTBRIDGE, stallingOptions).json('AWSEvents.PutEvents', { Entries: [] }),
    ],
  ])(
    '%s gives up on an answer whose body stops half-way (the request timer stops at the headers)',
    async (_name, call) => {
      const started = Date.now();
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(Date.now() - started).toBeLessThan(10_000);
    },
    20_000,
  );
});
