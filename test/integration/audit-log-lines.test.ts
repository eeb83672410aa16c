/**
 * Who acted, in the function log: the line each mutation writes names the admin (the token's
 * `sub`) or the ticket (`ticket:<source>`, its id), the realm and the request — and still no
 * password. Real handlers through the local gateway, their stdout captured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newInstance } from '#core/factories.ts';
import type { TemporaryPasswordSecret } from '#core/model.ts';
import { capturingLogs } from '#test/support/capture-output.ts';
import { startTestApi, type TestApi, type TestResponse } from '#test/support/test-api.ts';
import { putTickets } from '#test/support/tickets.ts';

const SUBJECT = 'helpdesk-7@democorp.example';
const GIVEN = 'Quiet-Harbor-2026!';
const DDM_FIRST = 'Ddm#Admin2024';
const DDM_SECOND = 'Second!Pass99';

type Line = Record<string, unknown> & { message: string };

let t: TestApi;
let token: string;

beforeAll(async () => {
  t = await startTestApi();
  token = await t.token({ subject: SUBJECT });
  await t
    .runtime()
    .deps.directory.saveInstance(newInstance({ realmId: 'demo', instanceId: 'ddm-audit' }), undefined);
});
afterAll(() => t.close());

/** Runs `send` with the process output captured; returns its response and the JSON lines written. */
async function logged(
  send: () => Promise<TestResponse>,
): Promise<{ res: TestResponse; lines: Line[]; text: string }> {
  const { result: res, logs } = await capturingLogs(send);
  const lines = logs
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);
  return { res, lines, text: logs };
}

/** The one line with this message. */
function lineOf(lines: Line[], message: string): Line {
  const found = lines.filter((line) => line.message === message);
  expect(found, `one "${message}" line`).toHaveLength(1);
  return found[0] as Line;
}

async function generatedPassword(secretId: string): Promise<string> {
  return (JSON.parse(await t.runtime().deps.vault.read(secretId)) as TemporaryPasswordSecret).password;
}

function expectNoPassword(text: string, ...passwords: string[]): void {
  for (const password of passwords) {
    expect(password.length).toBeGreaterThan(7);
    expect(text).not.toContain(password);
    expect(text).not.toContain(JSON.stringify(password).slice(1, -1));
  }
}

describe('the log line of each mutation says who acted, where and in which request', () => {
  it('OCI uiPassword: "temporary UI password issued"', async () => {
    const { res, lines, text } = await logged(() =>
      t.request('POST', '/20160918/users/u-alice/uiPassword', {
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    expect(res.status).toBe(200);
    expect(lineOf(lines, 'temporary UI password issued')).toMatchObject({
      actor: SUBJECT,
      realmId: 'demo',
      requestId: res.headers.get('opc-request-id'),
      userId: 'u-alice',
      secretId: res.json.passwordSecretId,
    });
    expectNoPassword(text, await generatedPassword(res.json.passwordSecretId));
  });

  it('Huawei random-password: "random password reset"', async () => {
    const { res, lines, text } = await logged(() =>
      t.request('GET', '/v2/demo/users/u-alice/random-password?notification_type=email', {
        headers: { 'x-auth-token': token },
      }),
    );
    expect(res.status).toBe(200);
    expect(lineOf(lines, 'random password reset')).toMatchObject({
      actor: SUBJECT,
      realmId: 'demo',
      requestId: res.headers.get('x-request-id'),
      userId: 'u-alice',
      secretId: res.json.password_secret_id,
    });
    expectNoPassword(text, await generatedPassword(res.json.password_secret_id));
  });

  it.each([
    ['generated', 'CloudSSO password generated', { GenerateRandomPassword: true }],
    ['given', 'CloudSSO password set', { Password: GIVEN }],
  ])('Alibaba CloudSSO, a %s password: "%s"', async (_kind, message, params) => {
    const { res, lines, text } = await logged(() =>
      t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ DirectoryId: 'demo', UserId: 'u-bob', ...params }),
      }),
    );
    expect(res.status).toBe(200);
    expect(lineOf(lines, message)).toMatchObject({
      actor: SUBJECT,
      realmId: 'demo',
      requestId: res.json.RequestId,
      userId: 'u-bob',
    });
    const generated = res.json.NewPasswordSecretId
      ? [await generatedPassword(res.json.NewPasswordSecretId)]
      : [];
    expectNoPassword(text, GIVEN, ...generated);
  });

  it.each([
    ['created', 'DDM administrator created', DDM_FIRST],
    ['changed', 'DDM administrator password changed', DDM_SECOND],
  ])('Huawei DDM, the administrator %s: "%s"', async (_what, message, password) => {
    const { res, lines, text } = await logged(() =>
      t.request('PUT', '/v3/demo/instances/ddm-audit/admin-user', {
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'root', password }),
      }),
    );
    expect(res.status).toBe(200);
    expect(lineOf(lines, message)).toMatchObject({
      actor: SUBJECT,
      realmId: 'demo',
      requestId: res.headers.get('x-request-id'),
      instanceId: 'ddm-audit',
    });
    expectNoPassword(text, DDM_FIRST, DDM_SECOND);
  });

  it('a ticket: the reset and the ticket lines name the ticket source, the ticket and the realm', async () => {
    const ticketId = 'AUDIT0000001';
    const { lines, text } = await logged(async () => {
      await putTickets(t, [
        { ticketId, operation: 'ResetRandomPassword', realmId: 'demo', userId: 'u-alice' },
      ]);
      return { status: 0 } as TestResponse;
    });
    const answered = lineOf(lines, 'ticket password reset');
    expect(answered).toMatchObject({
      actor: 'ticket:ticketing.servicenow',
      realmId: 'demo',
      ticketId,
      operation: 'ResetRandomPassword',
      userId: 'u-alice',
    });
    expect(lineOf(lines, 'random password reset')).toMatchObject({
      actor: 'ticket:ticketing.servicenow',
      realmId: 'demo',
      requestId: answered.requestId,
      userId: 'u-alice',
    });
    expect(answered.requestId).toEqual(expect.any(String));
    expectNoPassword(text, await generatedPassword(String(answered.secretId)));
  });
});
