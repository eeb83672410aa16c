import { describe, expect, it } from 'vitest';
import { ForbiddenError, NotAuthenticatedError } from '#core/errors.ts';
import { ADMIN_SCOPE, adminPrincipal, REALM_CLAIM } from '#http/admin.ts';
import type { HttpEvent } from '#http/request.ts';

/** An event as rekey's token authorizer hands it over: its context, strings only. */
const lambdaEvent = (context: Record<string, string> | undefined) =>
  ({
    requestContext: { authorizer: context === undefined ? undefined : { lambda: context } },
  }) as unknown as HttpEvent;

const fullClaims = { sub: 'admin@demo', scope: ADMIN_SCOPE, [REALM_CLAIM]: 'demo' };
const authenticated = (claims: Record<string, string>) => lambdaEvent({ authenticated: 'true', ...claims });

describe('adminPrincipal (behind rekey’s token authorizer, on every admin route)', () => {
  it('returns the subject and the realm when the authorizer says the token is authenticated', () => {
    expect(adminPrincipal(authenticated(fullClaims))).toEqual({ subject: 'admin@demo', realmId: 'demo' });
  });

  it('finds the admin scope among other scopes', () => {
    const event = authenticated({ ...fullClaims, scope: `openid ${ADMIN_SCOPE} profile` });
    expect(adminPrincipal(event).realmId).toBe('demo');
  });

  it.each([
    ['no request context', {} as unknown as HttpEvent],
    ['no authorizer', lambdaEvent(undefined)],
    [
      'an authorizer that did not vouch for the claims',
      lambdaEvent({ authenticated: 'false', ...fullClaims }),
    ],
    ['claims without the authorizer’s verdict', lambdaEvent({ ...fullClaims })],
    ['a verdict other than the string "true"', lambdaEvent({ authenticated: 'TRUE', ...fullClaims })],
    ['no subject', authenticated({ scope: ADMIN_SCOPE, [REALM_CLAIM]: 'demo' })],
    ['an empty subject', authenticated({ ...fullClaims, sub: '' })],
    [
      'a JWT authorizer’s context (no admin route has one)',
      {
        requestContext: { authorizer: { jwt: { claims: fullClaims, scopes: [ADMIN_SCOPE] } } },
      } as unknown as HttpEvent,
    ],
  ])('refuses an event with %s as not authenticated', (_what, event) => {
    expect(() => adminPrincipal(event)).toThrow(NotAuthenticatedError);
  });

  it.each([
    ['no scope at all', { sub: 'x', [REALM_CLAIM]: 'demo' }],
    ['other scopes only', { ...fullClaims, scope: 'openid profile' }],
    ['a scope that only contains the admin scope', { ...fullClaims, scope: `${ADMIN_SCOPE}-readonly` }],
  ])('refuses a token with %s as forbidden', (_what, claims: Record<string, string>) => {
    expect(() => adminPrincipal(authenticated(claims))).toThrow(ForbiddenError);
    expect(() => adminPrincipal(authenticated(claims))).toThrow(ADMIN_SCOPE);
  });

  it.each([
    ['no realm claim', { sub: 'x', scope: ADMIN_SCOPE }],
    ['an empty realm claim', { ...fullClaims, [REALM_CLAIM]: '' }],
    // Not a realm id (`realm create`'s rule): a "/" would let the claim reach into a key built
    // with the realm's id in it (OCI's retry-token record), spaces and dots alone name nothing.
    ['a realm claim with a "/"', { ...fullClaims, [REALM_CLAIM]: 'demo/rt' }],
    ['a realm claim with a space', { ...fullClaims, [REALM_CLAIM]: 'demo ' }],
    ['a realm claim of dots', { ...fullClaims, [REALM_CLAIM]: '..' }],
    ['a realm claim over 255 characters', { ...fullClaims, [REALM_CLAIM]: 'd'.repeat(256) }],
  ])('refuses an admin token with %s as forbidden', (_what, claims: Record<string, string>) => {
    expect(() => adminPrincipal(authenticated(claims))).toThrow(ForbiddenError);
    expect(() => adminPrincipal(authenticated(claims))).toThrow(REALM_CLAIM);
  });
});
