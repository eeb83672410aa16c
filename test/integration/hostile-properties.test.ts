/**
 * Properties over every route's handler, with arbitrary requests: bodies (JSON of any shape,
 * raw text, bytes), query strings, path ids, headers and tokens, mixed with valid pieces so
 * that some requests do succeed. For any of them:
 *
 * - the answer is a 2xx with the route's documented response shape, or a 4xx in the route's
 *   dialect — never a 5xx;
 * - a refused request writes nothing (table and vault unchanged), with one documented
 *   exception: change-password's refusals after sign-in touch the user they name — a 401
 *   counts the failed attempt; a policy 400, a 409 or a 412 after a right password gives
 *   back the attempt counted before the check (the count and lock as they were);
 * - a 400 costs no argon2id call (input is refused before anything is hashed), except
 *   change-password's password-policy check, which runs after authentication;
 * - a query parameter the route does not define is a 400, whatever else the request holds
 *   (uiPassword and DDM once ignored their query and went ahead);
 * - no prototype is polluted, in this same warm process.
 *
 * The handlers are invoked directly (`createHandler(runtime)`, as the local gateway does)
 * with API Gateway payload 2.0 events, behind the real token authorizer over the development
 * key; the table and the vault are the embedded backend's.
 */
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '#adapters/runtime.ts';
import { NOT_AUTHENTICATED_MESSAGE } from '#core/authentication.ts';
import { newInstance, newRealm, newUser } from '#core/factories.ts';
import { createHandler as changePasswordHandler } from '#functions/change-password/handler.ts';
import { createHandler as uiPasswordHandler } from '#functions/create-or-reset-ui-password/handler.ts';
import { uiPasswordResponse } from '#functions/create-or-reset-ui-password/openapi.ts';
import { createHandler as ddmHandler } from '#functions/manage-ddm-admin/handler.ts';
import { createHandler as passwordPageHandler } from '#functions/password-page/handler.ts';
import { createHandler as randomPasswordHandler } from '#functions/reset-random-password/handler.ts';
import { randomPasswordResponse } from '#functions/reset-random-password/openapi.ts';
import { createHandler as resetUserPasswordHandler } from '#functions/reset-user-password/handler.ts';
import { resetUserPasswordResponse } from '#functions/reset-user-password/openapi.ts';
import { ROUTES, type RouteDefinition } from '#functions/routes.ts';
import { createHandler as ticketIntakeHandler } from '#functions/ticket-intake/handler.ts';
import { createHandler as createTokenAuthorizer } from '#functions/token-authorizer/authorizer.ts';
import type { HttpEvent } from '#http/request.ts';
import { verifyToken } from '#infra/local/dev-tokens.ts';
import { argon2Counter } from '#test/support/argon2-counter.ts';
import { scanTable } from '#test/support/dynamodb.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';
import { createTestConnector } from '#test/support/ticketing-systems.ts';

