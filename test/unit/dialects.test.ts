import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { Logger } from '#adapters/logger.ts';
import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  MethodNotAllowedError,
  NotAuthenticatedError,
  NotFoundError,
  PreconditionFailedError,
  type RekeyError,
  ThrottledError,
  UnavailableError,
} from '#core/errors.ts';
import { alibaba } from '#dialects/alibaba.ts';
import type { Dialect } from '#dialects/dialect.ts';
import { huawei } from '#dialects/huawei.ts';
import { oci } from '#dialects/oci.ts';
import { HTTP_FUNCTION_TIMEOUT_SECONDS } from '#functions/contracts.ts';
import { httpHandler } from '#http/http-handler.ts';
import type { HttpEvent } from '#http/request.ts';

/** One error of each kind, without a reason unless the case is about one. */
const errors = {
  InvalidInput: new InvalidInputError('bad input'),
  NotAuthenticated: new NotAuthenticatedError('who are you'),
  Forbidden: new ForbiddenError('not yours'),
  NotFound: new NotFoundError('User', 'no such user'),
  MethodNotAllowed: new MethodNotAllowedError('not this method'),
  Conflict: new ConflictError('changed meanwhile'),
  PreconditionFailed: new PreconditionFailedError('expired'),
  Throttled: new ThrottledError('slow down'),
  Unavailable: new UnavailableError('backend down'),
} satisfies Record<RekeyError['kind'], RekeyError>;

type Kind = keyof typeof errors;

function expectMapping(dialect: Dialect, table: Record<Kind, [number, string]>) {
  for (const [kind, [status, code]] of Object.entries(table) as Array<[Kind, [number, string]]>) {
    expect(dialect.mapError(errors[kind]), `${dialect.name} ${kind}`).toEqual({ status, code });
  }
}

describe('oci dialect', () => {
  it('maps each kind of error to OCI’s status and code', () => {
    expectMapping(oci, {
      InvalidInput: [400, 'InvalidParameter'],
      NotAuthenticated: [401, 'NotAuthenticated'],
      Forbidden: [403, 'NotAuthorized'],
      NotFound: [404, 'NotAuthorizedOrNotFound'],
      MethodNotAllowed: [405, 'MethodNotAllowed'],
      Conflict: [409, 'Conflict'],
      PreconditionFailed: [412, 'PreconditionFailed'],
      Throttled: [429, 'TooManyRequests'],
      // OCI documents no 503 for these operations: a failing dependency is its 500.
      Unavailable: [500, 'InternalServerError'],
    });
  });

  it('refines codes by reason where OCI has a code of its own', () => {
    // Issue 11: not IncorrectState, which the OCI SDKs' default retry policy retries.
    expect(oci.mapError(new ConflictError('x', { reason: 'Federated' }))).toEqual({
      status: 409,
      code: 'Conflict',
    });
    // A retry token used for another request: waiting changes nothing either.
    expect(oci.mapError(new ConflictError('x', { reason: 'RetryTokenReuse' }))).toEqual({
      status: 409,
      code: 'Conflict',
    });
    // What clears by itself is IncorrectState, which the OCI SDKs retry with backoff.
    expect(oci.mapError(new ConflictError('x', { reason: 'RequestInProgress' }))).toEqual({
      status: 409,
      code: 'IncorrectState',
    });
    // The SDK's retries of IncorrectState (8 attempts, about 95 s of backoff) outlast any
    // in-progress claim, which lives at most as long as the function (a crashed first call's
    // claim expires within it): raising the timeout past a minute would make them give up.
    expect(HTTP_FUNCTION_TIMEOUT_SECONDS).toBeLessThanOrEqual(60);
    // Another request's change of the user is not retried: a retry would undo it.
    expect(oci.mapError(new ConflictError('x', { reason: 'ConcurrentUpdate' }))).toEqual({
      status: 409,
      code: 'Conflict',
    });
    expect(oci.mapError(new InvalidInputError('x', { reason: 'MissingParameter' }))).toEqual({
      status: 400,
      code: 'MissingParameter',
    });
    for (const reason of ['MalformedJson', 'MalformedBody']) {
      expect(oci.mapError(new InvalidInputError('x', { reason }))).toEqual({
        status: 400,
        code: 'CannotParseRequest',
      });
    }
    expect(oci.mapError(new InvalidInputError('x', { reason: 'DuplicateField' }))).toEqual({
      status: 400,
      code: 'InvalidParameter',
    });
  });

  it('writes {code, message} bodies and the opc-request-id header', () => {
    const mapping = oci.mapError(errors.NotFound);
    expect(oci.errorBody(mapping, 'no such user', 'req-1')).toEqual({
      code: 'NotAuthorizedOrNotFound',
      message: 'no such user',
    });
    expect(oci.headers('req-1')).toEqual({ 'opc-request-id': 'req-1' });
    expect(oci.successBody({ a: 1 }, 'req-1')).toEqual({ a: 1 });
    expect(oci.internal).toEqual({ status: 500, code: 'InternalServerError' });
  });
});

