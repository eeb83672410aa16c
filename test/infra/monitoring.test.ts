/**
 * Issue 14's templates: the audit trail (a rule from the bus to a retained log group, and an
 * archive), each HTTP function allowed to put audit events on the rekey bus and nothing more,
 * the operations dashboard, and the four alarms (lock-out spike per realm, notifier failures,
 * sweeper not completing, tickets failing).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_LINE_FILTER,
  AUDIT_LOG_GROUP,
  DETAIL_TYPES,
  ENV,
  EVENT_BUS_NAME,
  METRIC,
} from '#functions/contracts.ts';
import { ROUTES } from '#functions/routes.ts';
import { buildRekey, type RekeyStacks } from '#infra/rekey-app.ts';
import { pascal } from '#infra/stacks/api-stack.ts';
import { CDK_CONTEXT } from './cdk-context.ts';

let stacks: RekeyStacks;
let operations: Template;
let monitoring: Template;
let api: Template;

beforeAll(() => {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'rekey-monitoring-')),
    context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
  });
  stacks = buildRekey(app);
  operations = Template.fromStack(stacks.operations);
  monitoring = Template.fromStack(stacks.monitoring);
  api = Template.fromStack(stacks.api);
});

type Alarm = { Properties: Record<string, unknown> & { Metrics?: Array<{ Expression?: string }> } };

function alarm(idPrefix: string): Alarm['Properties'] {
  const found = Object.entries(monitoring.findResources('AWS::CloudWatch::Alarm')).filter(([id]) =>
    id.startsWith(idPrefix),
  );
  expect(found, idPrefix).toHaveLength(1);
  const [, resource] = found[0] ?? [];
  return (resource as Alarm).Properties;
}

describe('the audit trail', () => {
  it('sends every PasswordAudit event from rekey to a log group kept 13 months, and retained', () => {
    operations.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: AUDIT_LOG_GROUP, RetentionInDays: 400 },
      DeletionPolicy: 'Retain',
    });
    const rules = operations.findResources('AWS::Events::Rule', {
      Properties: { EventPattern: { 'detail-type': [DETAIL_TYPES.audit] } },
    });
    const [rule] = Object.values(rules) as Array<{ Properties: Record<string, unknown> }>;
    expect(Object.keys(rules)).toHaveLength(1);
    expect(rule?.Properties.EventPattern).toEqual({ source: ['rekey'], 'detail-type': [DETAIL_TYPES.audit] });
    expect(JSON.stringify(rule?.Properties.Targets)).toContain(':log-group:');
    expect(JSON.stringify(rule?.Properties.Targets)).toContain('AuditLog');
    // The group lets EventBridge write to it: a native resource policy, no custom resource.
    const policies = Object.values(operations.findResources('AWS::Logs::ResourcePolicy'));
    expect(policies).toHaveLength(1);
    expect(JSON.stringify(policies[0])).toContain('events.amazonaws.com');
    expect(JSON.stringify(policies[0])).toContain('logs:PutLogEvents');
    expect(operations.findResources('Custom::CloudwatchLogResourcePolicy')).toEqual({});
  });

  it('archives the same events on the bus for 400 days (replayable)', () => {
    operations.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: ['rekey'], 'detail-type': [DETAIL_TYPES.audit] },
      RetentionDays: 400,
    });
  });

  it('lets no HTTP function put events for its audit records: only the ticket intake may put, on the rekey bus alone, and each is told the bus', () => {
    const policies = Object.values(api.findResources('AWS::IAM::Policy')) as Array<{
      Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } };
    }>;
    const putEvents = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => JSON.stringify(s.Action).includes('events:'));
    const putters = ROUTES.filter((route) => route.access.putsEvents);
    expect(putters.map((route) => route.operation)).toEqual(['ticket-intake']);
    expect(putEvents).toHaveLength(putters.length);
    for (const statement of putEvents) {
      expect(statement.Action).toBe('events:PutEvents');
      expect(JSON.stringify(statement.Resource)).toContain(`:event-bus/${EVENT_BUS_NAME}`);
    }
    const functions = Object.values(api.findResources('AWS::Lambda::Function')) as Array<{
      Properties: { Environment: { Variables: Record<string, string> } };
    }>;
    const withBus = functions.filter(
      (f) => f.Properties.Environment.Variables[ENV.eventBusName] === EVENT_BUS_NAME,
    );
    // Told the bus's name only where it may put on it.
    expect(withBus).toHaveLength(putters.length);
  });

  it("hands every auditing function's audit lines to the forwarder, which alone puts them on the bus, with retries and a dead-letter queue", () => {
    const filters = Object.values(operations.findResources('AWS::Logs::SubscriptionFilter')) as Array<{
      Properties: { FilterPattern: string; LogGroupName: unknown; DestinationArn: unknown };
    }>;
    // Every operation function of the API and the ticket worker.
    expect(filters).toHaveLength(ROUTES.length + 1);
    const forwarderId = Object.keys(operations.findResources('AWS::Lambda::Function')).find((id) =>
      id.startsWith('AuditForwarder'),
    );
    expect(forwarderId).toBeDefined();
    for (const filter of filters) {
      expect(filter.Properties.FilterPattern).toBe(AUDIT_LINE_FILTER);
      expect(JSON.stringify(filter.Properties.DestinationArn)).toContain(forwarderId ?? '?');
    }
    const groups = filters.map((f) => JSON.stringify(f.Properties.LogGroupName));
    for (const route of ROUTES) {
      expect(
        groups.some((g) => g.includes(`RekeyApi:ExportsOutputRef${pascal(route.operation)}Logs`)),
        route.operation,
      ).toBe(true);
    }
    expect(groups.some((g) => g.includes('TicketWorkerLogs'))).toBe(true);
    // The forwarder: PutEvents on the rekey bus, two retries, then its dead-letter queue.
    const forwarderPolicies = Object.entries(operations.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('AuditForwarder'))
      .flatMap(
        ([, p]) =>
          (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown }> } } }).Properties
            .PolicyDocument.Statement,
      );
    expect(forwarderPolicies.map((s) => s.Action)).toContain('events:PutEvents');
    operations.hasResource('AWS::Lambda::EventInvokeConfig', {
      Properties: { MaximumRetryAttempts: 2 },
    });
    const forwarder = operations.findResources('AWS::Lambda::Function')[forwarderId ?? ''] as {
      Properties: { DeadLetterConfig?: { TargetArn: unknown } };
    };
    expect(JSON.stringify(forwarder.Properties.DeadLetterConfig)).toContain('AuditForwarderFailures');
    // Anything left there raises an alarm: an audit record that never reached the bus.
    const failuresId = Object.keys(operations.findResources('AWS::SQS::Queue')).find((id) =>
      id.startsWith('AuditForwarderFailures'),
    );
    operations.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [failuresId, 'QueueName'] } }],
    });
  });
});

describe('the dashboard', () => {
  it('shows operations, refusals, lock-outs, p99 per function, the DLQ depth and the sweeper', () => {
    const dashboards = Object.values(monitoring.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]);
    for (const title of [
      'Password operations per minute',
      'Refusals per minute, by operation and code',
      'Lock-outs per minute, by realm',
      'p99 duration per function (ms)',
      'dead-letter queue depth',
      'Sweeper: secrets swept, orphans deleted, complete runs',
    ]) {
      expect(body, title).toContain(title);
    }
    for (const name of [
      METRIC.passwordIssued,
      METRIC.passwordSet,
      METRIC.passwordChanged,
      METRIC.refused,
      METRIC.lockedOut,
    ]) {
      expect(body, name).toContain(`MetricName=\\\\\\"${name}\\\\\\"`);
    }
    // One p99 line per function: every route's, the worker's, the sweeper's and the forwarder's.
    expect(body.match(/\\"p99\\"/g)?.length).toBe(ROUTES.length + 3);
    expect(body).toContain('ApproximateNumberOfMessagesVisible');
    for (const name of [METRIC.secretsSwept, METRIC.orphansDeleted, METRIC.sweepCompleted])
      expect(body).toContain(name);
  });
});

describe('the alarms', () => {
  it('a lock-out spike in one realm: the top realm of a Metrics Insights query, per 5 minutes', () => {
    const props = alarm('LockoutSpikeAlarm');
    expect(props.Metrics?.[0]?.Expression).toBe(
      'SELECT SUM(LockedOut) FROM SCHEMA("rekey", realm, service) GROUP BY realm ORDER BY SUM() DESC LIMIT 1',
    );
    expect(props).toMatchObject({
      Threshold: 10,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      EvaluationPeriods: 1,
    });
    expect(JSON.stringify(props.Metrics)).toContain('"Period":300');
  });

  it('notifier failures: any failed notification, on either channel', () => {
    const props = alarm('NotifierFailuresAlarm');
    expect(props.Metrics?.[0]?.Expression).toBe(
      'SELECT SUM(NotificationFailed) FROM SCHEMA("rekey", channel, service)',
    );
    expect(props).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  it('the sweeper not completing: no complete sweep in an hour, silence included', () => {
    expect(alarm('SweeperNotCompletingAlarm')).toMatchObject({
      Namespace: 'rekey',
      MetricName: METRIC.sweepCompleted,
      Dimensions: [{ Name: 'service', Value: 'sweeper' }],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('tickets failing: five PasswordResetFailed answers in 15 minutes', () => {
    const props = alarm('TicketsFailingAlarm');
    expect(props.Metrics?.[0]?.Expression).toBe(
      'SELECT SUM(TicketFailed) FROM SCHEMA("rekey", operation, service)',
    );
    expect(props).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(JSON.stringify(props.Metrics)).toContain('"Period":900');
  });

  it('keeps the dead-letter queue alarm of the operations stack', () => {
    operations.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      Dimensions: Match.anyValue(),
    });
  });
});