type Handler = (event: HttpEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type DialectName = 'oci' | 'huawei' | 'alibaba' | 'rekey';

let t: TestApi;
let reader: Runtime;
const argon2 = argon2Counter();
let requestCount = 0;
let prototypeKeys: string[];
/** Tokens by what they are; arbitraries pick a name, the run sends the token. */
const tokens: Record<string, string> = {};
let authorize: ReturnType<typeof createTokenAuthorizer>;
const handlers = new Map<string, Handler>();
/** The ticket intake's connector secret, and what it put on its (recording) bus. */
let intakeSecret = '';
/** The sentinel of a header that carries the intake connector's secret (swapped in at run time). */
const INTAKE_SECRET = '$intake-secret';
const busPuts: unknown[] = [];

/** Sentinels an arbitrary may put where a password goes; the run swaps in a real one. */
const CURRENT = '$current';
const FRESH = '$fresh';
/** pat's current password, as the model knows it: a successful change moves it on. */
let patCurrent = 'Pat-Current-Passw1';
let freshCounter = 0;
/** A new password every policy in play accepts (OCI 12–40 with three classes, CloudSSO and DDM specials). */
const freshPassword = () => `Fresh#Pw${++freshCounter}x${Date.now() % 100000}Q`;

beforeAll(async () => {
  prototypeKeys = Reflect.ownKeys(Object.prototype).map(String).sort();
  t = await startTestApi({
    customizeRuntime: (_operation, runtime) => ({
      ...runtime,
      deps: { ...runtime.deps, hasher: argon2.wrap(runtime.deps.hasher) },
    }),
  });
  reader = t.runtime();
  const directory = reader.deps.directory;
  await directory.createRealm(newRealm('other', 'othercorp'));
  await directory.createUser(newUser({ realmId: 'other', userId: 'u-other', username: 'olga' }));
  for (const instanceId of ['ddm-1', 'ddm-2']) {
    await directory.saveInstance(newInstance({ realmId: 'demo', instanceId }), undefined);
  }
  // pat is change-password's alone: the admin properties reset the demo users' passwords.
  await directory.createUser({
    ...newUser({ realmId: 'demo', userId: 'u-pat', username: 'pat', email: 'pat@example.com' }),
    credential: {
      hash: await reader.deps.hasher.hash(patCurrent),
      kind: 'PERMANENT',
      setAt: new Date().toISOString(),
    },
  });

  tokens.admin = await t.token();
  tokens.otherRealm = await t.token({ realmId: 'other' });
  tokens.noScope = await t.token({ scopes: ['openid'] });
  tokens.expired = await t.token({ ttlSeconds: -60 });
  tokens.wrongAudience = await t.token({ audience: 'someone-else' });
  tokens.garbage = 'not-a-jwt';
  authorize = createTokenAuthorizer((token) => verifyToken(t.api.devKey, token));

  // The intake's connector (Jira: a secret header), and a bus that only records what it gets:
  // the property checks the intake's answers, the worker has tests of its own.
  const { inboundSecret } = await createTestConnector(
    t,
    { id: 'prop-jsm', kind: 'jira', realm: 'demo', replyUrl: 'https://jsm.example.com' },
    '/nonexistent',
  );
  intakeSecret = inboundSecret;
  const modules: Record<string, (runtime: Runtime) => Handler> = {
    'create-or-reset-ui-password': uiPasswordHandler,
    'change-password': changePasswordHandler,
    'reset-random-password': randomPasswordHandler,
    'reset-user-password': resetUserPasswordHandler,
    'manage-ddm-admin': ddmHandler,
    'ticket-intake': (runtime) =>
      ticketIntakeHandler(runtime, {
        requests: { put: async (_source, detail) => void busPuts.push(detail) },
        results: { publish: async (result) => void busPuts.push(result) },
        connectorSecretPrefix: 'rekey/connector/',
      }) as Handler,
    // Built like the others; its hostile inputs (prefill, query) are in hostile-input.test.ts.
    'password-page': passwordPageHandler,
  };
  for (const route of ROUTES) {
    const create = modules[route.operation];
    if (!create) throw new Error(`no handler module for ${route.operation}`);
    handlers.set(route.operation, create(t.runtime(route.operation)));
  }
  // ddm-1's administrator is root from the start, so the valid request always succeeds
  // (another name is a 409 that the arbitraries reach on ddm-2 or here).
  const created = await handlers.get('manage-ddm-admin')?.(
    await eventFor(route('manage-ddm-admin'), {
      method: 'PUT',
      pathParameters: { project_id: 'demo', instance_id: 'ddm-1' },
      query: [],
      headers: { 'content-type': 'application/json' },
      body: { text: JSON.stringify({ name: 'root', password: FRESH }), base64: false },
      token: 'admin',
    }),
    lambdaContext('manage-ddm-admin', 'fixture'),
  );
  if (created?.statusCode !== 200)
    throw new Error(`fixture: ddm-1 got no administrator (${created?.statusCode})`);
  argon2.reset();
});

afterAll(async () => {
  await t?.close();
});

// ---------------------------------------------------------------------------------------
// Requests

interface ArbitraryRequest {
  method: string;
  pathParameters?: Record<string, string>;
  /** Query pairs, each already percent-encoded or deliberately broken. */
  query: ReadonlyArray<readonly [string, string]>;
  headers: Record<string, string>;
  /** The token's name in `tokens`, or none. */
  token?: string | undefined;
  tokenHeader?: 'authorization' | 'x-auth-token';
  body?: { text: string; base64: boolean } | undefined;
}

function route(operation: string): RouteDefinition {
  const found = ROUTES.find((r) => r.operation === operation);
  if (!found) throw new Error(`no route ${operation}`);
  return found;
}

/** The real passwords the current request carries: none may come back in its answer. */
let passwordsSent: string[] = [];

/** Replaces password sentinels with real passwords, at run time (the model moves on). */
function resolve(text: string): string {
  return text
    .replaceAll(CURRENT, () => {
      passwordsSent.push(patCurrent);
      return patCurrent;
    })
    .replaceAll(FRESH, () => {
      const fresh = freshPassword();
      passwordsSent.push(fresh);
      return fresh;
    });
}

/** The event API Gateway would build, behind the token authorizer on admin routes. */
async function eventFor(definition: RouteDefinition, request: ArbitraryRequest): Promise<HttpEvent> {
  const requestId = `prop-${++requestCount}`;
  const headers: Record<string, string> = { ...request.headers };
  for (const [name, value] of Object.entries(headers))
    if (value === INTAKE_SECRET) headers[name] = intakeSecret;
  const token = request.token ? tokens[request.token] : undefined;
  if (token !== undefined) {
    if (request.tokenHeader === 'x-auth-token') headers['x-auth-token'] = token;
    else headers.authorization = `Bearer ${token}`;
  }
  let rawPath = definition.path;
  for (const [name, value] of Object.entries(request.pathParameters ?? {})) {
    rawPath = rawPath.replace(`{${name}}`, encodeURIComponent(value.replace(/\p{Cs}/gu, '\ufffd')));
  }
  const routeKey = `${definition.methods.includes(request.method as never) ? request.method : 'ANY'} ${definition.path}`;
  const authorizer =
    definition.auth === 'admin' ? { lambda: (await authorize({ headers })).context ?? {} } : undefined;
  const body = request.body ? resolve(request.body.text) : undefined;
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: request.query.map(([k, v]) => `${k}=${resolve(v)}`).join('&'),
    headers,
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'fc',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(authorizer ? { authorizer } : {}),
    },
    ...(body !== undefined
      ? {
          body: request.body?.base64 ? Buffer.from(body, 'latin1').toString('base64') : body,
          isBase64Encoded: request.body?.base64 ?? false,
        }
      : { isBase64Encoded: false }),
  } as HttpEvent;
}

