import type { KeyObject, webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchJwks, MAX_JWKS_BYTES, remoteKeySet } from '#functions/token-authorizer/jwks.ts';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

/** The test issuer answers over plain HTTP on 127.0.0.1; production URLs must be https. */
const local = { allowHttp: true };

/** What the issuer serves next, and how often it was asked. */
const issuer = { body: '', status: 200, delayMs: 0, requests: 0 };
let server: Server;
let url: URL;
let first: { pair: KeyPair; jwk: JWK };
let second: { pair: KeyPair; jwk: JWK };

async function signingKey(kid: string) {
  const pair = await generateKeyPair('ES256');
  return { pair, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

function serve(...jwks: JWK[]) {
  issuer.body = JSON.stringify({ keys: jwks });
  issuer.status = 200;
}

async function token(key: { pair: KeyPair; jwk: JWK }) {
  return new SignJWT({ scope: 'rekey/admin' })
    .setProtectedHeader({ alg: 'ES256', kid: key.jwk.kid ?? '' })
    .setSubject('admin@test')
    .setExpirationTime('5m')
    .sign(key.pair.privateKey);
}

beforeAll(async () => {
  first = await signingKey('k1');
  second = await signingKey('k2');
  server = createServer((_req, res) => {
    issuer.requests += 1;
    setTimeout(() => {
      res.writeHead(issuer.status, { 'content-type': 'application/json' });
      res.end(issuer.body);
    }, issuer.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`);
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  serve(first.jwk);
  issuer.requests = 0;
  issuer.delayMs = 0;
});

describe('remoteKeySet', () => {
  it('verifies a token signed by a key the issuer publishes, fetching the keys once', async () => {
    const keys = remoteKeySet(url, local);
    for (let i = 0; i < 3; i++) {
      const { payload } = await jwtVerify(await token(first), keys);
      expect(payload.sub).toBe('admin@test');
    }
    expect(issuer.requests).toBe(1);
  });

  it('asks again once its keys are older than the cache age', async () => {
    let clock = 0;
    const keys = remoteKeySet(url, { ...local, cacheMaxAgeMs: 1_000, now: () => clock });
    await jwtVerify(await token(first), keys);
    clock = 1_500;
    await jwtVerify(await token(first), keys);
    expect(issuer.requests).toBe(2);
  });

  it('follows a key rotation with one refetch, but not more often than its cooldown', async () => {
    let clock = 0;
    const keys = remoteKeySet(url, { ...local, cooldownMs: 30_000, now: () => clock });
    await jwtVerify(await token(first), keys);
    serve(first.jwk, second.jwk);

    clock = 10_000;
    await expect(jwtVerify(await token(second), keys)).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
    expect(issuer.requests).toBe(1);

    clock = 31_000;
    const { payload } = await jwtVerify(await token(second), keys);
    expect(payload.sub).toBe('admin@test');
    expect(issuer.requests).toBe(2);
  });

  it('shares one fetch among concurrent first verifications', async () => {
    issuer.delayMs = 50;
    const keys = remoteKeySet(url, local);
    const tokens = await Promise.all([1, 2, 3, 4].map(() => token(first)));
    await Promise.all(tokens.map((t) => jwtVerify(t, keys)));
    expect(issuer.requests).toBe(1);
  });

  it('refuses a token signed by a key the issuer does not publish', async () => {
    const stranger = await signingKey('k1');
    await expect(jwtVerify(await token(stranger), remoteKeySet(url, local))).rejects.toThrow();
  });
});

/** A token signed with `alg` by `privateKey`, naming `kid` (or no kid). */
function tokenWith(
  alg: string,
  privateKey: webcrypto.CryptoKey | KeyObject | Uint8Array,
  kid: string | undefined,
) {
  return new SignJWT({ scope: 'rekey/admin' })
    .setProtectedHeader(kid === undefined ? { alg } : { alg, kid })
    .setSubject('admin@test')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);
}

/** What jwtVerify makes of a token against `keys`: 'accepted' or jose's error code. */
async function outcome(jwt: string, keys: JWTVerifyGetKey): Promise<string> {
  try {
    await jwtVerify(jwt, keys);
    return 'accepted';
  } catch (error) {
    return (error as { code?: string }).code ?? 'refused';
  }
}

describe('remoteKeySet: one algorithm per key', () => {
  // One RSA key pair, which can sign with every RSA algorithm (RS*, PS*): only the key set
  // decides which one it verifies.
  let rsaPrivate: JWK;
  let rsaPublic: JWK;
  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    const { alg: _private, ...privateJwk } = await exportJWK(pair.privateKey);
    const { alg: _public, ...publicJwk } = await exportJWK(pair.publicKey);
    rsaPrivate = privateJwk;
    rsaPublic = { ...publicJwk, kid: 'rsa-1', use: 'sig' };
  });

  const rsaKeyFor = (alg: string) => importJWK(rsaPrivate, alg);

  it('verifies an RSA key without alg with RS256 only: PS256 and RS512 signatures by the same key are refused', async () => {
    serve(rsaPublic);
    const keys = remoteKeySet(url, local);
    expect(await outcome(await tokenWith('RS256', await rsaKeyFor('RS256'), 'rsa-1'), keys)).toBe('accepted');
    for (const alg of ['PS256', 'RS512', 'RS384', 'PS512']) {
      expect([alg, await outcome(await tokenWith(alg, await rsaKeyFor(alg), 'rsa-1'), keys)]).toEqual([
        alg,
        'ERR_JWKS_NO_MATCHING_KEY',
      ]);
    }
  });

  it("honours a key's own alg: an RSA key published as PS256 verifies PS256, not RS256", async () => {
    serve({ ...rsaPublic, alg: 'PS256' });
    const keys = remoteKeySet(url, local);
    expect(await outcome(await tokenWith('PS256', await rsaKeyFor('PS256'), 'rsa-1'), keys)).toBe('accepted');
    expect(await outcome(await tokenWith('RS256', await rsaKeyFor('RS256'), 'rsa-1'), keys)).toBe(
      'ERR_JWKS_NO_MATCHING_KEY',
    );
  });

  it('verifies an EC P-256 key without alg with ES256 only', async () => {
    const { alg: _alg, ...noAlg } = first.jwk;
    serve(noAlg);
    const keys = remoteKeySet(url, local);
    expect(await outcome(await tokenWith('ES256', first.pair.privateKey, 'k1'), keys)).toBe('accepted');
  });

  it('leaves out a symmetric key the issuer publishes: an HS256 token signed with it is refused', async () => {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    serve(first.jwk, { kty: 'oct', k: Buffer.from(secret).toString('base64url'), kid: 'hmac', alg: 'HS256' });
    const keys = remoteKeySet(url, local);
    expect(await outcome(await tokenWith('HS256', secret, 'hmac'), keys)).not.toBe('accepted');
  });

  it('refuses a token that names no key (no kid), even when only one key could match', async () => {
    const keys = remoteKeySet(url, local);
    expect(await outcome(await tokenWith('ES256', first.pair.privateKey, undefined), keys)).not.toBe(
      'accepted',
    );
    expect(await outcome(await tokenWith('ES256', first.pair.privateKey, 'k1'), keys)).toBe('accepted');
  });
});

describe('remoteKeySet: the JWKS URL', () => {
  it.each([
    ['http:', 'http://issuer.example/.well-known/jwks.json'],
    ['file:', 'file:///etc/jwks.json'],
  ])('refuses an %s URL when created, before any token or fetch', (_scheme, address) => {
    expect(() => remoteKeySet(new URL(address))).toThrow('https:');
    expect(issuer.requests).toBe(0);
  });

  it('accepts an https: URL without fetching anything yet', () => {
    expect(typeof remoteKeySet(new URL('https://issuer.example/.well-known/jwks.json'))).toBe('function');
  });
});

describe('fetchJwks', () => {
  it('refuses an answer that is not a 200', async () => {
    issuer.status = 503;
    await expect(fetchJwks(url, 1_000)).rejects.toThrow('HTTP 503');
  });

  it('refuses an answer without a keys array', async () => {
    issuer.body = JSON.stringify({ not: 'keys' });
    await expect(fetchJwks(url, 1_000)).rejects.toThrow('no keys array');
  });

  it('refuses an answer larger than the cap without buffering it', async () => {
    issuer.body = JSON.stringify({ keys: [], pad: 'x'.repeat(MAX_JWKS_BYTES) });
    await expect(fetchJwks(url, 1_000)).rejects.toThrow('too large');
  });

  it('gives up on an issuer slower than the timeout', async () => {
    issuer.delayMs = 500;
    await expect(fetchJwks(url, 50)).rejects.toThrow('timed out');
  });

  it('refuses any scheme but https and http', async () => {
    await expect(fetchJwks(new URL('file:///etc/passwd'), 1_000)).rejects.toThrow('unsupported');
  });
});
