/**
 * dynamodb-api.ts against `@aws-sdk/client-dynamodb`: for each of the five calls rekey makes,
 * the request on the wire is the one the SDK's client sends for the same input (endpoint,
 * target, content type, credential scope, the same JSON), its signature verifies, and
 * DynamoDB's answers and refusals are read as the SDK reads them: items (binary members
 * included), the failed condition's item, error names and retry decisions.
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '#adapters/aws-clients.ts';
import { createDynamoDb, type DynamoDb, isConditionFailure } from '#adapters/dynamodb-api.ts';
import { serviceFailure } from '#adapters/service-errors.ts';
import { createRequestVerifier } from '#infra/local/sigv4-verifier.ts';
import {
  bothWays,
  type RecordedRequest,
  recordingTransport,
  type ScriptedAnswer,
  TEST_CREDENTIALS,
  through,
  wire,
} from '#test/support/aws-transport.ts';
import { sdkDynamoDb } from '#test/support/dynamodb.ts';

type Method = Exclude<keyof DynamoDb, 'destroy'>;

/**
 * The same interface twice: over the SDK's client as rekey configured it before (three
 * attempts, where the DynamoDB client's own default is four), and rekey's.
 */
const viaSdk = (options: object) => sdkDynamoDb(createDynamoDbClient(options));
const viaCall = (options: object) => createDynamoDb(options);

/** An item with every kind of attribute value, binary ones included. */
const RECORD = {
  pk: 'USER#u-1',
  sk: 'USER',
  version: 3,
  ratio: 0.25,
  name: 'Zoë "quoted" \\ back',
  active: true,
  gone: null,
  credential: { hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', history: ['h1', 'h2'] },
  tags: new Set(['a', 'b']),
  counts: new Set([1, 2]),
  blob: new Uint8Array([0, 1, 2, 250, 255]),
  blobs: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]),
};
const ITEM = marshall(RECORD);
const KEY = marshall({ pk: 'USER#u-1', sk: 'USER' });

/** Each call as rekey makes it (functions/adapters/dynamodb-directory.ts, idempotency.ts). */
const CALLS: Array<[Method, Record<string, unknown>]> = [
  ['getItem', { TableName: 'rekey', Key: KEY, ConsistentRead: true }],
  [
    'putItem',
    {
      TableName: 'rekey',
      Item: ITEM,
      ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: marshall({ ':expected': 2 }),
    },
  ],
  [
    'updateItem',
    {
      TableName: 'rekey',
      Key: KEY,
      UpdateExpression: 'SET #version = #version + :one, failedAttempts = failedAttempts + :one',
      ConditionExpression: 'attribute_exists(pk) AND credential.#hash = :hash',
      ExpressionAttributeNames: { '#version': 'version', '#hash': 'hash' },
      ExpressionAttributeValues: marshall({ ':one': 1, ':hash': 'h' }),
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  ],
  [
    'deleteItem',
    {
      TableName: 'rekey',
      Key: KEY,
      ConditionExpression: '#owner = :id',
      ExpressionAttributeNames: { '#owner': 'userId' },
      ExpressionAttributeValues: marshall({ ':id': 'u-1' }),
    },
  ],
  [
    'query',
    {
      TableName: 'rekey',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: marshall({ ':pk': 'SECRET#' }),
      Limit: 100,
      ExclusiveStartKey: marshall({ pk: 'SECRET#', sk: 'rekey/temp/x' }),
      ConsistentRead: true,
    },
  ],
];

const call = (db: DynamoDb, method: Method, input: Record<string, unknown>) =>
  (db[method] as (input: unknown) => Promise<unknown>)(input);

/** A DynamoDB answer: JSON 1.0, as the service sends it. */
const answer = (status: number, body: unknown): ScriptedAnswer => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'r-1' },
  body: JSON.stringify(body),
});

/** ITEM as DynamoDB's JSON carries it: binary members in base64. */
const ITEM_ON_THE_WIRE = JSON.parse(
  JSON.stringify(ITEM, (_key, value) =>
    value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value,
  ),
);

/** A DynamoDB refusal, `__type` as the service sends it. */
const refusal = (status: number, code: string, extra: Record<string, unknown> = {}) =>
  answer(status, { __type: `com.amazonaws.dynamodb.v20120810#${code}`, message: `${code} here`, ...extra });

/** The SDK's answer without its response metadata, which rekey's leaves out. */
function withoutMetadata(out: unknown) {
  const { $metadata: _metadata, ...rest } = out as Record<string, unknown>;
  return rest;
}

