import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, OPENAPI_PATH } from '#functions/contracts.ts';
import { ROUTES, routePaths } from '#functions/routes.ts';
import { BLOCKLIST_ARTIFACT, BLOCKLIST_ASSET_NAME } from '#infra/constructs/lambda-bundling.ts';
import { buildRekey, type RekeyStacks } from '#infra/rekey-app.ts';
import { pascal } from '#infra/stacks/api-stack.ts';
import { floorModules } from '../../bench/bundles.ts';
import { CDK_CONTEXT } from './cdk-context.ts';

type Statement = {
  Effect?: string;
  Action: string | string[];
  NotAction?: unknown;
  Resource: unknown;
  Condition?: unknown;
};
const actionsOf = (s: Statement) =>
  s.Action === undefined ? [] : Array.isArray(s.Action) ? s.Action : [s.Action];
/** What a role is granted; explicit denies (e.g. of secret resource policies, on "*") take nothing. */
const allows = (s: Statement) => s.Effect !== 'Deny';
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
type Resource = { Type: string; Properties: Record<string, unknown> };
type PolicyDocument = { Statement: Statement[] };

/** The logical id of a construct's CloudFormation resource, as it appears in its template. */
const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

/**
 * Every statement of every policy attached to `roleId` in `template`: the role's inline
 * policies, the AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources naming it, and the
 * managed policies it lists (which must be in the template, so that they can be read).
 */
function roleStatements(template: Template, roleId: string): Statement[] {
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const role = resources[roleId];
  expect(role?.Type, roleId).toBe('AWS::IAM::Role');
  const inline = ((role?.Properties.Policies ?? []) as Array<{ PolicyDocument: PolicyDocument }>).flatMap(
    (p) => p.PolicyDocument.Statement,
  );
  const managed = ((role?.Properties.ManagedPolicyArns ?? []) as unknown[]).flatMap((arn) => {
    const id = (arn as { Ref?: string }).Ref;
    const policy = id === undefined ? undefined : resources[id];
    expect(policy?.Type, `managed policy ${JSON.stringify(arn)} of ${roleId}`).toBe(
      'AWS::IAM::ManagedPolicy',
    );
    return (policy?.Properties.PolicyDocument as PolicyDocument | undefined)?.Statement ?? [];
  });
  const attached = Object.values(resources)
    .filter(
      (r) =>
        (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') &&
        ((r.Properties.Roles ?? []) as unknown[]).some((ref) => (ref as { Ref?: string }).Ref === roleId),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as PolicyDocument).Statement);
  return [...inline, ...managed, ...attached];
}

/** Every Lambda function of every stack, as `{stack name}/{construct id}`, with its role's statements. */
function functionsWithStatements(
  stacks: RekeyStacks,
): Array<{ name: string; logicalId: string; stack: string; statements: Statement[] }> {
  return Object.values(stacks).flatMap((stack: Stack) => {
    const template = Template.fromStack(stack);
    return Object.entries(template.findResources('AWS::Lambda::Function')).map(([id, fn]) => {
      const role = (fn as { Properties: { Role: { 'Fn::GetAtt'?: [string, string] } } }).Properties.Role;
      const roleId = role['Fn::GetAtt']?.[0] ?? '';
      return {
        name: `${stack.stackName}/${id.replace(/Function[0-9A-F]{8}$/, '')}`,
        logicalId: id,
        stack: stack.stackName,
        statements: roleStatements(template, roleId),
      };
    });
  });
}

/**
 * The dynamodb:* and secretsmanager:* actions a role is allowed. A wildcard action ("*",
 * "dynamodb:*") or an Allow with NotAction is kept as written, so that it can never match
 * an expected list of named actions.
 */
function allowedIn(statements: Statement[], service: 'dynamodb' | 'secretsmanager'): string[] {
  const actions = new Set<string>();
  for (const statement of statements.filter(allows)) {
    if (statement.NotAction !== undefined) actions.add(`NotAction ${JSON.stringify(statement.NotAction)}`);
    for (const action of actionsOf(statement)) {
      if (action === '*' || action.toLowerCase().startsWith(`${service}:`)) actions.add(action);
    }
  }
  return [...actions].sort();
}

