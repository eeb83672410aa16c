/**
 * AWS throttling, end to end: when DynamoDB or Secrets Manager still says "slow down" after
 * the retries, every route answers 429 in its own dialect (not a 500), writes nothing, and
 * leaves no secret behind. The throttling errors are what the route's real clients throw
 * (over the embedded backend): Secrets Manager's the SDK's own exception class, from a
 * middleware on its client; DynamoDB's an AwsCallError as aws-call.ts throws it, from a hook
 * around the table's calls. So the adapters' classification is what is tested, not a fake.
 * (aws-call's own retries of a throttled answer: test/unit/dynamodb-api.test.ts.)
 */
import { ListSecretsCommand, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AwsCallError } from '#adapters/aws-call.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { newInstance } from '#core/factories.ts';
import { interceptDynamoDb } from '#test/support/dynamodb.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';

type Service = 'dynamodb' | 'secretsmanager';

/** The command that will be throttled (every attempt of it, after `skip` calls pass), if any. */
let armed: { service: Service; command: string; skip?: number } | undefined;
let throttledCalls = 0;
/** Calls that went through to the backend, by command name. */
const passed = new Map<string, number>();

function throttlingError(service: Service): Error {
  if (service === 'dynamodb') {
    return new AwsCallError(
      'ProvisionedThroughputExceededException',
      'The level of configured provisioned throughput for the table was exceeded.',
      400,
      'r-throttled',
    );
  }
  return new SecretsManagerServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400 },
  });
}

/** Throws the service's throttling error for the armed command, on whichever client it is added to. */
function throttle(service: Service): InitializeMiddleware<object, MetadataBearer> {
  return (next, context) => (args) => throttled(service, context.commandName ?? '?', () => next(args));
}

/** Throws the armed service's throttling error for the armed command, else lets `call` through. */
function throttled<T>(service: Service, command: string, call: () => Promise<T>): Promise<T> {
  if (armed?.service === service && armed.command === command) {
    if (!armed.skip || armed.skip-- <= 0) {
      throttledCalls++;
      return Promise.reject(throttlingError(service));
    }
  }
  passed.set(command, (passed.get(command) ?? 0) + 1);
  return call();
}

const THROTTLE = { step: 'initialize', name: 'testThrottle' } as const;

let t: TestApi;
let reader: Runtime;
let token: string;

beforeAll(async () => {
  t = await startTestApi({
    customizeRuntime: (_operation, runtime) => {
      interceptDynamoDb(runtime.dynamoDb, (operation, _input, next) =>
        throttled('dynamodb', `${operation}Command`, next),
      );
      runtime.secretsManager.middlewareStack.add(throttle('secretsmanager'), THROTTLE);
      return runtime;
    },
  });
  reader = createRuntime('test-reader', { clients: t.api.clients });
  await reader.deps.directory.saveInstance(
    newInstance({ realmId: 'demo', instanceId: 'ddm-throttle' }),
    undefined,
  );
  token = await t.token();
});
afterEach(() => {
  armed = undefined;
  throttledCalls = 0;
  passed.clear();
});
afterAll(() => t.close());

async function secretNames(): Promise<string[]> {
  const out = await reader.secretsManager.send(new ListSecretsCommand({ MaxResults: 100 }));
  return (out.SecretList ?? []).map((s) => s.Name ?? '').sort();
}

interface Case {
  name: string;
  service: Service;
  command: string;
  /** Calls of `command` that pass before the throttling starts. */
  skip?: number;
  /** Secrets created before the throttled call (and deleted after it, unless left to the sweeper). */
  created?: number;
  /**
   * The throttled call was the credential switch, and the fence after it (a write too) was
   * throttled as well: whether the switch may still land is unknown, so its secret stays,
   * referenced by no credential, for the sweeper (docs/security.md, "Write order").
   */
  leftForSweeper?: boolean;
  request: () => { method: string; path: string; headers: Record<string, string>; body?: string };
  /** The dialect's 429 body. */
  body: Record<string, unknown>;
}

const json = { 'content-type': 'application/json' };

