/**
 * Faults at every step of every operation. Each operation's steps are the port calls of a
 * successful run (recorded, and compared with the matrix below, so a call added to the code
 * cannot go unfaulted); each step fails once, either before it reaches the backend or after
 * it landed. Steps that only run once something failed (compensations, the queue's retries)
 * are recorded the same way and faulted on top of the fault that provokes them.
 *
 * After each fault a sweep runs (the sweeper's use case, over the same embedded backend, with
 * a clock past its grace period) and one invariant checker judges the result: every user can
 * sign in with a password a secret or its owner holds, no secret is left that nothing refers
 * to, the caller saw a success that is true or a 5xx in its dialect (tickets: a result event
 * or a retried, finally dead-lettered message), and no password leaked to a response, a
 * result event or a log line.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import { createEventBridge, EventBridgeResultPublisher } from '#adapters/eventbridge-publisher.ts';
import type { LocalFileVault } from '#adapters/local-file-vault.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { newInstance, newUser } from '#core/factories.ts';
import type { TemporaryPasswordSecret } from '#core/model.ts';
import type { SecretVault } from '#core/ports.ts';
import { temporarySecretName } from '#core/temporary-secrets.ts';
import { type ResultPublisher, TICKET_MAX_RECEIVE_COUNT } from '#core/tickets.ts';
import {
  DEFAULT_SWEEPER_GRACE_SECONDS,
  sweepTemporarySecrets,
} from '#core/use-cases/sweep-temporary-secrets.ts';
import { createHandler as createTicketWorker } from '#functions/ticket-worker/handler.ts';
import { DEMO_REALM_ID } from '#infra/local/demo.ts';
import type { BusEvent } from '#infra/local/event-bus.ts';
import { LocalQueue } from '#infra/local/local-queue.ts';
import { capturingLogs } from '#test/support/capture-output.ts';
import { type ArmedFault, type FaultMode, FaultPlan, methodOf, type Step } from '#test/support/fault-plan.ts';
import { checkInvariants, type InstanceSubject, type UserSubject } from '#test/support/invariants.ts';
import { startTestApi, type TestApi, type TestResponse } from '#test/support/test-api.ts';

const TEMP_PREFIX = 'rekey/temp/';
const DDM_PREFIX = 'rekey/ddm/';
/** Each user starts with this temporary password, in a secret, as a previous reset leaves it. */
const PREVIOUS = 'Prev-Known-7kQ2-Pass';
/** An admin-given CloudSSO password: the seed's rules and the demo realm's `oci` policy. */
const GIVEN = 'Given#Pass-42xZ';
/** The new password of a change. */
const CHOSEN = 'Chosen-New-9vT4x';
const DDM_PREVIOUS = 'Ddm#Prev2024x';
const DDM_NEW = 'Ddm#Next2024y';
const MODES: readonly FaultMode[] = ['before', 'landed'];

type Dialect = 'oci' | 'huawei' | 'alibaba';

/** What one case acts on, and the passwords its owner or caller holds. */
interface Subject {
  userId?: string;
  username?: string;
  instanceId?: string;
  users: UserSubject[];
  instances: InstanceSubject[];
}

type Outcome =
  | { kind: 'http'; res: TestResponse }
  | { kind: 'ticket'; ticketId: string; results: BusEvent[]; deadLettered: boolean };

/** One row of the matrix: a step of a successful run, and what it is. */
type StepRow = readonly [Step, string];

/** Steps a run takes only after `after` failed (in order, right after it), each faulted on top. */
interface FollowUp {
  after: ArmedFault;
  steps: readonly Step[];
}

interface Scenario {
  name: string;
  /** Every port call of a successful run, in order. */
  steps: readonly StepRow[];
  followUps: readonly FollowUp[];
  prepare(): Promise<Subject>;
  run(subject: Subject): Promise<Outcome>;
  /** What the answer must be: a true success, or a 5xx in the dialect (tickets: see checkTicket). */
  check(outcome: Outcome, subject: Subject): Promise<void>;
}

let t: TestApi;
let store: Runtime;
let queue: LocalQueue;
let previousHash: string;
let serial = 0;
const plan = new FaultPlan();
/** Every port method any run of this file called, faults and retries included. */
const observed = new Set<string>();

const vault = () => t.api.backend?.vault as LocalFileVault;

/**
 * argon2id verification, remembered: a verification is deterministic, and most cases end
 * with the very credential every subject starts with (one hash of PREVIOUS), so the checker
 * need not pay ~14 ms for it each time.
 */
const verified = new Map<string, boolean>();
async function verify(hash: string, password: string): Promise<boolean> {
  const key = `${hash}\u0000${password}`;
  const known = verified.get(key);
  if (known !== undefined) return known;
  const result = await argon2idHasher.verify(hash, password);
  verified.set(key, result);
  return result;
}

/** Every password the functions stored in the vault, kept or not: none may leak. */
const generated = new Set<string>();

