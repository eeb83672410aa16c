/**
 * Ticketing events end to end: events put with the SDK on the local bus, the rule, the
 * queue, the same worker handler Lambda runs over the embedded backend, and the result
 * events it puts back (and the events log). Also `rekey event send` through the CLI's main().
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argon2idHasher } from '#adapters/argon2-hasher.ts';
import type { Runtime } from '#adapters/runtime.ts';
import { main } from '#cli/rekey.ts';
import { UnavailableError } from '#core/errors.ts';
import { newUser } from '#core/factories.ts';
import type { TemporaryPasswordSecret } from '#core/model.ts';
import type { SecretVault } from '#core/ports.ts';
import { passwordResetCompleted, passwordResetFailed } from '#functions/ticket-worker/result-events.ts';
import { type BusEvent, deadLetterLogPath } from '#infra/local/event-bus.ts';
import { capturingLogs } from '#test/support/capture-output.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';
import { putTickets } from '#test/support/tickets.ts';

/** Asserts `text` holds `password` neither as is nor JSON-escaped. */
function expectNoPassword(text: string, password: string): void {
  expect(password.length).toBeGreaterThan(0);
  expect(text).not.toContain(password);
  expect(text).not.toContain(JSON.stringify(password).slice(1, -1));
}

let ticketNumber = 0;
const nextTicketId = () => `INC${String(++ticketNumber).padStart(7, '0')}`;

const bus = (t: TestApi) => t.api.bus ?? expect.unreachable('the local API has a bus');
const resultsFor = (t: TestApi, ticketId: string) =>
  bus(t)
    .results()
    .filter((event) => event.detail.ticketId === ticketId);

/** What a ticket may have changed: the user record, the temporary secrets, the outbox. */
async function snapshot(t: TestApi, userId: string) {
  return {
    user: await t.getUser(userId),
    secrets: t.api.backend?.vault.list('rekey/temp/').map((s) => s.arn),
    outbox: t.api.outbox.read().length,
  };
}

