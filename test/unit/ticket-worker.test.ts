/**
 * The ticket worker over fakes (directory, vault, notifier, publisher) and a real idempotency
 * store (the embedded backend's table): batches, refusals, retries and once-per-ticket.
 */

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryAuditTrail } from '#adapters/audit.ts';
import { createDynamoDbClient, createSecretsManagerClient } from '#adapters/aws-clients.ts';
import { ConnectorStore } from '#adapters/connector-store.ts';
import { createDynamoDb } from '#adapters/dynamodb-api.ts';
import { createLogger } from '#adapters/logger.ts';
import { noMetrics } from '#adapters/metrics.ts';
import type { Runtime } from '#adapters/runtime.ts';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  ThrottledError,
  UnavailableError,
} from '#core/errors.ts';
import { newRealm, newUser } from '#core/factories.ts';
import type { TemporaryPasswordSecret, User } from '#core/model.ts';
import { failureCode, isRefusal, type ResultPublisher, type TicketResult } from '#core/tickets.ts';
import { keys } from '#functions/contracts.ts';
import { createHandler } from '#functions/ticket-worker/handler.ts';
import { passwordResetCompleted, passwordResetFailed } from '#functions/ticket-worker/result-events.ts';
import { ticketIdText } from '#functions/ticketing/ticket-id.ts';
import { type EmbeddedBackend, startEmbeddedBackend } from '#infra/local/embedded-backend.ts';
import { localSettings } from '#infra/local/local-settings.ts';
import { capturingLogs } from '#test/support/capture-output.ts';
import { type FakeDeps, FaultPlan, fakeDeps } from '#test/support/fakes.ts';

/** A publisher that keeps what it published and can be told to fail. */
class RecordingPublisher implements ResultPublisher {
  readonly published: TicketResult[] = [];
  readonly faults = new FaultPlan<'publish'>();
  async publish(result: TicketResult): Promise<void> {
    const fault = this.faults.take('publish');
    if (fault) throw fault.error ?? new UnavailableError('The event bus is unavailable; retry later.');
    this.published.push(structuredClone(result));
  }
}

const context = {
  functionName: 'rekey-ticket-worker',
  awsRequestId: 'test',
  getRemainingTimeInMillis: () => 60_000,
} as Context;

let sequence = 0;
/** An SQS message carrying `detail` as a PasswordResetRequested event (or `body` as is). */
/** A Zendesk connector of realm r1, as `rekey connector create` stores it. */
async function zendeskConnector(connectorId: string): Promise<void> {
  await new ConnectorStore(createDynamoDb(backend.clients), localSettings({}).tableName).create({
    connectorId,
    kind: 'zendesk',
    realmId: 'r1',
    replyUrl: 'https://acme.zendesk.com',
    createdAt: new Date().toISOString(),
  });
}

function message(
  detail: Record<string, unknown> | string,
  messageId = `m-${++sequence}`,
  source = 'ticketing.servicenow',
) {
  const body =
    typeof detail === 'string'
      ? detail
      : JSON.stringify({
          version: '0',
          id: `e-${sequence}`,
          source,
          'detail-type': 'PasswordResetRequested',
          detail,
        });
  return { messageId, body } as SQSEvent['Records'][number];
}

let ticketNumber = 0;
/** A valid ticket detail with a fresh ticket id. */
const ticket = (fields: Record<string, unknown> = {}) => ({
  ticketId: `INC${String(++ticketNumber).padStart(7, '0')}`,
  operation: 'ResetRandomPassword',
  realmId: 'r1',
  userId: 'u-alice',
  ...fields,
});

let backend: EmbeddedBackend;
beforeAll(async () => {
  backend = await startEmbeddedBackend();
});
afterAll(() => backend.close());

