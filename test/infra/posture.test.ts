/**
 * The stack's security posture, asserted on the synthesized templates: who may touch a
 * secret's resource policy, who may read a temporary password, what the API throttles and
 * logs, and what protects the asynchronous paths.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '#functions/routes.ts';
import { REALM_CLAIM } from '#http/admin.ts';
import { addressOf } from '#infra/constructs/rekey-function.ts';
import { buildRekey } from '#infra/rekey-app.ts';
import { ACCESS_LOG_FORMAT, DEFAULT_PUBLIC_ROUTE_THROTTLE, routeKeys } from '#infra/stacks/api-stack.ts';
import { PRINCIPAL_REALM } from '#infra/stacks/stateful-stack.ts';
import { CDK_CONTEXT } from './cdk-context.ts';

type Statement = {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type PolicyResource = { Properties: { PolicyDocument: { Statement: Statement[] }; Roles?: unknown[] } };

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

let templates: Template[];
let api: Template;
let operations: Template;
let stateful: Template;

beforeAll(() => {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'rekey-posture-')),
    // The assets are irrelevant here (stacks.test.ts checks them) and bundling is slow.
    context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
  });
  const stacks = buildRekey(app);
  api = Template.fromStack(stacks.api);
  operations = Template.fromStack(stacks.operations);
  stateful = Template.fromStack(stacks.stateful);
  templates = [api, operations, stateful];
});

/** Every inline role policy of every stack, by logical id. */
function rolePolicies(): Array<[string, Statement[]]> {
  return templates.flatMap((template) =>
    Object.entries(template.findResources('AWS::IAM::Policy') as Record<string, PolicyResource>).map(
      ([id, policy]) => [id, policy.Properties.PolicyDocument.Statement] as [string, Statement[]],
    ),
  );
}

describe('secret resource policies', () => {
  it('are never allowed to any rekey function', () => {
    const allowed = rolePolicies().flatMap(([, statements]) =>
      statements.filter((s) => s.Effect === 'Allow').flatMap(actionsOf),
    );
    expect(allowed.length).toBeGreaterThan(0);
    expect(allowed.filter((a) => /ResourcePolicy|secretsmanager:\*|^\*$/.test(a))).toEqual([]);
  });

  it('are explicitly denied to every function that may touch a secret', () => {
    const touching = rolePolicies().filter(([, statements]) =>
      statements.some(
        (s) => s.Effect === 'Allow' && actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
      ),
    );
    // uiPassword, changepassword, random-password, CloudSSO, DDM, the ticket intake, the worker
    // and the sweeper.
    expect(touching.length).toBe(8);
    for (const [id, statements] of touching) {
      const denied = statements.filter((s) => s.Effect === 'Deny').flatMap(actionsOf);
      expect(denied, id).toEqual(
        expect.arrayContaining(['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy']),
      );
    }
  });

  it('may be put by a temporary-secret reader only with BlockPublicPolicy set, and never on a temporary secret', () => {
    const [policy] = Object.values(stateful.findResources('AWS::IAM::ManagedPolicy')) as PolicyResource[];
    const statements = policy?.Properties.PolicyDocument.Statement ?? [];
    const denies = statements.filter(
      (s) => s.Effect === 'Deny' && actionsOf(s).includes('secretsmanager:PutResourcePolicy'),
    );
    const anywhere = denies.filter((s) => s.Resource === '*');
    expect(anywhere.map((s) => actionsOf(s))).toEqual([
      ['secretsmanager:PutResourcePolicy'],
      ['secretsmanager:PutResourcePolicy'],
    ]);
    expect(anywhere.map((s) => s.Condition)).toEqual([
      { Bool: { 'secretsmanager:BlockPublicPolicy': 'false' } },
      { Null: { 'secretsmanager:BlockPublicPolicy': 'true' } },
    ]);
    // On the temporary secrets, none at all (temporary-secret-readers.test.ts evaluates it).
    const temporary = denies.filter((s) => s.Resource !== '*');
    expect(temporary).toHaveLength(1);
    expect(temporary[0]?.Condition).toBeUndefined();
    expect(JSON.stringify(temporary[0]?.Resource)).toContain(':secret:rekey/temp/*');
  });
});