/** The vault, noting the password in each value written. */
function noting(inner: SecretVault): SecretVault {
  const note = (value: string) => {
    const { password } = JSON.parse(value) as { password?: unknown };
    if (typeof password === 'string') generated.add(password);
  };
  return {
    create: (secret) => {
      note(secret.value);
      return inner.create(secret);
    },
    read: (secretId) => inner.read(secretId),
    putValue: (secretId, value) => {
      note(value);
      return inner.putValue(secretId, value);
    },
    delete: (secretId) => inner.delete(secretId),
  };
}

/** The route's (or worker's) runtime with every port going through the plan. */
function throughPlan(runtime: Runtime): Runtime {
  return {
    ...runtime,
    dynamoDb: plan.wrapDynamoDb(runtime.dynamoDb),
    deps: {
      ...runtime.deps,
      directory: plan.wrap('directory', runtime.deps.directory),
      vault: plan.wrap('vault', noting(runtime.deps.vault)),
      notifier: plan.wrap('notifier', runtime.deps.notifier),
    },
  };
}

beforeAll(async () => {
  t = await startTestApi({ customizeRuntime: (_operation, runtime) => throughPlan(runtime) });
  store = createRuntime('faults-store', { clients: t.api.clients });
  previousHash = await argon2idHasher.hash(PREVIOUS);
  // The worker Lambda runs, over the same backend, behind a queue of its own: its publisher
  // (the real one, onto the local bus) is a port to fault like any other.
  const publisher = plan.wrap<ResultPublisher>(
    'publisher',
    new EventBridgeResultPublisher(createEventBridge(t.api.clients), 'rekey'),
  );
  queue = new LocalQueue({
    name: 'rekey-tickets-faults',
    worker: createTicketWorker(
      throughPlan(createRuntime('ticket-worker', { clients: t.api.clients, notifier: t.api.outbox })),
      publisher,
    ),
    maxReceiveCount: TICKET_MAX_RECEIVE_COUNT,
    batchSize: 10,
    timeoutMs: 60_000,
  });
}, 60_000);

afterAll(async () => {
  await queue?.idle();
  store?.dynamoDb.destroy();
  await t?.close();
});

// ---------------------------------------------------------------------------------------
// Subjects: what a previous reset leaves (index entry, secret, credential), in that order.

async function userWithTemporaryPassword(held: readonly string[] = []): Promise<Subject> {
  const n = ++serial;
  const userId = `u-f${n}`;
  const username = `faulty${n}`;
  const now = new Date();
  const expiresAt = new Date(now.getTime() + 7 * 24 * 3600 * 1000).toISOString();
  const name = temporarySecretName(TEMP_PREFIX, DEMO_REALM_ID, userId, 'seed');
  await store.deps.directory.trackSecret({
    name,
    realmId: DEMO_REALM_ID,
    userId,
    createdAt: now.toISOString(),
    expiresAt,
  });
  const value: TemporaryPasswordSecret = { userId, username, password: PREVIOUS, expiresAt };
  const { secretId } = await store.deps.vault.create({
    name,
    value: JSON.stringify(value),
    description: 'rekey temporary password',
    tags: {},
  });
  const user = newUser({
    realmId: DEMO_REALM_ID,
    userId,
    username,
    email: `f${n}@example.com`,
    phone: '+15550100042',
  });
  await store.deps.directory.createUser({
    ...user,
    credential: { hash: previousHash, kind: 'TEMPORARY', setAt: now.toISOString(), expiresAt, secretId },
  });
  return { userId, username, users: [{ userId, held: [PREVIOUS, ...held] }], instances: [] };
}

/** The DDM request of both DDM scenarios: administrator `root`, password DDM_NEW. */
async function putDdmAdmin(subject: Subject): Promise<Outcome> {
  return {
    kind: 'http',
    res: await t.request('PUT', `/v3/${DEMO_REALM_ID}/instances/${subject.instanceId}/admin-user`, {
      headers: { ...(await adminHeaders()), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'root', password: DDM_NEW }),
    }),
  };
}

async function databaseInstance(withAdmin: boolean): Promise<Subject> {
  const n = ++serial;
  const instanceId = `i-f${n}`;
  const instance = newInstance({ realmId: DEMO_REALM_ID, instanceId });
  await store.deps.directory.saveInstance(instance, undefined);
  if (withAdmin) {
    const { secretId } = await store.deps.vault.create({
      name: `${DDM_PREFIX}${DEMO_REALM_ID}/${instanceId}/admin/seed`,
      value: JSON.stringify({
        engine: 'mysql',
        host: instance.host,
        port: 3306,
        username: 'root',
        password: DDM_PREVIOUS,
        dbInstanceIdentifier: instanceId,
      }),
      description: 'rekey DDM administrator credential',
      tags: {},
    });
    await store.deps.directory.saveInstance(
      { ...instance, adminName: 'root', adminSecretId: secretId, version: 2 },
      1,
    );
  }
  return {
    instanceId,
    users: [],
    instances: [{ instanceId, held: withAdmin ? [DDM_PREVIOUS, DDM_NEW] : [DDM_NEW] }],
  };
}