describe('ticket worker', () => {
  let deps: FakeDeps;
  let publisher: RecordingPublisher;
  let audit: MemoryAuditTrail;
  let run: (records: SQSEvent['Records']) => Promise<string[]>;
  const results = () => publisher.published;
  const users = () => structuredClone([...deps.directory.users.values()]);

  beforeEach(async () => {
    deps = fakeDeps();
    await deps.directory.createRealm(newRealm('r1', 'acme'));
    await deps.directory.createRealm(newRealm('r-sso', 'ssocorp', { ssoEnabled: true }));
    const seed = [
      { realmId: 'r1', userId: 'u-alice', username: 'alice', email: 'a@x.example', phone: '+15550100001' },
      { realmId: 'r1', userId: 'u-bob', username: 'bob', email: 'b@x.example' },
      { realmId: 'r1', userId: 'u-carol', username: 'carol', federated: true, email: 'c@x.example' },
      { realmId: 'r-sso', userId: 'u-sam', username: 'sam' },
    ];
    for (const user of seed) await deps.directory.createUser(newUser(user));
    publisher = new RecordingPublisher();
    audit = new MemoryAuditTrail();
    const runtime: Runtime = {
      logger: createLogger('ticket-worker'),
      metrics: noMetrics,
      audit,
      dynamoDb: createDynamoDb(backend.clients),
      secretsManager: createSecretsManagerClient(backend.clients),
      settings: localSettings({}),
      deps,
    };
    const handler = createHandler(runtime, publisher);
    run = async (records) =>
      (await handler({ Records: records }, context)).batchItemFailures.map((f) => f.itemIdentifier);
  });

  it('reports exactly the 2 poison messages of a batch of 10 as batch item failures and answers the 8 others', async () => {
    // One user per ticket: two tickets for one user in one batch race, and one is retried.
    for (let i = 1; i <= 8; i++) {
      await deps.directory.createUser(
        newUser({ realmId: 'r1', userId: `u-${i}`, username: `user${i}`, email: `${i}@x.example` }),
      );
    }
    const good = Array.from({ length: 8 }, (_, i) =>
      message(ticket({ userId: `u-${i + 1}`, notificationType: 'email' })),
    );
    const poison = [
      message('this is not json', 'poison-1'),
      message(
        JSON.stringify({ source: 's', 'detail-type': 'PasswordResetRequested', detail: { ticketId: 7 } }),
        'poison-2',
      ),
    ];
    const failures = await run([
      ...good.slice(0, 3),
      poison[0],
      ...good.slice(3, 7),
      poison[1],
      ...good.slice(7),
    ] as SQSEvent['Records']);

    expect(failures.sort()).toEqual(['poison-1', 'poison-2']);
    expect(results()).toHaveLength(8);
    expect(results().map((r) => r.detailType)).toEqual(Array(8).fill('PasswordResetCompleted'));
    const answered = results()
      .map((r) => r.detail.ticketId)
      .sort();
    expect(answered).toEqual(good.map((m) => JSON.parse(m.body).detail.ticketId).sort());
  });

  it.each([
    ['a ticket id with a space, which could carry anything', 'INC1 my password is Hunter2!Secret'],
    ['a ticket id of 65 characters', `INC${'9'.repeat(62)}`],
    ['an empty ticket id', ''],
    ['a ticket id of dots alone, which would walk up the reply URL', '..'],
  ])('treats %s as poison: answered nowhere, so repeated nowhere', async (_what, ticketId) => {
    const before = users();
    const { result: failures, logs } = await capturingLogs(() =>
      run([message(ticket({ ticketId }), 'bad-id')]),
    );
    expect(failures).toEqual(['bad-id']);
    expect(results()).toEqual([]);
    expect(users()).toEqual(before);
    expect(deps.vault.secrets.size).toBe(0);
    expect(logs).toContain('poison message');
    // The old answer was a PasswordResetFailed for this very ticket id, and the log line and the
    // audit record repeated it too.
    if (ticketId.length > 2) {
      expect(logs + JSON.stringify(audit.records)).not.toContain(ticketId.slice(0, 24));
    }
  });

  it('treats an event whose source is not printable as poison', async () => {
    expect(await run([message(ticket(), 'bad-source', 'ticketing servicenow')])).toEqual(['bad-source']);
    expect(results()).toEqual([]);
  });

  describe("an event in a connector's name", () => {
    const connectorSource = (id: string) => `rekey.connector.${id}`;
    beforeEach(async () => {
      await new ConnectorStore(createDynamoDb(backend.clients), localSettings({}).tableName)
        .create({
          connectorId: `jira-${ticketNumber}`,
          kind: 'jira',
          realmId: 'r1',
          replyUrl: 'https://example.atlassian.net',
          createdAt: new Date(0).toISOString(),
        })
        .catch(() => undefined);
    });

    it("is answered, for that connector's tickets, when it names the connector's realm", async () => {
      const connector = `jira-${ticketNumber}`;
      expect(await run([message(ticket(), 'ok', connectorSource(connector))])).toEqual([]);
      expect(results()).toHaveLength(1);
      expect(results()[0]).toMatchObject({
        detailType: 'PasswordResetCompleted',
        detail: { connectorId: connector },
      });
    });

    it('answers and audits it Failed on its last delivery when its connector cannot be looked up, as any other ticket', async () => {
      const connector = `jira-${ticketNumber}`;
      // The table unreachable: the connector's look-up fails on every delivery.
      const down: Runtime = {
        logger: createLogger('ticket-worker'),
        metrics: noMetrics,
        audit,
        dynamoDb: createDynamoDb({ ...backend.clients, endpoint: 'http://127.0.0.1:9' }),
        secretsManager: createSecretsManagerClient(backend.clients),
        settings: localSettings({}),
        deps,
      };
      const handler = createHandler(down, publisher);
      const record = message(ticket(), 'm-down', connectorSource(connector));
      for (const n of [1, 2, 3]) {
        const out = await handler({ Records: [delivery(record, n)] }, context);
        expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m-down']);
      }
      // Before, the look-up ran outside the failure handling: three dead deliveries, no word.
      expect(results()).toHaveLength(1);
      expect(results()[0]).toMatchObject({
        detailType: 'PasswordResetFailed',
        detail: { code: 'Unavailable.RetriesExhausted', connectorId: connector },
      });
      expect(audit.records).toHaveLength(3);
    });

    it.each(['Rekey.connector.x', 'REKEY.CONNECTOR.x', 'rekey', 'rekey.other'])(
      "is poison when its source is in rekey's names but not the intake's exact prefix (%s)",
      async (source) => {
        const before = users();
        expect(await run([message(ticket(), 'm-name', source)])).toEqual(['m-name']);
        expect(results()).toEqual([]);
        expect(users()).toEqual(before);
        expect(audit.records).toEqual([]);
      },
    );

    it.each([
      [
        'names another realm than its connector',
        (id: string) => ({ source: id, realmId: 'r-sso', userId: 'u-sam' }),
      ],
      [
        'names a connector that does not exist',
        () => ({ source: 'no-such-connector', realmId: 'r1', userId: 'u-alice' }),
      ],
    ])('is poison when it %s: nothing reset, nothing answered on its tickets', async (_what, shape) => {
      const { source, ...fields } = shape(`jira-${ticketNumber}`);
      const before = users();
      const failures = await run([
        message(
          ticket({ ...fields, operation: 'CreateOrResetUIPassword' }),
          'forged',
          connectorSource(source),
        ),
      ]);
      expect(failures).toEqual(['forged']);
      expect(results()).toEqual([]);
      expect(users()).toEqual(before);
      expect(deps.vault.secrets.size).toBe(0);
      expect(deps.notifier.sent).toEqual([]);
    });
  });

  it.each(['password', 'Password', 'newPassword', 'NewPassword', 'currentPassword'])(
    'answers a ticket carrying a %s field with PasswordResetFailed and changes nothing',
    async (field) => {
      const before = users();
      const failures = await run([message(ticket({ [field]: 'Chosen-By-Ticket-1!' }))]);
      expect(failures).toEqual([]);
      const [result] = results();
      expect(result?.detailType).toBe('PasswordResetFailed');
      expect(passwordResetFailed.parse(result?.detail)).toMatchObject({ code: 'InvalidParameter.Password' });
      expect(JSON.stringify(result)).not.toContain('Chosen-By-Ticket-1!');
      expect(users()).toEqual(before);
      expect(deps.vault.secrets.size).toBe(0);
      expect(deps.notifier.sent).toEqual([]);
    },
  );

  it.each([
    ['an unknown field', { 'Echo-Marker-77': true }, 'InvalidParameter.UnknownField'],
    ['an unknown operation', { operation: 'DeleteUser' }, 'InvalidParameter.operation'],
    ['a malformed user id', { userId: 'u alice' }, 'InvalidParameter.userId'],
    ['a missing realm', { realmId: undefined }, 'InvalidParameter.realmId'],
    ['an unknown channel', { notificationType: 'sms' }, 'InvalidParameter.notificationType'],
    [
      'a channel the user has no address on',
      { userId: 'u-bob', notificationType: 'phone' },
      'InvalidParameter.notificationType',
    ],
    [
      'a field of another operation',
      { requirePasswordResetForNextLogin: true },
      'InvalidParameter.requirePasswordResetForNextLogin',
    ],
    ['an unknown user', { userId: 'u-nobody' }, 'NotFound.User'],
    ['a user of another realm', { userId: 'u-sam' }, 'NotFound.User'],
    ['a federated user (Huawei operation)', { userId: 'u-carol' }, 'Conflict.Federated'],
    [
      'a federated user (OCI operation)',
      { userId: 'u-carol', operation: 'CreateOrResetUIPassword' },
      'Conflict.Federated',
    ],
    [
      'a federated user (CloudSSO operation)',
      { userId: 'u-carol', operation: 'ResetUserPassword' },
      'Conflict.Federated',
    ],
    [
      'a realm with SSO logon',
      { realmId: 'r-sso', userId: 'u-sam', operation: 'ResetUserPassword' },
      'Conflict.SSOEnabled',
    ],
    [
      'a realm with SSO logon (OCI operation)',
      { realmId: 'r-sso', userId: 'u-sam', operation: 'CreateOrResetUIPassword' },
      'Conflict.SSOEnabled',
    ],
    [
      'a realm with SSO logon (OCI operation, a channel the user has no address on)',
      { realmId: 'r-sso', userId: 'u-sam', operation: 'CreateOrResetUIPassword', notificationType: 'email' },
      'Conflict.SSOEnabled',
    ],
    [
      'a realm with SSO logon (Huawei operation)',
      { realmId: 'r-sso', userId: 'u-sam', operation: 'ResetRandomPassword' },
      'Conflict.SSOEnabled',
    ],
    [
      'a realm with SSO logon (Huawei operation, a channel the user has no address on)',
      { realmId: 'r-sso', userId: 'u-sam', operation: 'ResetRandomPassword', notificationType: 'phone' },
      'Conflict.SSOEnabled',
    ],
  ])('answers %s with a PasswordResetFailed result and changes nothing', async (_what, fields, code) => {
    const before = users();
    expect(await run([message(ticket(fields))])).toEqual([]);
    expect(results()).toHaveLength(1);
    expect(results()[0]).toMatchObject({ detailType: 'PasswordResetFailed', detail: { code } });
    // The answer never repeats a name the caller made up (issue 9, finding 10).
    expect(JSON.stringify(results())).not.toContain('Echo-Marker-77');
    expect(users()).toEqual(before);
    expect(deps.vault.secrets.size).toBe(0);
  });

  it("says on the reset's log lines which ticket acted (its source), in which realm and attempt", async () => {
    const detail = ticket({ operation: 'CreateOrResetUIPassword' });
    expect(await run([message(detail)])).toEqual([]);
    const lines = deps.log.entries.filter((e) => e.level === 'info');
    const reset = lines.find((e) => e.message === 'temporary UI password issued')?.attributes;
    const answered = lines.find((e) => e.message === 'ticket password reset')?.attributes;
    expect(reset).toMatchObject({ actor: 'ticket:ticketing.servicenow', realmId: 'r1', userId: 'u-alice' });
    expect(answered).toMatchObject({
      actor: 'ticket:ticketing.servicenow',
      realmId: 'r1',
      ticketId: detail.ticketId,
      operation: 'CreateOrResetUIPassword',
      userId: 'u-alice',
    });
    // One attempt, one request id: it ties the use case's line to the ticket's.
    expect(reset?.requestId).toEqual(expect.any(String));
    expect(answered?.requestId).toBe(reset?.requestId);
  });

  it('answers an event of another detail-type with PasswordResetFailed', async () => {
    const body = JSON.stringify({ source: 's', 'detail-type': 'PasswordChanged', detail: ticket() });
    expect(await run([message(body)])).toEqual([]);
    expect(results()[0]).toMatchObject({ detail: { code: 'InvalidParameter.detail-type' } });
  });

  it('resets a redelivered ticket once and publishes the same result each time', async () => {
    const detail = ticket({ notificationType: 'email,phone' });
    await run([message(detail, 'm-once')]);
    const version = (await deps.directory.getUser('u-alice'))?.version;
    await run([message(detail, 'm-once')]);

    expect(results()).toHaveLength(2);
    expect(results()[1]).toEqual(results()[0]);
    expect(deps.vault.secrets.size).toBe(1);
    expect((await deps.directory.getUser('u-alice'))?.version).toBe(version);
    expect(deps.notifier.sent).toHaveLength(2);
  });

  it("keeps two sources' ticket ids apart: one that may put events cannot take another's id first", async () => {
    const ticketId = 'SD-4711';
    const squat = message(ticket({ ticketId, userId: 'u-bob' }), 'm-squat', 'some.other.integration');
    const real = message(ticket({ ticketId }), 'm-real', 'ticketing.jira');
    expect(await run([squat])).toEqual([]);
    expect(await run([real])).toEqual([]);
    // Before, the second was Conflict.TicketReuse on the real system's ticket.
    expect(results().map((r) => r.detailType)).toEqual(['PasswordResetCompleted', 'PasswordResetCompleted']);
    expect(results().map((r) => r.detail.ticketId)).toEqual([ticketId, ticketId]);
  });

  it('answers the same ticket id with a different detail with Conflict.TicketReuse', async () => {
    const detail = ticket();
    await run([message(detail)]);
    await run([message({ ...detail, notificationType: 'email' })]);
    expect(results()[1]).toMatchObject({
      detailType: 'PasswordResetFailed',
      detail: { code: 'Conflict.TicketReuse' },
    });
    expect(deps.vault.secrets.size).toBe(1);
  });

  it('answers a reuse of a ticket id once: the same reuse sent again is a repeat without its connector, so no second note', async () => {
    await zendeskConnector('zd-reuse');
    const source = 'rekey.connector.zd-reuse';
    const detail = ticket();
    await run([message(detail, undefined, source)]);
    const reused = { ...detail, notificationType: 'email' };
    const first = message(reused, undefined, source);
    await run([first]);
    expect(results()[1]?.detail).toMatchObject({ code: 'Conflict.TicketReuse', connectorId: 'zd-reuse' });
    expect(results()[1]?.detail).not.toHaveProperty('repeated');
    // The same bus event delivered again (its answer did not reach the bus): as the first time.
    await run([first]);
    expect(results()[2]).toEqual(results()[1]);
    // A rule that fires on every update of the ticket (rekey's note included) sends the same
    // fields again: answered on the bus only, or each note would set off the next request.
    await run([message(reused, undefined, source)]);
    const { connectorId: _, ...refusal } = results()[1]?.detail ?? {};
    expect(results()[3]).toEqual({
      detailType: 'PasswordResetFailed',
      detail: { ...refusal, repeated: true },
    });
    // Another reuse, with other fields again, is its own request: one note for it.
    await run([message({ ...detail, notificationType: 'phone' }, undefined, source)]);
    expect(results()[4]?.detail).toMatchObject({ code: 'Conflict.TicketReuse', connectorId: 'zd-reuse' });
    expect(results()[4]?.detail).not.toHaveProperty('repeated');
    expect(deps.vault.secrets.size).toBe(1);
    expect(audit.records.map((r) => [r.status, r.unmapped.replayed])).toEqual([
      ['Success', undefined],
      ['Failure', undefined],
      ['Failure', true],
      ['Failure', true],
      ['Failure', undefined],
    ]);
  });

  it('retries a ticket whose vault is down: a batch item failure, no result, nothing changed', async () => {
    deps.vault.faults.fail('create', {
      error: new UnavailableError('The vault is unavailable; retry later.'),
    });
    const before = users();
    const detail = ticket();
    expect(await run([message(detail, 'm-retry')])).toEqual(['m-retry']);
    expect(results()).toEqual([]);
    expect(users()).toEqual(before);

    expect(await run([message(detail, 'm-retry')])).toEqual([]);
    expect(results()).toHaveLength(1);
    expect(results()[0]?.detailType).toBe('PasswordResetCompleted');
  });

  /** The same message on its n-th delivery, as SQS numbers them. */
  const delivery = (record: SQSEvent['Records'][number], n: number) =>
    ({ ...record, attributes: { ApproximateReceiveCount: String(n) } }) as SQSEvent['Records'][number];

  it.each([
    ['down', new UnavailableError('The vault is unavailable; retry later.'), 'Unavailable.RetriesExhausted'],
    [
      'throttling',
      new ThrottledError('The vault is receiving too many requests; retry later.'),
      'Throttled.RetriesExhausted',
    ],
  ])(
    'answers a ticket Failed on its last delivery when the vault is still %s, and still dead-letters it',
    async (_, error, code) => {
      deps.vault.faults.fail('create', { error }, 3);
      const before = users();
      const record = message(ticket({ operation: 'CreateOrResetUIPassword' }), 'm-last');
      expect(await run([delivery(record, 1)])).toEqual(['m-last']);
      expect(await run([delivery(record, 2)])).toEqual(['m-last']);
      expect(results()).toEqual([]);
      // The third receive is the queue's last (maxReceiveCount 3): a batch item failure all the same.
      expect(await run([delivery(record, 3)])).toEqual(['m-last']);
      expect(results()).toHaveLength(1);
      expect(results()[0]).toMatchObject({
        detailType: 'PasswordResetFailed',
        detail: { operation: 'CreateOrResetUIPassword', code },
      });
      expect(passwordResetFailed.parse(results()[0]?.detail).message).toMatch(/after 3 attempts/);
      expect(users()).toEqual(before);
      expect(deps.vault.secrets.size).toBe(0);
    },
  );

  it('does not answer on the last delivery while another delivery of the ticket is still running', async () => {
    deps.vault.faults.fail('create', { error: new ConflictError('busy', { reason: 'RequestInProgress' }) });
    const record = message(ticket(), 'm-busy');
    expect(await run([delivery(record, 3)])).toEqual(['m-busy']);
    expect(results()).toEqual([]);
  });

  it('retries a ticket whose result cannot be published, and republishes the first result without resetting again', async () => {
    publisher.faults.fail('publish');
    // The queue delivers the same message (the same bus event) again.
    const record = message(ticket(), 'm-bus');
    expect(await run([record])).toEqual(['m-bus']);
    const secretIds = [...deps.vault.secrets.keys()];
    expect(secretIds).toHaveLength(1);

    expect(await run([record])).toEqual([]);
    expect(results()).toHaveLength(1);
    expect(passwordResetCompleted.parse(results()[0]?.detail).passwordSecretId).toBe(secretIds[0]);
    expect([...deps.vault.secrets.keys()]).toEqual(secretIds);
    // The run that reset the password is on record although the bus then failed; the
    // redelivery that only published its answer is a replay.
    expect(audit.records.map((r) => [r.status, r.unmapped.result, r.unmapped.replayed])).toEqual([
      ['Success', 'PasswordIssued', undefined],
      ['Success', 'PasswordIssued', true],
    ]);
  });

  it('runs a refused ticket again for another request (its cause fixed); the same refusal again is a repeat', async () => {
    const detail = ticket({ notificationType: 'phone', userId: 'u-bob' });
    expect(await run([message(detail)])).toEqual([]);
    expect(results()[0]?.detail).toMatchObject({ code: 'InvalidParameter.notificationType' });
    // Sent again unchanged: refused again, answered as a repeat (no second note).
    expect(await run([message(detail)])).toEqual([]);
    expect(results()[1]?.detail).toMatchObject({ code: 'InvalidParameter.notificationType', repeated: true });
    // Bob gets a phone number, and the ticket is sent again: it runs, and is answered as new.
    const bob = await deps.directory.getUser('u-bob');
    await deps.directory.saveUser(
      { ...(bob as NonNullable<typeof bob>), phone: '+15550100002', version: (bob?.version ?? 0) + 1 },
      bob?.version ?? 0,
    );
    expect(await run([message(detail)])).toEqual([]);
    expect(results()[2]?.detailType).toBe('PasswordResetCompleted');
    expect(results()[2]?.detail).not.toHaveProperty('repeated');
    expect(deps.notifier.sent.map((n) => n.to)).toEqual(['+15550100002']);
  });

  it('runs a refused ticket again when the ticket itself was corrected (another channel), where a reset ticket refuses it', async () => {
    const refused = ticket({ notificationType: 'phone', userId: 'u-bob' });
    expect(await run([message(refused)])).toEqual([]);
    expect(results()[0]?.detail).toMatchObject({ code: 'InvalidParameter.notificationType' });
    // The agent picks the channel Bob has: nothing was reset, so this is the ticket's one reset.
    expect(await run([message({ ...refused, notificationType: 'email' })])).toEqual([]);
    expect(results()[1]?.detailType).toBe('PasswordResetCompleted');
    expect(results()[1]?.detail).not.toHaveProperty('repeated');
    expect(deps.notifier.sent.map((n) => n.to)).toEqual(['b@x.example']);
    // Once reset, the ticket refuses other fields: one reset per ticket.
    expect(await run([message({ ...refused, notificationType: 'email,phone' })])).toEqual([]);
    expect(results()[2]?.detail).toMatchObject({ code: 'Conflict.TicketReuse' });
    expect(deps.vault.secrets.size).toBe(1);
  });

  it('names no user in the record of a ticket refused before its user was looked up (a reused ticket id)', async () => {
    const detail = ticket();
    expect(await run([message(detail)])).toEqual([]);
    const typed = 'Hunter2-Lantern-Quartz';
    expect(await run([message({ ...detail, userId: typed })])).toEqual([]);
    expect(results()[1]?.detail).toMatchObject({ code: 'Conflict.TicketReuse' });
    const record = audit.records[1];
    expect(record?.user.uid).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain(typed);
  });

  it('answers a second request for a ticket (another bus event) with the first result, marked repeated, and no connector: no reset, a replay in the audit', async () => {
    await zendeskConnector('zd-repeat');
    const detail = ticket();
    expect(await run([message(detail, undefined, 'rekey.connector.zd-repeat')])).toEqual([]);
    expect(results()).toHaveLength(1);
    expect(results()[0]?.detail).toMatchObject({ connectorId: 'zd-repeat' });
    const version = (await deps.directory.getUser('u-alice'))?.version;
    const { logs } = await capturingLogs(() =>
      run([message(detail, undefined, 'rekey.connector.zd-repeat')]),
    );
    expect(logs).toContain('ticket answered again, as a repeat: no note on the ticket');
    // No connector: its reply rule does not post the note on the ticket a second time.
    const { connectorId: _, ...first } = results()[0]?.detail ?? {};
    expect(results()[1]).toEqual({
      detailType: 'PasswordResetCompleted',
      detail: { ...first, repeated: true },
    });
    expect((await deps.directory.getUser('u-alice'))?.version).toBe(version);
    expect(audit.records.map((r) => [r.status, r.unmapped.replayed, r.message])).toEqual([
      ['Success', undefined, 'password reset succeeded'],
      ['Success', true, 'password reset answered again (a repeated request: nothing changed)'],
    ]);
  });

  it('remembers a ticket it reset for 400 days, and a refused one for a day', async () => {
    const stored = async (detail: Record<string, unknown>) => {
      const key = JSON.stringify(['ticketing.servicenow', detail.realmId, detail.ticketId, detail.operation]);
      const out = await createDynamoDbClient(backend.clients).send(
        new GetItemCommand({
          TableName: localSettings({}).tableName,
          Key: {
            pk: { S: keys.idempotencyPartition('ticket') },
            sk: { S: createHash('sha256').update(key).digest('base64url') },
          },
        }),
      );
      return (Number(out.Item?.ttl?.N) - Date.now() / 1000) / 86400;
    };
    const reset = ticket();
    const refused = ticket({ userId: 'u-carol' });
    expect(await run([message(reset), message(refused)])).toEqual([]);
    expect(
      results()
        .map((r) => r.detailType)
        .sort(),
    ).toEqual(['PasswordResetCompleted', 'PasswordResetFailed']);
    // A reset: as long as a ticket may be open and updated, so an update a day later resets nothing.
    expect(await stored(reset)).toBeGreaterThan(399);
    // Nothing was reset: a ticket sent again once its cause is fixed runs.
    const refusedDays = await stored(refused);
    expect(refusedDays).toBeGreaterThan(0.99);
    expect(refusedDays).toBeLessThanOrEqual(1);
  });

  it('reports a reset that lost to another reset of the user as Conflict.ConcurrentUpdate, without retrying (a second run would undo it)', async () => {
    const original = deps.directory.saveUser.bind(deps.directory);
    let raced = false;
    // Another request resets bob between the ticket's read and its write.
    deps.directory.saveUser = async (user, expectedVersion) => {
      if (!raced && user.userId === 'u-bob') {
        raced = true;
        const current = (await deps.directory.getUser('u-bob')) as User;
        const other = { hash: 'another-reset', kind: 'TEMPORARY' as const, setAt: new Date().toISOString() };
        await original({ ...current, credential: other, version: current.version + 1 }, current.version);
      }
      return original(user, expectedVersion);
    };
    const detail = ticket({ userId: 'u-bob', notificationType: 'email' });

    expect(await run([message(detail)])).toEqual([]);

    expect(results()).toHaveLength(1);
    expect(results()[0]).toMatchObject({
      detailType: 'PasswordResetFailed',
      detail: { ticketId: detail.ticketId, code: 'Conflict.ConcurrentUpdate' },
    });
    // The other reset stands, and nothing was sent to bob by the ticket.
    expect((await deps.directory.getUser('u-bob'))?.credential?.hash).toBe('another-reset');
    expect(deps.notifier.sent.filter((n) => n.to === 'b@x.example')).toEqual([]);
  });

  it('reports a notification that failed after the reset as Unavailable.NotificationFailed, without retrying', async () => {
    deps.notifier.faults.fail('send');
    expect(await run([message(ticket({ notificationType: 'email' }))])).toEqual([]);
    const secretId = (await deps.directory.getUser('u-alice'))?.credential?.secretId ?? '';
    expect(results()[0]).toMatchObject({
      detailType: 'PasswordResetFailed',
      detail: { code: 'Unavailable.NotificationFailed', message: expect.stringContaining(secretId) },
    });
  });

  it('tells the user a CreateOrResetUIPassword ticket password through the channel the ticket names', async () => {
    await run([message(ticket({ operation: 'CreateOrResetUIPassword', notificationType: 'phone' }))]);
    const completed = passwordResetCompleted.parse(results()[0]?.detail);
    const secret = JSON.parse(
      deps.vault.secrets.get(completed.passwordSecretId)?.value ?? '{}',
    ) as TemporaryPasswordSecret;
    expect(deps.notifier.sent).toMatchObject([{ channel: 'phone', to: '+15550100001' }]);
    expect(deps.notifier.sent[0]?.text).toContain(secret.password);
    expect((await deps.directory.getUser('u-alice'))?.credential).toMatchObject({ kind: 'TEMPORARY' });
  });

  it.each([
    ['CreateOrResetUIPassword', 'email'],
    ['ResetRandomPassword', 'email,phone'],
  ])(
    'tells the user a %s ticket password (%s) from memory: one user load, no secret read back',
    async (operation, notificationType) => {
      // A vault that cannot read: the notification must not depend on reading the secret back.
      deps.vault.faults.fail('read', { error: new UnavailableError('reads are refused') }, 10);
      expect(await run([message(ticket({ operation, notificationType }))])).toEqual([]);
      const completed = passwordResetCompleted.parse(results()[0]?.detail);
      const secret = JSON.parse(
        deps.vault.secrets.get(completed.passwordSecretId)?.value ?? '{}',
      ) as TemporaryPasswordSecret;
      expect(secret.password).toEqual(expect.any(String));
      expect(deps.notifier.sent.map((n) => n.channel)).toEqual(notificationType.split(','));
      for (const sent of deps.notifier.sent) {
        expect(sent.text).toContain(secret.password);
        expect(sent.text).toContain(secret.expiresAt);
      }
      expect(deps.journal.filter((call) => call === 'vault.read')).toEqual([]);
      expect(deps.journal.filter((call) => call === 'directory.getUser')).toEqual(['directory.getUser']);
      // The password went to the user's address only: no log line holds it.
      expect(JSON.stringify(deps.log.entries)).not.toContain(secret.password);
      expect(JSON.stringify(results())).not.toContain(secret.password);
    },
  );

  it.each([
    [true, 'TEMPORARY'],
    ['True', 'TEMPORARY'],
    [false, 'PERMANENT'],
    [undefined, 'PERMANENT'],
  ])(
    'generates a ResetUserPassword ticket password; requirePasswordResetForNextLogin %s gives a %s credential',
    async (flag, kind) => {
      await run([
        message(ticket({ operation: 'ResetUserPassword', requirePasswordResetForNextLogin: flag })),
      ]);
      const completed = passwordResetCompleted.parse(results()[0]?.detail);
      expect((await deps.directory.getUser('u-alice'))?.credential).toMatchObject({
        kind,
        secretId: completed.passwordSecretId,
      });
    },
  );
});

