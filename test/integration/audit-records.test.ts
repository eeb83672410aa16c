/**
 * Issue 14: every password operation — HTTP and ticket, success and refusal — leaves one
 * `PasswordAudit` event on the bus (an OCSF Account Change record: who, on whom, what, the
 * outcome, where from, the request id) and its metrics as EMF on stdout. Real handlers
 * through the local gateway and the local bus; the records read back from the bus's audit
 * log, the metrics from the captured stdout. No password appears in either.
 * Tickets come in both ways: put on the bus directly (a system's own rule) and through the
 * ticket intake (`POST /tickets/{connectorId}`, issue 12), whose refusals are refused resets.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PasswordAuditRecord } from '#adapters/audit.ts';
import type { Runtime } from '#adapters/runtime.ts';
import { UnavailableError } from '#core/errors.ts';
import { newInstance, newRealm, newUser } from '#core/factories.ts';
import type { TemporaryPasswordSecret } from '#core/model.ts';
import type { SecretVault } from '#core/ports.ts';
import { capturingLogs } from '#test/support/capture-output.ts';
import { startTestApi, type TestApi, type TestResponse } from '#test/support/test-api.ts';
import {
  type CreatedConnector,
  createTestConnector,
  type FakeTicketingSystem,
  secretHeaders,
  startFakeTicketingSystem,
  zendeskHeaders,
} from '#test/support/ticketing-systems.ts';
import { putTickets } from '#test/support/tickets.ts';

const SUBJECT = 'helpdesk-9@democorp.example';
const GIVEN = 'Amber-Lantern-2026!';
const CHANGED = 'Cobalt-Meadow-2027?';
const DDM = 'Ddm#Audit2024x';
const SOURCE_IP = '127.0.0.1';

/** One EMF document: its metric values and dimensions, as CloudWatch reads them. */
interface Emf {
  _aws: {
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [key: string]: unknown;
}

/** A password a ticket template must never carry (refused at the intake, never hashed). */
const DICTATED = 'Dictated-By-Ticket-77';

let t: TestApi;
let token: string;
/** The ticketing systems the connectors' notes go to (they answer 200). */
let system: FakeTicketingSystem;
let scratch: string;
const connectors: Record<string, CreatedConnector> = {};
const seenPasswords: string[] = [GIVEN, CHANGED, DDM, DICTATED];
/** Short reply retries: the notes are not what these tests are about. */
const REPLIES = { attempts: 1, backoffMs: () => 10, timeoutMs: 2000 };

beforeAll(async () => {
  t = await startTestApi({ replies: REPLIES });
  system = await startFakeTicketingSystem();
  scratch = mkdtempSync(join(tmpdir(), 'rekey-audit-connectors-'));
  for (const [id, kind] of [
    ['zd-audit', 'zendesk'],
    ['jsm-audit', 'jira'],
  ] as const) {
    connectors[id] = await createTestConnector(
      t,
      { id, kind, realm: 'demo', replyUrl: `${system.url}/` },
      scratch,
    );
  }
  token = await t.token({ subject: SUBJECT });
  const { directory } = t.runtime().deps;
  await directory.saveInstance(newInstance({ realmId: 'demo', instanceId: 'ddm-rec' }), undefined);
  // A realm that locks after two failures, for the lock-out metric.
  await directory.createRealm(
    newRealm('lockrealm', 'lockcorp', { lockout: { maxFailedAttempts: 2, lockSeconds: 600 } }),
  );
  await directory.createUser(newUser({ realmId: 'lockrealm', userId: 'u-lock', username: 'locky' }));
});
afterAll(async () => {
  await t.close();
  await system.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Sends, with stdout captured: the response, the audit records it added, the EMF documents written. */
async function observed(
  send: () => Promise<TestResponse>,
  api: TestApi = t,
): Promise<{ res: TestResponse; records: PasswordAuditRecord[]; emf: Emf[]; text: string }> {
  const before = api.api.bus?.audit().length ?? 0;
  const { result: res, logs } = await capturingLogs(send);
  const records = (api.api.bus?.audit() ?? [])
    .slice(before)
    .map((e) => e.detail as unknown as PasswordAuditRecord);
  const emf = logs
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Emf);
  return { res, records, emf, text: logs };
}

/** The sum of `name` over every EMF document with these dimension values (several invocations). */
function total(emf: Emf[], name: string, dimensions: Record<string, string>): number {
  return emf
    .filter((doc) => Object.entries(dimensions).every(([key, value]) => doc[key] === value))
    .reduce((sum, doc) => sum + (typeof doc[name] === 'number' ? doc[name] : 0), 0);
}

/** The one value of `name` in the EMF documents whose dimensions include `dimensions`. */
function metric(emf: Emf[], name: string, dimensions: Record<string, string>): number | undefined {
  const docs = emf.filter(
    (doc) =>
      doc._aws.CloudWatchMetrics.some(
        (m) => m.Namespace === 'rekey' && m.Metrics.some((x) => x.Name === name),
      ) &&
      Object.entries(dimensions).every(([key, value]) => doc[key] === value) &&
      Object.keys(dimensions).every((key) => doc._aws.CloudWatchMetrics[0]?.Dimensions[0]?.includes(key)),
  );
  expect(docs.length, `one EMF document with ${name} ${JSON.stringify(dimensions)}`).toBeLessThanOrEqual(1);
  return docs[0]?.[name] as number | undefined;
}

async function generated(secretId: string): Promise<string> {
  const password = (JSON.parse(await t.runtime().deps.vault.read(secretId)) as TemporaryPasswordSecret)
    .password;
  seenPasswords.push(password);
  return password;
}

const ocsfBase = (activity: 3 | 4) => ({
  category_uid: 3,
  class_uid: 3001,
  class_name: 'Account Change',
  activity_id: activity,
  activity_name: activity === 3 ? 'Password Change' : 'Password Reset',
  type_uid: 300100 + activity,
  metadata: { version: '1.1.0', product: { name: 'rekey', vendor_name: 'rekey' }, log_name: 'PasswordAudit' },
});
const admin = { user: { uid: SUBJECT, domain: 'demo', type: 'Admin', type_id: 2 } };

function one(records: PasswordAuditRecord[]): PasswordAuditRecord {
  expect(records, 'one audit record').toHaveLength(1);
  return records[0] as PasswordAuditRecord;
}

describe('HTTP: one audit record and its metrics per request, success and refusal', () => {
  it('OCI uiPassword issued: who, on whom, what, where from, the request id; PasswordIssued', async () => {
    const { res, records, emf } = await observed(() =>
      t.request('POST', '/20160918/users/u-alice/uiPassword', {
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    expect(res.status).toBe(200);
    await generated(res.json.passwordSecretId);
    const record = one(records);
    expect(record).toMatchObject({
      ...ocsfBase(4),
      status_id: 1,
      status: 'Success',
      severity_id: 1,
      actor: admin,
      user: { uid: 'u-alice', domain: 'demo', type: 'User' },
      api: { operation: 'create-or-reset-ui-password', request: { uid: res.headers.get('opc-request-id') } },
      http_request: { http_method: 'POST', url: { path: '/20160918/users/{userId}/uiPassword' } },
      src_endpoint: { ip: SOURCE_IP },
      unmapped: { origin: 'http', result: 'PasswordIssued' },
    });
    expect(record.time).toBeGreaterThan(Date.now() - 60_000);
    expect(
      metric(emf, 'PasswordIssued', {
        service: 'create-or-reset-ui-password',
        operation: 'create-or-reset-ui-password',
      }),
    ).toBe(1);
  });

  it('OCI uiPassword replayed under its retry token: audited as a replay, not counted as one more issue', async () => {
    const send = () =>
      t.request('POST', '/20160918/users/u-alice/uiPassword', {
        headers: { authorization: `Bearer ${token}`, 'opc-retry-token': 'audit-replay-1' },
      });
    const first = await observed(send);
    expect(first.res.status).toBe(200);
    await generated(String(first.res.json.passwordSecretId));
    expect(one(first.records).unmapped.replayed).toBeUndefined();
    expect(metric(first.emf, 'PasswordIssued', { operation: 'create-or-reset-ui-password' })).toBe(1);

    const again = await observed(send);
    expect(again.res.json.passwordSecretId).toBe(first.res.json.passwordSecretId);
    expect(one(again.records)).toMatchObject({
      status: 'Success',
      message: 'password reset answered again (a repeated request: nothing changed)',
      user: { uid: 'u-alice', domain: 'demo' },
      api: { request: { uid: again.res.headers.get('opc-request-id') } },
      unmapped: { result: 'PasswordIssued', replayed: true },
    });
    expect(total(again.emf, 'PasswordIssued', { operation: 'create-or-reset-ui-password' })).toBe(0);
  });

  it('OCI uiPassword refused (an unknown user): a Failure with the dialect code; Refused by code', async () => {
    const { res, records, emf } = await observed(() =>
      t.request('POST', '/20160918/users/u-nobody/uiPassword', {
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    expect(res.status).toBe(404);
    expect(one(records)).toMatchObject({
      ...ocsfBase(4),
      status_id: 2,
      status: 'Failure',
      status_code: 'NotAuthorizedOrNotFound',
      severity_id: 2,
      message: 'password reset refused',
      actor: admin,
      // The realm the token acts in; the user id as typed names nobody the directory has.
      user: { domain: 'demo' },
      api: { request: { uid: res.headers.get('opc-request-id') } },
      unmapped: { origin: 'http', http_status: 404 },
    });
    expect(one(records).user.uid).toBeUndefined();
    expect(
      metric(emf, 'Refused', { operation: 'create-or-reset-ui-password', code: 'NotAuthorizedOrNotFound' }),
    ).toBe(1);
  });

  it('without a token: refused, the actor unauthenticated, nobody named', async () => {
    const { res, records } = await observed(() => t.request('POST', '/20160918/users/u-alice/uiPassword'));
    expect(res.status).toBe(401);
    const record = one(records);
    expect(record).toMatchObject({
      status: 'Failure',
      actor: { user: { type: 'Other' } },
      unmapped: { http_status: 401 },
    });
    expect(record.user.uid).toBeUndefined();
  });

  it('Huawei random-password: issued, then refused for a federated user', async () => {
    const ok = await observed(() =>
      t.request('GET', '/v2/demo/users/u-alice/random-password', { headers: { 'x-auth-token': token } }),
    );
    expect(ok.res.status).toBe(200);
    await generated(ok.res.json.password_secret_id);
    expect(one(ok.records)).toMatchObject({
      ...ocsfBase(4),
      status: 'Success',
      actor: admin,
      user: { uid: 'u-alice', domain: 'demo' },
      api: { operation: 'reset-random-password', request: { uid: ok.res.headers.get('x-request-id') } },
      unmapped: { result: 'PasswordIssued', route: 'GET /v2/{project_id}/users/{user_id}/random-password' },
    });
    expect(metric(ok.emf, 'PasswordIssued', { operation: 'reset-random-password' })).toBe(1);

    const refused = await observed(() =>
      t.request('GET', '/v2/demo/users/u-carol/random-password', { headers: { 'x-auth-token': token } }),
    );
    expect(refused.res.status).toBe(400);
    const record = one(refused.records);
    expect(record).toMatchObject({
      status: 'Failure',
      status_detail: 'Federated',
      user: { uid: 'u-carol' },
      api: { request: { uid: refused.res.headers.get('x-request-id') } },
      unmapped: { reason: 'Federated', http_status: 400 },
    });
    expect(
      metric(refused.emf, 'Refused', { operation: 'reset-random-password', code: record.status_code ?? '' }),
    ).toBe(1);
  });

  it('Alibaba CloudSSO: a given password is PasswordSet, a policy refusal names the reason only', async () => {
    const send = (params: Record<string, unknown>) =>
      t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ DirectoryId: 'demo', UserId: 'u-bob', ...params }),
      });
    const set = await observed(() => send({ Password: GIVEN }));
    expect(set.res.status).toBe(200);
    expect(one(set.records)).toMatchObject({
      ...ocsfBase(4),
      status: 'Success',
      actor: admin,
      user: { uid: 'u-bob', domain: 'demo' },
      api: { operation: 'reset-user-password', request: { uid: set.res.json.RequestId } },
      unmapped: { result: 'PasswordSet' },
    });
    expect(metric(set.emf, 'PasswordSet', { operation: 'reset-user-password' })).toBe(1);

    const weak = 'short';
    const refused = await observed(() => send({ Password: weak }));
    expect(refused.res.status).toBe(400);
    const record = one(refused.records);
    expect(record).toMatchObject({
      status: 'Failure',
      user: { domain: 'demo' },
      api: { request: { uid: refused.res.json.RequestId } },
    });
    // The seed's rule refuses before the directory is read: nobody found, nobody named.
    expect(record.user.uid).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain(weak);
  });

  it('Huawei DDM: the administrator password set, then refused on an unknown instance', async () => {
    const send = (instance: string) =>
      t.request('PUT', `/v3/demo/instances/${instance}/admin-user`, {
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'root', password: DDM }),
      });
    const ok = await observed(() => send('ddm-rec'));
    expect(ok.res.status).toBe(200);
    expect(one(ok.records)).toMatchObject({
      ...ocsfBase(4),
      status: 'Success',
      user: { uid: 'instance:ddm-rec', name: 'root', domain: 'demo' },
      api: { operation: 'manage-ddm-admin', request: { uid: ok.res.headers.get('x-request-id') } },
      unmapped: { result: 'PasswordSet' },
    });
    expect(metric(ok.emf, 'PasswordSet', { operation: 'manage-ddm-admin' })).toBe(1);
    const refused = await observed(() => send('ddm-none'));
    expect(refused.res.status).toBe(404);
    expect(one(refused.records)).toMatchObject({ status: 'Failure', user: { domain: 'demo' } });
    expect(one(refused.records).user.uid).toBeUndefined();
    // Found, then refused (another name than the one created): the account as the directory
    // has it, its stored name, not the name sent.
    const mismatch = await observed(() =>
      t.request('PUT', '/v3/demo/instances/ddm-rec/admin-user', {
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'someone_else', password: DDM }),
      }),
    );
    expect(mismatch.res.status).toBe(409);
    expect(one(mismatch.records)).toMatchObject({
      status: 'Failure',
      user: { uid: 'instance:ddm-rec', name: 'root', domain: 'demo' },
    });
    expect(JSON.stringify(one(mismatch.records))).not.toContain('someone_else');
  });

  // A password typed into an id field — an admin who swapped two fields — fits the id rules;
  // the record names only what the directory found, so it never reaches the audit trail.
  it('a password typed into an id or name field: refused, and the record does not repeat it', async () => {
    const typed = 'Kx9_vQ2m-Lp7.Orchard';
    const attempts: Array<[string, () => Promise<TestResponse>]> = [
      [
        'CloudSSO, UserId and Password swapped',
        () =>
          t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ DirectoryId: 'demo', UserId: typed, Password: 'u-bob' }),
          }),
      ],
      [
        'CloudSSO, a valid password for a user id that names nobody',
        () =>
          t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ DirectoryId: 'demo', UserId: typed, Password: GIVEN }),
          }),
      ],
      [
        'OCI uiPassword, the path user id',
        () =>
          t.request('POST', `/20160918/users/${typed}/uiPassword`, {
            headers: { authorization: `Bearer ${token}` },
          }),
      ],
      [
        'Huawei random-password, the path user id',
        () =>
          t.request('GET', `/v2/demo/users/${typed}/random-password`, { headers: { 'x-auth-token': token } }),
      ],
      [
        'Huawei random-password, the path project id',
        () =>
          t.request('GET', `/v2/${typed}/users/u-bob/random-password`, {
            headers: { 'x-auth-token': token },
          }),
      ],
      [
        'DDM, name and password swapped',
        () =>
          t.request('PUT', '/v3/demo/instances/ddm-rec/admin-user', {
            headers: { 'x-auth-token': token, 'content-type': 'application/json' },
            body: JSON.stringify({ name: typed.replaceAll(/[.-]/g, '_'), password: 'root' }),
          }),
      ],
      [
        'DDM, the path instance id',
        () =>
          t.request('PUT', `/v3/demo/instances/${typed}/admin-user`, {
            headers: { 'x-auth-token': token, 'content-type': 'application/json' },
            body: JSON.stringify({ name: 'root', password: DDM }),
          }),
      ],
    ];
    for (const [what, send] of attempts) {
      const { res, records } = await observed(send);
      expect([what, res.status >= 400 && res.status < 500]).toEqual([what, true]);
      const record = one(records);
      expect([what, record.status, record.user.domain]).toEqual([what, 'Failure', 'demo']);
      const text = JSON.stringify(record);
      expect([what, text.includes(typed), text.includes(typed.replaceAll(/[.-]/g, '_'))]).toEqual([
        what,
        false,
        false,
      ]);
    }
  });

  it('change-password: the user themselves; a wrong password refused, then the change', async () => {
    const change = (current: string) =>
      t.request('PUT', '/20160918/changepassword', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: 'bob',
          tenancy: 'demo',
          currentPassword: current,
          newPassword: CHANGED,
        }),
      });
    const wrong = await observed(() => change('Not-The-Password-1!'));
    expect(wrong.res.status).toBe(401);
    expect(one(wrong.records)).toMatchObject({
      ...ocsfBase(3),
      status: 'Failure',
      message: 'password change refused',
      actor: { user: { uid: 'u-bob', name: 'bob', domain: 'demo', type: 'User' } },
      user: { uid: 'u-bob', name: 'bob', domain: 'demo' },
      api: { operation: 'change-password', request: { uid: wrong.res.headers.get('opc-request-id') } },
      unmapped: { http_status: 401 },
    });
    const ok = await observed(() => change(GIVEN));
    expect(ok.res.status).toBe(200);
    expect(one(ok.records)).toMatchObject({
      ...ocsfBase(3),
      status: 'Success',
      actor: { user: { uid: 'u-bob', name: 'bob', type: 'User' } },
      user: { uid: 'u-bob', name: 'bob', domain: 'demo' },
      unmapped: { result: 'PasswordChanged' },
    });
    expect(metric(ok.emf, 'PasswordChanged', { operation: 'change-password' })).toBe(1);
    // The change notice went out by e-mail: counted by channel.
    expect(metric(ok.emf, 'NotificationSent', { channel: 'email' })).toBe(1);
  });

  it('change-password: a username that names nobody is not written; the tenancy as sent is not either', async () => {
    // A user who types their password into the username field: the refusal must not keep it.
    const typed = 'Tr0ub4dor&3-typed-as-username';
    const tenancy = 'tenancy-that-does-not-exist';
    const refused = await observed(() =>
      t.request('PUT', '/20160918/changepassword', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: typed,
          tenancy,
          currentPassword: 'x-Wrong-1!',
          newPassword: CHANGED,
        }),
      }),
    );
    expect(refused.res.status).toBe(401);
    const record = one(refused.records);
    expect(record).toMatchObject({ ...ocsfBase(3), status: 'Failure', unmapped: { http_status: 401 } });
    expect(JSON.stringify(record)).not.toContain(typed);
    expect(JSON.stringify(record)).not.toContain(tenancy);
  });

  it('a lock-out is counted once, by realm, when the failure that reaches the limit lands', async () => {
    const lockToken = await t.token({ realmId: 'lockrealm', subject: SUBJECT });
    const set = await t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
      headers: { authorization: `Bearer ${lockToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ DirectoryId: 'lockrealm', UserId: 'u-lock', Password: GIVEN }),
    });
    expect(set.status).toBe(200);
    const guess = () =>
      t.request('PUT', '/20160918/changepassword', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: 'locky',
          tenancy: 'lockrealm',
          currentPassword: 'Wrong-Guess-77!',
          newPassword: CHANGED,
        }),
      });
    const first = await observed(guess);
    expect(metric(first.emf, 'LockedOut', { realm: 'lockrealm' })).toBeUndefined();
    const second = await observed(guess);
    expect(metric(second.emf, 'LockedOut', { realm: 'lockrealm', service: 'change-password' })).toBe(1);
    const third = await observed(guess);
    expect(metric(third.emf, 'LockedOut', { realm: 'lockrealm' })).toBeUndefined();
  });
});

describe('tickets: one audit record per delivery, with the ticket and its connector', () => {
  it('a completed ticket and a refused one', async () => {
    const { records, emf } = await observed(async () => {
      await putTickets(t, [
        { ticketId: 'REC0000001', operation: 'ResetRandomPassword', realmId: 'demo', userId: 'u-alice' },
        { ticketId: 'REC0000002', operation: 'ResetRandomPassword', realmId: 'demo', userId: 'u-carol' },
      ]);
      return { status: 0 } as TestResponse;
    });
    expect(records).toHaveLength(2);
    const done = records.find((r) => r.unmapped.ticket_id === 'REC0000001');
    const refused = records.find((r) => r.unmapped.ticket_id === 'REC0000002');
    const actor = {
      user: { uid: 'ticket:ticketing.servicenow', type: 'System' },
      app_name: 'ticketing.servicenow',
    };
    expect(done).toMatchObject({
      ...ocsfBase(4),
      status: 'Success',
      actor,
      user: { uid: 'u-alice', domain: 'demo' },
      api: { operation: 'ResetRandomPassword', request: { uid: expect.any(String) } },
      metadata: { correlation_uid: 'REC0000001' },
      unmapped: { origin: 'ticket', connector: 'ticketing.servicenow', result: 'PasswordIssued' },
    });
    expect(refused).toMatchObject({
      status: 'Failure',
      status_code: 'Conflict.Federated',
      severity_id: 2,
      actor,
      user: { uid: 'u-carol', domain: 'demo' },
      unmapped: { origin: 'ticket', ticket_id: 'REC0000002' },
    });
    expect(done?.http_request).toBeUndefined();
    // The result event names the secret: its password is in no record.
    const completed = t.api.bus?.results().find((e) => e.detail.ticketId === 'REC0000001');
    await generated(String(completed?.detail.passwordSecretId));
    expect(
      metric(emf, 'TicketCompleted', { service: 'ticket-worker', operation: 'ResetRandomPassword' }),
    ).toBe(1);
    expect(metric(emf, 'TicketFailed', { operation: 'ResetRandomPassword' })).toBe(1);
    expect(metric(emf, 'Refused', { operation: 'ResetRandomPassword', code: 'Conflict.Federated' })).toBe(1);
  });

  it.each([
    [
      'user id',
      'REC0000003',
      { realmId: 'demo', userId: 'Lantern-Quartz-Meadow-88' },
      'Lantern-Quartz-Meadow-88',
    ],
    ['realm id', 'REC0000004', { realmId: 'Autumn-Leaves-2026', userId: 'u-alice' }, 'Autumn-Leaves-2026'],
  ])(
    'a ticket whose %s names nobody: refused, the record names neither realm nor user, only the ticket',
    async (_what, ticketId, names, typed) => {
      const { records } = await observed(async () => {
        await putTickets(t, [{ ticketId, operation: 'ResetRandomPassword', ...names }]);
        return { status: 0 } as TestResponse;
      });
      const record = one(records);
      expect(record).toMatchObject({
        status: 'Failure',
        status_code: 'NotFound.User',
        metadata: { correlation_uid: ticketId },
      });
      expect(record.user?.uid).toBeUndefined();
      expect(record.user?.domain).toBeUndefined();
      expect(JSON.stringify(record)).not.toContain(typed);
    },
  );
});

/** Posts to a connector's intake and waits for the worker (and the note) behind it. */
async function intake(
  connectorId: string,
  body: string,
  headers: Record<string, string>,
  api: TestApi = t,
): Promise<TestResponse> {
  const res = await api.request('POST', `/tickets/${connectorId}`, { headers, body });
  await api.api.bus?.idle();
  return res;
}

const intakeBody = (ticketId: string, user: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ ticketId, operation: 'ResetRandomPassword', user, ...extra });
const jsm = () => secretHeaders(connectors['jsm-audit']?.inboundSecret ?? '');
const INTAKE_ROUTE = 'POST /tickets/{connectorId}';
/** The connector acting, once its sender is verified. */
const connectorActor = (id: string) => ({
  user: { uid: `ticket:${id}`, type: 'System', type_id: 3 },
  app_name: id,
});

describe('the ticket intake: a refused intake is one refused reset, an accepted one is the worker’s to record', () => {
  it('an unverified sender (no signature, another secret): 401, the connector named, nobody authenticated, no ticket id', async () => {
    const body = intakeBody('AUD-0000001', 'alice');
    const signed = zendeskHeaders(connectors['zd-audit']?.inboundSecret ?? '', body);
    const { 'x-zendesk-webhook-signature': _, ...unsigned } = signed;
    for (const headers of [unsigned, zendeskHeaders('not-the-secret', body)]) {
      const { res, records, emf } = await observed(() => intake('zd-audit', body, headers));
      expect(res.status).toBe(401);
      const record = one(records);
      expect(record).toMatchObject({
        ...ocsfBase(4),
        status_id: 2,
        status: 'Failure',
        status_code: 'NotAuthenticated.Sender',
        status_detail: 'Sender',
        severity_id: 2,
        message: 'password reset refused',
        actor: { user: { type: 'Other' } },
        user: { domain: 'demo' },
        api: { operation: 'ticket-intake', request: { uid: res.json.requestId } },
        http_request: { http_method: 'POST', url: { path: '/tickets/{connectorId}' } },
        src_endpoint: { ip: SOURCE_IP },
        unmapped: { origin: 'ticket', connector: 'zd-audit', route: INTAKE_ROUTE, http_status: 401 },
      });
      // The ticket id is the caller's word until the sender is verified: not recorded.
      expect(record.unmapped.ticket_id).toBeUndefined();
      expect(record.metadata.correlation_uid).toBeUndefined();
      expect(JSON.stringify(record)).not.toContain('AUD-0000001');
      expect(record.user.uid).toBeUndefined();
      expect(
        metric(emf, 'Refused', {
          service: 'ticket-intake',
          operation: 'ticket-intake',
          code: 'NotAuthenticated.Sender',
        }),
      ).toBe(1);
      expect(total(emf, 'TicketFailed', {})).toBe(0);
    }
  });

  it('an unknown connector: 404, one record naming no connector', async () => {
    const body = intakeBody('AUD-0000002', 'alice');
    const { res, records, emf } = await observed(() => intake('nope-audit', body, jsm()));
    expect(res.status).toBe(404);
    const record = one(records);
    expect(record).toMatchObject({
      status: 'Failure',
      status_code: 'NotFound.Connector',
      actor: { user: { type: 'Other' } },
      unmapped: { origin: 'ticket', route: INTAKE_ROUTE, http_status: 404 },
    });
    expect(record.unmapped.connector).toBeUndefined();
    expect(record.unmapped.ticket_id).toBeUndefined();
    expect(record.user.domain).toBeUndefined();
    expect(metric(emf, 'Refused', { operation: 'ticket-intake', code: 'NotFound.Connector' })).toBe(1);
  });

  it('a malformed body and a password in the body, from a verified sender: 400, the connector acts, nothing repeated', async () => {
    const cases: Array<[body: string, code: string]> = [
      ['{"ticketId": "AUD-0000003", ', 'InvalidInput'],
      [intakeBody('AUD-0000004', 'alice', { newPassword: DICTATED }), 'InvalidInput.Password'],
    ];
    for (const [body, code] of cases) {
      const { res, records, emf } = await observed(() => intake('jsm-audit', body, jsm()));
      expect(res.status).toBe(400);
      expect(res.json.code).toMatch(new RegExp(`^${code.replace('.', '\\.')}`));
      const record = one(records);
      expect(record).toMatchObject({
        status: 'Failure',
        status_code: res.json.code,
        actor: connectorActor('jsm-audit'),
        user: { domain: 'demo' },
        api: { operation: 'ticket-intake' },
        unmapped: { origin: 'ticket', connector: 'jsm-audit', http_status: 400 },
      });
      // Refused before its body was read: no ticket id, and nothing of the body.
      expect(record.unmapped.ticket_id).toBeUndefined();
      expect(JSON.stringify(record)).not.toMatch(/AUD-000000[34]|Dictated|newPassword/);
      expect(metric(emf, 'Refused', { operation: 'ticket-intake', code: res.json.code })).toBe(1);
    }
  });

  it('an unknown user: 202 and NotFound.User on the ticket, recorded as a refused reset with the ticket id; Refused and TicketFailed', async () => {
    const { res, records, emf } = await observed(() =>
      intake('jsm-audit', intakeBody('AUD-0000005', 'nobody@example.com'), jsm()),
    );
    expect(res.status).toBe(202);
    const record = one(records);
    expect(record).toMatchObject({
      ...ocsfBase(4),
      status: 'Failure',
      status_code: 'NotFound.User',
      severity_id: 2,
      actor: connectorActor('jsm-audit'),
      user: { domain: 'demo' },
      api: { operation: 'ticket-intake', request: { uid: res.json.requestId } },
      metadata: { correlation_uid: 'AUD-0000005' },
      unmapped: {
        origin: 'ticket',
        connector: 'jsm-audit',
        ticket_id: 'AUD-0000005',
        route: INTAKE_ROUTE,
        http_status: 202,
      },
    });
    // The name the ticket gave is not a user rekey knows: not recorded.
    expect(record.user.uid).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain('nobody@example.com');
    expect(metric(emf, 'Refused', { operation: 'ticket-intake', code: 'NotFound.User' })).toBe(1);
    expect(metric(emf, 'TicketFailed', { service: 'ticket-intake', operation: 'ResetRandomPassword' })).toBe(
      1,
    );
  });

  it('accepted (202): no record of its own; the worker records the reset and the refusal with the connector id and ticket id', async () => {
    const { records, emf } = await observed(async () => {
      const ok = await intake('jsm-audit', intakeBody('AUD-0000006', 'u-alice'), jsm());
      const federated = await intake('jsm-audit', intakeBody('AUD-0000007', 'u-carol'), jsm());
      expect([ok.status, federated.status]).toEqual([202, 202]);
      return ok;
    });
    // Two tickets, two records: both the worker's, none the intake's.
    expect(records).toHaveLength(2);
    expect(records.filter((r) => r.api.operation === 'ticket-intake')).toEqual([]);
    const done = records.find((r) => r.unmapped.ticket_id === 'AUD-0000006');
    const refused = records.find((r) => r.unmapped.ticket_id === 'AUD-0000007');
    expect(done).toMatchObject({
      ...ocsfBase(4),
      status: 'Success',
      actor: connectorActor('jsm-audit'),
      user: { uid: 'u-alice', domain: 'demo' },
      api: { operation: 'ResetRandomPassword' },
      metadata: { correlation_uid: 'AUD-0000006' },
      unmapped: { origin: 'ticket', connector: 'jsm-audit', result: 'PasswordIssued' },
    });
    expect(refused).toMatchObject({
      status: 'Failure',
      status_code: 'Conflict.Federated',
      actor: connectorActor('jsm-audit'),
      user: { uid: 'u-carol' },
      unmapped: { origin: 'ticket', connector: 'jsm-audit', ticket_id: 'AUD-0000007' },
    });
    const completed = t.api.bus?.results().find((e) => e.detail.ticketId === 'AUD-0000006');
    await generated(String(completed?.detail.passwordSecretId));
    expect(
      metric(emf, 'TicketCompleted', { service: 'ticket-worker', operation: 'ResetRandomPassword' }),
    ).toBe(1);
    expect(metric(emf, 'TicketFailed', { service: 'ticket-worker', operation: 'ResetRandomPassword' })).toBe(
      1,
    );
    expect(total(emf, 'Refused', { service: 'ticket-intake' })).toBe(0);
  });
});

describe('a ticket that fails on rekey’s side (the vault down)', () => {
  let failing: TestApi;
  let failingSystem: FakeTicketingSystem;
  const vaultDown = (rt: Runtime): Runtime => {
    const vault: SecretVault = Object.assign(Object.create(rt.deps.vault) as SecretVault, {
      create: () => Promise.reject(new UnavailableError('The vault is unavailable; retry later.')),
    });
    return { ...rt, deps: { ...rt.deps, vault } };
  };
  beforeAll(async () => {
    failing = await startTestApi({
      replies: REPLIES,
      customizeRuntime: (op, rt) => (op === 'ticket-worker' ? vaultDown(rt) : rt),
    });
    failingSystem = await startFakeTicketingSystem();
    connectors['jsm-down'] = await createTestConnector(
      failing,
      { id: 'jsm-down', kind: 'jira', realm: 'demo', replyUrl: `${failingSystem.url}/` },
      scratch,
    );
  });
  afterAll(async () => {
    await failing.close();
    await failingSystem.close();
  });

  it('records each delivery as failed (Medium) with the connector id and ticket id, and counts TicketFailed once, when the ticket is told', async () => {
    const headers = secretHeaders(connectors['jsm-down']?.inboundSecret ?? '');
    const { records, emf } = await observed(async () => {
      const res = await intake(
        'jsm-down',
        JSON.stringify({ ticketId: 'AUD-0000009', operation: 'CreateOrResetUIPassword', user: 'u-alice' }),
        headers,
        failing,
      );
      expect(res.status).toBe(202);
      return res;
    }, failing);
    // maxReceiveCount (3) deliveries, each one record; the last one tells the ticket it failed.
    expect(records).toHaveLength(3);
    for (const record of records) {
      expect(record).toMatchObject({
        ...ocsfBase(4),
        status: 'Failure',
        status_code: 'Unavailable',
        severity_id: 3,
        message: 'password reset failed',
        actor: connectorActor('jsm-down'),
        user: { uid: 'u-alice', domain: 'demo' },
        api: { operation: 'CreateOrResetUIPassword' },
        metadata: { correlation_uid: 'AUD-0000009' },
        unmapped: { origin: 'ticket', connector: 'jsm-down', ticket_id: 'AUD-0000009' },
      });
    }
    const told = failing.api.bus?.results().filter((e) => e.detail.ticketId === 'AUD-0000009') ?? [];
    expect(told.map((e) => [e['detail-type'], e.detail.code])).toEqual([
      ['PasswordResetFailed', 'Unavailable.RetriesExhausted'],
    ]);
    const worker = { service: 'ticket-worker', operation: 'CreateOrResetUIPassword' };
    expect(total(emf, 'TicketFailed', worker)).toBe(1);
    expect(total(emf, 'Failed', { ...worker, cause: 'Unavailable' })).toBe(3);
    expect(total(emf, 'TicketCompleted', worker)).toBe(0);
  });
});

describe('what changes no password is not observed', () => {
  it('the GET routes (the page, its script, its rules, the OpenAPI document), answered or refused: no record, no metric', async () => {
    for (const path of [
      '/password?tenancy=democorp&username=alice',
      '/password/page.js',
      '/password/rules?tenancy=demo',
      '/password?other=1',
      '/openapi.json',
    ]) {
      const { res, records, emf } = await observed(() => t.request('GET', path));
      expect(res.status, path).toBeLessThan(500);
      expect(records, path).toEqual([]);
      expect(emf, path).toEqual([]);
    }
  });
});

describe('what the operator reads', () => {
  it('holds no password, hash or secret value', async () => {
    const audit = readFileSync(t.api.bus?.auditLog ?? '', 'utf8');
    expect(audit.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(14);
    for (const password of seenPasswords) {
      expect(password.length).toBeGreaterThan(7);
      expect(audit).not.toContain(password);
    }
    expect(audit).not.toMatch(/\$argon2id\$/);
    // No field named like a password (a refusal may name the parameter, `Password`, as its reason).
    expect(audit).not.toMatch(/"[a-z_]*password[a-z_]*"\s*:/i);
  });
});
