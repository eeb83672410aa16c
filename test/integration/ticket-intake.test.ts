/**
 * Ticketing systems for real (issue 12): signed webhooks in through `POST /tickets/{connectorId}`
 * on the local gateway, the worker behind the bus, and the note back on the ticket through the
 * local deliverer, to fake Zendesk, Jira Service Management and ServiceNow APIs that record what
 * they get. Inbound and outbound shapes are each vendor's documented ones:
 * - Zendesk webhook signing: https://developer.zendesk.com/documentation/webhooks/verifying/
 *   (base64(HMAC-SHA256(secret, timestamp + body)), X-Zendesk-Webhook-Signature[-Timestamp]);
 *   a trigger's JSON body with placeholders: https://support.zendesk.com/hc/en-us/articles/4408839108378
 * - Zendesk Update Ticket, private comment:
 *   https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket
 * - Jira Automation "Send web request" (custom headers, custom body):
 *   https://support.atlassian.com/cloud-automation/docs/jira-automation-actions/#Send-web-request
 * - Jira Service Management Create request comment, `public: false` = internal:
 *   https://developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request/#api-rest-servicedeskapi-request-issueidorkey-comment-post
 * - ServiceNow outbound REST message (HTTP headers, content):
 *   https://www.servicenow.com/docs/bundle/zurich-api-reference/page/integrate/outbound-rest/concept/c_OutboundRESTWebService.html
 * - ServiceNow Table API, PATCH /api/now/table/{tableName}/{sys_id} with `work_notes`:
 *   https://www.servicenow.com/docs/bundle/zurich-api-reference/page/integrate/inbound-rest/concept/c_TableAPI.html
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRealm, newUser } from '#core/factories.ts';
import { passwordResetCompleted, passwordResetFailed } from '#functions/ticket-worker/result-events.ts';
import { replyDeadLettersPath } from '#infra/local/ticket-replies.ts';
import { capturingLogs } from '#test/support/capture-output.ts';
import { scanTable } from '#test/support/dynamodb.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';
import {
  type CreatedConnector,
  createTestConnector,
  type FakeTicketingSystem,
  secretHeaders,
  startFakeTicketingSystem,
  zendeskHeaders,
} from '#test/support/ticketing-systems.ts';

const ZENDESK_AUTH = `Basic ${Buffer.from('agent@example.com/token:zd-api-token').toString('base64')}`;
const JIRA_AUTH = `Basic ${Buffer.from('agent@example.com:jira-api-token').toString('base64')}`;
const SNOW_AUTH = `Basic ${Buffer.from('rekey.integration:snow-password').toString('base64')}`;

let t: TestApi;
let system: FakeTicketingSystem;
let down: FakeTicketingSystem;
let scratch: string;
const connectors: Record<string, CreatedConnector> = {};
// Seven digits, as a busy Zendesk's ids are: a short id like "110" also turns up inside a log
// line's timestamp (".110Z"), and the refusal tests check that no log line carries the ticket id.
let ticketNumber = 4_711_000;
const nextTicket = () => String(++ticketNumber);

const bus = (t: TestApi) => t.api.bus ?? expect.unreachable('the local API has a bus');
const resultsFor = (ticketId: string) =>
  bus(t)
    .results()
    .filter((event) => event.detail.ticketId === ticketId);
const temporarySecrets = () => t.api.backend?.vault.list('rekey/temp/') ?? [];

/** Posts to a connector's intake and waits for the worker and the deliverer. */
async function intake(connectorId: string, body: string, headers: Record<string, string>) {
  const res = await t.request('POST', `/tickets/${connectorId}`, { headers, body });
  await bus(t).idle();
  return res;
}

