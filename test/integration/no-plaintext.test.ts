/**
 * The rule rekey keeps that its vendors do not: no password, generated or given, ever
 * reaches a response, a log line or an error message. Everything the process writes and
 * everything the API answers is captured over a series of resets, refusals and faults, then
 * searched for every password that existed meanwhile.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import type { TemporaryPasswordSecret } from '#core/model.ts';
import type { Directory, SecretVault } from '#core/ports.ts';
import { type FaultyPort, faultyPort } from '#test/support/port-faults.ts';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';

const OPERATION = 'create-or-reset-ui-password';
/** A password a caller tries to choose (the route refuses any body field). */
const CALLER_PASSWORD = 'Caller-Chosen-Secret-9';

const written: string[] = [];
const answers: string[] = [];
/** Every value the route stored in the vault, including those deleted since. */
const storedValues: string[] = [];

let t: TestApi;
let reader: Runtime;
let vaultFaults: FaultyPort<SecretVault> | undefined;
let directoryFaults: FaultyPort<Directory> | undefined;
let restore: () => void = () => undefined;

function capture(stream: NodeJS.WriteStream): () => void {
  const original = stream.write;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
  }) as typeof stream.write;
  return () => {
    stream.write = original;
  };
}

async function call(userId: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const res = await t.request('POST', `/20160918/users/${userId}/uiPassword`, {
    headers: { authorization: `Bearer ${await t.token()}`, ...init.headers },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  answers.push(res.text, JSON.stringify([...res.headers.entries()]));
  return res;
}

function faults<T>(port: FaultyPort<T> | undefined): FaultyPort<T> {
  if (!port) throw new Error('the route runtime was not customised');
  return port;
}

beforeAll(async () => {
  const restoreOut = capture(process.stdout);
  const restoreErr = capture(process.stderr);
  restore = () => {
    restoreOut();
    restoreErr();
  };
  t = await startTestApi({
    customizeRuntime: (operation, runtime) => {
      if (operation !== OPERATION) return runtime;
      vaultFaults = faultyPort(runtime.deps.vault);
      directoryFaults = faultyPort(runtime.deps.directory);
      const faulty = vaultFaults.port;
      const vault: SecretVault = {
        create: (secret) => {
          storedValues.push(secret.value);
          return faulty.create(secret);
        },
        read: (id) => faulty.read(id),
        putValue: (id, value) => faulty.putValue(id, value),
        delete: (id) => faulty.delete(id),
      };
      return { ...runtime, deps: { ...runtime.deps, vault, directory: directoryFaults.port } };
    },
  });
  reader = createRuntime('test-reader', { clients: t.api.clients });

  // Resets, a retried reset, refusals and faults: every path that logs or answers.
  await call('u-alice');
  await call('u-alice');
  await call('u-bob', { headers: { 'opc-retry-token': 'np-1' } });
  await call('u-bob', { headers: { 'opc-retry-token': 'np-1' } });
  await call('u-alice', { headers: { 'opc-retry-token': 'np-1' } });
  await call('u-alice', {
    headers: { 'content-type': 'application/json' },
    body: `{"password":"${CALLER_PASSWORD}"}`,
  });
  await call('u-alice', { headers: { 'content-type': 'text/plain' }, body: CALLER_PASSWORD });
  await call('u-carol');
  await call('u-nobody');
  faults(vaultFaults).fail('create');
  await call('u-alice');
  faults(directoryFaults).fail('saveUser');
  await call('u-alice');
  faults(directoryFaults).fail('saveUser', { landed: true });
  await call('u-bob');
  faults(vaultFaults).fail('delete');
  await call('u-bob');
  faults(vaultFaults).fail('delete');
  // The switch fails and so does the re-read after it (the second getUser of the request).
  faults(directoryFaults).fail('saveUser');
  faults(directoryFaults).fail('getUser', { onCall: 2 });
  await call('u-alice');
  vaultFaults?.clear();
  directoryFaults?.clear();
});

afterAll(async () => {
  restore();
  reader.dynamoDb.destroy();
  await t.close();
});

/** Every password that existed during the run: generated ones (kept or deleted) and the caller's. */
function passwords(): string[] {
  const generated = storedValues.map((value) => (JSON.parse(value) as TemporaryPasswordSecret).password);
  return [...generated, CALLER_PASSWORD];
}

describe('no plaintext password', () => {
  it('generated passwords during the run, and captured what the process wrote', () => {
    // Guards against a vacuous pass: the run did generate, and the capture did see the logs.
    expect(storedValues.length).toBeGreaterThanOrEqual(6);
    const output = written.join('');
    expect(output).toContain('temporary UI password issued');
    expect(output).toContain('request failed');
    expect(output).toContain('the sweeper will remove it');
    expect(output).toContain('secret left for the sweeper');
    // The kept secrets are readable from the vault: the same passwords as recorded.
    const vault = t.api.backend?.vault;
    for (const secret of vault?.list('rekey/temp/') ?? []) expect(storedValues).toContain(secret.value);
  });

  it('appears in no log line or anything else the process wrote', () => {
    const output = written.join('');
    for (const password of passwords()) expect(output).not.toContain(password);
  });

  it('appears in no response body or header', () => {
    const all = answers.join('\n');
    expect(answers.length).toBeGreaterThan(0);
    for (const password of passwords()) expect(all).not.toContain(password);
  });

  it('appears nowhere in the table, idempotency records included: only hashes are kept', async () => {
    const { Items = [] } = await reader.dynamoDb.send(
      new ScanCommand({ TableName: reader.settings.tableName }),
    );
    const table = JSON.stringify(Items);
    expect(table).toContain('$argon2id$');
    expect(table).toContain('IDEMPOTENCY#');
    for (const password of passwords()) expect(table).not.toContain(password);
  });
});