describe('ticketing events on the local bus', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi();
    for (let i = 1; i <= 8; i++) {
      await t
        .runtime()
        .deps.directory.createUser(newUser({ realmId: 'demo', userId: `u-t${i}`, username: `ticketee${i}` }));
    }
  });
  afterAll(() => t.close());

  it.each([
    ['CreateOrResetUIPassword', 'u-alice', { notificationType: 'email' }, 'TEMPORARY'],
    ['ResetRandomPassword', 'u-alice', { notificationType: 'email,phone' }, 'TEMPORARY'],
    ['ResetUserPassword', 'u-bob', { requirePasswordResetForNextLogin: true }, 'TEMPORARY'],
    ['ResetUserPassword', 'u-bob', {}, 'PERMANENT'],
  ])(
    'answers a %s ticket with the secret of the new password, which no event or log line holds',
    async (operation, userId, extra, kind) => {
      const ticketId = nextTicketId();
      const sentBefore = t.api.outbox.read().length;
      const { logs } = await capturingLogs(() =>
        putTickets(t, [{ ticketId, operation, realmId: 'demo', userId, ...extra }]),
      );

      const [result, ...others] = resultsFor(t, ticketId);
      expect(others).toEqual([]);
      expect(result).toMatchObject({ source: 'rekey', 'detail-type': 'PasswordResetCompleted' });
      const completed = passwordResetCompleted.parse(result?.detail);
      expect(completed).toMatchObject({ ticketId, operation, userId });
      const secret = JSON.parse(
        await t.runtime().deps.vault.read(completed.passwordSecretId),
      ) as TemporaryPasswordSecret;
      expect(secret.expiresAt).toBe(completed.expiresAt);
      const user = await t.getUser(userId);
      expect(user?.credential).toMatchObject({ kind, secretId: completed.passwordSecretId });
      expect(await argon2idHasher.verify(user?.credential?.hash ?? '', secret.password)).toBe(true);

      const channels = 'notificationType' in extra ? String(extra.notificationType).split(',') : [];
      const sent = t.api.outbox.read().slice(sentBefore);
      expect(sent.map((n) => n.channel)).toEqual(channels);
      for (const notification of sent) expect(notification.text).toContain(secret.password);
      expect(logs).toContain('ticket answered');
      expectNoPassword(logs, secret.password);
      expectNoPassword(JSON.stringify(bus(t).results()), secret.password);
      expectNoPassword(readFileSync(bus(t).eventsLog, 'utf8'), secret.password);
    },
  );

  it('resets a ticket sent twice once, keeps one secret, and answers the repeat with the same result, marked', async () => {
    const ticketId = nextTicketId();
    const detail = { ticketId, operation: 'ResetRandomPassword', realmId: 'demo', userId: 'u-t1' };
    const before = await snapshot(t, 'u-t1');
    await putTickets(t, [detail]);
    // A second request for the ticket (another bus event): the first result again, `repeated`.
    const { logs } = await capturingLogs(() => putTickets(t, [detail]));

    const results = resultsFor(t, ticketId);
    expect(results).toHaveLength(2);
    expect(results[1]?.detail).toEqual({ ...results[0]?.detail, repeated: true });
    expect(logs).toContain('ticket answered again, as a repeat: no note on the ticket');
    const after = await snapshot(t, 'u-t1');
    expect(after.user?.version).toBe((before.user?.version ?? 0) + 1);
    expect(after.secrets?.filter((arn) => !before.secrets?.includes(arn))).toEqual([
      passwordResetCompleted.parse(results[0]?.detail).passwordSecretId,
    ]);
  });

  it('resets a ticket sent twice in one batch once, and answers both, the second as a repeat', async () => {
    const ticketId = nextTicketId();
    const detail = { ticketId, operation: 'ResetUserPassword', realmId: 'demo', userId: 'u-t2' };
    const before = await snapshot(t, 'u-t2');
    await putTickets(t, [detail, detail]);

    const results = resultsFor(t, ticketId);
    expect(results.map((e) => [e['detail-type'], e.detail.repeated])).toEqual([
      ['PasswordResetCompleted', undefined],
      ['PasswordResetCompleted', true],
    ]);
    const after = await snapshot(t, 'u-t2');
    expect(after.user?.version).toBe((before.user?.version ?? 0) + 1);
    expect(after.secrets).toHaveLength((before.secrets?.length ?? 0) + 1);
  });

  it.each(['password', 'Password', 'newPassword'])(
    'answers a ticket carrying a %s field with PasswordResetFailed and changes nothing',
    async (field) => {
      const ticketId = nextTicketId();
      const before = await snapshot(t, 'u-alice');
      const detail = { ticketId, operation: 'ResetUserPassword', realmId: 'demo', userId: 'u-alice' };
      const { logs } = await capturingLogs(() => putTickets(t, [{ ...detail, [field]: 'Ticket-Chosen-9!' }]));

      const [result] = resultsFor(t, ticketId);
      expect(result?.['detail-type']).toBe('PasswordResetFailed');
      expect(passwordResetFailed.parse(result?.detail)).toMatchObject({ code: 'InvalidParameter.Password' });
      expect(await snapshot(t, 'u-alice')).toEqual(before);
      expectNoPassword(logs, 'Ticket-Chosen-9!');
      expectNoPassword(readFileSync(bus(t).eventsLog, 'utf8'), 'Ticket-Chosen-9!');
    },
  );

  it('answers the 8 tickets of a batch of 10 and dead-letters the 2 poison messages after 3 receives', async () => {
    const tickets = Array.from({ length: 8 }, (_, i) => ({
      ticketId: nextTicketId(),
      operation: 'ResetRandomPassword',
      realmId: 'demo',
      userId: `u-t${i + 1}`,
    }));
    const deadBefore = bus(t).dlq().length;
    const poison = [{ ticket: 'INC-no-ticket-id' }, { ticketId: 12345 }];
    await putTickets(t, [...tickets.slice(0, 4), poison[0] ?? {}, ...tickets.slice(4), poison[1] ?? {}]);

    for (const { ticketId } of tickets) {
      expect(resultsFor(t, ticketId).map((e) => e['detail-type'])).toEqual(['PasswordResetCompleted']);
    }
    const dead = bus(t).dlq().slice(deadBefore);
    expect(dead.map((letter) => (JSON.parse(letter.body) as BusEvent).detail)).toEqual(poison);
    expect(dead.map((letter) => letter.receiveCount)).toEqual([3, 3]);
  });
});

