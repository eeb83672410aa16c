/**
 * rekey's token authorizer, end to end over real signatures: the handler the Lambda runs,
 * over the verifier the local gateway uses (the development key set), and the JWKS
 * configuration of the Lambda. Every refusal is the same `{authenticated: 'false'}`.
 */
import type { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ForbiddenError } from '#core/errors.ts';
import { createHandler, MAX_TOKEN_LENGTH } from '#functions/token-authorizer/authorizer.ts';
import { jwksVerifier } from '#functions/token-authorizer/verifier.ts';
import { ADMIN_SCOPE, adminPrincipal, REALM_CLAIM } from '#http/admin.ts';
import type { HttpEvent } from '#http/request.ts';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  type DevKey,
  loadDevKey,
  mintToken,
  verifyToken,
} from '#infra/local/dev-tokens.ts';
import { startGateway } from '#infra/local/gateway.ts';

let dir: string;
let devKey: DevKey;
let authorize: ReturnType<typeof createHandler>;
let attacker: { privateKey: webcrypto.CryptoKey; jwk: JWK };

const HOUR = 3600;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-authorizer-'));
  devKey = await loadDevKey(dir);
  authorize = createHandler((token) => verifyToken(devKey, token));
  const pair = await generateKeyPair('ES256', { extractable: true });
  attacker = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: devKey.kid } };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Claims of a valid admin token for the demo realm, issued now for an hour. */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  return {
    sub: 'admin@demo',
    scope: ADMIN_SCOPE,
    [REALM_CLAIM]: 'demo',
    iss: DEV_ISSUER,
    aud: DEV_AUDIENCE,
    iat: now,
    exp: now + HOUR,
    ...overrides,
  };
}

/**
 * A compact JWS over exactly this header and payload, ES256-signed by `key` (the development
 * key unless told): no library in between to tidy a header jose would refuse to produce.
 */
async function rawToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: webcrypto.CryptoKey = devKey.privateKey as webcrypto.CryptoKey,
): Promise<string> {
  const input = `${b64({ alg: 'ES256', kid: devKey.kid, typ: 'JWT', ...header })}.${b64(payload)}`;
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    key,
    new TextEncoder().encode(input),
  );
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

/** The authorizer's context for a token sent as a Bearer token. */
async function contextFor(token: string) {
  return (await authorize({ headers: { authorization: `Bearer ${token}` } })).context;
}

const REFUSED = { authenticated: 'false' };

describe('the token authorizer accepts', () => {
  it('a development token, and hands on exactly the verified subject, scope and realm', async () => {
    const token = await mintToken(devKey, { realmId: 'demo', subject: 'admin@demo' });
    const result = await authorize({ headers: { 'x-auth-token': token } });
    expect(result).toEqual({
      isAuthorized: true,
      context: { authenticated: 'true', sub: 'admin@demo', scope: ADMIN_SCOPE, [REALM_CLAIM]: 'demo' },
    });
  });

  it("a token in x-acs-bearer-token, the header Alibaba's SDKs send (Config.bearerToken)", async () => {
    const token = await mintToken(devKey, { realmId: 'demo', subject: 'alibaba@demo' });
    const result = await authorize({ headers: { 'x-acs-bearer-token': token } });
    expect(result.context).toMatchObject({ authenticated: 'true', sub: 'alibaba@demo' });
    const everywhere = await authorize({
      headers: { 'x-acs-bearer-token': token, 'x-auth-token': token, authorization: `Bearer ${token}` },
    });
    expect(everywhere.context).toMatchObject({ authenticated: 'true', sub: 'alibaba@demo' });
  });

  it('a lifetime of exactly 24 hours, and an iat up to 5 minutes ahead of our clock', async () => {
    const now = nowSeconds();
    for (const times of [
      { iat: now, exp: now + 24 * HOUR },
      { iat: now + 240, exp: now + HOUR },
    ]) {
      expect(await contextFor(await rawToken({}, claims(times)))).toMatchObject({ authenticated: 'true' });
    }
  });
});

