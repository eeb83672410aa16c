/**
 * Wiring shared by every function's runtime: the real adapters behind the ports, built once
 * per container from the standard environment, with the password hasher given by the caller.
 * It loads no hasher itself: functions that hash come through functions/adapters/runtime.ts,
 * which adds the argon2id binding; ManageDdmAdmin builds its runtime here with `noHasher`, so
 * its bundle never loads the binding.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { UnavailableError } from '#core/errors.ts';
import { cryptoRandom } from '#core/generator.ts';
import type { PasswordHasher } from '#core/hashing.ts';
import type { PasswordBlocklist } from '#core/policy.ts';
import type { Notifier, UseCaseDeps } from '#core/ports.ts';
import { type AuditTrail, LogLineAuditTrail } from './audit.ts';
import { type ClientOptions, createSecretsManagerClient } from './aws-clients.ts';
import { CONTAINER_BLOCKLIST } from './blocklist.ts';
import { createDynamoDb, type DynamoDb } from './dynamodb-api.ts';
import { DynamoDbDirectory } from './dynamodb-directory.ts';
import { asLog, createLogger, type Logger } from './logger.ts';
import { countingLockouts, countingNotifications, createMetrics, type RekeyMetrics } from './metrics.ts';
import { passwordPageLinker } from './password-page-link.ts';
import { SecretsManagerVault } from './secrets-manager-vault.ts';
import { type RekeySettings, SERVICE_WORDS, settingsFromEnv } from './settings.ts';
import { randomIds, systemClock } from './system.ts';

/**
 * A function's runtime: its logger, metrics and audit trail, its table and Secrets Manager
 * clients (idempotency uses the table's too) and its deps.
 */
export interface Runtime {
  logger: Logger;
  /** Counted through the invocation, flushed once at its end (functions/adapters/metrics.ts). */
  metrics: RekeyMetrics;
  /** Where the pipelines record each password operation (functions/adapters/audit.ts). */
  audit: AuditTrail;
  dynamoDb: DynamoDb;
  secretsManager: SecretsManagerClient;
  settings: RekeySettings;
  deps: UseCaseDeps;
}

export interface RuntimeOptions {
  clients?: ClientOptions;
  settings?: RekeySettings;
  logger?: Logger;
  notifier?: Notifier;
  metrics?: RekeyMetrics;
  audit?: AuditTrail;
  blocklist?: PasswordBlocklist;
}

/** The notifier of functions that never notify: calling it is a wiring bug, loudly. */
const noNotifier: Notifier = {
  send: () => Promise.reject(new UnavailableError('This function has no notifier.')),
};

/** The hasher of functions that never hash: calling it is a wiring bug, loudly. */
export const noHasher: PasswordHasher = {
  hash: () => Promise.reject(new UnavailableError('This function has no password hasher.')),
  verify: () => Promise.reject(new UnavailableError('This function has no password hasher.')),
};

/** Builds the runtime for one function (`service`) with `hasher`, against AWS or a compatible endpoint. */
export function buildRuntime(service: string, hasher: PasswordHasher, options: RuntimeOptions = {}): Runtime {
  const settings = options.settings ?? settingsFromEnv();
  const logger = options.logger ?? createLogger(service);
  const dynamoDb = createDynamoDb(options.clients);
  const secretsManager = createSecretsManagerClient(options.clients);
  const metrics = options.metrics ?? createMetrics(service, logger);
  // One log line per record; the audit forwarder puts them on the bus (functions/adapters/audit.ts).
  const audit = options.audit ?? new LogLineAuditTrail();
  const deps: UseCaseDeps = {
    directory: countingLockouts(new DynamoDbDirectory(dynamoDb, settings.tableName), metrics),
    vault: new SecretsManagerVault(secretsManager, settings.kmsKeyId),
    hasher,
    clock: systemClock,
    ids: randomIds,
    random: cryptoRandom,
    notifier: options.notifier ? countingNotifications(options.notifier, metrics) : noNotifier,
    log: asLog(logger),
    config: {
      temporarySecretPrefix: settings.temporarySecretPrefix,
      databaseSecretPrefix: settings.databaseSecretPrefix,
      serviceWords: SERVICE_WORDS,
      passwordPageLink: passwordPageLinker(settings.passwordPageUrl),
    },
    blocklist: options.blocklist ?? CONTAINER_BLOCKLIST,
  };
  return { logger, metrics, audit, dynamoDb, secretsManager, settings, deps };
}
