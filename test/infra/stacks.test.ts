import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '#functions/routes.ts';
import { buildRekey } from '#infra/rekey-app.ts';
import { OPERATION_ACCESS, pascal } from '#infra/stacks/api-stack.ts';

type Statement = { Effect?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
/** What a role is granted; explicit denies (e.g. of secret resource policies, on "*") take nothing. */
const allows = (s: Statement) => s.Effect !== 'Deny';

describe('the CDK app', () => {
  let api: Template;
  let stateful: Template;
  let outdir: string;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'rekey-synth-'));
    const app = new App({
      outdir,
      context: {
        jwtIssuer: 'https://issuer.test',
        jwtAudience: 'aud-one,aud-two',
        emailIdentity: 'rekey.test',
      },
    });
    const stacks = buildRekey(app);
    api = Template.fromStack(stacks.api);
    stateful = Template.fromStack(stacks.stateful);
    app.synth();
  });

  const statements = (): Statement[] =>
    Object.values(api.findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );

  it('keeps the table with point-in-time recovery, TTL and a retained KMS key with rotation', () => {
    stateful.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      Replicas: [
        Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ],
    });
    stateful.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
  });

  it('routes every row of the route table to its own function', () => {
    for (const route of ROUTES) {
      for (const method of route.answersOtherMethods ? ['ANY'] : route.methods) {
        api.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: `${method} ${route.path}` });
      }
    }
    const operations = ROUTES.map((r) => pascal(r.operation));
    const functions = Object.keys(api.findResources('AWS::Lambda::Function'));
    for (const name of operations) expect(functions.some((id) => id.startsWith(name))).toBe(true);
  });

  it('puts every admin route, and only those, behind the token authorizer, with the configured issuer and audience', () => {
    // One Lambda REQUEST authorizer: simple responses, no identity source (a request without
    // a token must still reach the function, which answers 401 in its dialect), no cache.
    const authorizers = api.findResources('AWS::ApiGatewayV2::Authorizer');
    expect(Object.keys(authorizers)).toHaveLength(1);
    const [authorizerId] = Object.keys(authorizers);
    api.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: [],
      AuthorizerResultTtlInSeconds: 0,
    });
    api.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          REKEY_JWT_ISSUER: 'https://issuer.test',
          REKEY_JWT_AUDIENCE: 'aud-one,aud-two',
        }),
      },
    });
    for (const route of ROUTES) {
      for (const method of route.answersOtherMethods ? ['ANY'] : route.methods) {
        api.hasResourceProperties(
          'AWS::ApiGatewayV2::Route',
          route.auth === 'admin'
            ? {
                RouteKey: `${method} ${route.path}`,
                AuthorizationType: 'CUSTOM',
                AuthorizerId: { Ref: authorizerId },
              }
            : { RouteKey: `${method} ${route.path}`, AuthorizationType: 'NONE' },
        );
      }
    }
  });

  it('runs every function on arm64 and nodejs22.x', () => {
    const functions = Object.values(api.findResources('AWS::Lambda::Function')) as Array<{
      Properties: { Runtime: string; Architectures: string[] };
    }>;
    expect(functions.length).toBeGreaterThanOrEqual(ROUTES.length + 1);
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
    }
  });

  it('never grants a secretsmanager action on "*", only on a rekey secret prefix', () => {
    const secretStatements = statements().filter(
      (s) => allows(s) && actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(secretStatements.length).toBeGreaterThan(0);
    for (const statement of secretStatements) {
      const resources = JSON.stringify(statement.Resource);
      expect(statement.Resource).not.toBe('*');
      expect(resources).toMatch(/:secret:rekey\/(temp|ddm)\/\*/);
    }
  });

  it('lets the KMS key be used only through Secrets Manager', () => {
    const kms = statements().filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kms.length).toBeGreaterThan(0);
    for (const statement of kms) {
      expect(JSON.stringify(statement.Condition)).toContain('kms:ViaService');
    }
  });

  it('grants the uiPassword function only the table actions its operation needs', () => {
    const allowed = OPERATION_ACCESS['create-or-reset-ui-password']?.table.map((a) => `dynamodb:${a}`);
    const dynamo = statements().filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    for (const statement of dynamo) {
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/Scan|Batch|\*/);
    }
    expect(allowed).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ]);
  });

  it('ships the argon2 binding built for linux arm64 in every hashing function asset', () => {
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    const withArgon2 = assets.filter((asset) => readdirSync(join(outdir, asset)).includes('node_modules'));
    expect(withArgon2.length).toBeGreaterThanOrEqual(ROUTES.length);
    for (const asset of withArgon2) {
      const dir = join(outdir, asset, 'node_modules', '@node-rs', 'argon2-linux-arm64-gnu');
      const binary = readdirSync(dir).find((name) => name.endsWith('.node'));
      expect(binary).toBeDefined();
      const elf = readFileSync(join(dir, binary ?? ''));
      expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      // e_machine at offset 18: 0xB7 is EM_AARCH64.
      expect(elf.readUInt16LE(18)).toBe(0xb7);
    }
  });
});

describe('the operations stack', () => {
  let ops: Template;

  beforeAll(() => {
    const app = new App({
      outdir: mkdtempSync(join(tmpdir(), 'rekey-ops-')),
      context: { 'aws:cdk:bundling-stacks': [] },
    });
    ops = Template.fromStack(buildRekey(app).operations);
  });

  it('has the rekey bus and a rule that sends PasswordResetRequested to the ticket queue', () => {
    ops.hasResourceProperties('AWS::Events::EventBus', { Name: 'rekey' });
    ops.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'detail-type': ['PasswordResetRequested'] },
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Tickets[0-9A-F]'), 'Arn'] } }),
      ],
    });
  });

  it('gives the ticket queue a dead-letter queue, an alarm on its depth, and a partial-batch worker with capped concurrency', () => {
    ops.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
    });
    ops.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
    ops.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    ops.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REKEY_EVENT_BUS_NAME: Match.anyValue() }) },
      ReservedConcurrentExecutions: 5,
    });
  });

  it('runs the sweeper every 15 minutes and lets it delete only under the temporary prefix', () => {
    ops.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    const policies = Object.entries(ops.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('Sweeper'),
    );
    expect(policies).toHaveLength(1);
    const policy = policies[0]?.[1] as { Properties: { PolicyDocument: { Statement: Statement[] } } };
    const statements = policy.Properties.PolicyDocument.Statement;
    const secrets = statements.filter(
      (s) => allows(s) && actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(secrets.flatMap(actionsOf)).toEqual(['secretsmanager:DeleteSecret']);
    expect(JSON.stringify(secrets[0]?.Resource)).toMatch(/:secret:rekey\/temp\/\*/);
  });
});
