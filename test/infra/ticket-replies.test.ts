/**
 * The answer on the ticket, as synthesized (issue 12): per declared connector an EventBridge
 * connection holding the system's API credential (from Secrets Manager, by the connection), an
 * API destination making the system's documented call, and rules from rekey's result events of
 * that connector to it, whose targets retry and then dead-letter, with an alarm on the
 * dead-letter queue. The same paths, methods, bodies and notes as the local deliverer
 * (functions/ticketing), so what test/integration/ticket-intake.test.ts proves against the fake
 * systems is what the stack sends. Vendor pages:
 * https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket,
 * https://developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request/#api-rest-servicedeskapi-request-issueidorkey-comment-post,
 * https://www.servicenow.com/docs/bundle/zurich-api-reference/page/integrate/inbound-rest/concept/c_TableAPI.html;
 * EventBridge API destinations' path wildcards and retries:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-api-destinations.html
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { passwordPageLinker } from '#adapters/password-page-link.ts';
import { UnavailableError } from '#core/errors.ts';
import { completedResult, failedResult, noteSafe } from '#core/tickets.ts';
import { DETAIL_TYPES } from '#functions/contracts.ts';
import { REPLY_MAX_AGE_SECONDS, REPLY_RETRY_ATTEMPTS, replyCall } from '#functions/ticketing/connectors.ts';
import { fillTemplate, NOTE_FIELDS, noteTemplate } from '#functions/ticketing/notes.ts';
import { type ConnectorReplyProps, TicketReplies } from '#infra/constructs/ticket-replies.ts';
import { buildRekey, type RekeyStacks } from '#infra/rekey-app.ts';
import { CDK_CONTEXT } from './cdk-context.ts';

const CONNECTORS: ConnectorReplyProps[] = [
  {
    id: 'zd',
    kind: 'zendesk',
    replyUrl: 'https://acme.zendesk.com',
    username: 'agent@acme.example/token',
    passwordSecret: 'rekey/reply/zendesk',
  },
  {
    id: 'jsm',
    kind: 'jira',
    replyUrl: 'https://acme.atlassian.net',
    username: 'agent@acme.example',
    passwordSecret: 'rekey/reply/jira',
    passwordField: 'token',
  },
  {
    id: 'snow',
    kind: 'servicenow',
    replyUrl: 'https://acme.service-now.com',
    table: 'sc_req_item',
    username: 'rekey.integration',
    passwordSecret: 'rekey/reply/servicenow',
  },
];

type Resource = { Type: string; Properties: Record<string, unknown> };

let stacks: RekeyStacks;
let ops: Template;
let api: Template;

beforeAll(() => {
  // Bundling is irrelevant here (stacks.test.ts bundles) and slow: skipped.
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  stacks = buildRekey(app, { connectors: CONNECTORS });
  ops = Template.fromStack(stacks.operations);
  api = Template.fromStack(stacks.api);
  // Synthesis bundles every function (esbuild): slow on a loaded machine.
}, 180_000);

const resources = (template: Template, type: string) =>
  Object.entries(template.findResources(type)) as Array<[string, Resource]>;

describe('each connector’s reply side', () => {
  it('has a connection with Basic authentication from the system’s secret, by reference (never a value)', () => {
    const connections = resources(ops, 'AWS::Events::Connection');
    expect(connections).toHaveLength(3);
    const json = JSON.stringify(connections);
    for (const c of CONNECTORS) {
      expect(json).toContain(c.username);
      expect(json).toContain(
        `{{resolve:secretsmanager:${c.passwordSecret}:SecretString:${c.passwordField ?? ''}::}}`,
      );
    }
    for (const [, connection] of connections) {
      expect(connection.Properties).toMatchObject({ AuthorizationType: 'BASIC' });
    }
  });

  it.each([
    ['zd', 'https://acme.zendesk.com/api/v2/tickets/*', 'PUT'],
    ['jsm', 'https://acme.atlassian.net/rest/servicedeskapi/request/*/comment', 'POST'],
    ['snow', 'https://acme.service-now.com/api/now/table/sc_req_item/*', 'PATCH'],
  ])('%s: an API destination making the documented call (%s, %s)', (_id, endpoint, method) => {
    ops.hasResourceProperties('AWS::Events::ApiDestination', {
      InvocationEndpoint: endpoint,
      HttpMethod: method,
      ConnectionArn: Match.anyValue(),
    });
  });

  it.each(CONNECTORS.flatMap((c) => (['completed', 'failed'] as const).map((kind) => [c, kind] as const)))(
    '%o: a %s rule from rekey for this connector, writing the note, retried, then dead-lettered',
    (connector, kind) => {
      const rules = resources(ops, 'AWS::Events::Rule').filter(([, rule]) =>
        JSON.stringify(rule.Properties.EventPattern ?? {}).includes(`"connectorId":["${connector.id}"]`),
      );
      const rule = rules.find(([, r]) =>
        JSON.stringify(r.Properties.EventPattern ?? {}).includes(DETAIL_TYPES[kind]),
      )?.[1];
      expect(rule?.Properties.EventPattern).toEqual({
        source: ['rekey'],
        'detail-type': [DETAIL_TYPES[kind]],
        detail: { connectorId: [connector.id] },
      });
      const targets = rule?.Properties.Targets as Array<Record<string, unknown>>;
      expect(targets).toHaveLength(1);
      const [target] = targets;
      expect(target?.HttpParameters).toEqual({
        PathParameterValues: ['$.detail.ticketId'],
        HeaderParameters: { 'Content-Type': 'application/json' },
      });
      expect(target?.InputTransformer).toEqual({
        InputPathsMap: NOTE_FIELDS[kind],
        InputTemplate: replyCall(connector).body(noteTemplate(kind)),
      });
      expect(target?.RetryPolicy).toEqual({
        MaximumRetryAttempts: REPLY_RETRY_ATTEMPTS,
        MaximumEventAgeInSeconds: REPLY_MAX_AGE_SECONDS,
      });
      const dlqId = stacks.operations.getLogicalId(
        stacks.operations.replies.deadLetterQueue.node.defaultChild as never,
      );
      expect(target?.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } });
      // The note never carries a password field: only the result's own fields.
      expect(Object.keys(NOTE_FIELDS[kind])).not.toContain('password');
    },
  );

  it('fills every synthesized note, as EventBridge does (nothing escaped), into a body that parses, whatever a failure says (property)', () => {
    const templates = resources(ops, 'AWS::Events::Rule').flatMap(([, rule]) =>
      ((rule.Properties.Targets ?? []) as Array<{ InputTransformer?: { InputTemplate: string } }>).flatMap(
        (target) => (target.InputTransformer ? [target.InputTransformer.InputTemplate] : []),
      ),
    );
    expect(templates).toHaveLength(CONNECTORS.length * 2);
    const completed = completedResult(
      {
        source: 'rekey.connector.zd',
        ticketId: 'SD-7',
        operation: 'ResetRandomPassword',
        realmId: 'demo',
        userId: 'u-bob',
        channels: ['email'],
        requireResetAtNextLogin: true,
      },
      {
        passwordSecretId:
          'arn:aws:secretsmanager:us-east-1:111122223333:secret:rekey/temp/demo/u-bob/x-AbCdEf',
        expiresAt: '2026-12-11T19:03:07.185Z',
        notified: ['email'],
        passwordPageUrl: 'https://id.example.com/password?tenancy=democorp&username=bob',
      },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (message) => {
        const failed = failedResult('SD-7', new UnavailableError(message), 'ResetRandomPassword');
        for (const template of templates) {
          for (const result of [failed, completed]) {
            const body = fillTemplate(template, result.detail as unknown as Record<string, unknown>);
            expect(() => JSON.parse(body), body).not.toThrow();
          }
        }
        // The message reaches the note, changed only where a JSON string could not hold it.
        expect((failed.detail as { message?: string }).message).toBe(noteSafe(message));
      }),
      { numRuns: 300 },
    );
    // A completed note's link, from any configured page URL, realm name and username.
    const pageUrls = fc.constantFrom(
      'https://id.example.com/password',
      'https://id.example.com/pass"word?x=\\y',
      'https://id.example.com/password#x\\y"z',
    );
    fc.assert(
      fc.property(
        pageUrls,
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        (url, name, username) => {
          const link = passwordPageLinker(url)?.({ name }, { username }) ?? '';
          const detail = { ...completed.detail, passwordPageUrl: link } as unknown as Record<string, unknown>;
          for (const template of templates.filter((t) => t.includes('<passwordPageUrl>'))) {
            const body = fillTemplate(template, detail);
            expect(() => JSON.parse(body), body).not.toThrow();
          }
        },
      ),
      { numRuns: 300 },
    );
    // The control: an unescaped quote does break a body, so the property can fail.
    const failedNote = templates.find((template) => template.includes('<message>')) ?? '';
    expect(() => JSON.parse(fillTemplate(failedNote, { message: 'a "quoted" word', code: 'x' }))).toThrow();
  });

  it('raises an alarm as soon as a note lands on the dead-letter queue, which EventBridge may write to', () => {
    const dlqId = stacks.operations.getLogicalId(
      stacks.operations.replies.deadLetterQueue.node.defaultChild as never,
    );
    const alarms = resources(ops, 'AWS::CloudWatch::Alarm').filter(([, a]) =>
      JSON.stringify(a.Properties.Dimensions).includes(dlqId),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.[1].Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    const policies = resources(ops, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
      JSON.stringify(p.Properties.Queues).includes(dlqId),
    );
    expect(JSON.stringify(policies)).toContain('events.amazonaws.com');
    expect(JSON.stringify(policies)).toContain('sqs:SendMessage');
  });

  it('refuses a declaration it could not deploy safely (http, a bad id, a table on Zendesk)', () => {
    const bad: Array<Partial<ConnectorReplyProps>> = [
      { replyUrl: 'http://acme.zendesk.com' },
      { id: 'Has Space' },
      { table: 'incident' },
      { replyUrl: 'https://acme.zendesk.com/api' },
      { passwordVersionId: 'AWSCURRENT' },
      // A misspelt key, which would otherwise be ignored (this one would renew nothing).
      { passwordVersionID: 'a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d' } as Partial<ConnectorReplyProps>,
    ];
    for (const change of bad) {
      // The construct alone (the whole app bundles every function: too slow to build five times).
      const stack = new Stack(new App(), 'Replies');
      const bus = new EventBus(stack, 'Bus');
      expect(
        () =>
          new TicketReplies(stack, 'TicketReplies', {
            bus: bus as IEventBus,
            connectors: [{ ...(CONNECTORS[0] as ConnectorReplyProps), ...change }],
          }),
      ).toThrow(/connector/);
    }
    // The control: the declaration as it is deploys.
    const stack = new Stack(new App(), 'Replies');
    const bus = new EventBus(stack, 'Bus');
    expect(
      () => new TicketReplies(stack, 'TicketReplies', { bus: bus as IEventBus, connectors: CONNECTORS }),
    ).not.toThrow();
  });

  it('reads a renewed credential when the declaration names its version, so a deploy updates the connection', () => {
    const versionId = 'a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d';
    const template = (connector: ConnectorReplyProps) => {
      const stack = new Stack(new App(), 'Replies');
      new TicketReplies(stack, 'TicketReplies', {
        bus: new EventBus(stack, 'Bus') as IEventBus,
        connectors: [connector],
      });
      return JSON.stringify(Template.fromStack(stack).findResources('AWS::Events::Connection'));
    };
    const jira = CONNECTORS[1] as ConnectorReplyProps;
    const renewed = template({ ...jira, passwordVersionId: versionId });
    expect(renewed).toContain(
      `{{resolve:secretsmanager:${jira.passwordSecret}:SecretString:token::${versionId}}}`,
    );
    // The reference itself changes: CloudFormation re-reads a secret reference only then.
    expect(renewed).not.toBe(template(jira));
  });
});