describe('ticketing events when the vault is down', () => {
  let t: TestApi;
  let creates = 0;
  const failingVault = (rt: Runtime): Runtime => {
    const vault: SecretVault = Object.assign(Object.create(rt.deps.vault) as SecretVault, {
      create: () => {
        creates++;
        return Promise.reject(new UnavailableError('The vault is unavailable; retry later.'));
      },
    });
    return { ...rt, deps: { ...rt.deps, vault } };
  };
  beforeAll(async () => {
    t = await startTestApi({
      customizeRuntime: (op, rt) => (op === 'ticket-worker' ? failingVault(rt) : rt),
    });
  });
  afterAll(() => t.close());

  it('retries a ticket maxReceiveCount (3) times, then answers it Failed and moves it to the dead-letter queue, with no change', async () => {
    const ticketId = nextTicketId();
    const before = await snapshot(t, 'u-alice');
    await putTickets(t, [
      { ticketId, operation: 'CreateOrResetUIPassword', realmId: 'demo', userId: 'u-alice' },
    ]);

    expect(creates).toBe(3);
    const [letter, ...others] = bus(t).dlq();
    expect(others).toEqual([]);
    expect(letter?.receiveCount).toBe(3);
    expect((JSON.parse(letter?.body ?? '{}') as BusEvent).detail.ticketId).toBe(ticketId);
    // One answer, on the last delivery, so the ticketing system does not wait for ever.
    const results = resultsFor(t, ticketId);
    expect(results.map((r) => [r['detail-type'], r.detail.code])).toEqual([
      ['PasswordResetFailed', 'Unavailable.RetriesExhausted'],
    ]);
    expect(results[0]?.detail).toMatchObject({ ticketId, operation: 'CreateOrResetUIPassword' });
    expect(results[0]?.detail.message).toMatch(/after 3 attempts.*dead-letter queue/);
    expect(await snapshot(t, 'u-alice')).toEqual(before);
  });
});

describe('ticketing events when the worker may not read a secret (its role has no GetSecretValue)', () => {
  let t: TestApi;
  let reads = 0;
  /** The vault as the worker's role sees it: creating and deleting work, reading is denied. */
  const noReads = (rt: Runtime): Runtime => {
    const vault: SecretVault = Object.assign(Object.create(rt.deps.vault) as SecretVault, {
      read: () => {
        reads++;
        const denied = new Error('not authorized to perform: secretsmanager:GetSecretValue');
        denied.name = 'AccessDeniedException';
        return Promise.reject(denied);
      },
    });
    return { ...rt, deps: { ...rt.deps, vault } };
  };
  beforeAll(async () => {
    t = await startTestApi({
      customizeRuntime: (op, rt) => (op === 'ticket-worker' ? noReads(rt) : rt),
    });
  });
  afterAll(() => t.close());

  it.each([
    ['CreateOrResetUIPassword', 'email'],
    ['CreateOrResetUIPassword', 'email,phone'],
    ['ResetRandomPassword', 'phone'],
  ])(
    'answers a %s ticket Completed and tells the user (%s) the password in the new secret, no log line holding it',
    async (operation, notificationType) => {
      const ticketId = nextTicketId();
      const sentBefore = t.api.outbox.read().length;
      const readsBefore = reads;
      const { logs } = await capturingLogs(() =>
        putTickets(t, [{ ticketId, operation, realmId: 'demo', userId: 'u-alice', notificationType }]),
      );
      const [result, ...others] = resultsFor(t, ticketId);
      expect(others).toEqual([]);
      expect(result?.['detail-type']).toBe('PasswordResetCompleted');
      const completed = passwordResetCompleted.parse(result?.detail);
      // Read here with the test's own rights, not the worker's.
      const secret = JSON.parse(
        await t.runtime().deps.vault.read(completed.passwordSecretId),
      ) as TemporaryPasswordSecret;
      const user = await t.getUser('u-alice');
      expect(await argon2idHasher.verify(user?.credential?.hash ?? '', secret.password)).toBe(true);
      const sent = t.api.outbox.read().slice(sentBefore);
      expect(sent.map((n) => n.channel)).toEqual(notificationType.split(','));
      for (const notification of sent) expect(notification.text).toContain(secret.password);
      expect(reads - readsBefore).toBe(0);
      expectNoPassword(logs, secret.password);
      expectNoPassword(JSON.stringify(bus(t).results()), secret.password);
      expectNoPassword(readFileSync(bus(t).eventsLog, 'utf8'), secret.password);
    },
  );
});

