/**
 * How the CLI finds the running `npm start`, and how a second one is turned away (issue 16),
 * through the real entry points in child processes: `npm start`'s start.ts in a project folder
 * of its own (no REKEY_DATA_DIR: its data folder is the project's .rekey) on free ports, and
 * `bin/rekey` run from that project and a subfolder with no REKEY_ or AWS_ variable at all.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseLogEnv } from '#test/support/openapi-setup.ts';

const SPAWN_TIMEOUT = 90_000;
const REPO = resolve('.');
const START = join(REPO, 'infra/local/start.ts');
const REKEY = join(REPO, 'bin/rekey.mjs');
// `--import tsx`, resolved from the repository rather than from the child's working directory.
const TSX = join(REPO, 'node_modules/tsx/dist/loader.mjs');

/** The environment without any REKEY_ or AWS_ variable: what a new operator's shell has. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('REKEY_') && !name.startsWith('AWS_')),
  );
  return { ...base, NODE_NO_WARNINGS: '1', ...extra };
}

interface Server {
  child: ChildProcess;
  url: string;
  endpoint: string;
  token: string;
  output: () => string;
}

interface Exit {
  code: number | null;
  out: string;
  err: string;
}

/** Spawns npm start's entry point in `cwd`; resolves with the server once it printed its banner, or its exit. */
function start(cwd: string, env: Record<string, string> = {}): Promise<Server | Exit> {
  const child = spawn(process.execPath, ['--import', TSX, START], {
    cwd,
    env: cleanEnv({ PORT: '0', REKEY_LOCAL_ENDPOINT_PORT: '0', ...responseLogEnv(), ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up: ${out}${err}`)), 60_000);
    const poll = setInterval(() => {
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      const endpoint = /AWS-compatible endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      const token = /export REKEY_TOKEN=(\S+)/.exec(out)?.[1];
      if (url && endpoint && token) {
        clearInterval(poll);
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolvePromise({ child, url, endpoint, token, output: () => out + err });
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      // Let the pipes drain.
      setTimeout(() => resolvePromise({ code, out, err }), 50);
    });
  });
}

async function startServer(cwd: string, env: Record<string, string> = {}): Promise<Server> {
  const result = await start(cwd, env);
  if (!('child' in result)) throw new Error(`npm start exited with ${result.code}: ${result.err}`);
  return result;
}

async function stop(server: Server | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolvePromise) => server.child.once('exit', resolvePromise));
  server.child.kill(signal);
  await exited;
}

/** `bin/rekey ARGS` run in `cwd` with no REKEY_ or AWS_ variable. */
function rekey(cwd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [REKEY, ...args],
      { cwd, env: cleanEnv(), timeout: 60_000 },
      (error, out, err) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, out, err });
      },
    );
  });
}

/** A pid no process has: one that just exited. */
function deadPid(): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.once('exit', () => resolvePromise(child.pid ?? 0));
  });
}

let root: string;
/** A project folder (with a subfolder, as docs/) where npm start runs without REKEY_DATA_DIR. */
let project: string;
let server: Server;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'rekey-run-file-'));
  project = join(root, 'project');
  mkdirSync(join(project, 'docs'), { recursive: true });
  server = await startServer(project);
}, SPAWN_TIMEOUT);
afterAll(async () => {
  await stop(server);
  rmSync(root, { recursive: true, force: true });
}, SPAWN_TIMEOUT);

describe('npm start’s run file', () => {
  it('is <project>/.rekey/run.json, 0600, naming its pid and the URLs it listens on', () => {
    const path = join(project, '.rekey', 'run.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({
      pid: server.child.pid,
      api: server.url,
      endpoint: server.endpoint,
      backend: 'embedded',
    });
  });

  it('the "Try:" lines need no variable for the CLI, the ports being found in the run file', () => {
    const text = server.output();
    expect(text).toMatch(/^ {2}npx rekey secret get </m);
    expect(text).toContain('eval "$(npx rekey env)"');
    expect(text).not.toContain('REKEY_LOCAL_ENDPOINT');
    expect(text).not.toContain('REKEY_DATA_DIR');
  });
});

describe('the CLI next to an npm start on non-default ports, with no extra variables', () => {
  it(
    'reads the secret the API stored, from the project and from a subfolder',
    async () => {
      const reset = await fetch(`${server.url}/20160918/users/u-alice/uiPassword`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}` },
      });
      expect(reset.status).toBe(200);
      const { passwordSecretId } = (await reset.json()) as { passwordSecretId: string };
      for (const cwd of [project, join(project, 'docs')]) {
        const run = await rekey(cwd, ['secret', 'get', passwordSecretId]);
        expect(run.err).toBe('');
        expect(run.code).toBe(0);
        expect(JSON.parse(run.out)).toMatchObject({ userId: 'u-alice', username: 'alice' });
      }
    },
    SPAWN_TIMEOUT,
  );

  it(
    '`token` from a subfolder signs with the project’s key (the server accepts it) and creates no second data folder',
    async () => {
      const run = await rekey(join(project, 'docs'), ['token', '--realm', 'demo']);
      expect(run.err).toBe('');
      expect(run.code).toBe(0);
      expect(existsSync(join(project, 'docs', '.rekey'))).toBe(false);
      const res = await fetch(`${server.url}/20160918/users/u-bob/uiPassword`, {
        method: 'POST',
        headers: { authorization: `Bearer ${run.out.trim()}` },
      });
      expect(res.status).toBe(200);
    },
    SPAWN_TIMEOUT,
  );

  it(
    '`env` exports the running endpoint, read from the run file',
    async () => {
      const run = await rekey(join(project, 'docs'), ['env']);
      expect(run.code).toBe(0);
      expect(run.out).toContain(`export AWS_ENDPOINT_URL='${server.endpoint}'`);
    },
    SPAWN_TIMEOUT,
  );
});