describe('the ticket intake function (least privilege)', () => {
  it('reads the table (GetItem, Query), writes only its refusals’ records, reads connectors’ inbound secrets only, and puts events on the rekey bus alone', () => {
    const intake = stacks.api.functions.get('ticket-intake');
    expect(intake).toBeDefined();
    const roleId = stacks.api.getLogicalId(intake?.function.role?.node.defaultChild as never);
    const statements = resources(api, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap(
        ([, p]) => (p.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement,
      )
      .filter((s) => s.Effect === 'Allow');
    const byAction = (prefix: string) =>
      statements.filter((s) => ([] as string[]).concat(s.Action as string).some((a) => a.startsWith(prefix)));
    expect(byAction('events:')).toHaveLength(1);
    expect(byAction('events:')[0]?.Action).toBe('events:PutEvents');
    expect(JSON.stringify(byAction('events:')[0]?.Resource)).toContain(':event-bus/rekey');
    const secrets = byAction('secretsmanager:');
    expect(secrets.map((s) => s.Action)).toEqual(['secretsmanager:GetSecretValue']);
    // The inbound secrets only: `rekey/connector/{id}/inbound-XXXXXX`, never `…/{id}/reply-…`.
    expect(JSON.stringify(secrets[0]?.Resource)).toContain(':secret:rekey/connector/*/inbound-??????"');
    const pattern = String(JSON.stringify(secrets[0]?.Resource).match(/rekey\/connector\/[^"]*/)?.[0]);
    const matches = (name: string) =>
      new RegExp(`^${pattern.replaceAll('*', '.*').replaceAll('?', '.')}$`).test(name);
    expect(matches('rekey/connector/zd/inbound-AbC123')).toBe(true);
    expect(matches('rekey/connector/zd/reply-AbC123')).toBe(false);
    const table = byAction('dynamodb:').flatMap((s) => ([] as string[]).concat(s.Action as string));
    expect([...new Set(table)].sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    // The writes only on its own records: an unknown user's refusal, answered once.
    const writes = byAction('dynamodb:').filter((s) => JSON.stringify(s.Action).includes('PutItem'));
    expect(writes.map((s) => JSON.stringify(s.Condition))).toEqual([
      expect.stringContaining('"dynamodb:LeadingKeys":["IDEMPOTENCY#ticket-intake"]'),
    ]);
    // It reads a secret, never writes one: Decrypt, no data key.
    expect(byAction('kms:').map((s) => s.Action)).toEqual(['kms:Decrypt']);
    // No SES, no SNS, no Lambda, no SQS: it only verifies and forwards.
    const services = new Set(
      statements.flatMap((s) => ([] as string[]).concat(s.Action as string)).map((a) => a.split(':')[0]),
    );
    expect([...services].sort()).toEqual(['dynamodb', 'events', 'kms', 'logs', 'secretsmanager', 'xray']);
  });

  it('ships no argon2id binding and knows its bus and its secrets prefix', () => {
    const fn = resources(api, 'AWS::Lambda::Function').find(([, f]) =>
      String(f.Properties.Description).includes('/tickets/{connectorId}'),
    )?.[1];
    expect(fn?.Properties.Environment).toMatchObject({
      Variables: { REKEY_EVENT_BUS_NAME: 'rekey', REKEY_CONNECTOR_SECRET_PREFIX: 'rekey/connector/' },
    });
  });

  it('leaves the ticket worker without GetSecretValue', () => {
    const worker = stacks.operations.worker.function;
    const roleId = stacks.operations.getLogicalId(worker.role?.node.defaultChild as never);
    const actions = resources(ops, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap(([, p]) => JSON.stringify(p.Properties.PolicyDocument));
    expect(actions.join('')).not.toContain('GetSecretValue');
  });
});