describe('failureCode and isRefusal', () => {
  it.each([
    [
      new InvalidInputError('m', { field: 'notificationType', reason: 'NoNotificationAddress' }),
      'InvalidParameter.notificationType',
      true,
    ],
    [new InvalidInputError('m', { field: '__proto__' }), 'InvalidParameter', true],
    [new InvalidInputError('m', { reason: 'Federated' }), 'Conflict.Federated', true],
    [new NotFoundError('Realm', 'm'), 'NotFound.Realm', true],
    [new ConflictError('m', { reason: 'RetryTokenReuse' }), 'Conflict.TicketReuse', true],
    [new ConflictError('m', { reason: 'RequestInProgress' }), 'Conflict.RequestInProgress', false],
    [new ConflictError('m', { reason: 'ConcurrentUpdate' }), 'Conflict.ConcurrentUpdate', true],
    [new UnavailableError('m'), 'Unavailable', false],
    [new UnavailableError('m', { reason: 'NotificationFailed' }), 'Unavailable.NotificationFailed', true],
  ])('codes %s as %s (reported: %s)', (error, code, reported) => {
    expect(failureCode(error)).toBe(code);
    expect(isRefusal(error)).toBe(reported);
  });

  it('retries anything that is not a RekeyError', () => {
    expect(isRefusal(new TypeError('bug'))).toBe(false);
  });
});

