/**
 * A failed sign-in is counted once even when the SDK retries the count: an attempt whose
 * answer was lost (a timeout, a dropped connection) may have landed, and the retry of a
 * non-idempotent UpdateItem would count the same guess again, locking a user early.
 * The real adapter, over HTTP, against the embedded store.
 */
import { rmSync } from 'node:fs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SDK_TIMEOUTS } from '#adapters/aws-clients.ts';
import { createDynamoDb } from '#adapters/dynamodb-api.ts';
import { DynamoDbDirectory } from '#adapters/dynamodb-directory.ts';
import { newUser } from '#core/factories.ts';
import type { User } from '#core/model.ts';
import { type EmbeddedBackend, startEmbeddedBackend } from '#infra/local/embedded-backend.ts';
import { localSettings } from '#infra/local/local-settings.ts';

let backend: EmbeddedBackend;
let direct: DynamoDbDirectory;

beforeAll(async () => {
  backend = await startEmbeddedBackend();
  direct = new DynamoDbDirectory(createDynamoDb(backend.clients), localSettings({}).tableName);
});
afterAll(async () => {
  await backend.close();
  rmSync(backend.dataDir, { recursive: true, force: true });
});

/**
 * A directory whose first `lose` UpdateItem answers are lost after the write reached the table:
 * the SDK sees a TimeoutError, as `requestTimeout` would give it, and retries.
 */
function directoryLosingAnswers(lose: number): { directory: DynamoDbDirectory; attempts: () => number } {
  const real = new NodeHttpHandler(SDK_TIMEOUTS);
  let updates = 0;
  const handler = {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(...args: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
      const [request] = args;
      const out = await real.handle(...args);
      if (!String(request.headers['x-amz-target']).endsWith('.UpdateItem') || updates++ >= lose) return out;
      // The write landed; drain its answer and lose it.
      const body = out.response.body as NodeJS.ReadableStream;
      await new Promise((resolve) => {
        body.on('end', resolve);
        body.resume();
      });
      throw Object.assign(new Error('the answer was lost'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
    },
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
    destroy: () => real.destroy(),
  };
  const client = createDynamoDb({ ...backend.clients, requestHandler: handler as never });
  return { directory: new DynamoDbDirectory(client, localSettings({}).tableName), attempts: () => updates };
}

async function userWith(userId: string, failedAttempts: number): Promise<User> {
  const user: User = {
    ...newUser({ realmId: 'r-retry', userId, username: userId }),
    credential: { hash: 'h1', kind: 'PERMANENT', setAt: '2026-01-01T00:00:00.000Z' },
    failedAttempts,
  };
  await direct.createUser(user);
  return user;
}

describe('countFailure retried by the SDK after its answer was lost', () => {
  it('counts the guess once and answers it as landed', async () => {
    const user = await userWith('u-retry-once', 0);
    const { directory, attempts } = directoryLosingAnswers(1);
    const counted = await directory.countFailure(user.userId, 'h1', { kind: 'count', below: 10 });
    expect(attempts()).toBe(2);
    const stored = await direct.getUser(user.userId);
    expect(stored?.failedAttempts).toBe(1);
    expect(counted).toEqual({ landed: stored });
    // The count's id is the store's own: no User the code sees carries it.
    expect(Object.keys(stored ?? {})).not.toContain('failureCountId');
  });

  it('locks once, with the lock that landed, when the lost answer was the lock', async () => {
    const user = await userWith('u-retry-lock', 9);
    const { directory } = directoryLosingAnswers(1);
    const lock = { kind: 'lock' as const, atLeast: 9, lockUntil: '2026-01-15T10:15:00.000Z' };
    const counted = await directory.countFailure(user.userId, 'h1', lock);
    const stored = await direct.getUser(user.userId);
    expect(stored).toMatchObject({ failedAttempts: 10, lockedUntil: lock.lockUntil });
    expect(counted).toEqual({ landed: stored });
  });

  it('still counts every separate guess', async () => {
    const user = await userWith('u-retry-many', 0);
    for (let i = 0; i < 3; i++) await direct.countFailure(user.userId, 'h1', { kind: 'count', below: 10 });
    expect((await direct.getUser(user.userId))?.failedAttempts).toBe(3);
  });
});
