/**
 * Lambda entry point of the sweeper, run by an EventBridge schedule (every 15 minutes): one
 * pass over the index of temporary secrets. It logs a summary (counts and secret names; a
 * secret's value is never read). Entries that failed are logged and left for the next run
 * rather than failing the invocation, which would only make Lambda run the sweep again.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createSecretsManagerClient } from '#adapters/aws-clients.ts';
import { createDynamoDb } from '#adapters/dynamodb-api.ts';
import { DynamoDbDirectory } from '#adapters/dynamodb-directory.ts';
import { createLogger, type Logger } from '#adapters/logger.ts';
import { createMetrics, noMetrics, type RekeyMetrics } from '#adapters/metrics.ts';
import { SecretsManagerVault } from '#adapters/secrets-manager-vault.ts';
import { systemClock } from '#adapters/system.ts';
import {
  type SweepDeps,
  type SweepReport,
  sweepTemporarySecrets,
} from '#core/use-cases/sweep-temporary-secrets.ts';
import { METRIC } from '#functions/contracts.ts';
import { type SweeperSettings, sweeperSettingsFromEnv } from './settings.ts';

export interface SweeperRuntime {
  deps: SweepDeps;
  settings: SweeperSettings;
  logger: Logger;
  /** SecretsSwept, OrphansDeleted and SweepCompleted per run (none counted when left out). */
  metrics?: RekeyMetrics;
}

/** Builds the handler over its ports; tests pass the local backend's and a controlled clock. */
export function createHandler(runtime: SweeperRuntime) {
  const { deps, settings, logger } = runtime;
  const metrics = runtime.metrics ?? noMetrics;
  return async (
    _event: Pick<ScheduledEvent, 'id'> | undefined,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<SweepReport> => {
    const report = await sweepTemporarySecrets(deps, {
      temporarySecretPrefix: settings.temporarySecretPrefix,
      databaseSecretPrefix: settings.databaseSecretPrefix,
      graceSeconds: settings.graceSeconds,
      ...(context ? { timeLeftMs: () => context.getRemainingTimeInMillis() } : {}),
    });
    logger.info('temporary secrets swept', {
      expiredCredentials: report.expiredCredentials,
      deleted: report.deletedSecrets.length,
      orphans: report.orphans.length,
      kept: report.kept,
      failed: report.errors.length,
      complete: report.complete,
      deletedSecrets: report.deletedSecrets,
      orphanSecrets: report.orphans,
    });
    // Swept: every secret deleted (expired or orphan); orphans: those no credential referenced.
    // SweepCompleted only when the pass reached the end of the index: its absence is alarmed.
    metrics.count(METRIC.secretsSwept, {}, report.deletedSecrets.length);
    metrics.count(METRIC.orphansDeleted, {}, report.orphans.length);
    if (report.complete) metrics.count(METRIC.sweepCompleted);
    metrics.flush();
    if (report.errors.length > 0) {
      logger.warn('some temporary secrets were not swept; the next run retries them', {
        errors: report.errors,
      });
    }
    return report;
  };
}

/** The real ports, built once per container; DeleteSecret needs no KMS key. */
function fromEnvironment(): SweeperRuntime {
  const settings = sweeperSettingsFromEnv();
  const logger = createLogger('sweeper');
  return {
    settings,
    logger,
    metrics: createMetrics('sweeper', logger),
    deps: {
      directory: new DynamoDbDirectory(createDynamoDb(), settings.tableName),
      vault: new SecretsManagerVault(createSecretsManagerClient(), undefined),
      clock: systemClock,
    },
  };
}

export const handler = createHandler(fromEnvironment());