describe('reading a temporary password', () => {
  it("is granted by one managed policy, on the reader's own realm under the temporary prefix only, decrypting only through Secrets Manager", () => {
    const policies = stateful.findResources('AWS::IAM::ManagedPolicy') as Record<string, PolicyResource>;
    expect(Object.keys(policies)).toHaveLength(1);
    const statements = Object.values(policies)[0]?.Properties.PolicyDocument.Statement ?? [];
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows.map((s) => s.Sid)).toEqual([
      'ReadOwnRealmTemporaryPasswords',
      'DecryptThroughSecretsManager',
    ]);
    const read = allows[0];
    expect(actionsOf(read as Statement).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    // The realm is the principal's tag, in the name and in the secret's tag alike.
    expect(JSON.stringify(read?.Resource)).toMatch(
      /secret:rekey\/temp\/\$\{aws:PrincipalTag\/rekey:realm\}\/\*"/,
    );
    expect(PRINCIPAL_REALM).toBe('$' + '{aws:PrincipalTag/rekey:realm}');
    expect(read?.Condition).toEqual({
      StringEquals: { 'secretsmanager:ResourceTag/rekey:realm': PRINCIPAL_REALM },
    });
    const decrypt = statements.find((s) => s.Sid === 'DecryptThroughSecretsManager');
    expect(decrypt?.Condition).toEqual({
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
      },
    });
    stateful.hasOutput('TemporarySecretReadersPolicyArn', {});
  });
});

