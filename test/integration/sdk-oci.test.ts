/**
 * OCI's own SDK against rekey: `oci-identity`'s IdentityClient, stock but for the endpoint
 * (the local gateway) and the credential (a three-line RequestSigner that sets
 * `Authorization: Bearer`), under its default retry policy. Change password is not in the
 * SDK; it goes through the SDK's own `composeRequest` and HTTP client.
 */
import * as common from 'oci-common';
import { IdentityClient, type models } from 'oci-identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalFileVault } from '#adapters/local-file-vault.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';

/**
 * The credential: the admin token as a Bearer token. For the tests, it also counts the
 * requests sent and notes the opc-request-id the SDK generated for the last one.
 */
function bearerSigner(token: string): common.RequestSigner & { signed: number; lastId: string | null } {
  return {
    signed: 0,
    lastId: null,
    async signHttpRequest(request) {
      this.signed += 1;
      this.lastId = request.headers.get('opc-request-id');
      request.headers.set('Authorization', `Bearer ${token}`);
    },
  };
}

/** rekey's UIPassword: the SDK's model (password never set) plus rekey's two fields. */
type RekeyUIPassword = models.UIPassword & { passwordSecretId?: string; timeExpires?: string };

async function failure(send: Promise<unknown>): Promise<common.OciError> {
  try {
    await send;
  } catch (error) {
    return error as common.OciError;
  }
  throw new Error('the call succeeded');
}

describe("OCI's SDK (oci-identity 2.139.1) against rekey", () => {
  let t: TestApi;
  let signer: ReturnType<typeof bearerSigner>;
  let client: IdentityClient;

  beforeAll(async () => {
    t = await startTestApi();
    signer = bearerSigner(await t.token());
    client = new IdentityClient({ httpClient: new common.FetchHttpClient(signer) });
    client.endpoint = t.url;
  });
  afterAll(() => t.close());

  it("createOrResetUIPassword: parsed into UIPassword, the SDK's own request id leading opc-request-id", async () => {
    const response = await client.createOrResetUIPassword({ userId: 'u-bob' });
    const ui = response.uIPassword as RekeyUIPassword;
    expect(ui.userId).toBe('u-bob');
    expect(ui.lifecycleState).toBe('ACTIVE');
    expect(ui.password).toBeUndefined();
    // The model types timeCreated as a Date; the SDK hands on the JSON string as received.
    expect(Date.parse(String(ui.timeCreated))).toBeLessThanOrEqual(Date.now());
    expect(ui.passwordSecretId).toMatch(/:secret:rekey\/temp\/demo\/u-bob\//);
    expect(Date.parse(ui.timeExpires ?? '')).toBeGreaterThan(Date.now());
    // oci-common sends an upper-cased UUID v1 (its first dash removed): kept, then ours.
    expect(signer.lastId).toMatch(/^[0-9A-F-]{30,40}$/);
    expect(response.opcRequestId).toMatch(new RegExp(`^${signer.lastId}/[\\w-]{8,}$`));
  });

  it('404: an unknown user is an OciError NotAuthorizedOrNotFound, with message and request id', async () => {
    const error = await failure(client.createOrResetUIPassword({ userId: 'u-nobody' }));
    expect(error).toBeInstanceOf(common.OciError);
    expect(error.statusCode).toBe(404);
    expect(error.serviceCode).toBe('NotAuthorizedOrNotFound');
    expect(error.message).toMatch(/not exist|not authorized/i);
    expect(error.opcRequestId).toBe(`${signer.lastId}/${error.opcRequestId?.split('/')[1]}`);
    expect(error.opcRequestId).toMatch(/^[0-9A-F-]{30,40}\/[\w-]{8,}$/);
  });

  it('409: a federated user is refused at once under the default retry policy (one request, no backoff)', async () => {
    const before = signer.signed;
    const started = performance.now();
    const error = await failure(client.createOrResetUIPassword({ userId: 'u-carol' }));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(common.OciError);
    expect(error.statusCode).toBe(409);
    expect(error.serviceCode).toBe('Conflict');
    expect(error.message).toMatch(/federated/i);
    expect(error.opcRequestId).toMatch(/\/[\w-]{8,}$/);
    expect(signer.signed - before).toBe(1);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('400: a retry token the route refuses is an OciError InvalidParameter', async () => {
    const error = await failure(
      client.createOrResetUIPassword({ userId: 'u-bob', opcRetryToken: 'x'.repeat(65) }),
    );
    expect(error).toBeInstanceOf(common.OciError);
    expect(error.statusCode).toBe(400);
    expect(error.serviceCode).toBe('InvalidParameter');
    expect(error.message).toMatch(/opc-retry-token/);
    expect(error.opcRequestId).toMatch(/\/[\w-]{8,}$/);
  });

  it('401: a token the authorizer refuses is an OciError NotAuthenticated', async () => {
    const anonymous = new IdentityClient({ httpClient: new common.FetchHttpClient(bearerSigner('nope')) });
    anonymous.endpoint = t.url;
    const error = await failure(anonymous.createOrResetUIPassword({ userId: 'u-bob' }));
    expect(error.statusCode).toBe(401);
    expect(error.serviceCode).toBe('NotAuthenticated');
  });

  it("change password through the SDK's own composeRequest, and its refusal through its error parser", async () => {
    const issued = await client.createOrResetUIPassword({ userId: 'u-alice' });
    const secretId = (issued.uIPassword as RekeyUIPassword).passwordSecretId as string;
    const vault = t.api.backend?.vault as LocalFileVault;
    const current = JSON.parse(await vault.read(secretId)).password as string;
    const http = new common.FetchHttpClient(null);
    // An id of the shape the SDKs generate (32 hex digits: Python's, Java's, Go's).
    const CLIENT_ID = '0A1B2C3D4E5F60718293A4B5C6D7E8F9';

    const change = async (currentPassword: string) =>
      http.send(
        await common.composeRequest({
          baseEndpoint: `${t.url}/20160918`,
          defaultHeaders: {},
          path: '/changepassword',
          method: 'PUT',
          headerParams: { 'Content-Type': 'application/json', 'opc-request-id': CLIENT_ID },
          bodyContent: JSON.stringify({
            username: 'alice',
            currentPassword,
            newPassword: 'Sdk-Changed#Pass-2026',
          }),
        }),
      );

    const wrong = await change('Not-the-current#1');
    expect(wrong.status).toBe(401);
    const error = common.handleErrorResponse(
      wrong,
      await wrong.json(),
      'Identity',
      'changePassword',
      '',
      '',
      '',
    );
    expect(error).toBeInstanceOf(common.OciError);
    expect(error.serviceCode).toBe('NotAuthenticated');
    expect(error.opcRequestId).toMatch(new RegExp(`^${CLIENT_ID}/[\\w-]{8,}$`));

    const done = await change(current);
    expect(done.status).toBe(200);
    expect(done.headers.get('opc-request-id')).toMatch(new RegExp(`^${CLIENT_ID}/`));
  });
});
