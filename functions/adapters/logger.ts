/**
 * The structured logger every function uses: Powertools Logger, with a replacer that blanks
 * any attribute whose name speaks of a password, as a second line of defence behind the rule
 * that no code logs one.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '#core/ports.ts';

const SENSITIVE_KEY = /pass(word)?|secret_?string|authorization|token/i;

/** A Powertools logger for one service (function). */
export function createLogger(serviceName: string): Logger {
  return new Logger({
    serviceName,
    jsonReplacerFn: (key: string, value: unknown) =>
      key !== '' && SENSITIVE_KEY.test(key) && typeof value === 'string' ? '[redacted]' : value,
  });
}

/** The core's Log port over a Powertools logger. */
export function asLog(logger: Logger): Log {
  return {
    info: (message, attributes) => logger.info(message, attributes ?? {}),
    warn: (message, attributes) => logger.warn(message, attributes ?? {}),
  };
}
