/**
 * The structured logger every function uses: Powertools for AWS Lambda's Logger (issue 14),
 * whose field names (`level`, `message`, `timestamp`, `service`, `cold_start`,
 * `function_name`, `function_request_id`, `xray_trace_id`, ...) are what operators' queries
 * expect. One JSON line per entry; the level is Lambda's `AWS_LAMBDA_LOG_LEVEL` when its
 * logging configuration sets one (it wins over everything), else the one given here, else
 * `POWERTOOLS_LOG_LEVEL` or `LOG_LEVEL`, else INFO.
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
import type { Context } from 'aws-lambda';
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

/**
 * The invocation's fields, which Powertools writes and an attribute would overwrite (it drops
 * only level, message, sampling_rate, service and timestamp): an attribute by one of these
 * names is left out, so no line can carry another request id, function or trace than its own.
 */
const CONTEXT_FIELDS = new Set([
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'tenant_id',
  'xray_trace_id',
]);

function withoutContextFields(attributes: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attributes).filter(([key]) => !CONTEXT_FIELDS.has(key)));
}

/**
 * Powertools' Logger with rekey's replacer, taking what rekey's log calls always pass: a
 * message and one record of attributes (no string or Error as extra input, which Powertools
 * would write under `extra` or `error` as given).
 */
export class Logger {
  private readonly powertools: PowertoolsLogger;

  constructor(options: LoggerOptions) {
    this.powertools = new PowertoolsLogger({
      serviceName: options.serviceName,
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      jsonReplacerFn: redact,
    });
  }

  /** Tags the following lines with this invocation: request id, function, cold start. */
  addContext(context: Context): void {
    this.powertools.addContext(context);
  }

  debug(message: string, attributes: Record<string, unknown> = {}): void {
    this.powertools.debug(message, withoutContextFields(attributes));
  }

  info(message: string, attributes: Record<string, unknown> = {}): void {
    this.powertools.info(message, withoutContextFields(attributes));
  }

  warn(message: string, attributes: Record<string, unknown> = {}): void {
    this.powertools.warn(message, withoutContextFields(attributes));
  }

  error(message: string, attributes: Record<string, unknown> = {}): void {
    this.powertools.error(message, withoutContextFields(attributes));
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
    info: (message, attributes) => logger.info(message, attributes),
    warn: (message, attributes) => logger.warn(message, attributes),
  };
}
