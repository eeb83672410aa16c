/**
 * `npm start` and `bin/rekey` as an operator runs them, in child processes on free ports and a
 * data folder of their own: the data folder is owner-only even when it existed before with
 * loose modes (the table's LevelDB files too, also those created after start), the CLI works
 * against the running server with the credentials the data folder keeps, and so does
 * `REKEY_BACKEND=aws` with what `rekey env` exports; the endpoint refuses the review's request.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseLogEnv } from '#test/support/openapi-setup.ts';

const SPAWN_TIMEOUT = 90_000;

interface Server {
  child: ChildProcess;
  url: string;
  endpoint: string;
  token: string;
  output: () => string;
}

/** Starts `npm start`'s entry point on free ports over `dataDir`; resolves once it printed its banner. */
function startServer(dataDir: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      REKEY_LOCAL_ENDPOINT_PORT: '0',
      REKEY_DATA_DIR: dataDir,
      NODE_NO_WARNINGS: '1',
      // Its responses are checked against the OpenAPI document like every gateway's.
      ...responseLogEnv(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('npm start did not come up')), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}`));
    });
    const poll = setInterval(() => {
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      const endpoint = /AWS-compatible endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      const token = /export REKEY_TOKEN=(\S+)/.exec(text)?.[1];
      if (url && endpoint && token) {
        clearInterval(poll);
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ child, url, endpoint, token, output: () => text });
      }
    }, 100);
  });
}

async function stopServer(server: Server | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

interface Run {
  code: number;
  out: string;
  err: string;
}

/** `bin/rekey ARGS` in a child process, with only the given REKEY_ and AWS_ variables. */
function cli(args: string[], env: Record<string, string>): Promise<Run> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('REKEY_') && !name.startsWith('AWS_')),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/rekey.mjs', ...args],
      { env: { ...base, NODE_NO_WARNINGS: '1', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, out: stdout, err: stderr });
      },
    );
  });
}

/** Every folder and file under `root` (itself included), with its permission bits. */
function modesUnder(root: string): Array<{ path: string; dir: boolean; mode: number }> {
  const entries = [{ path: root, dir: true, mode: statSync(root).mode & 0o777 }];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) entries.push(...modesUnder(path));
    else entries.push({ path, dir: false, mode: statSync(path).mode & 0o777 });
  }
  return entries;
}

function call(
  method: string,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; json: Record<string, string> }> {
  return fetch(url, { method, headers }).then(async (res) => ({
    status: res.status,
    json: (await res.json().catch(() => ({}))) as Record<string, string>,
  }));
}

/** One raw request with any Host header (fetch would not send a foreign one). */
function rawPost(
  endpoint: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method: 'POST', path: '/', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

let root: string;
let dataDir: string;
let server: Server | undefined;
let beforeStart: Set<string>;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'rekey-runtime-'));
  dataDir = join(root, 'data');
  // A first run fills the data folder (table, vault, keys, credentials, outbox)...
  const first = await startServer(dataDir);
  await call('GET', `${first.url}/v2/demo/users/u-bob/random-password?notification_type=email`, {
    'x-auth-token': first.token,
  });
  await stopServer(first);
  // ...which then gets the modes a folder made by hand, a copy or an earlier version has.
  for (const entry of modesUnder(dataDir)) chmodSync(entry.path, entry.dir ? 0o755 : 0o644);
  beforeStart = new Set(modesUnder(dataDir).map((entry) => entry.path));
  server = await startServer(dataDir);
}, SPAWN_TIMEOUT);
afterAll(async () => {
  await stopServer(server);
  rmSync(root, { recursive: true, force: true });
}, SPAWN_TIMEOUT);

describe('npm start over a data folder that existed with loose modes', () => {
  it(
    'leaves every folder 0700 and every file 0600, the table’s LevelDB files and files created after start included',
    async () => {
      if (!server) throw new Error('no server');
      // Files written after start: a notification in the outbox, a new secret, the table's writes.
      const reset = await call(
        'GET',
        `${server.url}/v2/demo/users/u-alice/random-password?notification_type=email`,
        {
          'x-auth-token': server.token,
        },
      );
      expect(reset.status).toBe(200);

      const entries = modesUnder(dataDir);
      const created = entries.filter((entry) => !beforeStart.has(entry.path));
      // The control: the walk does see the table, and files that did not exist before this start.
      expect(entries.some((entry) => relative(dataDir, entry.path).startsWith('table'))).toBe(true);
      expect(created.some((entry) => relative(dataDir, entry.path).startsWith('table'))).toBe(true);
      const loose = entries
        .filter((entry) => entry.mode !== (entry.dir ? 0o700 : 0o600))
        .map((entry) => `${relative(dataDir, entry.path) || '.'} ${entry.mode.toString(8)}`);
      expect(loose).toEqual([]);
    },
    SPAWN_TIMEOUT,
  );
});

describe('the CLI next to a running npm start', () => {
  it(
    'reads a secret through the endpoint with the data folder’s credentials; REKEY_BACKEND=aws does with what `rekey env` exports',
    async () => {
      if (!server) throw new Error('no server');
      const reset = await call('POST', `${server.url}/20160918/users/u-alice/uiPassword`, {
        authorization: `Bearer ${server.token}`,
      });
      expect(reset.status).toBe(200);
      const secretId = reset.json.passwordSecretId ?? '';

      const local = await cli(['secret', 'get', secretId], {
        REKEY_DATA_DIR: dataDir,
        REKEY_LOCAL_ENDPOINT: server.endpoint,
      });
      expect(local.err).toBe('');
      expect(local.code).toBe(0);
      expect(JSON.parse(local.out)).toMatchObject({ userId: 'u-alice', username: 'alice' });

      const exported = await cli(['env'], { REKEY_DATA_DIR: dataDir, REKEY_LOCAL_ENDPOINT: server.endpoint });
      expect(exported.code).toBe(0);
      const env = Object.fromEntries(
        [...exported.out.matchAll(/^export (AWS_[A-Z_]+)='([^']*)'$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']),
      );
      expect(Object.keys(env).sort()).toEqual([
        'AWS_ACCESS_KEY_ID',
        'AWS_DEFAULT_REGION',
        'AWS_ENDPOINT_URL',
        'AWS_REGION',
        'AWS_SECRET_ACCESS_KEY',
      ]);
      expect(env.AWS_ENDPOINT_URL).toBe(server.endpoint);
      expect(exported.out).toContain('unset AWS_SESSION_TOKEN');

      const aws = await cli(['secret', 'get', secretId], { ...env, REKEY_BACKEND: 'aws' });
      expect(aws.err).toBe('');
      expect(aws.code).toBe(0);
      expect(aws.out).toBe(local.out);

      // The control: the same command with a secret key that is not the data folder's is refused.
      const forged = await cli(['secret', 'get', secretId], {
        ...env,
        AWS_SECRET_ACCESS_KEY: 'forged-secret-access-key-0000000000000000',
        REKEY_BACKEND: 'aws',
      });
      // (The vault adapter reports any refusal of Secrets Manager as the vault being unavailable.)
      expect(forged.code).toBe(1);
      expect(forged.err).toMatch(/^rekey: /);
      expect(forged.out).toBe('');
    },
    SPAWN_TIMEOUT,
  );

  it('refuses the review’s reproduction (unsigned, foreign Host) and an unsigned request to 127.0.0.1', async () => {
    if (!server) throw new Error('no server');
    const port = new URL(server.endpoint).port;
    const body = JSON.stringify({});
    for (const host of [`attacker.example:${port}`, `127.0.0.1:${port}`]) {
      const res = await rawPost(
        server.endpoint,
        { host, 'x-amz-target': 'secretsmanager.ListSecrets', 'content-length': String(body.length) },
        body,
      );
      expect(res.status).toBe(403);
      expect(res.body).not.toContain('rekey/temp');
    }
  });
});
