/**
 * The Lambda authorizer of every admin route. Callers send the token in `Authorization:
 * Bearer`, as Huawei's APIs expect in `X-Auth-Token`, or as Alibaba's SDKs send it in
 * `x-acs-bearer-token` — three places, which API Gateway's JWT authorizer cannot read (it
 * takes exactly one identity source).
 *
 * It verifies the token like a JWT authorizer would (signature against the issuer's JWKS,
 * issuer, audience, expiry) and more strictly (each key its one algorithm, a lifetime of at
 * most 24 hours, no post-dated `iat`: see `authorizer.ts`), and hands the route the verified
 * claims. It never answers a request itself: an unauthenticated request reaches the function
 * with `authenticated: false` and nothing else, and the function refuses it with a 401 in its
 * own dialect (OCI `{code, message}`, Huawei `{error_code, error_msg}`, Alibaba `{RequestId,
 * Code, Message}`), which API Gateway's fixed `{"message":"Unauthorized"}` would not be.
 */
import { ENV } from '#functions/contracts.ts';
import { createHandler, keySetVerifier, type TokenVerifier } from './authorizer.ts';
import { remoteKeySet } from './jwks.ts';

export {
  type AuthorizerContext,
  CONTEXT_KEYS,
  createHandler,
  MAX_TOKEN_LENGTH,
  type TokenVerifier,
  tokenOf,
} from './authorizer.ts';

/**
 * The issuer's JWKS URL, as the stack configures it: REKEY_JWKS_URL, else the issuer's
 * `/.well-known/jwks.json`. Throws unless it is an `https:` URL.
 */
export function jwksUrlOf(env: NodeJS.ProcessEnv): URL {
  const issuer = env[ENV.jwtIssuer] ?? '';
  const url = new URL(env[ENV.jwksUrl] || `${issuer.replace(/\/$/, '')}/.well-known/jwks.json`);
  if (url.protocol !== 'https:')
    throw new Error(`${ENV.jwksUrl} must be an https: URL (got ${url.protocol})`);
  return url;
}

/**
 * Verification against the issuer's published keys, as the stack configures it. A JWKS URL
 * that is not https fails here, when the function initialises, rather than at a token.
 */
export function jwksVerifier(env: NodeJS.ProcessEnv = process.env): TokenVerifier {
  const issuer = env[ENV.jwtIssuer] ?? '';
  const audience = (env[ENV.jwtAudience] ?? '').split(',').filter(Boolean);
  // Unconfigured: authenticate nobody.
  if (!issuer) return () => Promise.reject(new Error(`${ENV.jwtIssuer} is not set`));
  return keySetVerifier(remoteKeySet(jwksUrlOf(env)), { issuer, audience });
}

export const handler = createHandler(jwksVerifier());
