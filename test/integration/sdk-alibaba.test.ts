/**
 * Alibaba's own SDK against rekey: a stock `@alicloud/openapi-client` Client, as every
 * generated Alibaba client (here CloudSSO 2021-05-15, which the registry does not carry as a
 * package) extends it, with only the endpoint (the local gateway) and the credential
 * (`Config.bearerToken`, the admin token) changed. The call is the generated one: RPC style,
 * pathname `/`, the operation's parameters in the query, Action and Version in the
 * `x-acs-action`/`x-acs-version` headers (signature v3, the default) — and, for the v2
 * spelling, in the query as `Action=ResetUserPassword&Version=2021-05-15`.
 */
import OpenApi, * as $OpenApi from '@alicloud/openapi-client';
import * as $tea from '@alicloud/tea-typescript';
import * as $Util from '@alicloud/tea-util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';

/** The generated CloudSSO 2021-05-15 models, plus rekey's two response fields (its extension). */
class ResetUserPasswordResponseBody extends $tea.Model {
  declare requestId?: string;
  declare newPassword?: string;
  /** rekey: where the generated password is kept (never the password itself). */
  declare newPasswordSecretId?: string;
  declare newPasswordSecretExpiresAt?: string;
  static names(): Record<string, string> {
    return {
      requestId: 'RequestId',
      newPassword: 'NewPassword',
      newPasswordSecretId: 'NewPasswordSecretId',
      newPasswordSecretExpiresAt: 'NewPasswordSecretExpiresAt',
    };
  }
  static types(): Record<string, unknown> {
    return {
      requestId: 'string',
      newPassword: 'string',
      newPasswordSecretId: 'string',
      newPasswordSecretExpiresAt: 'string',
    };
  }
}

class ResetUserPasswordResponse extends $tea.Model {
  declare headers?: Record<string, string>;
  declare statusCode?: number;
  declare body?: ResetUserPasswordResponseBody;
  static names(): Record<string, string> {
    return { headers: 'headers', statusCode: 'statusCode', body: 'body' };
  }
  static types(): Record<string, unknown> {
    return {
      headers: { type: 'map', keyType: 'string', valueType: 'string' },
      statusCode: 'number',
      body: ResetUserPasswordResponseBody,
    };
  }
}

interface ResetUserPasswordRequest {
  DirectoryId: string;
  UserId: string;
  GenerateRandomPassword?: boolean;
  Password?: string;
  RequirePasswordResetForNextLogin?: boolean;
}

