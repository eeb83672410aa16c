import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryAuditTrail } from '#adapters/audit.ts';
import { createDynamoDb } from '#adapters/dynamodb-api.ts';
import { createLogger } from '#adapters/logger.ts';
import { noMetrics } from '#adapters/metrics.ts';
import type { Runtime } from '#adapters/runtime.ts';
import {
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  VersionConflictError,
} from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import type { TemporaryPasswordSecret, User } from '#core/model.ts';
import { createHandler } from '#functions/reset-random-password/handler.ts';
import { randomPasswordResponse } from '#functions/reset-random-password/openapi.ts';
import { resetRandomPassword } from '#functions/reset-random-password/operation.ts';
import { notificationType } from '#functions/reset-random-password/schema.ts';
import type { HttpEvent } from '#http/request.ts';
import { localSettings } from '#infra/local/local-settings.ts';
import { type FakeDeps, fakeDeps, fastHasher } from '#test/support/fakes.ts';

/** Asserts `text` holds `password` neither as is nor JSON-escaped (a `"` or `\\` in it would hide a raw match). */
function expectNoPassword(text: string, password: string): void {
  expect(password.length).toBeGreaterThan(0);
  expect(text).not.toContain(password);
  expect(text).not.toContain(JSON.stringify(password).slice(1, -1));
}

const ADMIN = { subject: 'admin@r1', realmId: 'r1' };

