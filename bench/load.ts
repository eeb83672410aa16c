/**
 * `npm run load`: a real HTTP load test of the whole local API.
 *
 * 1. Starts `infra/local/start.ts` (what `npm start` runs) in a child process, on free ports
 *    (PORT=0, REKEY_LOCAL_ENDPOINT_PORT=0) over a fresh temporary REKEY_DATA_DIR, so it never
 *    meets a running `npm start`.
 * 2. Seeds a `load` realm, its users and DDM instances with the directory code, through the
 *    child's AWS-compatible endpoint; mints admin tokens with the child's development key
 *    (DATA_DIR/keys); gives the users that will sign in a known password through CloudSSO
 *    ResetUserPassword with a given `Password` (PERMANENT, no secret).
 * 3. Drives the gateway with autocannon from this process (not the server's), a fixed mix of
 *    all five routes on every connection, and records each response's route, status and time.
 * 4. Checks, over the whole run: no 5xx, no connection error or timeout, and as many live
 *    temporary secrets in the vault (ListSecrets through the endpoint) as TEMPORARY
 *    credentials in the table (a Scan through the endpoint), each secret referenced by one.
 *
 * No password reaches the output: they live in this process's memory only.
 *
 * Environment: LOAD_REQUESTS (default 6000), LOAD_CONNECTIONS (default 4), LOAD_WARMUP
 * (default 200), LOAD_UV_THREADPOOL_SIZE (the server child's libuv pool, default 4: node's),
 * LOAD_PROFILE=1 (the child runs with --cpu-prof; the .cpuprofile's folder is printed),
 * LOAD_CP_USERS (users that change their password, default 300).
 */
import '../infra/local/node-warnings.ts';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { createDynamoDbClient, createSecretsManagerClient } from '#adapters/aws-clients.ts';
import { createRuntime } from '#adapters/runtime.ts';
import type { Directory } from '#core/ports.ts';
import { newInstance, newRealm, newUser } from '../functions/core/factories.ts';
import { loadDevKey, mintToken } from '../infra/local/dev-tokens.ts';
import { localClientOptions } from '../infra/local/embedded-backend.ts';
import { requireLocalCredentials } from '../infra/local/endpoint-credentials.ts';
import { localSettings } from '../infra/local/local-settings.ts';
import { percentile, table } from './stats.ts';

// ---------------------------------------------------------------------------------------------
// Settings

const REQUESTS = positive('LOAD_REQUESTS', 6000);
/**
 * Little's law: 120 req/s at a ~30 ms mean latency is ~4 requests in flight. More connections
 * only queue on the two cores (argon2id saturates them) and lengthen p99.
 */
const CONNECTIONS = positive('LOAD_CONNECTIONS', 4);
const WARMUP = positive('LOAD_WARMUP', 200);
const UV_THREADPOOL_SIZE = positive('LOAD_UV_THREADPOOL_SIZE', 4);
const PROFILE = process.env.LOAD_PROFILE === '1';
const CP_USERS = positive('LOAD_CP_USERS', 300);
const GOAL_RPS = 120;
const GOAL_P99_MS = 100;

const REALM = 'load';
const POOL = 48;
const WRONG_USERS = 32;
const INSTANCES = 32;
const TEMP_PREFIX = 'rekey/temp/';

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// The server child

interface Server {
  child: ChildProcess;
  url: string;
  endpoint: string;
  dataDir: string;
  logPath: string;
  profileDir: string | undefined;
}

async function startServer(): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rekey-load-'));
  const logPath = join(dataDir, 'server.log');
  const profileDir = PROFILE ? join(dataDir, 'profile') : undefined;
  // The child's output goes to a file: a pipe this process is slow to drain would block the
  // server's synchronous writes (its access log) and time them into the results.
  const log = openSync(logPath, 'a', 0o600);
  const child = spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      '--import',
      'tsx',
      'infra/local/start.ts',
    ],
    {
      env: {
        ...process.env,
        PORT: '0',
        REKEY_LOCAL_ENDPOINT_PORT: '0',
        REKEY_DATA_DIR: join(dataDir, 'data'),
        UV_THREADPOOL_SIZE: String(UV_THREADPOOL_SIZE),
        NODE_NO_WARNINGS: '1',
      },
      stdio: ['ignore', log, log],
    },
  );
  closeSync(log);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const text = readFileSync(logPath, 'utf8');
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
    const endpoint = /AWS-compatible endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
    if (url && endpoint) {
      return { child, url, endpoint, dataDir: join(dataDir, 'data'), logPath, profileDir };
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`the server child did not start; its output is in ${logPath}`);
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * argon2id hashes a second with nothing else running, in a child with the server's pool size
 * and as many hashes in flight as the pool has threads: the ceiling of every hashing route.
 */
