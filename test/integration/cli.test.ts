/**
 * The operator CLI, run in-process (`main(argv, io, env)`) against a running embedded
 * backend, as `npx rekey ...` would be next to `npm start`.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '#adapters/aws-clients.ts';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { main } from '#infra/local/cli.ts';
import { loadDevKey, verifyToken } from '#infra/local/dev-tokens.ts';
import { type EmbeddedBackend, startEmbeddedBackend } from '#infra/local/embedded-backend.ts';

let backend: EmbeddedBackend;
let dataDir: string;
let reader: Runtime;

beforeAll(async () => {
  backend = await startEmbeddedBackend();
  dataDir = mkdtempSync(join(tmpdir(), 'rekey-cli-'));
  reader = createRuntime('test-reader', { clients: backend.clients });
});
afterAll(async () => {
  reader.dynamoDb.destroy();
  await backend.close();
  rmSync(dataDir, { recursive: true, force: true });
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

  it('bootstraps the table named by the environment it is given', async () => {
    const run = await rekey(['bootstrap'], { REKEY_TABLE: 'rekey-cli-bootstrap' });
    expect(run.code).toBe(0);
    expect(run.err).toBe('created table rekey-cli-bootstrap');
    const client = createDynamoDbClient(backend.clients);
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: 'rekey-cli-bootstrap' }));
      expect(Table?.KeySchema?.map((k) => k.AttributeName)).toEqual(['pk', 'sk']);
    } finally {
      client.destroy();
    }
    expect((await rekey(['bootstrap'], { REKEY_TABLE: 'rekey-cli-bootstrap' })).err).toBe(
      'table rekey-cli-bootstrap exists',
    );
  });
});