describe('resetRandomPassword', () => {
  let deps: FakeDeps;
  const stored = async (userId: string) => (await deps.directory.getUser(userId)) as User;
  const secretOf = (secretId: string) =>
    JSON.parse(deps.vault.secrets.get(secretId)?.value ?? '{}') as TemporaryPasswordSecret;
  const reset = (input: Partial<Parameters<typeof resetRandomPassword>[2]> = {}) =>
    resetRandomPassword(deps, ADMIN, {
      projectId: 'r1',
      userId: 'u-alice',
      channels: ['email', 'phone'],
      requestId: 'req-1',
      ...input,
    });

  beforeEach(async () => {
    deps = fakeDeps();
    await deps.directory.createRealm(newRealm('r1', 'acme', { now: deps.clock.now() }));
    await deps.directory.createRealm(newRealm('r2', 'other', { now: deps.clock.now() }));
    const users = [
      {
        realmId: 'r1',
        userId: 'u-alice',
        username: 'alice',
        email: 'alice@example.com',
        phone: '+15550100001',
      },
      { realmId: 'r1', userId: 'u-bob', username: 'bob', email: 'bob@example.com' },
      { realmId: 'r1', userId: 'u-carol', username: 'carol', federated: true, email: 'carol@example.com' },
      { realmId: 'r2', userId: 'u-olga', username: 'olga', email: 'olga@example.com' },
    ];
    for (const user of users) await deps.directory.createUser(newUser(user, deps.clock.now()));
    deps.journal.length = 0;
  });

  it('switches the user to a temporary password held in the vault and sends it to each channel', async () => {
    const result = await reset();
    const secret = secretOf(result.passwordSecretId);
    const user = await stored('u-alice');
    expect(user.credential).toMatchObject({ kind: 'TEMPORARY', secretId: result.passwordSecretId });
    expect(await fastHasher.verify(user.credential?.hash ?? '', secret.password)).toBe(true);
    expect(result.expiresAt).toBe('2026-01-22T10:00:00.000Z');
    expect(deps.notifier.sent.map((n) => [n.channel, n.to])).toEqual([
      ['email', 'alice@example.com'],
      ['phone', '+15550100001'],
    ]);
    for (const notification of deps.notifier.sent) expect(notification.text).toContain(secret.password);
    expectNoPassword(JSON.stringify(result), secret.password);
  });

  it('resets without notifying anyone when no channel is named', async () => {
    const result = await reset({ channels: [] });
    expect(deps.vault.has(result.passwordSecretId)).toBe(true);
    expect(deps.notifier.sent).toEqual([]);
  });

  it('never logs the password', async () => {
    const result = await reset();
    expect(deps.log.entries.map((e) => e.message)).toContain('random password reset');
    expectNoPassword(JSON.stringify(deps.log.entries), secretOf(result.passwordSecretId).password);
  });

  it('deletes the temporary secret it replaces', async () => {
    const first = await reset();
    const second = await reset({ requestId: 'req-2' });
    expect(deps.vault.has(first.passwordSecretId)).toBe(false);
    expect(deps.vault.has(second.passwordSecretId)).toBe(true);
  });

  it('refuses a project other than the admin realm with a 403, before reading anything', async () => {
    await expect(reset({ projectId: 'r2', userId: 'u-olga' })).rejects.toThrow(ForbiddenError);
    expect(deps.journal).toEqual([]);
  });

  it("words another project's refusal in Huawei's terms, without its id", async () => {
    const error = await reset({ projectId: 'zz-project-41' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as Error).message).toBe('The token does not grant access to this project.');
  });

  it('keeps a Conflict that is not about the user (a concurrent update) a Conflict', async () => {
    deps.directory.faults.fail('saveUser', { error: new VersionConflictError() });
    await expect(reset()).rejects.toMatchObject({ kind: 'Conflict', reason: 'ConcurrentUpdate' });
  });

  it('answers 404 for a user of another realm, as for one that does not exist', async () => {
    await expect(reset({ userId: 'u-olga' })).rejects.toThrow(NotFoundError);
    await expect(reset({ userId: 'u-nobody' })).rejects.toThrow(NotFoundError);
  });

  it('refuses a channel the user has no address on, before generating or writing anything', async () => {
    const before = await stored('u-bob');
    const error = await reset({ userId: 'u-bob', channels: ['email', 'phone'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ field: 'notification_type', message: expect.stringContaining('phone') });
    expect(await stored('u-bob')).toEqual(before);
    expect(deps.journal.filter((call) => !call.startsWith('directory.get'))).toEqual([]);
    expect(deps.notifier.sent).toEqual([]);
  });

  it('refuses a federated user with a 400 (Huawei lists no 409) and writes nothing', async () => {
    await expect(reset({ userId: 'u-carol', channels: ['email'] })).rejects.toMatchObject({
      kind: 'InvalidInput',
      reason: 'Federated',
    });
    expect(deps.vault.secrets.size).toBe(0);
  });

  it('refuses a realm with SSO logon with a 400 (Huawei lists no 409), before generating, writing or sending anything', async () => {
    await deps.directory.createRealm(newRealm('r-sso', 'ssocorp', { ssoEnabled: true }));
    await deps.directory.createUser(
      newUser({ realmId: 'r-sso', userId: 'u-sol', username: 'sol', email: 'sol@example.com' }),
    );
    const before = await stored('u-sol');
    deps.journal.length = 0;
    const error = await resetRandomPassword(
      deps,
      { subject: 'admin@sso', realmId: 'r-sso' },
      {
        projectId: 'r-sso',
        userId: 'u-sol',
        // A channel the user has no address on: SSO logon is the first refusal all the same.
        channels: ['email', 'phone'],
        requestId: 'req-sso',
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ kind: 'InvalidInput', reason: 'SSOEnabled' });
    expect(await stored('u-sol')).toEqual(before);
    expect(deps.journal.filter((call) => !call.startsWith('directory.get'))).toEqual([]);
    expect(deps.vault.secrets.size).toBe(0);
    expect(deps.notifier.sent).toEqual([]);
  });

  it("says on the reset's log line who reset it, in which realm and request", async () => {
    const result = await reset();
    expect(deps.log.entries).toContainEqual({
      level: 'info',
      message: 'random password reset',
      attributes: {
        actor: 'admin@r1',
        realmId: 'r1',
        requestId: 'req-1',
        userId: 'u-alice',
        secretId: result.passwordSecretId,
        notified: ['email', 'phone'],
      },
    });
  });

  it('answers 503 when a notification fails, saying the reset happened and where the password is', async () => {
    deps.notifier.faults.fail('send');
    const error = (await reset().catch((e: unknown) => e)) as UnavailableError;
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.reason).toBe('NotificationFailed');
    const user = await stored('u-alice');
    const secretId = user.credential?.secretId ?? '';
    const { password } = secretOf(secretId);
    expect(await fastHasher.verify(user.credential?.hash ?? '', password)).toBe(true);
    expect(error.message).toContain('was reset');
    expect(error.message).toContain(secretId);
    expect(error.message).toContain('could not be sent by email.');
    expectNoPassword(error.message, password);
    // The other channel was still tried, and got the password.
    expect(deps.notifier.sent.map((n) => n.channel)).toEqual(['phone']);
    expectNoPassword(JSON.stringify(deps.log.entries), password);
  });

  it('leaves the user untouched and notifies nobody when the vault fails', async () => {
    const before = await stored('u-alice');
    deps.vault.faults.fail('create');
    await expect(reset()).rejects.toThrow(UnavailableError);
    expect(await stored('u-alice')).toEqual(before);
    expect(deps.notifier.sent).toEqual([]);
  });

  it('deletes the new secret and notifies nobody when the credential switch fails', async () => {
    const before = await stored('u-alice');
    deps.directory.faults.fail('saveUser');
    await expect(reset()).rejects.toThrow(UnavailableError);
    // The record was fenced (one version on, unchanged) before the secret was given up.
    expect(await stored('u-alice')).toEqual({ ...before, version: before.version + 1 });
    expect(deps.vault.secrets.size).toBe(0);
    expect(deps.journal.indexOf('vault.create')).toBeLessThan(deps.journal.indexOf('directory.saveUser'));
    expect(deps.notifier.sent).toEqual([]);
  });

  it('keeps the new secret, and answers success, when a switch that failed lands after the re-read', async () => {
    deps.directory.faults.fail('saveUser', { late: true });
    // The fence loses to the late write, and the second re-read finds it landed.
    const result = await reset();
    const user = await stored('u-alice');
    expect(user.credential?.secretId).toBe(result.passwordSecretId);
    const secret = secretOf(user.credential?.secretId ?? '');
    expect(await fastHasher.verify(user.credential?.hash ?? '', secret.password)).toBe(true);
  });

  it('gives the secret up when a switch that failed is fenced before it could land late', async () => {
    const before = await stored('u-alice');
    // The first attempt is lost on its way; the fence (the second write) lands first.
    deps.directory.faults.fail('saveUser', { late: true });
    const getUser = deps.directory.getUser.bind(deps.directory);
    let reads = 0;
    // The re-read (the second read) does not let the late write land: it is still on its way.
    deps.directory.getUser = async (userId: string) =>
      ++reads === 2 ? structuredClone(deps.directory.users.get(userId)) : getUser(userId);
    await expect(reset()).rejects.toThrow(UnavailableError);
    deps.directory.getUser = getUser;
    // Now the late write arrives (on the next read): its condition, the old version, no longer holds.
    await stored('u-alice');
    const after = await stored('u-alice');
    expect(after.credential).toEqual(before.credential);
    expect(deps.vault.secrets.size).toBe(0);
  });
});