function argon2Ceiling(): number {
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'bench/argon2-ceiling.ts', String(UV_THREADPOOL_SIZE)],
    { env: { ...process.env, UV_THREADPOOL_SIZE: String(UV_THREADPOOL_SIZE), NODE_NO_WARNINGS: '1' } },
  );
  if (out.status !== 0) throw new Error(`the argon2id ceiling child failed: ${out.stderr.toString()}`);
  return Number(out.stdout.toString());
}

/**
 * CPU time (ms) the child has used so far: its main thread (the event loop: gateway, handlers,
 * SDK clients, endpoint, dynalite) and the whole process (plus the libuv pool: argon2id, LevelDB,
 * fs). From /proc, so it holds however busy the rest of the machine is; undefined elsewhere.
 */
function cpuOf(pid: number | undefined): { mainMs: number; totalMs: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const ticks = (path: string) => {
      // Fields after the command name (which may hold spaces): utime and stime are 14th and 15th.
      const fields = readFileSync(path, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return Number(fields[11]) + Number(fields[12]);
    };
    const hz = 100; // USER_HZ on Linux
    return {
      mainMs: (ticks(`/proc/${pid}/task/${pid}/stat`) * 1000) / hz,
      totalMs: (ticks(`/proc/${pid}/stat`) * 1000) / hz,
    };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Passwords (in memory only; never printed)

/** Random and policy-proof: `oci` (12–40, upper, lower, digit), CloudSSO (4 classes), DDM (`~!@#%^*-_=+?`). */
function freshPassword(): string {
  return `Aa1#${randomBytes(12).toString('base64url')}`;
}

// ---------------------------------------------------------------------------------------------
// The mix

type Slot = 'ui' | 'random' | 'reset' | 'ddm' | 'change' | 'change-wrong' | 'change-unknown';

/** One cycle of the mix, interleaved; every connection takes the next slot of one shared sequence. */
const MIX: readonly Slot[] = [
  'ui',
  'change',
  'random',
  'reset',
  'ddm',
  'ui',
  'change',
  'random',
  'change-wrong',
  'reset',
  'ddm',
  'ui',
  'change',
  'random',
  'reset',
  'ddm',
  'ui',
  'change-unknown',
  'random',
  'reset',
];

const ROUTE_OF: Record<Slot, string> = {
  ui: 'POST /20160918/users/{userId}/uiPassword',
  random: 'GET /v2/{project_id}/users/{user_id}/random-password',
  reset: 'POST /cloudsso/2021-05-15/ResetUserPassword',
  ddm: 'PUT /v3/{project_id}/instances/{instance_id}/admin-user',
  change: 'PUT /20160918/changepassword',
  'change-wrong': 'PUT /20160918/changepassword',
  'change-unknown': 'PUT /20160918/changepassword',
};

/** Slots whose request runs argon2id (all but DDM, which stores its password in the vault). */
const HASHING: ReadonlySet<Slot> = new Set([
  'ui',
  'random',
  'reset',
  'change',
  'change-wrong',
  'change-unknown',
]);

interface Account {
  userId: string;
  username: string;
  /** The current password, for those that sign in. */
  password?: string;
  /** How many previous hashes the user record holds (bounded by the oci policy's depth 4). */
  history: number;
}

/** A FIFO of accounts not in flight: one request per account at a time, so no 409s from the driver. */
class Pool<T> {
  private readonly free: T[];
  constructor(items: T[]) {
    this.free = [...items];
  }
  take(): T {
    const item = this.free.shift();
    if (item === undefined) throw new Error('pool exhausted: more connections than accounts');
    return item;
  }
  give(item: T): void {
    this.free.push(item);
  }
}

interface Accounts {
  ui: Pool<Account>;
  random: Pool<Account>;
  reset: Pool<Account>;
  change: Pool<Account>;
  wrong: Pool<Account>;
  instances: Pool<string>;
}

interface Sample {
  slot: Slot;
  status: number;
  ms: number;
  /** argon2id operations the server ran for this request (known from the account's history). */
  hashes: number;
}

interface RequestContext {
  slot?: Slot;
  account?: Account;
  instance?: string;
  next?: string;
  hashes?: number;
  resetNextJson?: boolean;
}

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest, context: RequestContext) => AutocannonRequest;
  onResponse?: (status: number, body: string, context: RequestContext) => void;
}