describe('the wire, against the SDK client for the same input', () => {
  it.each(CALLS)(
    '%s: same endpoint, target, content type, scope, and the same JSON',
    async (method, input) => {
      const [sdk, rekey] = await bothWays(
        (options) => call(viaSdk(options), method, input),
        (options) => call(viaCall(options), method, input),
      );
      expect(wire(rekey)).toEqual(wire(sdk));
      expect(wire(rekey)).toMatchObject({
        hostname: 'dynamodb.eu-west-1.amazonaws.com',
        contentType: 'application/x-amz-json-1.0',
        scope: 'eu-west-1/dynamodb/aws4_request',
      });
      expect(JSON.parse(rekey.body)).toEqual(JSON.parse(sdk.body));
    },
  );

  it('sends binary members as base64, as the SDK does', async () => {
    const [sdk, rekey] = await bothWays(
      (options) => viaSdk(options).putItem({ TableName: 'rekey', Item: ITEM }),
      (options) => viaCall(options).putItem({ TableName: 'rekey', Item: ITEM }),
    );
    expect(JSON.parse(rekey.body).Item.blob).toEqual({ B: 'AAEC+v8=' });
    expect(JSON.parse(rekey.body)).toEqual(JSON.parse(sdk.body));
  });

  it('sends a Buffer member as base64 too, not as its toJSON object', async () => {
    const input = { TableName: 'rekey', Item: marshall({ pk: 'USER#u-1', blob: Buffer.from([1, 2, 3]) }) };
    const [sdk, rekey] = await bothWays(
      (options) => viaSdk(options).putItem(input),
      (options) => viaCall(options).putItem(input),
    );
    expect(JSON.parse(rekey.body).Item.blob).toEqual({ B: 'AQID' });
    expect(JSON.parse(rekey.body)).toEqual(JSON.parse(sdk.body));
  });

  it.each(['us-east-1', 'eu-central-2', 'cn-north-1', 'us-gov-west-1', 'ap-southeast-7'])(
    'resolves the endpoint in %s as the SDK does',
    async (region) => {
      const [sdk, rekey] = await bothWays(
        (options) => viaSdk(options).getItem({ TableName: 'rekey', Key: KEY }),
        (options) => viaCall(options).getItem({ TableName: 'rekey', Key: KEY }),
        region,
      );
      expect(wire(rekey)).toEqual(wire(sdk));
    },
  );
});

describe('the endpoint configured by environment', () => {
  const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    else process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
  });

  it('takes AWS_ENDPOINT_URL_DYNAMODB, as the SDK does', async () => {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:8000';
    const [sdk, rekey] = await bothWays(
      (options) => viaSdk(options).getItem({ TableName: 'rekey', Key: KEY }),
      (options) => viaCall(options).getItem({ TableName: 'rekey', Key: KEY }),
    );
    expect(rekey.hostname).toBe('127.0.0.1');
    expect(rekey.port).toBe(8000);
    expect(wire(rekey)).toEqual(wire(sdk));
  });
});

describe('the signature', () => {
  it('verifies under the local verifier, and binds the body and the operation', async () => {
    const verify = createRequestVerifier({ credentials: TEST_CREDENTIALS });
    const { transport, requests } = recordingTransport(() => answer(200, {}));
    await viaCall(through(transport)).putItem({ TableName: 'rekey', Item: ITEM });
    const [request] = requests as [RecordedRequest];
    const received = { method: request.method, url: request.path, headers: request.headers };
    expect(request.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-target/);
    expect(await verify(received, Buffer.from(request.body))).toBeUndefined();
    expect(await verify(received, Buffer.from(`${request.body} `))).toMatchObject({ status: 403 });
  });
});

