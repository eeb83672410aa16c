/**
 * Who may read a temporary password: the TemporarySecretReaders managed policy, as
 * synthesized, evaluated against secrets exactly as issueTemporaryPassword names and tags
 * them. A small evaluator of IAM's rules for these statements (explicit deny wins, then an
 * allow, else deny; policy variables from the principal's tags; StringEquals, StringNotEquals
 * and Null conditions, whose semantics for a missing key are IAM's) answers each request.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueTemporaryPassword } from '#core/credentials.ts';
import { newRealm, newUser } from '#core/factories.ts';
import { buildRekey } from '#infra/rekey-app.ts';
import { TEMPORARY_SECRET_PREFIX } from '#infra/stacks/stateful-stack.ts';
import { fakeDeps } from '#test/support/fakes.ts';
import { CDK_CONTEXT } from './cdk-context.ts';

type Statement = {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
};
interface Secret {
  name: string;
  tags: Record<string, string>;
}
interface Request {
  action: string;
  secret: Secret;
  principalTags: Record<string, string>;
  /** The secret's region (a replica's): the stack's own by default. */
  region?: string;
  /** The request's own condition keys (`secretsmanager:BlockPublicPolicy`). */
  keys?: Record<string, string>;
}
type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

const ACCOUNT = { 'AWS::Partition': 'aws', 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '111122223333' };

/** A template value with its pseudo-parameters filled in (Fn::Join of strings and Refs only). */
function resolve(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  const ref = (value as { Ref?: keyof typeof ACCOUNT }).Ref;
  if (ref && ref in ACCOUNT) return ACCOUNT[ref];
  if (join) return join[1].map(resolve).join(join[0]);
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/** `${aws:PrincipalTag/k}` replaced; undefined when the principal has no such tag (the statement cannot apply). */
function substitute(text: string, request: Request): string | undefined {
  let missing = false;
  const out = text.replace(/\$\{aws:PrincipalTag\/([^}]+)\}/g, (_m, key: string) => {
    const value = request.principalTags[key];
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : out;
}

const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

/** The request's value of a condition key. */
function contextValue(key: string, request: Request): string | undefined {
  const resourceTag = /^(?:secretsmanager|aws):ResourceTag\/(.+)$/.exec(key)?.[1];
  if (resourceTag) return request.secret.tags[resourceTag];
  const principalTag = /^aws:PrincipalTag\/(.+)$/.exec(key)?.[1];
  if (principalTag) return request.principalTags[principalTag];
  if (key.startsWith('secretsmanager:')) return request.keys?.[key];
  throw new Error(`no value for condition key ${key}`);
}

function applies(statement: Statement, request: Request): boolean {
  const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
  if (!actions.some((a) => glob(a, request.action))) return false;
  // A secret's ARN: its name, then a hyphen and six random characters.
  const arn = `arn:aws:secretsmanager:${request.region ?? 'eu-west-1'}:111122223333:secret:${request.secret.name}-AbC123`;
  const resources = (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map(
    resolve,
  );
  if (!resources.some((r) => ((p) => p !== undefined && glob(p, arn))(substitute(r, request)))) return false;
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) {
      const values = (Array.isArray(expected) ? expected : [expected]).map((v) => substitute(v, request));
      if (values.some((v) => v === undefined)) return false;
      const actual = contextValue(key, request);
      const ok =
        operator === 'StringEquals'
          ? actual !== undefined && values.includes(actual)
          : operator === 'StringNotEquals'
            ? actual === undefined || !values.includes(actual)
            : operator === 'Null'
              ? (values[0] === 'true') === (actual === undefined)
              : operator === 'Bool'
                ? actual !== undefined && values.includes(actual)
                : (() => {
                    throw new Error(`operator ${operator} is not modelled`);
                  })();
      if (!ok) return false;
    }
  }
  return true;
}

function decide(statements: Statement[], request: Request): Decision {
  const applying = statements.filter((s) => applies(s, request));
  if (applying.some((s) => s.Effect === 'Deny')) return 'ExplicitDeny';
  return applying.some((s) => s.Effect === 'Allow') ? 'Allow' : 'ImplicitDeny';
}

/** What a help-desk role might also hold: every Secrets Manager action on every secret. */
const WIDER: Statement = { Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' };

let readers: Statement[];
let acmeSecret: Secret;
let globexSecret: Secret;
let acme2Secret: Secret;

/** A temporary password issued by the real use case, as the vault received it. */
async function issued(realmId: string): Promise<Secret> {
  const deps = fakeDeps();
  expect(deps.config.temporarySecretPrefix).toBe(TEMPORARY_SECRET_PREFIX);
  const realm = newRealm(realmId, `${realmId} corp`, { now: deps.clock.now() });
  await deps.directory.createRealm(realm);
  const user = newUser({ realmId, userId: `u-${realmId}`, username: `user-${realmId}` }, deps.clock.now());
  await deps.directory.createUser(user);
  const { secretId } = await issueTemporaryPassword(deps, user, realm, `req-${realmId}`);
  const secret = deps.vault.secrets.get(secretId);
  if (!secret) throw new Error('no secret stored');
  return { name: secret.name, tags: secret.tags };
}

beforeAll(async () => {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'rekey-readers-')),
    context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
  });
  const { stateful } = buildRekey(app);
  const policies = Object.values(
    Template.fromStack(stateful).findResources('AWS::IAM::ManagedPolicy'),
  ) as Array<{
    Properties: { PolicyDocument: { Statement: Statement[] } };
  }>;
  expect(policies).toHaveLength(1);
  readers = policies[0]?.Properties.PolicyDocument.Statement ?? [];
  [acmeSecret, globexSecret, acme2Secret] = await Promise.all([
    issued('acme'),
    issued('globex'),
    issued('acme2'),
  ]);
});

