import { createRequire } from 'node:module';
/**
 * Huawei Cloud's own SDK core against rekey: an HcClient built by the core's ClientBuilder,
 * stock but for the endpoint (the local gateway) and the credential (one that sets
 * `X-Auth-Token`, as Huawei's token authentication does), calling random-password (IAM) and
 * the DDM administrator through `sendRequest`, as every generated Huawei client does.
 */

import type { ICredential } from '@huaweicloud/huaweicloud-sdk-core/auth/ICredential';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder';
import { ClientRequestException } from '@huaweicloud/huaweicloud-sdk-core/exception/ClientRequestException';
import type { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient';
import type { IHttpRequest } from '@huaweicloud/huaweicloud-sdk-core/http/IHttpRequest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalFileVault } from '#adapters/local-file-vault.ts';
import { newInstance } from '#core/factories.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';

/** The credential: the admin token in X-Auth-Token; no AK/SK, nothing signed. */
class TokenCredential implements ICredential {
  constructor(private readonly token: string) {}
  getAk = () => undefined;
  getSk = () => undefined;
  processAuthParams = async (): Promise<ICredential> => this;
  processAuthRequest = async (_client: HcClient, request: IHttpRequest): Promise<IHttpRequest> => {
    request.headers = { ...request.headers, 'X-Auth-Token': this.token };
    return request;
  };
}

interface RandomPasswordResponse {
  httpStatusCode: number;
  password_secret_id?: string;
  expires_at?: string;
  'X-Request-Id'?: string;
}

// The SDK's own log4js logger prints every failed request to stdout, body included: on a
// refused DDM call, the password this test itself sent. That is the caller's logging, not
// rekey's; since issue 13 the suite's plaintext check knows every password checked against the
// blocklist, so the SDK's logger is turned off here, as an application would in production.
createRequire(import.meta.url)('log4js').configure({
  appenders: { none: { type: 'stdout' } },
  categories: { default: { appenders: ['none'], level: 'off' } },
});

async function failure(send: Promise<unknown>): Promise<ClientRequestException> {
  try {
    await send;
  } catch (error) {
    return error as ClientRequestException;
  }
  throw new Error('the call succeeded');
}

describe("Huawei Cloud's SDK core (@huaweicloud/huaweicloud-sdk-core) against rekey", () => {
  let t: TestApi;
  let client: HcClient;

  const vault = () => t.api.backend?.vault as LocalFileVault;

  const randomPassword = (userId: string, projectId = 'demo') =>
    client.sendRequest<RandomPasswordResponse & { httpStatusCode: number }>({
      method: 'GET',
      url: '/v2/{project_id}/users/{user_id}/random-password',
      contentType: 'application/json',
      queryParams: { notification_type: 'email' },
      pathParams: { project_id: projectId, user_id: userId },
      headers: {},
      // What generated clients ask for: the request id copied into the response.
      responseHeaders: ['X-Request-Id'],
    } as Parameters<HcClient['sendRequest']>[0]);

  const setDdmAdmin = (instanceId: string, name: string, password: string) =>
    client.sendRequest<{ httpStatusCode: number }>({
      method: 'PUT',
      url: '/v3/{project_id}/instances/{instance_id}/admin-user',
      contentType: 'application/json',
      queryParams: {},
      pathParams: { project_id: 'demo', instance_id: instanceId },
      headers: {},
      data: { name, password },
    });

  beforeAll(async () => {
    t = await startTestApi();
    client = new ClientBuilder((hcClient: HcClient) => hcClient, 'GlobalCredentials')
      .withEndpoint(t.url)
      .withCredential(new TokenCredential(await t.token()))
      .build();
    await t
      .runtime()
      .deps.directory.saveInstance(newInstance({ realmId: 'demo', instanceId: 'ddm-sdk-1' }), undefined);
  });
  afterAll(() => t.close());

  it('random-password: the response body, with the request id the SDK copies from X-Request-Id', async () => {
    const response = await randomPassword('u-bob');
    expect(response.httpStatusCode).toBe(200);
    expect(response.password_secret_id).toMatch(/:secret:rekey\/temp\/demo\/u-bob\//);
    expect(Date.parse(response.expires_at ?? '')).toBeGreaterThan(Date.now());
    expect(response['X-Request-Id']).toMatch(/^[\w-]{8,}$/);
  });

  it('random-password refusals are ClientRequestExceptions with errorCode, errorMsg and requestId', async () => {
    const unknown = await failure(randomPassword('u-nobody'));
    expect(unknown).toBeInstanceOf(ClientRequestException);
    expect(unknown.httpStatusCode).toBe(404);
    expect(unknown.errorCode).toBe('IAM.0004');
    expect(unknown.errorMsg).toMatch(/not exist|not authorized/i);
    expect(unknown.errorMsg).not.toContain('u-nobody');
    expect(unknown.requestId).toMatch(/^[\w-]{8,}$/);

    const otherProject = await failure(randomPassword('u-bob', 'another-project'));
    expect(otherProject).toBeInstanceOf(ClientRequestException);
    expect(otherProject.httpStatusCode).toBe(403);
    expect(otherProject.errorCode).toBe('IAM.0003');
    expect(otherProject.requestId).toMatch(/^[\w-]{8,}$/);
    expect(otherProject.requestId).not.toBe(unknown.requestId);
  });

  it('DDM admin-user: created, then its password changed; the secret is found by its documented name prefix', async () => {
    const created = await setDdmAdmin('ddm-sdk-1', 'root_admin', 'Ddm#Sdk-Pass-01');
    expect(created.httpStatusCode).toBe(200);
    // The 200 has no body: the administrator's secret is the one under
    // rekey/ddm/{project}/{instance}/admin/, tagged rekey:realm and rekey:instance.
    const found = vault().list('rekey/ddm/demo/ddm-sdk-1/admin/');
    expect(found).toHaveLength(1);
    const secret = found[0] as NonNullable<(typeof found)[number]>;
    expect(secret.tags).toEqual({ 'rekey:realm': 'demo', 'rekey:instance': 'ddm-sdk-1' });
    const instance = await t.runtime().deps.directory.getInstance('ddm-sdk-1');
    expect(instance?.adminSecretId).toBe(secret.arn);

    const changed = await setDdmAdmin('ddm-sdk-1', 'root_admin', 'Ddm#Sdk-Pass-02');
    expect(changed.httpStatusCode).toBe(200);
    // Still one secret, the same one, with a new version holding the new password.
    const after = vault().list('rekey/ddm/demo/ddm-sdk-1/admin/');
    expect(after.map((s) => s.arn)).toEqual([secret.arn]);
    expect(JSON.parse(await vault().read(secret.arn)).password).toBe('Ddm#Sdk-Pass-02');
  });

  it('DDM refusals are ClientRequestExceptions: another administrator name (409), an unknown instance (404)', async () => {
    const renamed = await failure(setDdmAdmin('ddm-sdk-1', 'other_admin', 'Ddm#Sdk-Pass-03'));
    expect(renamed).toBeInstanceOf(ClientRequestException);
    expect(renamed.httpStatusCode).toBe(409);
    expect(renamed.errorCode).toBe('DDM.0009');
    expect(renamed.requestId).toMatch(/^[\w-]{8,}$/);

    const unknown = await failure(setDdmAdmin('ddm-nowhere', 'root_admin', 'Ddm#Sdk-Pass-04'));
    expect(unknown).toBeInstanceOf(ClientRequestException);
    expect(unknown.httpStatusCode).toBe(404);
    expect(unknown.errorCode).toBe('DDM.0004');
    expect(unknown.errorMsg).toMatch(/does not exist in this project/);
    expect(unknown.errorMsg).not.toContain('ddm-nowhere');
  });
});