interface AutocannonResult {
  errors: number;
  timeouts: number;
  duration: number;
  start: Date;
  finish: Date;
}

interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}

type Autocannon = (
  options: {
    url: string;
    connections: number;
    pipelining: number;
    amount: number;
    timeout: number;
    requests: AutocannonRequest[];
  },
  done: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** Runs `amount` requests of the mix over `connections`; resolves to every sample and autocannon's result. */
function drive(
  url: string,
  token: string,
  accounts: Accounts,
  amount: number,
  connections: number,
): Promise<{ samples: Sample[]; result: AutocannonResult; wallMs: number }> {
  let sequence = 0;
  let resetJson = true;
  const samples: Sample[] = [];
  // onResponse runs just before the 'response' event of the same reply, on the same client:
  // it hands the reply's slot to the listener that gets the time.
  let answered: { slot: Slot; hashes: number } | undefined;

  const setupRequest = (req: AutocannonRequest, context: RequestContext): AutocannonRequest => {
    const slot = MIX[sequence++ % MIX.length] as Slot;
    context.slot = slot;
    context.hashes = 1;
    const json = { 'content-type': 'application/json' };
    switch (slot) {
      case 'ui': {
        const account = accounts.ui.take();
        context.account = account;
        return {
          ...req,
          method: 'POST',
          path: `/20160918/users/${account.userId}/uiPassword`,
          headers: { authorization: `Bearer ${token}` },
          body: '',
        };
      }
      case 'random': {
        const account = accounts.random.take();
        context.account = account;
        return {
          ...req,
          method: 'GET',
          path: `/v2/${REALM}/users/${account.userId}/random-password?notification_type=email`,
          headers: { 'x-auth-token': token },
          body: '',
        };
      }
      case 'reset': {
        // Alternately a generated password that must be changed at next sign-in (TEMPORARY, a
        // secret), as JSON, and a given one (PERMANENT, no secret), as a query: the two kinds
        // the secret/credential check counts.
        const account = accounts.reset.take();
        context.account = account;
        resetJson = !resetJson;
        const auth = { authorization: `Bearer ${token}` };
        if (resetJson) {
          return {
            ...req,
            method: 'POST',
            path: '/cloudsso/2021-05-15/ResetUserPassword',
            headers: { ...auth, ...json },
            body: JSON.stringify({
              DirectoryId: REALM,
              UserId: account.userId,
              GenerateRandomPassword: true,
              RequirePasswordResetForNextLogin: true,
            }),
          };
        }
        const query = new URLSearchParams({
          DirectoryId: REALM,
          UserId: account.userId,
          Password: freshPassword(),
          RequirePasswordResetForNextLogin: 'False',
        });
        return {
          ...req,
          method: 'POST',
          path: `/cloudsso/2021-05-15/ResetUserPassword?${query}`,
          headers: auth,
          body: '',
        };
      }
      case 'ddm': {
        const instance = accounts.instances.take();
        context.instance = instance;
        context.hashes = 0;
        return {
          ...req,
          method: 'PUT',
          path: `/v3/${REALM}/instances/${instance}/admin-user`,
          headers: { 'x-auth-token': token, ...json },
          body: JSON.stringify({ name: 'dbadmin', password: freshPassword() }),
        };
      }
      case 'change': {
        const account = accounts.change.take();
        context.account = account;
        context.next = freshPassword();
        // Current password, then each of the last 4 (oci policy) against the new one, then the new hash.
        context.hashes = 2 + Math.min(account.history, 4);
        return {
          ...req,
          method: 'PUT',
          path: '/20160918/changepassword',
          headers: json,
          body: JSON.stringify({
            username: account.username,
            currentPassword: account.password,
            newPassword: context.next,
          }),
        };
      }
      case 'change-wrong': {
        const account = accounts.wrong.take();
        context.account = account;
        return {
          ...req,
          method: 'PUT',
          path: '/20160918/changepassword',
          headers: json,
          body: JSON.stringify({
            username: account.username,
            currentPassword: freshPassword(),
            newPassword: freshPassword(),
          }),
        };
      }
      case 'change-unknown':
        return {
          ...req,
          method: 'PUT',
          path: '/20160918/changepassword',
          headers: json,
          body: JSON.stringify({
            username: `nobody-${randomBytes(6).toString('hex')}`,
            currentPassword: freshPassword(),
            newPassword: freshPassword(),
          }),
        };
    }
  };

  const onResponse = (status: number, _body: string, context: RequestContext): void => {
    const slot = context.slot as Slot;
    answered = { slot, hashes: context.hashes ?? 0 };
    const account = context.account;
    if (slot === 'change' && account) {
      if (status === 200 && context.next) {
        account.password = context.next;
        account.history++;
      }
      accounts.change.give(account);
    } else if (slot === 'change-wrong' && account) accounts.wrong.give(account);
    else if (slot === 'ui' && account) accounts.ui.give(account);
    else if (slot === 'random' && account) accounts.random.give(account);
    else if (slot === 'reset' && account) accounts.reset.give(account);
    else if (slot === 'ddm' && context.instance) accounts.instances.give(context.instance);
  };

  return new Promise((resolve, reject) => {
    const started = performance.now();
    const instance = autocannon(
      {
        url,
        connections,
        pipelining: 1,
        amount,
        timeout: 30,
        requests: [{ setupRequest, onResponse }],
      },
      (error, result) =>
        error ? reject(error) : resolve({ samples, result, wallMs: performance.now() - started }),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (!answered) return;
      samples.push({ slot: answered.slot, status, ms, hashes: answered.hashes });
      answered = undefined;
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Seeding

async function mapLimit<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await run(items[next++] as T);
    }),
  );
}

function accountsOf(prefix: string, count: number): Account[] {
  return Array.from({ length: count }, (_, i) => ({
    userId: `u-${prefix}-${String(i).padStart(4, '0')}`,
    username: `${prefix}-${String(i).padStart(4, '0')}`,
    history: 0,
  }));
}

async function seed(server: Server, token: string): Promise<Accounts> {
  const { deps, dynamoDb } = createRuntime('load-seed', {
    clients: localClientOptions(server.endpoint, requireLocalCredentials(server.dataDir)),
    settings: localSettings(),
  });
  const directory: Directory = deps.directory;
  await directory.createRealm(newRealm(REALM, 'loadcorp'));
  const groups = {
    ui: accountsOf('ui', POOL),
    random: accountsOf('rand', POOL),
    reset: accountsOf('sso', POOL),
    change: accountsOf('cp', CP_USERS),
    wrong: accountsOf('bad', WRONG_USERS),
  };
  const all = Object.values(groups).flat();
  await mapLimit(all, 8, (a) =>
    directory.createUser(
      newUser({ realmId: REALM, userId: a.userId, username: a.username, email: `${a.username}@example.com` }),
    ),
  );
  const instances = Array.from({ length: INSTANCES }, (_, i) => `ddm-${String(i).padStart(3, '0')}`);
  await mapLimit(instances, 8, (instanceId) =>
    directory.saveInstance(newInstance({ realmId: REALM, instanceId }), undefined),
  );
  dynamoDb.destroy();

  // Known PERMANENT passwords for the accounts that sign in (the right one, or a wrong one
  // against a real credential), set through the API as an admin would: CloudSSO with a Password.
  await mapLimit([...groups.change, ...groups.wrong], CONNECTIONS, async (account) => {
    const password = freshPassword();
    const res = await fetch(`${server.url}/cloudsso/2021-05-15/ResetUserPassword`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ DirectoryId: REALM, UserId: account.userId, Password: password }),
    });
    await res.arrayBuffer();
    if (res.status !== 200)
      throw new Error(`seeding ${account.userId}: ResetUserPassword answered ${res.status}`);
    account.password = password;
  });
  return {
    ui: new Pool(groups.ui),
    random: new Pool(groups.random),
    reset: new Pool(groups.reset),
    change: new Pool(groups.change),
    wrong: new Pool(groups.wrong),
    instances: new Pool(instances),
  };
}

