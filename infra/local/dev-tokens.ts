/**
 * Development tokens: an ES256 key pair kept in the data folder (0600), admin tokens signed
 * with it, and the verification the local gateway's token authorizer does — the one the
 * Lambda does, over a local key set (the development key, by its kid) instead of a JWKS URL.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  SignJWT,
} from 'jose';
import { ENV } from '#functions/contracts.ts';
import { keySetVerifier, MAX_TOKEN_LIFETIME_SECONDS } from '#functions/token-authorizer/authorizer.ts';
import { localKeySet } from '#functions/token-authorizer/jwks.ts';
import { ADMIN_SCOPE, REALM_CLAIM } from '#http/admin.ts';

export const DEV_ISSUER = process.env[ENV.jwtIssuer] || 'https://rekey.local/dev';
export const DEV_AUDIENCE = process.env[ENV.jwtAudience] || 'rekey-api';

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

export interface DevKey {
  privateKey: SigningKey;
  publicKey: SigningKey;
  kid: string;
  /** The development key set: the public key under its kid, ES256 only. */
  keySet: JWTVerifyGetKey;
}

/** Loads the data folder's signing key, creating it on first use. */
export async function loadDevKey(dataDir: string): Promise<DevKey> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, 'dev-jwt-key.json');
  if (!existsSync(path)) {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: `rekey-dev-${Date.now()}`, alg: 'ES256' };
    writeFileSync(path, JSON.stringify(jwk), { mode: 0o600 });
  }
  chmodSync(path, 0o600);
  const jwk = JSON.parse(readFileSync(path, 'utf8')) as JWK & { kid: string };
  const { d: _d, ...publicJwk } = jwk;
  return {
    privateKey: await importJWK(jwk, 'ES256'),
    publicKey: await importJWK(publicJwk, 'ES256'),
    kid: jwk.kid,
    keySet: localKeySet({ keys: [{ ...publicJwk, alg: 'ES256', use: 'sig' }] }),
  };
}

export interface TokenOptions {
  realmId: string;
  subject?: string;
  scopes?: string[];
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
}

/** Signs an admin token for one realm, for at most a day (rekey refuses longer lifetimes). */
export function mintToken(key: DevKey, options: TokenOptions): Promise<string> {
  const ttlSeconds = options.ttlSeconds ?? 12 * 3600;
  if (!Number.isFinite(ttlSeconds) || ttlSeconds > MAX_TOKEN_LIFETIME_SECONDS) {
    return Promise.reject(
      new Error(
        `a token lives at most ${MAX_TOKEN_LIFETIME_SECONDS} seconds (24 hours); rekey refuses longer ones`,
      ),
    );
  }
  return new SignJWT({
    scope: (options.scopes ?? [ADMIN_SCOPE]).join(' '),
    [REALM_CLAIM]: options.realmId,
  })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setSubject(options.subject ?? `admin@${options.realmId}`)
    .setIssuer(options.issuer ?? DEV_ISSUER)
    .setAudience(options.audience ?? DEV_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key.privateKey);
}

/**
 * Verifies a token as the Lambda authorizer does (same algorithms, same required claims),
 * against the development key set: a token naming another kid, or none, is refused.
 */
export function verifyToken(key: DevKey, token: string): Promise<JWTPayload> {
  return keySetVerifier(key.keySet, { issuer: DEV_ISSUER, audience: DEV_AUDIENCE })(token);
}