describe('the ticket worker as an adapter of its own', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  /** The modules a source file imports (static `import ... from` and `import(...)`). */
  const importsOf = (path: string) =>
    [...readFileSync(join(root, path), 'utf8').matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)].map(
      (m) => m[1] ?? '',
    );

  it.each(readdirSync(join(root, 'functions/ticket-worker')).filter((f) => f.endsWith('.ts')))(
    "functions/ticket-worker/%s imports nothing from another operation's folder",
    (file) => {
      const operations = readdirSync(join(root, 'functions'), { withFileTypes: true })
        .filter(
          (e) =>
            // functions/ticketing is shared (connectors, notes), like core: not an operation.
            e.isDirectory() &&
            !['core', 'http', 'adapters', 'dialects', 'ticketing', 'ticket-worker'].includes(e.name),
        )
        .map((e) => e.name);
      expect(operations).toContain('create-or-reset-ui-password');
      const imports = importsOf(`functions/ticket-worker/${file}`);
      expect(imports.length).toBeGreaterThan(0);
      const foreign = imports.filter((spec) =>
        operations.some((op) => spec.includes(`functions/${op}/`) || spec.includes(`../${op}/`)),
      );
      expect(foreign).toEqual([]);
    },
  );

  it("runs the ticket's own flow, not the HTTP operations' use cases", () => {
    const imports = importsOf('functions/core/use-cases/handle-ticket.ts');
    expect(imports).toContain('../credentials.ts');
    expect(imports.filter((spec) => spec.startsWith('./'))).toEqual([]);
  });

  it.each([
    ['INC0012345', true],
    ['SD-7', true],
    ['PROJ-12:comment#3', true],
    ['x'.repeat(64), true],
    ['x'.repeat(65), false],
    ['INC 1', false],
    ['', false],
    ['INC\u00e91', false],
    ['..', false],
    ['.', false],
    ['v1.2', true],
    ['.x', true],
  ])('its own ticket id rule: %j accepted %s', (ticketId, ok) => {
    expect(ticketIdText.safeParse(ticketId).success).toBe(ok);
  });
});
