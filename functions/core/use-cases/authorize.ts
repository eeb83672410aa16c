/**
 * The one tenant check of every admin verb: a token acts in exactly one realm, the one its
 * claim names. Every verb that takes a realm from the request runs it first, before anything
 * is read, so an operation built on the verbs cannot forget it.
 */
import { ForbiddenError } from '../errors.ts';
import type { AdminPrincipal } from '../model.ts';

/** The reason of the refusal below, for an operation that words it in its vendor's terms. */
export const REALM_NOT_GRANTED = 'RealmNotGranted';

/**
 * Refuses a realm other than the principal's. The message names the rule, never the realm
 * the caller sent; an operation may reword it (a "project", a "directory") but not echo it.
 */
export function authorize(principal: AdminPrincipal, realmId: string): void {
  if (realmId !== principal.realmId) {
    throw new ForbiddenError('The token does not grant access to this realm.', { reason: REALM_NOT_GRANTED });
  }
}
