/**
 * The rule rekey keeps that its vendors do not: no password, generated or given, current or
 * new, ever reaches a response, a log line, an event, an error message or the table. One run
 * drives every operation — the five routes, ticketing events, refusals, injected faults and a
 * sweep — while capturing everything the process writes, every response, every event, the
 * dead-letter log and the outbox. Then every password that existed meanwhile is searched for
 * everywhere: it may be only in the vault and in the notification meant to carry it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import { MemoryAuditTrail } from '#adapters/audit.ts';
import { createLogger } from '#adapters/logger.ts';
import { createMetrics } from '#adapters/metrics.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { newInstance, newUser } from '#core/factories.ts';
import type { Directory, SecretVault } from '#core/ports.ts';
import { createHandler as createSweeper } from '#functions/sweeper/handler.ts';
import { deadLetterLogPath } from '#infra/local/event-bus.ts';
import { notifyGatewayObservers } from '#infra/local/gateway-observers.ts';
import { scanTable } from '#test/support/dynamodb.ts';
import {
  describeLeaks,
  detectorInstalled,
  findLeaks,
  leakDrill,
  type OutputKind,
  passwordForms,
} from '#test/support/password-ledger.ts';
import { type FaultyPort, faultyPort } from '#test/support/port-faults.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';
import {
  createTestConnector,
  type FakeTicketingSystem,
  startFakeTicketingSystem,
  zendeskHeaders,
} from '#test/support/ticketing-systems.ts';
import { putTickets } from '#test/support/tickets.ts';

const UI_OPERATION = 'create-or-reset-ui-password';
const DAY_MS = 24 * 60 * 60 * 1000;

/** Passwords callers chose (given, new, wrong, refused, smuggled): none may be stored in clear. */
const GIVEN = {
  uiBody: 'Caller-Chosen-Secret-9',
  wrongCurrent: 'Wrong-Guess-Pass-314',
  changeNew: 'Blue-Kettle-Orchard-42',
  changeNewByQuery: 'Green-Lantern-Harbor-57',
  tooWeak: 'weakpass',
  ssoGiven: 'Quiet-River-2026!',
  ssoRefused: 'Sh0rt!',
  ssoBoth: 'Both-Given-And-Gen-1!',
  ddmFirst: 'Ddm-Admin-2026',
  ddmSecond: 'Ddm-Admin-2027',
  ddmRefused: 'Ddm&Admin$2026',
  ticket: 'Ticket-Dictated-Pass-8',
  intake: 'Webhook-Dictated-Pass-9',
  pageQuery: 'Typed-Into-Url-Bar-77',
} as const;
/** DDM passwords are meant to live in their secret (and nowhere else). */
const VAULTED_GIVEN = new Set<string>([GIVEN.ddmFirst, GIVEN.ddmSecond]);

const USERS = [
  { userId: 'u-np1', username: 'np-one', email: 'np1@example.com', phone: '+15550100101' },
  { userId: 'u-np2', username: 'np-two', email: 'np2@example.com' },
  { userId: 'u-np3', username: 'np-three', email: 'np3@example.com', phone: '+15550100103' },
];

const written: string[] = [];
const answers: string[] = [];
/** Every value any function stored in the vault (created or put), including those deleted since. */
const storedValues: string[] = [];

let t: TestApi;
let reader: Runtime;
/** The fake Zendesk the ticket intake's notes go to. */
let zendesk: FakeTicketingSystem;
let vaultFaults: FaultyPort<SecretVault> | undefined;
let directoryFaults: FaultyPort<Directory> | undefined;
let restore: () => void = () => undefined;

/** Captures the console too: vitest routes `console.*` around the process streams. */
function captureConsole(): () => void {
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const originals = methods.map((name) => [name, console[name]] as const);
  for (const [name, original] of originals) {
    console[name] = (...args: unknown[]) => {
      written.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
      original.apply(console, args);
    };
  }
  return () => {
    for (const [name, original] of originals) console[name] = original;
  };
}