describe('huawei dialect', () => {
  it('maps each kind of error to a status and an IAM.NNNN code', () => {
    expectMapping(huawei('IAM'), {
      InvalidInput: [400, 'IAM.0011'],
      NotAuthenticated: [401, 'IAM.0001'],
      Forbidden: [403, 'IAM.0003'],
      NotFound: [404, 'IAM.0004'],
      MethodNotAllowed: [405, 'IAM.0005'],
      Conflict: [409, 'IAM.0009'],
      PreconditionFailed: [412, 'IAM.0012'],
      Throttled: [429, 'IAM.0013'],
      Unavailable: [503, 'IAM.0015'],
    });
  });

  it('prefixes codes with the service it speaks for', () => {
    expect(huawei('DDM').mapError(errors.NotFound)).toEqual({ status: 404, code: 'DDM.0004' });
    expect(huawei('DDM').internal).toEqual({ status: 500, code: 'DDM.0500' });
    expect(huawei('IAM').internal).toEqual({ status: 500, code: 'IAM.0500' });
  });

  it('writes {error_code, error_msg} bodies and the X-Request-Id header', () => {
    const iam = huawei('IAM');
    expect(iam.errorBody(iam.mapError(errors.Forbidden), 'not yours', 'req-2')).toEqual({
      error_code: 'IAM.0003',
      error_msg: 'not yours',
    });
    expect(iam.headers('req-2')).toEqual({ 'x-request-id': 'req-2' });
    expect(iam.successBody({ a: 1 }, 'req-2')).toEqual({ a: 1 });
  });
});

describe('alibaba dialect', () => {
  it('maps each kind of error to a status and an Alibaba code', () => {
    expectMapping(alibaba, {
      InvalidInput: [400, 'InvalidParameter'],
      NotAuthenticated: [401, 'InvalidSecurityToken'],
      Forbidden: [403, 'NoPermission'],
      // A NotFoundError always names its entity, which refines the code.
      NotFound: [404, 'EntityNotExists.User'],
      MethodNotAllowed: [405, 'UnsupportedHTTPMethod'],
      Conflict: [409, 'OperationConflict'],
      PreconditionFailed: [412, 'OperationFailed'],
      Throttled: [429, 'Throttling'],
      Unavailable: [503, 'ServiceUnavailable'],
    });
  });

  it('refines a code by its reason, Alibaba style, except for throttling', () => {
    expect(alibaba.mapError(new InvalidInputError('x', { reason: 'Password' })).code).toBe(
      'InvalidParameter.Password',
    );
    expect(alibaba.mapError(new ConflictError('x', { reason: 'Federated' })).code).toBe(
      'OperationConflict.Federated',
    );
    expect(alibaba.mapError(new ThrottledError('x', { reason: 'Burst' })).code).toBe('Throttling');
    // A reason that only repeats the code (a common parameter out of shape) does not double it.
    expect(alibaba.mapError(new InvalidInputError('x', { reason: 'InvalidParameter' })).code).toBe(
      'InvalidParameter',
    );
  });

  it("puts the request id in every body, error or success, and in Alibaba's x-acs-request-id header", () => {
    expect(alibaba.errorBody(alibaba.mapError(errors.Forbidden), 'not yours', 'req-3')).toEqual({
      RequestId: 'req-3',
      Code: 'NoPermission',
      Message: 'not yours',
    });
    expect(alibaba.successBody({ Ok: true }, 'req-3')).toEqual({ RequestId: 'req-3', Ok: true });
    expect(alibaba.headers('req-3')).toEqual({ 'x-acs-request-id': 'req-3' });
    expect(alibaba.internal).toEqual({ status: 500, code: 'InternalError' });
  });

  it('answers an Action or Version rekey does not serve (a NotFound of the Route) with InvalidAction.NotFound', () => {
    expect(alibaba.mapError(new NotFoundError('Route', 'x'))).toEqual({
      status: 404,
      code: 'InvalidAction.NotFound',
    });
    expect(alibaba.mapError(new NotFoundError('User', 'x'))).toEqual({
      status: 404,
      code: 'EntityNotExists.User',
    });
  });
});