function lambdaContext(operation: string, requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `rekey-${operation}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:rekey-${operation}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/rekey-${operation}`,
    logStreamName: 'property',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

// ---------------------------------------------------------------------------------------
// Arbitraries

/** Text an attacker would try: controls, bidi, lone surrogates, look-alikes, keys, sizes. */
const hostileText = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '   ',
    '..',
    '../etc/passwd',
    '*',
    '%00',
    '\u0000',
    'a\u0000b',
    '\u202eecila',
    '\u2066x',
    'al\u200bice',
    '\ud800',
    'x\udc00',
    '\uff41\uff4c\uff49\uff43\uff45',
    'jose\u0301',
    'ali\u00a0ce',
    '__proto__',
    'constructor',
    'arn:aws:iam::123456789012:user/alice',
    'ocid1.user.oc1..aaaaexample',
    'x'.repeat(300),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** A JSON value of any type, for "a wrong type in every field". */
const anyJson = fc.jsonValue({ maxDepth: 2 });

/**
 * Mostly `good`, sometimes not: each piece of a request is hostile with a probability of
 * about one in seven, so that a fair share of requests is entirely valid and succeeds.
 */
function mostly<T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<unknown>): fc.Arbitrary<T | unknown> {
  return fc.oneof({ weight: 12, arbitrary: good }, { weight: 2, arbitrary: bad });
}

/** A value for one field: one of `good`, or hostile text, or another JSON type. */
function field(good: readonly unknown[]): fc.Arbitrary<unknown> {
  return mostly(fc.constantFrom(...good), fc.oneof(hostileText, anyJson));
}

/**
 * The hostile constants shaped like ids (an ARN, an OCID): valid ids, so a route that accepts
 * one as a path id records it (issue 14's audit records name on whom a request was). If the
 * same constant were also sent where a password goes, the suite-wide plaintext check would
 * find a "password" in an audit record that only ever held it as an id — a collision of this
 * file's test data, not a leak. Password fields draw every other hostile value.
 */
const ID_SHAPED = new Set(['arn:aws:iam::123456789012:user/alice', 'ocid1.user.oc1..aaaaexample']);

/** A value for a password field: as `field`, without the id-shaped constants (above). */
function secretField(good: readonly unknown[]): fc.Arbitrary<unknown> {
  return field(good).filter((value) => !(typeof value === 'string' && ID_SHAPED.has(value)));
}

/** Keys an attacker adds to an object. */
const extraKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'isAdmin', 'password', 'x');

/**
 * JSON body text: the fields (optional ones sometimes left out, an extra key now and then),
 * or JSON of another shape altogether, or text that is not JSON.
 */
