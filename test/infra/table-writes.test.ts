/**
 * Each function may write only the items it writes. Its PutItem/UpdateItem/DeleteItem grants
 * are conditioned on `dynamodb:LeadingKeys`; this test runs the real handlers (the local
 * gateway over the embedded backend, a recording middleware on each function's DynamoDB
 * client), collects the partition key of every write each one sends, and holds that against
 * its role in the synthesized templates, both ways: every write it sent is allowed, and every
 * partition-key pattern it is allowed was written (a pattern nobody uses is a grant too wide).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '#adapters/logger.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { newInstance } from '#core/factories.ts';
import type { TemporaryPasswordSecret } from '#core/model.ts';
import { createHandler as createSweeper } from '#functions/sweeper/handler.ts';
import { buildRekey } from '#infra/rekey-app.ts';
import { pascal } from '#infra/stacks/api-stack.ts';
import { interceptDynamoDb } from '#test/support/dynamodb.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';
import { createTestConnector, zendeskHeaders } from '#test/support/ticketing-systems.ts';
import { putTickets } from '#test/support/tickets.ts';
import { CDK_CONTEXT } from './cdk-context.ts';

type Statement = {
  Effect: string;
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};
type Write = { command: string; pk: string };

const READS = new Set(['GetItem', 'Query']);

/** Every write each function sent, by function ("RekeyApi/ChangePassword"). */
const writes = new Map<string, Write[]>();

/** The construct path of an operation's function, as the stacks name it. */
function functionOf(operation: string): string {
  if (operation === 'ticket-worker') return 'RekeyOperations/TicketWorker';
  if (operation === 'sweeper') return 'RekeyOperations/Sweeper';
  return `RekeyApi/${pascal(operation)}`;
}

/** Records the partition key of every call but a read that `runtime`'s DynamoDB client makes. */
function recording(operation: string, runtime: Runtime): Runtime {
  const name = functionOf(operation);
  interceptDynamoDb(runtime.dynamoDb, (command, args, next) => {
    if (!READS.has(command)) {
      const input = args as { Item?: { pk?: { S?: string } }; Key?: { pk?: { S?: string } } };
      const pk = input.Item?.pk?.S ?? input.Key?.pk?.S ?? `(no key: ${command})`;
      writes.set(name, [...(writes.get(name) ?? []), { command, pk }]);
    }
    return next();
  });
  return runtime;
}

/** IAM StringLike: `*` any run of characters, `?` any one. */
function stringLike(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}

/** Each function's table-write grants: per action, the LeadingKeys patterns (undefined: unconditioned). */
type Grants = Map<string, Array<{ actions: string[]; leadingKeys: string[] | undefined }>>;
let synthesized: Grants | undefined;
function writeGrants(): Grants {
  synthesized ??= synthesizeWriteGrants();
  return synthesized;
}
function synthesizeWriteGrants(): Grants {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'rekey-writes-')),
    context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
  });
  const stacks = buildRekey(app);
  const grants = new Map<string, Array<{ actions: string[]; leadingKeys: string[] | undefined }>>();
  for (const stack of [stacks.api, stacks.operations]) {
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy') as Record<
      string,
      { Properties: { PolicyDocument: { Statement: Statement[] } } }
    >;
    for (const [id, policy] of Object.entries(policies)) {
      const name = `${stack.stackName}/${id.replace(/RoleDefaultPolicy[0-9A-F]{8}$/, '')}`;
      const table = policy.Properties.PolicyDocument.Statement.filter((s) => s.Effect === 'Allow')
        .map((s) => ({
          s,
          actions: (Array.isArray(s.Action) ? s.Action : [s.Action]).filter((a) => a.startsWith('dynamodb:')),
        }))
        .filter(({ actions }) => actions.some((a) => !['dynamodb:GetItem', 'dynamodb:Query'].includes(a)))
        .map(({ s, actions }) => ({
          actions: actions.map((a) => a.replace(/^dynamodb:/, '')),
          leadingKeys: s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as
            | string[]
            | undefined,
        }));
      if (table.length > 0) grants.set(name, table);
    }
  }
  return grants;
}

