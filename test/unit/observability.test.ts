/**
 * Issue 14's adapters on their own: the metrics (Powertools EMF on stdout, captured and
 * parsed here), the notifier and lock-out counters, the sweeper's counts, and an audit trail
 * whose bus is down (the record is kept in the log, counted, and the operation not failed).
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { EventBridgeAuditTrail } from '#adapters/audit.ts';
import { createLogger, Logger } from '#adapters/logger.ts';
import { countingNotifications, createMetrics } from '#adapters/metrics.ts';
import { METRIC } from '#functions/contracts.ts';
import { createHandler as createSweeper } from '#functions/sweeper/handler.ts';
import { capturingLogs } from '#test/support/capture-output.ts';
import { fakeDeps, RecordingNotifier } from '#test/support/fakes.ts';

type Emf = Record<string, unknown> & {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
};

function emfOf(logs: string): Emf[] {
  return logs
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Emf);
}

describe('metrics (Powertools EMF)', () => {
  it('writes one document per dimension set at the flush, counts summed, in the rekey namespace', async () => {
    const metrics = createMetrics('reset-random-password');
    const { logs } = await capturingLogs(async () => {
      metrics.count(METRIC.passwordIssued, { operation: 'reset-random-password' });
      metrics.count(METRIC.refused, { operation: 'reset-random-password', code: 'IAM.0011' });
      metrics.count(METRIC.refused, { operation: 'reset-random-password', code: 'IAM.0011' });
      metrics.count(METRIC.lockedOut, { realm: 'demo' });
      metrics.flush();
    });
    const docs = emfOf(logs);
    expect(docs).toHaveLength(3);
    const issued = docs.find((d) => 'PasswordIssued' in d);
    expect(issued).toMatchObject({
      service: 'reset-random-password',
      operation: 'reset-random-password',
      PasswordIssued: 1,
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'rekey',
            Dimensions: [['service', 'operation']],
            Metrics: [{ Name: 'PasswordIssued', Unit: 'Count' }],
          },
        ],
      },
    });
    expect(docs.find((d) => 'Refused' in d)).toMatchObject({ code: 'IAM.0011', Refused: 2 });
    expect(docs.find((d) => 'LockedOut' in d)).toMatchObject({
      realm: 'demo',
      LockedOut: 1,
      _aws: { CloudWatchMetrics: [{ Dimensions: [['service', 'realm']] }] },
    });
    // Flushed: a second flush writes nothing, not even Powertools' "no metrics" warning.
    const again = await capturingLogs(async () => metrics.flush());
    expect(again.logs).toBe('');
  });

  it('counts each notification delivered and each that failed, by channel, and still throws the failure', async () => {
    const metrics = createMetrics('ticket-worker');
    const ok = new RecordingNotifier();
    const counted = countingNotifications(ok, metrics);
    const failing = countingNotifications({ send: () => Promise.reject(new Error('SES down')) }, metrics);
    const { logs } = await capturingLogs(async () => {
      await counted.send({ channel: 'email', to: 'a@example.com', subject: 's', text: 't' });
      await expect(
        failing.send({ channel: 'phone', to: '+15550100001', subject: 's', text: 't' }),
      ).rejects.toThrow('SES down');
      metrics.flush();
    });
    expect(ok.sent).toHaveLength(1);
    const docs = emfOf(logs);
    expect(docs.find((d) => 'NotificationSent' in d)).toMatchObject({
      channel: 'email',
      NotificationSent: 1,
    });
    expect(docs.find((d) => 'NotificationFailed' in d)).toMatchObject({
      channel: 'phone',
      NotificationFailed: 1,
    });
  });

  it('the sweeper counts secrets swept, orphans deleted and a complete run', async () => {
    const deps = fakeDeps();
    const { secretId } = await deps.vault.create({
      name: 'rekey/temp/demo/u-gone/req-1',
      value: JSON.stringify({ password: 'Orphan-Secret-Value-1' }),
      description: 'orphan',
      tags: {},
    });
    expect(secretId).toBeTruthy();
    const long = new Date(deps.clock.now().getTime() - 3_600_000).toISOString();
    await deps.directory.trackSecret({
      name: 'rekey/temp/demo/u-gone/req-1',
      realmId: 'demo',
      userId: 'u-gone',
      createdAt: long,
      expiresAt: long,
    });
    const sweeper = createSweeper({
      deps: { directory: deps.directory, vault: deps.vault, clock: deps.clock },
      settings: {
        tableName: 't',
        temporarySecretPrefix: 'rekey/temp/',
        databaseSecretPrefix: 'rekey/ddm/',
        graceSeconds: 900,
      },
      logger: createLogger('sweeper'),
      metrics: createMetrics('sweeper'),
    });
    const { result: report, logs } = await capturingLogs(() => sweeper(undefined));
    expect(report.deletedSecrets).toHaveLength(1);
    expect(report.orphans).toHaveLength(1);
    const doc = emfOf(logs).find((d) => 'SecretsSwept' in d);
    expect(doc).toMatchObject({ service: 'sweeper', SecretsSwept: 1, OrphansDeleted: 1, SweepCompleted: 1 });
    expect(doc?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
  });
});

describe('the audit trail on EventBridge', () => {
  it('puts a PasswordAudit event from rekey on the bus', async () => {
    const sent: unknown[] = [];
    const client = {
      send: (command: { input: unknown }) => {
        sent.push(command.input);
        return Promise.resolve({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
      },
    } as unknown as EventBridgeClient;
    const trail = new EventBridgeAuditTrail(client, createLogger('t'), () => {}, 'rekey-bus');
    await trail.record({
      operation: 'reset-random-password',
      activity: 'reset',
      requestId: 'req-9',
      actor: { kind: 'admin', subject: 'ops@demo', realmId: 'demo' },
      target: { realmId: 'demo', userId: 'u-alice' },
      origin: { kind: 'http', route: 'GET /v2/{project_id}/users/{user_id}/random-password' },
      outcome: { ok: true, result: 'PasswordIssued' },
      time: new Date('2026-12-04T10:00:00Z'),
    });
    expect(sent).toHaveLength(1);
    const entry = (sent[0] as { Entries: Array<Record<string, string>> }).Entries[0];
    expect(entry).toMatchObject({ Source: 'rekey', DetailType: 'PasswordAudit', EventBusName: 'rekey-bus' });
    expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({
      class_uid: 3001,
      activity_id: 4,
      time: Date.parse('2026-12-04T10:00:00Z'),
      api: { request: { uid: 'req-9' } },
    });
  });

  it('with the bus down: never throws, logs the whole record instead, and counts it', async () => {
    const lines: string[] = [];
    const logger = new Logger({ serviceName: 'change-password', write: (line) => lines.push(line) });
    let undelivered = 0;
    for (const failure of [
      () => Promise.reject(Object.assign(new Error('down'), { name: 'ServiceUnavailable' })),
      () => Promise.resolve({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] }),
    ]) {
      const trail = new EventBridgeAuditTrail(
        { send: failure } as unknown as EventBridgeClient,
        logger,
        () => {
          undelivered++;
        },
      );
      await expect(
        trail.record({
          operation: 'change-password',
          activity: 'change',
          requestId: 'req-1',
          actor: { kind: 'self' },
          target: { username: 'bob', realmId: 'demo' },
          origin: { kind: 'http', route: 'PUT /20160918/changepassword' },
          outcome: { ok: false, refused: true, code: 'NotAuthenticated', status: 401 },
          time: new Date(),
        }),
      ).resolves.toMatchObject({ status: 'Failure' });
    }
    expect(undelivered).toBe(2);
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged.map((l) => [l.level, l.message, l.error])).toEqual([
      ['ERROR', 'audit event not published', 'ServiceUnavailable'],
      ['ERROR', 'audit event not published', 'Error'],
    ]);
    expect(logged[0]?.audit).toMatchObject({
      class_uid: 3001,
      activity_id: 3,
      user: { name: 'bob' },
      status_code: 'NotAuthenticated',
    });
  });
});
