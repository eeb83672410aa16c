/**
 * The end user's page in a real browser (headless Chromium from npm, test/support/browser.ts)
 * against the real local gateway and handlers: the whole journey from a temporary password
 * issued through the API to a password of the user's own, every answer's message, keyboard
 * only, the layout at 320 px and at 200% zoom, axe-core, the CSP at work, and that no password
 * is ever in a URL, the history, a header or any request but the change's own body.
 * One browser and one tab for the whole file (CI has two cores).
 * `REKEY_SCREENSHOT=1 npx vitest run test/integration/password-page.browser.test.ts` also
 * writes docs/password-page.png, the README's picture, from the real page.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HTTPRequest, Page } from 'puppeteer-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import type { PasswordAuditRecord } from '#adapters/audit.ts';
import type { Runtime } from '#adapters/runtime.ts';
import { switchCredential } from '#core/credentials.ts';
import { SecretNotFoundError } from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import type { User } from '#core/model.ts';
import { DEMO_REALM_ID } from '#infra/local/demo.ts';
import { launchBrowser, type TestBrowser } from '#test/support/browser.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';

// The callbacks given to page.evaluate run in the browser; the project compiles without the DOM
// library (it would retype Node's fetch), so the few browser globals they use are declared here.
// biome-ignore lint/suspicious/noExplicitAny: browser globals, typed loosely on purpose
declare const document: any;
// biome-ignore lint/suspicious/noExplicitAny: browser globals, typed loosely on purpose
declare const window: any;
// biome-ignore lint/suspicious/noExplicitAny: browser globals, typed loosely on purpose
declare const localStorage: any;
// biome-ignore lint/suspicious/noExplicitAny: browser globals, typed loosely on purpose
declare const sessionStorage: any;
type Input = { value: string; type: string; id: string };

const ROOT = join(import.meta.dirname, '..', '..');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const OLD = 'Old-Secret-Zq81xK';
const NEW = 'Chosen-Secret-Wv52mJ';
const MESSAGE = 'output, .message:not(:empty)';

/** change-password's clock, moved forward to expire a temporary password. */
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