describe('rekey event send', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi();
  });
  afterAll(() => t.close());

  async function rekey(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const env = {
      REKEY_LOCAL_ENDPOINT: t.api.backend?.endpoint.url ?? '',
      REKEY_DATA_DIR: t.api.backend?.dataDir ?? '',
    };
    const code = await main(argv, { out: (text) => out.push(text), err: (text) => err.push(text) }, env);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('puts the events of a file on the bus and prints their results; `rekey events` prints the log', async () => {
    const file = join(t.api.backend?.dataDir ?? '', 'tickets.json');
    const detail = {
      ticketId: 'INC0099001',
      operation: 'CreateOrResetUIPassword',
      realmId: 'demo',
      userId: 'u-alice',
    };
    const events = [
      {
        source: 'ticketing.servicenow',
        'detail-type': 'PasswordResetRequested',
        detail: { ...detail, notificationType: 'email' },
      },
      {
        source: 'ticketing.jira',
        'detail-type': 'PasswordResetRequested',
        detail: { ...detail, ticketId: 'SD-7', userId: 'u-carol' },
      },
    ];
    writeFileSync(file, JSON.stringify(events));

    const sent = await rekey(['event', 'send', file]);
    expect(sent).toMatchObject({ code: 0, err: '' });
    const results = JSON.parse(sent.out) as BusEvent[];
    expect(results.map((e) => [e['detail-type'], e.detail.ticketId])).toEqual(
      expect.arrayContaining([
        ['PasswordResetCompleted', 'INC0099001'],
        ['PasswordResetFailed', 'SD-7'],
      ]),
    );
    expect(results).toHaveLength(2);
    const completed = passwordResetCompleted.parse(
      results.find((e) => e.detail.ticketId === 'INC0099001')?.detail,
    );
    expect((await t.getUser('u-alice'))?.credential?.secretId).toBe(completed.passwordSecretId);

    const log = await rekey(['events']);
    expect(log.code).toBe(0);
    const logged = log.out.split('\n').map((line) => (JSON.parse(line) as BusEvent).id);
    expect(logged.sort()).toEqual(results.map((e) => e.id).sort());
  });

  it('names a poison ticket by its place in the file, never by its id, here and in the dead-letter log', async () => {
    const dataDir = t.api.backend?.dataDir ?? '';
    const file = join(dataDir, 'poison.json');
    const ticketId = 'pw is Hunter2-Tk-9x';
    writeFileSync(
      file,
      JSON.stringify([
        {
          source: 'ticketing.servicenow',
          'detail-type': 'PasswordResetRequested',
          detail: {
            ticketId: 'INC0099002',
            operation: 'ResetUserPassword',
            realmId: 'demo',
            userId: 'u-bob',
          },
        },
        {
          source: 'ticketing.servicenow',
          'detail-type': 'PasswordResetRequested',
          detail: { ticketId, operation: 'ResetUserPassword', realmId: 'demo', userId: 'u-bob' },
        },
      ]),
    );
    const run = await rekey(['event', 'send', file]);
    expect(run.code).toBe(1);
    expect(run.err).toContain(
      `event 2 of ${file} (its ticketId is not a ticket id) went to the dead-letter queue after 3 receives`,
    );
    expect(JSON.parse(run.out).map((e: BusEvent) => e.detail.ticketId)).toEqual(['INC0099002']);
    const letters = readFileSync(deadLetterLogPath(dataDir), 'utf8');
    expect(letters).toMatch(/"eventId":"[0-9a-f-]{36}"/);
    expect(`${run.out}${run.err}${letters}`).not.toContain('Hunter2');
  });

  it('refuses a file that is not an event, without quoting it', async () => {
    const file = join(t.api.backend?.dataDir ?? '', 'not-events.json');
    writeFileSync(file, '{"password": "Secret-In-File-1"');
    const run = await rekey(['event', 'send', file]);
    expect(run.code).toBe(1);
    expect(run.err).toContain('is not valid JSON');
    expect(run.err).not.toContain('Secret-In-File-1');
  });
});