function jsonBodyText(
  fields: Record<string, fc.Arbitrary<unknown>>,
  optional: string[] = [],
): fc.Arbitrary<string> {
  const required = Object.keys(fields).filter((name) => !optional.includes(name));
  const object = fc
    .tuple(
      fc.oneof(
        { weight: 8, arbitrary: fc.record(fields, { requiredKeys: required }) },
        { weight: 1, arbitrary: fc.record(fields, { requiredKeys: [] }) },
      ),
      fc.oneof(
        { weight: 8, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.tuple(extraKey, anyJson) },
      ),
    )
    .map(([record, extra]) => {
      const value: Record<string, unknown> = { ...record };
      // A defined property is an own property, even `__proto__`, so JSON.stringify writes it.
      if (extra) Object.defineProperty(value, extra[0], { value: extra[1], enumerable: true });
      return JSON.stringify(value);
    });
  return fc.oneof(
    { weight: 12, arbitrary: object },
    { weight: 1, arbitrary: anyJson.map((value) => JSON.stringify(value)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"a":',
        '{"a":1,"a":2}',
        '{"__proto__":{"polluted":"yes"}}',
        '{"constructor":{"prototype":{"polluted":"yes"}}}',
        `{"pad":"${'x'.repeat(17_000)}"}`,
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  );
}

/** A content type: usually the right one, sometimes another or none. */
function contentType(right: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(right) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/xml',
        '',
      ),
    },
  );
}

/** A body: usually text of the given shape, sometimes absent, sometimes raw bytes (not always UTF-8). */
function body(text: fc.Arbitrary<string>): fc.Arbitrary<ArbitraryRequest['body']> {
  return fc.oneof(
    { weight: 12, arbitrary: text.map((value) => ({ text: value, base64: false })) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 40 })
        .map((bytes) => ({ text: Buffer.from(bytes).toString('latin1'), base64: true })),
    },
  );
}

/** Text that `encodeURIComponent` can encode (it throws on a lone surrogate): those go pre-encoded. */
function encoded(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text.startsWith('$')) return text;
  return text
    .split(/(\p{Cs})/u)
    .map((part) => (/^\p{Cs}$/u.test(part) ? '%ED%A0%80' : encodeURIComponent(part)))
    .join('');
}

/**
 * Query pairs: the given ones (values encoded), sometimes with a pair added — a repeated
 * name, a pollution name, an arbitrary one — or a value replaced by a broken escape.
 */
function query(
  pairs: fc.Arbitrary<ReadonlyArray<readonly [string, unknown]>>,
): fc.Arbitrary<ReadonlyArray<readonly [string, string]>> {
  const hostilePair = fc.tuple(
    fc.constantFrom(
      '__proto__',
      '__proto__[x]',
      'constructor[prototype][x]',
      '__proto__.x',
      'x',
      'notification_type',
    ),
    fc.oneof(hostileText.map(encoded), fc.constantFrom('%FF', '%ED%A0%80', '%', '%zz', 'a+b')),
  );
  return fc
    .tuple(
      pairs,
      fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostilePair }),
    )
    .map(([given, extra]) => [
      ...given.map(([name, value]): [string, string] => [name, encoded(value)]),
      ...(extra ? [extra] : []),
    ]);
}

const tokenName = mostly(
  fc.constant('admin'),
  fc.constantFrom(undefined, 'otherRealm', 'noScope', 'expired', 'wrongAudience', 'garbage'),
) as fc.Arbitrary<string | undefined>;

const tokenHeader = fc.constantFrom('authorization' as const, 'x-auth-token' as const);

/** A path id: usually one of `good`, sometimes hostile. */
function pathId(good: readonly string[]): fc.Arbitrary<string> {
  return mostly(fc.constantFrom(...good), hostileText) as fc.Arbitrary<string>;
}

// ---------------------------------------------------------------------------------------
// Checks

async function state(): Promise<{ table: Map<string, string>; vault: string[] }> {
  const Items = await scanTable(t.api.clients, reader.settings.tableName);
  const table = new Map<string, string>();
  for (const item of Items) table.set(`${item.pk?.S}|${item.sk?.S}`, JSON.stringify(item));
  const vault = t.api.backend?.vault?.list('').map((secret) => JSON.stringify(secret)) ?? [];
  return { table, vault };
}

/** The items that differ between two snapshots of the table. */
function changedItems(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((key) => before.get(key) !== after.get(key));
}