const subjectUser = (subject: Subject) => subject.userId ?? expect.unreachable('the subject has no user');

// ---------------------------------------------------------------------------------------
// What the caller may see.

const ERROR_KEYS: Record<Dialect, string[]> = {
  oci: ['code', 'message'],
  huawei: ['error_code', 'error_msg'],
  alibaba: ['Code', 'Message', 'RequestId'],
};

/** A 200 (returned; the scenario checks it is true) or a 5xx in `dialect`'s error shape. */
function answered(outcome: Outcome, dialect: Dialect): TestResponse | undefined {
  if (outcome.kind !== 'http') return expect.unreachable('an HTTP scenario answered a ticket');
  const { res } = outcome;
  if (res.status === 200) return res;
  expect(res.status).toBeGreaterThanOrEqual(500);
  expect(res.status).toBeLessThan(600);
  expect(Object.keys(res.json ?? {}).sort()).toEqual(ERROR_KEYS[dialect]);
  if (dialect === 'oci') expect(res.headers.get('opc-request-id')).toBeTruthy();
  if (dialect === 'huawei') {
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.json.error_code).toMatch(/^(IAM|DDM)\.\d{4}$/);
  }
  if (dialect === 'alibaba') expect(res.json.RequestId).toBeTruthy();
  return undefined;
}

/** After a 200 that names a secret: that secret is the user's live credential's. */
async function holdsIssuedSecret(subject: Subject, secretId: unknown): Promise<void> {
  const user = await store.deps.directory.getUser(subjectUser(subject));
  expect(typeof secretId).toBe('string');
  expect(user?.credential?.secretId).toBe(secretId);
}

/** After a 200 that set a given password: it is the user's credential now. */
async function holdsPassword(subject: Subject, password: string, kind: string): Promise<void> {
  const credential = (await store.deps.directory.getUser(subjectUser(subject)))?.credential;
  expect(credential?.kind).toBe(kind);
  expect(credential?.secretId).toBeUndefined();
  expect(await verify(credential?.hash ?? '', password)).toBe(true);
}

/** After a 200 of the DDM route: the administrator's secret holds the new password. */
async function holdsAdminPassword(subject: Subject): Promise<void> {
  const instance = await store.deps.directory.getInstance(subject.instanceId ?? '');
  const value = JSON.parse(await vault().read(instance?.adminSecretId ?? '')) as { password: string };
  expect(instance?.adminName).toBe('root');
  expect(value.password === DDM_NEW).toBe(true);
}

/**
 * A ticket ends with one kind of result, every delivery answered alike: Completed (naming
 * the user's live secret), Failed (the reset happened, the notice did not: nothing to retry;
 * or every delivery failed and the dead-letter queue took it), or no result at all only when
 * the bus itself failed the last answer.
 */
async function checkTicket(outcome: Outcome, subject: Subject): Promise<void> {
  if (outcome.kind !== 'ticket') return expect.unreachable('a ticket scenario answered HTTP');
  const { results } = outcome;
  if (results.length === 0) {
    expect(outcome.deadLettered).toBe(true);
    return;
  }
  for (const result of results) {
    expect(result['detail-type']).toBe(results[0]?.['detail-type']);
    expect(result.detail).toEqual(results[0]?.detail);
  }
  const [first] = results;
  if (first?.['detail-type'] === 'PasswordResetCompleted') {
    await holdsIssuedSecret(subject, first.detail.passwordSecretId);
  } else if (outcome.deadLettered) {
    expect(first?.detail.code).toMatch(/^(Unavailable|Throttled)\.RetriesExhausted$/);
  } else {
    expect(first?.detail.code).toBe('Unavailable.NotificationFailed');
  }
}

// ---------------------------------------------------------------------------------------
// The operations.

const adminHeaders = async () => ({ authorization: `Bearer ${await t.token()}` });

/** The steps every generated reset takes: read, index, store, switch, then tidy the old secret. */
const ISSUE_STEPS: readonly StepRow[] = [
  ['directory.getUser#1', 'read the user'],
  ['directory.getRealm#1', 'read its realm'],
  ['directory.trackSecret#1', 'index write (before the secret exists)'],
  ['vault.create#1', 'create secret'],
  ['directory.saveUser#1', 'credential switch (conditional write)'],
  ['vault.delete#1', 'delete the replaced secret'],
  ['directory.untrackSecret#1', "drop the replaced secret's index entry"],
];

/**
 * A switch that failed: re-read to learn whether it landed; not there, fence the record (one
 * version on, unchanged, so the failed write can never land late), then give the new secret up.
 */
const SWITCH_COMPENSATION: readonly Step[] = [
  'directory.getUser#2',
  'directory.saveUser#2',
  'vault.delete#1',
  'directory.untrackSecret#1',
];
/** A switch that failed but landed: the re-read finds it, and the replaced secret is tidied as on success. */
const SWITCH_LANDED: readonly Step[] = ['directory.getUser#2', 'vault.delete#1', 'directory.untrackSecret#1'];