const zendeskBody = (ticketId: string, user: string, extra: Record<string, unknown> = {}) =>
  // What the Zendesk trigger's JSON body template in docs/ticketing.md produces.
  JSON.stringify({
    ticketId,
    operation: 'ResetRandomPassword',
    user,
    notificationType: 'email',
    ...extra,
  });

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'rekey-connectors-'));
  t = await startTestApi({ replies: { attempts: 3, backoffMs: () => 20, timeoutMs: 2000 } });
  system = await startFakeTicketingSystem();
  down = await startFakeTicketingSystem();
  down.answerWith(503);
  const directory = t.runtime().deps.directory;
  await directory.createRealm(newRealm('other', 'othercorp'));
  await directory.createUser(
    newUser({ realmId: 'other', userId: 'u-olga', username: 'olga', email: 'olga@example.com' }),
  );
  const make = async (
    id: string,
    kind: string,
    authorization: string,
    extra: { replyUrl?: string; realm?: string; table?: string } = {},
  ) => {
    connectors[id] = await createTestConnector(
      t,
      {
        id,
        kind,
        realm: extra.realm ?? 'demo',
        replyUrl: extra.replyUrl ?? `${system.url}/`,
        authorization,
        ...(extra.table ? { table: extra.table } : {}),
      },
      scratch,
    );
  };
  await make('zd', 'zendesk', ZENDESK_AUTH);
  await make('jsm', 'jira', JIRA_AUTH);
  await make('snow', 'servicenow', SNOW_AUTH, { table: 'incident' });
  await make('zd-down', 'zendesk', ZENDESK_AUTH, { replyUrl: `${down.url}/` });
});

