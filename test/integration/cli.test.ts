/**
 * The operator CLI, run in-process (`main(argv, io, env)`) against a running embedded
 * backend, as `npx rekey ...` would be next to `npm start`.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  DescribeEventBusCommand,
  EventBridgeClient,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDynamoDbClient } from '#adapters/aws-clients.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { main } from '#cli/rekey.ts';
import {
  DEFAULT_LOCKOUT,
  DEFAULT_TEMPORARY_PASSWORD_LIFETIME_SECONDS,
  type TemporaryPasswordSecret,
} from '#core/model.ts';
import { loadDevKey, verifyToken } from '#infra/local/dev-tokens.ts';
import { type EmbeddedBackend, startEmbeddedBackend } from '#infra/local/embedded-backend.ts';
import { loadOrCreateLocalCredentials } from '#infra/local/endpoint-credentials.ts';
import { type LocalApi, startLocalApi } from '#infra/local/local-api.ts';

let backend: EmbeddedBackend;
let dataDir: string;
let reader: Runtime;

beforeAll(async () => {
  backend = await startEmbeddedBackend();
  // The CLI signs with the credentials the backend keeps in its data folder.
  dataDir = backend.dataDir;
  // ...and its tokens with the key npm start makes there (the CLI never makes one).
  await loadDevKey(join(dataDir, 'keys'));
  reader = createRuntime('test-reader', { clients: backend.clients });
});
afterAll(async () => {
  reader.dynamoDb.destroy();
  await backend.close();
  rmSync(backend.dataDir, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string;
  err: string;
}

async function rekey(argv: string[], env: Record<string, string> = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    { out: (text) => out.push(text), err: (text) => err.push(text) },
    { REKEY_LOCAL_ENDPOINT: backend.endpoint.url, REKEY_DATA_DIR: dataDir, ...env },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('rekey CLI', () => {
  it.each([[['--help']], [['-h']], [[]]])('prints the help for %j and exits 0', async (argv) => {
    const run = await rekey(argv);
    expect(run.code).toBe(0);
    expect(run.out).toContain('Usage: rekey <command>');
    expect(run.out).toContain('secret get SECRET_ID');
    expect(run.err).toBe('');
  });

  it.each([[['frobnicate']], [['realm', 'frobnicate']], [['realm']]])(
    'exits 2 with the help on stderr for the unknown command %j',
    async (argv) => {
      const run = await rekey(argv);
      expect(run.code).toBe(2);
      expect(run.err).toMatch(/^rekey: unknown command/);
      expect(run.err).toContain('Usage: rekey');
      expect(run.out).toBe('');
    },
  );

  describe('realm create', () => {
    it('creates a realm with a policy preset and prints it', async () => {
      const run = await rekey([
        'realm',
        'create',
        '--id',
        'r-cli',
        '--name',
        'CLI Corp',
        '--policy',
        'huawei-iam',
      ]);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.out)).toMatchObject({ realmId: 'r-cli', name: 'CLI Corp', policy: 'huawei-iam' });
      expect(await reader.deps.directory.findRealm('cli corp')).toMatchObject({ realmId: 'r-cli' });
    });

    it('exits 1 with a clear message for a realm that exists', async () => {
      await rekey(['realm', 'create', '--id', 'r-dup', '--name', 'Dup']);
      const run = await rekey(['realm', 'create', '--id', 'r-dup', '--name', 'Dup']);
      expect(run.code).toBe(1);
      expect(run.err).toMatch(/^rekey: .*already exists/);
    });

    it.each([
      ['an unknown preset', ['--id', 'r-x', '--name', 'X', '--policy', 'weak']],
      ['a missing --name', ['--id', 'r-x']],
      ['an unknown option', ['--id', 'r-x', '--name', 'X', '--colour', 'blue']],
    ])('exits 2 for %s, creating nothing', async (_what, args) => {
      const run = await rekey(['realm', 'create', ...args]);
      expect(run.code).toBe(2);
      expect(await reader.deps.directory.getRealm('r-x')).toBeUndefined();
    });

    it('stores the lock-out and temporary-password lifetime it is given', async () => {
      const run = await rekey([
        'realm',
        'create',
        '--id',
        'r-tuned',
        '--name',
        'Tuned Corp',
        '--lockout-attempts',
        '5',
        '--lockout-minutes',
        '30',
        '--temporary-password-days',
        '14',
      ]);
      expect(run.code).toBe(0);
      const expected = {
        lockout: { maxFailedAttempts: 5, lockSeconds: 30 * 60 },
        temporaryPasswordLifetimeSeconds: 14 * 86_400,
      };
      expect(JSON.parse(run.out)).toMatchObject(expected);
      expect(await reader.deps.directory.getRealm('r-tuned')).toMatchObject(expected);
    });

    it('keeps the default lock-out and lifetime without those options, and sets any one alone', async () => {
      await rekey(['realm', 'create', '--id', 'r-plain', '--name', 'Plain Corp']);
      expect(await reader.deps.directory.getRealm('r-plain')).toMatchObject({
        lockout: { maxFailedAttempts: 10, lockSeconds: 15 * 60 },
        temporaryPasswordLifetimeSeconds: 7 * 86_400,
        ssoEnabled: false,
      });
      expect(DEFAULT_LOCKOUT).toEqual({ maxFailedAttempts: 10, lockSeconds: 900 });
      expect(DEFAULT_TEMPORARY_PASSWORD_LIFETIME_SECONDS).toBe(604_800);
      await rekey([
        'realm',
        'create',
        '--id',
        'r-minutes',
        '--name',
        'Minutes Corp',
        '--lockout-minutes',
        '1440',
      ]);
      expect((await reader.deps.directory.getRealm('r-minutes'))?.lockout).toEqual({
        maxFailedAttempts: 10,
        lockSeconds: 86_400,
      });
    });

    it.each([
      ['--lockout-attempts', '0', 'from 1 to 100'],
      ['--lockout-attempts', '101', 'from 1 to 100'],
      ['--lockout-attempts', 'ten', 'from 1 to 100'],
      ['--lockout-attempts', '-5', 'from 1 to 100'],
      ['--lockout-minutes', '0', 'from 1 to 1440'],
      ['--lockout-minutes', '1441', 'from 1 to 1440'],
      ['--lockout-minutes', '1.5', 'from 1 to 1440'],
      ['--temporary-password-days', '0', 'from 1 to 90'],
      ['--temporary-password-days', '91', 'from 1 to 90'],
      ['--temporary-password-days', '1e1', 'from 1 to 90'],
      ['--temporary-password-days', '', 'from 1 to 90'],
      ['--temporary-password-days', '07', 'from 1 to 90'],
    ])('exits 2 for %s %j with a clear message, creating nothing', async (flag, value, range) => {
      const run = await rekey(['realm', 'create', '--id', 'r-bad', '--name', 'Bad Corp', `${flag}=${value}`]);
      expect(run.code).toBe(2);
      expect(run.err).toMatch(new RegExp(`^rekey: ${flag} must be a whole number ${range}, not "`));
      expect(run.out).toBe('');
      expect(await reader.deps.directory.getRealm('r-bad')).toBeUndefined();
    });

    it('lists the realm options in --help', async () => {
      const { out } = await rekey(['--help']);
      for (const text of [
        '[--lockout-attempts N] [--lockout-minutes M]',
        '[--temporary-password-lifetime 24h|7d | --temporary-password-days D]',
        '(1-100, default 10) for M minutes (1-1440, default 15)',
        '(1h to 90d; or D days, 1-90; default 7d)',
        '--admins-choose-passwords false: admins may only issue generated,',
        "--sso-enabled: SSO logon on: no route or ticket sets a user's password",
      ]) {
        expect(out).toContain(text);
      }
    });

    it('marks a realm --sso-enabled, and only that one', async () => {
      const run = await rekey([
        'realm',
        'create',
        '--id',
        'r-sso-flag',
        '--name',
        'SSO Flag Corp',
        '--sso-enabled',
      ]);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.out)).toMatchObject({ ssoEnabled: true });
      expect((await reader.deps.directory.getRealm('r-sso-flag'))?.ssoEnabled).toBe(true);
      expect((await reader.deps.directory.getRealm('r-cli'))?.ssoEnabled).toBe(false);
    });
  });

  describe('instance create', () => {
    beforeAll(async () => {
      await rekey(['realm', 'create', '--id', 'p-ddm', '--name', 'DDM Corp']);
    });

    it('registers an instance in a project with the host and port given, and prints it', async () => {
      const run = await rekey([
        'instance',
        'create',
        '--project',
        'p-ddm',
        '--id',
        'ddm-cli-1',
        '--host',
        'db1.example.internal',
        '--port',
        '5432',
      ]);
      expect(run.code).toBe(0);
      const expected = {
        instanceId: 'ddm-cli-1',
        realmId: 'p-ddm',
        host: 'db1.example.internal',
        port: 5432,
        engine: 'mysql',
      };
      expect(JSON.parse(run.out)).toMatchObject(expected);
      const stored = await reader.deps.directory.getInstance('ddm-cli-1');
      expect(stored).toMatchObject(expected);
      expect(stored?.adminName).toBeUndefined();
    });

    it('defaults the host and port', async () => {
      expect((await rekey(['instance', 'create', '--project', 'p-ddm', '--id', 'ddm-cli-2'])).code).toBe(0);
      expect(await reader.deps.directory.getInstance('ddm-cli-2')).toMatchObject({
        host: 'ddm-cli-2.ddm.local',
        port: 3306,
      });
    });

    it.each([
      ['an id that is a path', ['--id', '../ddm-bad'], 2, '--id may contain only'],
      ['a port out of range', ['--id', 'ddm-badport', '--port', '70000'], 2, '--port must be 1-65535'],
      ['a missing --id', [], 2, '--id is required'],
    ])('exits 2 for %s, registering nothing', async (_what, args, code, message) => {
      const run = await rekey(['instance', 'create', '--project', 'p-ddm', ...args]);
      expect(run.code).toBe(code);
      expect(run.err).toContain(message);
      expect(run.out).toBe('');
      expect(await reader.deps.directory.getInstance(args[1] ?? 'ddm-bad')).toBeUndefined();
    });

    it('exits 1 for a project that does not exist', async () => {
      const run = await rekey(['instance', 'create', '--project', 'p-none', '--id', 'ddm-orphan']);
      expect(run.code).toBe(1);
      expect(run.err).toContain('realm p-none does not exist');
      expect(await reader.deps.directory.getInstance('ddm-orphan')).toBeUndefined();
    });
  });

  describe('user create', () => {
    it('creates a user in a realm and prints it', async () => {
      await rekey(['realm', 'create', '--id', 'r-users', '--name', 'Users Corp']);
      const run = await rekey([
        'user',
        'create',
        '--realm',
        'r-users',
        '--id',
        'u-dana',
        '--username',
        'dana',
        '--email',
        'dana@example.com',
      ]);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.out)).toMatchObject({ userId: 'u-dana', username: 'dana', federated: false });
      expect(await reader.deps.directory.getUser('u-dana')).toMatchObject({
        realmId: 'r-users',
        email: 'dana@example.com',
      });
    });

    it('creates a federated user when asked', async () => {
      await rekey(['realm', 'create', '--id', 'r-fed', '--name', 'Fed Corp']);
      const run = await rekey([
        'user',
        'create',
        '--realm',
        'r-fed',
        '--id',
        'u-fed',
        '--username',
        'fed',
        '--federated',
      ]);
      expect(run.code).toBe(0);
      expect((await reader.deps.directory.getUser('u-fed'))?.federated).toBe(true);
    });

    it.each([
      [
        'a full-width look-alike username',
        ['--id', 'u-wide', '--username', '\uff41lice'],
        '--username must be in Unicode',
      ],
      ['a decomposed accent', ['--id', 'u-nfd', '--username', 'jose\u0301'], '--username must be in Unicode'],
      [
        'a username with a bidi override',
        ['--id', 'u-bidi', '--username', 'ev\u202eil'],
        '--username may not contain',
      ],
      ['an id that is a path', ['--id', '../u-x', '--username', 'pathy'], '--id may contain only'],
    ])(
      'exits 2 for %s, which change-password would refuse, and creates nothing',
      async (_what, args, message) => {
        await rekey(['realm', 'create', '--id', 'r-names', '--name', 'Names Corp']);
        const run = await rekey(['user', 'create', '--realm', 'r-names', ...args]);
        expect(run.code).toBe(2);
        expect(run.err).toContain(message);
        expect(await reader.deps.directory.getUser(args[1] ?? '')).toBeUndefined();
      },
    );

    it('exits 1 for a realm that does not exist', async () => {
      const run = await rekey(['user', 'create', '--realm', 'r-none', '--id', 'u-x', '--username', 'x']);
      expect(run.code).toBe(1);
      expect(run.err).toContain('realm r-none does not exist');
      expect(await reader.deps.directory.getUser('u-x')).toBeUndefined();
    });
  });

  describe('token', () => {
    it('prints only a JWT on stdout, signed with the data folder’s key, for the realm asked', async () => {
      const run = await rekey(['token', '--realm', 'r-cli', '--subject', 'ops@example.com', '--ttl', '600']);
      expect(run.code).toBe(0);
      expect(run.err).toBe('');
      expect(run.out).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      const claims = await verifyToken(await loadDevKey(join(dataDir, 'keys')), run.out);
      expect(claims).toMatchObject({ sub: 'ops@example.com', scope: 'rekey/admin', rekey_realm: 'r-cli' });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(600);
    });

    it('exits 2 without --realm', async () => {
      const run = await rekey(['token']);
      expect(run.code).toBe(2);
      expect(run.out).toBe('');
    });

    it.each([['0'], ['abc'], ['-5'], ['86401'], ['1.5'], ['1e3'], ['']])(
      'exits 2 for --ttl %j with rekey’s own message, printing no token',
      async (ttl) => {
        const run = await rekey(['token', '--realm', 'r-cli', `--ttl=${ttl}`]);
        expect(run.code).toBe(2);
        expect(run.out).toBe('');
        expect(run.err.split('\n')[0]).toBe(
          `rekey: --ttl must be a whole number from 1 to 86400, not ${JSON.stringify(ttl)}`,
        );
        expect(run.err).toContain('Usage: rekey token --realm ID');
        expect(run.err).not.toMatch(/Invalid time period|jose/i);
      },
    );

    it('accepts the longest lifetime, 86400 seconds', async () => {
      const run = await rekey(['token', '--realm', 'r-cli', '--ttl', '86400']);
      expect(run.code).toBe(0);
      const claims = await verifyToken(await loadDevKey(join(dataDir, 'keys')), run.out);
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(86_400);
    });

    it('exits 2 for a realm that does not exist, in one line, printing no token', async () => {
      const run = await rekey(['token', '--realm', 'doesnotexist']);
      expect(run).toEqual({ code: 2, out: '', err: 'rekey: realm doesnotexist does not exist' });
    });
  });

  describe('--help and --version', () => {
    it.each([
      [['bootstrap'], 'Usage: rekey bootstrap'],
      [['realm', 'create'], 'Usage: rekey realm create --id ID --name NAME'],
      [['user', 'create'], 'Usage: rekey user create --realm ID'],
      [['token'], 'Usage: rekey token --realm ID [--subject S] [--ttl SECONDS]'],
      [['secret', 'get'], 'Usage: rekey secret get SECRET_ID'],
      [['instance', 'create'], 'Usage: rekey instance create --project ID'],
      [['outbox'], 'Usage: rekey outbox'],
      [['event', 'send'], 'Usage: rekey event send FILE.json'],
      [['events'], 'Usage: rekey events'],
      [['env'], 'Usage: rekey env'],
      [['sweep'], 'Usage: rekey sweep'],
      [['realm'], 'Usage: rekey realm create'],
    ])('%j --help prints that command’s usage and exits 0, running nothing', async (argv, usageLine) => {
      for (const flag of ['--help', '-h']) {
        // A backend that is not there: the help must not need one.
        const run = await rekey([...argv, flag], { REKEY_LOCAL_ENDPOINT: 'http://127.0.0.1:9' });
        expect(run.code).toBe(0);
        expect(run.err).toBe('');
        expect(run.out.startsWith(usageLine)).toBe(true);
        expect(run.out).not.toContain('Commands:');
      }
    });

    it('help after other options still answers (token --realm demo --help)', async () => {
      const run = await rekey(['token', '--realm', 'doesnotexist', '--help']);
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/^Usage: rekey token/);
    });

    it('an unknown command with --help exits 2 with the full help', async () => {
      const run = await rekey(['frobnicate', '--help']);
      expect(run.code).toBe(2);
      expect(run.err).toMatch(/^rekey: unknown command: frobnicate/);
      expect(run.err).toContain('Commands:');
    });

    it.each([['--version'], ['-v'], ['version']])('%s prints the package version', async (flag) => {
      const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
      expect(version).toMatch(/^\d+\.\d+\.\d+/);
      expect(await rekey([flag])).toEqual({ code: 0, out: version, err: '' });
    });
  });

  describe('secret get', () => {
    it('prints the secret’s JSON value', async () => {
      const value = { userId: 'u-1', username: 'x', password: 'Printed-On-Purpose-1', expiresAt: 'later' };
      const { secretId } = await backend.vault.create({
        name: 'rekey/temp/r-cli/u-1/req-1',
        value: JSON.stringify(value),
        description: 'd',
        tags: {},
      });
      const run = await rekey(['secret', 'get', secretId]);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.out)).toEqual(value);
      expect(run.err).toBe('');
    });

    it('prints a value that is not JSON as it is, never inside an error message', async () => {
      const { secretId } = await backend.vault.create({
        name: 'rekey/temp/r-cli/u-1/raw',
        value: 'not-json-Hunter2',
        description: 'd',
        tags: {},
      });
      const run = await rekey(['secret', 'get', secretId]);
      expect(run.code).toBe(0);
      expect(run.out).toBe('not-json-Hunter2');
      expect(run.err).not.toContain('Hunter2');
    });

    it('exits 1 with a clear message for a secret that does not exist', async () => {
      const run = await rekey(['secret', 'get', 'rekey/temp/none']);
      expect(run.code).toBe(1);
      expect(run.err).toBe('rekey: secret rekey/temp/none does not exist or was deleted');
      expect(run.out).toBe('');
    });

    it('exits 1 with a clear message for a secret that was deleted', async () => {
      const { secretId } = await backend.vault.create({
        name: 'rekey/temp/r-cli/u-1/gone',
        value: '{"password":"Deleted-Secret-1"}',
        description: 'd',
        tags: {},
      });
      await backend.vault.delete(secretId);
      const run = await rekey(['secret', 'get', secretId]);
      expect(run.code).toBe(1);
      expect(run.err).toContain('does not exist or was deleted');
      expect(run.err).not.toContain('Deleted-Secret-1');
    });

    it('exits 2 without a secret id', async () => {
      expect((await rekey(['secret', 'get'])).code).toBe(2);
    });
  });

  it('exits 1 with a hint when no backend answers', async () => {
    const run = await rekey(['realm', 'create', '--id', 'r-y', '--name', 'Y'], {
      REKEY_LOCAL_ENDPOINT: 'http://127.0.0.1:9',
    });
    expect(run.code).toBe(1);
    expect(run.err).toContain('no embedded backend answers at http://127.0.0.1:9');
  });

  it('exits 1 with a hint, creating nothing, when the data folder holds no credentials or not the running backend’s', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'rekey-cli-other-'));
    try {
      const none = await rekey(['realm', 'create', '--id', 'r-z', '--name', 'Z'], {
        REKEY_DATA_DIR: elsewhere,
      });
      expect(none.code).toBe(1);
      expect(none.err).toContain(
        `no credentials for the embedded backend in ${join(elsewhere, 'credentials')}`,
      );
      loadOrCreateLocalCredentials(elsewhere);
      const other = await rekey(['realm', 'create', '--id', 'r-z', '--name', 'Z'], {
        REKEY_DATA_DIR: elsewhere,
      });
      expect(other.code).toBe(1);
      expect(other.err).toContain(
        `the embedded backend refused the credentials in ${join(elsewhere, 'credentials')}`,
      );
      expect(await reader.deps.directory.getRealm('r-z')).toBeUndefined();
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('env prints the data folder’s credentials, the region and the endpoint as shell exports', async () => {
    const run = await rekey(['env']);
    expect(run.code).toBe(0);
    expect(run.out.split('\n')).toEqual([
      `export AWS_ACCESS_KEY_ID='${backend.credentials.accessKeyId}'`,
      `export AWS_SECRET_ACCESS_KEY='${backend.credentials.secretAccessKey}'`,
      "export AWS_REGION='us-east-1'",
      "export AWS_DEFAULT_REGION='us-east-1'",
      `export AWS_ENDPOINT_URL='${backend.endpoint.url}'`,
      'unset AWS_SESSION_TOKEN',
    ]);
  });

  it('bootstraps the table named by the environment it is given', async () => {
    const run = await rekey(['bootstrap'], { REKEY_TABLE: 'rekey-cli-bootstrap' });
    expect(run.code).toBe(0);
    expect(run.err.split('\n')).toEqual([
      'created table rekey-cli-bootstrap',
      "event bus rekey is built into npm start's endpoint",
    ]);
    const client = createDynamoDbClient(backend.clients);
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: 'rekey-cli-bootstrap' }));
      expect(Table?.KeySchema?.map((k) => k.AttributeName)).toEqual(['pk', 'sk']);
    } finally {
      client.destroy();
    }
    expect((await rekey(['bootstrap'], { REKEY_TABLE: 'rekey-cli-bootstrap' })).err.split('\n')[0]).toBe(
      'table rekey-cli-bootstrap exists',
    );
  });
});

/**
 * `REKEY_BACKEND=aws` against an AWS-compatible endpoint (here the embedded one, with what
 * `rekey env` exports): `bootstrap` creates the event bus where the endpoint manages buses and
 * says what it leaves to the stacks; `event send` prints the bus's answer and no result.
 */