const ticketEvent = (detail: Record<string, unknown>) =>
  JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': 'PasswordResetRequested',
    source: 'ticketing.servicenow',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail,
  });

/** Puts a ticket on the worker's queue and waits until it is answered or dead-lettered. */
async function sendTicket(detail: Record<string, unknown>): Promise<Outcome> {
  const ticketId = `INC-F${++serial}`;
  queue.send(ticketEvent({ ticketId, realmId: DEMO_REALM_ID, ...detail }));
  await queue.idle();
  const results = (t.api.bus?.results() ?? []).filter((event) => event.detail.ticketId === ticketId);
  const deadLettered = queue
    .deadLetters()
    .some((letter) => (JSON.parse(letter.body) as BusEvent).detail.ticketId === ticketId);
  return { kind: 'ticket', ticketId, results, deadLettered };
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'OCI CreateOrResetUIPassword',
    steps: ISSUE_STEPS,
    followUps: [
      { after: { step: 'directory.saveUser#1', mode: 'before' }, steps: SWITCH_COMPENSATION },
      { after: { step: 'directory.saveUser#1', mode: 'landed' }, steps: SWITCH_LANDED },
    ],
    prepare: () => userWithTemporaryPassword(),
    run: async (subject) => ({
      kind: 'http',
      res: await t.request('POST', `/20160918/users/${subjectUser(subject)}/uiPassword`, {
        headers: await adminHeaders(),
      }),
    }),
    async check(outcome, subject) {
      const res = answered(outcome, 'oci');
      if (res) await holdsIssuedSecret(subject, res.json.passwordSecretId);
    },
  },
  {
    name: 'OCI CreateOrResetUIPassword with opc-retry-token',
    steps: [
      ['idempotency.PutItem#1', 'idempotency write: claim the retry token'],
      ...ISSUE_STEPS,
      ['idempotency.PutItem#2', 'idempotency write: store the response'],
    ],
    followUps: [
      { after: { step: 'vault.create#1', mode: 'before' }, steps: ['idempotency.DeleteItem#1'] },
      {
        after: { step: 'directory.saveUser#1', mode: 'before' },
        steps: [...SWITCH_COMPENSATION, 'idempotency.DeleteItem#1'],
      },
      // The caller is told of a failure: the claim is released (unless the result was stored).
      { after: { step: 'idempotency.PutItem#2', mode: 'before' }, steps: ['idempotency.DeleteItem#1'] },
      { after: { step: 'idempotency.PutItem#2', mode: 'landed' }, steps: ['idempotency.DeleteItem#1'] },
    ],
    prepare: () => userWithTemporaryPassword(),
    run: async (subject) => ({
      kind: 'http',
      res: await t.request('POST', `/20160918/users/${subjectUser(subject)}/uiPassword`, {
        headers: { ...(await adminHeaders()), 'opc-retry-token': `fault-${randomUUID()}` },
      }),
    }),
    async check(outcome, subject) {
      const res = answered(outcome, 'oci');
      if (res) await holdsIssuedSecret(subject, res.json.passwordSecretId);
    },
  },
  {
    name: 'Huawei ResetRandomPassword (notification_type=email,phone)',
    steps: [...ISSUE_STEPS, ['notifier.send#1', 'notify (e-mail)'], ['notifier.send#2', 'notify (SMS)']],
    followUps: [{ after: { step: 'directory.saveUser#1', mode: 'before' }, steps: SWITCH_COMPENSATION }],
    prepare: () => userWithTemporaryPassword(),
    run: async (subject) => ({
      kind: 'http',
      res: await t.request(
        'GET',
        `/v2/${DEMO_REALM_ID}/users/${subjectUser(subject)}/random-password?notification_type=email,phone`,
        { headers: { 'x-auth-token': await t.token() } },
      ),
    }),
    async check(outcome, subject) {
      const res = answered(outcome, 'huawei');
      if (res) await holdsIssuedSecret(subject, res.json.password_secret_id);
    },
  },
  {
    name: 'Alibaba ResetUserPassword (GenerateRandomPassword=true)',
    steps: ISSUE_STEPS,
    followUps: [{ after: { step: 'directory.saveUser#1', mode: 'before' }, steps: SWITCH_COMPENSATION }],
    prepare: () => userWithTemporaryPassword(),
    run: async (subject) => ({
      kind: 'http',
      res: await t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
        headers: { ...(await adminHeaders()), 'content-type': 'application/json' },
        body: JSON.stringify({
          DirectoryId: DEMO_REALM_ID,
          UserId: subjectUser(subject),
          GenerateRandomPassword: true,
          RequirePasswordResetForNextLogin: true,
        }),
      }),
    }),
    async check(outcome, subject) {
      const res = answered(outcome, 'alibaba');
      if (res) await holdsIssuedSecret(subject, res.json.NewPasswordSecretId);
    },
  },
  {
    name: 'Alibaba ResetUserPassword (given Password)',
    steps: [
      ['directory.getUser#1', 'read the user'],
      ['directory.getRealm#1', 'read its realm'],
      ['directory.saveUser#1', 'credential switch (conditional write)'],
      ['vault.delete#1', 'delete the replaced secret'],
      ['directory.untrackSecret#1', "drop the replaced secret's index entry"],
    ],
    followUps: [{ after: { step: 'directory.saveUser#1', mode: 'before' }, steps: ['directory.getUser#2'] }],
    prepare: () => userWithTemporaryPassword([GIVEN]),
    run: async (subject) => ({
      kind: 'http',
      res: await t.request('POST', '/cloudsso/2021-05-15/ResetUserPassword', {
        headers: { ...(await adminHeaders()), 'content-type': 'application/json' },
        body: JSON.stringify({ DirectoryId: DEMO_REALM_ID, UserId: subjectUser(subject), Password: GIVEN }),
      }),
    }),
    async check(outcome, subject) {
      const res = answered(outcome, 'alibaba');
      if (res) await holdsPassword(subject, GIVEN, 'PERMANENT');
    },
  },
  {
    name: 'OCI UpdatePassword (change-password)',
    steps: [
      ['directory.findUsersByUsername#1', 'find the user by name'],
      ['directory.getRealm#1', 'read its realm'],
      ['directory.countFailure#1', 'reserve the attempt (count the guess before checking it)'],
      ['directory.saveUser#1', 'change-password save (conditional write)'],
      ['vault.delete#1', 'change-password delete secret (the temporary one it replaces)'],
      ['directory.untrackSecret#1', "drop that secret's index entry"],
      ['notifier.send#1', 'notify the change (e-mail)'],
    ],
    // A failed switch re-reads the user, then gives the right password's attempt back.
    followUps: [
      {
        after: { step: 'directory.saveUser#1', mode: 'before' },
        steps: ['directory.getUser#1', 'directory.saveUser#2'],
      },
    ],
    prepare: () => userWithTemporaryPassword([CHOSEN]),
    run: async (subject) => ({
      kind: 'http',
      res: await t.request('PUT', '/20160918/changepassword', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: subject.username, currentPassword: PREVIOUS, newPassword: CHOSEN }),
      }),
    }),
    async check(outcome, subject) {
      const res = answered(outcome, 'oci');
      if (res) await holdsPassword(subject, CHOSEN, 'PERMANENT');
    },
  },
  {
    name: 'OCI UpdatePassword (change-password, with tenancy)',
    steps: [
      ['directory.findRealm#1', 'find the tenancy by name'],
      ['directory.findUsersByUsername#1', 'find the user by name'],
      ['directory.countFailure#1', 'reserve the attempt (count the guess before checking it)'],
      ['directory.saveUser#1', 'change-password save (conditional write)'],
      ['vault.delete#1', 'change-password delete secret (the temporary one it replaces)'],
      ['directory.untrackSecret#1', "drop that secret's index entry"],
      ['notifier.send#1', 'notify the change (e-mail)'],
    ],
    followUps: [],
    prepare: () => userWithTemporaryPassword([CHOSEN]),
    run: async (subject) => ({
      kind: 'http',
      res: await t.request('PUT', '/20160918/changepassword', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: subject.username,
          currentPassword: PREVIOUS,
          newPassword: CHOSEN,
          tenancy: 'democorp',
        }),
      }),
    }),
    async check(outcome, subject) {
      const res = answered(outcome, 'oci');
      if (res) await holdsPassword(subject, CHOSEN, 'PERMANENT');
    },
  },
  {
    name: 'Huawei DDM admin-user (first call: create)',
    steps: [
      // Issue 13: the realm's blocklist switch and context words judge the chosen password.
      ['directory.getRealm#1', 'read its realm'],
      ['directory.getInstance#1', 'read the instance'],
      ['directory.trackSecret#1', "index the secret's name"],
      ['vault.create#1', 'DDM create secret'],
      ['directory.saveInstance#1', 'record the administrator (conditional write)'],
      ['directory.untrackSecret#1', 'drop the index entry'],
    ],
    followUps: [
      {
        after: { step: 'vault.create#1', mode: 'landed' },
        steps: ['vault.delete#1', 'directory.untrackSecret#1'],
      },
      {
        after: { step: 'directory.saveInstance#1', mode: 'before' },
        // Re-read, fence the instance (one version on, unchanged), then give the secret up.
        steps: [
          'directory.getInstance#2',
          'directory.saveInstance#2',
          'vault.delete#1',
          'directory.untrackSecret#1',
        ],
      },
    ],
    prepare: () => databaseInstance(false),
    run: putDdmAdmin,
    async check(outcome, subject) {
      if (answered(outcome, 'huawei')) await holdsAdminPassword(subject);
    },
  },
  {
    name: 'Huawei DDM admin-user (later call: new password)',
    steps: [
      // Issue 13: the realm's blocklist switch and context words judge the chosen password.
      ['directory.getRealm#1', 'read its realm'],
      ['directory.getInstance#1', 'read the instance'],
      ['vault.read#1', "read the administrator's secret"],
      ['vault.putValue#1', 'DDM put value'],
    ],
    followUps: [],
    prepare: () => databaseInstance(true),
    run: putDdmAdmin,
    async check(outcome, subject) {
      if (answered(outcome, 'huawei')) await holdsAdminPassword(subject);
    },
  },
  {
    name: 'Ticket CreateOrResetUIPassword (notificationType=email)',
    steps: [
      ['idempotency.PutItem#1', 'idempotency write: claim the ticket'],
      // One user load, and the password notified from memory: no vault.read.
      ...ISSUE_STEPS,
      ['notifier.send#1', 'notify (e-mail)'],
      ['idempotency.PutItem#2', 'idempotency write: store the result'],
      ['publisher.publish#1', 'ticket worker: publish the result'],
    ],
    followUps: [],
    prepare: () => userWithTemporaryPassword(),
    run: (subject) =>
      sendTicket({
        operation: 'CreateOrResetUIPassword',
        userId: subjectUser(subject),
        notificationType: 'email',
      }),
    check: checkTicket,
  },
  {
    name: 'Ticket ResetRandomPassword (notificationType=email)',
    steps: [
      ['idempotency.PutItem#1', 'idempotency write: claim the ticket'],
      ...ISSUE_STEPS,
      ['notifier.send#1', 'notify (e-mail)'],
      ['idempotency.PutItem#2', 'idempotency write: store the result'],
      ['publisher.publish#1', 'ticket worker: publish the result'],
    ],
    followUps: [],
    prepare: () => userWithTemporaryPassword(),
    run: (subject) =>
      sendTicket({
        operation: 'ResetRandomPassword',
        userId: subjectUser(subject),
        notificationType: 'email',
      }),
    check: checkTicket,
  },
  {
    name: 'Ticket ResetUserPassword',
    steps: [
      ['idempotency.PutItem#1', 'idempotency write: claim the ticket'],
      ...ISSUE_STEPS,
      ['idempotency.PutItem#2', 'idempotency write: store the result'],
      ['publisher.publish#1', 'ticket worker: publish the result'],
    ],
    followUps: [
      // The queue delivers again: the claim meets the stored result, which is published again.
      {
        after: { step: 'publisher.publish#1', mode: 'before' },
        steps: ['idempotency.PutItem#3', 'idempotency.GetItem#1', 'publisher.publish#2'],
      },
      // The work failed: the claim is released, so the next delivery runs again.
      { after: { step: 'vault.create#1', mode: 'before' }, steps: ['idempotency.DeleteItem#1'] },
      // The claim landed unseen: the next delivery finds it in progress.
      {
        after: { step: 'idempotency.PutItem#1', mode: 'landed' },
        steps: ['idempotency.PutItem#2', 'idempotency.GetItem#1'],
      },
    ],
    prepare: () => userWithTemporaryPassword(),
    run: (subject) =>
      sendTicket({
        operation: 'ResetUserPassword',
        userId: subjectUser(subject),
        requirePasswordResetForNextLogin: true,
      }),
    check: checkTicket,
  },
];