describe('the HTTP API', () => {
  it('throttles its stage before any function runs', () => {
    api.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('gives each unauthenticated route (change-password) a smaller throttle of its own, and no admin route one', () => {
    const stages = Object.values(api.findResources('AWS::ApiGatewayV2::Stage')) as Array<{
      Properties: { RouteSettings?: Record<string, unknown> };
    }>;
    expect(stages).toHaveLength(1);
    const publicKeys = ROUTES.filter((r) => r.auth === 'public').flatMap(routeKeys);
    expect(publicKeys).toEqual([
      'PUT /20160918/changepassword',
      'POST /tickets/{connectorId}',
      'GET /password',
      'GET /password/page.js',
      'GET /password/page.css',
      'GET /password/rules',
    ]);
    expect(stages[0]?.Properties.RouteSettings).toEqual(
      Object.fromEntries(
        publicKeys.map((key) => [key, { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 }]),
      ),
    );
    expect(DEFAULT_PUBLIC_ROUTE_THROTTLE).toEqual({ rateLimit: 10, burstLimit: 20 });
    // Every route key it names is one the API really has.
    const routeKeysInTemplate = Object.values(api.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => (r as { Properties: { RouteKey: string } }).Properties.RouteKey,
    );
    for (const key of publicKeys) expect(routeKeysInTemplate).toContain(key);
  });

  it("serves the end user's page, its script, style and rules without an authorizer, from the page's own function", () => {
    // The headers (CSP, frame-ancestors, no-referrer, no-store, nosniff) are set by that
    // function's handler on every answer: test/integration/password-page.test.ts.
    const routes = api.findResources('AWS::ApiGatewayV2::Route') as Record<
      string,
      {
        Properties: {
          RouteKey: string;
          AuthorizationType?: string;
          Target: { 'Fn::Join': [string, unknown[]] };
        };
      }
    >;
    const pageRoutes = Object.values(routes).filter((r) => / \/password(\/|$)/.test(r.Properties.RouteKey));
    expect(pageRoutes.map((r) => r.Properties.RouteKey).sort()).toEqual([
      'GET /password',
      'GET /password/page.css',
      'GET /password/page.js',
      'GET /password/rules',
    ]);
    const integrations = api.findResources('AWS::ApiGatewayV2::Integration') as Record<
      string,
      { Properties: { IntegrationUri: { 'Fn::GetAtt': [string, string] } } }
    >;
    for (const route of pageRoutes) {
      expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
      const target = JSON.stringify(route.Properties.Target);
      const [id] = Object.entries(integrations).find(([key]) => target.includes(key)) ?? [];
      expect(id, route.Properties.RouteKey).toMatch(/PasswordPageIntegration/);
      expect(integrations[id ?? '']?.Properties.IntegrationUri['Fn::GetAtt'][0]).toMatch(/^PasswordPage/);
    }
  });

  it("gives what carries a temporary password the page's URL: the API's own /password, or the passwordPageUrl prop", () => {
    const variable = (template: Template) =>
      Object.values(template.findResources('AWS::Lambda::Function'))
        .map(
          (fn) =>
            (fn as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties,
        )
        .map((p) => p.Environment?.Variables?.REKEY_PASSWORD_PAGE_URL)
        .filter((v) => v !== undefined);
    // The notifying functions (random-password, change-password) and the ticket worker.
    const own = variable(api);
    expect(own).toHaveLength(ROUTES.filter((r) => r.access.notifies).length);
    for (const value of own) expect(JSON.stringify(value)).toMatch(/ApiEndpoint.*\/password"/);
    expect(variable(operations)).toHaveLength(1);
    const app = new App({
      outdir: mkdtempSync(join(tmpdir(), 'rekey-posture-page-')),
      context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
    });
    const stacks = buildRekey(app, { passwordPageUrl: 'https://id.example.com/password' });
    expect(variable(Template.fromStack(stacks.api))).toEqual(
      own.map(() => 'https://id.example.com/password'),
    );
    expect(variable(Template.fromStack(stacks.operations))).toEqual(['https://id.example.com/password']);
    // A plain-http page would carry the passwords typed on it, and the links' prefill, in the clear.
    const plain = new App({
      outdir: mkdtempSync(join(tmpdir(), 'rekey-posture-page-http-')),
      context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
    });
    expect(() => buildRekey(plain, { passwordPageUrl: 'http://id.example.com/password' })).toThrow(
      'passwordPageUrl must be an https:// URL',
    );
    // A fragment is no part of a link the page reads, and could break a ticket's note.
    const fragment = new App({
      outdir: mkdtempSync(join(tmpdir(), 'rekey-posture-page-hash-')),
      context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
    });
    expect(() => buildRekey(fragment, { passwordPageUrl: 'https://id.example.com/password#x' })).toThrow(
      'passwordPageUrl must not have a fragment',
    );
  });

  it('takes the public throttle from the stack props', () => {
    const app = new App({
      outdir: mkdtempSync(join(tmpdir(), 'rekey-posture-throttle-')),
      context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
    });
    const stacks = buildRekey(app, { publicRouteThrottle: { rateLimit: 3, burstLimit: 6 } });
    Template.fromStack(stacks.api).hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: { 'PUT /20160918/changepassword': { ThrottlingRateLimit: 3, ThrottlingBurstLimit: 6 } },
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it("logs who acted: the authorizer's verified subject and realm, and whether the token was valid", () => {
    const format = JSON.parse(ACCESS_LOG_FORMAT) as Record<string, string>;
    expect(format).toMatchObject({
      authenticated: '$context.authorizer.authenticated',
      subject: '$context.authorizer.sub',
      realm: `$context.authorizer.${REALM_CLAIM}`,
    });
    expect(REALM_CLAIM).toBe('rekey_realm');
  });

  it('logs each request by its route template: not its query string, where change-password may carry passwords, nor its path as typed', () => {
    api.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      AccessLogSettings: { Format: ACCESS_LOG_FORMAT, DestinationArn: Match.anyValue() },
    });
    const variables = ACCESS_LOG_FORMAT.match(/\$context\.[A-Za-z.]+/g) ?? [];
    expect(variables.length).toBeGreaterThan(5);
    // Nothing here reads the path as sent, the query string or a header value other than the
    // user agent: the route key is the template.
    expect(variables).toContain('$context.routeKey');
    for (const variable of variables) {
      expect(variable).not.toMatch(/path|query|querystring|request\.header|requestOverride|body/i);
    }
  });
});

describe('asynchronous paths', () => {
  it('cap the worker and the sweeper with reserved concurrency, to stay under the Secrets Manager quota', () => {
    const capped = Object.values(
      operations.findResources('AWS::Lambda::Function', {
        Properties: { ReservedConcurrentExecutions: Match.anyValue() },
      }),
    ) as Array<{ Properties: { ReservedConcurrentExecutions: number } }>;
    expect(capped.map((f) => f.Properties.ReservedConcurrentExecutions).sort()).toEqual([1, 5]);
  });

  it('keep what fails: the sweeper has a dead-letter queue, the ticket queue a redrive policy', () => {
    operations.hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: { TargetArn: Match.anyValue() },
    });
    operations.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
    });
  });
});