let t: TestApi;
let token: string;

const generated = async (secretId: string) =>
  (JSON.parse(await t.runtime().deps.vault.read(secretId)) as TemporaryPasswordSecret).password;

beforeAll(async () => {
  t = await startTestApi({ customizeRuntime: (operation, runtime) => recording(operation, runtime) });
  token = await t.token();
  const bearer = { authorization: `Bearer ${token}` };
  const json = { 'content-type': 'application/json' };
  await t
    .runtime()
    .deps.directory.saveInstance(newInstance({ realmId: 'demo', instanceId: 'ddm-writes' }), undefined);
  writes.clear();
  const ok = async (res: Promise<{ status: number; text: string }>) => {
    const answered = await res;
    expect(answered.status, answered.text).toBe(200);
    return answered;
  };

  // OCI uiPassword, with a retry token (idempotency record), twice: the second replaces the
  // first secret (its index entry is deleted).
  for (const retry of ['writes-1', 'writes-2']) {
    await ok(
      t.request('POST', '/20160918/users/u-alice/uiPassword', {
        headers: { ...bearer, 'opc-retry-token': retry },
      }),
    );
  }
  // Huawei random-password and Alibaba ResetUserPassword, twice each, on u-bob.
  for (let i = 0; i < 2; i++) {
    await ok(
      t.request('GET', '/v2/demo/users/u-bob/random-password', { headers: { 'x-auth-token': token } }),
    );
  }
  let bobSecret = '';
  for (let i = 0; i < 2; i++) {
    const res = await ok(
      t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
        headers: { ...bearer, ...json },
        body: JSON.stringify({ DirectoryId: 'demo', UserId: 'u-bob', GenerateRandomPassword: true }),
      }),
    );
    bobSecret = (JSON.parse(res.text) as { NewPasswordSecretId: string }).NewPasswordSecretId;
  }
  // change-password: an unknown user (the ghost write), a wrong password (a counted failure),
  // and the right temporary password (new credential; the temporary secret and its entry go).
  const change = (fields: Record<string, string>) =>
    t.request('PUT', '/20160918/changepassword', { headers: json, body: JSON.stringify(fields) });
  expect(
    (
      await change({
        username: 'nobody-here',
        currentPassword: 'Wrong-Guess-123',
        newPassword: 'Fresh-Lantern-Pp93',
      })
    ).status,
  ).toBe(401);
  expect(
    (await change({ username: 'bob', currentPassword: 'Wrong-Guess-123', newPassword: 'Fresh-Lantern-Pp93' }))
      .status,
  ).toBe(401);
  await ok(
    change({
      username: 'bob',
      currentPassword: await generated(bobSecret),
      newPassword: 'Fresh-Lantern-Pp93',
    }),
  );
  // DDM: the administrator created (index entry written, then dropped once the instance names it).
  await ok(
    t.request('PUT', '/v3/demo/instances/ddm-writes/admin-user', {
      headers: { 'x-auth-token': token, ...json },
      body: JSON.stringify({ name: 'root', password: 'Ddm#Admin2024' }),
    }),
  );
  // Two tickets for the same user: the second replaces the first one's secret.
  await putTickets(t, [
    { ticketId: 'WRITES000001', operation: 'ResetRandomPassword', realmId: 'demo', userId: 'u-alice' },
  ]);
  await putTickets(t, [
    { ticketId: 'WRITES000002', operation: 'ResetRandomPassword', realmId: 'demo', userId: 'u-alice' },
  ]);
  // The second ticket's id again, with other fields: its reuse is answered once (a record of its own).
  await putTickets(t, [
    {
      ticketId: 'WRITES000002',
      operation: 'ResetRandomPassword',
      realmId: 'demo',
      userId: 'u-alice',
      notificationType: 'email',
    },
  ]);
  // The ticket intake: a signed request for a user the realm lacks (its refusal's record).
  const connector = await createTestConnector(
    t,
    { id: 'writes-zd', kind: 'zendesk', realm: 'demo', replyUrl: 'https://writes.zendesk.example' },
    mkdtempSync(join(tmpdir(), 'rekey-writes-')),
  );
  const intakeBody = JSON.stringify({
    ticketId: 'WRITES-3',
    operation: 'ResetRandomPassword',
    user: 'nobody',
  });
  const intake = await t.request('POST', `/tickets/${connector.connectorId}`, {
    headers: zendeskHeaders(connector.inboundSecret, intakeBody),
    body: intakeBody,
  });
  expect(intake.status, intake.text).toBe(202);
  await t.api.bus?.idle();
  // The sweeper, a month later: u-alice's TEMPORARY credential has expired (detached, its
  // secret and entry deleted).
  const sweeperRuntime = recording('sweeper', createRuntime('sweeper', { clients: t.api.clients }));
  const monthLater = new Date(Date.now() + 30 * 24 * 3600 * 1000);
  const report = await createSweeper({
    deps: { ...sweeperRuntime.deps, clock: { now: () => monthLater } },
    settings: {
      tableName: 'rekey',
      temporarySecretPrefix: 'rekey/temp/',
      databaseSecretPrefix: 'rekey/ddm/',
      graceSeconds: 900,
    },
    logger: createLogger('sweeper'),
  })({ id: 'scheduled' });
  expect(report.expiredCredentials).toBeGreaterThan(0);
  sweeperRuntime.dynamoDb.destroy();
}, 180_000);
afterAll(() => t?.close());