// ---------------------------------------------------------------------------------------
// One case: prepare, run with the faults armed, sweep, judge, tidy.

/** Every password this subject's case involves: given ones, and whatever its secrets hold. */
async function passwordsOf(subject: Subject): Promise<string[]> {
  const passwords = new Set<string>([PREVIOUS, GIVEN, CHOSEN, DDM_PREVIOUS, DDM_NEW]);
  const prefixes = [
    ...(subject.userId ? [`${TEMP_PREFIX}${DEMO_REALM_ID}/${subject.userId}/`] : []),
    ...(subject.instanceId ? [`${DDM_PREFIX}${DEMO_REALM_ID}/${subject.instanceId}/`] : []),
  ];
  for (const prefix of prefixes) {
    for (const secret of vault().list(prefix)) {
      const { password } = JSON.parse(secret.value) as { password?: unknown };
      if (typeof password === 'string') passwords.add(password);
    }
  }
  for (const password of generated) passwords.add(password);
  return [...passwords];
}

function expectNoPassword(text: string, passwords: readonly string[], where: string): void {
  for (const password of passwords) {
    expect(text.includes(password), `a password in ${where}`).toBe(false);
    expect(text.includes(JSON.stringify(password).slice(1, -1)), `a password in ${where}`).toBe(false);
  }
}