/**
 * What each function's code sends, read from its handler down to the adapters — not from the
 * stacks' grants. DynamoDB calls go through DynamoDbDirectory and idempotent() (whose records
 * are claimed and completed with PutItem; only change-password's failure count sends UpdateItem); Secrets Manager calls
 * through SecretsManagerVault, whose CreateSecret carries tags (secretsmanager:TagResource).
 */
const SENDS: Record<string, { dynamodb: string[]; secretsmanager: string[] }> = {
  // Verifies a JWT against the issuer's JWKS; touches neither the table nor a secret.
  'RekeyApi/TokenAuthorizer': { dynamodb: [], secretsmanager: [] },
  // Answers GET /openapi.json from the schemas it bundles; touches nothing.
  'RekeyApi/OpenApiDocument': { dynamodb: [], secretsmanager: [] },
  // idempotent(): PutItem (claim, complete), GetItem (a retry), DeleteItem (release).
  // loadUserForAdmin: GetItem. issueTemporaryPassword: trackSecret PutItem, vault.create,
  // switchCredential saveUser PutItem (re-read GetItem on failure), and the secret it replaces
  // or a failed switch's: vault.delete, untrackSecret DeleteItem.
  'RekeyApi/CreateOrResetUiPassword': {
    dynamodb: ['GetItem', 'PutItem', 'DeleteItem'],
    secretsmanager: ['CreateSecret', 'TagResource', 'DeleteSecret'],
  },
  // issueTemporaryPassword as above, without idempotency.
  'RekeyApi/ResetRandomPassword': {
    dynamodb: ['GetItem', 'PutItem', 'DeleteItem'],
    secretsmanager: ['CreateSecret', 'TagResource', 'DeleteSecret'],
  },
  // CloudSSO: issueTemporaryPassword, or a given password through switchCredential.
  'RekeyApi/ResetUserPassword': {
    dynamodb: ['GetItem', 'PutItem', 'DeleteItem'],
    secretsmanager: ['CreateSecret', 'TagResource', 'DeleteSecret'],
  },
  // The end user's page: the rules read a realm by id or by name (findRealm: GetItem only).
  'RekeyApi/PasswordPage': { dynamodb: ['GetItem'], secretsmanager: [] },
  // getInstance GetItem, saveInstance PutItem; vault.create (deleted by name on a failed
  // create or record), then read + putValue for every later change.
  'RekeyApi/ManageDdmAdmin': {
    dynamodb: ['GetItem', 'PutItem', 'DeleteItem'],
    secretsmanager: ['CreateSecret', 'TagResource', 'GetSecretValue', 'PutSecretValue', 'DeleteSecret'],
  },
  // authenticate: findUsersByUsername Query + GetItem, getRealm/findRealm GetItem; lock-out:
  // countFailure UpdateItem (a real count or the refusals' ghost), releaseAttempt and
  // switchCredential saveUser PutItem; the replaced temporary secret: vault.delete and
  // untrackSecret DeleteItem. Never creates a secret.
  'RekeyApi/ChangePassword': {
    dynamodb: ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'DeleteItem'],
    secretsmanager: ['DeleteSecret'],
  },
  // The ticket intake: ConnectorStore.get GetItem; findUser: getUser GetItem,
  // findUsersByUsername and findUsersByEmail Query (+ GetItem); the connector's inbound secret:
  // vault.read. The request goes on the bus; it writes only an unknown user's refusal, once
  // (idempotent(): PutItem, GetItem, DeleteItem).
  'RekeyApi/TicketIntake': {
    dynamodb: ['GetItem', 'Query', 'PutItem', 'DeleteItem'],
    secretsmanager: ['GetSecretValue'],
  },
  // idempotent() per ticket; handleTicket: loadUserInRealm GetItem, issueTemporaryPassword as
  // above. The notification sends the password issueTemporaryPassword returned: no vault.read.
  'RekeyOperations/TicketWorker': {
    dynamodb: ['GetItem', 'PutItem', 'DeleteItem'],
    secretsmanager: ['CreateSecret', 'TagResource', 'DeleteSecret'],
  },
  // listTrackedSecrets Query, getUser GetItem, saveUser PutItem (detaching an expired
  // credential), vault.delete, untrackSecret DeleteItem.
  'RekeyOperations/Sweeper': {
    dynamodb: ['GetItem', 'PutItem', 'Query', 'DeleteItem'],
    secretsmanager: ['DeleteSecret'],
  },
  // Reads log lines it is handed and puts them on the bus: no table, no secret.
  'RekeyOperations/AuditForwarder': { dynamodb: [], secretsmanager: [] },
};

