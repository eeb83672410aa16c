import { describe, expect, it } from 'vitest';
import { ForbiddenError, NotAuthenticatedError } from '#core/errors.ts';
import { ADMIN_SCOPE, adminPrincipal, REALM_CLAIM } from '#http/admin.ts';
import type { HttpEvent } from '#http/request.ts';

/** An event as API Gateway's JWT authorizer hands it over: claims as strings, scopes split. */
function eventWith(
  jwt: { claims?: Record<string, string>; scopes?: string[] | null } | undefined,
): HttpEvent {
  return { requestContext: { authorizer: jwt === undefined ? undefined : { jwt } } } as unknown as HttpEvent;
}

const fullClaims = { sub: 'admin@demo', scope: ADMIN_SCOPE, [REALM_CLAIM]: 'demo' };

describe('adminPrincipal', () => {
  it('returns the subject and the realm of a verified admin token', () => {
    expect(adminPrincipal(eventWith({ claims: fullClaims, scopes: [ADMIN_SCOPE] }))).toEqual({
      subject: 'admin@demo',
      realmId: 'demo',
    });
  });

  it('reads the scope claim when the authorizer passes no scopes list', () => {
    const event = eventWith({ claims: { ...fullClaims, scope: `openid ${ADMIN_SCOPE}` }, scopes: null });
    expect(adminPrincipal(event).realmId).toBe('demo');
  });

  it.each([
    ['no request context', {} as unknown as HttpEvent],
    ['no authorizer', eventWith(undefined)],
    ['no claims', eventWith({ scopes: [ADMIN_SCOPE] })],
    [
      'no subject',
      eventWith({ claims: { scope: ADMIN_SCOPE, [REALM_CLAIM]: 'demo' }, scopes: [ADMIN_SCOPE] }),
    ],
    ['an empty subject', eventWith({ claims: { ...fullClaims, sub: '' }, scopes: [ADMIN_SCOPE] })],
  ])('refuses an event with %s as not authenticated', (_what, event) => {
    expect(() => adminPrincipal(event)).toThrow(NotAuthenticatedError);
  });

  it.each([
    ['no scope at all', { claims: { sub: 'x', [REALM_CLAIM]: 'demo' }, scopes: null }],
    [
      'other scopes only',
      { claims: { ...fullClaims, scope: 'openid profile' }, scopes: ['openid', 'profile'] },
    ],
    [
      'a scope that only contains the admin scope',
      { claims: { ...fullClaims, scope: `${ADMIN_SCOPE}-readonly` }, scopes: [`${ADMIN_SCOPE}-readonly`] },
    ],
  ])('refuses a token with %s as forbidden', (_what, jwt) => {
    expect(() => adminPrincipal(eventWith(jwt))).toThrow(ForbiddenError);
    expect(() => adminPrincipal(eventWith(jwt))).toThrow(ADMIN_SCOPE);
  });

  it.each([
    ['no realm claim', { sub: 'x', scope: ADMIN_SCOPE }],
    ['an empty realm claim', { ...fullClaims, [REALM_CLAIM]: '' }],
  ])('refuses an admin token with %s as forbidden', (_what, claims) => {
    expect(() => adminPrincipal(eventWith({ claims, scopes: [ADMIN_SCOPE] }))).toThrow(ForbiddenError);
    expect(() => adminPrincipal(eventWith({ claims, scopes: [ADMIN_SCOPE] }))).toThrow(REALM_CLAIM);
  });

  describe('behind rekey’s token authorizer (Huawei routes)', () => {
    const lambdaEvent = (context: Record<string, string>) =>
      ({ requestContext: { authorizer: { lambda: context } } }) as unknown as HttpEvent;

    it('returns the admin when the authorizer says the token is authenticated', () => {
      expect(adminPrincipal(lambdaEvent({ authenticated: 'true', ...fullClaims }))).toEqual({
        subject: 'admin@demo',
        realmId: 'demo',
      });
    });

    it('refuses claims the authorizer did not vouch for as not authenticated', () => {
      expect(() => adminPrincipal(lambdaEvent({ authenticated: 'false', ...fullClaims }))).toThrow(
        NotAuthenticatedError,
      );
      expect(() => adminPrincipal(lambdaEvent({ ...fullClaims }))).toThrow(NotAuthenticatedError);
    });

    it('refuses an authenticated token without the admin scope or without a realm as forbidden', () => {
      expect(() =>
        adminPrincipal(lambdaEvent({ authenticated: 'true', ...fullClaims, scope: 'openid' })),
      ).toThrow(ForbiddenError);
      expect(() =>
        adminPrincipal(lambdaEvent({ authenticated: 'true', sub: 'x', scope: ADMIN_SCOPE })),
      ).toThrow(ForbiddenError);
    });
  });
});
