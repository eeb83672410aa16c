/**
 * rekey from OCI's TypeScript SDK (oci-identity + oci-common 2.139.1): only the endpoint and
 * the credential differ from a stock IdentityClient.
 *
 *   REKEY_URL=http://127.0.0.1:3000 REKEY_TOKEN=$(npx rekey token --realm demo) npx tsx examples/sdk/oci.ts
 */
import { fileURLToPath } from 'node:url';
import * as common from 'oci-common';
import { IdentityClient, type models } from 'oci-identity';

/** The credential: rekey's admin token as a Bearer token, instead of OCI's request signature. */
const bearer = (token: string): common.RequestSigner => ({
  signHttpRequest: async (request) => void request.headers.set('Authorization', `Bearer ${token}`),
});

/** rekey's UIPassword: no `password`; where it is kept and until when instead (rekey's extension). */
type RekeyUIPassword = models.UIPassword & { passwordSecretId: string; timeExpires: string };

export async function main(endpoint: string, token: string, print = console.log): Promise<void> {
  const identity = new IdentityClient({ httpClient: new common.FetchHttpClient(bearer(token)) });
  identity.endpoint = endpoint;

  const reset = await identity.createOrResetUIPassword({ userId: 'u-bob' });
  const ui = reset.uIPassword as RekeyUIPassword;
  print(`reset ${ui.userId}: ${ui.lifecycleState}, secret ${ui.passwordSecretId} until ${ui.timeExpires}`);
  print(`opc-request-id ${reset.opcRequestId}`);

  try {
    await identity.createOrResetUIPassword({ userId: 'u-carol' }); // a federated user
  } catch (error) {
    if (!(error instanceof common.OciError)) throw error;
    print(`refused: ${error.statusCode} ${error.serviceCode}: ${error.message}`);
  }
}

// Run as a script (not when a test imports it).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main(process.env.REKEY_URL ?? 'http://127.0.0.1:3000', process.env.REKEY_TOKEN ?? '');
}
