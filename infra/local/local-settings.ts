/**
 * `npm start`'s settings: the environment the stacks give each function in AWS, with the
 * values the local runtime uses. These are the only defaults rekey has; production code
 * (functions/adapters/settings.ts) has none and fails fast on a missing variable. The local
 * gateway, the embedded backend, the event bus, the CLI and the tests fill in what the
 * caller's environment leaves unset (a variable that is set wins, so `REKEY_TABLE=other npm
 * start` still works).
 */
import { type RekeySettings, settingsFromEnv } from '#adapters/settings.ts';
import { ENV, type EnvName, EVENT_BUS_NAME, SECRET_PREFIXES } from '#functions/contracts.ts';

/** The local values of the variables the runtime requires (and of the ticket worker's bus). */
export const LOCAL_ENV: Readonly<Partial<Record<EnvName, string>>> = {
  [ENV.table]: 'rekey',
  [ENV.temporarySecretPrefix]: SECRET_PREFIXES.temporary,
  [ENV.databaseSecretPrefix]: SECRET_PREFIXES.database,
  [ENV.connectorSecretPrefix]: SECRET_PREFIXES.connector,
  [ENV.eventBusName]: EVENT_BUS_NAME,
};

/** `env` with every LOCAL_ENV variable it leaves unset (or empty) filled in; `env` is not changed. */
export function localEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const filled: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(LOCAL_ENV)) {
    if (!filled[name]) filled[name] = value;
  }
  return filled;
}

/** Fills the unset LOCAL_ENV variables into `env` itself (this process's, by default). */
export function useLocalEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(LOCAL_ENV)) {
    if (!env[name]) env[name] = value;
  }
}

/** The runtime's settings from `env` with the local defaults filled in. */
export function localSettings(env: NodeJS.ProcessEnv = process.env): RekeySettings {
  return settingsFromEnv(localEnv(env));
}
