/**
 * Issue 14's adapters on their own: the metrics (Powertools EMF on stdout, captured and
 * parsed here), the notifier and lock-out counters, the sweeper's counts, the audit trail's log
 * line and the forwarder that puts those lines on the bus (with the bus refusing or down).
 */
import { gzipSync } from 'node:zlib';
import type { CloudWatchLogsEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type AuditEntry, auditRecordOfLine, LogLineAuditTrail } from '#adapters/audit.ts';
import type { EventBridgeApi } from '#adapters/eventbridge-publisher.ts';
import { createLogger, Logger } from '#adapters/logger.ts';
import { countingNotifications, createMetrics, noMetrics } from '#adapters/metrics.ts';
import { createHandler as createForwarder } from '#functions/audit-forwarder/handler.ts';
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

const ENTRY = {
  operation: 'reset-random-password',
  activity: 'reset',
  requestId: 'req-9',
  actor: { kind: 'admin', subject: 'ops@demo', realmId: 'demo' },
  target: { realmId: 'demo', userId: 'u-alice' },
  origin: { kind: 'http', route: 'GET /v2/{project_id}/users/{user_id}/random-password' },
  outcome: { ok: true, result: 'PasswordIssued' },
  time: new Date('2026-12-04T10:00:00Z'),
} as const satisfies AuditEntry;

/** What CloudWatch Logs hands a subscribed function: gzipped, base64 JSON of the log events. */
function subscriptionEvent(messages: string[], messageType = 'DATA_MESSAGE'): CloudWatchLogsEvent {
  const data = {
    messageType,
    owner: '111122223333',
    logGroup: '/aws/lambda/RekeyApi-ResetRandomPassword',
    logStream: '2026/12/04/[$LATEST]abc',
    subscriptionFilters: ['AuditLines'],
    logEvents: messages.map((message, i) => ({ id: String(i), timestamp: 1796400000000 + i, message })),
  };
  return { awslogs: { data: gzipSync(JSON.stringify(data)).toString('base64') } };
}

/** A bus that records each PutEvents input and answers with `answer`. */
function fakeBus(answer: (entries: unknown[], call: number) => Promise<unknown>) {
  const puts: Array<Array<Record<string, string>>> = [];
  const bus = {
    putEvents: (entries: Array<Record<string, string>>) => {
      puts.push(entries);
      return answer(entries, puts.length);
    },
  } as unknown as EventBridgeApi;
  return { bus, puts };
}

describe('the logger (Powertools Logger)', () => {
  const context = {
    functionName: 'rekey-change-password',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:rekey-change-password',
    memoryLimitInMB: '1024',
    awsRequestId: 'req-1',
  } as Context;

  it("writes Powertools' fields, tagged with the invocation, the cold start and the trace", async () => {
    const saved = { ...process.env };
    process.env._X_AMZN_TRACE_ID =
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    // What Lambda sets for an on-demand container; Powertools reports a cold start only then.
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    const logger = new Logger({ serviceName: 'change-password', logLevel: 'INFO' });
    const { logs } = await capturingLogs(async () => {
      logger.addContext(context);
      logger.info('first', { userId: 'u-1' });
      logger.addContext({ ...context, awsRequestId: 'req-2' });
      logger.warn('second');
      logger.debug('not at INFO');
    });
    for (const name of ['_X_AMZN_TRACE_ID', 'AWS_LAMBDA_INITIALIZATION_TYPE']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    const [first, second, ...rest] = logs
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rest).toEqual([]);
    expect(first).toMatchObject({
      level: 'INFO',
      message: 'first',
      service: 'change-password',
      cold_start: true,
      function_name: 'rekey-change-password',
      function_request_id: 'req-1',
      xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      userId: 'u-1',
    });
    expect(Date.parse(first.timestamp)).not.toBeNaN();
    expect(second).toMatchObject({ level: 'WARN', cold_start: false, function_request_id: 'req-2' });
  });

  it("keeps the invocation's fields its own: an attribute cannot overwrite the request id, function, cold start or trace", async () => {
    const saved = process.env._X_AMZN_TRACE_ID;
    process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1';
    const logger = new Logger({ serviceName: 'change-password', logLevel: 'INFO' });
    const { logs } = await capturingLogs(async () => {
      logger.addContext(context);
      logger.info('request served', {
        function_request_id: 'forged',
        function_name: 'forged',
        function_arn: 'forged',
        function_memory_size: 'forged',
        cold_start: 'forged',
        xray_trace_id: 'forged',
        routeKey: 'PUT /20160918/changepassword',
      });
    });
    if (saved === undefined) delete process.env._X_AMZN_TRACE_ID;
    else process.env._X_AMZN_TRACE_ID = saved;
    expect(JSON.parse(logs)).toMatchObject({
      function_request_id: 'req-1',
      function_name: 'rekey-change-password',
      function_arn: context.invokedFunctionArn,
      xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      routeKey: 'PUT /20160918/changepassword',
    });
    expect(logs).not.toContain('forged');
  });

  it('blanks attributes named like a password or token, at any depth, and writes an error as its name only', async () => {
    const secret = 'Tr0ub4dor&3-never-logged';
    const { logs } = await capturingLogs(async () => {
      new Logger({ serviceName: 'svc', logLevel: 'INFO' }).error('refused', {
        password: secret,
        authorization: `Bearer ${secret}`,
        detail: { currentPassword: secret, SecretString: secret, idToken: secret },
        error: Object.assign(new Error(`The service said: ${secret}`), { name: 'ValidationException' }),
      });
    });
    const entry = JSON.parse(logs);
    expect(entry).toMatchObject({
      password: '[redacted]',
      authorization: '[redacted]',
      detail: { currentPassword: '[redacted]', SecretString: '[redacted]', idToken: '[redacted]' },
      error: { name: 'ValidationException' },
    });
    expect(logs).not.toContain(secret);
  });
});