const mockEventBridge = () => mockClient(EventBridgeClient);

describe('rekey CLI with REKEY_BACKEND=aws', () => {
  let api: LocalApi;
  let apiDataDir: string;
  let bus: ReturnType<typeof mockEventBridge> | undefined;
  const aws = (argv: string[], env: Record<string, string> = {}) =>
    rekey(argv, { REKEY_BACKEND: 'aws', REKEY_DATA_DIR: apiDataDir, ...env });

  beforeAll(async () => {
    api = await startLocalApi({ persist: false });
    apiDataDir = api.backend?.dataDir ?? '';
    const credentials = api.backend?.credentials;
    // The SDK reads the standard environment: what `eval "$(npx rekey env)"` sets.
    vi.stubEnv('AWS_ENDPOINT_URL', api.backend?.endpoint.url ?? '');
    vi.stubEnv('AWS_ACCESS_KEY_ID', credentials?.accessKeyId ?? '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials?.secretAccessKey ?? '');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
  });
  afterEach(() => {
    bus?.restore();
    bus = undefined;
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await api.close();
    rmSync(apiDataDir, { recursive: true, force: true });
  });

  it('bootstrap creates the event bus where it is missing, and names what it does not create', async () => {
    bus = mockEventBridge();
    bus
      .on(DescribeEventBusCommand)
      .rejects(
        Object.assign(new Error('Event bus rekey does not exist.'), { name: 'ResourceNotFoundException' }),
      );
    bus
      .on(CreateEventBusCommand)
      .resolves({ EventBusArn: 'arn:aws:events:us-east-1:000000000000:event-bus/rekey' });
    const run = await aws(['bootstrap']);
    expect(run.code).toBe(0);
    const lines = run.err.split('\n');
    expect(lines.slice(0, 2)).toEqual(['table rekey exists', 'created event bus rekey']);
    expect(lines[2]).toMatch(
      /^bootstrap does not create the rule .* ticket queue.* the ticket worker, the sweeper schedule or the API: the CDK stacks deploy them/,
    );
    expect(bus.commandCalls(CreateEventBusCommand).map((call) => call.args[0].input)).toEqual([
      { Name: 'rekey' },
    ]);

    bus.reset();
    bus.on(DescribeEventBusCommand).resolves({ Name: 'rekey' });
    const again = await aws(['bootstrap']);
    expect(again.err.split('\n')[1]).toBe('event bus rekey exists');
    expect(bus.commandCalls(CreateEventBusCommand)).toHaveLength(0);
  });

  it('bootstrap against the embedded endpoint says its bus is built in', async () => {
    const run = await aws(['bootstrap']);
    expect(run.code).toBe(0);
    expect(run.err.split('\n')).toEqual([
      'table rekey exists',
      "event bus rekey is built into npm start's endpoint",
    ]);
  });

  it('connector create refuses --reply-auth-file and a missing REKEY_KMS_KEY_ID, writing nothing; with the key, encrypts with it', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'rekey-aws-connector-'));
    const authFile = join(scratch, 'reply.auth');
    writeFileSync(authFile, 'Basic YWdlbnQ6dG9rZW4tWFla');
    const vault = () => api.backend?.vault.list('rekey/connector/') ?? [];
    const before = vault().length;
    const create = (id: string, extra: string[], env: Record<string, string>) =>
      aws(
        [
          'connector',
          'create',
          '--id',
          id,
          '--kind',
          'zendesk',
          '--realm',
          'awsconn',
          '--reply-url',
          'https://acme.zendesk.com',
          ...extra,
        ],
        env,
      );
    const key = 'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect((await aws(['realm', 'create', '--id', 'awsconn', '--name', 'AWS Connectors'])).code).toBe(0);

    const withAuth = await create('zd-aws-1', ['--reply-auth-file', authFile], { REKEY_KMS_KEY_ID: key });
    expect(withAuth.code).toBe(2);
    expect(withAuth.err).toContain("--reply-auth-file is for npm start's deliverer only");
    expect(withAuth.err).not.toContain('YWdlbnQ6');
    const withoutKey = await create('zd-aws-2', [], {});
    expect(withoutKey.code).toBe(2);
    expect(withoutKey.err).toContain('set REKEY_KMS_KEY_ID');
    expect(vault()).toHaveLength(before);

    const ok = await create('zd-aws-3', [], { REKEY_KMS_KEY_ID: key });
    expect(ok.code).toBe(0);
    const created = vault().filter((secret) => secret.name.startsWith('rekey/connector/zd-aws-3/'));
    expect(created.map((secret) => [secret.name, secret.kmsKeyId])).toEqual([
      ['rekey/connector/zd-aws-3/inbound', key],
    ]);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('event send prints the bus’s answer (the event ids) and says no result is awaited', async () => {
    const run = await aws(['event', 'send', 'examples/password-reset-requested.json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual({ Entries: [{ EventId: expect.any(String) }] });
    expect(run.err).toMatch(
      /^put 1 event\(s\) on the bus rekey; with REKEY_BACKEND=aws no result is awaited: the ticket worker behind the bus answers/,
    );
    // The embedded endpoint's worker does answer it (aws mode just does not wait for that).
    await api.bus?.idle();
    expect(api.bus?.results().map((event) => event.detail.ticketId)).toContain('INC0012345');
  });
});

/** The CLI next to the whole local API (`npm start`): what it creates is what the routes see. */
describe('rekey CLI with the local API', () => {
  let api: LocalApi;
  let apiDataDir: string;
  const cli = (argv: string[]) =>
    rekey(argv, {
      REKEY_LOCAL_ENDPOINT: api.backend?.endpoint.url ?? '',
      REKEY_DATA_DIR: apiDataDir,
    });
  const apiReader = () => api.runtimes.values().next().value as Runtime;

  beforeAll(async () => {
    api = await startLocalApi({ persist: false });
    apiDataDir = api.backend?.dataDir ?? '';
  });
  afterAll(async () => {
    await api.close();
    rmSync(apiDataDir, { recursive: true, force: true });
  });

  it('prints nothing from an empty outbox', async () => {
    const run = await cli(['outbox']);
    expect(run).toEqual({ code: 0, out: '', err: '' });
  });

  it('outbox lists the notification a random-password reset sent, carrying the password to its user', async () => {
    // The outbox stands for the user's own e-mail and phone: the one place besides the vault
    // a generated password is meant to go (SPEC §2.3, functions/core/notifications.ts).
    expect(
      (
        await cli([
          'realm',
          'create',
          '--id',
          'p-mail',
          '--name',
          'Mail Corp',
          '--temporary-password-days',
          '2',
        ])
      ).code,
    ).toBe(0);
    expect(
      (
        await cli([
          'user',
          'create',
          '--realm',
          'p-mail',
          '--id',
          'u-mia',
          '--username',
          'mia',
          '--email',
          'mia@example.com',
        ])
      ).code,
    ).toBe(0);
    const token = (await cli(['token', '--realm', 'p-mail'])).out;
    const startedAt = Date.now();
    const res = await fetch(
      `${api.gateway.url}/v2/p-mail/users/u-mia/random-password?notification_type=email`,
      {
        headers: { 'x-auth-token': token },
      },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { password_secret_id: string; expires_at: string };
    // The realm's lifetime, set by --temporary-password-days, is the one the route applied.
    const lifetime = Date.parse(body.expires_at) - startedAt;
    expect(lifetime).toBeGreaterThan(2 * 86_400_000 - 60_000);
    expect(lifetime).toBeLessThanOrEqual(2 * 86_400_000 + 60_000);

    const run = await cli(['outbox']);
    expect(run.code).toBe(0);
    expect(run.err).toBe('');
    const entries = run.out.split('\n').map((line) => JSON.parse(line) as Record<string, string>);
    const mine = entries.filter((entry) => entry.to === 'mia@example.com');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ channel: 'email', subject: 'Your new temporary password' });
    expect(mine[0]?.sentAt).toEqual(expect.any(String));
    const secret = JSON.parse(
      await apiReader().deps.vault.read(body.password_secret_id),
    ) as TemporaryPasswordSecret;
    expect(mine[0]?.text).toContain(secret.password);
    expect(mine[0]?.text).toContain(body.expires_at);
  });

  it('realm create --sso-enabled makes the CloudSSO reset refuse, where a plain realm accepts it', async () => {
    const resetIn = async (realmId: string, userId: string) => {
      expect(
        (await cli(['user', 'create', '--realm', realmId, '--id', userId, '--username', userId])).code,
      ).toBe(0);
      const token = (await cli(['token', '--realm', realmId])).out;
      const res = await fetch(`${api.gateway.url}/cloudsso/2021-05-15/ResetUserPassword`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ DirectoryId: realmId, UserId: userId, GenerateRandomPassword: true }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };
    expect(
      (await cli(['realm', 'create', '--id', 'd-sso-cli', '--name', 'SSO CLI Corp', '--sso-enabled'])).code,
    ).toBe(0);
    expect((await apiReader().deps.directory.getRealm('d-sso-cli'))?.ssoEnabled).toBe(true);
    const refused = await resetIn('d-sso-cli', 'u-sso-cli');
    expect([refused.status, refused.body.Code]).toEqual([409, 'OperationConflict.SSOEnabled']);
    expect((await apiReader().deps.directory.getUser('u-sso-cli'))?.credential).toBeUndefined();

    expect((await cli(['realm', 'create', '--id', 'd-plain-cli', '--name', 'Plain CLI Corp'])).code).toBe(0);
    const accepted = await resetIn('d-plain-cli', 'u-plain-cli');
    expect(accepted.status).toBe(200);
    expect(accepted.body.NewPasswordSecretId).toEqual(expect.any(String));
  });
});

describe('the embedded backend with persistence', () => {
  it('keeps realms, users and vault secrets in its data folder across a restart', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'rekey-persist-'));
    const env = (b: EmbeddedBackend) => ({ REKEY_LOCAL_ENDPOINT: b.endpoint.url, REKEY_DATA_DIR: folder });
    try {
      const first = await startEmbeddedBackend({ dataDir: folder, persist: true });
      let secretId: string;
      try {
        expect(
          (
            await rekey(
              ['realm', 'create', '--id', 'r-kept', '--name', 'Kept Corp', '--lockout-attempts', '3'],
              env(first),
            )
          ).code,
        ).toBe(0);
        expect(
          (
            await rekey(
              ['user', 'create', '--realm', 'r-kept', '--id', 'u-kept', '--username', 'kept'],
              env(first),
            )
          ).code,
        ).toBe(0);
        ({ secretId } = await first.vault.create({
          name: 'rekey/temp/r-kept/u-kept/req-1',
          value: JSON.stringify({ userId: 'u-kept', note: 'survives a restart' }),
          description: 'd',
          tags: {},
        }));
      } finally {
        await first.close();
      }

      const second = await startEmbeddedBackend({ dataDir: folder, persist: true });
      const after = createRuntime('test-reader', { clients: second.clients });
      try {
        expect(await after.deps.directory.getRealm('r-kept')).toMatchObject({
          name: 'Kept Corp',
          lockout: { maxFailedAttempts: 3 },
        });
        expect(await after.deps.directory.findRealm('kept corp')).toMatchObject({ realmId: 'r-kept' });
        expect(await after.deps.directory.getUser('u-kept')).toMatchObject({
          realmId: 'r-kept',
          username: 'kept',
        });
        const run = await rekey(['secret', 'get', secretId], env(second));
        expect(run.code).toBe(0);
        expect(JSON.parse(run.out)).toEqual({ userId: 'u-kept', note: 'survives a restart' });
        // The restarted table still refuses what it holds: the data was reloaded, not re-seeded.
        const again = await rekey(['realm', 'create', '--id', 'r-kept', '--name', 'Kept Corp'], env(second));
        expect(again.code).toBe(1);
      } finally {
        after.dynamoDb.destroy();
        await second.close();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
