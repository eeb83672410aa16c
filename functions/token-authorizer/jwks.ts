/**
 * The issuer's signing keys, fetched over `node:https` and cached, for jose's `jwtVerify`.
 *
 * jose's own `createRemoteJWKSet` does the same over the global `fetch`, and builds a
 * `Headers` object as soon as it is created: on Node that loads undici, about 50 ms of cold
 * start measured here, in front of every cold admin request. Only the fetching is ours; the
 * key selection and every cryptographic check stay jose's (`createLocalJWKSet`).
 * Behaviour follows jose's: keys are kept for `cacheMaxAgeMs`, and a token signed by a key
 * the set does not hold triggers one refetch, at most every `cooldownMs` (key rotation).
 *
 * Every key verifies one algorithm only (`pinAlgorithms`): its own `alg`, or the one its key
 * type is used with. Without that an RSA key without `alg` would verify RS256, RS384, RS512,
 * PS256, PS384 and PS512 alike — the token, not the issuer, would pick.
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createLocalJWKSet, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';

/**
 * The signature algorithms rekey verifies at all: asymmetric ones only. A shared-secret
 * algorithm (HS*) would let anyone holding the issuer's public key sign; `none` signs nothing.
 */
export const ALLOWED_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/**
 * The algorithm of a key that does not name its own: what every issuer uses that key type
 * with (Entra ID publishes RSA keys without `alg`; its tokens, like Cognito's and Okta's, are
 * RS256). The curve fixes the EC algorithm (RFC 7518 §3.4).
 */
function defaultAlgorithm(jwk: JWK): string | undefined {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC') return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv ?? ''];
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

/**
 * The issuer's keys, each pinned to one algorithm (its `alg`, or its key type's); a key whose
 * algorithm is not an allowed one (a symmetric `oct` key, an encryption key, an unknown type)
 * is left out. jose then only hands a key to a token whose header names that algorithm.
 */
export function pinAlgorithms(jwks: JSONWebKeySet): JSONWebKeySet {
  return {
    keys: jwks.keys.flatMap((jwk) => {
      const alg = typeof jwk.alg === 'string' ? jwk.alg : defaultAlgorithm(jwk);
      return alg !== undefined && ALLOWED_ALGORITHMS.includes(alg) ? [{ ...jwk, alg }] : [];
    }),
  };
}

/** A key resolver over fixed keys (the development key set, or one JWKS answer), kid-strict. */
export function localKeySet(jwks: JSONWebKeySet): JWTVerifyGetKey {
  const keys = createLocalJWKSet(pinAlgorithms(jwks));
  return (header, token) => {
    // Every issuer names the signing key; without a kid jose would try each key of the type.
    if (typeof header.kid !== 'string' || header.kid === '') throw new Error('the token names no key (kid)');
    return keys(header, token);
  };
}

export interface RemoteKeySetOptions {
  /** How long fetched keys are trusted without asking again. Default 10 minutes (jose's). */
  cacheMaxAgeMs?: number;
  /** The least time between two fetches. Default 30 seconds (jose's). */
  cooldownMs?: number;
  /** A fetch that takes longer fails. Default 5 seconds (jose's). */
  timeoutMs?: number;
  now?: () => number;
  /** Tests only: accept an `http:` URL (a local issuer). Keys travel over TLS otherwise. */
  allowHttp?: boolean;
}

/** A JWKS document is small; a larger answer is refused rather than buffered. */
export const MAX_JWKS_BYTES = 64 * 1024;

/**
 * A key resolver for `jwtVerify` that reads the JWKS at `url`. Only `https:`: keys fetched
 * over plain HTTP are whatever anyone on the path chose. Refused when called (the
 * authorizer calls it at initialisation), not at the first token.
 */
export function remoteKeySet(url: URL, options: RemoteKeySetOptions = {}): JWTVerifyGetKey {
  if (url.protocol !== 'https:' && !(options.allowHttp && url.protocol === 'http:')) {
    throw new Error(`the JWKS URL must be https: (got ${url.protocol})`);
  }
  const cacheMaxAgeMs = options.cacheMaxAgeMs ?? 600_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const now = options.now ?? Date.now;
  let cached: { keys: JWTVerifyGetKey; fetchedAt: number } | undefined;
  let inFlight: Promise<JWTVerifyGetKey> | undefined;

  const refresh = (): Promise<JWTVerifyGetKey> => {
    inFlight ??= fetchJwks(url, timeoutMs)
      .then((jwks) => {
        const keys = localKeySet(jwks);
        cached = { keys, fetchedAt: now() };
        return keys;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return async (header, token) => {
    const fresh = cached && now() - cached.fetchedAt < cacheMaxAgeMs;
    const keys = fresh && cached ? cached.keys : await refresh();
    try {
      return await keys(header, token);
    } catch (error) {
      const rotated = (error as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY';
      if (!rotated || (cached && now() - cached.fetchedAt < cooldownMs)) throw error;
      return (await refresh())(header, token);
    }
  };
}

/** GETs and parses a JWKS document: 200, JSON, at most MAX_JWKS_BYTES, with a `keys` array. */
export function fetchJwks(url: URL, timeoutMs: number): Promise<JSONWebKeySet> {
  const get = url.protocol === 'https:' ? httpsGet : url.protocol === 'http:' ? httpGet : undefined;
  if (!get) return Promise.reject(new Error(`unsupported JWKS URL scheme ${url.protocol}`));
  return new Promise((resolve, reject) => {
    const request = get(url, { headers: { accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      readJson(res).then(resolve, reject);
    });
    request.on('timeout', () => request.destroy(new Error('JWKS request timed out')));
    request.on('error', reject);
  });
}

async function readJson(res: IncomingMessage): Promise<JSONWebKeySet> {
  if (res.statusCode !== 200) {
    res.resume();
    throw new Error(`JWKS answered HTTP ${res.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > MAX_JWKS_BYTES) {
      res.destroy();
      throw new Error('JWKS answer is too large');
    }
    chunks.push(chunk as Buffer);
  }
  const jwks = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as JSONWebKeySet).keys)) {
    throw new Error('JWKS answer has no keys array');
  }
  return jwks as JSONWebKeySet;
}