describe('the CDK app', () => {
  let api: Template;
  let stateful: Template;
  /** The templates that hold Lambda functions. */
  let withFunctions: Template[];
  let outdir: string;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'rekey-synth-'));
    const app = new App({
      outdir,
      context: {
        ...CDK_CONTEXT,
        jwtIssuer: 'https://issuer.test',
        jwtAudience: 'aud-one,aud-two',
        emailIdentity: 'rekey.test',
      },
    });
    const stacks = buildRekey(app);
    api = Template.fromStack(stacks.api);
    stateful = Template.fromStack(stacks.stateful);
    withFunctions = [api, Template.fromStack(stacks.operations)];
    app.synth();
    // Bundles every function with esbuild: over the 60 s default when two cores are shared.
  }, 180_000);

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

  it('lets the KMS key be used only through Secrets Manager', () => {
    const kms = statements().filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kms.length).toBeGreaterThan(0);
    for (const statement of kms) {
      expect(JSON.stringify(statement.Condition)).toContain('kms:ViaService');
    }
  });

  it('ships the argon2 binding built for linux arm64 in every hashing function asset, and in no other', () => {
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    const withArgon2 = assets.filter((asset) => readdirSync(join(outdir, asset)).includes('node_modules'));
    // Every route whose function hashes, and the ticket worker; not ManageDdmAdmin, the
    // Sweeper or the token authorizer, which never load it.
    expect(withArgon2.length).toBe(ROUTES.filter((route) => route.hashes).length + 1);
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

  it('ships the blocklist artifact, as built, only in the assets of functions that check chosen passwords (issue 13)', () => {
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    const withList = assets.filter((asset) =>
      readdirSync(join(outdir, asset)).includes(BLOCKLIST_ASSET_NAME),
    );
    // change-password, CloudSSO's reset (a given Password) and the DDM administrator: 3 of 5 routes.
    expect(withList.length).toBe(ROUTES.filter((route) => route.checksChosenPasswords).length);
    expect(withList.length).toBe(3);
    const built = readFileSync(BLOCKLIST_ARTIFACT);
    for (const asset of withList) {
      expect(readFileSync(join(outdir, asset, BLOCKLIST_ASSET_NAME)).equals(built)).toBe(true);
    }
  });

  it('bundles no function with node:stream/web: middy imports it only for streamed responses, which cost every cold start eight internal modules', () => {
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    expect(assets.length).toBeGreaterThanOrEqual(ROUTES.length + 2);
    for (const asset of assets) {
      const code = readFileSync(join(outdir, asset, 'index.mjs'), 'utf8');
      expect(code).not.toMatch(/["']node:stream\/web["']/);
      expect(code).not.toMatch(/["']stream\/web["']/);
    }
  });

  it('imports in no function a built-in the two-clients floor does not: each is a module facade at every cold start', () => {
    const builtins = (code: string) =>
      new Set([...code.matchAll(/(?:from|import)\s*["'](node:[\w/]+)["']/g)].map((match) => match[1]));
    const floor = builtins(readFileSync(floorModules().sdk.file, 'utf8'));
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    for (const asset of assets) {
      const extra = [...builtins(readFileSync(join(outdir, asset, 'index.mjs'), 'utf8'))].filter(
        (name) => !floor.has(name),
      );
      // The token authorizer fetches the issuer's keys over node:https, and the audit forwarder
      // gunzips its deliveries: their own work, not a library's import.
      expect(
        extra.filter((name) => name !== 'node:http' && name !== 'node:zlib'),
        asset,
      ).toEqual([]);
    }
  });

  /**
   * Imports a function's synthesized bundle in a fresh node, as Lambda's init does, with only the
   * variables its template gives it (a CloudFormation reference becomes a placeholder that also parses as a URL) and AWS's
   * own: nothing from this process's environment, where the local defaults are set.
   */
  function startsWithItsEnvironment(
    fn: { Properties: { Code: { S3Key?: unknown }; Environment?: { Variables?: Record<string, unknown> } } },
    drop?: string,
  ): { status: number | null; stderr: string } {
    const key = String(fn.Properties.Code.S3Key ?? '');
    const bundle = join(outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs');
    const variables = Object.entries(fn.Properties.Environment?.Variables ?? {})
      .filter(([name]) => name !== drop)
      .map(([name, value]) => [
        name,
        typeof value === 'string' ? value : 'https://from-the-template.example',
      ]);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      // The SDK warns once on Node 20 (Lambda runs 22): any other line on stderr fails the test.
      NODE_NO_WARNINGS: '1',
      ...Object.fromEntries(variables),
    };
    // The template names the arm64 addon under /var/task; this machine loads its own build.
    if (env.NAPI_RS_NATIVE_LIBRARY_PATH) {
      const host = resolve('node_modules', '@node-rs', `argon2-${process.platform}-${process.arch}-gnu`);
      const binary = readdirSync(host).find((name) => name.endsWith('.node')) ?? '';
      env.NAPI_RS_NATIVE_LIBRARY_PATH = join(host, binary);
    }
    const run = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `await import(${JSON.stringify(bundle)})`],
      {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    return { status: run.status, stderr: run.stderr };
  }

  it('starts every function from its bundle with only the environment its template gives it', () => {
    const functions = withFunctions.flatMap(
      (template) =>
        Object.values(template.findResources('AWS::Lambda::Function')) as Array<
          Parameters<typeof startsWithItsEnvironment>[0]
        >,
    );
    expect(functions.length).toBe(ROUTES.length + 5);
    for (const fn of functions) {
      const { status, stderr } = startsWithItsEnvironment(fn);
      expect(stderr, String(fn.Properties.Code.S3Key)).toBe('');
      expect(status).toBe(0);
    }
    // The control: the ticket worker (the function told both the bus and the e-mail sender)
    // without its bus fails at init, naming the variable.
    const told = (fn: (typeof functions)[number], name: string) =>
      name in (fn.Properties.Environment?.Variables ?? {});
    const worker = functions.filter((fn) => told(fn, ENV.eventBusName) && told(fn, ENV.emailFrom));
    expect(worker).toHaveLength(1);
    const without = startsWithItsEnvironment(worker[0] as (typeof functions)[number], ENV.eventBusName);
    expect(without.status).not.toBe(0);
    expect(without.stderr).toContain(`[MissingSettingError]: ${ENV.eventBusName} is not set`);
  }, 120_000);

  it("builds no schema a function does not validate with: the responses and the result events are the document's and the tests' alone", () => {
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    const carrying = (marker: string) =>
      assets.filter((asset) => readFileSync(join(outdir, asset, 'index.mjs'), 'utf8').includes(marker));
    // Only the responses and the result events have date-times: the OpenAPI document's function
    // alone describes them. zod keeps its class names through minification.
    expect(carrying('"ZodMiniISODateTime"')).toHaveLength(1);
    // The True/False flag (its pipe): CloudSSO's reset, the ticket worker, and the document.
    expect(carrying('"ZodMiniPipe"')).toHaveLength(3);
  });

  it("bundles no function with the SDK's event-stream code: a dynamic import no rekey call takes made esbuild wrap most of @smithy/core in lazy initialisers", () => {
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    for (const asset of assets) {
      const code = readFileSync(join(outdir, asset, 'index.mjs'), 'utf8');
      // Header names only the event-stream codec writes; the stand-in's refusal where the SDK reaches for it.
      expect(code).not.toContain(':message-type');
      if (code.includes('loadEventStreamCapability'))
        expect(code).toContain('rekey bundles no event-stream support');
    }
  });

  it('bundles no DynamoDB, SES, SNS or EventBridge client: their calls go through aws-call.ts, and the functions still make them', () => {
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    const codes = assets.map((asset) => readFileSync(join(outdir, asset, 'index.mjs'), 'utf8'));
    for (const code of codes) {
      // Each generated client's schema namespace, which its module registers at load.
      for (const namespace of [
        '"com.amazonaws.dynamodb"',
        '"com.amazonaws.ses"',
        '"com.amazonaws.sns"',
        '"com.amazonaws.eventbridge"',
      ]) {
        expect(code).not.toContain(namespace);
      }
    }
    // The calls themselves are there: the worker sends e-mail, SMS and its results, and every
    // function but the authorizer, the document's and the audit forwarder reads the table.
    const carrying = (marker: string) => codes.filter((code) => code.includes(marker)).length;
    expect(carrying('"SendEmail"')).toBe(3);
    expect(carrying('"Publish"')).toBe(2);
    expect(carrying('"AWSEvents.PutEvents"')).toBe(3);
    expect(carrying('DynamoDB_20120810.')).toBe(assets.length - 3);
    // Secrets Manager keeps its client, which the stack requires.
    expect(carrying('"com.amazonaws.secretsmanager"')).toBe(assets.length - 3);
  });
});

describe('every stack, as synthesized', () => {
  let stacks: RekeyStacks;
  let api: Template;

  beforeAll(() => {
    const app = new App({
      outdir: mkdtempSync(join(tmpdir(), 'rekey-templates-')),
      // Templates only: the assets are checked above, and bundling is slow.
      context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
    });
    stacks = buildRekey(app);
    api = Template.fromStack(stacks.api);
  });

  it("allows each function exactly the table and secret actions its code sends, read from its role's policies", () => {
    const functions = functionsWithStatements(stacks);
    // A function with no row here fails: its access has to be derived from its code first.
    expect(functions.map((f) => f.name).sort()).toEqual(Object.keys(SENDS).sort());
    for (const { name, statements } of functions) {
      const sends = SENDS[name];
      expect(allowedIn(statements, 'dynamodb'), `${name} dynamodb`).toEqual(
        (sends?.dynamodb ?? []).map((a) => `dynamodb:${a}`).sort(),
      );
      expect(allowedIn(statements, 'secretsmanager'), `${name} secretsmanager`).toEqual(
        (sends?.secretsmanager ?? []).map((a) => `secretsmanager:${a}`).sort(),
      );
    }
  });

  it('has no Allow statement with a `*` resource on any secretsmanager action, and denies secret resource policies on `*`', () => {
    const templates = Object.values(stacks).map((stack: Stack) => Template.fromStack(stack));
    const statements = templates.flatMap((template) =>
      [
        ...Object.values(template.findResources('AWS::IAM::Policy')),
        ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
      ].flatMap(
        (p) => (p as { Properties: { PolicyDocument: PolicyDocument } }).Properties.PolicyDocument.Statement,
      ),
    );
    // Any Allow that can reach a secretsmanager action: named, wildcard, or through NotAction.
    const secretAllows = statements.filter(
      (s) =>
        allows(s) &&
        (s.NotAction !== undefined ||
          actionsOf(s).some((a) => a === '*' || a.toLowerCase().startsWith('secretsmanager:'))),
    );
    expect(secretAllows.length).toBeGreaterThan(0);
    for (const statement of secretAllows) {
      expect(statement.NotAction).toBeUndefined();
      for (const resource of resourcesOf(statement)) {
        expect(resource).not.toBe('*');
        // A rekey prefix, (the readers' policy) one realm's part of the temporary prefix, or
        // (the ticket intake) the connectors' inbound secrets alone.
        expect(JSON.stringify(resource)).toMatch(
          /:secret:rekey\/((temp|ddm|connector)\/\*|temp\/\$\{aws:PrincipalTag\/rekey:realm\}\/\*|connector\/\*\/inbound-\?{6})"/,
        );
      }
    }
    // The Deny on "*" stays: it holds even if a later grant is wider than the prefix.
    const touching = functionsWithStatements(stacks).filter(({ statements }) =>
      statements.some((s) => allows(s) && actionsOf(s).some((a) => a.startsWith('secretsmanager:'))),
    );
    expect(touching.length).toBeGreaterThan(0);
    for (const { name, statements } of touching) {
      const deny = statements.find(
        (s) =>
          s.Effect === 'Deny' &&
          s.Resource === '*' &&
          s.Condition === undefined &&
          ['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy'].every((a) =>
            actionsOf(s).includes(a),
          ),
      );
      expect(deny, name).toBeDefined();
    }
  });

  it("routes every row of the route table to its own function, through the route's integration", () => {
    const resources = api.toJSON().Resources as Record<string, Resource>;
    const routes = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    const keysOf = (route: (typeof ROUTES)[number]) =>
      routePaths(route).flatMap(({ path, methods }, index) =>
        (index === 0 && route.answersOtherMethods ? ['ANY'] : methods).map((method) => `${method} ${path}`),
      );
    const expectedKeys = ROUTES.flatMap(keysOf);
    // Alibaba's RPC-style spelling of CloudSSO's ResetUserPassword is a route of its own.
    expect(expectedKeys).toEqual(expect.arrayContaining(['GET /', 'POST /']));
    // Besides the table's routes, only the OpenAPI document's (tested below).
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(
      [...expectedKeys, `GET ${OPENAPI_PATH}`].sort(),
    );
    for (const route of ROUTES) {
      const fn = stacks.api.functions.get(route.operation);
      expect(fn, route.operation).toBeDefined();
      const functionId = logicalId(stacks.api, fn?.function ?? { node: {} });
      // The function is the operation's: named after it, describing its path and seed.
      const properties = resources[functionId]?.Properties as {
        Description: string;
        Environment: { Variables: Record<string, unknown> };
      };
      expect(properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe(pascal(route.operation));
      expect(properties.Description).toContain(`${route.path} (seed ${route.seed})`);
      for (const routeKey of keysOf(route)) {
        const [target] = routes
          .filter((r) => r.Properties.RouteKey === routeKey)
          .map((r) => r.Properties.Target);
        // Route → Target "integrations/{Ref}" → Integration → IntegrationUri → the function.
        const join = (target as { 'Fn::Join': [string, [string, { Ref: string }]] })['Fn::Join'];
        expect(join[1][0], routeKey).toBe('integrations/');
        const integration = resources[join[1][1].Ref];
        expect(integration?.Type, routeKey).toBe('AWS::ApiGatewayV2::Integration');
        expect(integration?.Properties.IntegrationType, routeKey).toBe('AWS_PROXY');
        expect(integration?.Properties.IntegrationUri, routeKey).toEqual({
          'Fn::GetAtt': [functionId, 'Arn'],
        });
      }
    }
  });

  it('serves the OpenAPI document at GET /openapi.json, unauthenticated, from a function of its own that touches nothing', () => {
    const resources = api.toJSON().Resources as Record<string, Resource>;
    const [route] = Object.values(resources).filter(
      (r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === `GET ${OPENAPI_PATH}`,
    );
    expect(route?.Properties.AuthorizationType).toBe('NONE');
    const target = route?.Properties.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
    const integration = resources[target['Fn::Join'][1][1].Ref];
    const functionId = logicalId(stacks.api, stacks.api.openApiFunction.function);
    expect(integration?.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::GetAtt': [functionId, 'Arn'] },
    });
    const fn = resources[functionId]?.Properties as {
      Description: string;
      Environment?: { Variables: object };
    };
    expect(fn.Description).toContain(OPENAPI_PATH);
    // No table, no secret, no key: its environment names none of them.
    expect(Object.keys(fn.Environment?.Variables ?? {}).filter((name) => name.startsWith('REKEY_'))).toEqual(
      [],
    );
  });
});

describe('the operations stack', () => {
  let ops: Template;
  let stacks: RekeyStacks;

  beforeAll(() => {
    const app = new App({
      outdir: mkdtempSync(join(tmpdir(), 'rekey-ops-')),
      context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
    });
    stacks = buildRekey(app);
    ops = Template.fromStack(stacks.operations);
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

  it("denies putting events in rekey's own names to everyone but rekey's functions (forged connector requests, results and audit records)", () => {
    const policies = Object.values(ops.findResources('AWS::Events::EventBusPolicy')) as Resource[];
    const statements = policies.map(
      (policy) =>
        policy.Properties.Statement as Statement & {
          Condition: Record<string, Record<string, unknown[]>>;
        },
    );
    const roleOf = (fn: { function: { role?: unknown } }) =>
      stacks.operations.resolve((fn.function.role as { roleArn: string }).roleArn);
    const intakeFunction = stacks.api.functions.get('ticket-intake');
    if (!intakeFunction) throw new Error('no ticket-intake function in the API stack');
    const intake = roleOf(intakeFunction);
    const denied = (pattern: string, key = 'events:source') =>
      statements.find((st) => st.Condition['ForAnyValue:StringLike']?.[key]?.includes(pattern));
    for (const st of statements) {
      expect(st).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'events:PutEvents' });
    }
    // The worker's results and the forwarder's audit records, and the intake's refusals.
    expect(denied('rekey')?.Condition.ArnNotEquals?.['aws:PrincipalArn']).toEqual([
      roleOf(stacks.operations.worker),
      roleOf(stacks.operations.auditForwarder),
      intake,
    ]);
    // Requests in a connector's name: the intake alone, which checked the connector's secret.
    expect(denied('rekey.connector.*')?.Condition.ArnNotEquals?.['aws:PrincipalArn']).toEqual([intake]);
    // Audit records, whatever their source: the forwarder alone (the others write log lines).
    expect(
      denied('PasswordAudit', 'events:detail-type')?.Condition.ArnNotEquals?.['aws:PrincipalArn'],
    ).toEqual([roleOf(stacks.operations.auditForwarder)]);
    // Results by their kind: a completed reset, the worker's alone; a refusal, the worker's
    // or the intake's (an unknown user). Neither the forwarder nor the intake can post a
    // made-up secret's ARN on a ticket.
    expect(
      denied('PasswordResetCompleted', 'events:detail-type')?.Condition.ArnNotEquals?.['aws:PrincipalArn'],
    ).toEqual([roleOf(stacks.operations.worker)]);
    expect(
      denied('PasswordResetFailed', 'events:detail-type')?.Condition.ArnNotEquals?.['aws:PrincipalArn'],
    ).toEqual([roleOf(stacks.operations.worker), intake]);
    expect(statements).toHaveLength(5);
  });

  it('gives the ticket queue a dead-letter queue, an alarm on its depth, and a partial-batch worker with capped concurrency', () => {
    ops.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
    });
    // The alarm watches the queue the ticket queue redrives to, not the ticket queue itself.
    const ticketsId = logicalId(stacks.operations, stacks.operations.queue);
    const deadLettersId = logicalId(stacks.operations, stacks.operations.deadLetterQueue);
    const tickets = ops.toJSON().Resources[ticketsId] as Resource;
    expect(tickets.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [deadLettersId, 'Arn'] },
      maxReceiveCount: 3,
    });
    const alarms = Object.values(
      ops.findResources('AWS::CloudWatch::Alarm', {
        Properties: { MetricName: 'ApproximateNumberOfMessagesVisible' },
      }),
    ) as Resource[];
    // This queue's, the ticket replies' dead-letter queue's (tested with the connectors) and
    // the audit forwarder's (tested with the audit trail).
    expect(alarms).toHaveLength(3);
    const ticketAlarms = alarms.filter((alarm) => JSON.stringify(alarm.Properties).includes(deadLettersId));
    expect(ticketAlarms).toHaveLength(1);
    expect(ticketAlarms[0]?.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      Threshold: 1,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLettersId, 'QueueName'] } }],
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

  it('lets only the request rule send to the ticket queue: not any principal allowed sqs:SendMessage, nor a redrive from the dead-letter queue', () => {
    const ticketsId = logicalId(stacks.operations, stacks.operations.queue);
    const policies = Object.values(ops.findResources('AWS::SQS::QueuePolicy')) as Resource[];
    const policy = policies.find((p) => JSON.stringify(p.Properties.Queues).includes(ticketsId));
    const document = policy?.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> };
    const statements = document?.Statement ?? [];
    const rules = Object.entries(ops.toJSON().Resources as Record<string, Resource>).filter(
      ([, r]) =>
        r.Type === 'AWS::Events::Rule' &&
        String(JSON.stringify(r.Properties.EventPattern)).includes('PasswordResetRequested'),
    );
    expect(rules).toHaveLength(1);
    const ruleArn = { 'Fn::GetAtt': [rules[0]?.[0], 'Arn'] };
    // The bus's own Allow, for that rule alone.
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      }),
    );
    // And a Deny for everyone else, whatever their own policies allow.
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sqs:SendMessage',
        Condition: { ArnNotEquals: { 'aws:SourceArn': ruleArn } },
      }),
    );
  });

  it("gives the ticket worker's role no action that reads a secret's value (GetSecretValue, by name or by wildcard)", () => {
    const resources = ops.toJSON().Resources as Record<string, Resource>;
    const workerId = logicalId(stacks.operations, stacks.operations.worker.function);
    const role = resources[workerId]?.Properties.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const statements = roleStatements(ops, role?.['Fn::GetAtt']?.[0] ?? '');
    const granted = statements.filter(allows);
    // Not vacuous: the worker does create and delete temporary secrets.
    expect(granted.flatMap(actionsOf)).toEqual(
      expect.arrayContaining(['secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret']),
    );
    /** Whether an IAM action pattern (`*`, `?` wildcards, any case) covers `action`. */
    const covers = (pattern: string, action: string) =>
      new RegExp(
        `^${pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
        'i',
      ).test(action);
    expect(covers('secretsmanager:Get*', 'secretsmanager:GetSecretValue')).toBe(true);
    expect(covers('secretsmanager:CreateSecret', 'secretsmanager:GetSecretValue')).toBe(false);
    for (const statement of granted) {
      expect(statement.NotAction, JSON.stringify(statement)).toBeUndefined();
      for (const action of actionsOf(statement)) {
        for (const read of ['secretsmanager:GetSecretValue', 'secretsmanager:BatchGetSecretValue']) {
          expect(covers(action, read), `${action} covers ${read}`).toBe(false);
        }
      }
    }
  });

  it('runs the sweeper every 15 minutes and lets it delete only under the temporary and DDM prefixes', () => {
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
    // Temporary secrets, and DDM administrator secrets a failed creation left behind.
    // (cdk.json's minimizePolicies may merge them into one statement with both resources.)
    expect([...new Set(secrets.flatMap(actionsOf))]).toEqual(['secretsmanager:DeleteSecret']);
    const prefixes = secrets.flatMap((s) =>
      [...JSON.stringify(s.Resource).matchAll(/:secret:(rekey\/\w+\/)\*/g)].map((m) => m[1]),
    );
    expect(prefixes.sort()).toEqual(['rekey/ddm/', 'rekey/temp/']);
  });
});
