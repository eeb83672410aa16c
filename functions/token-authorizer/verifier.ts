/**
 * The authorizer's verifier as the stack configures it (the issuer, audience and JWKS URL from
 * the environment), apart from handler.ts so that tests can build one from any environment
 * without the Lambda entry point reading process.env as it loads.
 */
import { requiredSetting } from '#adapters/settings.ts';
import { ENV } from '#functions/contracts.ts';
import { keySetVerifier, type TokenVerifier } from './authorizer.ts';
import { remoteKeySet } from './jwks.ts';

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
 * Verification against the issuer's published keys, as the stack configures it. A missing
 * issuer or audience, or a JWKS URL that is not https, fails here, when the function
 * initialises (a MissingSettingError naming the variable), rather than at every token.
 */
export function jwksVerifier(env: NodeJS.ProcessEnv = process.env): TokenVerifier {
  const issuer = requiredSetting(env, ENV.jwtIssuer);
  const audience = requiredSetting(env, ENV.jwtAudience)
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (audience.length === 0) throw new Error(`${ENV.jwtAudience} names no audience`);
  return keySetVerifier(remoteKeySet(jwksUrlOf(env)), { issuer, audience });
}
