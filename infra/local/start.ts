/**
 * `npm start`: the whole API on http://127.0.0.1:3000 over the embedded backend (or, with
 * REKEY_BACKEND=aws, over whatever the standard AWS environment points at), a demo realm and
 * users, and an admin token to paste.
 */
import './node-warnings.ts';
import './local-env.ts';
import { join } from 'node:path';
import { createRuntime } from '#adapters/runtime.ts';
import { sweeperSettingsFromEnv } from '#functions/sweeper/settings.ts';
import { restrictUmask } from './data-folder.ts';
import { DEMO_REALM_ID, DEMO_USERS, seedDemo } from './demo.ts';
import { mintToken } from './dev-tokens.ts';
import { startLocalApi } from './local-api.ts';
import { startSweepTimer, sweepIntervalFromEnv } from './sweep-timer.ts';

// Whatever this process creates in the data folder (LevelDB's files too) is owner-only.
restrictUmask();
const backendKind = process.env.REKEY_BACKEND === 'aws' ? 'aws' : 'embedded';
const api = await startLocalApi({
  port: Number(process.env.PORT ?? 3000),
  endpointPort: Number(process.env.REKEY_LOCAL_ENDPOINT_PORT ?? 4566),
  dataDir: process.env.REKEY_DATA_DIR ?? '.rekey',
  backend: backendKind,
  persist: true,
  inProcess: true,
  accessLog: (line) => console.log(`[gateway] ${line}`),
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
const endpointNote = api.backend
  ? (() => {
      const { url } = api.backend.endpoint;
      const env = url === 'http://127.0.0.1:4566' ? '' : `REKEY_LOCAL_ENDPOINT=${url} `;
      const dir = process.env.REKEY_DATA_DIR ? `REKEY_DATA_DIR=${api.backend.dataDir} ` : '';
      return `
The AWS-compatible endpoint serves only requests signed with the credentials in ${join(api.backend.dataDir, 'credentials')}.
For the AWS CLI or REKEY_BACKEND=aws: eval "$(${dir}${env}npx rekey env)"
`;
    })()
  : '';

console.log(`
rekey is listening on ${api.gateway.url}  (backend: ${backendKind}${api.backend ? `, data in ${api.backend.dataDir}, AWS-compatible endpoint ${api.backend.endpoint.url}` : ''})
${seeded ? 'Created' : 'Found'} demo realm "${DEMO_REALM_ID}" with users ${DEMO_USERS.map((u) => `${u.userId} (${u.username})`).join(', ')}.

Admin token for realm "${DEMO_REALM_ID}" (valid 12 h):
${token}

Try:
  export REKEY_TOKEN=${token}
  curl -s -X POST ${api.gateway.url}/20160918/users/${alice.userId}/uiPassword -H "Authorization: Bearer $REKEY_TOKEN"
  npx rekey secret get <passwordSecretId from the answer>
${endpointNote}`);

const stop = async () => {
  sweeper.stop();
  await api.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
