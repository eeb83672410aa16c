/**
 * `rekey connector create` and `rekey deliveries` (issue 12), run in-process (`main(argv, io,
 * env)`) against an embedded backend, as test/integration/cli.test.ts runs the other commands.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '#adapters/runtime.ts';
import { main } from '#cli/rekey.ts';
import { newRealm } from '#core/factories.ts';
import { type EmbeddedBackend, startEmbeddedBackend } from '#infra/local/embedded-backend.ts';
import { scanTable } from '#test/support/dynamodb.ts';

let backend: EmbeddedBackend;
let reader: Runtime;
let scratch: string;

beforeAll(async () => {
  backend = await startEmbeddedBackend();
  reader = createRuntime('test-reader', { clients: backend.clients });
  await reader.deps.directory.createRealm(newRealm('demo', 'democorp'));
  scratch = mkdtempSync(join(tmpdir(), 'rekey-cli-connectors-'));
});
afterAll(async () => {
  reader.dynamoDb.destroy();
  await backend.close();
  rmSync(backend.dataDir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

async function rekey(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    { out: (text) => out.push(text), err: (text) => err.push(text) },
    { REKEY_LOCAL_ENDPOINT: backend.endpoint.url, REKEY_DATA_DIR: backend.dataDir },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const everything = async () => {
  const Items = await scanTable(backend.clients, reader.settings.tableName);
  return { table: JSON.stringify(Items), vault: backend.vault.list('rekey/connector/').map((s) => s.name) };
};

const create = (id: string, ...more: string[]) =>
  rekey([
    'connector',
    'create',
    '--id',
    id,
    '--kind',
    'jira',
    '--realm',
    'demo',
    '--reply-url',
    'https://acme.atlassian.net',
    ...more,
  ]);

describe('rekey connector create', () => {
  it('prints the intake URL and a new inbound secret once, kept in the vault only', async () => {
    const run = await create('jsm');
    expect(run.code, run.err).toBe(0);
    const printed = JSON.parse(run.out);
    expect(printed).toMatchObject({
      connectorId: 'jsm',
      kind: 'jira',
      realmId: 'demo',
      replyCredential: 'none',
    });
    expect(printed.intakeUrl).toMatch(/\/tickets\/jsm$/);
    expect(printed.inboundSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(run.err).toContain('shown this once');
    const stored = JSON.parse(await reader.deps.vault.read('rekey/connector/jsm/inbound'));
    expect(stored).toEqual({ secret: printed.inboundSecret });
    const { table } = await everything();
    expect(table).toContain('CONNECTOR#jsm');
    expect(table).not.toContain(printed.inboundSecret);
  });

  it('keeps a given secret (Zendesk’s signing secret) and the reply credential, printing neither', async () => {
    const secretFile = join(scratch, 'zd.secret');
    const authFile = join(scratch, 'zd.auth');
    writeFileSync(secretFile, 'Zendesk-Signing-Secret-0123456789\n');
    writeFileSync(authFile, 'Basic YWdlbnQ6dG9rZW4=\n');
    const run = await rekey([
      'connector',
      'create',
      '--id',
      'zd',
      '--kind',
      'zendesk',
      '--realm',
      'demo',
      '--reply-url',
      'https://acme.zendesk.com',
      '--inbound-secret-file',
      secretFile,
      '--reply-auth-file',
      authFile,
    ]);
    expect(run.code, run.err).toBe(0);
    expect(`${run.out}${run.err}`).not.toContain('Zendesk-Signing-Secret');
    expect(`${run.out}${run.err}`).not.toContain('YWdlbnQ6dG9rZW4');
    expect(JSON.parse(run.out)).toMatchObject({
      inboundSecret: '(as given)',
      replyCredential: 'stored in the vault',
    });
    expect(JSON.parse(await reader.deps.vault.read('rekey/connector/zd/inbound'))).toEqual({
      secret: 'Zendesk-Signing-Secret-0123456789',
    });
    expect(JSON.parse(await reader.deps.vault.read('rekey/connector/zd/reply'))).toEqual({
      authorization: 'Basic YWdlbnQ6dG9rZW4=',
    });
    expect((await everything()).table).not.toContain('YWdlbnQ6dG9rZW4');
  });

  it.each([
    [
      'an unknown kind',
      [
        'connector',
        'create',
        '--id',
        'x1',
        '--kind',
        'freshdesk',
        '--realm',
        'demo',
        '--reply-url',
        'https://a.example',
      ],
      /--kind/,
    ],
    [
      'an id with upper case',
      [
        'connector',
        'create',
        '--id',
        'X1',
        '--kind',
        'jira',
        '--realm',
        'demo',
        '--reply-url',
        'https://a.example',
      ],
      /--id/,
    ],
    [
      'plain http to a public host',
      [
        'connector',
        'create',
        '--id',
        'x2',
        '--kind',
        'jira',
        '--realm',
        'demo',
        '--reply-url',
        'http://a.example',
      ],
      /https/,
    ],
    [
      'a reply URL with a path',
      [
        'connector',
        'create',
        '--id',
        'x3',
        '--kind',
        'jira',
        '--realm',
        'demo',
        '--reply-url',
        'https://a.example/rest',
      ],
      /base URL/,
    ],
    [
      'a table for Zendesk',
      [
        'connector',
        'create',
        '--id',
        'x4',
        '--kind',
        'zendesk',
        '--realm',
        'demo',
        '--reply-url',
        'https://a.example',
        '--table',
        'incident',
      ],
      /servicenow only/,
    ],
    [
      'a realm that does not exist',
      [
        'connector',
        'create',
        '--id',
        'x5',
        '--kind',
        'jira',
        '--realm',
        'nope',
        '--reply-url',
        'https://a.example',
      ],
      /does not exist/,
    ],
    [
      'a taken id',
      [
        'connector',
        'create',
        '--id',
        'jsm',
        '--kind',
        'jira',
        '--realm',
        'demo',
        '--reply-url',
        'https://a.example',
      ],
      /exists/,
    ],
    [
      'a missing --reply-url',
      ['connector', 'create', '--id', 'x6', '--kind', 'jira', '--realm', 'demo'],
      /--reply-url/,
    ],
  ])('refuses %s (exit 2), writing nothing', async (_what, argv, message) => {
    const before = await everything();
    const run = await rekey(argv);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(message);
    expect(run.out).toBe('');
    expect(await everything()).toEqual(before);
  });

  it.each([
    ['--inbound-secret-file', 'whsec_Zq9-LiveSigningSecret-4242'],
    ['--reply-auth-file', 'Basic cmVrZXk6c2VjcmV0LXRva2Vu'],
  ])(
    'refuses a %s that names no file without printing what it was given (a credential pasted there)',
    async (flag, value) => {
      const before = await everything();
      const run = await create('x7', flag, value);
      expect(run.code).toBe(2);
      expect(run.err).toContain(`the file given to ${flag} cannot be read`);
      expect(`${run.out}${run.err}`).not.toContain(value.slice(6));
      expect(await everything()).toEqual(before);
    },
  );

  it.each([
    ['an unquoted Authorization value', ['--reply-auth-file', 'Basic', 'cmVrZXk6c2VjcmV0LXRva2Vu']],
    ['a value that reads as an option', ['--inbound-secret-file', '--whsec.Zq9-LiveSigningSecret']],
  ])('refuses %s without quoting the stray part, which is a credential', async (_what, more) => {
    const before = await everything();
    const run = await create('x8', ...more);
    expect(run.code).toBe(2);
    expect(`${run.out}${run.err}`).not.toMatch(/cmVrZXk6c2VjcmV0LXRva2Vu|Zq9-LiveSigningSecret/);
    expect(await everything()).toEqual(before);
  });
});

describe('rekey deliveries', () => {
  it('prints nothing before any reply, and exits 0', async () => {
    const run = await rekey(['deliveries']);
    expect(run).toEqual({ code: 0, out: '', err: '' });
  });
});
