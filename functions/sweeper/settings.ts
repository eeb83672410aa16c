/**
 * The sweeper's settings, read from its environment. Kept apart from the shared runtime so
 * that the sweeper's bundle never pulls in the argon2id binding it has no use for.
 */
import { type RekeySettings, settingsFromEnv } from '#adapters/settings.ts';
import { DEFAULT_SWEEPER_GRACE_SECONDS } from '#core/use-cases/sweep-temporary-secrets.ts';
import { ENV } from '#functions/contracts.ts';

/**
 * The shortest grace allowed: Lambda's longest timeout. No request that wrote an index
 * entry can still be about to switch a credential to its secret after that long, so an
 * unreferenced secret that old is an orphan for certain.
 */
export const MIN_SWEEPER_GRACE_SECONDS = 15 * 60;

export type SweeperSettings = Pick<
  RekeySettings,
  'tableName' | 'temporarySecretPrefix' | 'databaseSecretPrefix'
> & {
  graceSeconds: number;
};

/**
 * The runtime's settings (required: REKEY_TABLE and both secret prefixes; see
 * functions/adapters/settings.ts) and REKEY_SWEEPER_GRACE_SECONDS (optional). A grace
 * that is not a whole number of seconds, or is shorter than the minimum, is refused: a
 * sweeper that deleted the secret of a request still in flight would strand its user.
 */
export function sweeperSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): SweeperSettings {
  const raw = env[ENV.sweeperGraceSeconds];
  const graceSeconds = raw ? Number(raw) : DEFAULT_SWEEPER_GRACE_SECONDS;
  if (!Number.isInteger(graceSeconds) || graceSeconds < MIN_SWEEPER_GRACE_SECONDS) {
    throw new Error(
      `${ENV.sweeperGraceSeconds} must be a whole number of seconds, at least ${MIN_SWEEPER_GRACE_SECONDS}.`,
    );
  }
  const { tableName, temporarySecretPrefix, databaseSecretPrefix } = settingsFromEnv(env);
  return { tableName, temporarySecretPrefix, databaseSecretPrefix, graceSeconds };
}