function dialectError(dialect: DialectName, result: APIGatewayProxyStructuredResultV2) {
  // biome-ignore lint/suspicious/noExplicitAny: a response body, checked field by field
  const body = JSON.parse(result.body ?? '') as any;
  const headers = result.headers ?? {};
  if (dialect === 'oci') {
    expect(Object.keys(body).sort()).toEqual(['code', 'message']);
    expect(headers['opc-request-id']).toEqual(expect.any(String));
    return { code: body.code as string, message: body.message as string };
  }
  if (dialect === 'huawei') {
    expect(Object.keys(body).sort()).toEqual(['error_code', 'error_msg']);
    expect(headers['x-request-id']).toEqual(expect.any(String));
    return { code: body.error_code as string, message: body.error_msg as string };
  }
  if (dialect === 'rekey') {
    expect(Object.keys(body).sort()).toEqual(['code', 'message', 'requestId']);
    expect(headers['x-request-id']).toEqual(expect.any(String));
    return { code: body.code as string, message: body.message as string };
  }
  expect(Object.keys(body).sort()).toEqual(['Code', 'Message', 'RequestId']);
  return { code: body.Code as string, message: body.Message as string };
}

/** The documented success answer of each route. */
const SUCCESS: Record<string, (result: APIGatewayProxyStructuredResultV2) => void> = {
  'create-or-reset-ui-password': (result) => {
    expect(uiPasswordResponse.safeParse(JSON.parse(result.body ?? '')).success).toBe(true);
    expect(result.headers?.etag).toMatch(/^\d+$/);
    expect(result.headers?.['opc-request-id']).toEqual(expect.any(String));
  },
  'change-password': (result) => {
    expect(result.body).toBe('');
    expect(result.headers?.['opc-request-id']).toEqual(expect.any(String));
  },
  'reset-random-password': (result) => {
    expect(randomPasswordResponse.safeParse(JSON.parse(result.body ?? '')).success).toBe(true);
    expect(result.headers?.['cache-control']).toBe('no-store');
  },
  'reset-user-password': (result) => {
    const { RequestId, ...rest } = JSON.parse(result.body ?? '');
    expect(RequestId).toEqual(expect.any(String));
    expect(resetUserPasswordResponse.safeParse(rest).success).toBe(true);
  },
  'manage-ddm-admin': (result) => {
    expect(result.body).toBe('');
    expect(result.headers?.['x-request-id']).toEqual(expect.any(String));
  },
  'ticket-intake': (result) => {
    expect(result.statusCode).toBe(202);
    expect(JSON.parse(result.body ?? '')).toEqual({ accepted: true, requestId: expect.any(String) });
  },
};

/**
 * Fixture upkeep, outside the property: wrong passwords lock pat out after ten tries, and a
 * locked account never lets a change succeed, which would starve the property of successes.
 */
async function unlockPat(): Promise<void> {
  const { directory } = reader.deps;
  const pat = await directory.getUser('u-pat');
  if (!pat || (pat.failedAttempts === 0 && pat.lockedUntil === undefined)) return;
  const { lockedUntil: _lockedUntil, ...unlocked } = pat;
  await directory.saveUser({ ...unlocked, failedAttempts: 0, version: pat.version + 1 }, pat.version);
}

/** A user item's lock-out bookkeeping, as stored. */
function attemptsOf(item: string | undefined): unknown {
  const parsed = item ? JSON.parse(item) : {};
  return [parsed.failedAttempts, parsed.lockedUntil];
}

/** The query parameters each route defines (its seed's); any other name must be a 400. */
const DEFINED_QUERY: Record<string, readonly string[]> = {
  'create-or-reset-ui-password': [],
  'change-password': ['username', 'currentPassword', 'newPassword', 'tenancy'],
  'reset-random-password': ['notification_type'],
  'reset-user-password': [
    'DirectoryId',
    'UserId',
    'Password',
    'GenerateRandomPassword',
    'RequirePasswordResetForNextLogin',
  ],
  'manage-ddm-admin': [],
  'ticket-intake': [],
};