const get = (
  secret: Secret,
  principalTags: Record<string, string>,
  action = 'secretsmanager:GetSecretValue',
) => ({
  action,
  secret,
  principalTags,
});

describe('TemporarySecretReaders', () => {
  it('lets a reader tagged rekey:realm=acme read and describe the temporary passwords of realm acme', () => {
    expect(acmeSecret.name.startsWith(`${TEMPORARY_SECRET_PREFIX}acme/`)).toBe(true);
    for (const action of ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']) {
      expect(decide(readers, get(acmeSecret, { 'rekey:realm': 'acme' }, action)), action).toBe('Allow');
    }
  });

  it("refuses another realm's temporary password, even to a role that also allows every secret", () => {
    for (const secret of [globexSecret, acme2Secret]) {
      const request = get(secret, { 'rekey:realm': 'acme' });
      expect(decide(readers, request), secret.name).toBe('ExplicitDeny');
      expect(decide([...readers, WIDER], request), secret.name).toBe('ExplicitDeny');
      const describe = get(secret, { 'rekey:realm': 'acme' }, 'secretsmanager:DescribeSecret');
      expect(decide([...readers, WIDER], describe), secret.name).toBe('ExplicitDeny');
    }
  });

  it("refuses another realm's secret in every region (a replica) and its replication, even beside a wider policy", () => {
    for (const action of ['secretsmanager:GetSecretValue', 'secretsmanager:ReplicateSecretToRegions']) {
      const replica = { ...get(globexSecret, { 'rekey:realm': 'acme' }, action), region: 'us-west-2' };
      expect(decide([...readers, WIDER], replica), action).toBe('ExplicitDeny');
      const untagged = { ...get(globexSecret, {}, action), region: 'ap-south-1' };
      expect(decide([...readers, WIDER], untagged), action).toBe('ExplicitDeny');
    }
    // The reader's own realm is not denied in another region (the allow is the stack's region).
    const own = { ...get(acmeSecret, { 'rekey:realm': 'acme' }), region: 'us-west-2' };
    expect(decide([...readers, WIDER], own)).toBe('Allow');
  });

  it('refuses everything to a principal without the rekey:realm tag (or with a tag of another name)', () => {
    for (const principalTags of [{}, { 'rekey-realm': 'acme' }, { realm: 'acme' }]) {
      for (const secret of [acmeSecret, globexSecret]) {
        const request = get(secret, principalTags);
        expect(decide(readers, request), JSON.stringify(principalTags)).toBe('ExplicitDeny');
        expect(decide([...readers, WIDER], request), JSON.stringify(principalTags)).toBe('ExplicitDeny');
      }
    }
  });

  it("does not open a secret whose tag names the reader's realm but whose name is another realm's, nor the reverse", () => {
    const renamed = { name: globexSecret.name, tags: { ...globexSecret.tags, 'rekey:realm': 'acme' } };
    expect(decide(readers, get(renamed, { 'rekey:realm': 'acme' }))).not.toBe('Allow');
    const retagged = { name: acmeSecret.name, tags: { ...acmeSecret.tags, 'rekey:realm': 'globex' } };
    expect(decide(readers, get(retagged, { 'rekey:realm': 'acme' }))).toBe('ExplicitDeny');
    const untagged = { name: acmeSecret.name, tags: {} };
    expect(decide([...readers, WIDER], get(untagged, { 'rekey:realm': 'acme' }))).toBe('ExplicitDeny');
  });

  it('never lets a reader share, change or delete a temporary secret, even with a role that allows it', () => {
    // A resource policy that passes BlockPublicPolicy may still grant one principal of the
    // account (one without a realm tag) another realm's secret.
    const share = {
      ...get(globexSecret, { 'rekey:realm': 'acme' }, 'secretsmanager:PutResourcePolicy'),
      keys: { 'secretsmanager:BlockPublicPolicy': 'true' },
    };
    expect(decide([...readers, WIDER], share)).toBe('ExplicitDeny');
    for (const action of [
      'secretsmanager:DeleteResourcePolicy',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecret',
      'secretsmanager:DeleteSecret',
      'secretsmanager:RotateSecret',
    ]) {
      for (const secret of [acmeSecret, globexSecret]) {
        expect(decide([...readers, WIDER], get(secret, { 'rekey:realm': 'acme' }, action)), action).toBe(
          'ExplicitDeny',
        );
      }
    }
    // The control: the same wider role may still read its own realm's.
    expect(decide([...readers, WIDER], get(acmeSecret, { 'rekey:realm': 'acme' }))).toBe('Allow');
  });

  it('never lets a reader re-tag or untag a temporary secret, even with a role that allows it', () => {
    for (const action of ['secretsmanager:TagResource', 'secretsmanager:UntagResource']) {
      for (const secret of [acmeSecret, globexSecret]) {
        expect(decide([...readers, WIDER], get(secret, { 'rekey:realm': 'acme' }, action)), action).toBe(
          'ExplicitDeny',
        );
      }
    }
  });
});