describe('a second npm start', () => {
  it(
    'on the same data folder exits non-zero with one line naming the first one’s pid, and leaves it running',
    async () => {
      const second = await start(project);
      expect('child' in second).toBe(false);
      const { code, out, err } = second as Exit;
      expect(code).not.toBe(0);
      expect(err).toBe(
        `rekey: another rekey (pid ${server.child.pid}) is using the data folder ${join(project, '.rekey')}; stop it first, or start this one with another REKEY_DATA_DIR\n`,
      );
      expect(out).toBe('');
      // The first one still answers, and its run file is still there.
      expect(JSON.parse(readFileSync(join(project, '.rekey', 'run.json'), 'utf8')).pid).toBe(
        server.child.pid,
      );
      expect((await rekey(project, ['token', '--realm', 'demo'])).code).toBe(0);
    },
    SPAWN_TIMEOUT,
  );

  it(
    'on the ports of the running one, with another data folder, exits non-zero with one line naming its pid',
    async () => {
      const other = join(root, 'other-rekey');
      mkdirSync(other);
      const port = new URL(server.url).port;
      const second = await start(other, { PORT: port });
      expect('child' in second).toBe(false);
      const { code, err } = second as Exit;
      expect(code).not.toBe(0);
      expect(err).toBe(
        `rekey: port ${port} is in use by another rekey (pid ${server.child.pid}); stop it, or start this one on other ports (PORT=… REKEY_LOCAL_ENDPOINT_PORT=…)\n`,
      );
      // It let go of its data folder's lock on the way out, and the folder it had made for this
      // run is gone with it: a failed start leaves nothing behind.
      expect(existsSync(join(other, '.rekey', 'run.json'))).toBe(false);
      expect(existsSync(join(other, '.rekey'))).toBe(false);
    },
    SPAWN_TIMEOUT,
  );

  it(
    'on a port in use, keeps a data folder that was there before it, with what it holds',
    async () => {
      const other = join(root, 'kept-folder');
      mkdirSync(join(other, '.rekey'), { recursive: true });
      writeFileSync(join(other, '.rekey', 'keep.txt'), 'earlier data\n');
      const second = await start(other, { PORT: new URL(server.url).port });
      expect('child' in second).toBe(false);
      expect((second as Exit).code).not.toBe(0);
      expect(readFileSync(join(other, '.rekey', 'keep.txt'), 'utf8')).toBe('earlier data\n');
      expect(existsSync(join(other, '.rekey', 'run.json'))).toBe(false);
    },
    SPAWN_TIMEOUT,
  );

  it(
    'on an endpoint port another program holds, exits non-zero with one line naming that program’s pid',
    async () => {
      const taken: NetServer = createServer();
      await new Promise<void>((resolvePromise) => taken.listen(0, '127.0.0.1', resolvePromise));
      const port = (taken.address() as { port: number }).port;
      try {
        const other = join(root, 'other-program');
        mkdirSync(other);
        const second = await start(other, { REKEY_LOCAL_ENDPOINT_PORT: String(port) });
        expect('child' in second).toBe(false);
        const { code, err } = second as Exit;
        expect(code).not.toBe(0);
        expect(err).toBe(
          `rekey: port ${port} is in use by another program (pid ${process.pid}); stop it, or start this one on other ports (PORT=… REKEY_LOCAL_ENDPOINT_PORT=…)\n`,
        );
        // The embedded store had opened its files in the folder this run made: all removed.
        expect(existsSync(join(other, '.rekey'))).toBe(false);
      } finally {
        await new Promise((resolvePromise) => taken.close(resolvePromise));
      }
    },
    SPAWN_TIMEOUT,
  );
});