/** Runs one arbitrary request and checks every property; returns the status. */
async function check(operation: string, request: ArbitraryRequest): Promise<number> {
  const definition = route(operation);
  const handler = handlers.get(operation);
  if (!handler) throw new Error(`no handler for ${operation}`);
  if (operation === 'change-password') await unlockPat();
  passwordsSent = [];
  const event = await eventFor(definition, request);
  const before = await state();
  const hashesBefore = argon2.calls;
  const result = await handler(event, lambdaContext(operation, event.requestContext.requestId));
  const status = result.statusCode ?? 0;
  expect(status, `${operation} answered ${status}: ${result.body}`).toBeLessThan(500);
  // A method a route that answers every method does not serve is a 405 before anything else is
  // read; any other request naming a query parameter the route does not define is a 400.
  const otherMethod = definition.answersOtherMethods && !definition.methods.includes(request.method as never);
  if (otherMethod) expect(status, `method ${request.method}: ${result.body}`).toBe(405);
  const undefinedName = request.query.find(([name]) => !DEFINED_QUERY[operation]?.includes(name));
  if (undefinedName && !otherMethod) {
    expect(status, `query parameter ${undefinedName[0]}: ${result.body}`).toBe(400);
  }
  const answer = JSON.stringify(result);
  for (const password of passwordsSent) expect(answer).not.toContain(password);
  if (status >= 200 && status < 300) {
    SUCCESS[operation]?.(result);
    if (operation === 'change-password') {
      // pat's password moved on (only pat has one to prove): the model follows.
      // A successful change came as a JSON text body or in the query (base64 bytes never parse).
      const parameters = event.body
        ? JSON.parse(event.body)
        : Object.fromEntries(new URLSearchParams(event.rawQueryString));
      patCurrent = parameters.newPassword;
    }
    return status;
  }
  expect(status).toBeGreaterThanOrEqual(400);
  const { message } = dialectError(definition.dialect, result);
  expect(message.length).toBeGreaterThan(10);
  const after = await state();
  expect(after.vault).toEqual(before.vault);
  const changed = changedItems(before.table, after.table);
  const afterSignIn =
    status === 401 || status === 409 || status === 412 || (status === 400 && /password policy/.test(message));
  if (operation === 'change-password' && afterSignIn) {
    // The one write a change-password refusal may make, on the user it names: a failed
    // attempt counted (401), or an attempt counted before the password was checked and given
    // back when it proved right and a later rule refused (policy 400, reuse 409, expiry 412).
    if (status === 401) expect(message).toBe(NOT_AUTHENTICATED_MESSAGE);
    expect(changed.every((key) => key.startsWith('USER#'))).toBe(true);
    expect(changed.length).toBeLessThanOrEqual(1);
    if (status !== 401) {
      for (const key of changed)
        expect(attemptsOf(after.table.get(key))).toEqual(attemptsOf(before.table.get(key)));
    }
  } else {
    expect(changed).toEqual([]);
  }
  if (status === 400 && !/password policy/.test(message))
    expect(argon2.calls - hashesBefore, message).toBe(0);
  return status;
}

/** Runs a property; also makes sure it did not only ever see refusals (it must reach success). */
async function runProperty(
  operation: string,
  valid: ArbitraryRequest,
  arbitrary: fc.Arbitrary<ArbitraryRequest>,
  numRuns: number,
): Promise<void> {
  const statuses: number[] = [];
  // One request in four is a valid one (the rest is hostile now and then in every piece),
  // so that the success path is exercised between refusals.
  const requests = fc.oneof({ weight: 1, arbitrary: fc.constant(valid) }, { weight: 3, arbitrary });
  await fc.assert(
    fc.asyncProperty(requests, async (request) => {
      statuses.push(await check(operation, request));
    }),
    { numRuns, endOnFailure: true },
  );
  expect(
    statuses.some((status) => status < 300),
    `${operation} never succeeded`,
  ).toBe(true);
  expect(
    statuses.some((status) => status === 400),
    `${operation} never refused input`,
  ).toBe(true);
}

// ---------------------------------------------------------------------------------------
// The properties

