/**
 * Who is calling an admin route. In AWS the API Gateway JWT authorizer has already checked
 * the token's signature, issuer, audience and expiry; locally the gateway does the same with
 * the development key. Here the verified claims become an AdminPrincipal — or a refusal in
 * the route's dialect.
 */
import { ForbiddenError, NotAuthenticatedError } from '#core/errors.ts';
import type { AdminPrincipal } from '#core/model.ts';
import type { HttpEvent } from './request.ts';

/** The OAuth scope an admin token must carry. */
export const ADMIN_SCOPE = 'rekey/admin';
/** The claim naming the one realm an admin token may act in. */
export const REALM_CLAIM = 'rekey_realm';

/** The verified admin behind a request; throws NotAuthenticated or Forbidden. */
export function adminPrincipal(event: HttpEvent): AdminPrincipal {
  const jwt = event.requestContext?.authorizer?.jwt;
  const subject = jwt?.claims?.sub;
  if (typeof subject !== 'string' || subject === '') {
    throw new NotAuthenticatedError('The request carries no verified token.');
  }
  const scopes = jwt?.scopes ?? String(jwt?.claims?.scope ?? '').split(' ');
  if (!scopes.includes(ADMIN_SCOPE)) {
    throw new ForbiddenError(`The token does not grant the ${ADMIN_SCOPE} scope.`);
  }
  const realmId = jwt?.claims?.[REALM_CLAIM];
  if (typeof realmId !== 'string' || realmId === '') {
    throw new ForbiddenError(`The token names no realm (claim ${REALM_CLAIM}).`);
  }
  return { subject, realmId };
}
