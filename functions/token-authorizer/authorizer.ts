/**
 * What rekey's token authorizer accepts, apart from where its keys come from: the token's
 * place in the request, the verification (signature, algorithm, issuer, audience, times) and
 * the context it hands the route. The Lambda (`handler.ts`, keys from the issuer's JWKS) and
 * the local gateway (the development key set) both run this.
 */
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { REALM_CLAIM } from '#http/admin.ts';
import { ALLOWED_ALGORITHMS } from './jwks.ts';

export type AuthorizerContext = Record<string, string>;

/** Verifies a token; rejects when it is not valid. */
export type TokenVerifier = (token: string) => Promise<JWTPayload>;

/**
 * No JWT rekey accepts is longer. A longer one is refused unverified: a signature check of
 * a megabyte of base64 is work an anonymous caller should not be able to buy.
 */
export const MAX_TOKEN_LENGTH = 8192;

/**
 * The longest lifetime (`exp − iat`) of a token rekey accepts: 24 hours, the most Cognito
 * (access tokens: 5 minutes to 1 day), Okta (up to 1 day) and Entra ID (up to 1 day) issue.
 * A token minted for a year is a stolen credential for a year.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

/** How far ahead of our clock an issuer's `iat` may be: clocks drift, tokens are not post-dated. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

/**
 * The context keys the authorizer hands the route and API Gateway's access log
 * (`$context.authorizer.<key>`): `authenticated` ('true' or 'false'), and for an
 * authenticated token its verified subject (`sub`), scopes (`scope`) and realm (`rekey_realm`).
 */
export const CONTEXT_KEYS = { subject: 'sub', scope: 'scope', realm: REALM_CLAIM } as const;

/**
 * The token of a request: `X-Auth-Token` (Huawei's SDKs), `x-acs-bearer-token` (Alibaba's
 * SDKs, `Config.bearerToken`), or `Authorization: Bearer`. Two different tokens in two of
 * these headers carry no identity: which one counts would be a guess.
 */
export function tokenOf(headers: Record<string, string | undefined> | undefined): string | undefined {
  const xAuth = headers?.['x-auth-token']?.trim() || undefined;
  const acsBearer = headers?.['x-acs-bearer-token']?.trim() || undefined;
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers?.authorization?.trim() ?? '')?.[1];
  const given = new Set([xAuth, acsBearer, bearer].filter((token) => token !== undefined));
  if (given.size !== 1) return undefined;
  const [token] = given;
  return token !== undefined && token.length <= MAX_TOKEN_LENGTH ? token : undefined;
}

/**
 * The claims every accepted token must carry, whatever verified it: a subject, an expiry
 * (jose checks `exp` only when present; a token that never expires is not accepted), an issue
 * time not ahead of our clock by more than MAX_CLOCK_SKEW_SECONDS, and a lifetime of at most
 * MAX_TOKEN_LIFETIME_SECONDS.
 */
export function acceptableClaims(claims: JWTPayload, nowSeconds: number): boolean {
  const { exp, iat, sub } = claims;
  if (typeof sub !== 'string' || sub === '') return false;
  if (typeof exp !== 'number' || typeof iat !== 'number') return false;
  if (iat > nowSeconds + MAX_CLOCK_SKEW_SECONDS) return false;
  return exp - iat <= MAX_TOKEN_LIFETIME_SECONDS;
}

/**
 * Verification against a key resolver (the issuer's JWKS, or the development key set):
 * asymmetric algorithms only, each key its own algorithm (see `pinAlgorithms`), issuer and
 * audience, and `acceptableClaims` (which `createHandler` checks again, for any verifier).
 */
export function keySetVerifier(
  keys: JWTVerifyGetKey,
  expected: { issuer: string; audience: string | string[] },
): TokenVerifier {
  return async (token) => {
    const { payload } = await jwtVerify(token, keys, {
      issuer: expected.issuer,
      audience: expected.audience,
      algorithms: [...ALLOWED_ALGORITHMS],
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    if (!acceptableClaims(payload, Math.floor(Date.now() / 1000))) {
      throw new Error('the token lives too long, is post-dated, or lacks a subject');
    }
    return payload;
  };
}

/** Lets the request through with no identity: the function answers 401 in its dialect. */
function notAuthenticated(): APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext> {
  return { isAuthorized: true, context: { authenticated: 'false' } };
}

/** The authorizer over any verifier: the JWKS one in AWS, the development key set locally. */
export function createHandler(verify: TokenVerifier, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
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
    if (!acceptableClaims(claims, Math.floor(now() / 1000))) return notAuthenticated();
    return {
      isAuthorized: true,
      context: {
        authenticated: 'true',
        [CONTEXT_KEYS.subject]: claims.sub as string,
        [CONTEXT_KEYS.scope]: stringClaim(claims.scope),
        [CONTEXT_KEYS.realm]: stringClaim(claims[REALM_CLAIM]),
      },
    };
  };
}

/** A claim as the function reads it: a string, or nothing (never `[object Object]`). */
function stringClaim(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