/** What `cloudsso20210515.Client#resetUserPasswordWithOptions` does, over the stock client. */
async function resetUserPassword(
  client: OpenApi,
  request: ResetUserPasswordRequest,
  options: { action?: string; version?: string; extraQuery?: Record<string, string> } = {},
): Promise<ResetUserPasswordResponse> {
  const query: Record<string, unknown> = { ...request, ...options.extraQuery };
  const req = new $OpenApi.OpenApiRequest({ query: toQuery(query) });
  const params = new $OpenApi.Params({
    action: options.action ?? 'ResetUserPassword',
    version: options.version ?? '2021-05-15',
    protocol: 'HTTP',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  return $tea.cast<ResetUserPasswordResponse>(
    await client.callApi(params, req, new $Util.RuntimeOptions({})),
    new ResetUserPasswordResponse({}),
  );
}

/** OpenApiUtil.query, for flat parameters: every value as a string (`true` stays `true`). */
function toQuery(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}

/** The SDK's error class (tea's ResponseError, not exported by name). */
const ResponseError = $tea.newError({ code: 'probe', message: 'probe' }).constructor as new (
  ...args: never[]
) => Error;

interface AlibabaError {
  code: string;
  statusCode: number;
  message: string;
  data: { RequestId: string; Code: string; Message: string; statusCode: number };
}

async function failure(send: Promise<unknown>): Promise<AlibabaError> {
  try {
    await send;
  } catch (error) {
    return error as AlibabaError;
  }
  throw new Error('the call succeeded');
}

describe("Alibaba's SDK (@alicloud/openapi-client) against rekey", () => {
  let t: TestApi;
  let client: OpenApi;

  beforeAll(async () => {
    t = await startTestApi();
    const endpoint = new URL(t.url).host;
    client = new OpenApi(new $OpenApi.Config({ endpoint, protocol: 'HTTP', bearerToken: await t.token() }));
  });
  afterAll(() => t.close());

  it('resets a password with a generated one: parsed into the response model, request id in body and header', async () => {
    const response = await resetUserPassword(client, {
      DirectoryId: 'demo',
      UserId: 'u-bob',
      GenerateRandomPassword: true,
    });
    expect(response).toBeInstanceOf(ResetUserPasswordResponse);
    expect(response.statusCode).toBe(200);
    const body = response.body as ResetUserPasswordResponseBody;
    expect(body).toBeInstanceOf(ResetUserPasswordResponseBody);
    expect(body.requestId).toMatch(/^[\w-]{8,}$/);
    expect(response.headers?.['x-acs-request-id']).toBe(body.requestId);
    expect(body.newPassword).toBeUndefined();
    expect(body.newPasswordSecretId).toMatch(/:secret:rekey\/temp\/demo\/u-bob\//);
    expect(Date.parse(body.newPasswordSecretExpiresAt ?? '')).toBeGreaterThan(Date.now());
  });

  it('resets with a given password (empty body but for RequestId)', async () => {
    const response = await resetUserPassword(client, {
      DirectoryId: 'demo',
      UserId: 'u-alice',
      Password: 'Gv7#kLm2$pQx-sdk',
    });
    expect(response.statusCode).toBe(200);
    expect(
      Object.keys(response.body?.toMap() ?? {}).filter((k) => response.body?.toMap()[k] !== undefined),
    ).toEqual(['RequestId']);
  });

  it('refuses an unknown user with EntityNotExists.User, parsed into the SDK error', async () => {
    const error = await failure(
      resetUserPassword(client, { DirectoryId: 'demo', UserId: 'u-nobody', GenerateRandomPassword: true }),
    );
    expect(error.code).toBe('EntityNotExists.User');
    expect(error.statusCode).toBe(404);
    expect(error.data.RequestId).toMatch(/^[\w-]{8,}$/);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.message).toBe(
      `EntityNotExists.User: code: 404, ${error.data.Message} request id: ${error.data.RequestId}`,
    );
    expect(error.data.Message).not.toContain('u-nobody');
  });

  it('refuses another directory with NoPermission.Directory (403)', async () => {
    const error = await failure(
      resetUserPassword(client, { DirectoryId: 'other', UserId: 'u-bob', GenerateRandomPassword: true }),
    );
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.code).toBe('NoPermission.Directory');
    expect(error.statusCode).toBe(403);
    expect(error.message).toContain(`request id: ${error.data.RequestId}`);
  });

  it('refuses a password the seed refuses with InvalidParameter.Password (400), without repeating it', async () => {
    const error = await failure(
      resetUserPassword(client, { DirectoryId: 'demo', UserId: 'u-alice', Password: 'short' }),
    );
    expect(error.code).toBe('InvalidParameter.Password');
    expect(error.statusCode).toBe(400);
    expect(JSON.stringify(error.data)).not.toContain('short"');
  });

  it.each([
    ['an unknown Action', { action: 'DeleteUser' }],
    ['an unknown Version', { version: '2019-01-01' }],
  ])('answers %s with InvalidAction.NotFound (404), repeating neither', async (_what, options) => {
    const error = await failure(
      resetUserPassword(
        client,
        { DirectoryId: 'demo', UserId: 'u-bob', GenerateRandomPassword: true },
        options,
      ),
    );
    expect(error.code).toBe('InvalidAction.NotFound');
    expect(error.statusCode).toBe(404);
    expect(error.data.Message).toBe('Specified api is not found, please check your url and method.');
  });

  it('refuses a call without the token (InvalidSecurityToken, 401)', async () => {
    const anonymous = new OpenApi(
      new $OpenApi.Config({ endpoint: new URL(t.url).host, protocol: 'HTTP', bearerToken: 'not-a-token' }),
    );
    const error = await failure(
      resetUserPassword(anonymous, { DirectoryId: 'demo', UserId: 'u-bob', GenerateRandomPassword: true }),
    );
    expect(error.code).toBe('InvalidSecurityToken');
    expect(error.statusCode).toBe(401);
  });
});

describe('the RPC spelling on the wire (signature v2 style: Action, Version and the common parameters in the query)', () => {
  let t: TestApi;
  let token: string;
  const COMMON = {
    Format: 'json',
    Timestamp: '2026-12-04T12:00:00Z',
    SignatureNonce: 'b3f1c2d4-0000-4000-8000-000000000000',
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureType: 'BEARERTOKEN',
    AccessKeyId: 'LTAI-ignored',
    Signature: 'aWdub3JlZA==',
    RegionId: 'cn-hangzhou',
  };

  beforeAll(async () => {
    t = await startTestApi();
    token = await t.token();
  });
  afterAll(() => t.close());

  const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

  it.each(['GET', 'POST'])(
    '%s / with Action, Version and every common parameter reaches CloudSSO',
    async (method) => {
      const res = await t.request(
        method,
        `/?${query({ Action: 'ResetUserPassword', Version: '2021-05-15', ...COMMON, DirectoryId: 'demo', UserId: 'u-bob', GenerateRandomPassword: 'True' })}`,
        { headers: { 'x-acs-bearer-token': token } },
      );
      expect(res.status).toBe(200);
      expect(res.json.NewPasswordSecretId).toMatch(/:secret:rekey\/temp\/demo\/u-bob\//);
      expect(res.headers.get('x-acs-request-id')).toBe(res.json.RequestId);
    },
  );

  it('POST / with the common parameters in the query and the operation in a form body', async () => {
    const res = await t.request(
      'POST',
      `/?${query({ Action: 'ResetUserPassword', Version: '2021-05-15', ...COMMON })}`,
      {
        headers: { 'x-acs-bearer-token': token, 'content-type': 'application/x-www-form-urlencoded' },
        body: query({ DirectoryId: 'demo', UserId: 'u-bob', GenerateRandomPassword: 'True' }),
      },
    );
    expect(res.status).toBe(200);
  });

  it("rekey's own path accepts (and ignores) the common parameters too", async () => {
    const res = await t.request(
      'POST',
      `/cloudsso/2021-05-15/ResetUserPassword?${query({ ...COMMON, DirectoryId: 'demo', UserId: 'u-bob', GenerateRandomPassword: 'True' })}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(res.status).toBe(200);
  });

  it.each([
    ['no Action', { Version: '2021-05-15' }, 400, 'MissingParameter.Action'],
    ['no Version', { Action: 'ResetUserPassword' }, 400, 'MissingParameter.Version'],
    ['another Action', { Action: 'CreateUser', Version: '2021-05-15' }, 404, 'InvalidAction.NotFound'],
    [
      'another Version',
      { Action: 'ResetUserPassword', Version: '2022-01-01' },
      404,
      'InvalidAction.NotFound',
    ],
  ])('/ with %s is refused before the token is looked at', async (_what, names, status, code) => {
    const res = await t.request(
      'POST',
      `/?${query({ ...names, DirectoryId: 'demo', UserId: 'u-bob', GenerateRandomPassword: 'True' })}`,
      {},
    );
    expect(res.status).toBe(status);
    expect(res.json.Code).toBe(code);
    expect(res.text).not.toContain('CreateUser');
    expect(res.text).not.toContain('2022-01-01');
    expect(res.headers.get('x-acs-request-id')).toBe(res.json.RequestId);
  });

  it("another Action on rekey's own path is InvalidAction.NotFound too; the header spelling counts as well", async () => {
    const own = await t.request(
      'POST',
      `/cloudsso/2021-05-15/ResetUserPassword?${query({ Action: 'CreateUser', DirectoryId: 'demo', UserId: 'u-bob', GenerateRandomPassword: 'True' })}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(own.json.Code).toBe('InvalidAction.NotFound');
    const header = await t.request(
      'POST',
      `/?${query({ Action: 'ResetUserPassword', Version: '2021-05-15', DirectoryId: 'demo', UserId: 'u-bob', GenerateRandomPassword: 'True' })}`,
      {
        headers: { authorization: `Bearer ${token}`, 'x-acs-action': 'DeleteUser' },
      },
    );
    expect(header.json.Code).toBe('InvalidAction.NotFound');
  });

  it('a token in the query string (BearerToken) is refused, not used', async () => {
    const res = await t.request(
      'POST',
      `/?${query({ Action: 'ResetUserPassword', Version: '2021-05-15', BearerToken: token, DirectoryId: 'demo', UserId: 'u-bob', GenerateRandomPassword: 'True' })}`,
      {},
    );
    expect(res.status).toBe(400);
    expect(res.text).not.toContain(token);
  });

  it('a common parameter in both the query and the body is refused', async () => {
    const res = await t.request(
      'POST',
      `/?${query({ Action: 'ResetUserPassword', Version: '2021-05-15' })}`,
      {
        headers: { 'x-acs-bearer-token': token, 'content-type': 'application/x-www-form-urlencoded' },
        body: query({
          Version: '2021-05-15',
          DirectoryId: 'demo',
          UserId: 'u-bob',
          GenerateRandomPassword: 'True',
        }),
      },
    );
    expect(res.status).toBe(400);
    expect(res.json.Code).toBe('InvalidParameter.ParameterLocation');
  });

  it('PUT / is not a route', async () => {
    const res = await t.request('PUT', '/?Action=ResetUserPassword&Version=2021-05-15', {
      headers: { 'x-acs-bearer-token': token },
    });
    expect(res.status).toBe(404);
  });
});