// ---------------------------------------------------------------------------------------------
// The secret/credential check

interface Consistency {
  temporaryCredentials: number;
  liveTemporarySecrets: number;
  unreferencedSecrets: number;
  danglingCredentials: number;
}

async function consistency(server: Server): Promise<Consistency> {
  const clients = localClientOptions(server.endpoint, requireLocalCredentials(server.dataDir));
  const dynamoDb = createDynamoDbClient(clients);
  const secretsManager = createSecretsManagerClient(clients);
  const referenced = new Set<string>();
  let temporaryCredentials = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamoDb.send(
      new ScanCommand({
        TableName: localSettings().tableName,
        ...(start ? { ExclusiveStartKey: start as never } : {}),
      }),
    );
    for (const raw of page.Items ?? []) {
      const item = unmarshall(raw);
      if (item.kind !== 'user' || !item.credential) continue;
      if (item.credential.kind === 'TEMPORARY') temporaryCredentials++;
      if (item.credential.secretId) referenced.add(String(item.credential.secretId));
    }
    start = page.LastEvaluatedKey;
  } while (start);
  const live: string[] = [];
  let token: string | undefined;
  do {
    const page = await secretsManager.send(
      new ListSecretsCommand({
        Filters: [{ Key: 'name', Values: [TEMP_PREFIX] }],
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const secret of page.SecretList ?? []) {
      if (secret.ARN && secret.Name?.startsWith(TEMP_PREFIX)) live.push(secret.ARN);
    }
    token = page.NextToken;
  } while (token);
  dynamoDb.destroy();
  secretsManager.destroy();
  const liveSet = new Set(live);
  return {
    temporaryCredentials,
    liveTemporarySecrets: live.length,
    unreferencedSecrets: live.filter((arn) => !referenced.has(arn)).length,
    danglingCredentials: [...referenced].filter((arn) => !liveSet.has(arn)).length,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function statusSummary(samples: Sample[]): string {
  const counts = new Map<number, number>();
  for (const s of samples) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, n]) => `${status}: ${n}`)
    .join(', ');
}

