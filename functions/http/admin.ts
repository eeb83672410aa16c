/**
 * Who is calling an admin route. In AWS rekey's token authorizer (a Lambda authorizer on
 * every admin route) has already checked the token's signature, issuer, audience and
 * expiry; locally the gateway runs the very same authorizer over the development key. Here
 * the verified claims become an AdminPrincipal — or a refusal in the route's dialect.
 */
import { ForbiddenError, NotAuthenticatedError } from '#core/errors.ts';
import type { AdminPrincipal } from '#core/model.ts';
import type { HttpEvent } from './request.ts';
import { isIdText } from './text.ts';

/** The OAuth scope an admin token must carry. */
export const ADMIN_SCOPE = 'rekey/admin';
/** The claim naming the one realm an admin token may act in. */
export const REALM_CLAIM = 'rekey_realm';

/** The longest realm id (`rekey realm create` and the routes' id rule). */
const REALM_ID_MAX = 255;

type Claims = Record<string, unknown>;

/**
 * The verified claims: from rekey's token authorizer (`authorizer.lambda`), and only when it
 * says `authenticated: 'true'`. Anything else carries no identity — a JWT authorizer's
 * context included: no admin route is configured with one, so its presence is a wiring
 * mistake, not a credential.
 */
function verifiedClaims(event: HttpEvent): Claims | undefined {
  const authorizer = event.requestContext?.authorizer as { lambda?: Claims } | undefined;
  const lambda = authorizer?.lambda;
  return lambda?.authenticated === 'true' ? lambda : undefined;
}

/** The verified admin behind a request; throws NotAuthenticated or Forbidden. */
export function adminPrincipal(event: HttpEvent): AdminPrincipal {
  const claims = verifiedClaims(event);
  const subject = claims?.sub;
  if (!claims || typeof subject !== 'string' || subject === '') {
    throw new NotAuthenticatedError('The request carries no valid token.');
  }
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  if (!scopes.includes(ADMIN_SCOPE)) {
    throw new ForbiddenError(`The token does not grant the ${ADMIN_SCOPE} scope.`);
  }
  const realmId = claims[REALM_CLAIM];
  // Only a value that could be a realm's id (the rule `realm create` holds ids to): a claim
  // such as `demo/rt` is no realm, and must not reach a key built with the realm's id in it.
  if (typeof realmId !== 'string' || !isIdText(realmId, REALM_ID_MAX)) {
    throw new ForbiddenError(`The token names no realm (claim ${REALM_CLAIM}).`);
  }
  return { subject, realmId };
}
