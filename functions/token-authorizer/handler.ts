/**
 * The Lambda authorizer of the Huawei routes, whose callers send the token in `X-Auth-Token`
 * (Huawei's header) or `Authorization: Bearer` — two places, which API Gateway's JWT
 * authorizer cannot read (it takes exactly one identity source).
 *
 * It verifies the token like the JWT authorizer (signature against the issuer's JWKS,
 * issuer, audience, expiry) and hands the route the verified claims. It never answers a
 * request itself: an unauthenticated request reaches the function with `authenticated:
 * false` and nothing else, and the function refuses it with a 401 in Huawei's own error
 * body, which API Gateway's fixed `{"message":"Forbidden"}` would not be.
 */
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { REALM_CLAIM } from '#http/admin.ts';

export type AuthorizerContext = Record<string, string>;

/** Verifies a token; rejects when it is not valid. */
export type TokenVerifier = (token: string) => Promise<JWTPayload>;

/** The token of a Huawei-style request: `X-Auth-Token`, else `Authorization: Bearer`. */
export function tokenOf(headers: Record<string, string | undefined> | undefined): string | undefined {
  const xAuth = headers?.['x-auth-token']?.trim();
  if (xAuth) return xAuth;
  return /^Bearer\s+(\S+)$/i.exec(headers?.authorization ?? '')?.[1];
}

/** The authorizer over any verifier: the JWKS one in AWS, the development key locally. */
export function createHandler(verify: TokenVerifier) {
  return async (
    event: Pick<APIGatewayRequestAuthorizerEventV2, 'headers'>,
  ): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>> => {
    const token = tokenOf(event.headers);
    if (!token) return { isAuthorized: true, context: { authenticated: 'false' } };
    try {
      const claims = await verify(token);
      return {
        isAuthorized: true,
        context: {
          authenticated: 'true',
          sub: String(claims.sub ?? ''),
          scope: String(claims.scope ?? ''),
          [REALM_CLAIM]: String(claims[REALM_CLAIM] ?? ''),
        },
      };
    } catch {
      return { isAuthorized: true, context: { authenticated: 'false' } };
    }
  };
}

/** Verification against the issuer's published keys, as the stack configures it. */
export function jwksVerifier(env: NodeJS.ProcessEnv = process.env): TokenVerifier {
  const issuer = env.REKEY_JWT_ISSUER ?? '';
  const audience = (env.REKEY_JWT_AUDIENCE ?? '').split(',').filter(Boolean);
  // Unconfigured (e.g. imported by the local gateway): authenticate nobody.
  if (!issuer) return () => Promise.reject(new Error('REKEY_JWT_ISSUER is not set'));
  const jwks = createRemoteJWKSet(
    new URL(env.REKEY_JWKS_URL || `${issuer.replace(/\/$/, '')}/.well-known/jwks.json`),
  );
  return async (token) => (await jwtVerify(token, jwks, { issuer, audience })).payload;
}

export const handler = createHandler(jwksVerifier());
