/**
 * rekey from Alibaba Cloud's SDK (@alicloud/openapi-client, which every generated client
 * extends): CloudSSO 2021-05-15 ResetUserPassword as the generated client calls it (RPC
 * style, pathname `/`), with only the endpoint and the credential (`Config.bearerToken`)
 * changed.
 *
 *   REKEY_URL=http://127.0.0.1:3000 REKEY_TOKEN=$(npx rekey token --realm demo) npx tsx examples/sdk/alibaba.ts
 */
import { fileURLToPath } from 'node:url';
import * as $OpenApi from '@alicloud/openapi-client';
import * as $Util from '@alicloud/tea-util';

/**
 * The client class. The package is CommonJS with `exports.default`: under Node's own ESM
 * loader (tsx) the default import is the whole module, under bundlers and vitest the class.
 */
type OpenApi = $OpenApi.default;
const OpenApi: typeof $OpenApi.default =
  ($OpenApi.default as unknown as { default?: typeof $OpenApi.default }).default ?? $OpenApi.default;

/** What a generated CloudSSO 2021-05-15 client's resetUserPasswordWithOptions sends. */
async function resetUserPassword(client: OpenApi, query: Record<string, string>) {
  const params = new $OpenApi.Params({
    action: 'ResetUserPassword',
    version: '2021-05-15',
    protocol: 'HTTP',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  return client.callApi(params, new $OpenApi.OpenApiRequest({ query }), new $Util.RuntimeOptions({}));
}

export async function main(endpoint: string, token: string, print = console.log): Promise<void> {
  const client = new OpenApi(
    new $OpenApi.Config({ endpoint: new URL(endpoint).host, protocol: 'HTTP', bearerToken: token }),
  );
  const reset = await resetUserPassword(client, {
    DirectoryId: 'demo',
    UserId: 'u-bob',
    GenerateRandomPassword: 'true',
  });
  const body = reset.body as {
    RequestId: string;
    NewPasswordSecretId: string;
    NewPasswordSecretExpiresAt: string;
  };
  print(`reset u-bob: secret ${body.NewPasswordSecretId} until ${body.NewPasswordSecretExpiresAt}`);
  print(`RequestId ${body.RequestId} (x-acs-request-id ${reset.headers?.['x-acs-request-id']})`);

  try {
    await resetUserPassword(client, {
      DirectoryId: 'demo',
      UserId: 'u-nobody',
      GenerateRandomPassword: 'true',
    });
  } catch (error) {
    const { code, data } = error as { code: string; data: { Message: string; RequestId: string } };
    print(`refused: ${code}: ${data.Message} (RequestId ${data.RequestId})`);
  }
}

// Run as a script (not when a test imports it).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main(process.env.REKEY_URL ?? 'http://127.0.0.1:3000', process.env.REKEY_TOKEN ?? '');
}