describe('the secrets key', () => {
  type KeyResource = { Properties: { KeyPolicy: { Statement: Array<Statement & { Principal?: unknown }> } } };
  type FunctionResource = { Properties: { Environment?: { Variables?: Record<string, unknown> } } };

  /** The one customer-managed key, by logical id. */
  function secretsKey(): [string, KeyResource] {
    const keys = Object.entries(stateful.findResources('AWS::KMS::Key')) as Array<[string, KeyResource]>;
    expect(keys).toHaveLength(1);
    return keys[0] as [string, KeyResource];
  }

  it('denies every principal the use of the key except through Secrets Manager in its region (StringNotEquals kms:ViaService)', () => {
    const [, key] = secretsKey();
    const denies = key.Properties.KeyPolicy.Statement.filter((s) => s.Effect === 'Deny');
    expect(denies).toHaveLength(1);
    const [deny] = denies;
    expect(deny?.Principal).toEqual({ AWS: '*' });
    expect(deny?.Resource).toBe('*');
    expect(actionsOf(deny as Statement).sort()).toEqual([
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey*',
      'kms:ReEncrypt*',
    ]);
    expect(deny?.Condition).toEqual({
      StringNotEquals: {
        'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
      },
    });
  });

  it('is the REKEY_KMS_KEY_ID of every function that creates or writes secrets', () => {
    const [keyId] = secretsKey();
    // A cross-stack reference: Fn::ImportValue of the stateful stack's export.
    const exported = new Map(
      Object.values(
        (stateful.toJSON().Outputs ?? {}) as Record<string, { Value: unknown; Export?: { Name: string } }>,
      )
        .filter((output) => output.Export)
        .map((output) => [output.Export?.Name, output.Value]),
    );
    const resolve = (value: unknown) => {
      const imported = (value as { 'Fn::ImportValue'?: string } | undefined)?.['Fn::ImportValue'];
      return imported === undefined ? value : exported.get(imported);
    };
    const stacks: Array<[string, Template]> = [
      ['api', api],
      ['operations', operations],
    ];
    const functions = stacks.flatMap(([stack, template]) =>
      Object.entries(template.findResources('AWS::Lambda::Function') as Record<string, FunctionResource>).map(
        ([id, fn]) => ({
          name: `${stack}/${id.replace(/Function[0-9A-F]{8}$/, '')}`,
          variables: fn.Properties.Environment?.Variables ?? {},
        }),
      ),
    );
    // uiPassword, random-password, CloudSSO ResetUserPassword, the DDM admin function, the ticket worker.
    const writers = [
      'api/CreateOrResetUiPassword',
      'api/ManageDdmAdmin',
      'api/ResetRandomPassword',
      'api/ResetUserPassword',
      'operations/TicketWorker',
    ];
    // The list is the template's: exactly these roles may create a secret or write a value.
    const writing = [...grantsByFunction()]
      .filter(([, g]) =>
        g.actions.some((a) => ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue'].includes(a)),
      )
      .map(([name]) => name)
      .sort();
    expect(writing).toEqual(writers.map((w) => w.split('/')[1]).sort());
    for (const name of writers) {
      const fn = functions.find((f) => f.name === name);
      expect(fn, name).toBeDefined();
      expect(resolve(fn?.variables.REKEY_KMS_KEY_ID), name).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    }
  });
});

/** Each function's allowed actions and the secret prefixes they name, by construct id. */
function grantsByFunction(): Map<string, { actions: string[]; secretPrefixes: string[] }> {
  const grants = new Map<string, { actions: string[]; secretPrefixes: string[] }>();
  for (const [id, statements] of rolePolicies()) {
    const allowed = statements.filter((s) => s.Effect === 'Allow');
    grants.set(id.replace(/RoleDefaultPolicy[0-9A-F]{8}$/, ''), {
      actions: allowed.flatMap(actionsOf),
      secretPrefixes: [
        ...new Set(JSON.stringify(allowed.map((s) => s.Resource)).match(/secret:rekey\/[a-z]+\//g) ?? []),
      ],
    });
  }
  return grants;
}

describe('permissions by operation', () => {
  it('lets only the functions that notify send e-mail or SMS', () => {
    const grants = [...grantsByFunction()];
    const allowedTo = (action: string) =>
      grants
        .filter(([, g]) => g.actions.includes(action))
        .map(([name]) => name)
        .sort();
    expect(allowedTo('ses:SendEmail')).toEqual(['ChangePassword', 'ResetRandomPassword', 'TicketWorker']);
    expect(allowedTo('sns:Publish')).toEqual(['ResetRandomPassword', 'TicketWorker']);
  });

  it('lets them send e-mail through the identity as the configured sender only (ses:FromAddress)', () => {
    const sending = rolePolicies().flatMap(([id, statements]) =>
      statements
        .filter((s) => s.Effect === 'Allow' && actionsOf(s).includes('ses:SendEmail'))
        .map((s) => [id, s] as const),
    );
    expect(sending).toHaveLength(3);
    for (const [id, statement] of sending) {
      expect(actionsOf(statement), id).toEqual(['ses:SendEmail']);
      expect(statement.Condition, id).toEqual({
        StringEquals: { 'ses:FromAddress': 'no-reply@example.com' },
      });
      expect(JSON.stringify(statement.Resource), id).toContain(':identity/example.com');
    }
  });

  it('takes the address of a sender with a display name for ses:FromAddress', () => {
    expect(addressOf('rekey <no-reply@example.com>')).toBe('no-reply@example.com');
    expect(addressOf(' no-reply@example.com ')).toBe('no-reply@example.com');
  });

  it('lets them publish SMS to phone numbers only: Publish to any topic or platform endpoint ARN is denied', () => {
    const publishing = rolePolicies().filter(([, statements]) =>
      statements.some((s) => s.Effect === 'Allow' && actionsOf(s).includes('sns:Publish')),
    );
    expect(publishing).toHaveLength(2);
    for (const [id, statements] of publishing) {
      // Only the SNS actions of each statement: cdk.json's minimizePolicies merges statements
      // with the same resource (X-Ray's Resource '*' among them).
      const sns = statements
        .filter((s) => actionsOf(s).some((a) => a.startsWith('sns:')))
        .map((s) => ({ ...s, Action: actionsOf(s).filter((a) => a.startsWith('sns:')) }));
      expect(sns, id).toEqual([
        { Effect: 'Allow', Action: ['sns:Publish'], Resource: '*' },
        {
          Effect: 'Deny',
          Action: ['sns:Publish'],
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sns:*:*:*']] },
        },
      ]);
    }
  });

  it("allows an action on every resource ('*') only where it has no resource to name: X-Ray's two and SMS", () => {
    // The one cdk-nag acknowledgement of Resource::* (rekey-function.ts) covers every role, so
    // it cannot catch a new wildcard grant; this does (a red-team pass planted kms:Decrypt,
    // dynamodb:Scan and events:PutEvents on '*' and nag let them through).
    const onEverything = rolePolicies().flatMap(([id, statements]) =>
      statements
        .filter((s) => s.Effect === 'Allow' && ([] as unknown[]).concat(s.Resource).includes('*'))
        .flatMap((s) => actionsOf(s).map((action) => `${id}: ${action}`)),
    );
    expect(onEverything.length).toBeGreaterThan(0);
    const allowed = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'sns:Publish']);
    expect(onEverything.filter((grant) => !allowed.has(grant.split(': ')[1] ?? ''))).toEqual([]);
  });

  it('keeps DDM administrator secrets under their own prefix, apart from temporary passwords', () => {
    const grants = grantsByFunction();
    expect(grants.get('ManageDdmAdmin')?.secretPrefixes).toEqual(['secret:rekey/ddm/']);
    // The sweeper may also delete (only) a DDM secret that a failed creation left behind.
    expect([...(grants.get('Sweeper')?.secretPrefixes ?? [])].sort()).toEqual([
      'secret:rekey/ddm/',
      'secret:rekey/temp/',
    ]);
    // The ticket intake reads connectors' inbound secrets only: neither passwords nor DDM's.
    expect(grants.get('TicketIntake')?.secretPrefixes).toEqual(['secret:rekey/connector/']);
    const others = [...grants].filter(
      ([name, g]) =>
        !['ManageDdmAdmin', 'Sweeper', 'TicketIntake'].includes(name) && g.secretPrefixes.length > 0,
    );
    expect(others.length).toBe(5);
    for (const [name, g] of others) expect(g.secretPrefixes, name).toEqual(['secret:rekey/temp/']);
  });
});