describe('any request gives a documented 2xx or a 4xx in the route’s dialect, and a refusal writes nothing', () => {
  it('POST /20160918/users/{userId}/uiPassword (OCI)', async () => {
    const arbitrary: fc.Arbitrary<ArbitraryRequest> = fc.record({
      method: fc.constant('POST'),
      pathParameters: fc.record({
        userId: pathId(['u-alice', 'u-bob', 'u-bob', 'u-carol', 'u-other', 'u-nobody']),
      }),
      // The route defines no query parameter: any pair the helper adds must be refused.
      query: query(fc.constant([])),
      headers: fc.record(
        {
          'content-type': contentType('application/json'),
          'opc-retry-token': mostly(
            fc.constantFrom('retry-a', 'retry-b'),
            hostileText,
          ) as fc.Arbitrary<string>,
        },
        { requiredKeys: [] },
      ),
      token: tokenName,
      tokenHeader,
      body: fc.oneof(
        { weight: 6, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: fc.constant({ text: '{}', base64: false }) },
        { weight: 3, arbitrary: body(jsonBodyText({ userId: field(['u-bob']) })) },
      ),
    });
    const valid: ArbitraryRequest = {
      method: 'POST',
      pathParameters: { userId: 'u-bob' },
      query: [],
      headers: {},
      token: 'admin',
    };
    await runProperty('create-or-reset-ui-password', valid, arbitrary, 50);
  });

  it('PUT /20160918/changepassword (OCI, public)', async () => {
    const fields = {
      username: field(['pat', 'pat', 'pat', 'bob', 'nobody']),
      currentPassword: secretField([CURRENT, CURRENT, CURRENT, 'Wrong-Passw0rd-99']),
      newPassword: secretField([FRESH, FRESH, FRESH, 'short', CURRENT]),
      tenancy: field(['demo', 'democorp']),
    };
    const arbitrary: fc.Arbitrary<ArbitraryRequest> = fc.oneof(
      // A JSON body, the preferred way (now and then with a query string as well).
      {
        weight: 3,
        arbitrary: fc.record({
          method: fc.constant('PUT'),
          query: fc.oneof(
            { weight: 12, arbitrary: fc.constant([]) },
            { weight: 1, arbitrary: query(fc.constant([['username', 'pat']])) },
          ),
          headers: fc.record({ 'content-type': contentType('application/json') }),
          body: body(jsonBodyText(fields, ['tenancy'])),
        }),
      },
      // The seed's query parameters.
      {
        weight: 1,
        arbitrary: fc.record({
          method: fc.constant('PUT'),
          query: query(
            fc.tuple(fields.username, fields.currentPassword, fields.newPassword).map(([u, c, n]) => [
              ['username', u],
              ['currentPassword', c],
              ['newPassword', n],
            ]),
          ),
          headers: fc.constant({}),
        }),
      },
    );
    const valid: ArbitraryRequest = {
      method: 'PUT',
      query: [],
      headers: { 'content-type': 'application/json' },
      body: {
        text: JSON.stringify({ username: 'pat', currentPassword: CURRENT, newPassword: FRESH }),
        base64: false,
      },
    };
    await runProperty('change-password', valid, arbitrary, 40);
  });

  it('GET /v2/{project_id}/users/{user_id}/random-password (Huawei IAM)', async () => {
    const arbitrary: fc.Arbitrary<ArbitraryRequest> = fc.record({
      method: mostly(fc.constant('GET'), fc.constantFrom('POST', 'DELETE', 'PUT')) as fc.Arbitrary<string>,
      pathParameters: fc.record({
        project_id: pathId(['demo', 'demo', 'demo', 'other']),
        user_id: pathId(['u-alice', 'u-bob', 'u-bob', 'u-carol', 'u-other']),
      }),
      query: query(
        fc.oneof(
          fc.constant([]),
          field(['email', 'phone', 'email,phone']).map(
            (value): Array<[string, unknown]> => [['notification_type', value]],
          ),
        ),
      ),
      headers: fc.constant({}),
      token: tokenName,
      tokenHeader,
      body: fc.oneof(
        { weight: 12, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: body(jsonBodyText({ password: field(['x']) })) },
      ),
    });
    const valid: ArbitraryRequest = {
      method: 'GET',
      pathParameters: { project_id: 'demo', user_id: 'u-bob' },
      query: [['notification_type', 'email']],
      headers: {},
      token: 'admin',
      tokenHeader: 'x-auth-token',
    };
    await runProperty('reset-random-password', valid, arbitrary, 50);
  });

  it('POST /cloudsso/2021-05-15/ResetUserPassword (Alibaba CloudSSO)', async () => {
    const generated = {
      DirectoryId: field(['demo', 'demo', 'demo', 'other']),
      UserId: field(['u-alice', 'u-bob', 'u-bob', 'u-carol']),
      GenerateRandomPassword: field([true, 'True']),
      RequirePasswordResetForNextLogin: field([false, 'True', true]),
    };
    const given = {
      DirectoryId: generated.DirectoryId,
      UserId: generated.UserId,
      Password: secretField([FRESH, FRESH, 'weak']),
      RequirePasswordResetForNextLogin: generated.RequirePasswordResetForNextLogin,
    };
    const parameters = fc.oneof(
      jsonBodyText(generated, ['RequirePasswordResetForNextLogin']),
      jsonBodyText(given, ['RequirePasswordResetForNextLogin']),
    );
    /** The same parameters as pairs, for the query string and form bodies. */
    const pairs = fc
      .oneof(
        fc.record(generated, { requiredKeys: ['DirectoryId', 'UserId'] }),
        fc.record(given, { requiredKeys: ['DirectoryId', 'UserId'] }),
      )
      .map((record) =>
        Object.entries(record).map(([k, v]): [string, unknown] => [
          k,
          v === true ? 'True' : v === false ? 'False' : v,
        ]),
      );
    const arbitrary: fc.Arbitrary<ArbitraryRequest> = fc.oneof(
      fc.record({
        method: fc.constant('POST'),
        query: fc.oneof(
          { weight: 12, arbitrary: fc.constant([]) },
          { weight: 1, arbitrary: query(fc.constant([['DirectoryId', 'demo']])) },
        ),
        headers: fc.record({ 'content-type': contentType('application/json') }),
        body: body(parameters),
        token: tokenName,
      }),
      fc.record({
        method: fc.constant('POST'),
        query: fc.constant([]),
        headers: fc.record({ 'content-type': contentType('application/x-www-form-urlencoded') }),
        body: query(pairs).map((list) => ({
          text: list.map(([k, v]) => `${k}=${v}`).join('&'),
          base64: false,
        })),
        token: tokenName,
      }),
      fc.record({
        method: fc.constant('POST'),
        query: query(pairs),
        headers: fc.constant({}),
        token: tokenName,
      }),
    );
    const valid: ArbitraryRequest = {
      method: 'POST',
      query: [],
      headers: { 'content-type': 'application/json' },
      body: {
        text: JSON.stringify({ DirectoryId: 'demo', UserId: 'u-bob', GenerateRandomPassword: true }),
        base64: false,
      },
      token: 'admin',
    };
    await runProperty('reset-user-password', valid, arbitrary, 60);
  });

  it('PUT|POST /v3/{project_id}/instances/{instance_id}/admin-user (Huawei DDM)', async () => {
    const arbitrary: fc.Arbitrary<ArbitraryRequest> = fc.record({
      method: fc.constantFrom('PUT', 'POST'),
      pathParameters: fc.record({
        project_id: pathId(['demo', 'demo', 'demo', 'other']),
        instance_id: pathId(['ddm-1', 'ddm-2', 'ddm-none']),
      }),
      query: query(fc.constant([])),
      headers: fc.record({ 'content-type': contentType('application/json') }),
      token: tokenName,
      tokenHeader,
      body: body(
        jsonBodyText({
          name: field(['root', 'root', 'root', 'admin']),
          password: secretField([FRESH, FRESH, 'weak']),
        }),
      ),
    });
    const valid: ArbitraryRequest = {
      method: 'PUT',
      pathParameters: { project_id: 'demo', instance_id: 'ddm-1' },
      query: [],
      headers: { 'content-type': 'application/json' },
      body: { text: JSON.stringify({ name: 'root', password: FRESH }), base64: false },
      token: 'admin',
      tokenHeader: 'x-auth-token',
    };
    await runProperty('manage-ddm-admin', valid, arbitrary, 60);
  });
});

