/**
 * The structured logger every function uses: Powertools for AWS Lambda's Logger (issue 14),
 * whose field names (`level`, `message`, `timestamp`, `service`, `cold_start`,
 * `function_name`, `function_request_id`, `xray_trace_id`, ...) are what operators' queries
 * expect. One JSON line per entry; the level comes from `POWERTOOLS_LOG_LEVEL`, `LOG_LEVEL`
 * or Lambda's `AWS_LAMBDA_LOG_LEVEL`, else INFO.
 *
 * rekey adds one thing: a JSON replacer that blanks any string attribute whose name speaks of
 * a password or token, and writes an Error as its name only (an AWS message may quote what it
 * was sent) — a second line of defence behind the rule that no code logs a password.
 * (Until the tenth pass this was a hand-written logger with the same fields: Powertools'
 * cost ~6 M instructions at each cold start, which the functions could not afford before
 * then; docs/decisions.md, "Tenth pass".)
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { Log } from '#core/ports.ts';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

const SENSITIVE_KEY = /pass(word)?|secret_?string|authorization|token/i;

/** Powertools' JSON replacer hook: runs before its own (which would write an Error's message and stack). */
export function redact(key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name };
  return key !== '' && SENSITIVE_KEY.test(key) && typeof value === 'string' ? '[redacted]' : value;
}

export interface LoggerOptions {
  serviceName: string;
  /** Default: as Powertools reads the environment (see above). */
  logLevel?: LogLevel;
}

/** Powertools' Logger with rekey's replacer. */
export class Logger extends PowertoolsLogger {
  constructor(options: LoggerOptions) {
    super({
      serviceName: options.serviceName,
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      jsonReplacerFn: redact,
    });
  }
}

/** A logger for one service (function). */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/**
 * Middy middleware: tag each invocation's lines with its Lambda context (request id, function,
 * cold start), as Powertools' own `injectLambdaContext` does, without its event logging.
 */
export function lambdaContextLogging<E, R>(logger: Logger): MiddlewareObj<E, R> {
  return { before: (request) => logger.addContext(request.context) };
}

/** The core's Log port over the logger. */
export function asLog(logger: Logger): Log {
  return {
    info: (message, attributes = {}) => logger.info(message, attributes),
    warn: (message, attributes = {}) => logger.warn(message, attributes),
  };
}