describe('the end user page in Chromium', () => {
  let t: TestApi;
  let admin: Runtime;
  let chrome: TestBrowser;
  let page: Page;
  let serial = 0;
  /** Every request the page made, and every password the tests typed or were issued. */
  const requests: Seen[] = [];
  const passwords = new Set<string>([OLD, NEW]);
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    t = await startTestApi({
      customizeRuntime: (operation, runtime) =>
        operation === 'change-password' ? { ...runtime, deps: { ...runtime.deps, clock } } : runtime,
    });
    admin = t.runtime('create-or-reset-ui-password');
    await admin.deps.directory.createRealm(
      newRealm('r-strict', 'strictcorp', { policy: 'alibaba-cloudsso' }),
    );
    chrome = await launchBrowser();
    page = await chrome.browser.newPage();
    page.on('request', (request: HTTPRequest) => {
      requests.push({
        method: request.method(),
        url: request.url(),
        headers: request.headers(),
        body: request.postData(),
      });
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
  });
  afterAll(async () => {
    await chrome?.close();
    await t?.close();
  });
  beforeEach(() => {
    offsetMs = 0;
  });

  /** A fresh user of the demo realm with a PERMANENT password. */
  async function givenUser(options: { realmId?: string; password?: string } = {}): Promise<User> {
    serial++;
    const user = newUser({
      realmId: options.realmId ?? DEMO_REALM_ID,
      userId: `u-pp-${serial}`,
      username: `pp-user-${serial}`,
    });
    await admin.deps.directory.createUser(user);
    return switchCredential(admin.deps, user, {
      hash: await argon2idHasher.hash(options.password ?? OLD),
      kind: 'PERMANENT',
      setAt: new Date().toISOString(),
    });
  }

  /** A temporary password issued through the admin route, read back from the vault as a user's mail would carry it. */
  async function issueTemporary(userId: string): Promise<{ password: string; secretId: string }> {
    const res = await t.request('POST', `/20160918/users/${userId}/uiPassword`, {
      headers: { authorization: `Bearer ${await t.token()}` },
    });
    expect(res.status).toBe(200);
    const secretId: string = res.json.passwordSecretId;
    const password: string = JSON.parse(await admin.deps.vault.read(secretId)).password;
    passwords.add(password);
    return { password, secretId };
  }

  async function open(query = ''): Promise<void> {
    await page.goto(`${t.url}/password${query}`, { waitUntil: 'load' });
    await page.waitForSelector('html[data-ready="true"]');
  }

  async function fill(fields: Record<string, string>): Promise<void> {
    for (const [id, value] of Object.entries(fields)) {
      if (!['tenancy', 'username'].includes(id)) passwords.add(value);
      await page.$eval(`#${id}`, (input) => {
        (input as Input).value = '';
      });
      await page.type(`#${id}`, value);
    }
  }

  /** Submits with a click and returns the message the page shows (error or success). */
  async function submit(): Promise<{ error: string; status: string }> {
    await page.$eval('#error', (e) => {
      e.textContent = '';
    });
    await page.click('#submit');
    await page.waitForSelector(MESSAGE);
    await page.waitForFunction(() => !document.getElementById('submit').disabled);
    return page.evaluate(() => ({
      error: document.getElementById('error')?.textContent ?? '',
      status: document.getElementById('status')?.textContent ?? '',
    }));
  }

  const values = () =>
    page.$$eval('input[type=text], input[type=password]', (inputs) =>
      Object.fromEntries(inputs.map((i) => [i.id, (i as Input).value])),
    );
  const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
  const changeRequests = () => requests.filter((r) => r.url.endsWith('/20160918/changepassword'));

  it('takes a user from an issued temporary password to their own: secret gone, new password works', async () => {
    const user = await givenUser();
    const { password, secretId } = await issueTemporary(user.userId);
    await open(`?tenancy=democorp&username=${user.username}`);
    expect(await values()).toMatchObject({ tenancy: 'democorp', username: user.username });
    // The rules are shown before anything is typed.
    expect(await page.$eval('#rules', (list) => list.textContent)).toContain('be 12 to 40 characters long');
    const before = changeRequests().length;
    await fill({ 'current-password': password, 'new-password': NEW, 'confirm-password': NEW });
    const shown = await submit();
    expect(shown.status).toBe('Your password has been changed. Sign in with your new password from now on.');
    expect(shown.error).toBe('');
    // Audited (issue 14) as the user themselves: the page's PUT is change-password's own request.
    const audited = (t.api.bus?.audit() ?? [])
      .map((e) => e.detail as unknown as PasswordAuditRecord)
      .filter((r) => r.api.operation === 'change-password' && r.user.name === user.username);
    expect(audited).toEqual([
      expect.objectContaining({
        activity_name: 'Password Change',
        status: 'Success',
        // The user as the directory knows them: the page sent the tenancy's name (democorp), the
        // record holds the realm's id, never the caller's words.
        actor: {
          user: { uid: user.userId, name: user.username, domain: user.realmId, type: 'User', type_id: 1 },
        },
        http_request: { http_method: 'PUT', url: { path: '/20160918/changepassword' } },
        unmapped: expect.objectContaining({ origin: 'http', result: 'PasswordChanged' }),
      }),
    ]);
    // Every field is cleared, and the announcement has the focus.
    expect(Object.values(await values()).every((v) => v === '')).toBe(true);
    expect(await focused()).toBe('status');
    // One PUT, with the passwords in its JSON body only.
    const sent = changeRequests().slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.method).toBe('PUT');
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual({
      username: user.username,
      currentPassword: password,
      newPassword: NEW,
      tenancy: 'democorp',
    });
    await expect(admin.deps.vault.read(secretId)).rejects.toBeInstanceOf(SecretNotFoundError);
    const stored = await t.getUser(user.userId);
    expect(stored?.credential?.kind).toBe('PERMANENT');
    // The new password works: it signs in to the change route (and is changed back).
    const again = await t.request('PUT', '/20160918/changepassword', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: user.username,
        currentPassword: NEW,
        newPassword: 'Third-Secret-Pp93xy',
      }),
    });
    passwords.add('Third-Secret-Pp93xy');
    expect(again.status).toBe(200);
  });

  it('says "incorrect, or locked" for a wrong password, clears it and puts the focus back on it', async () => {
    const user = await givenUser();
    await open(`?username=${user.username}`);
    await fill({ 'current-password': 'Not-The-Password-1', 'new-password': NEW, 'confirm-password': NEW });
    const shown = await submit();
    expect(shown.error).toMatch(/^The username or password is incorrect, or the account is locked\./);
    expect(await focused()).toBe('current-password');
    expect((await values())['current-password']).toBe('');
    expect(await page.$eval('#error', (e) => e.getAttribute('role'))).toBe('alert');
  });

  it('says an expired temporary password must be renewed by the help desk (412)', async () => {
    const user = await givenUser();
    const { password } = await issueTemporary(user.userId);
    offsetMs = 8 * 24 * 3600 * 1000;
    await open(`?username=${user.username}`);
    await fill({ 'current-password': password, 'new-password': NEW, 'confirm-password': NEW });
    expect((await submit()).error).toBe(
      'Your temporary password has expired. Ask your help desk for a new one.',
    );
  });

  it('refuses reuse of the current password with the 409 message', async () => {
    const user = await givenUser();
    await open(`?username=${user.username}`);
    await fill({ 'current-password': OLD, 'new-password': OLD, 'confirm-password': OLD });
    // The page lets it through (it cannot know the current one is the same); the server says 409.
    const shown = await submit();
    expect(shown.error).toMatch(
      /^The new password may not be your current password or one you used recently\./,
    );
    expect(await focused()).toBe('new-password');
  });

  it('shows a policy-breaking password unmet as it is typed, and sends nothing until it is fixed', async () => {
    const user = await givenUser();
    await open(`?username=${user.username}`);
    const before = changeRequests().length;
    await fill({ 'current-password': OLD, 'new-password': 'short1', 'confirm-password': 'short1' });
    const unmet = await page.$$eval('#rules li.unmet', (items) =>
      items.map((i) => i.getAttribute('data-rule')),
    );
    expect(unmet).toEqual(expect.arrayContaining(['length', 'class-upper']));
    await page.click('#submit');
    await page.waitForSelector(MESSAGE);
    expect(await page.$eval('#new-password-error', (e) => e.textContent)).toBe(
      'The new password must be 12 to 40 characters long.',
    );
    expect(await page.$eval('#new-password', (e) => e.getAttribute('aria-invalid'))).toBe('true');
    expect(await focused()).toBe('new-password');
    expect(changeRequests().length).toBe(before);
  });

  it("names the rule the server's policy refuses (400) when the page could not know the realm's rules", async () => {
    // A user of a realm whose policy wants a special character; without the tenancy the page
    // shows the default rules, which this password meets: the server is the authority.
    const user = await givenUser({ realmId: 'r-strict', password: 'Strict-Old-1!' });
    await open(`?username=${user.username}`);
    await fill({
      'current-password': 'Strict-Old-1!',
      'new-password': 'NoSpecials12345',
      'confirm-password': 'NoSpecials12345',
    });
    const shown = await submit();
    expect(shown.error).toMatch(
      /^The server refused the change: Parameter newPassword breaks the password policy rule "required-class"/,
    );
    expect(shown.error).not.toContain('NoSpecials12345');
    // With the tenancy, the page shows the realm's own rules before anything is typed.
    await open(`?tenancy=strictcorp&username=${user.username}`);
    expect(await page.$eval('#rules', (list) => list.textContent)).toContain('be 8 to 32 characters long');
    expect(await page.$eval('#rules', (list) => list.textContent)).toContain('contain a special character');
  });

  it('sends a typed tenancy in a header, never in a URL, and shows that realm’s rules', async () => {
    await open('?username=someone');
    const from = requests.length;
    // What a user may type into the first field by mistake: a password.
    const typed = 'Quartz-Lantern-Meadow-61';
    await fill({ tenancy: typed });
    await page.keyboard.press('Tab');
    await page.waitForFunction(
      (n) =>
        performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/password/rules')).length >=
        n,
      {},
      2,
    );
    await fill({ tenancy: 'strictcorp' });
    await page.keyboard.press('Tab');
    await page.waitForFunction(() =>
      document.querySelector('#rules')?.textContent?.includes('special character'),
    );
    const rulesRequests = requests.slice(from).filter((r) => new URL(r.url).pathname === '/password/rules');
    expect(rulesRequests.map((r) => new URL(r.url).search)).toEqual(['', '']);
    expect(rulesRequests.map((r) => r.headers['x-rekey-tenancy'])).toEqual([typed, 'strictcorp']);
    expect(requests.slice(from).some((r) => r.url.includes(typed))).toBe(false);
  });

  it('says to wait on a 429', async () => {
    await open('?username=someone');
    await page.setRequestInterception(true);
    const intercept = (request: HTTPRequest) => {
      if (request.url().endsWith('/20160918/changepassword')) {
        void request.respond({
          status: 429,
          contentType: 'application/json',
          body: '{"code":"TooManyRequests","message":"x"}',
        });
      } else void request.continue();
    };
    page.on('request', intercept);
    try {
      await fill({ 'current-password': OLD, 'new-password': NEW, 'confirm-password': NEW });
      expect((await submit()).error).toBe('Too many attempts right now. Wait a minute, then try again.');
    } finally {
      page.off('request', intercept);
      await page.setRequestInterception(false);
    }
  });

  it('can be completed with the keyboard alone, show-password toggle included', async () => {
    const user = await givenUser();
    const { password } = await issueTemporary(user.userId);
    await open();
    const order: string[] = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused());
    }
    expect(order).toEqual([
      'tenancy',
      'username',
      'current-password',
      'new-password',
      'confirm-password',
      'show-passwords',
      'submit',
    ]);
    // Back to the username with Shift+Tab, then type everything.
    await page.keyboard.down('Shift');
    for (let i = 0; i < 5; i++) await page.keyboard.press('Tab');
    await page.keyboard.up('Shift');
    expect(await focused()).toBe('username');
    passwords.add(password);
    await page.keyboard.type(user.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(password);
    await page.keyboard.press('Tab');
    await page.keyboard.type(NEW);
    await page.keyboard.press('Tab');
    await page.keyboard.type(NEW);
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('show-passwords');
    await page.keyboard.press('Space');
    expect(await page.$eval('#new-password', (e) => (e as Input).type)).toBe('text');
    await page.keyboard.press('Space');
    expect(await page.$eval('#new-password', (e) => (e as Input).type)).toBe('password');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#status:not(:empty)');
    expect(await page.$eval('#status', (e) => e.textContent)).toMatch(/^Your password has been changed\./);
    expect((await t.getUser(user.userId))?.credential?.kind).toBe('PERMANENT');
  });

  it('has no serious or critical axe-core violations, before and after errors are shown', async () => {
    await open('?username=someone');
    // Runtime.evaluate is not subject to the page's CSP: axe runs without weakening it.
    await page.evaluate(AXE_SOURCE);
    const run = () =>
      page.evaluate(async () => {
        // biome-ignore lint/suspicious/noExplicitAny: axe is a global the evaluated source defines
        const axe = (window as any).axe;
        const result = await axe.run(document, { resultTypes: ['violations'] });
        return (result.violations as { id: string; impact: string }[]).map((v) => `${v.impact}: ${v.id}`);
      });
    const clean = await run();
    expect(clean.filter((v) => /^(serious|critical)/.test(v))).toEqual([]);
    await page.click('#submit');
    await page.waitForSelector(MESSAGE);
    const withErrors = await run();
    expect(withErrors.filter((v) => /^(serious|critical)/.test(v))).toEqual([]);
  });

  it('reflows at 320 CSS px and at 200% zoom without horizontal scrolling', async () => {
    const overflow = () =>
      page.evaluate(() => {
        const width = document.documentElement.clientWidth;
        const wide = Array.from(
          document.querySelectorAll('body, body *') as ArrayLike<{
            id: string;
            tagName: string;
            getBoundingClientRect(): { right: number };
          }>,
        ).filter((e) => e.getBoundingClientRect().right > width + 0.5);
        return {
          scroll: document.documentElement.scrollWidth - width,
          wide: wide.map((e) => `${e.id || e.tagName}:${Math.round(e.getBoundingClientRect().right)}`),
        };
      });
    try {
      await page.setViewport({ width: 320, height: 640 });
      await open('?username=someone');
      expect(await overflow()).toEqual({ scroll: 0, wide: [] });
      // 200% zoom of a 1280 px window: 640 CSS px at twice the pixel density, and the text
      // itself at 200% (a user's font-size setting), on the smallest screen.
      await page.setViewport({ width: 640, height: 400, deviceScaleFactor: 2 });
      await open('?username=someone');
      expect(await overflow()).toEqual({ scroll: 0, wide: [] });
      await page.setViewport({ width: 320, height: 640 });
      await page.evaluate(() => {
        document.documentElement.style.fontSize = '200%';
      });
      expect(await overflow()).toEqual({ scroll: 0, wide: [] });
    } finally {
      await page.setViewport({ width: 1024, height: 900 });
    }
  });

  it('runs no inline script (the CSP holds) and loads nothing from anywhere but its own origin', async () => {
    consoleErrors.length = 0;
    const before = requests.length;
    await open();
    const ran = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inline = true;';
      document.body.append(script);
      // biome-ignore lint/suspicious/noExplicitAny: reading the marker the inline script would set
      return (window as any).__inline === true;
    });
    expect(ran).toBe(false);
    expect(consoleErrors.some((e) => /Content Security Policy/.test(e))).toBe(true);
    const origin = new URL(t.url).origin;
    expect(requests.slice(before).every((r) => new URL(r.url).origin === origin)).toBe(true);
  });

  it('never puts a password in a URL, the history, storage, a header or any request but the change body', async () => {
    const history = await page.target().createCDPSession();
    const { entries } = (await history.send('Page.getNavigationHistory')) as { entries: { url: string }[] };
    await history.detach();
    const storage = await page.evaluate(
      () => JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie,
    );
    expect(requests.length).toBeGreaterThan(20);
    for (const secret of passwords) {
      const encoded = [secret, encodeURIComponent(secret)];
      for (const form of encoded) {
        for (const entry of entries) expect(entry.url).not.toContain(form);
        expect(storage).not.toContain(form);
        for (const request of requests) {
          expect(request.url).not.toContain(form);
          expect(JSON.stringify(request.headers)).not.toContain(form);
          if (request.body?.includes(form)) {
            expect(`${request.method} ${new URL(request.url).pathname}`).toBe('PUT /20160918/changepassword');
          }
        }
      }
    }
  });

  it('renders a screenshot of the real page (docs/password-page.png when REKEY_SCREENSHOT=1)', async () => {
    const path =
      process.env.REKEY_SCREENSHOT === '1'
        ? join(ROOT, 'docs', 'password-page.png')
        : join(tmpdir(), `rekey-password-page-${process.pid}.png`);
    try {
      await page.setViewport({ width: 640, height: 900 });
      await open('?tenancy=democorp&username=alice');
      await page.type('#new-password', 'Blue-Kettle');
      await page.screenshot({ path, fullPage: true });
    } finally {
      await page.setViewport({ width: 1024, height: 900 });
    }
    const png = readFileSync(path);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(10_000);
    if (process.env.REKEY_SCREENSHOT !== '1') rmSync(path);
  });
});