describe('the token authorizer refuses (as no identity)', () => {
  const cases: Array<[string, () => Promise<string>]> = [
    // Finding 11: rules added.
    [
      'a lifetime of 24 hours and 1 second',
      () => rawToken({}, claims({ exp: nowSeconds() + 24 * HOUR + 1 })),
    ],
    [
      'a lifetime of a year',
      () => rawToken({}, claims({ iat: nowSeconds() - 60, exp: nowSeconds() + 365 * 24 * HOUR })),
    ],
    ['an iat 6 minutes in the future', () => rawToken({}, claims({ iat: nowSeconds() + 360 }))],
    ['no iat', () => rawToken({}, claims({ iat: undefined }))],
    ['an iat that is not a number', () => rawToken({}, claims({ iat: String(nowSeconds()) }))],
    ['a kid the development key set does not hold', () => rawToken({ kid: 'rekey-dev-0' }, claims())],
    ['no kid', () => rawToken({ kid: undefined }, claims())],
    // Held before; kept covered.
    ['alg "none"', async () => `${b64({ alg: 'none', typ: 'JWT', kid: devKey.kid })}.${b64(claims())}.`],
    [
      'HS256 keyed with the public key (its JWK)',
      async () =>
        new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid: devKey.kid })
          .sign(new TextEncoder().encode(JSON.stringify(await exportJWK(devKey.publicKey)))),
    ],
    [
      'HS256 keyed with the public key (its PEM)',
      async () =>
        new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid: devKey.kid })
          .sign(new TextEncoder().encode(await exportSPKI(devKey.publicKey as webcrypto.CryptoKey))),
    ],
    ["an attacker's key under the development kid", () => rawToken({}, claims(), attacker.privateKey)],
    [
      "an attacker's key embedded in the header (jwk)",
      () => rawToken({ jwk: attacker.jwk }, claims(), attacker.privateKey),
    ],
    [
      "an attacker's key set named in the header (jku)",
      () => rawToken({ jku: 'https://evil.example/jwks.json' }, claims(), attacker.privateKey),
    ],
    [
      'an unknown critical header',
      () => rawToken({ crit: ['x-rekey-mode'], 'x-rekey-mode': 'admin' }, claims()),
    ],
    [
      'an expired token',
      () => rawToken({}, claims({ iat: nowSeconds() - 2 * HOUR, exp: nowSeconds() - 60 })),
    ],
    ['an nbf in the future', () => rawToken({}, claims({ nbf: nowSeconds() + 600 }))],
    ['another audience', () => rawToken({}, claims({ aud: 'someone-else' }))],
    ['another issuer', () => rawToken({}, claims({ iss: 'https://evil.example' }))],
    ['no exp', () => rawToken({}, claims({ exp: undefined }))],
    ['no sub', () => rawToken({}, claims({ sub: undefined }))],
    ['an empty sub', () => rawToken({}, claims({ sub: '' }))],
    [
      'claims edited after signing',
      async () => {
        const [header, , signature] = (await rawToken({}, claims())).split('.');
        return `${header}.${b64(claims({ [REALM_CLAIM]: 'other' }))}.${signature}`;
      },
    ],
  ];

  it.each(cases)('%s', async (_what, token) => {
    expect(await contextFor(await token())).toEqual(REFUSED);
  });

  it('two different tokens in X-Auth-Token and Authorization, though both are valid', async () => {
    const first = await mintToken(devKey, { realmId: 'demo', subject: 'first@demo' });
    const second = await mintToken(devKey, { realmId: 'demo', subject: 'second@demo' });
    const result = await authorize({ headers: { 'x-auth-token': first, authorization: `Bearer ${second}` } });
    expect(result.context).toEqual(REFUSED);
    const same = await authorize({ headers: { 'x-auth-token': first, authorization: `Bearer ${first}` } });
    expect(same.context).toMatchObject({ authenticated: 'true', sub: 'first@demo' });
  });

  it('two different tokens in x-acs-bearer-token and X-Auth-Token or Authorization', async () => {
    const first = await mintToken(devKey, { realmId: 'demo', subject: 'first@demo' });
    const second = await mintToken(devKey, { realmId: 'demo', subject: 'second@demo' });
    for (const other of [{ 'x-auth-token': second }, { authorization: `Bearer ${second}` }]) {
      const result = await authorize({ headers: { 'x-acs-bearer-token': first, ...other } });
      expect(result.context).toEqual(REFUSED);
    }
  });

  it('a token over 8 KiB without verifying it', async () => {
    const verify = vi.fn(() => Promise.resolve(claims()));
    const handler = createHandler(verify);
    const token = `${b64({ alg: 'ES256' })}.${'a'.repeat(MAX_TOKEN_LENGTH)}.sig`;
    expect((await handler({ headers: { 'x-auth-token': token } })).context).toEqual(REFUSED);
    expect(verify).not.toHaveBeenCalled();
  });

  it('claims over the limits from any verifier (the handler checks them itself)', async () => {
    const now = nowSeconds();
    for (const payload of [
      claims({ iat: now, exp: now + 24 * HOUR + 1 }),
      claims({ iat: now + 360 }),
      claims({ iat: undefined }),
    ]) {
      const handler = createHandler(() => Promise.resolve(payload));
      expect((await handler({ headers: { 'x-auth-token': 'x.y.z' } })).context).toEqual(REFUSED);
    }
  });
});

