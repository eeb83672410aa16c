/**
 * The sweeper of `npm start`: the use case the scheduled Lambda runs, on a timer, against
 * the same backend as the local API. One line is printed per run that changed something.
 */
import { type SweepDeps, sweepTemporarySecrets } from '#core/use-cases/sweep-temporary-secrets.ts';
import type { SweeperSettings } from '#functions/sweeper/settings.ts';

/** The Lambda's schedule: every 15 minutes. */
export const DEFAULT_SWEEP_INTERVAL_SECONDS = 15 * 60;

/** REKEY_SWEEP_INTERVAL_SECONDS, or the default; anything but a positive number is refused. */
export function sweepIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.REKEY_SWEEP_INTERVAL_SECONDS;
  const seconds = raw ? Number(raw) : DEFAULT_SWEEP_INTERVAL_SECONDS;
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error('REKEY_SWEEP_INTERVAL_SECONDS must be a positive number of seconds.');
  }
  return seconds;
}

/**
 * Sweeps every `intervalSeconds`, never two runs at once. The timer is unref'd: it never
 * keeps the process alive by itself.
 */
export function startSweepTimer(options: {
  deps: SweepDeps;
  settings: SweeperSettings;
  intervalSeconds: number;
  print: (line: string) => void;
}): { stop(): void } {
  let running = false;
  const sweepOnce = async () => {
    if (running) return;
    running = true;
    try {
      const report = await sweepTemporarySecrets(options.deps, options.settings);
      if (report.deletedSecrets.length > 0 || report.errors.length > 0) {
        options.print(
          `[sweeper] deleted ${report.deletedSecrets.length} secret(s) (${report.orphans.length} orphan(s)), ` +
            `expired ${report.expiredCredentials} credential(s), kept ${report.kept}, ${report.errors.length} error(s)`,
        );
      }
    } catch (error) {
      options.print(`[sweeper] run failed: ${error instanceof Error ? error.name : String(error)}`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweepOnce(), options.intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