function capture(stream: NodeJS.WriteStream): () => void {
  const original = stream.write;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
  }) as typeof stream.write;
  return () => {
    stream.write = original;
  };
}

/** A vault that records every value written through it. */
function recording(vault: SecretVault): SecretVault {
  return {
    create: (secret) => {
      storedValues.push(secret.value);
      return vault.create(secret);
    },
    read: (id) => vault.read(id),
    putValue: (id, value) => {
      storedValues.push(value);
      return vault.putValue(id, value);
    },
    delete: (id) => vault.delete(id),
  };
}

async function send(method: string, path: string, init: { headers?: Record<string, string>; body?: string }) {
  const res = await t.request(method, path, init);
  answers.push(`${res.status} ${res.text}`, JSON.stringify([...res.headers.entries()]));
  return res;
}

const json = { 'content-type': 'application/json' };
const bearer = async () => ({ authorization: `Bearer ${await t.token()}` });
const authToken = async () => ({ 'x-auth-token': await t.token() });

const uiReset = async (userId: string, init: { headers?: Record<string, string>; body?: string } = {}) =>
  send('POST', `/20160918/users/${userId}/uiPassword`, {
    ...init,
    headers: { ...(await bearer()), ...init.headers },
  });

/** The temporary password a secret holds (read from the vault, as the help desk would). */
async function temporaryPassword(secretId: string): Promise<string> {
  return (JSON.parse(await reader.deps.vault.read(secretId)) as { password: string }).password;
}

