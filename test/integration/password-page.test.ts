import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRealm } from '#core/factories.ts';
import { type PasswordPolicy, POLICY_PRESETS } from '#core/policy.ts';
import { DEFAULT_RULES, rulesFor, rulesOf } from '#functions/password-page/rules.ts';
import { ROUTES } from '#functions/routes.ts';
import { passwordResetCompleted } from '#functions/ticket-worker/result-events.ts';
import { DEMO_REALM_ID } from '#infra/local/demo.ts';
import { startTestApi, type TestApi, type TestResponse } from '#test/support/test-api.ts';
import { putTickets } from '#test/support/tickets.ts';

/** The headers every answer of the page's function carries, errors included. */
function expectPageHeaders(res: TestResponse): void {
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
  // Same origin only: no CORS header ever.
  expect([...res.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
}

describe('the end user page (GET /password)', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi();
    const admin = t.runtime('create-or-reset-ui-password');
    await admin.deps.directory.createRealm(
      newRealm('r-strict', 'strictcorp', { policy: 'alibaba-cloudsso' }),
    );
  });
  afterAll(() => t.close());

  it('is a public row of the route table, so API Gateway serves it as the local gateway does', () => {
    const row = ROUTES.find((route) => route.operation === 'password-page');
    expect(row).toMatchObject({ path: '/password', auth: 'public', hashes: false, methods: ['GET'] });
    expect(row?.alsoServes?.map((p) => p.path).sort()).toEqual([
      '/password/page.css',
      '/password/page.js',
      '/password/rules',
    ]);
    expect(row?.access.writes).toEqual([]);
  });

  it('serves the HTML, its script and its style with the strict headers, and no inline script or style', async () => {
    const page = await t.request('GET', '/password?tenancy=democorp&username=alice');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expectPageHeaders(page);
    // Every script is a file of its own; no inline handler or style attribute either.
    expect(page.text).toMatch(/<script src="password\/page\.js" defer><\/script>/);
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.text).not.toMatch(/\son[a-z]+=|\sstyle=|<style/i);
    // No third party: every URL in the page is relative.
    expect(page.text).not.toMatch(/(?:src|href|action)="(?:https?:)?\/\//);
    // The page never echoes its query.
    expect(page.text).not.toContain('democorp');
    const script = await t.request('GET', '/password/page.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expectPageHeaders(script);
    expect(script.text).not.toMatch(/https?:\/\//);
    const style = await t.request('GET', '/password/page.css');
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expectPageHeaders(style);
    expect(style.text).not.toMatch(/url\(|@import|https?:/);
  });

  it('gives the password inputs no name, so no submit can ever put a password in a URL', async () => {
    const { text } = await t.request('GET', '/password');
    const inputs = [...text.matchAll(/<input [^>]*>/g)].map((m) => m[0]);
    expect(inputs.length).toBeGreaterThanOrEqual(5);
    for (const input of inputs) expect(input).not.toMatch(/\sname=/);
    expect(text).toMatch(/<form [^>]*method="post"/);
    expect(text).toMatch(/id="current-password" type="password" autocomplete="current-password"/);
    expect(text).toMatch(/id="new-password" type="password" autocomplete="new-password"/);
  });

  it('refuses any other query parameter with a 400 that repeats nothing, still with the strict headers', async () => {
    const res = await t.request('GET', '/password?currentPassword=Leaked-Secret-1234');
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('InvalidParameter');
    expect(res.text).not.toContain('Leaked-Secret-1234');
    expect(res.text).not.toContain('currentPassword');
    expectPageHeaders(res);
    expect(res.json.message).toMatch(/it takes only tenancy, username\.$/);
    // The script and the style sheet define no query: the refusal says so (it listed the
    // page's and the rules' parameters, one of them twice, before).
    for (const asset of ['/password/page.js?x=1', '/password/page.css?x=1']) {
      const refused = await t.request('GET', asset);
      expect(refused.status).toBe(400);
      expect(refused.json.message).toMatch(/it takes no query parameters\.$/);
    }
    const rules = await t.request('GET', '/password/rules?tenancy=democorp&username=alice');
    expect(rules.status).toBe(400);
    expect(rules.json.message).toMatch(/it takes only tenancy\.$/);
  });

  it("answers the rules of a realm's policy, by realm id or by name", async () => {
    const byName = await t.request('GET', '/password/rules?tenancy=strictcorp');
    expect(byName.status).toBe(200);
    expectPageHeaders(byName);
    expect(byName.json).toEqual(rulesOf(POLICY_PRESETS['alibaba-cloudsso']));
    // Every preset checks the blocklist since issue 13.
    expect(byName.json).toMatchObject({ minLength: 8, maxLength: 32, minClasses: 4, notCommon: true });
    expect((await t.request('GET', '/password/rules?tenancy=r-strict')).text).toBe(byName.text);
    expect(byName.text).not.toBe((await t.request('GET', '/password/rules')).text);
  });

  it('takes the tenancy from the page’s X-Rekey-Tenancy header (percent-encoded), not both ways at once', async () => {
    const byName = await t.request('GET', '/password/rules?tenancy=strictcorp');
    const byHeader = await t.request('GET', '/password/rules', {
      headers: { 'x-rekey-tenancy': 'strictcorp' },
    });
    expect(byHeader.status).toBe(200);
    expect(byHeader.text).toBe(byName.text);
    expectPageHeaders(byHeader);
    // Percent-encoded, as the page sends it (a header carries Latin-1 only).
    const encoded = await t.request('GET', '/password/rules', {
      headers: { 'x-rekey-tenancy': encodeURIComponent('strictcorp') },
    });
    expect(encoded.text).toBe(byName.text);
    const both = await t.request('GET', '/password/rules?tenancy=strictcorp', {
      headers: { 'x-rekey-tenancy': 'democorp' },
    });
    expect(both.status).toBe(400);
    expect(both.text).not.toContain('democorp');
    const broken = await t.request('GET', '/password/rules', {
      headers: { 'x-rekey-tenancy': 'Secret%E0%A4%A' },
    });
    expect(broken.status).toBe(400);
    expect(broken.text).not.toContain('Secret');
    const malformed = await t.request('GET', '/password/rules', {
      headers: { 'x-rekey-tenancy': encodeURIComponent('evil\u202ecorp') },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.text).not.toContain('evil');
  });

  it('answers an unknown tenancy with the very bytes of the default rules: the rules say nothing of existence', async () => {
    const none = await t.request('GET', '/password/rules');
    const unknown = await t.request('GET', '/password/rules?tenancy=no-such-corp');
    const unknownId = await t.request('GET', '/password/rules?tenancy=ocid1.tenancy.oc1..nothing');
    const demo = await t.request('GET', `/password/rules?tenancy=${DEMO_REALM_ID}`);
    expect(none.status).toBe(200);
    expect(JSON.parse(none.text)).toEqual(DEFAULT_RULES);
    for (const res of [unknown, unknownId, demo]) {
      expect(res.status).toBe(200);
      expect(res.text).toBe(none.text);
      expect([...res.headers.keys()].sort()).toEqual([...none.headers.keys()].sort());
    }
    expect(unknown.text).not.toContain('no-such-corp');
  });

  it('refuses a malformed tenancy or another parameter with a 400 that repeats nothing', async () => {
    const bad = await t.request('GET', `/password/rules?tenancy=${encodeURIComponent('evil\u202ecorp')}`);
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain('evil');
    expectPageHeaders(bad);
    const other = await t.request('GET', '/password/rules?username=alice');
    expect(other.status).toBe(400);
    expect(other.text).not.toContain('alice');
  });

  it('says "not a common password" exactly when the policy has a blocklist flag', async () => {
    // Issue 13: the presets have the flag on; a realm may turn it off.
    expect(rulesOf(POLICY_PRESETS['nist-800-63b']).notCommon).toBe(true);
    const base = { ...POLICY_PRESETS['nist-800-63b'], blocklist: false } as PasswordPolicy;
    expect(rulesOf(base).notCommon).toBe(false);
    expect(rulesOf({ ...base, blocklist: true } as PasswordPolicy).notCommon).toBe(true);
    const directory = {
      findRealm: async () => ({
        ...newRealm('r', 'n'),
        policy: { ...base, blocklist: true } as PasswordPolicy,
      }),
    };
    expect((await rulesFor(directory, 'n')).notCommon).toBe(true);
  });

  it("links the notification carrying a temporary password to this gateway's page, prefilled, and the page serves that link", async () => {
    const before = t.api.outbox.read().length;
    const res = await t.request(
      'GET',
      '/v2/demo/users/u-alice/random-password?notification_type=email,phone',
      {
        headers: { 'x-auth-token': await t.token() },
      },
    );
    expect(res.status).toBe(200);
    const sent = t.api.outbox.read().slice(before);
    const link = `${t.url}/password?tenancy=democorp&username=alice`;
    expect(sent.map((n) => n.channel).sort()).toEqual(['email', 'phone']);
    for (const notification of sent) expect(notification.text).toContain(link);
    const password = JSON.parse(await t.runtime().deps.vault.read(res.json.password_secret_id))
      .password as string;
    for (const notification of sent) {
      // The link holds the realm and the username, never the password.
      const url = notification.text.match(/http:\/\/\S+\/password\?\S+/)?.[0] ?? '';
      expect(url).toBe(link);
      expect(url).not.toContain(password);
    }
    const page = await fetch(link);
    expect(page.status).toBe(200);
  });

  it("puts the prefilled page link in a ticket's PasswordResetCompleted result, for the ticket note", async () => {
    await putTickets(t, [
      {
        ticketId: 'INC-PAGE-1',
        operation: 'ResetRandomPassword',
        realmId: 'demo',
        userId: 'u-alice',
        notificationType: 'email',
      },
    ]);
    const results = (t.api.bus?.results() ?? []).filter((event) => event.detail.ticketId === 'INC-PAGE-1');
    expect(results.map((r) => r['detail-type'])).toEqual(['PasswordResetCompleted']);
    const completed = passwordResetCompleted.parse(results[0]?.detail);
    expect(completed.passwordPageUrl).toBe(`${t.url}/password?tenancy=democorp&username=alice`);
  });

  it('is not reachable with another method', async () => {
    expect((await t.request('POST', '/password')).status).toBe(404);
    expect((await t.request('PUT', '/password/rules')).status).toBe(404);
  });
});