describe('answers', () => {
  /** One answer read both ways: what each side resolves or rejects with, and its request count. */
  async function readBothWays(method: Method, input: Record<string, unknown>, script: () => ScriptedAnswer) {
    const sdk = recordingTransport(script);
    const rekey = recordingTransport(script);
    const settle = (p: Promise<unknown>): Promise<{ out?: unknown; error?: unknown }> =>
      p.then(
        (out) => ({ out }),
        (error: unknown) => ({ error }),
      );
    return {
      sdk: {
        ...(await settle(call(viaSdk(through(sdk.transport)), method, input))),
        sent: sdk.requests.length,
      },
      rekey: {
        ...(await settle(call(viaCall(through(rekey.transport)), method, input))),
        sent: rekey.requests.length,
      },
    };
  }

  it('reads an item, binary members and sets included, as the SDK does', async () => {
    const { sdk, rekey } = await readBothWays('getItem', CALLS[0]?.[1] ?? {}, () =>
      answer(200, { Item: ITEM_ON_THE_WIRE }),
    );
    expect(rekey.out).toEqual(withoutMetadata(sdk.out));
    expect(unmarshall((rekey.out as { Item: never }).Item)).toEqual(RECORD);
  });

  it('reads a page of a query, and its next key, as the SDK does', async () => {
    const page = { Items: [ITEM_ON_THE_WIRE], Count: 1, ScannedCount: 1, LastEvaluatedKey: KEY };
    const { sdk, rekey } = await readBothWays('query', CALLS[4]?.[1] ?? {}, () => answer(200, page));
    expect(rekey.out).toEqual(withoutMetadata(sdk.out));
  });

  it('reads an update that landed, and an empty answer, as the SDK does', async () => {
    const updated = await readBothWays('updateItem', CALLS[2]?.[1] ?? {}, () =>
      answer(200, { Attributes: ITEM_ON_THE_WIRE }),
    );
    expect(updated.rekey.out).toEqual(withoutMetadata(updated.sdk.out));
    const put = await readBothWays('putItem', CALLS[1]?.[1] ?? {}, () => answer(200, {}));
    expect(put.rekey.out).toEqual(withoutMetadata(put.sdk.out));
    const nothing = await readBothWays('deleteItem', CALLS[3]?.[1] ?? {}, () => answer(200, null));
    expect(nothing.rekey.out).toEqual({});
    expect(nothing.rekey.out).toEqual(withoutMetadata(nothing.sdk.out));
  });

  it('refuses an answer with an attribute named __proto__, which would set a record’s prototype', async () => {
    const { transport } = recordingTransport(() => ({
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: '{"Item":{"pk":{"S":"USER#u-1"},"__proto__":{"M":{"admin":{"BOOL":true}}}}}',
    }));
    const error = await viaCall(through(transport))
      .getItem({ TableName: 'rekey', Key: KEY })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(serviceFailure('directory', error)).toBeInstanceOf(Error);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('reads a failed condition, with the item it saw, as the SDK does, and does not retry it', async () => {
    const { sdk, rekey } = await readBothWays('updateItem', CALLS[2]?.[1] ?? {}, () =>
      refusal(400, 'ConditionalCheckFailedException', { Item: ITEM_ON_THE_WIRE }),
    );
    expect(isConditionFailure(sdk.error)).toBe(true);
    expect(isConditionFailure(rekey.error)).toBe(true);
    const item = (error: unknown) => (error as { Item?: Record<string, never> }).Item;
    expect(item(rekey.error)).toEqual(item(sdk.error));
    expect(unmarshall(item(rekey.error) ?? {})).toEqual(RECORD);
    expect([rekey.sent, sdk.sent]).toEqual([1, 1]);
  });

  it.each([
    ['ConditionalCheckFailedException', 400],
    ['ProvisionedThroughputExceededException', 400],
    ['ThrottlingException', 400],
    ['RequestLimitExceeded', 400],
    ['TransactionConflictException', 400],
    ['ResourceNotFoundException', 400],
    ['ValidationException', 400],
    ['ItemCollectionSizeLimitExceededException', 400],
    ['ReplicatedWriteConflictException', 400],
    ['InternalServerError', 500],
    ['ServiceUnavailable', 503],
  ])('names a %s refusal as the SDK client does, and decides its retry alike', async (code, status) => {
    const { sdk, rekey } = await readBothWays('putItem', CALLS[1]?.[1] ?? {}, () => refusal(status, code));
    expect((rekey.error as Error).name).toBe((sdk.error as Error).name);
    expect((rekey.error as Error).message).toBe((sdk.error as Error).message);
    expect(rekey.sent).toBe(sdk.sent);
    expect(serviceFailure('directory', rekey.error).constructor).toBe(
      serviceFailure('directory', sdk.error).constructor,
    );
  });

  it('retries a transport failure, and succeeds when the next attempt does', async () => {
    const script = (_request: RecordedRequest, n: number) => {
      if (n === 1) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      return answer(200, { Item: ITEM_ON_THE_WIRE });
    };
    const { sdk, rekey } = await readBothWays('getItem', CALLS[0]?.[1] ?? {}, script as never);
    expect(rekey.out).toEqual(withoutMetadata(sdk.out));
    expect([rekey.sent, sdk.sent]).toEqual([2, 2]);
  });
});
