/**
 * The settings every function reads from its environment, with the defaults `npm start`
 * uses. A module of its own, so that a function (the sweeper) or a tool can read them without
 * loading the runtime and the argon2id binding it wires.
 */

export interface RekeySettings {
  tableName: string;
  temporarySecretPrefix: string;
  databaseSecretPrefix: string;
  kmsKeyId: string | undefined;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): RekeySettings {
  return {
    tableName: env.REKEY_TABLE || 'rekey',
    temporarySecretPrefix: env.REKEY_TEMP_SECRET_PREFIX || 'rekey/temp/',
    databaseSecretPrefix: env.REKEY_DDM_SECRET_PREFIX || 'rekey/ddm/',
    kmsKeyId: env.REKEY_KMS_KEY_ID || undefined,
  };
}