beforeAll(async () => {
  const restoreOut = capture(process.stdout);
  const restoreErr = capture(process.stderr);
  const restoreConsole = captureConsole();
  restore = () => {
    restoreOut();
    restoreErr();
    restoreConsole();
  };
  t = await startTestApi({
    customizeRuntime: (operation, runtime) => {
      if (operation !== UI_OPERATION) {
        return { ...runtime, deps: { ...runtime.deps, vault: recording(runtime.deps.vault) } };
      }
      vaultFaults = faultyPort(runtime.deps.vault);
      directoryFaults = faultyPort(runtime.deps.directory);
      const deps = { ...runtime.deps, vault: recording(vaultFaults.port), directory: directoryFaults.port };
      return { ...runtime, deps };
    },
  });
  reader = createRuntime('test-reader', { clients: t.api.clients });
  for (const user of USERS) await reader.deps.directory.createUser(newUser({ realmId: 'demo', ...user }));
  await reader.deps.directory.saveInstance(
    newInstance({ realmId: 'demo', instanceId: 'ddm-np', host: 'np.internal' }),
    undefined,
  );

  // OCI uiPassword: resets, a retried reset, refusals (a body field, a text body, federated,
  // unknown) and faults at each step of the write order.
  await uiReset('u-np1');
  await uiReset('u-np1', { headers: { 'opc-retry-token': 'np-1' } });
  const latest = await uiReset('u-np1', { headers: { 'opc-retry-token': 'np-1' } });
  await uiReset('u-np2', { headers: { 'opc-retry-token': 'np-1' } });
  await uiReset('u-np2', { headers: json, body: JSON.stringify({ password: GIVEN.uiBody }) });
  await uiReset('u-np2', { headers: { 'content-type': 'text/plain' }, body: GIVEN.uiBody });
  await uiReset('u-carol');
  await uiReset('u-nobody');
  const faults = { vault: vaultFaults, directory: directoryFaults };
  if (!faults.vault || !faults.directory) throw new Error('the uiPassword runtime was not customised');
  faults.vault.fail('create');
  await uiReset('u-alice');
  faults.directory.fail('saveUser');
  await uiReset('u-alice');
  faults.directory.fail('saveUser', { landed: true });
  await uiReset('u-bob');
  faults.vault.fail('delete');
  await uiReset('u-bob');
  faults.vault.fail('delete');
  faults.directory.fail('saveUser');
  faults.directory.fail('getUser', { onCall: 2 });
  await uiReset('u-alice');
  faults.vault.clear();
  faults.directory.clear();

  // OCI changepassword: a wrong current password, a weak new one, the temporary exchanged for
  // a permanent one by JSON body, then again by the seed's query parameters, and a reuse.
  const current = await temporaryPassword(JSON.parse(latest.text).passwordSecretId);
  const change = (body: Record<string, string>) =>
    send('PUT', '/20160918/changepassword', { headers: json, body: JSON.stringify(body) });
  await change({ username: 'np-one', currentPassword: GIVEN.wrongCurrent, newPassword: GIVEN.changeNew });
  await change({ username: 'np-nobody', currentPassword: GIVEN.wrongCurrent, newPassword: GIVEN.changeNew });
  await change({ username: 'np-one', currentPassword: current, newPassword: GIVEN.tooWeak });
  const changed = await change({
    username: 'np-one',
    currentPassword: current,
    newPassword: GIVEN.changeNew,
  });
  expect(changed.status).toBe(200);
  const query = new URLSearchParams({
    username: 'np-one',
    currentPassword: GIVEN.changeNew,
    newPassword: GIVEN.changeNewByQuery,
  });
  expect((await send('PUT', `/20160918/changepassword?${query}`, {})).status).toBe(200);
  await change({ username: 'np-one', currentPassword: GIVEN.changeNewByQuery, newPassword: GIVEN.changeNew });

  // The end user's page: the page, its script, style and rules, and a password someone put
  // in the page's URL (refused, never repeated).
  for (const path of [
    '/password?tenancy=democorp&username=np-one',
    '/password/page.js',
    '/password/page.css',
    '/password/rules?tenancy=democorp',
    '/password/rules?tenancy=no-such-corp',
  ]) {
    expect((await send('GET', path, {})).status).toBe(200);
  }
  expect((await send('GET', `/password?username=np-one&currentPassword=${GIVEN.pageQuery}`, {})).status).toBe(
    400,
  );

  // Huawei random-password: both channels, and a channel the user lacks.
  const random = (userId: string, channels: string) =>
    authToken().then((headers) =>
      send('GET', `/v2/demo/users/${userId}/random-password?notification_type=${channels}`, { headers }),
    );
  expect((await random('u-np3', 'email,phone')).status).toBe(200);
  expect((await random('u-np2', 'phone')).status).toBe(400);

  // Alibaba ResetUserPassword: generated, given, refused, both at once.
  const sso = async (body: Record<string, unknown>) =>
    send('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
      headers: { ...(await bearer()), ...json },
      body: JSON.stringify({ DirectoryId: 'demo', ...body }),
    });
  expect((await sso({ UserId: 'u-np2', GenerateRandomPassword: true })).status).toBe(200);
  expect((await sso({ UserId: 'u-np2', Password: GIVEN.ssoGiven })).status).toBe(200);
  expect((await sso({ UserId: 'u-np2', Password: GIVEN.ssoRefused })).status).toBe(400);
  const both = { UserId: 'u-np2', Password: GIVEN.ssoBoth, GenerateRandomPassword: true };
  expect((await sso(both)).status).toBe(400);

  // Huawei DDM admin: created, updated, refused.
  const ddm = async (body: Record<string, string>) =>
    send('PUT', '/v3/demo/instances/ddm-np/admin-user', {
      headers: { ...(await authToken()), ...json },
      body: JSON.stringify(body),
    });
  expect((await ddm({ name: 'root_np', password: GIVEN.ddmFirst })).status).toBe(200);
  expect((await ddm({ name: 'root_np', password: GIVEN.ddmSecond })).status).toBe(200);
  expect((await ddm({ name: 'root_np', password: GIVEN.ddmRefused })).status).toBe(400);
  expect((await ddm({ name: 'other_np', password: GIVEN.ddmSecond })).status).toBeGreaterThanOrEqual(400);

  // Ticketing: three operations, one notifying, and a ticket that tries to dictate a password.
  await putTickets(t, [
    { ticketId: 'NP-1', operation: 'CreateOrResetUIPassword', realmId: 'demo', userId: 'u-np1' },
    {
      ticketId: 'NP-2',
      operation: 'ResetRandomPassword',
      realmId: 'demo',
      userId: 'u-np3',
      notificationType: 'email',
    },
    { ticketId: 'NP-3', operation: 'ResetUserPassword', realmId: 'demo', userId: 'u-np2' },
    {
      ticketId: 'NP-4',
      operation: 'ResetUserPassword',
      realmId: 'demo',
      userId: 'u-np2',
      password: GIVEN.ticket,
    },
  ]);

  // Ticketing systems: a signed Zendesk webhook (reset, e-mail, private comment on the fake
  // Zendesk), one naming a user of no realm, one dictating a password (refused).
  zendesk = await startFakeTicketingSystem();
  const connector = await createTestConnector(
    t,
    {
      id: 'np-zd',
      kind: 'zendesk',
      realm: 'demo',
      replyUrl: `${zendesk.url}/`,
      authorization: 'Basic bnA6dG9rZW4=',
    },
    mkdtempSync(join(tmpdir(), 'rekey-np-')),
  );
  const webhook = (body: Record<string, unknown>) => {
    const text = JSON.stringify(body);
    return send('POST', '/tickets/np-zd', {
      headers: zendeskHeaders(connector.inboundSecret, text),
      body: text,
    });
  };
  const base = { operation: 'ResetRandomPassword', notificationType: 'email' };
  expect((await webhook({ ...base, ticketId: 'NP-ZD-1', user: 'np1@example.com' })).status).toBe(202);
  expect((await webhook({ ...base, ticketId: 'NP-ZD-2', user: 'nobody@example.com' })).status).toBe(202);
  expect(
    (await webhook({ ...base, ticketId: 'NP-ZD-3', user: 'np-two', password: GIVEN.intake })).status,
  ).toBe(400);
  await t.api.bus?.idle();

  // The sweeper, eight days on: every temporary password has expired.
  const later = { now: () => new Date(Date.now() + 8 * DAY_MS) };
  await createSweeper({
    deps: { directory: reader.deps.directory, vault: reader.deps.vault, clock: later },
    settings: {
      tableName: reader.settings.tableName,
      temporarySecretPrefix: 'rekey/temp/',
      databaseSecretPrefix: 'rekey/ddm/',
      graceSeconds: 900,
    },
    logger: createLogger('sweeper'),
  })(undefined);
});