const CASES: Case[] = [
  {
    name: 'OCI uiPassword, the user read throttled',
    service: 'dynamodb',
    command: 'GetItemCommand',
    request: () => ({
      method: 'POST',
      path: '/20160918/users/u-alice/uiPassword',
      headers: { authorization: `Bearer ${token}` },
    }),
    body: { code: 'TooManyRequests', message: 'The directory is receiving too many requests; retry later.' },
  },
  {
    name: 'OCI uiPassword, the credential switch throttled after the secret was stored',
    service: 'dynamodb',
    command: 'PutItemCommand',
    // The first PutItem indexes the secret about to be created; the second switches the credential.
    skip: 1,
    created: 1,
    leftForSweeper: true,
    request: () => ({
      method: 'POST',
      path: '/20160918/users/u-bob/uiPassword',
      headers: { authorization: `Bearer ${token}` },
    }),
    body: { code: 'TooManyRequests', message: 'The directory is receiving too many requests; retry later.' },
  },
  {
    name: 'OCI changepassword, the username look-up throttled',
    service: 'dynamodb',
    command: 'QueryCommand',
    request: () => ({
      method: 'PUT',
      path: '/20160918/changepassword',
      headers: json,
      body: JSON.stringify({
        username: 'alice',
        currentPassword: 'Not-The-Password-1',
        newPassword: 'Brand-New-Pass-42',
      }),
    }),
    body: { code: 'TooManyRequests', message: 'The directory is receiving too many requests; retry later.' },
  },
  {
    name: 'Huawei random-password, the secret creation throttled',
    service: 'secretsmanager',
    command: 'CreateSecretCommand',
    request: () => ({
      method: 'GET',
      path: '/v2/demo/users/u-alice/random-password',
      headers: { 'x-auth-token': token },
    }),
    body: {
      error_code: expect.stringMatching(/\.0013$/),
      error_msg: 'The vault is receiving too many requests; retry later.',
    },
  },
  {
    name: 'Alibaba CloudSSO ResetUserPassword, the user read throttled',
    service: 'dynamodb',
    command: 'GetItemCommand',
    request: () => ({
      method: 'POST',
      path: '/cloudsso/2021-05-15/ResetUserPassword?DirectoryId=demo&UserId=u-bob&GenerateRandomPassword=True',
      headers: { authorization: `Bearer ${token}` },
    }),
    body: {
      RequestId: expect.any(String),
      Code: 'Throttling',
      Message: 'The directory is receiving too many requests; retry later.',
    },
  },
  {
    name: 'Huawei DDM admin-user, the secret creation throttled',
    service: 'secretsmanager',
    command: 'CreateSecretCommand',
    request: () => ({
      method: 'PUT',
      path: '/v3/demo/instances/ddm-throttle/admin-user',
      headers: { 'x-auth-token': token, ...json },
      body: JSON.stringify({ name: 'root_admin', password: 'Ddm-Admin-2026' }),
    }),
    body: {
      error_code: expect.stringMatching(/\.0013$/),
      error_msg: 'The vault is receiving too many requests; retry later.',
    },
  },
];

describe('AWS throttling', () => {
  it.each(CASES)(
    '$name: 429 in the dialect, nothing written, no secret left but to the sweeper',
    async (c) => {
      const users = await Promise.all(['u-alice', 'u-bob'].map((id) => t.getUser(id)));
      const instance = await reader.deps.directory.getInstance('ddm-throttle');
      const secrets = await secretNames();

      armed = { service: c.service, command: c.command, ...(c.skip ? { skip: c.skip } : {}) };
      const { method, path, headers, body } = c.request();
      const res = await t.request(method, path, { headers, ...(body !== undefined ? { body } : {}) });
      armed = undefined;

      expect(throttledCalls).toBeGreaterThan(0);
      expect(passed.get('CreateSecretCommand') ?? 0).toBe(c.created ?? 0);
      expect(res.status).toBe(429);
      expect(res.json).toEqual(c.body);
      expect(await Promise.all(['u-alice', 'u-bob'].map((id) => t.getUser(id)))).toEqual(users);
      expect(await reader.deps.directory.getInstance('ddm-throttle')).toEqual(instance);
      const left = (await secretNames()).filter((name) => !secrets.includes(name));
      if (!c.leftForSweeper) expect(left).toEqual([]);
      else {
        expect(left).toHaveLength(1);
        const referenced = (await Promise.all(['u-alice', 'u-bob'].map((id) => t.getUser(id)))).map(
          (user) => user?.credential?.secretId ?? '',
        );
        expect(referenced.some((arn) => arn.includes(left[0] ?? '-'))).toBe(false);
      }
    },
  );

  it('a control: the same requests succeed once nothing is throttled', async () => {
    for (const c of CASES.filter((c) => c.service === 'secretsmanager')) {
      const { method, path, headers, body } = c.request();
      const res = await t.request(method, path, { headers, ...(body !== undefined ? { body } : {}) });
      expect(res.status).toBe(200);
    }
    expect(throttledCalls).toBe(0);
  });
});
