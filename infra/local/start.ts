/**
 * `npm start`: the whole API on http://127.0.0.1:3000 (PORT) over the embedded backend (or, with
 * REKEY_BACKEND=aws, over whatever the standard AWS environment points at), a demo realm and
 * users, and an admin token to paste.
 */
import './node-warnings.ts';
import './local-env.ts';
import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRuntime } from '#adapters/runtime.ts';
import { sweeperSettingsFromEnv } from '#functions/sweeper/settings.ts';
import { restrictUmask } from './data-folder.ts';
import { DEMO_REALM_ID, DEMO_REALM_NAME, DEMO_USERS, seedDemo } from './demo.ts';
import { mintToken } from './dev-tokens.ts';
import { observeGatewayResponses } from './gateway-observers.ts';
import { startLocalApi } from './local-api.ts';
import { portOwner } from './port-owner.ts';
import { DATA_FOLDER_NAME, type DataFolderLock, findDataDir, lockDataFolder, RUN_FILE } from './run-file.ts';
import { startSweepTimer, sweepIntervalFromEnv } from './sweep-timer.ts';

// Whatever this process creates in the data folder (LevelDB's files too) is owner-only.
restrictUmask();
// For the test suite's OpenAPI response check (test/support/openapi-setup.ts): with
// REKEY_RESPONSE_LOG set, every response this server sends is appended to that file, so the
// tests that start `npm start` in a child process have its responses checked too. Responses
// never carry a password (the suite-wide plaintext check holds them to that).
const responseLog = process.env.REKEY_RESPONSE_LOG;
if (responseLog) {
  observeGatewayResponses(({ method, path, result }) =>
    appendFileSync(responseLog, `${JSON.stringify({ method, path, result })}\n`, { mode: 0o600 }),
  );
}
const backendKind = process.env.REKEY_BACKEND === 'aws' ? 'aws' : 'embedded';
const port = Number(process.env.PORT ?? 3000);
const endpointPort = Number(process.env.REKEY_LOCAL_ENDPOINT_PORT ?? 4566);
// npm runs this in the project's root: the data folder is its .rekey, where the CLI finds it.
const dataDir = resolve(process.env.REKEY_DATA_DIR ?? DATA_FOLDER_NAME);

/** One line on stderr and a non-zero exit, instead of a stack trace. */
const refuse = (message: string): never => {
  process.stderr.write(`rekey: ${message}\n`);
  process.exit(1);
};

// The data folder's lock and run file: a second npm start on this folder stops here, before it
// opens the table (dynalite's "Database is closed"); the CLI reads the URLs from it.
// A folder this run creates is removed again if it stops before serving (a port in use), so a
// failed start leaves nothing behind; one that was there already is never removed.
const createdDataDir = !existsSync(dataDir);
mkdirSync(dataDir, { recursive: true, mode: 0o700 });
let lock: DataFolderLock;
try {
  lock = lockDataFolder(dataDir);
} catch (error) {
  refuse((error as Error).message);
  throw error;
}
let serving = false;
process.once('exit', () => {
  lock.release();
  if (createdDataDir && !serving) rmSync(dataDir, { recursive: true, force: true });
});

let api: Awaited<ReturnType<typeof startLocalApi>>;
try {
  api = await startLocalApi({
    port,
    endpointPort,
    dataDir,
    backend: backendKind,
    persist: true,
    inProcess: true,
    accessLog: (line) => console.log(`[gateway] ${line}`),
  });
} catch (error) {
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    const { port: taken } = error as NodeJS.ErrnoException & { port?: number };
    const owner = taken ? portOwner(taken) : undefined;
    const holder = owner
      ? `another ${owner.rekey ? 'rekey' : 'program'} (pid ${owner.pid})`
      : 'another rekey or another program';
    refuse(
      `port ${taken ?? `${port} or ${endpointPort}`} is in use by ${holder}; stop it, or start this one on other ports (PORT=… REKEY_LOCAL_ENDPOINT_PORT=…)`,
    );
  }
  throw error;
}
serving = true;
lock.update({
  api: api.gateway.url,
  ...(api.backend ? { endpoint: api.backend.endpoint.url } : {}),
  backend: backendKind,
  startedAt: new Date().toISOString(),
});

const { deps } = createRuntime('start', { clients: api.clients });
const seeded = await seedDemo(deps.directory);
// The scheduled sweeper of the AWS stack, on a timer here (REKEY_SWEEP_INTERVAL_SECONDS).
const sweeper = startSweepTimer({
  deps,
  settings: sweeperSettingsFromEnv(),
  intervalSeconds: sweepIntervalFromEnv(),
  print: (line) => console.log(line),
});
const token = await mintToken(api.devKey, { realmId: DEMO_REALM_ID });
const [alice] = DEMO_USERS;
// The CLI finds this data folder from the project (the nearest .rekey up from its working
// directory) and this process's endpoint in the run file: it needs a variable only when the data
// folder is not the project's.
const cliEnv = findDataDir({}) === dataDir ? '' : `REKEY_DATA_DIR=${dataDir} `;
const endpointNote = api.backend
  ? `
The AWS-compatible endpoint serves only requests signed with the credentials in ${join(api.backend.dataDir, 'credentials')}.
For the AWS CLI or REKEY_BACKEND=aws: eval "$(${cliEnv}npx rekey env)"
`
  : '';

console.log(`
rekey is listening on ${api.gateway.url}  (backend: ${backendKind}${api.backend ? `, data in ${api.backend.dataDir}, AWS-compatible endpoint ${api.backend.endpoint.url}` : ''})
${seeded ? 'Created' : 'Found'} demo realm "${DEMO_REALM_ID}" (name "${DEMO_REALM_NAME}") with users ${DEMO_USERS.map((u) => `${u.userId} (${u.username})`).join(', ')}.

Admin token for realm "${DEMO_REALM_ID}" (valid 12 h):
${token}

Try:
  export REKEY_TOKEN=${token}
  curl -s -X POST ${api.gateway.url}/20160918/users/${alice.userId}/uiPassword -H "Authorization: Bearer $REKEY_TOKEN"
  ${cliEnv}npx rekey secret get <passwordSecretId from the answer>
  then choose alice's own password at ${api.gateway.url}/password?tenancy=democorp&username=alice
${endpointNote}
The CLI finds this server through ${join(dataDir, RUN_FILE)} (removed when it stops).`);

const stop = async () => {
  sweeper.stop();
  await api.close();
  lock.release();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
process.once('SIGHUP', stop);