afterAll(async () => {
  restore();
  await zendesk?.close();
  reader.dynamoDb.destroy();
  await t.close();
});

/** Every password generated during the run, with the user it was for. */
function generated(): Array<{
  password: string;
  userId?: string | undefined;
  kind: 'temporary' | 'database';
}> {
  return storedValues.map((value) => {
    const parsed = JSON.parse(value) as { password: string; userId?: string; engine?: string };
    return parsed.engine
      ? { password: parsed.password, kind: 'database' as const }
      : { password: parsed.password, userId: parsed.userId, kind: 'temporary' as const };
  });
}

/** Every password that existed during the run. */
function passwords(): string[] {
  return [...new Set([...generated().map((g) => g.password), ...Object.values(GIVEN)])];
}

/** The forms a password could take in text: as is, JSON-escaped, URL-encoded. */
function forms(password: string): string[] {
  return [password, JSON.stringify(password).slice(1, -1), encodeURIComponent(password)];
}

function expectNoneIn(text: string, where: string): void {
  for (const password of passwords()) {
    for (const form of forms(password)) {
      expect(text.includes(form), `a password appears in ${where}`).toBe(false);
    }
  }
}

describe('no plaintext password, across every operation', () => {
  it('really ran: every operation generated or changed something, and the capture saw it', () => {
    const kinds = generated();
    expect(kinds.filter((g) => g.kind === 'temporary').length).toBeGreaterThanOrEqual(10);
    expect(kinds.filter((g) => g.kind === 'database').map((g) => g.password)).toEqual([
      GIVEN.ddmFirst,
      GIVEN.ddmSecond,
    ]);
    const output = written.join('');
    for (const line of [
      'temporary UI password issued',
      'request failed',
      'request refused',
      'ticket answered',
      'temporary secrets swept',
    ]) {
      expect(output).toContain(line);
    }
    const results = t.api.bus?.results() ?? [];
    expect(results.map((e) => e['detail-type'])).toEqual(
      expect.arrayContaining(['PasswordResetCompleted', 'PasswordResetFailed']),
    );
    expect(t.api.outbox.read().length).toBeGreaterThanOrEqual(4);
  });

  it('appears in no log line or anything else the process wrote', () => {
    expectNoneIn(written.join(''), 'the process output');
  });

  it('appears in no response body or header', () => {
    expectNoneIn(answers.join('\n'), 'a response');
  });

  it('appears in no note on a ticket and no delivery: the calls the fake Zendesk got, `rekey deliveries`', () => {
    const bus = t.api.bus;
    const deliveries = bus?.deliveries() ?? [];
    // Both webhooks that were accepted got their note; the refused one got none.
    // (NP-ZD-2's refusal is put on the bus by the intake itself, so it may be answered first.)
    expect(deliveries.map((d) => [d.ticketId, d.status]).sort()).toEqual([
      ['NP-ZD-1', 200],
      ['NP-ZD-2', 200],
    ]);
    expect(zendesk.calls.map((c) => c.path).sort()).toEqual([
      '/api/v2/tickets/NP-ZD-1',
      '/api/v2/tickets/NP-ZD-2',
    ]);
    expect(zendesk.calls.find((c) => c.path.includes('NP-ZD-1'))?.body).toContain('rekey/temp/');
    expectNoneIn(
      zendesk.calls.map((c) => `${c.method} ${c.path} ${JSON.stringify(c.headers)} ${c.body}`).join('\n'),
      'a note on a ticket',
    );
    expectNoneIn(
      readFileSync(join(t.api.backend?.dataDir ?? '', 'deliveries.jsonl'), 'utf8'),
      'the deliveries log',
    );
  });

  it('appears in no event: results on the bus, the events log, the dead-letter log', () => {
    const bus = t.api.bus;
    expect(bus).toBeDefined();
    expectNoneIn(JSON.stringify(bus?.results()), 'a result event');
    expectNoneIn(readFileSync(bus?.eventsLog ?? '', 'utf8'), 'the events log');
    let deadLetters = '';
    try {
      deadLetters = readFileSync(deadLetterLogPath(t.api.backend?.dataDir ?? ''), 'utf8');
    } catch {
      // No message was dead-lettered: nothing to search.
    }
    expectNoneIn(deadLetters, 'the dead-letter log');
  });

  it('appears in no audit record: the PasswordAudit events of every operation, success and refusal', () => {
    const audit = t.api.bus?.audit() ?? [];
    // Really ran: HTTP and ticket operations, successes and refusals, were all audited.
    expect(new Set(audit.map((e) => (e.detail as { unmapped: { origin: string } }).unmapped.origin))).toEqual(
      new Set(['http', 'ticket']),
    );
    expect(new Set(audit.map((e) => (e.detail as { status: string }).status))).toEqual(
      new Set(['Success', 'Failure']),
    );
    // The intake's refusals were audited too: the webhook dictating a password (400) and the
    // one naming a user of no realm (202, NotFound.User on the ticket).
    const intake = audit.map((e) => e.detail as { api: { operation: string }; status_code?: string });
    expect(
      intake
        .filter((r) => r.api.operation === 'ticket-intake')
        .map((r) => r.status_code)
        .sort(),
    ).toEqual(['InvalidInput.Password', 'NotFound.User']);
    expectNoneIn(JSON.stringify(audit), 'an audit record');
    expectNoneIn(readFileSync(t.api.bus?.auditLog ?? '', 'utf8'), 'the audit log');
  });

  it('appears in the outbox only in the notification meant to carry it, to its own user', () => {
    const contacts = new Map(USERS.map((u) => [u.userId, [u.email, 'phone' in u ? u.phone : undefined]]));
    const carried = generated().filter((g) => g.kind === 'temporary');
    let delivered = 0;
    for (const entry of t.api.outbox.read()) {
      for (const password of passwords()) {
        if (!forms(password).some((form) => entry.text.includes(form) || entry.subject.includes(form)))
          continue;
        const owner = carried.find((g) => g.password === password);
        expect(owner, 'only a generated temporary password is ever sent').toBeDefined();
        expect(contacts.get(owner?.userId ?? '')).toContain(entry.to);
        delivered += 1;
      }
    }
    // u-np3 was told by e-mail and SMS (route), then by e-mail (ticket); u-np1 by e-mail
    // (the Zendesk webhook).
    expect(delivered).toBe(4);
  });

  it("links every notification that carries a password to the end user's page, and no link carries one", () => {
    const carrying = t.api.outbox
      .read()
      .filter((entry) =>
        generated().some((g) => forms(g.password).some((form) => entry.text.includes(form))),
      );
    // u-np3's three, and u-np1's e-mail from the Zendesk webhook (issue 12).
    expect(carrying).toHaveLength(4);
    for (const entry of carrying) {
      const links = entry.text.match(/https?:\/\/\S+/g) ?? [];
      const username = entry.to === 'np1@example.com' ? 'np-one' : 'np-three';
      expect(links, 'the links in a notification').toEqual([
        `${t.url}/password?tenancy=democorp&username=${username}`,
      ]);
      for (const link of links) expectNoneIn(link, 'a page link');
    }
    const completed = (t.api.bus?.results() ?? []).filter(
      (e) => e['detail-type'] === 'PasswordResetCompleted',
    );
    expect(completed.map((e) => (e.detail as { passwordPageUrl?: string }).passwordPageUrl)).toContain(
      `${t.url}/password?tenancy=democorp&username=np-three`,
    );
  });

  it('appears nowhere in the table, idempotency and ticket records included: only hashes', async () => {
    const Items = await scanTable(t.api.clients, reader.settings.tableName);
    const table = JSON.stringify(Items);
    expect(table).toContain('$argon2id$');
    expect(table).toContain('IDEMPOTENCY#');
    expectNoneIn(table, 'the table');
  });

  it('is in the vault only where it belongs: a generated temporary password, or a DDM administrator', () => {
    const vault = t.api.backend?.vault.list('') ?? [];
    expect(vault.length).toBeGreaterThan(0);
    for (const secret of vault) {
      for (const password of Object.values(GIVEN)) {
        if (VAULTED_GIVEN.has(password)) continue;
        expect(secret.value.includes(password), `a given password is in ${secret.name}`).toBe(false);
      }
      if (VAULTED_GIVEN.has(JSON.parse(secret.value).password)) expect(secret.name).toMatch(/^rekey\/ddm\//);
    }
  });
});

/**
 * The suite-wide check (test/support/plaintext-setup.ts, a setup file of every test file)
 * searches everything each file's worker wrote for every password its code hashed, verified
 * or stored. Its control: passwords the ledger really recorded, leaked on purpose through
 * each kind of output, inside a drill that keeps them out of this file's own capture.
 */
describe('the suite-wide plaintext check', () => {
  type Leak = (password: string) => void;
  const LEAKS: Array<[how: string, leak: Leak, kind: OutputKind, form: string]> = [
    ['console.log', (pw) => console.log('drill', pw), 'console.log', 'as is'],
    [
      'an Error logged with console.error',
      (pw) => console.error(new Error(`refused ${pw}`)),
      'console.error',
      'as is',
    ],
    [
      'a JSON log line on stdout',
      (pw) => process.stdout.write(`${JSON.stringify({ message: 'drill', pw })}\n`),
      'process.stdout',
      'JSON-escaped',
    ],
    [
      'a Basic header on stderr, as bytes',
      (pw) => process.stderr.write(Buffer.from(`Basic ${Buffer.from(`drill-x:${pw}`).toString('base64')}\n`)),
      'process.stderr',
      'base64-encoded',
    ],
    [
      'a query string on stdout while a test has replaced stdout.write',
      (pw) => {
        const real = process.stdout.write;
        process.stdout.write = (() => true) as typeof process.stdout.write;
        try {
          process.stdout.write(`/drill?p=${encodeURIComponent(pw)}\n`);
        } finally {
          process.stdout.write = real;
        }
      },
      'process.stdout',
      'percent-encoded',
    ],
    [
      'an audit record (the target a route noted)',
      (pw) => {
        void new MemoryAuditTrail().record({
          operation: 'drill',
          activity: 'change',
          requestId: 'drill',
          actor: { kind: 'self' },
          target: { username: pw },
          origin: { kind: 'http', route: 'PUT /drill' },
          outcome: { ok: true, result: 'PasswordChanged' },
          time: new Date(),
        });
      },
      'audit.record',
      'JSON-escaped',
    ],
    [
      'an EMF metrics document (a dimension value), as Powertools Metrics writes it',
      (pw) => {
        const metrics = createMetrics('drill');
        metrics.count('Refused', { code: pw });
        metrics.flush();
      },
      'process.stdout',
      'JSON-escaped',
    ],
    [
      'a response header (a client id echoed on a refusal)',
      (pw) =>
        notifyGatewayObservers({
          method: 'PUT',
          path: '/drill',
          result: { statusCode: 401, headers: { 'opc-request-id': `${pw}/drill` }, body: '{}' },
          // Not the route table: the OpenAPI check leaves a drill's response alone.
          routes: [],
        }),
      'gateway.response',
      'JSON-escaped',
    ],
    [
      'console.warn while vi.spyOn silences it',
      (pw) => {
        const spy = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
        try {
          console.warn(pw);
        } finally {
          spy.mockRestore();
        }
      },
      'console.warn',
      'as is',
    ],
  ];

  it('is installed in this worker, as in every other', () => {
    expect(detectorInstalled(), 'test/support/plaintext-setup.ts is not a setupFile').toBe(true);
  });

  it.each(LEAKS)(
    'catches a hashed password leaked through %s, and never prints it',
    async (how, leak, kind, form) => {
      // A quote and a space, so that its JSON-escaped and percent-encoded forms differ from it.
      const password = `Drill "${how}" ${randomUUID()}`;
      const leaks = await leakDrill(async () => {
        await argon2idHasher.hash(password);
        leak(password);
      });
      expect(leaks.map((l) => [l.kind, l.form, l.recordedBy, l.length])).toEqual([
        [kind, form, 'argon2idHasher.hash', password.length],
      ]);
      const report = describeLeaks('no-plaintext.test.ts', leaks);
      expect(report).toContain(`in ${kind} output`);
      for (const [, text] of passwordForms(password)) expect(report.includes(text)).toBe(false);
    },
  );

  it('catches a password only ever stored in the vault (a DDM administrator) leaked to the console', async () => {
    const password = `Drill-Ddm-${randomUUID()}`;
    let secretId = '';
    const leaks = await leakDrill(async () => {
      ({ secretId } = await reader.deps.vault.create({
        name: `rekey/ddm/drill-${randomUUID()}`,
        value: JSON.stringify({ engine: 'mysql', username: 'drill', password }),
        description: 'the plaintext check control',
        tags: {},
      }));
      console.info(`connected as drill:${password}`);
    });
    await reader.deps.vault.delete(secretId);
    expect(leaks.map((l) => [l.kind, l.form, l.recordedBy])).toEqual([
      ['console.info', 'as is', 'LocalFileVault.createSecret'],
    ]);
  });

  it('leaves the drills out of this file’s capture, which holds no password', () => {
    expect(findLeaks()).toEqual([]);
  });
});