/** Runs the scenario once with `faults` armed; returns its outcome, its logs and what the plan saw. */
async function runOnce(scenario: Scenario, subject: Subject, faults: readonly ArmedFault[]) {
  plan.start(faults);
  try {
    const { result: outcome, logs } = await capturingLogs(() => scenario.run(subject));
    return { outcome, logs, ...seen() };
  } finally {
    // A run that threw still ends the plan's run (stopping twice is harmless).
    seen();
  }
}

/** Ends the plan's run, noting every method it called. */
function seen(): { calls: Step[]; fired: Step[] } {
  const run = plan.stop();
  for (const call of run.calls) observed.add(methodOf(call));
  return run;
}

/** Sweeps as the scheduled sweeper would once the grace period is over. */
async function sweepPastGrace(): Promise<void> {
  const later = { now: () => new Date(Date.now() + (DEFAULT_SWEEPER_GRACE_SECONDS + 60) * 1000) };
  const report = await sweepTemporarySecrets(
    { directory: store.deps.directory, vault: store.deps.vault, clock: later },
    {
      temporarySecretPrefix: TEMP_PREFIX,
      databaseSecretPrefix: DDM_PREFIX,
      graceSeconds: DEFAULT_SWEEPER_GRACE_SECONDS,
    },
  );
  expect(report.errors).toEqual([]);
}