describe('the audit trail in the function log', () => {
  it('writes one JSON line per record, which the forwarder reads back as it was built', async () => {
    const lines: string[] = [];
    const record = await new LogLineAuditTrail((line) => lines.push(line)).record(ENTRY);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(lines[0]?.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(lines[0] ?? '')).toEqual({ rekeyAudit: record });
    expect(auditRecordOfLine(lines[0] ?? '')).toEqual(record);
    expect(record).toMatchObject({ class_uid: 3001, activity_id: 4, api: { request: { uid: 'req-9' } } });
  });

  it('cannot be forged from inside a record: a line break and a fake record in a field stay one line', async () => {
    const lines: string[] = [];
    const forged = `x\n{"rekeyAudit":{"class_uid":3001,"status":"Success"}}`;
    await new LogLineAuditTrail((line) => lines.push(line)).record({
      ...ENTRY,
      target: { realmId: 'demo', userId: forged },
    });
    expect(lines.join('').split('\n').filter(Boolean)).toHaveLength(1);
    expect(auditRecordOfLine(lines[0] ?? '')?.user.uid).toBe(forged);
  });

  it('is not mistaken for any other line: EMF, log lines, text', () => {
    for (const line of [
      '{"_aws":{"Timestamp":1},"Refused":1}',
      '{"level":"INFO","message":"request refused","rekeyAudit":"no"}',
      '2026-12-04T10:00:00Z\tabc\tINFO\tplain text',
      '{"rekeyAudit":{"class_uid":3002}}',
      '{not json',
    ]) {
      expect(auditRecordOfLine(line)).toBeUndefined();
    }
  });
});