describe("OCI's opc-request-id", () => {
  it("keeps the client's own id as the leading part, as OCI's services do", () => {
    const client = '6F3C1A2B9D4E11EE-8F1B-0242AC120002';
    expect(oci.headers('srv-1', client)).toEqual({ 'opc-request-id': `${client}/srv-1` });
    expect(oci.headers('srv-1')).toEqual({ 'opc-request-id': 'srv-1' });
    expect(oci.clientRequestIdHeader).toBe('opc-request-id');
  });

  it.each([
    ['32 hex digits (Python, Java, Go SDKs)', '6F3C1A2B9D4E11EE8F1B0242AC120002'],
    ['a UUID with its dashes', '6f3c1a2b-9d4e-11ee-8f1b-0242ac120002'],
  ])('keeps a client id of %s', (_what, client) => {
    expect(oci.headers('srv-1', client)['opc-request-id']).toBe(`${client}/srv-1`);
  });

  it.each([
    ['too long', 'A'.repeat(65)],
    ['a slash (it would split as ours)', 'abc/def'],
    ['a newline', 'abc\r\nx-injected: 1'],
    ['markup', '<script>'],
    ['a space', 'abc def'],
    ['non-ASCII', 'ab\u00e9'],
    ['empty', ''],
    ['a shape no SDK sends, which could be a password', 'Blue-Kettle-Orchard-42'],
    ['a hand-made id', 'CHANGE-1'],
    ['a UUID with one digit more', '6F3C1A2B9D4E11EE-8F1B-0242AC1200021'],
  ])('drops a client id with %s, echoing nothing of it', (_what, client) => {
    expect(oci.headers('srv-1', client)).toEqual({ 'opc-request-id': 'srv-1' });
  });

  it('is for OCI only: other dialects ignore it', () => {
    expect(huawei('IAM').clientRequestIdHeader).toBeUndefined();
    expect(alibaba.clientRequestIdHeader).toBeUndefined();
  });
});

describe('httpHandler error boundary', () => {
  const event = {
    routeKey: 'POST /test',
    requestContext: { requestId: 'req-9' },
  } as unknown as HttpEvent;
  const context = {
    functionName: 'test',
    awsRequestId: 'req-9',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
    memoryLimitInMB: '128',
    getRemainingTimeInMillis: () => 1000,
  } as unknown as Context;
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });

  it.each([
    ['oci', oci, { code: 'NotAuthorized', message: 'not yours' }, { 'opc-request-id': 'req-9' }],
    [
      'huawei',
      huawei('IAM'),
      { error_code: 'IAM.0003', error_msg: 'not yours' },
      { 'x-request-id': 'req-9' },
    ],
    ['alibaba', alibaba, { RequestId: 'req-9', Code: 'NoPermission', Message: 'not yours' }, {}],
  ])('answers a domain error in the %s shape', async (_name, dialect, body, headers) => {
    const handler = httpHandler({ dialect, logger }, async () => {
      throw new ForbiddenError('not yours');
    });
    const result = await handler(event, context);
    expect(result.statusCode).toBe(403);
    expect(JSON.parse(result.body ?? '')).toEqual(body);
    expect(result.headers).toMatchObject({ 'cache-control': 'no-store', ...headers });
  });

  it.each([
    ['oci', oci],
    ['huawei', huawei('IAM')],
    ['alibaba', alibaba],
  ])('answers any other error (%s) with a generic 500 that reveals nothing of it', async (_name, dialect) => {
    const handler = httpHandler({ dialect, logger }, async () => {
      throw new TypeError('secret internals: Hunter2-password at /var/task/x.js');
    });
    const result = await handler(event, context);
    expect(result.statusCode).toBe(500);
    expect(result.body).toContain(dialect.internal.code);
    expect(result.body).not.toMatch(/Hunter2|internals|TypeError/);
  });

  it('adds the request id where the dialect puts it on success', async () => {
    const handler = httpHandler({ dialect: alibaba, logger }, async () => ({ body: { Done: true } }));
    const result = await handler(event, context);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? '')).toEqual({ RequestId: 'req-9', Done: true });
  });
});