/**
 * Removes the subject's secrets and index entries, so later sweeps stay small. Its user may
 * still name a removed secret: the checks only ever look at the subject of their own case.
 */
async function tidy(subject: Subject): Promise<void> {
  for (const secret of vault().list(`${TEMP_PREFIX}${DEMO_REALM_ID}/${subject.userId ?? '-'}/`)) {
    vault().remove(secret.arn);
    await store.deps.directory.untrackSecret(secret.name);
  }
  for (const secret of vault().list(`${DDM_PREFIX}${DEMO_REALM_ID}/${subject.instanceId ?? '-'}/`)) {
    vault().remove(secret.arn);
    await store.deps.directory.untrackSecret(secret.name);
  }
}

/** How each case ended, by scenario: printed once, for the record. */
const endings = new Map<string, Record<string, number>>();

function noteEnding(scenario: Scenario, outcome: Outcome): void {
  const ending =
    outcome.kind === 'http'
      ? String(outcome.res.status)
      : (outcome.results[0]?.['detail-type'] ?? (outcome.deadLettered ? 'dead-lettered' : 'none'));
  const tally = endings.get(scenario.name) ?? {};
  tally[ending] = (tally[ending] ?? 0) + 1;
  endings.set(scenario.name, tally);
}

/** The whole judgement of one faulted run. */
async function runCase(scenario: Scenario, faults: readonly ArmedFault[]): Promise<void> {
  const subject = await scenario.prepare();
  try {
    const { outcome, logs, fired } = await runOnce(scenario, subject, faults);
    noteEnding(scenario, outcome);
    // A fault that never fired would make the case prove nothing.
    expect(fired).toEqual(faults.map((fault) => fault.step));
    await sweepPastGrace();

    await scenario.check(outcome, subject);
    const report = await checkInvariants(
      {
        directory: store.deps.directory,
        vault: vault(),
        hasher: { verify },
        temporarySecretPrefix: TEMP_PREFIX,
        databaseSecretPrefix: DDM_PREFIX,
      },
      subject,
    );
    expect(report.violations).toEqual([]);
    // DDM secrets too: the sweeper deletes an administrator secret its request left behind.
    expect(report.ddmOrphans).toEqual([]);

    const passwords = await passwordsOf(subject);
    const answer = outcome.kind === 'http' ? outcome.res.text : JSON.stringify(outcome.results);
    expectNoPassword(answer, passwords, outcome.kind === 'http' ? 'the response' : 'a result event');
    // Every run logs (a success, a warning, an error): the check below is never vacuous.
    expect(logs).not.toBe('');
    expectNoPassword(logs, passwords, 'a log line');
  } finally {
    await tidy(subject);
  }
}

/** The double faults that left a DDM secret behind (see runCase). */

interface Case {
  label: string;
  faults: ArmedFault[];
}

function casesOf(scenario: Scenario): Case[] {
  const what = new Map<Step, string>(scenario.steps);
  const first = scenario.steps.flatMap(([step, description]) =>
    MODES.map((mode) => ({ label: `${step} (${description}) fails ${mode}`, faults: [{ step, mode }] })),
  );
  const second = scenario.followUps.flatMap(({ after, steps }) =>
    steps.flatMap((step) =>
      MODES.map((mode) => ({
        label: `${after.step} (${what.get(after.step)}) fails ${after.mode}, then ${step} fails ${mode}`,
        faults: [after, { step, mode }],
      })),
    ),
  );
  return [...first, ...second];
}

const ALL_CASES = SCENARIOS.flatMap((scenario) => casesOf(scenario).map((c) => ({ scenario, ...c })));