afterAll(async () => {
  await t.close();
  await system.close();
  await down.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('connector create', () => {
  it('keeps the inbound secret in the vault only: never in the table', async () => {
    const { zd } = connectors;
    expect(zd?.intakeUrl).toBe(`${t.url}/tickets/zd`);
    expect(zd?.inboundSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = t.api.backend?.vault.list('rekey/connector/zd/') ?? [];
    expect(stored.map((s) => s.name).sort()).toEqual([
      'rekey/connector/zd/inbound',
      'rekey/connector/zd/reply',
    ]);
    const Items = await scanTable(t.api.clients, t.runtime().settings.tableName);
    const table = JSON.stringify(Items);
    expect(table).toContain('CONNECTOR#zd');
    for (const c of Object.values(connectors)) expect(table).not.toContain(c.inboundSecret);
    expect(table).not.toContain('zd-api-token');
  });
});

describe('a Zendesk webhook', () => {
  it('resets bob@example.com, e-mails him, and puts a private comment on the ticket: PUT /api/v2/tickets/{id}', async () => {
    const ticketId = nextTicket();
    const before = system.calls.length;
    const outboxBefore = t.api.outbox.read().length;
    const body = zendeskBody(ticketId, 'bob@example.com');
    const res = await intake('zd', body, zendeskHeaders(connectors.zd?.inboundSecret ?? '', body));
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ accepted: true, requestId: expect.any(String) });

    const [result] = resultsFor(ticketId);
    const completed = passwordResetCompleted.parse(result?.detail);
    expect(completed).toMatchObject({
      userId: 'u-bob',
      operation: 'ResetRandomPassword',
      notified: 'email',
      connectorId: 'zd',
    });
    const mail = t.api.outbox.read().slice(outboxBefore);
    expect(mail.map((m) => m.to)).toEqual(['bob@example.com']);

    const calls = system.calls.slice(before);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.method).toBe('PUT');
    expect(call?.path).toBe(`/api/v2/tickets/${ticketId}`);
    expect(call?.headers.authorization).toBe(ZENDESK_AUTH);
    expect(call?.headers['content-type']).toBe('application/json');
    const sent = JSON.parse(call?.body ?? '{}');
    expect(sent).toEqual({ ticket: { comment: { body: expect.any(String), public: false } } });
    const note: string = sent.ticket.comment.body;
    expect(note).toContain(completed.passwordSecretId);
    expect(note).toContain(completed.expiresAt);
    expect(note).toContain('told through: email');
    // The end user's page (issue 15), prefilled for the user, when one is configured.
    expect(completed.passwordPageUrl).toMatch(/\/password\?/);
    expect(note).toContain(completed.passwordPageUrl);
    const password = JSON.parse(await t.runtime().deps.vault.read(completed.passwordSecretId))
      .password as string;
    expect(password.length).toBeGreaterThan(8);
    expect(call?.body).not.toContain(password);
    expect(mail[0]?.text).toContain(password);
  });

  it('replayed as is: 202 again, one reset, the same result on the bus as a repeat, one note on the ticket', async () => {
    const ticketId = nextTicket();
    const body = zendeskBody(ticketId, 'alice');
    const headers = zendeskHeaders(connectors.zd?.inboundSecret ?? '', body);
    const secretsBefore = temporarySecrets().length;
    const callsBefore = system.calls.length;
    expect((await intake('zd', body, headers)).status).toBe(202);
    expect((await intake('zd', body, headers)).status).toBe(202);
    const results = resultsFor(ticketId);
    expect(results.map((e) => e['detail-type'])).toEqual([
      'PasswordResetCompleted',
      'PasswordResetCompleted',
    ]);
    // The repeat is the first result again, marked, without the connector its reply rule
    // matches: a Zendesk trigger firing on rekey's own comment gets no second comment.
    const { connectorId, ...first } = results[0]?.detail ?? {};
    expect(connectorId).toBe('zd');
    expect(results[1]?.detail).toEqual({ ...first, repeated: true });
    expect(system.calls.slice(callsBefore).filter((c) => c.path.includes(ticketId))).toHaveLength(1);
    // Alice's previous secret (if any) was replaced once: one new secret, never two.
    const arns = temporarySecrets().map((s) => s.arn);
    expect(arns).toContain(results[0]?.detail.passwordSecretId);
    expect(temporarySecrets().length).toBeLessThanOrEqual(secretsBefore + 1);
  });

  describe('refused, with nothing on the bus', () => {
    const secret = () => connectors.zd?.inboundSecret ?? '';
    const cases: Array<[string, (ticketId: string) => { body: string; headers: Record<string, string> }]> = [
      [
        'no signature',
        (id) => {
          const body = zendeskBody(id, 'alice');
          const { 'x-zendesk-webhook-signature': _, ...headers } = zendeskHeaders(secret(), body);
          return { body, headers };
        },
      ],
      [
        'no timestamp',
        (id) => {
          const body = zendeskBody(id, 'alice');
          const { 'x-zendesk-webhook-signature-timestamp': _, ...headers } = zendeskHeaders(secret(), body);
          return { body, headers };
        },
      ],
      [
        'signed with another secret',
        (id) => {
          const body = zendeskBody(id, 'alice');
          return { body, headers: zendeskHeaders('not-the-secret', body) };
        },
      ],
      [
        'a body changed after signing',
        (id) => {
          const body = zendeskBody(id, 'alice');
          return { body: zendeskBody(id, 'bob'), headers: zendeskHeaders(secret(), body) };
        },
      ],
      [
        'a timestamp changed after signing',
        (id) => {
          const body = zendeskBody(id, 'alice');
          const headers = zendeskHeaders(secret(), body);
          headers['x-zendesk-webhook-signature-timestamp'] = new Date(Date.now() - 1000)
            .toISOString()
            .replace(/\.\d{3}Z$/, 'Z');
          return { body, headers };
        },
      ],
      [
        'a stale timestamp (6 minutes old), correctly signed',
        (id) => {
          const body = zendeskBody(id, 'alice');
          return { body, headers: zendeskHeaders(secret(), body, new Date(Date.now() - 6 * 60_000)) };
        },
      ],
      [
        'a timestamp 6 minutes ahead, correctly signed',
        (id) => {
          const body = zendeskBody(id, 'alice');
          return { body, headers: zendeskHeaders(secret(), body, new Date(Date.now() + 6 * 60_000)) };
        },
      ],
      [
        'a timestamp that is not a time',
        (id) => {
          const body = zendeskBody(id, 'alice');
          const headers = zendeskHeaders(secret(), body);
          headers['x-zendesk-webhook-signature-timestamp'] = 'yesterday';
          return { body, headers };
        },
      ],
      [
        "the Jira connector's secret header instead of a signature",
        (id) => ({
          body: zendeskBody(id, 'alice'),
          headers: secretHeaders(secret()),
        }),
      ],
    ];
    it.each(cases)('%s: 401, the same answer every time', async (_name, build) => {
      const ticketId = nextTicket();
      const { body, headers } = build(ticketId);
      const resultsBefore = bus(t).results().length;
      const outboxBefore = t.api.outbox.read().length;
      const { result: res, logs: logged } = await capturingLogs(() => intake('zd', body, headers));
      expect(res.status).toBe(401);
      expect(res.json).toEqual({
        code: 'NotAuthenticated.Sender',
        message: "The request is not signed or authenticated with this connector's secret.",
        requestId: expect.any(String),
      });
      expect(bus(t).results().length).toBe(resultsBefore);
      expect(t.api.outbox.read().length).toBe(outboxBefore);
      // Nothing a forger could use: no signature, timestamp or body in the log lines.
      expect(logged).toContain('ticket intake refused a sender');
      for (const value of Object.values(headers)) if (value.length > 20) expect(logged).not.toContain(value);
      expect(logged).not.toContain(ticketId);
      expect(logged).not.toContain(secret());
    });

    it('an unknown connector: 404, nothing on the bus', async () => {
      const body = zendeskBody(nextTicket(), 'alice');
      const resultsBefore = bus(t).results().length;
      for (const id of ['nope', 'ZD', 'a.b', 'a'.repeat(49)]) {
        const res = await intake(id, body, zendeskHeaders(secret(), body));
        expect(res.status, id).toBe(404);
        expect(res.json.code).toBe('NotFound.Connector');
      }
      expect(bus(t).results().length).toBe(resultsBefore);
    });
  });

  it('a password in the body: 400, nothing on the bus, the field not repeated', async () => {
    const ticketId = nextTicket();
    const resultsBefore = bus(t).results().length;
    for (const field of ['userPassword', 'newPassword', 'Passwort']) {
      const body = zendeskBody(ticketId, 'alice', { [field]: 'Dictated-By-Ticket-77' });
      const res = await intake('zd', body, zendeskHeaders(connectors.zd?.inboundSecret ?? '', body));
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('InvalidInput.Password');
      expect(res.text).not.toContain(field);
      expect(res.text).not.toContain('Dictated-By-Ticket-77');
    }
    expect(bus(t).results().length).toBe(resultsBefore);
  });

  it('a user of another realm is refused like an unknown one: NotFound.User on the ticket, nothing reset', async () => {
    const answers: unknown[] = [];
    const secretsBefore = temporarySecrets().length;
    for (const user of ['olga@example.com', 'olga', 'u-olga', 'nobody@example.com', 'u-nobody']) {
      const ticketId = nextTicket();
      const before = system.calls.length;
      const body = zendeskBody(ticketId, user);
      const res = await intake('zd', body, zendeskHeaders(connectors.zd?.inboundSecret ?? '', body));
      expect(res.status).toBe(202);
      const [result] = resultsFor(ticketId);
      const failed = passwordResetFailed.parse(result?.detail);
      answers.push({ code: failed.code, message: failed.message });
      const [call] = system.calls.slice(before);
      expect(call?.path).toBe(`/api/v2/tickets/${ticketId}`);
      expect(JSON.parse(call?.body ?? '{}').ticket.comment.body).toContain('NotFound.User');
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toEqual({
      code: 'NotFound.User',
      message: 'The user does not exist or is not authorized.',
    });
    expect(temporarySecrets().length).toBe(secretsBefore);
    expect((await t.getUser('u-olga'))?.credential).toBeUndefined();
  });
});

describe('a user the realm does not have, asked again and again', () => {
  it('is refused on the ticket once per user asked: the same request again is answered on the bus only, so a rule firing on every update cannot loop', async () => {
    const ticketId = nextTicket();
    const before = system.calls.length;
    const send = async (user: string) => {
      const body = zendeskBody(ticketId, user);
      const res = await intake('zd', body, zendeskHeaders(connectors.zd?.inboundSecret ?? '', body));
      expect(res.status).toBe(202);
    };
    await send('nobody-here');
    expect(system.calls.slice(before)).toHaveLength(1);
    // rekey's note is an update of the ticket: a rule that fires on every update asks again.
    await send('nobody-here');
    await send('nobody-here');
    expect(system.calls.slice(before)).toHaveLength(1);
    const [first, ...repeats] = resultsFor(ticketId);
    expect(first?.detail).toMatchObject({ code: 'NotFound.User', connectorId: 'zd' });
    const { connectorId: _, ...refusal } = first?.detail ?? {};
    expect(repeats.map((r) => r.detail)).toEqual([
      { ...refusal, repeated: true },
      { ...refusal, repeated: true },
    ]);
    // The agent corrects the user, to another name the realm lacks: that is a new request.
    await send('nobody-else');
    expect(system.calls.slice(before)).toHaveLength(2);
    // What was asked is kept in neither the clear nor a bare hash (the user field may hold a
    // password typed in the wrong field): only as an HMAC under the connector's secret.
    const table = JSON.stringify(await scanTable(t.api.clients, 'rekey'));
    const asked = JSON.stringify(['nobody-else', 'email']);
    const sha = (text: string) => createHash('sha256').update(text).digest('base64url');
    expect(table).toContain('IDEMPOTENCY#ticket-intake');
    expect(table).not.toContain('nobody-else');
    expect(table).not.toContain(sha(asked));
    expect(table).not.toContain(sha(sha(asked)));
  });
});

describe('a Jira Service Management automation rule', () => {
  it('with the secret header: reset, and an internal comment: POST /rest/servicedeskapi/request/{key}/comment', async () => {
    const ticketId = 'SD-42';
    const before = system.calls.length;
    const body = JSON.stringify({
      ticketId,
      operation: 'CreateOrResetUIPassword',
      user: 'u-alice',
      notificationType: 'email',
    });
    const res = await intake('jsm', body, secretHeaders(connectors.jsm?.inboundSecret ?? ''));
    expect(res.status).toBe(202);
    const completed = passwordResetCompleted.parse(resultsFor(ticketId)[0]?.detail);
    expect(completed.connectorId).toBe('jsm');
    const [call] = system.calls.slice(before);
    expect(call?.method).toBe('POST');
    expect(call?.path).toBe('/rest/servicedeskapi/request/SD-42/comment');
    expect(call?.headers.authorization).toBe(JIRA_AUTH);
    expect(call?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(call?.body ?? '{}')).toEqual({
      body: expect.stringContaining(completed.passwordSecretId),
      public: false,
    });
  });

  it.each([
    ['no secret header', { 'content-type': 'application/json' }],
    ['a wrong secret', secretHeaders('wrong')],
    ['the secret of another connector', secretHeaders('')],
    ['a Zendesk signature instead', zendeskHeaders('x', '{}')],
  ])('%s: 401, nothing on the bus', async (_name, headers) => {
    const finalHeaders =
      _name === 'the secret of another connector'
        ? secretHeaders(connectors.snow?.inboundSecret ?? '')
        : headers;
    const resultsBefore = bus(t).results().length;
    const body = JSON.stringify({ ticketId: 'SD-43', operation: 'CreateOrResetUIPassword', user: 'u-alice' });
    const res = await intake('jsm', body, finalHeaders);
    expect(res.status).toBe(401);
    expect(res.json.code).toBe('NotAuthenticated.Sender');
    expect(bus(t).results().length).toBe(resultsBefore);
  });
  it.each(['..', '.', '...', 'SD-7/../..', 'SD%2F7', 'SD-7?x=1', 'SD-7#x'])(
    'a ticket id a reply URL would not carry as it is (%s): 400, nothing on the bus, no call',
    async (ticketId) => {
      const resultsBefore = bus(t).results().length;
      const callsBefore = system.calls.length;
      const body = JSON.stringify({ ticketId, operation: 'CreateOrResetUIPassword', user: 'u-alice' });
      const res = await intake('jsm', body, secretHeaders(connectors.jsm?.inboundSecret ?? ''));
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('InvalidInput.InvalidParameter');
      expect(bus(t).results().length).toBe(resultsBefore);
      expect(system.calls.length).toBe(callsBefore);
    },
  );
  it('a body without a required field: 400 InvalidInput.MissingParameter naming it, nothing on the bus', async () => {
    const resultsBefore = bus(t).results().length;
    const body = JSON.stringify({ ticketId: 'SD-44', operation: 'CreateOrResetUIPassword' });
    const res = await intake('jsm', body, secretHeaders(connectors.jsm?.inboundSecret ?? ''));
    expect([res.status, res.json.code]).toEqual([400, 'InvalidInput.MissingParameter']);
    expect(res.json.message).toMatch(/\buser\b.*required/);
    expect(bus(t).results().length).toBe(resultsBefore);
  });
});

describe('a ServiceNow business rule', () => {
  it('with the secret header: reset, and a work note: PATCH /api/now/table/incident/{sys_id}', async () => {
    const sysId = '9d385017c611228701d22104cc95c371';
    const before = system.calls.length;
    const body = JSON.stringify({ ticketId: sysId, operation: 'ResetUserPassword', user: 'bob' });
    const res = await intake('snow', body, secretHeaders(connectors.snow?.inboundSecret ?? ''));
    expect(res.status).toBe(202);
    const completed = passwordResetCompleted.parse(resultsFor(sysId)[0]?.detail);
    expect(completed).toMatchObject({ userId: 'u-bob', notified: 'none', connectorId: 'snow' });
    const [call] = system.calls.slice(before);
    expect(call?.method).toBe('PATCH');
    expect(call?.path).toBe(`/api/now/table/incident/${sysId}`);
    expect(call?.headers.authorization).toBe(SNOW_AUTH);
    expect(JSON.parse(call?.body ?? '{}')).toEqual({
      work_notes: expect.stringContaining(completed.passwordSecretId),
    });
    const deliveries = bus(t)
      .deliveries()
      .filter((d) => d.ticketId === sysId);
    expect(deliveries).toEqual([
      expect.objectContaining({ method: 'PATCH', status: 200, outcome: 'delivered', connectorId: 'snow' }),
    ]);
    expect(JSON.stringify(bus(t).deliveries())).not.toContain('snow-password');
    expect(JSON.stringify(bus(t).deliveries())).not.toContain(SNOW_AUTH);
  });
});

describe('a reply target that is down', () => {
  it('is retried, then lands on the dead-letter log and raises the alarm', async () => {
    const ticketId = nextTicket();
    const before = down.calls.length;
    const body = zendeskBody(ticketId, 'alice');
    const { result: res, logs } = await capturingLogs(() =>
      intake('zd-down', body, zendeskHeaders(connectors['zd-down']?.inboundSecret ?? '', body)),
    );
    expect(res.status).toBe(202);
    expect(resultsFor(ticketId).map((e) => e['detail-type'])).toEqual(['PasswordResetCompleted']);
    expect(down.calls.slice(before).map((c) => `${c.method} ${c.path}`)).toEqual(
      Array(3).fill(`PUT /api/v2/tickets/${ticketId}`),
    );
    const tries = bus(t)
      .deliveries()
      .filter((d) => d.ticketId === ticketId);
    expect(tries.map((d) => [d.attempt, d.status, d.outcome])).toEqual([
      [1, 503, 'retrying'],
      [2, 503, 'retrying'],
      [3, 503, 'dead-lettered'],
    ]);
    const dead = readFileSync(replyDeadLettersPath(t.api.backend?.dataDir ?? ''), 'utf8');
    expect(dead).toContain(`"ticketId":"${ticketId}"`);
    expect(logs).toContain('[alarm] TicketRepliesDeadLettersAlarm');
  });

  it('that refuses the reply credential (401) is dead-lettered at once: in AWS the connection is de-authorized', async () => {
    down.answerWith(401);
    try {
      const ticketId = nextTicket();
      const body = zendeskBody(ticketId, 'alice');
      const { result: res, logs } = await capturingLogs(() =>
        intake('zd-down', body, zendeskHeaders(connectors['zd-down']?.inboundSecret ?? '', body)),
      );
      expect(res.status).toBe(202);
      expect(resultsFor(ticketId).map((e) => e['detail-type'])).toEqual(['PasswordResetCompleted']);
      const tries = bus(t)
        .deliveries()
        .filter((d) => d.ticketId === ticketId);
      expect(tries.map((d) => [d.attempt, d.status, d.outcome])).toEqual([[1, 401, 'dead-lettered']]);
      expect(logs).toContain('[alarm] TicketRepliesDeadLettersAlarm');
      expect(logs).toContain('de-authorizes the connection');
    } finally {
      down.answerWith(503);
    }
  });
});
