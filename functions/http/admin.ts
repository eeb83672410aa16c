/**
 * Who is calling an admin route. In AWS an authorizer has already checked the token's
 * signature, issuer, audience and expiry (API Gateway's JWT authorizer, or rekey's token
 * authorizer on the Huawei routes); locally the gateway does the same with the development
 * key. Here the verified claims become an AdminPrincipal — or a refusal in the route's dialect.
 */
import { ForbiddenError, NotAuthenticatedError } from '#core/errors.ts';
import type { AdminPrincipal } from '#core/model.ts';
import type { HttpEvent } from './request.ts';

/** The OAuth scope an admin token must carry. */
export const ADMIN_SCOPE = 'rekey/admin';
/** The claim naming the one realm an admin token may act in. */
export const REALM_CLAIM = 'rekey_realm';

type Claims = Record<string, unknown>;

/**
 * The verified claims: from API Gateway's JWT authorizer (`authorizer.jwt`), or from rekey's
 * token authorizer on the Huawei routes (`authorizer.lambda`, only when it says
 * `authenticated: 'true'`). Anything else carries no identity.
 */
function verifiedClaims(event: HttpEvent): { claims: Claims; scopes: string[] } | undefined {
  const authorizer = event.requestContext?.authorizer as
    | { jwt?: { claims?: Claims; scopes?: string[] | null }; lambda?: Claims }
    | undefined;
  if (authorizer?.jwt?.claims) {
    const { claims, scopes } = authorizer.jwt;
    return { claims, scopes: [...(scopes ?? []), ...String(claims.scope ?? '').split(' ')] };
  }
  if (authorizer?.lambda?.authenticated === 'true') {
    return { claims: authorizer.lambda, scopes: String(authorizer.lambda.scope ?? '').split(' ') };
  }
  return undefined;
}

/** The verified admin behind a request; throws NotAuthenticated or Forbidden. */
export function adminPrincipal(event: HttpEvent): AdminPrincipal {
  const verified = verifiedClaims(event);
  const subject = verified?.claims.sub;
  if (!verified || typeof subject !== 'string' || subject === '') {
    throw new NotAuthenticatedError('The request carries no valid token.');
  }
  if (!verified.scopes.includes(ADMIN_SCOPE)) {
    throw new ForbiddenError(`The token does not grant the ${ADMIN_SCOPE} scope.`);
  }
  const realmId = verified.claims[REALM_CLAIM];
  if (typeof realmId !== 'string' || realmId === '') {
    throw new ForbiddenError(`The token names no realm (claim ${REALM_CLAIM}).`);
  }
  return { subject, realmId };
}