describe.each(SCENARIOS)('$name under faults', (scenario) => {
  it('calls exactly the steps of its fault matrix when nothing fails, and succeeds', async () => {
    const subject = await scenario.prepare();
    try {
      const { outcome, calls } = await runOnce(scenario, subject, []);
      expect(calls).toEqual(scenario.steps.map(([step]) => step));
      if (outcome.kind === 'http') expect(outcome.res.status).toBe(200);
      else expect(outcome.results.map((e) => e['detail-type'])).toEqual(['PasswordResetCompleted']);
      await scenario.check(outcome, subject);
    } finally {
      await tidy(subject);
    }
  });

  if (scenario.followUps.length > 0) {
    it.each(scenario.followUps.map((f): [string, FollowUp] => [`${f.after.step} fails ${f.after.mode}`, f]))(
      'calls the declared follow-up steps once %s',
      async (_label, { after, steps }) => {
        const subject = await scenario.prepare();
        try {
          const { calls } = await runOnce(scenario, subject, [after]);
          const at = calls.indexOf(after.step);
          expect(at).toBeGreaterThanOrEqual(0);
          expect(calls.slice(at + 1, at + 1 + steps.length)).toEqual(steps);
        } finally {
          await tidy(subject);
        }
      },
    );
  }

  it.each(casesOf(scenario).map((c): [string, ArmedFault[]] => [c.label, c.faults]))(
    'when %s: every user still signs in, no orphan is left, the caller was told',
    async (_label, faults) => {
      await runCase(scenario, faults);
    },
  );
});

describe('retrying after a fault', () => {
  const oci = SCENARIOS.find(
    (s) => s.name === 'OCI CreateOrResetUIPassword with opc-retry-token',
  ) as Scenario;
  const ticket = SCENARIOS.find((s) => s.name === 'Ticket ResetUserPassword') as Scenario;

  /**
   * Sends the same reset twice with one opc-retry-token, the first time with `faults` armed;
   * `judge` sees both answers, the retry's port calls, and whether the retry's secret is live.
   */
  async function resetTwice(
    faults: ArmedFault[],
    judge: (run: { first: TestResponse; retry: TestResponse; calls: Step[]; live: boolean }) => void,
  ): Promise<void> {
    const subject = await oci.prepare();
    const headers = { ...(await adminHeaders()), 'opc-retry-token': `retry-${randomUUID()}` };
    const send = () => t.request('POST', `/20160918/users/${subjectUser(subject)}/uiPassword`, { headers });
    try {
      plan.start(faults);
      const first = await send();
      expect(seen().fired).toEqual(faults.map((f) => f.step));
      plan.start();
      const retry = await send();
      const { calls } = seen();
      const user = await store.deps.directory.getUser(subjectUser(subject));
      judge({ first, retry, calls, live: user?.credential?.secretId === retry.json?.passwordSecretId });
    } finally {
      await tidy(subject);
    }
  }

  it('runs the reset again on a retry when its response could not be stored, instead of a 409 "in progress"', async () => {
    await resetTwice([{ step: 'idempotency.PutItem#2', mode: 'before' }], ({ first, retry, calls, live }) => {
      expect(first.status).toBe(500);
      expect(retry.status).toBe(200);
      expect(calls).toContain('vault.create#1');
      expect(live).toBe(true);
    });
  });

  it('answers a retry with the stored response when it was stored after all, and resets nothing', async () => {
    await resetTwice([{ step: 'idempotency.PutItem#2', mode: 'landed' }], ({ first, retry, calls, live }) => {
      expect(first.status).toBe(500);
      expect(retry.status).toBe(200);
      expect(calls).not.toContain('vault.create#1');
      expect(live).toBe(true);
    });
  });

  it('answers a ticket whose result could not be stored, on its next delivery, instead of dead-lettering it', async () => {
    const subject = await ticket.prepare();
    try {
      const { outcome } = await runOnce(ticket, subject, [{ step: 'idempotency.PutItem#2', mode: 'before' }]);
      if (outcome.kind !== 'ticket') return expect.unreachable('a ticket scenario answered HTTP');
      expect(outcome.deadLettered).toBe(false);
      expect(outcome.results.map((e) => e['detail-type'])).toEqual(['PasswordResetCompleted']);
      await holdsIssuedSecret(subject, outcome.results[0]?.detail.passwordSecretId);
    } finally {
      await tidy(subject);
    }
  });
});

describe('the fault matrix', () => {
  it('faults every port method that any run called, compensations and retries included', async () => {
    // The runs above fed `observed`; a successful run of each operation feeds it here too,
    // so the check holds even when this test runs alone.
    for (const scenario of SCENARIOS) {
      const subject = await scenario.prepare();
      try {
        await runOnce(scenario, subject, []);
      } finally {
        await tidy(subject);
      }
    }
    const faulted = new Set(ALL_CASES.flatMap((c) => c.faults.map((fault) => methodOf(fault.step))));
    expect([...observed].filter((method) => !faulted.has(method)).sort()).toEqual([]);
    // Every kind of port was seen: a wrapper that silently stopped recording would show here.
    expect(new Set([...observed].map((method) => method.split('.')[0]))).toEqual(
      new Set(['directory', 'idempotency', 'notifier', 'publisher', 'vault']),
    );
    console.info('endings', Object.fromEntries(endings));
    console.info(
      `fault matrix: ${SCENARIOS.length} operations, ${SCENARIOS.reduce((n, s) => n + s.steps.length, 0)} steps × ${MODES.length} modes + ${SCENARIOS.reduce((n, s) => n + s.followUps.reduce((m, f) => m + f.steps.length, 0), 0)} follow-up steps × ${MODES.length} = ${ALL_CASES.length} cases`,
    );
  });
});