describe('prototype pollution', () => {
  it('POST /tickets/{connectorId} (rekey, a ticketing system with its secret header)', async () => {
    const fields = {
      ticketId: field(['SD-1', 'SD-2', 'INC0000001']),
      operation: field(['ResetRandomPassword', 'CreateOrResetUIPassword', 'ResetUserPassword']),
      user: field(['u-bob', 'bob', 'bob@example.com', 'olga', 'u-nobody']),
      notificationType: field(['email', 'email,phone']),
    };
    const arbitrary: fc.Arbitrary<ArbitraryRequest> = fc.record({
      method: fc.constant('POST'),
      pathParameters: fc.record({ connectorId: pathId(['prop-jsm', 'prop-jsm', 'prop-jsm', 'nope']) }),
      query: query(fc.constant([])),
      headers: fc.record({
        'content-type': contentType('application/json'),
        'x-rekey-connector-secret': mostly(fc.constant(INTAKE_SECRET), hostileText) as fc.Arbitrary<string>,
      }),
      body: body(jsonBodyText(fields, ['notificationType'])),
    });
    const valid: ArbitraryRequest = {
      method: 'POST',
      pathParameters: { connectorId: 'prop-jsm' },
      query: [],
      headers: { 'content-type': 'application/json', 'x-rekey-connector-secret': INTAKE_SECRET },
      body: {
        text: JSON.stringify({ ticketId: 'SD-1', operation: 'ResetRandomPassword', user: 'bob@example.com' }),
        base64: false,
      },
    };
    const before = busPuts.length;
    await runProperty('ticket-intake', valid, arbitrary, 60);
    expect(busPuts.length).toBeGreaterThan(before);
  });

  it('leaves no polluted prototype in the warm process after every property ran', () => {
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Reflect.ownKeys(Object.prototype).map(String).sort()).toEqual(prototypeKeys);
  });
});
