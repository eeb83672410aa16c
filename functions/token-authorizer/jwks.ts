/**
 * The issuer's signing keys, fetched over `node:https` and cached, for jose's `jwtVerify`.
 *
 * jose's own `createRemoteJWKSet` does the same over the global `fetch`, and builds a
 * `Headers` object as soon as it is created: on Node that loads undici, about 50 ms of cold
 * start measured here, in front of every cold admin request. Only the fetching is ours; the
 * key selection and every cryptographic check stay jose's (`createLocalJWKSet`).
 * Behaviour follows jose's: keys are kept for `cacheMaxAgeMs`, and a token signed by a key
 * the set does not hold triggers one refetch, at most every `cooldownMs` (key rotation).
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

export interface RemoteKeySetOptions {
  /** How long fetched keys are trusted without asking again. Default 10 minutes (jose's). */
  cacheMaxAgeMs?: number;
  /** The least time between two fetches. Default 30 seconds (jose's). */
  cooldownMs?: number;
  /** A fetch that takes longer fails. Default 5 seconds (jose's). */
  timeoutMs?: number;
  now?: () => number;
}

/** A JWKS document is small; a larger answer is refused rather than buffered. */
export const MAX_JWKS_BYTES = 64 * 1024;

/** A key resolver for `jwtVerify` that reads the JWKS at `url` (https, or http for tests). */
export function remoteKeySet(url: URL, options: RemoteKeySetOptions = {}): JWTVerifyGetKey {
  const cacheMaxAgeMs = options.cacheMaxAgeMs ?? 600_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const now = options.now ?? Date.now;
  let cached: { keys: JWTVerifyGetKey; fetchedAt: number } | undefined;
  let inFlight: Promise<JWTVerifyGetKey> | undefined;

  const refresh = (): Promise<JWTVerifyGetKey> => {
    inFlight ??= fetchJwks(url, timeoutMs)
      .then((jwks) => {
        const keys = createLocalJWKSet(jwks);
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