describe('notification_type', () => {
  it.each(['email', 'phone', 'email,phone', 'phone,email'])('accepts %s', (value) => {
    expect(notificationType.safeParse(value).success).toBe(true);
  });

  it.each(['', 'sms', 'EMAIL', 'email,email', 'email, phone', 'email,phone,email', ',email', 'email,'])(
    'refuses %j',
    (value) => {
      expect(notificationType.safeParse(value).success).toBe(false);
    },
  );
});

/** A Lambda context good enough for the middy pipeline. */
const context = {
  functionName: 'rekey-reset-random-password',
  awsRequestId: 'req-ctx',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:rekey-reset-random-password',
  memoryLimitInMB: '1024',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

/** An API Gateway payload 2.0 event, with verified claims only when `claims` is given. */
function event(
  options: {
    method?: string;
    claims?: Record<string, string>;
    rawQueryString?: string;
    userId?: string;
  } = {},
): HttpEvent {
  const { method = 'GET', claims, rawQueryString = '', userId = 'u-alice' } = options;
  return {
    version: '2.0',
    routeKey: 'GET /v2/{project_id}/users/{user_id}/random-password',
    rawPath: `/v2/r1/users/${userId}/random-password`,
    rawQueryString,
    headers: {},
    pathParameters: { project_id: 'r1', user_id: userId },
    requestContext: {
      requestId: 'req-h',
      http: { method },
      // As rekey's token authorizer hands them over: its verdict and the claims, as strings.
      ...(claims ? { authorizer: { lambda: { authenticated: 'true', ...claims } } } : {}),
    },
    isBase64Encoded: false,
  } as unknown as HttpEvent;
}

const ADMIN_CLAIMS = { sub: 'admin@r1', scope: 'rekey/admin', rekey_realm: 'r1' };

describe('reset-random-password handler', () => {
  let deps: FakeDeps;
  const dynamoDb = createDynamoDb({ region: 'us-east-1' });
  const handlerWith = (d: FakeDeps) => {
    const runtime: Runtime = {
      logger: createLogger('reset-random-password'),
      metrics: noMetrics,
      audit: new MemoryAuditTrail(),
      dynamoDb,
      secretsManager: new SecretsManagerClient({ region: 'us-east-1' }),
      settings: localSettings({}),
      deps: d,
    };
    return createHandler(runtime);
  };
  afterAll(() => dynamoDb.destroy());

  /** The handler's log lines (Powertools writes info to stdout, warnings and errors to stderr). */
  let logs: string[] = [];
  afterEach(() => vi.restoreAllMocks());

  beforeEach(async () => {
    logs = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
        logs.push(String(chunk));
        return true;
      }) as typeof stream.write);
    }
    deps = fakeDeps();
    await deps.directory.createRealm(newRealm('r1', 'acme', { now: deps.clock.now() }));
    await deps.directory.createUser(
      newUser({ realmId: 'r1', userId: 'u-alice', username: 'alice', email: 'alice@example.com' }),
    );
    deps.journal.length = 0;
  });

  it('answers a Huawei 401 when invoked without verified claims', async () => {
    const res = await handlerWith(deps)(event(), context);
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body ?? '')).toEqual({ error_code: 'IAM.0001', error_msg: expect.any(String) });
    expect(res.headers).toMatchObject({ 'x-request-id': 'req-h', 'cache-control': 'no-store' });
    expect(deps.journal).toEqual([]);
  });

  it('answers 405 in the Huawei body for any other method, before anything else', async () => {
    const res = await handlerWith(deps)(event({ method: 'POST' }), context);
    expect(res.statusCode).toBe(405);
    expect(JSON.parse(res.body ?? '')).toMatchObject({ error_code: 'IAM.0005' });
    expect(deps.journal).toEqual([]);
  });

  it('answers the secret id and expiry, and no password', async () => {
    const res = await handlerWith(deps)(
      event({ claims: ADMIN_CLAIMS, rawQueryString: 'notification_type=email' }),
      context,
    );
    expect(res.statusCode).toBe(200);
    const body = randomPasswordResponse.parse(JSON.parse(res.body ?? ''));
    expect(res.headers).toMatchObject({ 'cache-control': 'no-store' });
    const { password } = JSON.parse(deps.vault.secrets.get(body.password_secret_id)?.value ?? '{}');
    expectNoPassword(res.body ?? '', password);
    expectNoPassword(logs.join(''), password);
    expect(deps.notifier.sent[0]?.text).toContain(password);
  });

  it.each([
    ['an unknown query parameter', 'notification_type=email&foo=1'],
    ['a repeated notification_type', 'notification_type=email&notification_type=phone'],
    ['an unknown channel', 'notification_type=sms'],
  ])('answers 400 IAM.0011 for %s and writes nothing', async (_what, rawQueryString) => {
    const res = await handlerWith(deps)(event({ claims: ADMIN_CLAIMS, rawQueryString }), context);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body ?? '')).toMatchObject({ error_code: 'IAM.0011' });
    expect(deps.journal).toEqual([]);
  });

  it('answers a generic 500 IAM.0500 for an unexpected failure, revealing nothing', async () => {
    deps.directory.faults.fail('getUser', { error: new TypeError('bug: secret detail') });
    const res = await handlerWith(deps)(event({ claims: ADMIN_CLAIMS }), context);
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body ?? '')).toEqual({
      error_code: 'IAM.0500',
      error_msg: 'An internal error occurred; retry later.',
    });
  });
});