describe('table writes', () => {
  it('are allowed to each function only on the partition keys its code writes, and every key it may write is one it writes', () => {
    const grants = writeGrants();
    // Every function that writes was exercised, and every function that may write did.
    expect([...writes.keys()].sort()).toEqual([...grants.keys()].sort());
    for (const [name, sent] of writes) {
      const granted = grants.get(name) ?? [];
      for (const grant of granted) {
        expect(
          grant.leadingKeys,
          `${name}: ${grant.actions.join(', ')} without dynamodb:LeadingKeys`,
        ).toBeDefined();
      }
      for (const write of sent) {
        const allowed = granted.some(
          (g) =>
            g.actions.includes(write.command) && (g.leadingKeys ?? []).some((p) => stringLike(p, write.pk)),
        );
        expect(allowed, `${name} sent ${write.command} on ${write.pk}`).toBe(true);
      }
      const patterns = [...new Set(granted.flatMap((g) => g.leadingKeys ?? []))];
      for (const pattern of patterns) {
        expect(
          sent.some((w) => stringLike(pattern, w.pk)),
          `${name} may write ${pattern} but never did`,
        ).toBe(true);
      }
    }
  });

  it("lets change-password write user records only (its refusals' ghost `USER##no-such-user` among them) and the secrets index", () => {
    const sent = writes.get('RekeyApi/ChangePassword') ?? [];
    expect(sent).toContainEqual({ command: 'UpdateItem', pk: 'USER##no-such-user' });
    expect([...new Set(sent.map((w) => `${w.command} ${w.pk.replace(/#.*/, '#')}`))].sort()).toEqual([
      'DeleteItem TEMPSECRET',
      'PutItem USER#',
      'UpdateItem USER#',
    ]);
    // (In any order: cdk.json's minimizePolicies sorts a statement's actions.)
    expect(
      writeGrants()
        .get('RekeyApi/ChangePassword')
        ?.map((g) => ({ ...g, actions: [...g.actions].sort() })),
    ).toEqual([{ actions: ['DeleteItem', 'PutItem', 'UpdateItem'], leadingKeys: ['USER#*', 'TEMPSECRET'] }]);
  });
});
