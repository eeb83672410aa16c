/**
 * The Lambda authorizer of every admin route. Callers send the token in `Authorization:
 * Bearer` or, as Huawei's APIs expect, in `X-Auth-Token` — two places, which API Gateway's
 * JWT authorizer cannot read (it takes exactly one identity source).
 *
 * It verifies the token like a JWT authorizer would (signature against the issuer's JWKS,
 * issuer, audience, expiry) and hands the route the verified claims. It never answers a
 * request itself: an unauthenticated request reaches the function with `authenticated:
 * false` and nothing else, and the function refuses it with a 401 in its own dialect (OCI
 * `{code, message}`, Huawei `{error_code, error_msg}`, Alibaba `{RequestId, Code, Message}`),
 * which API Gateway's fixed `{"message":"Unauthorized"}` would not be.
 */
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { type JWTPayload, jwtVerify } from 'jose';
import { REALM_CLAIM } from '#http/admin.ts';
import { remoteKeySet } from './jwks.ts';

export type AuthorizerContext = Record<string, string>;

/** Verifies a token; rejects when it is not valid. */
export type TokenVerifier = (token: string) => Promise<JWTPayload>;

/**
 * No JWT rekey accepts is longer. A longer one is refused unverified: a signature check of
 * a megabyte of base64 is work an anonymous caller should not be able to buy.
 */
export const MAX_TOKEN_LENGTH = 8192;

/**
 * The token of a request: `X-Auth-Token`, or `Authorization: Bearer`. Two different tokens
 * in the two headers carry no identity: which one counts would be a guess.
 */
export function tokenOf(headers: Record<string, string | undefined> | undefined): string | undefined {
  const xAuth = headers?.['x-auth-token']?.trim() || undefined;
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers?.authorization?.trim() ?? '')?.[1];
  if (xAuth !== undefined && bearer !== undefined && xAuth !== bearer) return undefined;
  const token = xAuth ?? bearer;
  return token !== undefined && token.length <= MAX_TOKEN_LENGTH ? token : undefined;
}

/** Lets the request through with no identity: the function answers 401 in its dialect. */
function notAuthenticated(): APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext> {
  return { isAuthorized: true, context: { authenticated: 'false' } };
}

/** The authorizer over any verifier: the JWKS one in AWS, the development key locally. */
export function createHandler(verify: TokenVerifier) {
  return async (
    event: Pick<APIGatewayRequestAuthorizerEventV2, 'headers'>,
  ): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>> => {
    const token = tokenOf(event.headers);
    if (!token) return notAuthenticated();
    let claims: JWTPayload;
    try {
      claims = await verify(token);
    } catch {
      return notAuthenticated();
    }
    // jose checks `exp` only when it is present; a token that never expires is not accepted.
    if (typeof claims.exp !== 'number' || typeof claims.sub !== 'string' || claims.sub === '') {
      return notAuthenticated();
    }
    return {
      isAuthorized: true,
      context: {
        authenticated: 'true',
        sub: claims.sub,
        scope: stringClaim(claims.scope),
        [REALM_CLAIM]: stringClaim(claims[REALM_CLAIM]),
      },
    };
  };
}

/** A claim as the function reads it: a string, or nothing (never `[object Object]`). */
function stringClaim(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Verification against the issuer's published keys, as the stack configures it. */
export function jwksVerifier(env: NodeJS.ProcessEnv = process.env): TokenVerifier {
  const issuer = env.REKEY_JWT_ISSUER ?? '';
  const audience = (env.REKEY_JWT_AUDIENCE ?? '').split(',').filter(Boolean);
  // Unconfigured (e.g. imported by the local gateway): authenticate nobody.
  if (!issuer) return () => Promise.reject(new Error('REKEY_JWT_ISSUER is not set'));
  const jwks = remoteKeySet(
    new URL(env.REKEY_JWKS_URL || `${issuer.replace(/\/$/, '')}/.well-known/jwks.json`),
  );
  return async (token) => (await jwtVerify(token, jwks, { issuer, audience })).payload;
}

export const handler = createHandler(jwksVerifier());
