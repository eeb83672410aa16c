/**
 * rekey from Huawei Cloud's SDK core (@huaweicloud/huaweicloud-sdk-core): an HcClient built
 * by the core's ClientBuilder, as every generated client is, with only the endpoint and the
 * credential (the admin token in `X-Auth-Token`) changed.
 *
 *   REKEY_URL=http://127.0.0.1:3000 REKEY_TOKEN=$(npx rekey token --realm demo) npx tsx examples/sdk/huawei.ts
 */
import { fileURLToPath } from 'node:url';
import type { ICredential } from '@huaweicloud/huaweicloud-sdk-core/auth/ICredential';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder';
import { ClientRequestException } from '@huaweicloud/huaweicloud-sdk-core/exception/ClientRequestException';
import type { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient';
import { Logger4jInstance } from '@huaweicloud/huaweicloud-sdk-core/logger/log4jLogger';

/** The credential: Huawei's token authentication, `X-Auth-Token`, with rekey's admin token. */
const xAuthToken = (token: string): ICredential => ({
  getAk: () => undefined,
  getSk: () => undefined,
  processAuthParams: async function () {
    return this;
  },
  processAuthRequest: async (_client, request) => {
    request.headers = { ...request.headers, 'X-Auth-Token': token };
    return request;
  },
});

export async function main(endpoint: string, token: string, print = console.log): Promise<void> {
  // The SDK core logs every failed request at ERROR level on stdout, with its headers: the
  // X-Auth-Token would be printed whole. Its logger (log4js's default category) is turned off.
  Logger4jInstance.level = 'off';
  const client = new ClientBuilder((hcClient: HcClient) => hcClient, 'GlobalCredentials')
    .withEndpoint(endpoint)
    .withCredential(xAuthToken(token))
    .build();
  const randomPassword = (userId: string) =>
    client.sendRequest<{ password_secret_id: string; expires_at: string; httpStatusCode: number }>({
      method: 'GET',
      url: '/v2/{project_id}/users/{user_id}/random-password',
      contentType: 'application/json',
      queryParams: {},
      pathParams: { project_id: 'demo', user_id: userId },
      headers: {},
    });

  const reset = await randomPassword('u-bob');
  print(`reset u-bob: ${reset.httpStatusCode}, secret ${reset.password_secret_id} until ${reset.expires_at}`);

  try {
    await randomPassword('u-nobody');
  } catch (error) {
    if (!(error instanceof ClientRequestException)) throw error;
    print(
      `refused: ${error.httpStatusCode} ${error.errorCode}: ${error.errorMsg} (request id ${error.requestId})`,
    );
  }
}

// Run as a script (not when a test imports it).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main(process.env.REKEY_URL ?? 'http://127.0.0.1:3000', process.env.REKEY_TOKEN ?? '');
}