describe('claims the route reads, as the authorizer hands them on', () => {
  const principalOf = async (overrides: Record<string, unknown>) => {
    const context = await contextFor(await rawToken({}, claims(overrides)));
    return adminPrincipal({ requestContext: { authorizer: { lambda: context } } } as unknown as HttpEvent);
  };

  it('a realm claim given as an array is no realm (403), not its first element', async () => {
    expect(await contextFor(await rawToken({}, claims({ [REALM_CLAIM]: ['demo', 'other'] })))).toMatchObject({
      [REALM_CLAIM]: '',
    });
    await expect(principalOf({ [REALM_CLAIM]: ['demo', 'other'] })).rejects.toThrow(ForbiddenError);
  });

  it('a realm claim "*" is no realm (not an id: 403), not a wildcard', async () => {
    await expect(principalOf({ [REALM_CLAIM]: '*' })).rejects.toThrow(ForbiddenError);
  });

  it.each([
    ['an array of scopes', [ADMIN_SCOPE]],
    ['an object', { [ADMIN_SCOPE]: true }],
    ['a scope that only starts with the admin scope', `${ADMIN_SCOPE}x`],
  ])('a scope claim given as %s grants nothing (403)', async (_what, scope) => {
    await expect(principalOf({ scope })).rejects.toThrow(ForbiddenError);
  });

  it('the admin scope among others grants the admin scope', async () => {
    expect(await principalOf({ scope: `openid ${ADMIN_SCOPE} profile` })).toMatchObject({ realmId: 'demo' });
  });
});

describe('the local gateway', () => {
  it('hands a route exactly the context the authorizer returns, as requestContext.authorizer.lambda', async () => {
    const seen: unknown[] = [];
    const gateway = await startGateway({
      port: 0,
      routes: [
        {
          operation: 'echo',
          methods: ['GET'],
          path: '/echo',
          dialect: 'huawei',
          auth: 'admin',
          answersOtherMethods: false,
          seed: 'test',
        },
      ],
      handlers: new Map([
        [
          'echo',
          async (event: HttpEvent) => {
            seen.push(event.requestContext.authorizer);
            return { statusCode: 204 };
          },
        ],
      ]),
      verifyToken: (token) => verifyToken(devKey, token),
    });
    try {
      const token = await mintToken(devKey, { realmId: 'demo', subject: 'admin@demo' });
      const wrongKid = await rawToken({ kid: 'rekey-dev-0' }, claims());
      for (const headers of [{ 'x-auth-token': token }, { 'x-auth-token': wrongKid }]) {
        expect((await fetch(`${gateway.url}/echo`, { headers })).status).toBe(204);
      }
    } finally {
      await gateway.close();
    }
    expect(seen).toEqual([
      { lambda: { authenticated: 'true', sub: 'admin@demo', scope: ADMIN_SCOPE, [REALM_CLAIM]: 'demo' } },
      { lambda: REFUSED },
    ]);
  });
});

describe('development tokens', () => {
  it('are not minted for longer than 24 hours', async () => {
    await expect(mintToken(devKey, { realmId: 'demo', ttlSeconds: 24 * HOUR + 1 })).rejects.toThrow(
      '24 hours',
    );
    await expect(mintToken(devKey, { realmId: 'demo', ttlSeconds: 24 * HOUR })).resolves.toEqual(
      expect.any(String),
    );
  });
});

describe('the Lambda configuration (jwksVerifier)', () => {
  it.each([
    [
      'an http: REKEY_JWKS_URL',
      { REKEY_JWT_ISSUER: 'https://issuer.test', REKEY_JWKS_URL: 'http://issuer.test/jwks' },
    ],
    ['an http: issuer and no REKEY_JWKS_URL', { REKEY_JWT_ISSUER: 'http://issuer.test' }],
  ])('fails at initialisation on %s', (_what, env) => {
    expect(() => jwksVerifier({ ...env, REKEY_JWT_AUDIENCE: 'rekey-api' })).toThrow('https:');
  });

  it('starts with an https: JWKS URL, fetching nothing until a token comes', () => {
    expect(typeof jwksVerifier({ REKEY_JWT_ISSUER: 'https://issuer.test', REKEY_JWT_AUDIENCE: 'a' })).toBe(
      'function',
    );
  });

  it.each([
    ['no issuer', { REKEY_JWT_AUDIENCE: 'rekey-api' }, 'REKEY_JWT_ISSUER is not set'],
    ['no audience', { REKEY_JWT_ISSUER: 'https://issuer.test' }, 'REKEY_JWT_AUDIENCE is not set'],
    [
      'an audience list that names none',
      { REKEY_JWT_ISSUER: 'https://issuer.test', REKEY_JWT_AUDIENCE: ',' },
      'REKEY_JWT_AUDIENCE names no audience',
    ],
    [
      'an audience list of blanks',
      { REKEY_JWT_ISSUER: 'https://issuer.test', REKEY_JWT_AUDIENCE: ' , ' },
      'REKEY_JWT_AUDIENCE names no audience',
    ],
  ])('fails at initialisation, naming the variable, with %s', (_what, env, message) => {
    // As every other function's settings do: a misconfigured authorizer fails its cold start
    // (visible in its init errors), rather than starting and quietly refusing every token.
    expect(() => jwksVerifier(env)).toThrow(message);
  });
});