describe('when no npm start runs', () => {
  it(
    'the run file is removed on SIGINT, and the CLI then says so in one line, exit 1',
    async () => {
      const folder = join(root, 'stopped');
      mkdirSync(join(folder, 'docs'), { recursive: true });
      const running = await startServer(folder);
      const runFile = join(folder, '.rekey', 'run.json');
      expect(existsSync(runFile)).toBe(true);
      await stop(running, 'SIGINT');
      expect(existsSync(runFile)).toBe(false);
      for (const args of [['secret', 'get', 'anything'], ['token', '--realm', 'demo'], ['env']]) {
        const run = await rekey(join(folder, 'docs'), args);
        expect(run.code).toBe(1);
        expect(run.out).toBe('');
        expect(run.err).toBe(
          `rekey: no "npm start" is running on the data folder ${join(folder, '.rekey')}; start it with "npm start"\n`,
        );
      }
    },
    SPAWN_TIMEOUT,
  );

  it(
    'a run file left by a process that died is stale: the CLI says so, and the next npm start takes it over',
    async () => {
      const folder = join(root, 'crashed');
      mkdirSync(join(folder, '.rekey'), { recursive: true, mode: 0o700 });
      const pid = await deadPid();
      writeFileSync(
        join(folder, '.rekey', 'run.json'),
        JSON.stringify({ pid, endpoint: 'http://127.0.0.1:9' }),
      );
      const run = await rekey(folder, ['secret', 'get', 'anything']);
      expect(run.code).toBe(1);
      expect(run.err).toBe(
        `rekey: no "npm start" is running on the data folder ${join(folder, '.rekey')} (its run.json names pid ${pid}, which has exited); start it with "npm start"\n`,
      );
      const restarted = await startServer(folder);
      try {
        expect(JSON.parse(readFileSync(join(folder, '.rekey', 'run.json'), 'utf8')).pid).toBe(
          restarted.child.pid,
        );
      } finally {
        await stop(restarted);
      }
    },
    SPAWN_TIMEOUT,
  );

  it(
    'outside any project the CLI finds no data folder, says so in one line, and creates none',
    async () => {
      const lost = join(root, 'elsewhere', 'docs');
      mkdirSync(lost, { recursive: true });
      const run = await rekey(lost, ['token', '--realm', 'demo']);
      expect(run.code).toBe(1);
      expect(run.out).toBe('');
      expect(run.err).toBe(
        `rekey: no data folder: neither ${lost} nor a folder above it holds a .rekey folder; run "npm start" in the project (it creates one), or set REKEY_DATA_DIR\n`,
      );
      expect(existsSync(join(lost, '.rekey'))).toBe(false);
      expect(existsSync(join(root, 'elsewhere', '.rekey'))).toBe(false);
    },
    SPAWN_TIMEOUT,
  );

  it(
    '`rekey audit | head`: a reader that stops early ends the output, exit 0, no stack trace',
    async () => {
      const folder = join(root, 'piped', '.rekey');
      mkdirSync(folder, { recursive: true });
      // Enough records that the CLI is still writing when the reader has gone.
      const record = (i: number) =>
        JSON.stringify({ detail: { class_uid: 3001, user: { uid: `u-${i}`, domain: 'demo' }, time: i } });
      writeFileSync(
        join(folder, 'audit.jsonl'),
        `${Array.from({ length: 20_000 }, (_, i) => record(i)).join('\n')}\n`,
      );
      const child = spawn(process.execPath, [REKEY, 'audit'], {
        cwd: join(root, 'piped'),
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      child.stdout?.once('data', () => child.stdout?.destroy());
      const code = await new Promise<number | null>((resolvePromise) => child.once('exit', resolvePromise));
      expect(err).toBe('');
      expect(code).toBe(0);
    },
    SPAWN_TIMEOUT,
  );
});