describe('the audit forwarder', () => {
  /** The forwarder's logger (Powertools Logger): quiet, or writing to what capturingLogs sees. */
  const logger = (logLevel: 'INFO' | 'SILENT' = 'SILENT') =>
    new Logger({ serviceName: 'audit-forwarder', logLevel });
  /** The messages of the forwarder's own log lines in what a run wrote (EMF documents left out). */
  const messagesIn = (logs: string) =>
    logs
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.service === 'audit-forwarder' && typeof entry.level === 'string')
      .map((entry) => entry.message);

  it('puts each audit line of a delivery on the bus as a PasswordAudit event, ten to a call, and nothing else', async () => {
    const written: string[] = [];
    const trail = new LogLineAuditTrail((line) => written.push(line));
    const records = [];
    for (let i = 0; i < 11; i++) records.push(await trail.record({ ...ENTRY, requestId: `req-${i}` }));
    const { bus, puts } = fakeBus((entries) =>
      Promise.resolve({ FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `e${i}` })) }),
    );
    const forward = createForwarder({
      bus,
      busName: 'rekey-bus',
      logger: logger('INFO'),
      metrics: noMetrics,
    });
    const { logs } = await capturingLogs(() =>
      forward(
        subscriptionEvent([
          '{"_aws":{"Timestamp":1},"Refused":1}',
          ...written.map((line) => line.trimEnd()),
          '{"level":"INFO","message":"request refused"}',
        ]),
      ),
    );
    expect(puts.map((entries) => entries.length)).toEqual([10, 1]);
    for (const entry of puts.flat()) {
      expect(entry).toMatchObject({
        Source: 'rekey',
        DetailType: 'PasswordAudit',
        EventBusName: 'rekey-bus',
      });
    }
    expect(puts.flat().map((entry) => JSON.parse(entry.Detail ?? '{}'))).toEqual(records);
    expect(messagesIn(logs)).toEqual(['audit records forwarded']);
  });

  it('puts nothing for the control message a new subscription sends', async () => {
    const { bus, puts } = fakeBus(() => Promise.resolve({ FailedEntryCount: 0, Entries: [] }));
    await createForwarder({ bus, busName: 'b', logger: logger(), metrics: noMetrics })(
      subscriptionEvent(['CWL CONTROL MESSAGE: Checking health of destination'], 'CONTROL_MESSAGE'),
    );
    expect(puts).toHaveLength(0);
  });

  it('tries the entries the bus refused again, and only those', async () => {
    const written: string[] = [];
    const trail = new LogLineAuditTrail((line) => written.push(line));
    await trail.record({ ...ENTRY, requestId: 'req-a' });
    await trail.record({ ...ENTRY, requestId: 'req-b' });
    const { bus, puts } = fakeBus((entries, call) =>
      Promise.resolve(
        call === 1
          ? { FailedEntryCount: 1, Entries: [{ EventId: 'e1' }, { ErrorCode: 'ThrottlingException' }] }
          : { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: 'e2' })) },
      ),
    );
    await createForwarder({ bus, busName: 'b', logger: logger(), metrics: noMetrics })(
      subscriptionEvent(written),
    );
    expect(puts.map((entries) => entries.map((e) => JSON.parse(e.Detail ?? '{}').api.request.uid))).toEqual([
      ['req-a', 'req-b'],
      ['req-b'],
    ]);
  });

  it('tries again every entry when the bus reports failures without saying which', async () => {
    const written: string[] = [];
    const trail = new LogLineAuditTrail((line) => written.push(line));
    await trail.record({ ...ENTRY, requestId: 'req-a' });
    const { bus, puts } = fakeBus((entries, call) =>
      Promise.resolve(
        call === 1
          ? { FailedEntryCount: 1 }
          : { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: 'e' })) },
      ),
    );
    await createForwarder({ bus, busName: 'b', logger: logger(), metrics: noMetrics })(
      subscriptionEvent(written),
    );
    expect(puts).toHaveLength(2);
  });

  it('with the bus down: fails the invocation (Lambda retries, then the dead-letter queue), counts the records, logs none of their content', async () => {
    const written: string[] = [];
    await new LogLineAuditTrail((line) => written.push(line)).record(ENTRY);
    const { bus, puts } = fakeBus(() =>
      Promise.reject(Object.assign(new Error('down'), { name: 'ServiceUnavailable' })),
    );
    const { logs } = await capturingLogs(async () => {
      await expect(
        createForwarder({
          bus,
          busName: 'b',
          logger: logger('INFO'),
          metrics: createMetrics('audit-forwarder'),
        })(subscriptionEvent(written)),
      ).rejects.toThrow(/1 of 1 audit records were not put/);
    });
    expect(puts).toHaveLength(3);
    const emf = emfOf(logs);
    expect(emf.map((doc) => doc.AuditNotPublished)).toEqual([1]);
    expect(messagesIn(logs)).toEqual([
      'audit records not put; trying again',
      'audit records not put; trying again',
      'audit records not put; trying again',
      'audit records not put on the bus',
    ]);
    expect(logs).not.toContain('req-9');
    expect(logs).not.toContain('u-alice');
  });
});