function row(label: string, samples: Sample[], seconds: number): string[] {
  const ms = samples.map((s) => s.ms);
  const hashes = samples.reduce((sum, s) => sum + s.hashes, 0) / Math.max(1, samples.length);
  return [
    label,
    String(samples.length),
    (samples.length / seconds).toFixed(1),
    percentile(ms, 50).toFixed(0),
    percentile(ms, 99).toFixed(0),
    hashes.toFixed(1),
    statusSummary(samples),
  ];
}

// ---------------------------------------------------------------------------------------------
// Main

// Measured before the server starts, on a quiet machine.
const hashesPerSecond = argon2Ceiling();
const server = await startServer();
let exitCode = 1;
try {
  const key = await loadDevKey(join(server.dataDir, 'keys'));
  const token = await mintToken(key, { realmId: REALM, subject: 'load-test' });
  const accounts = await seed(server, token);

  const warm = await drive(server.url, token, accounts, WARMUP, CONNECTIONS);
  const load = loadavg()[0] ?? 0;
  const cpuBefore = cpuOf(server.child.pid);
  const driverBefore = process.cpuUsage();
  const run = await drive(server.url, token, accounts, REQUESTS, CONNECTIONS);
  const cpuAfter = cpuOf(server.child.pid);
  const driver = process.cpuUsage(driverBefore);
  const seconds = run.wallMs / 1000;
  const check = await consistency(server);

  const all = run.samples;
  const hashing = all.filter((s) => HASHING.has(s.slot));
  const bySlot = (...slots: Slot[]) => all.filter((s) => slots.includes(s.slot));
  const serverErrors = [...warm.samples, ...all].filter((s) => s.status >= 500).length;
  const transportErrors = warm.result.errors + warm.result.timeouts + run.result.errors + run.result.timeouts;
  const hashingRps = hashing.length / seconds;
  const hashingP99 = percentile(
    hashing.map((s) => s.ms),
    99,
  );
  const hashesPerRequest = hashing.reduce((sum, s) => sum + s.hashes, 0) / hashing.length;
  // The most the hashing routes could serve if argon2id were their only cost.
  const ceilingRps = hashesPerSecond / hashesPerRequest;

  console.log(
    `rekey load — node ${process.version}, ${all.length} requests (after ${warm.samples.length} warm-up), ` +
      `${CONNECTIONS} connections (autocannon, pipelining 1), ${seconds.toFixed(1)} s, ` +
      `server child UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE}, ${cpus().length} CPUs, load average ${load.toFixed(1)} at start`,
  );
  const per = (ms: number) => (ms / all.length).toFixed(1);
  const driverMs = (driver.user + driver.system) / 1000;
  if (cpuBefore && cpuAfter) {
    const serverMs = cpuAfter.totalMs - cpuBefore.totalMs;
    // What the measured CPU cost allows at best: every core busy with the server alone.
    const bound = (cpus().length * 1000 * all.length) / serverMs;
    console.log(
      `server CPU per request: ${per(serverMs)} ms in all, ${per(cpuAfter.mainMs - cpuBefore.mainMs)} ms ` +
        `on its event-loop thread (the rest: libuv pool, argon2id); load generator: ${per(driverMs)} ms. ` +
        `Bound on ${cpus().length} otherwise idle cores: ${bound.toFixed(0)} req/s.`,
    );
  } else {
    console.log(`load generator CPU per request: ${per(driverMs)} ms`);
  }
  console.log(
    `argon2id alone (nothing else running, ${UV_THREADPOOL_SIZE} in flight): ${hashesPerSecond.toFixed(1)} hashes/s. ` +
      `At ${hashesPerRequest.toFixed(2)} hashes per hashing request, the hashing routes' ceiling, ` +
      `every other cost zero: ${ceilingRps.toFixed(0)} req/s.`,
  );
  console.log('');
  console.log(
    table(
      ['route', 'requests', 'req/s', 'p50 (ms)', 'p99 (ms)', 'argon2id ops/req', 'statuses'],
      [
        row(ROUTE_OF.ui, bySlot('ui'), seconds),
        row(ROUTE_OF.change, bySlot('change', 'change-wrong', 'change-unknown'), seconds),
        row('  … right current password', bySlot('change'), seconds),
        row('  … wrong password, known user', bySlot('change-wrong'), seconds),
        row('  … unknown user', bySlot('change-unknown'), seconds),
        row(ROUTE_OF.random, bySlot('random'), seconds),
        row(ROUTE_OF.reset, bySlot('reset'), seconds),
        row(ROUTE_OF.ddm, bySlot('ddm'), seconds),
        row('**hashing routes**', hashing, seconds),
        row('**all routes**', all, seconds),
      ],
    ),
  );

  const goal = hashingRps >= GOAL_RPS && hashingP99 <= GOAL_P99_MS;
  const consistent =
    check.liveTemporarySecrets === check.temporaryCredentials &&
    check.unreferencedSecrets === 0 &&
    check.danglingCredentials === 0;
  console.log('');
  console.log(
    table(
      ['check', 'result', 'pass'],
      [
        ['5xx responses (warm-up and run)', String(serverErrors), serverErrors === 0 ? 'yes' : 'NO'],
        ['connection errors and timeouts', String(transportErrors), transportErrors === 0 ? 'yes' : 'NO'],
        [
          'live temporary secrets (vault) = TEMPORARY credentials (table)',
          `${check.liveTemporarySecrets} = ${check.temporaryCredentials}`,
          check.liveTemporarySecrets === check.temporaryCredentials ? 'yes' : 'NO',
        ],
        [
          'secrets no credential refers to / credentials whose secret is gone',
          `${check.unreferencedSecrets} / ${check.danglingCredentials}`,
          check.unreferencedSecrets === 0 && check.danglingCredentials === 0 ? 'yes' : 'NO',
        ],
        [
          `goal: hashing routes ≥ ${GOAL_RPS} req/s, p99 ≤ ${GOAL_P99_MS} ms`,
          `${hashingRps.toFixed(1)} req/s (argon2id ceiling ${ceilingRps.toFixed(0)}), p99 ${hashingP99.toFixed(0)} ms`,
          goal ? 'yes' : 'no (not a failure)',
        ],
      ],
    ),
  );
  exitCode = serverErrors === 0 && transportErrors === 0 && consistent ? 0 : 1;
} finally {
  await stopServer(server);
  if (server.profileDir) {
    console.log(`\nCPU profile of the server child: ${server.profileDir}`);
  } else if (exitCode === 0) {
    rmSync(join(server.dataDir, '..'), { recursive: true, force: true });
  } else {
    console.log(`\nServer output kept in ${server.logPath}`);
  }
}
process.exit(exitCode);
