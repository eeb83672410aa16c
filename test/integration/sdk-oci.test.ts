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
import { newUser } from '#core/factories.ts';
import { DEMO_REALM_ID } from '#infra/local/demo.ts';
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

  /** Users whose secrets the vault creates slowly (ms), and how many secrets it made for each. */
  const slow = new Map<string, number>();
  const created = new Map<string, number>();

  beforeAll(async () => {
    t = await startTestApi({
      customizeRuntime: (_operation, runtime) => {
        const inner = runtime.deps.vault;
        const vault = Object.assign(Object.create(inner), {
          create: async (secret: Parameters<typeof inner.create>[0]) => {
            const user = secret.tags['rekey:user'] ?? '';
            created.set(user, (created.get(user) ?? 0) + 1);
            await new Promise((resolve) => setTimeout(resolve, slow.get(user) ?? 0));
            return inner.create(secret);
          },
        });
        return { ...runtime, deps: { ...runtime.deps, vault } };
      },
    });
    for (const userId of ['u-sdk-race', 'u-sdk-slow']) {
      await t
        .runtime()
        .deps.directory.createUser(newUser({ realmId: DEMO_REALM_ID, userId, username: userId }));
    }
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

  it('409 Conflict: of resets of one user racing each other one lands, and the others are told at once, not retried', async () => {
    // Each reset reads the user, then waits on the vault: all four read the same version, one
    // switch lands, and the others lose theirs to a change of the password. A retry would undo
    // the reset that won (and the secret its caller was given), so it is Conflict, which OCI's
    // SDK does not retry.
    slow.set('u-sdk-race', 300);
    const before = signer.signed;
    const answers = await Promise.allSettled(
      Array.from({ length: 4 }, () => client.createOrResetUIPassword({ userId: 'u-sdk-race' })),
    );
    const won = answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    const lost = answers.flatMap((a) => (a.status === 'rejected' ? [a.reason as common.OciError] : []));
    expect(won).toHaveLength(1);
    expect(lost.map((e) => [e.statusCode, e.serviceCode])).toEqual(Array(3).fill([409, 'Conflict']));
    expect(lost[0]?.message).toMatch(/Another request changed the user/);
    expect(signer.signed - before).toBe(4);
    // The one secret given out is the user's, and it holds the password.
    const secretId = (won[0]?.uIPassword as RekeyUIPassword | undefined)?.passwordSecretId ?? '';
    expect((await t.getUser('u-sdk-race'))?.credential?.secretId).toBe(secretId);
    const vault = t.api.backend?.vault as LocalFileVault;
    expect(JSON.parse(await vault.read(secretId)).password).toEqual(expect.any(String));
  }, 60_000);

  it('409 IncorrectState: the SDK retries a call whose opc-retry-token is still in progress, and gets its answer', async () => {
    slow.set('u-sdk-slow', 1_000);
    const opcRetryToken = 'sdk-in-progress-1';
    const before = signer.signed;
    const first = client.createOrResetUIPassword({ userId: 'u-sdk-slow', opcRetryToken });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The same call again (a client that timed out, say) while the first is still running.
    const again = await client.createOrResetUIPassword({ userId: 'u-sdk-slow', opcRetryToken });
    const done = await first;
    expect((again.uIPassword as RekeyUIPassword).passwordSecretId).toBe(
      (done.uIPassword as RekeyUIPassword).passwordSecretId,
    );
    // Answered on a retry, after a 409, and the password was generated once.
    expect(signer.signed - before).toBeGreaterThanOrEqual(3);
    expect(created.get('u-sdk-slow')).toBe(1);
  }, 60_000);

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
